"""Separable resource allocation by bisection on the Lagrange multiplier of the budget.

The planner maximises ``sum_c g_c(x_c)`` subject to ``sum_c x_c <= B`` and ``l_c <= x_c <= u_c`` where
``g_c(x) = a * E_w[r_dc(x)] - b * x`` is one channel's (draw-weighted) objective. Responses are separable
by channel, so for a multiplier ``lam >= 0`` the Lagrangian splits into one-dimensional problems
``max g_c(x) - lam * x`` whose solution is the spend where the channel's marginal objective ``g_c'`` falls
to ``lam`` (clipped to its bounds). Total spend falls as ``lam`` rises, so bisection on ``lam`` finds the
plan that spends the budget with marginal returns equalised across every channel not held by a bound:
the KKT conditions of the problem (Everett 1963, "Generalized Lagrange multiplier method for solving
problems of optimum allocation of resources"; Ibaraki & Katoh 1988, "Resource Allocation Problems", ch. 2).

For concave responses this is the global optimum. S-shaped responses (Hill with shape > 1) are handled by
solving each channel's one-dimensional problem on the decreasing part of its marginal curve and comparing
with staying at the lower bound; if that makes total spend jump past the budget, the set of channels that
are switched on is fixed from the feasible side and the continuous problem is solved again (a heuristic,
exact for concave curves).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trueroi.errors import ConvergenceError, UsageError

Vector = Callable[[np.ndarray], np.ndarray]
_GRID = 48
_MAX_OUTER = 200
_TOGGLE_PASSES = 3
_TOGGLE_LIMIT = 30


@dataclass(frozen=True)
class SeparableSolution:
    """Optimal spend ``x`` (C,), the budget multiplier ``lam`` (marginal objective where not bounded),
    and ``start`` (C,), where each channel's marginal objective starts to fall (its lower bound if concave)."""

    x: np.ndarray
    lam: float
    start: np.ndarray


