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
_GRID = 16
_GOLDEN_STEPS = 30
_MAX_OUTER = 200
_MAX_INNER = 200
_MAX_WIDEN = 260  # factors of 16: spans the range of float64
_TOGGLE_PASSES = 3
_TOGGLE_LIMIT = 30


@dataclass(frozen=True)
class SeparableSolution:
    """Optimal spend ``x`` (C,), the budget multiplier ``lam`` (marginal objective where not bounded),
    and ``start`` (C,), where each channel's marginal objective starts to fall (lower bound if concave)."""

    x: np.ndarray
    lam: float
    start: np.ndarray


def falling_start(marginal: Vector, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Per channel, the spend after which the marginal objective only falls (see :func:`shape_points`)."""
    return shape_points(marginal, lower, upper)[1]


def shape_points(marginal: Vector, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel, ``(valley, start)``: the marginal objective falls on ``[lower, valley]`` and again from
    ``start`` on; both equal ``lower`` for concave curves. An S-shaped curve has ``valley = lower`` and
    ``start`` at the peak of its marginal; a mixture over draws of concave and S-shaped curves can have a
    falling first branch too. Located on a grid denser near the lower bound; the last peak is refined by
    golden-section search, the valley is the grid's minimum before it."""
    t = np.linspace(0.0, 1.0, _GRID)[:, None] ** 2
    grid = lower + (upper - lower) * t
    values = np.nan_to_num(marginal(grid), nan=-np.inf, posinf=1e300)
    with np.errstate(over="ignore", invalid="ignore"):
        rises = values[1:] > values[:-1] + 1e-12 * np.abs(values[:-1])
    rising = rises.any(axis=0)
    if not np.any(rising):
        return lower.copy(), lower.copy()
    last = _GRID - 2 - np.argmax(rises[::-1], axis=0)  # last i with values[i + 1] > values[i]
    cols = np.arange(lower.size)
    before = np.where(np.arange(_GRID)[:, None] <= last, values, np.inf)
    valley = np.where(rising, grid[np.argmin(before, axis=0), cols], lower)
    a = grid[last, cols]
    b = grid[np.minimum(last + 2, _GRID - 1), cols]
    ratio = (np.sqrt(5.0) - 1) / 2
    for _ in range(_GOLDEN_STEPS):  # maximise the marginal on [a, b], all channels at once
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        fc, fd = marginal(np.stack([c, d]))
        left = fc >= fd
        a, b = np.where(left, a, c), np.where(left, d, b)
    return valley, np.where(rising, 0.5 * (a + b), lower)


def spend_at(
    lam: float,
    marginal: Vector,
    start: np.ndarray,
    upper: np.ndarray,
    bracket: tuple[np.ndarray, np.ndarray],
    tol: np.ndarray,
) -> np.ndarray:
    """Largest spend in [start, upper] whose marginal objective is at least ``lam``, per channel.

    ``bracket`` (low, high) narrows the search (the answer is known to lie in it). Each channel's root of
    ``marginal(x) = lam`` is found by the Illinois variant of regula falsi (Dowell & Jarratt 1971), which
    keeps a bracket like bisection but converges superlinearly, vectorised over channels (one call of
    ``marginal`` per iteration), until each interval is shorter than ``tol``.
    """
    low, high = np.maximum(bracket[0], start), np.minimum(bracket[1], upper)
    high = np.maximum(high, low)
    ends = marginal(np.stack([low, high])) - lam
    done_high = ends[1] >= 0
    done_low = ends[0] < 0
    a, b, fa, fb = low.copy(), high.copy(), ends[0].copy(), ends[1].copy()
    active = ~(done_high | done_low)
    side = np.zeros(a.size, dtype=int)
    for it in range(_MAX_INNER):
        open_ = active & (b - a > tol)
        if not np.any(open_):
            break
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            c = (a * fb - b * fa) / (fb - fa)
        bad = ~np.isfinite(c) | (c <= a) | (c >= b) | ~np.isfinite(fa) | (it % 4 == 3)
        c = np.where(bad, 0.5 * (a + b), c)
        fc = np.where(open_, marginal(np.where(open_, c, a)) - lam, 0.0)
        up = open_ & (fc >= 0)
        down = open_ & (fc < 0)
        fb = np.where(up & (side == 1), fb * 0.5, fb)  # Illinois: halve the end kept twice in a row
        fa = np.where(down & (side == -1), fa * 0.5, fa)
        a, fa = np.where(up, c, a), np.where(up, fc, fa)
        b, fb = np.where(down, c, b), np.where(down, fc, fb)
        side = np.where(up, 1, np.where(down, -1, side))
    return np.where(done_high, high, np.where(done_low, low, a))


def solve_separable(
    marginal: Vector,
    value: Vector,
    lower: np.ndarray,
    upper: np.ndarray,
    budget: float,
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
            "raise the total or lower the minimums / max_change"
        )
    upper = np.minimum(upper, lower + max(budget - lower.sum(), 0.0))
    valley, start = shape_points(marginal, lower, upper)
    start, valley = np.minimum(start, upper), np.minimum(valley, upper)
    solution = _dual_bisection(marginal, value, lower, upper, start, budget, rel_tol, None, valley)
    s_shaped = np.flatnonzero(start > lower)
    if s_shaped.size == 0 and solution is not None:
        return solution
    tol = rel_tol * max(budget, 1e-300)
    on = (
        (solution.x >= start - tol)
        if solution is not None
        else _switched_on(marginal, value, lower, upper, start, budget, rel_tol, valley)
    )
    on |= start <= lower
    best = _fixed_set(marginal, value, lower, upper, start, budget, rel_tol, on, valley)
    if best is None:
        raise ConvergenceError("budget bisection did not converge; check that responses rise with spend")
    return _toggle_search(marginal, value, lower, upper, start, budget, rel_tol, on, best, s_shaped, valley)


def _fixed_set(
    marginal: Vector,
    value: Vector,
    lower: np.ndarray,
    upper: np.ndarray,
    start: np.ndarray,
    budget: float,
    rel_tol: float,
    on: np.ndarray,
    valley: np.ndarray,
) -> SeparableSolution | None:
    """Solve with S-shaped channels fixed on (spend on the last falling part of the marginal) or off (on the
    first falling part, [lower, valley]; at lower for a plain S-curve): a concave problem."""
    low = np.where(on, start, lower)
    if low.sum() > budget * (1 + 1e-12):
        return None
    high = np.where(on, upper, valley)
    return _dual_bisection(marginal, value, low, high, low, budget, rel_tol, on, valley)


def _toggle_search(
    marginal: Vector,
    value: Vector,
    lower: np.ndarray,
    upper: np.ndarray,
    start: np.ndarray,
    budget: float,
    rel_tol: float,
    on: np.ndarray,
    best: SeparableSolution,
    s_shaped: np.ndarray,
    valley: np.ndarray,
) -> SeparableSolution:
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
            candidate = _fixed_set(marginal, value, lower, upper, start, budget, rel_tol, trial, valley)
            if candidate is None:
                continue
            candidate_value = float(value(candidate.x).sum())
            if candidate_value > best_value + 1e-12 * abs(best_value):
                best, best_value, on, improved = candidate, candidate_value, trial, True
        if not improved:
            break
    return best


def _allocate(
    lam: float,
    marginal: Vector,
    value: Vector,
    lower: np.ndarray,
    upper: np.ndarray,
    start: np.ndarray,
    bracket: tuple[np.ndarray, np.ndarray],
    tol: np.ndarray,
    on: np.ndarray | None,
    valley: np.ndarray | None = None,
) -> np.ndarray:
    """Each channel's best spend for multiplier ``lam``; S-shaped channels may stay on their first branch."""
    x = spend_at(lam, marginal, start, upper, bracket, tol)
    s_shaped = start > lower
    if on is None and np.any(s_shaped):  # compare the last falling part with the first branch
        valley = lower if valley is None else valley
        first = lower
        if np.any(valley > lower):
            first = np.where(
                valley > lower, spend_at(lam, marginal, lower, valley, (lower, valley), tol), lower
            )
        both = value(np.stack([x, first]))
        stay = (both[1] - lam * first) > (both[0] - lam * x)
        x = np.where(s_shaped & stay, first, x)
    return x


def _dual_bisection(
    marginal: Vector,
    value: Vector,
    lower: np.ndarray,
    upper: np.ndarray,
    start: np.ndarray,
    budget: float,
    rel_tol: float,
    on: np.ndarray | None,
    valley: np.ndarray | None = None,
) -> SeparableSolution | None:
    """Find the multiplier whose allocation spends the budget; None if spend jumps past it (S-shapes)."""
    tol = np.full(lower.size, rel_tol * max(budget, 1e-300) / 4)
    wide = (lower.copy(), upper.copy())
    x_free = _allocate(0.0, marginal, value, lower, upper, start, wide, tol, on, valley)
    if x_free.sum() <= budget * (1 + 1e-12):
        return SeparableSolution(x_free, 0.0, start)
    probe = marginal(start + np.array([[1e-3], [1e-1]]) * (upper - start))
    finite = probe[np.isfinite(probe) & (probe > 0)]
    lam_hi = float(np.median(finite)) if finite.size else 1.0  # a typical marginal; widened below
    x_hi = _allocate(lam_hi, marginal, value, lower, upper, start, wide, tol, on, valley)
    x_lo = None
    for _ in range(_MAX_WIDEN):
        if x_hi.sum() <= budget:
            break
        lam_lo, x_lo = lam_hi, x_hi
        lam_hi *= 16.0
        x_hi = _allocate(lam_hi, marginal, value, lower, upper, start, wide, tol, on, valley)
    else:
        return None
    if x_lo is None:
        lam_lo, x_lo = 0.0, x_free
    probe_lam = lam_hi
    for _ in range(_MAX_WIDEN):  # a positive lower multiplier, so the search can run on log(lam)
        if lam_lo > 0:
            break
        probe_lam /= 16.0
        x = _allocate(probe_lam, marginal, value, lower, upper, start, (x_hi, x_lo), tol, on, valley)
        if x.sum() >= budget:
            lam_lo, x_lo = probe_lam, x
            break
        lam_hi, x_hi = probe_lam, x
    # Illinois regula falsi on log(spend) against log(lam): near-linear for power-law-like responses
    f_lo, f_hi = _log_gap(x_lo.sum(), budget), _log_gap(x_hi.sum(), budget)
    side = 0
    for it in range(_MAX_OUTER):
        lam = 0.5 * (lam_lo + lam_hi)
        if lam_lo > 0 and f_hi != f_lo and it % 4 != 3:
            u = (np.log(lam_lo) * f_hi - np.log(lam_hi) * f_lo) / (f_hi - f_lo)
            lam = float(np.exp(u)) if lam_lo < np.exp(u) < lam_hi else lam
        x = _allocate(lam, marginal, value, lower, upper, start, (x_hi, x_lo), tol, on, valley)
        total = x.sum()
        if abs(budget - total) <= rel_tol * budget:  # close enough: interpolate to the exact budget below
            if total > budget:
                lam_lo, x_lo = lam, x
            else:
                lam_hi, x_hi = lam, x
            break
        if total > budget:
            f_hi = f_hi * 0.5 if side == 1 else f_hi  # Illinois: halve the end kept twice in a row
            lam_lo, x_lo, f_lo, side = lam, x, _log_gap(total, budget), 1
        else:
            f_lo = f_lo * 0.5 if side == -1 else f_lo
            lam_hi, x_hi, f_hi, side = lam, x, _log_gap(total, budget), -1
        if lam_hi - lam_lo <= 1e-13 * lam_hi:
            break
    gap = start - (lower if valley is None else valley)
    jumped = np.abs(x_lo - x_hi) > np.maximum(gap, 0) * 0.5 + tol * 4
    if on is None and np.any(jumped & (start > lower)):
        return None
    share = float(np.clip((budget - x_hi.sum()) / max(x_lo.sum() - x_hi.sum(), 1e-300), 0.0, 1.0))
    x = x_hi + share * (x_lo - x_hi)
    return SeparableSolution(x, lam_hi + share * (lam_lo - lam_hi), start)


def _log_gap(total: float, budget: float) -> float:
    return float(np.log(max(total, 1e-300)) - np.log(budget))


def _switched_on(
    marginal: Vector,
    value: Vector,
    lower: np.ndarray,
    upper: np.ndarray,
    start: np.ndarray,
    budget: float,
    rel_tol: float,
    valley: np.ndarray,
) -> np.ndarray:
    """Channels switched on at the feasible side of the multiplier where total spend jumps."""
    tol = np.full(lower.size, rel_tol * budget / 4)
    wide = (lower, upper)

    def spends_over(lam: float) -> bool:
        return _allocate(lam, marginal, value, lower, upper, start, wide, tol, None, valley).sum() > budget

    lam_lo, lam_hi = 1.0, 1.0
    for _ in range(_MAX_WIDEN):  # bracket the jump on a log scale: over budget at lam_lo, not at lam_hi
        if not spends_over(lam_hi):
            break
        lam_lo, lam_hi = lam_hi, lam_hi * 16.0
    if lam_lo == lam_hi:  # not over budget at 1: search downwards
        for _ in range(_MAX_WIDEN):
            lam_lo = lam_hi / 16.0
            if spends_over(lam_lo):
                break
            lam_hi = lam_lo
    for _ in range(_MAX_OUTER):
        if lam_hi <= lam_lo * (1 + 1e-12):
            break
        lam = float(np.sqrt(lam_lo * lam_hi))
        if spends_over(lam):
            lam_lo = lam
        else:
            lam_hi = lam
    x = _allocate(lam_hi, marginal, value, lower, upper, start, wide, tol, None, valley)
    return (x >= start - tol) | (start <= lower)
