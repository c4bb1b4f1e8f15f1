"""Week-by-week plans (flighting): shift spend between weeks of the horizon, carry-over included.

A flat plan is valued at steady state; a week-by-week plan is valued with
:meth:`~trueroi.budget.curves.ResponseCurves.plan_response`, where carry-over builds up from the start of
the plan and spend late in the horizon pays back partly after it. :func:`optimize_flighting` spends a
horizon budget (weekly budget x weeks) where it returns most, with the flat steady-state optimum as its
starting point, by sequential quadratic programming (SLSQP, Kraft 1988) on gradients that exploit
separability: one extra ``plan_response`` call per week gives the gradient for every channel at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from trueroi.budget.constraints import build_bounds
from trueroi.budget.curves import ResponseCurves
from trueroi.budget.evaluate import Objective, Outcome, summarize
from trueroi.budget.optimizer import optimize_budget
from trueroi.errors import ConvergenceError, UsageError


def plan_draw_values(curves: ResponseCurves, plan: np.ndarray, objective: Objective) -> np.ndarray:
    """Objective of a (W, C) week-by-week plan over its horizon, per draw: shape (D,)."""
    response = np.asarray(curves.plan_response(plan))
    return objective.value_per_kpi * response.sum(axis=(1, 2)) - objective.cost_per_spend * plan.sum()


@dataclass
class FlightingPlan:
    """An optimised week-by-week plan and the flat plans it is measured against.

    Attributes
    ----------
    plan
        Shape (W, C): spend per week and channel, base currency.
    expected, flat_expected, current_expected
        Objective over the horizon (carry-over within the plan) of this plan, of the optimal flat plan with
        the same budget, and of holding current spend flat; ``expected.p_beats_current`` is paired by draw.
    p_beats_flat
        Share of draws in which this plan beats the optimal flat plan.
    """

    channels: list[str]
    plan: np.ndarray
    objective: Objective
    expected: Outcome
    flat_expected: Outcome
    current_expected: Outcome
    p_beats_flat: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": {c: self.plan[:, j].tolist() for j, c in enumerate(self.channels)},
            "weekly_total": self.plan.sum(axis=1).tolist(),
            "objective": self.objective.name,
            "weeks": int(self.plan.shape[0]),
            "expected": self.expected.to_dict(),
            "flat_expected": self.flat_expected.to_dict(),
            "current_expected": self.current_expected.to_dict(),
            "p_beats_current": self.expected.p_beats_current,
            "p_beats_flat": self.p_beats_flat,
        }


def optimize_flighting(
    curves: ResponseCurves,
    total: float,
    weeks: int,
    *,
    objective: str = "revenue",
    margin_rate: float | None = None,
    minimum: Mapping[str, float | str] | None = None,
    maximum: Mapping[str, float | str] | None = None,
    max_change: float | None = None,
    locked: Iterable[str] = (),
    max_iter: int = 200,
) -> FlightingPlan:
    """Distribute ``total * weeks`` over the weeks and channels of the horizon.

    Per-channel bounds apply to every week; the horizon total may be spent unevenly across weeks.

    Raises
    ------
    ConvergenceError
        If SLSQP fails; the message names scipy's reason.
    """
    from scipy.optimize import minimize

    if weeks < 1:
        raise UsageError(f"weeks must be at least 1, got {weeks}")
    obj = Objective.build(objective, curves.kpi, margin_rate)
    current = np.asarray(curves.current_spend, dtype=float)
    bounds = build_bounds(list(curves.channels), current, minimum, maximum, max_change, locked)
    flat = optimize_budget(
        curves,
        total,
        objective=objective,
        margin_rate=margin_rate,
        minimum=minimum,
        maximum=maximum,
        max_change=max_change,
        locked=locked,
    ).allocation
    n_ch = current.size
    budget = total * weeks
    scale = max(total, 1e-12)
    lower = np.tile(bounds.lower, weeks) / scale
    upper = np.tile(np.minimum(bounds.upper, budget), weeks) / scale

    def objective_and_gradient(z: np.ndarray) -> tuple[float, np.ndarray]:
        plan = z.reshape(weeks, n_ch) * scale
        base = plan_draw_values_by_channel(curves, plan, obj)
        grad = np.empty((weeks, n_ch))
        step = 1e-6 * scale
        for week in range(weeks):
            bumped = plan.copy()
            bumped[week] += step
            grad[week] = (plan_draw_values_by_channel(curves, bumped, obj) - base) / step
        return -float(base.sum()) / scale, -grad.reshape(-1)

    start = np.tile(flat, weeks) / scale
    result = minimize(
        objective_and_gradient,
        start,
        jac=True,
        method="SLSQP",
        bounds=list(zip(lower, upper, strict=True)),
        constraints=[
            {"type": "ineq", "fun": lambda z: budget / scale - z.sum(), "jac": lambda z: -np.ones_like(z)}
        ],
        options={"maxiter": max_iter, "ftol": 1e-12},
    )
    if not result.success and result.status not in (8, 9):  # 8/9: positive directional derivative, iterations
        raise ConvergenceError(f"week-by-week optimisation failed: {result.message}")
    plan = np.clip(result.x.reshape(weeks, n_ch) * scale, np.tile(bounds.lower, (weeks, 1)), None)
    if plan.sum() > budget:
        plan *= budget / plan.sum()
    flat_plan, current_plan = np.tile(flat, (weeks, 1)), np.tile(current, (weeks, 1))
    values = plan_draw_values(curves, plan, obj)
    flat_values = plan_draw_values(curves, flat_plan, obj)
    if flat_values.mean() > values.mean():  # SLSQP may stop early; never return worse than the flat start
        plan, values = flat_plan, flat_values
    base = plan_draw_values(curves, current_plan, obj)
    return FlightingPlan(
        channels=list(curves.channels),
        plan=plan,
        objective=obj,
        expected=summarize(values, base),
        flat_expected=summarize(flat_values),
        current_expected=summarize(base),
        p_beats_flat=float(np.mean(values > flat_values)),
    )


def plan_draw_values_by_channel(curves: ResponseCurves, plan: np.ndarray, objective: Objective) -> np.ndarray:
    """Posterior-mean objective of a (W, C) plan per channel over the horizon: shape (C,)."""
    response = np.asarray(curves.plan_response(plan)).mean(axis=0).sum(axis=0)
    return objective.value_per_kpi * response - objective.cost_per_spend * plan.sum(axis=0)
