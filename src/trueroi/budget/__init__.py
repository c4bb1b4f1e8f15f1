"""Budget planning on response curves: optimise, explain, compare scenarios, answer target questions.

The planner reads a fitted mix model only through :class:`~trueroi.budget.curves.ResponseCurves`
(``trueroi.mmm.load_model(DIR).response_curves()``), or :class:`ParametricCurves` built in code or read
from a ``curves.json`` file (:func:`load_curves_json`)::

    from trueroi.budget import ParametricCurves, optimize_budget

    curves = ParametricCurves(["search", "social"], current_spend=[4000, 3000], curve="hill",
                              beta=[[9000, 5000], [8000, 6000]], k=[3000, 2500], s=1.0)
    plan = optimize_budget(curves, total=7000, objective="margin", margin_rate=0.4, max_change=0.3)
    plan.to_dict()   # allocation, expected (mean, 90% interval), mroi, binding bounds, explanation

Modules: :mod:`~trueroi.budget.optimizer` (flat weekly plans, risk option), :mod:`~trueroi.budget.solver`
(the separable Lagrange solver), :mod:`~trueroi.budget.targets` (inverse questions),
:mod:`~trueroi.budget.scenarios` (comparison and chart), :mod:`~trueroi.budget.flighting` (week-by-week
plans with carry-over), :mod:`~trueroi.budget.parametric` (curves), :mod:`~trueroi.budget.constraints`.
"""

from trueroi.budget.constraints import Bounds, build_bounds
from trueroi.budget.curves import ResponseCurves
from trueroi.budget.evaluate import Objective, Outcome
from trueroi.budget.optimizer import BudgetPlan, optimize_budget
from trueroi.budget.parametric import SATURATIONS, ParametricCurves, load_curves_json

__all__ = [
    "SATURATIONS",
    "Bounds",
    "BudgetPlan",
    "Objective",
    "Outcome",
    "ParametricCurves",
    "ResponseCurves",
    "build_bounds",
    "load_curves_json",
    "optimize_budget",
]