def falling_start(marginal: Vector, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Per channel, the spend after which the marginal objective falls: the lower bound for concave curves,
    else (approximately, on a grid of 48 points denser near the lower bound) the peak of the marginal curve."""
    t = np.linspace(0.0, 1.0, _GRID)[:, None] ** 2
    grid = lower + (upper - lower) * t
    values = marginal(grid)
    peak = np.argmax(np.where(np.isnan(values), -np.inf, values), axis=0)
    return np.where(peak > 0, grid[peak, np.arange(lower.size)], lower)


def spend_at(
    lam: float, marginal: Vector, start: np.ndarray, upper: np.ndarray, bracket: tuple[np.ndarray, np.ndarray],
    tol: np.ndarray,
) -> np.ndarray:
    """Largest spend in [start, upper] whose marginal objective is at least ``lam``, per channel.

    ``bracket`` (low, high) narrows the search (the answer is known to lie in it); bisection runs until each
    channel's interval is shorter than ``tol``.
    """
    low, high = np.maximum(bracket[0], start), np.minimum(bracket[1], upper)
    high = np.maximum(high, low)
    ends = marginal(np.stack([low, high]))
    done_high = ends[1] >= lam
    done_low = ends[0] < lam
    low, high = low.copy(), high.copy()
    active = ~(done_high | done_low)
    for _ in range(200):
        if not np.any(active & (high - low > tol)):
            break
        mid = 0.5 * (low + high)
        up = marginal(mid) >= lam
        low = np.where(active & up, mid, low)
        high = np.where(active & ~up, mid, high)
    return np.where(done_high, high, np.where(done_low, low, low))


def solve_separable(
    marginal: Vector, value: Vector, lower: np.ndarray, upper: np.ndarray, budget: float,
    rel_tol: float = 1e-9,
) -> SeparableSolution:
    """Maximise ``sum_c value_c(x_c)`` s.t. ``sum_c x_c <= budget`` and ``lower <= x <= upper``.

    Parameters
    ----------
    marginal, value
        Vectorised per-channel marginal objective and objective: arrays (..., C) -> (..., C).
    lower, upper
        Shape (C,): finite bounds on weekly spend.
    budget
        Total weekly spend allowed.
    rel_tol
        Tolerance on spend, relative to the budget.

    Raises
    ------
    UsageError
        If the lower bounds alone exceed the budget.
    """
    if lower.sum() > budget * (1 + 1e-12):
        raise UsageError(
            f"the channel minimums add up to {lower.sum():,.2f} per week, above the budget {budget:,.2f}; "
            "raise --total or lower --min / --max-change"
        )
    upper = np.minimum(upper, lower + max(budget - lower.sum(), 0.0))
    start = np.minimum(falling_start(marginal, lower, upper), upper)
    solution = _dual_bisection(marginal, value, lower, upper, start, budget, rel_tol, on=None)
    s_shaped = np.flatnonzero(start > lower)
    if s_shaped.size == 0 and solution is not None:
        return solution
    tol = rel_tol * max(budget, 1e-300)
    on = (solution.x > lower + tol) if solution is not None else _switched_on(
        marginal, value, lower, upper, start, budget, rel_tol)
    on |= start <= lower
    best = _fixed_set(marginal, value, lower, upper, start, budget, rel_tol, on)
    if best is None:
        raise ConvergenceError("budget bisection did not converge; check that responses rise with spend")
    return _toggle_search(marginal, value, lower, upper, start, budget, rel_tol, on, best, s_shaped)


def _fixed_set(marginal, value, lower, upper, start, budget, rel_tol, on) -> SeparableSolution | None:
    """Solve with S-shaped channels fixed on (spend on the falling part of the marginal) or off (at lower)."""
    low = np.where(on, start, lower)
    if low.sum() > budget * (1 + 1e-12):
        return None
    return _dual_bisection(marginal, value, low, np.where(on, upper, lower), low, budget, rel_tol, on=on)


def _toggle_search(marginal, value, lower, upper, start, budget, rel_tol, on, best, s_shaped):
    """Local search over which S-shaped channels are on: toggle one at a time while the objective improves.

    The problem with a fixed set is concave, so each candidate is solved exactly; the search itself is a
    heuristic (the on/off choice is a knapsack-like combinatorial problem).
    """
    best_value = float(value(best.x).sum())
    for _ in range(_TOGGLE_PASSES):
        improved = False
        for j in s_shaped[:_TOGGLE_LIMIT]:
            trial = on.copy()
            trial[j] = ~trial[j]
            candidate = _fixed_set(marginal, value, lower, upper, start, budget, rel_tol, trial)
            if candidate is None:
                continue
            candidate_value = float(value(candidate.x).sum())
            if candidate_value > best_value + 1e-12 * abs(best_value):
                best, best_value, on, improved = candidate, candidate_value, trial, True
        if not improved:
            break
    return best


def _allocate(lam, marginal, value, lower, upper, start, bracket, tol, on) -> np.ndarray:
    x = spend_at(lam, marginal, start, upper, bracket, tol)
    s_shaped = start > lower
    if on is None and np.any(s_shaped):  # compare the falling part with staying at the lower bound
        both = value(np.stack([x, lower]))
        stay = (both[1] - lam * lower) > (both[0] - lam * x)
        x = np.where(s_shaped & stay, lower, x)
    return x


def _dual_bisection(marginal, value, lower, upper, start, budget, rel_tol, on) -> SeparableSolution | None:
    tol = np.full(lower.size, rel_tol * max(budget, 1e-300) / 4)
    wide = (lower.copy(), upper.copy())
    x_free = _allocate(0.0, marginal, value, lower, upper, start, wide, tol, on)
    if x_free.sum() <= budget * (1 + 1e-12):
        return SeparableSolution(x_free, 0.0, start)
    probe = marginal(np.stack([start, upper]))
    finite = probe[np.isfinite(probe)]
    lam_hi = max(float(finite.max()) if finite.size else 1.0, 1e-300)
    x_hi = _allocate(lam_hi, marginal, value, lower, upper, start, wide, tol, on)
    while x_hi.sum() > budget:
        lam_hi *= 4.0
        x_hi = _allocate(lam_hi, marginal, value, lower, upper, start, wide, tol, on)
    lam_lo, x_lo = 0.0, x_free
    for _ in range(_MAX_OUTER):
        lam = 0.5 * (lam_lo + lam_hi)
        x = _allocate(lam, marginal, value, lower, upper, start, (x_hi, x_lo), tol, on)
        total = x.sum()
        if 0.0 <= budget - total <= rel_tol * budget:
            return SeparableSolution(x, lam, start)
        if total > budget:
            lam_lo, x_lo = lam, x
        else:
            lam_hi, x_hi = lam, x
        if lam_hi - lam_lo <= 1e-15 * lam_hi:
            break
    jumped = np.abs(x_lo - x_hi) > np.maximum(start - lower, 0) * 0.5 + tol * 4
    if on is None and np.any(jumped & (start > lower)):
        return None
    share = (budget - x_hi.sum()) / max(x_lo.sum() - x_hi.sum(), 1e-300)
    x = x_hi + np.clip(share, 0.0, 1.0) * (x_lo - x_hi)
    return SeparableSolution(x, 0.5 * (lam_lo + lam_hi), start)


def _switched_on(marginal, value, lower, upper, start, budget, rel_tol) -> np.ndarray:
    """Channels switched on at the feasible side of the multiplier where total spend jumps."""
    tol = np.full(lower.size, rel_tol * budget / 4)
    wide = (lower, upper)
    lam_lo, lam_hi = 0.0, 1.0
    while _allocate(lam_hi, marginal, value, lower, upper, start, wide, tol, None).sum() > budget:
        lam_hi *= 4.0
    for _ in range(_MAX_OUTER):
        lam = 0.5 * (lam_lo + lam_hi)
        if _allocate(lam, marginal, value, lower, upper, start, wide, tol, None).sum() > budget:
            lam_lo = lam
        else:
            lam_hi = lam
        if lam_hi - lam_lo <= 1e-12 * lam_hi:
            break
    x = _allocate(lam_hi, marginal, value, lower, upper, start, wide, tol, None)
    return (x > lower + tol) | (start <= lower)
