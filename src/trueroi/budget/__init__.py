"""Budget planning on response curves: optimise, explain, compare scenarios, answer target questions."""

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
