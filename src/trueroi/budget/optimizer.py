"""The budget optimizer: the flat weekly allocation that maximises an objective over posterior draws.

:func:`optimize_budget` turns response curves (:class:`~trueroi.budget.curves.ResponseCurves`) into a
:class:`BudgetPlan`: recommended weekly spend per channel, its expected outcome with a 90% interval, the
probability that it beats the current allocation, marginal ROIs, the bounds that bind and a reason per
channel. Flat plans use the steady-state weekly response (carry-over settled); see
:mod:`trueroi.budget.flighting` for week-by-week plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trueroi.budget.constraints import Bounds, build_bounds
from trueroi.budget.curves import ResponseCurves
from trueroi.budget.evaluate import (
    Objective,
    Outcome,
    draw_values,
    marginal_matrix,
    mroi,
    parse_risk,
    summarize,
)
from trueroi.budget.solver import SeparableSolution, Vector, solve_separable
from trueroi.errors import UsageError

_RISK_ROUNDS = 15


def separable_problem(
    curves: ResponseCurves, objective: Objective, weights: np.ndarray | None = None
) -> tuple[Vector, Vector]:
    """Per-channel marginal objective and objective, weighted over draws (posterior mean by default).

    Returns two functions mapping weekly spend (..., C) to arrays (..., C):
    ``a * E_w[r'(x)] - b`` and ``a * E_w[r(x)] - b * x`` with ``a, b`` from ``objective``.
    """
    w = np.full(curves.n_draws, 1.0 / curves.n_draws) if weights is None else np.asarray(weights, dtype=float)
    a, b = objective.value_per_kpi, objective.cost_per_spend

    def marginal(x: np.ndarray) -> np.ndarray:
        return a * np.tensordot(w, marginal_matrix(curves, x), axes=(0, 0)) - b

    def value(x: np.ndarray) -> np.ndarray:
        return a * np.tensordot(w, np.asarray(curves.weekly_response(x)), axes=(0, 0)) - b * x

    return marginal, value


def quantile_weights(values: np.ndarray, level: float, bandwidth: float = 0.05) -> np.ndarray:
    """Draw weights concentrated on the draws whose value ranks near the ``level`` quantile (Gaussian kernel
    in rank space, ``bandwidth`` as a share of draws). Maximising the weighted mean with these weights
    raises that quantile locally."""
    n = values.size
    rank = np.argsort(np.argsort(values))
    u = (rank + 0.5) / n
    w = np.exp(-0.5 * ((u - level) / max(bandwidth, 1.0 / n)) ** 2)
    return w / w.sum()


@dataclass
class BudgetPlan:
    """A recommended flat weekly allocation and everything needed to trust and explain it.

    Attributes
    ----------
    channels
        Channel names (C).
    current, allocation
        Shape (C,): current and recommended weekly spend, base currency.
    budget
        The total weekly budget asked for; ``allocation.sum()`` may be lower for ``profit`` or tight bounds.
    weeks
        Horizon in weeks; outcomes are totals over it (flat plan, steady-state carry-over).
    marginal_roi
        The equalised marginal return per currency unit at the optimum (revenue or margin per unit spend),
        shared by every channel not held by a bound.
    mroi, mroi_current
        Shape (C,): each channel's marginal return at the recommended and the current spend.
    expected, current_expected
        Objective over the horizon: mean, 90% interval and (for ``expected``) P(plan beats current).
    binding
        Active bounds as ``"channel:kind"`` (kind: zero, min, max, max_change, locked) and ``"total"`` when
        the budget binds.
    """

    channels: list[str]
    current: np.ndarray
    allocation: np.ndarray
    objective: Objective
    risk: str
    weeks: int
    budget: float
    marginal_roi: float
    mroi: np.ndarray
    mroi_current: np.ndarray
    bounds: Bounds
    binding: list[str]
    expected: Outcome
    current_expected: Outcome
    kpi: str = "revenue"
    explanation: list[dict[str, Any]] = field(default_factory=list)

    def unspent_note(self) -> str | None:
        """A sentence when the plan leaves part of the weekly total unspent (more than 0.5%), saying why;
        ``None`` when it spends the total."""
        spend = float(self.allocation.sum())
        if spend >= self.budget * 0.995:
            return None
        if self.objective.name == "profit":
            why = "each further unit would return less margin than it costs (objective profit)"
        elif any(b != "total" for b in self.binding):
            why = "the channels' bounds (" + ", ".join(b for b in self.binding if b != "total") + ") cap it"
        else:
            why = "no channel pays back more spend"
        return (
            f"the plan spends {spend:,.2f} of the {self.budget:,.2f} per week it was given; "
            f"{self.budget - spend:,.2f} a week stays unallocated: {why}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``trueroi budget optimize --format json`` (plus descriptive extras)."""
        return {
            "allocation": dict(zip(self.channels, self.allocation.tolist(), strict=True)),
            "current": dict(zip(self.channels, self.current.tolist(), strict=True)),
            "expected": self.expected.to_dict(),
            "mroi": dict(zip(self.channels, self.mroi.tolist(), strict=True)),
            "binding": list(self.binding),
            "objective": self.objective.name,
            "kpi": self.kpi,
            "risk": self.risk,
            "weeks": self.weeks,
            "total": self.budget,
            "spend": float(self.allocation.sum()),
            "marginal_roi": self.marginal_roi,
            "current_expected": self.current_expected.to_dict(),
            "p_beats_current": self.expected.p_beats_current,
            "explanation": self.explanation,
        }


def optimize_budget(
    curves: ResponseCurves,
    total: float,
    *,
    objective: str = "revenue",
    margin_rate: float | None = None,
    minimum: Mapping[str, float | str] | None = None,
    maximum: Mapping[str, float | str] | None = None,
    max_change: float | None = None,
    locked: Iterable[str] = (),
    risk: str = "mean",
    weeks: int = 1,
    rel_tol: float = 1e-9,
) -> BudgetPlan:
    """Allocate a weekly budget across channels to maximise the objective over posterior draws.

    Parameters
    ----------
    curves
        Response curves of a fitted model (D draws, C channels).
    total
        Weekly budget, base currency; every week of the horizon spends at most this.
    objective
        ``revenue`` (the model's KPI), ``margin`` (``margin_rate`` x revenue) or ``profit`` (margin - spend).
    margin_rate
        Contribution margin per unit of revenue, needed by ``margin`` and ``profit``.
    minimum, maximum, max_change, locked
        Per-channel bounds, see :func:`~trueroi.budget.constraints.build_bounds`.
    risk
        ``mean`` maximises the posterior mean; ``q10`` (or ``q5``, ``q25``...) maximises that lower quantile
        of the plan's outcome over draws, a risk-averse choice.
    weeks
        Planning horizon in weeks; outcomes are reported as totals over it.

    Raises
    ------
    UsageError
        On a non-positive budget, bad bounds, or bounds whose minimums exceed the budget.
    """
    if not np.isfinite(total) or total <= 0:
        raise UsageError(f"total must be a positive weekly budget, got {total}")
    if weeks < 1:
        raise UsageError(f"weeks must be at least 1, got {weeks}")
    obj = Objective.build(objective, curves.kpi, margin_rate)
    level = parse_risk(risk)
    current = np.asarray(curves.current_spend, dtype=float)
    bounds = build_bounds(list(curves.channels), current, minimum, maximum, max_change, locked)
    solution = solve_separable(*separable_problem(curves, obj), bounds.lower, bounds.upper, total, rel_tol)
    if level is not None:
        solution = _maximise_quantile(curves, obj, bounds, total, level, solution, rel_tol)
    return describe_plan(curves, solution, obj, bounds, total, risk, weeks)


def _maximise_quantile(
    curves: ResponseCurves,
    obj: Objective,
    bounds: Bounds,
    total: float,
    level: float,
    start: SeparableSolution,
    rel_tol: float,
) -> SeparableSolution:
    """Raise the ``level`` quantile of the outcome by re-weighting draws around it (kept only if it helps)."""
    best = start
    best_q = float(np.quantile(draw_values(curves, start.x, obj), level))
    x = start.x
    for _ in range(_RISK_ROUNDS):
        weights = quantile_weights(draw_values(curves, x, obj), level)
        candidate = solve_separable(
            *separable_problem(curves, obj, weights), bounds.lower, bounds.upper, total, rel_tol
        )
        q = float(np.quantile(draw_values(curves, candidate.x, obj), level))
        if q > best_q:
            best, best_q = candidate, q
        if np.allclose(candidate.x, x, rtol=1e-6, atol=total * 1e-9):
            break
        x = candidate.x
    return best


def describe_plan(
    curves: ResponseCurves,
    solution: SeparableSolution,
    obj: Objective,
    bounds: Bounds,
    total: float,
    risk: str,
    weeks: int,
) -> BudgetPlan:
    """Outcomes, marginal ROIs, binding bounds and explanations of an optimised allocation."""
    current = np.asarray(curves.current_spend, dtype=float)
    x = solution.x
    base = draw_values(curves, current, obj, weeks)
    plan = BudgetPlan(
        channels=list(curves.channels),
        current=current,
        allocation=x,
        objective=obj,
        risk=risk,
        weeks=weeks,
        budget=float(total),
        marginal_roi=float(solution.lam + obj.cost_per_spend),
        mroi=mroi(curves, x, obj),
        mroi_current=mroi(curves, current, obj),
        bounds=bounds,
        binding=binding_bounds(x, bounds, solution.lam, total, list(curves.channels)),
        expected=summarize(draw_values(curves, x, obj, weeks), base),
        current_expected=summarize(base),
        kpi=curves.kpi,
    )
    plan.explanation = explain(plan)
    return plan


def _at_bound(x: np.ndarray, bound: np.ndarray, total: float) -> np.ndarray:
    return np.abs(x - bound) <= 1e-7 * max(total, 1.0)


def binding_bounds(
    x: np.ndarray, bounds: Bounds, lam: float, total: float, channels: list[str] | None = None
):
    """Active bounds as ``"channel:kind"`` strings (or channel indexes when ``channels`` is None)."""
    out: list[Any] = []
    at_lo, at_hi = _at_bound(x, bounds.lower, total), _at_bound(x, bounds.upper, total)
    for j in range(x.size):
        name = channels[j] if channels is not None else j
        if bounds.lower_source[j] == "locked":
            out.append(f"{name}:locked")
        elif at_hi[j] and bounds.upper_source[j] != "none":
            out.append(f"{name}:{bounds.upper_source[j]}")
        elif at_lo[j]:
            out.append(f"{name}:{bounds.lower_source[j]}")
    if lam > 0 or x.sum() >= total * (1 - 1e-9):  # the budget is spent: it binds
        out.append("total")
    return out


def explain(plan: BudgetPlan) -> list[dict[str, Any]]:
    """One row per channel: current vs recommended spend, marginal ROI at both, the bound and the reason."""
    rows = []
    labels = binding_bounds(plan.allocation, plan.bounds, 0.0, plan.budget, plan.channels)
    bound_of = dict(label.split(":", 1) for label in labels if ":" in label)
    level = plan.marginal_roi
    for j, name in enumerate(plan.channels):
        cur, rec = float(plan.current[j]), float(plan.allocation[j])
        m_cur, m_rec = float(plan.mroi_current[j]), float(plan.mroi[j])
        change = (rec - cur) / cur if cur > 0 else None
        rows.append(
            {
                "channel": name,
                "current": cur,
                "recommended": rec,
                "change": change,
                "mroi_current": m_cur,
                "mroi_recommended": m_rec,
                "bound": bound_of.get(name),
                "reason": _reason(
                    bound_of.get(name), cur, rec, m_cur, m_rec, level, rec >= plan.bounds.upper[j]
                ),
            }
        )
    return rows


def _reason(
    bound: str | None, cur: float, rec: float, m_cur: float, m_rec: float, level: float, at_top: bool
) -> str:
    if bound == "locked":
        return f"locked at current spend (marginal ROI {m_rec:.2f})"
    if bound and bound != "zero" and at_top:
        return f"capped by its {bound} bound: marginal ROI {m_rec:.2f} is still above the plan's {level:.2f}"
    if bound == "zero":
        return (
            f"switched off: no spend level returns the plan's marginal ROI {level:.2f} "
            f"(marginal ROI {m_cur:.2f} at current spend)"
        )
    if bound:
        return f"held at its {bound} bound: marginal ROI {m_rec:.2f} is below the plan's {level:.2f}"
    if abs(rec - cur) <= 0.005 * max(cur, 1e-9):
        return (
            f"already near the optimum: marginal ROI {m_cur:.2f} at current spend is the plan's {level:.2f}"
        )
    if rec > cur:
        return (
            f"room to grow: marginal ROI {m_cur:.2f} at current spend is above the plan's {level:.2f}; "
            f"raised until it falls to {m_rec:.2f}"
        )
    return (
        f"saturated: marginal ROI {m_cur:.2f} at current spend is below the plan's {level:.2f}; "
        f"cut until it rises to {m_rec:.2f}"
    )


def plan_regret(
    truth: ResponseCurves, allocation: np.ndarray, total: float, **constraints: Any
) -> dict[str, float]:
    """Regret of a plan under known true curves, for simulations.

    ``regret = (V(true optimum) - V(plan)) / (V(true optimum) - V(current))``: the share of the achievable
    gain over the current allocation that the plan gives away (0 is perfect; 1 is no better than current).
    ``constraints`` (objective, margin_rate, bounds) are passed to :func:`optimize_budget` on ``truth``.
    """
    best = optimize_budget(truth, total, **constraints)
    obj = best.objective
    v_plan = float(draw_values(truth, np.asarray(allocation, dtype=float), obj).mean())
    v_best = float(draw_values(truth, best.allocation, obj).mean())
    v_current = float(draw_values(truth, np.asarray(truth.current_spend, dtype=float), obj).mean())
    gain = v_best - v_current
    return {
        "regret": (v_best - v_plan) / gain if gain > 0 else float("nan"),
        "true_optimum": v_best,
        "true_plan": v_plan,
        "true_current": v_current,
    }
