"""The inverse questions: how much budget a target needs, and where marginal ROI falls to a given level.

Both return an optimised :class:`~trueroi.budget.optimizer.BudgetPlan` whose ``budget`` is the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from trueroi.budget.constraints import build_bounds
from trueroi.budget.curves import ResponseCurves
from trueroi.budget.evaluate import Objective
from trueroi.budget.optimizer import BudgetPlan, describe_plan, separable_problem
from trueroi.budget.solver import SeparableSolution, Vector, _allocate, shape_points, solve_separable
from trueroi.errors import UsageError

_GROWTH_STEPS = 60


def budget_for_target(
    curves: ResponseCurves,
    target: float,
    *,
    objective: str = "revenue",
    margin_rate: float | None = None,
    minimum: Mapping[str, float | str] | None = None,
    maximum: Mapping[str, float | str] | None = None,
    max_change: float | None = None,
    locked: Iterable[str] = (),
    weeks: int = 1,
    rel_tol: float = 1e-6,
) -> BudgetPlan:
    """The smallest weekly budget whose optimal flat plan reaches ``target`` in expectation.

    Parameters
    ----------
    target
        Expected incremental KPI over the horizon (revenue in base currency, or conversions, for
        ``objective="revenue"``; contribution margin for ``"margin"``).
    weeks
        Horizon in weeks: the plan must reach ``target / weeks`` per week.
    rel_tol
        Relative precision of the budget found.

    Raises
    ------
    UsageError
        For ``profit`` (not monotone in budget), or a target beyond reach within the bounds (the message
        gives the most the curves can deliver).

    Notes
    -----
    The optimal value is non-decreasing in the budget (a larger budget can always spend like a smaller one
    when responses rise with spend), so bisection on the budget finds the smallest one.
    """
    if objective == "profit":
        raise UsageError("a target needs objective revenue or margin; profit does not rise with budget")
    obj = Objective.build(objective, curves.kpi, margin_rate)
    current = np.asarray(curves.current_spend, dtype=float)
    bounds = build_bounds(list(curves.channels), current, minimum, maximum, max_change, locked)
    marginal, value = separable_problem(curves, obj)
    per_week = target / weeks

    def best(budget: float) -> tuple[float, SeparableSolution]:
        sol = solve_separable(marginal, value, bounds.lower, bounds.upper, budget, 1e-10)
        return float(value(sol.x).sum()), sol

    low = float(bounds.lower.sum())
    if low > 0 and best(low)[0] >= per_week:
        return describe_plan(curves, best(low)[1], obj, bounds, low, "mean", weeks)
    high = max(low, float(current.sum()), 1.0)
    cap = float(bounds.upper.sum())
    for _ in range(_GROWTH_STEPS):
        reached, _sol = best(min(high, cap))
        if reached >= per_week:
            break
        if high >= cap:
            raise UsageError(
                f"target {target:,.2f} is out of reach: at most {reached * weeks:,.2f} with every "
                "channel at its maximum; lower the target or loosen the maximums"
            )
        low, high = high, high * 2
    else:
        raise UsageError(
            f"target {target:,.2f} is out of reach: {reached * weeks:,.2f} at a weekly budget of "
            f"{high:,.0f}; the curves saturate below the target"
        )
    high = min(high, cap)
    while high - low > rel_tol * high:
        mid = 0.5 * (low + high)
        if best(mid)[0] >= per_week:
            high = mid
        else:
            low = mid
    return describe_plan(curves, best(high)[1], obj, bounds, high, "mean", weeks)


def budget_for_mroi(
    curves: ResponseCurves,
    mroi_level: float,
    *,
    objective: str = "revenue",
    margin_rate: float | None = None,
    minimum: Mapping[str, float | str] | None = None,
    maximum: Mapping[str, float | str] | None = None,
    max_change: float | None = None,
    locked: Iterable[str] = (),
    weeks: int = 1,
) -> BudgetPlan:
    """The budget at which the optimal plan's marginal ROI falls to ``mroi_level``.

    Every channel not held by a bound is pushed until its marginal return (revenue per currency unit for
    ``revenue``; contribution margin per currency unit for ``margin``) equals ``mroi_level``. With
    ``objective="margin"`` and ``mroi_level=1`` this is the break-even budget: the largest spend where the
    last currency unit still pays for itself in margin (the optimum of the ``profit`` objective).

    Raises
    ------
    UsageError
        If ``mroi_level`` is not positive.
    """
    if not np.isfinite(mroi_level) or mroi_level <= 0:
        raise UsageError(f"marginal ROI level must be positive, got {mroi_level}")
    obj = Objective.build("margin" if objective == "profit" else objective, curves.kpi, margin_rate)
    current = np.asarray(curves.current_spend, dtype=float)
    bounds = build_bounds(list(curves.channels), current, minimum, maximum, max_change, locked)
    marginal, value = separable_problem(curves, obj)
    upper = _finite_cap(marginal, bounds.lower, bounds.upper, current, mroi_level)
    valley, start = shape_points(marginal, bounds.lower, upper)
    tol = 1e-10 * np.maximum(upper, 1.0)
    x = _allocate(
        mroi_level, marginal, value, bounds.lower, upper, start, (bounds.lower, upper), tol, None, valley
    )
    total = float(x.sum())
    if total <= 0:
        raise UsageError(f"no channel reaches a marginal ROI of {mroi_level} at any spend; lower the level")
    solution = SeparableSolution(x, mroi_level, start)
    plan = describe_plan(curves, solution, obj, bounds, total, "mean", weeks)
    plan.binding = [label for label in plan.binding if label != "total"]  # no budget: the level sets spend
    return plan


def _finite_cap(
    marginal: Vector, lower: np.ndarray, upper: np.ndarray, current: np.ndarray, level: float
) -> np.ndarray:
    """Per channel, a finite spend beyond which the marginal objective stays below ``level``."""
    cap = np.minimum(upper, np.maximum.reduce([current, lower, np.ones_like(current)]) * 2)
    for _ in range(_GROWTH_STEPS):
        here, further = marginal(np.stack([cap, np.minimum(cap * 1.5, upper)]))
        grow = ((here >= level) | (further > here)) & (cap < upper)
        if not np.any(grow):
            return cap
        cap = np.where(grow, np.minimum(cap * 4, upper), cap)
    raise UsageError(
        f"marginal ROI stays above {level} at any spend (the curves do not saturate); "
        "raise the level or set maximums"
    )
