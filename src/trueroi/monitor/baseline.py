"""Seasonal robust baselines: pure functions on numpy arrays, no workspace.

Two baselines give each day (or hour) an expected value and a noise scale from its own past only:

* **Volume KPIs** (spend, conversions, sessions, orders): a robust seasonal-level decomposition of a
  trailing window of ``cycles`` seasons (eight weeks of days by default), in the spirit of STL
  (Cleveland et al. 1990) with medians in place of loess:

  1. season: per slot (weekday, or hour of the week), the median of that slot's values in the window,
     minus the median of those slot medians;
  2. level: the median of the deseasonalised values of the last ``level_window`` steps (one week), so a
     budget change is absorbed within a week instead of alarming for the eight weeks a same-weekday
     median needs;
  3. trend (optional, off by default): the difference of the last two level medians per step,
     extrapolated to the current step;
  4. noise: ``1.4826 x MAD`` (Hampel 1974) of what this very predictor (median of the previous
     ``level_window`` deseasonalised values) missed by inside the window: an out-of-sample error scale.

  Medians everywhere make one broken day in the history (an outage, a tag firing twice) move nothing.
* **Ratio KPIs** (CPA, ROAS, CTR): a weighted ratio ``rho = sum(num) / sum(den)`` over a trailing window;
  the day's numerator is then expected at ``rho x den`` (quasi-Poisson: variance proportional to the mean,
  McCullagh & Nelder 1989, sec. 9.2), so a CPA spike on a small campaign is judged by how many conversions
  its spend should have bought, not by a noisy daily ratio.

Counts are compared on the Anscombe (1948) square-root scale ``2 sqrt(x + 3/8)``, where Poisson noise has
unit variance whatever the level, so a campaign with 0.1 conversions a day and one with 500 share one
threshold; the unit variance is the floor of the scale (a series is never judged quieter than Poisson).
Money (spend) is compared on a log scale, where budget noise is multiplicative, with a relative floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAD_TO_SIGMA = 1.4826  # 1 / Phi^-1(3/4): MAD x this estimates sigma for Gaussian noise
ANSCOMBE_SHIFT = 3.0 / 8.0
_ELEMENTS = 1 << 22  # window values sorted at once (about 32 MB of float64): bounds memory for many series


def mad(values: np.ndarray) -> float:
    """Median absolute deviation from the median (unscaled), ignoring NaN; NaN when nothing is left."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan")
    return float(np.median(np.abs(x - np.median(x))))


def robust_sigma(values: np.ndarray) -> float:
    """``1.4826 x MAD``: a standard deviation estimate that ignores outliers."""
    return MAD_TO_SIGMA * mad(values)


def anscombe(x: np.ndarray | float) -> np.ndarray:
    """Variance-stabilising transform of counts, ``2 sqrt(x + 3/8)`` (negative inputs read as 0)."""
    return 2.0 * np.sqrt(np.maximum(np.asarray(x, dtype=float), 0.0) + ANSCOMBE_SHIFT)


def inverse_anscombe(a: np.ndarray | float) -> np.ndarray:
    """The count whose :func:`anscombe` is ``a`` (0 below the transform's minimum)."""
    a = np.asarray(a, dtype=float)
    return np.where(a <= anscombe(0.0), 0.0, (a / 2.0) ** 2 - ANSCOMBE_SHIFT)


@dataclass(frozen=True)
class Baseline:
    """Expected value, acceptance range and standardised deviation per time step of one series.

    ``z`` is the deviation of the observed value in noise scales (negative: below expectation); every
    field is NaN where the history is too short to judge.
    """

    expected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    z: np.ndarray


def trailing_windows(y: np.ndarray, width: int) -> np.ndarray:
    """Row ``t`` holds ``y[t - width], ..., y[t - 1]`` (oldest first), NaN before the series starts.

    ``y`` is one series (steps) or several (series x steps, each oldest first); the windows are a read-only
    view of shape ``(steps, width)`` or ``(series, steps, width)``.
    """
    y = np.asarray(y, dtype=float)
    padded = np.concatenate([np.full((*y.shape[:-1], width), np.nan), y], axis=-1)
    return sliding_window_view(padded, width + 1, axis=-1)[..., : y.shape[-1], :width]


def trailing_sum(y: np.ndarray, width: int) -> np.ndarray:
    """Sum of the ``width`` values before each step, NaN counted as 0 (``nansum`` of the trailing windows).

    Summed on a view of the zero-filled series, so no window is copied; works along the last axis.
    """
    y = np.asarray(y, dtype=float)
    filled = np.concatenate([np.zeros((*y.shape[:-1], width)), np.where(np.isnan(y), 0.0, y)], axis=-1)
    return sliding_window_view(filled, width + 1, axis=-1)[..., : y.shape[-1], :width].sum(axis=-1)


def trailing_count(y: np.ndarray, width: int) -> np.ndarray:
    """How many of the ``width`` values before each step are true (False before the series starts)."""
    y = np.asarray(y, dtype=bool)
    padded = np.concatenate([np.zeros((*y.shape[:-1], width), dtype=bool), y], axis=-1)
    view = sliding_window_view(padded, width + 1, axis=-1)[..., : y.shape[-1], :width]
    return view.sum(axis=-1, dtype=np.int64)


def _nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    """Median along ``axis`` ignoring NaN (NaN where nothing is left): sort once, pick the middle.

    ``numpy.nanmedian`` goes through masked arrays and a warning per all-NaN slice on small axes, which
    is a hundred times slower on the many short windows judged here. Rows without NaN (most) take the
    middle by slicing; only the others count their values.
    """
    a = np.moveaxis(np.asarray(a, dtype=float), axis, -1)
    length = a.shape[-1]
    if length == 0:
        return np.full(a.shape[:-1], np.nan)
    ordered = np.sort(a, axis=-1).reshape(-1, length)  # NaN sort last
    lo, hi = (length - 1) // 2, length // 2
    partial = np.flatnonzero(np.isnan(ordered[:, -1]))
    mid = (ordered[:, lo] + ordered[:, hi]) / 2.0
    if partial.size:  # an all-NaN row picks its first value: NaN
        n = length - np.isnan(ordered[partial]).sum(axis=1)
        lo_at, hi_at = np.maximum((n - 1) // 2, 0), np.maximum(n // 2, 0)
        mid[partial] = (ordered[partial, lo_at] + ordered[partial, hi_at]) / 2.0
    return mid.reshape(a.shape[:-1])


def seasonal_level(
    w: np.ndarray, period: int, level_window: int, trend: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Expected value of the step after each window row, and the noise scale of that prediction.

    Parameters
    ----------
    w
        Windows (rows) of already transformed values, oldest first; the width is a multiple of ``period``
        so that column ``c`` of every row falls in the same season slot as the predicted step when
        ``c % period == 0``.
    period, level_window, trend
        See :func:`seasonal_baseline`.

    Returns
    -------
    expected, sigma
        Both on the transformed scale; NaN where a row has no values.
    """
    rows, width = w.shape
    slots = w.reshape(rows, width // period, period)
    slot_median = _nanmedian(slots, axis=1)
    season = slot_median - _nanmedian(slot_median, axis=1)[:, None]
    season = np.where(np.isnan(season), 0.0, season)
    d = (slots - season[:, None, :]).reshape(rows, width)
    level = _nanmedian(d[:, -level_window:], axis=1)
    slope = np.zeros(rows)
    if trend:
        before = _nanmedian(d[:, -2 * level_window : -level_window], axis=1)
        slope = np.where(np.isnan(before), 0.0, (level - before) / level_window)
    expected = level + slope * (level_window + 1) / 2.0 + season[:, 0]
    # out-of-sample misses of "median of the previous level_window deseasonalised values", inside the window
    prev = _nanmedian(sliding_window_view(d, level_window, axis=1)[:, :-1, :], axis=2)
    miss = d[:, level_window:] - prev
    centre = _nanmedian(miss, axis=1)
    sigma = MAD_TO_SIGMA * _nanmedian(np.abs(miss - centre[:, None]), axis=1)
    return expected, sigma


def seasonal_baseline(
    y: np.ndarray,
    *,
    period: int = 7,
    cycles: int = 8,
    level_window: int | None = None,
    min_cycles: int = 4,
    kind: str = "count",
    threshold: float = 4.0,
    trend: bool = False,
    relative_floor: float = 0.175,
    money_offset: float = 0.05,
    first: int = 0,
    where: np.ndarray | None = None,
) -> Baseline:
    """Seasonal robust baseline of a volume series (see module docstring).

    Parameters
    ----------
    y
        Observed values per step (day or hour), oldest first, no gaps (missing steps as 0); or several
        series at once (series x steps, NaN where a series has no value), each judged on its own.
    period
        Season length in steps: 7 for days (weekday pattern), 168 for hours (hour of the week).
    cycles
        Seasons in the trailing window (8 weeks by default).
    level_window
        Steps whose deseasonalised median is the level (default ``period``; 24 suits hourly series).
    min_cycles
        Fewer than ``min_cycles x period`` observed steps in the window: no judgement (NaN).
    kind
        ``count`` (Anscombe scale, Poisson floor of 1) or ``money`` (log scale ``log(y + offset)`` with
        ``offset = money_offset x`` the window's median, so a stop to zero stays finite; the scale is at
        least ``relative_floor`` (0.175: at the default threshold of 4 a day within half to twice its
        expected spend is never anomalous), so a spend capped at a constant daily budget does not
        alarm on cents).
    threshold
        Half-width of the range in noise scales.
    trend
        Extrapolate the change between the last two level windows. Off by default: the local level
        already follows a trend with half a window's lag, and the extrapolation overshoots after every
        step (a flight switched on or off, Black Friday), which doubled the false alarms on the demo shop
        (1.4 % to 0.7 % of series-days at scale 1.0, see tests/monitor).
    first
        First step to judge: earlier steps are NaN (their history is still read), so a caller that
        needs only the newest steps does not pay for the others.
    where
        Steps to judge (True; the shape of ``y``), the others are NaN: a caller that needs the baseline
        only on some steps does not pay for the others. None: every step from ``first``.
    """
    y = np.asarray(y, dtype=float)
    flat = y.reshape(-1, y.shape[-1]) if y.size else y.reshape(1, -1)
    lw = level_window or period
    width = period * cycles
    windows = trailing_windows(flat, width)
    out = np.full((4, *flat.shape), np.nan)
    # only the steps with enough history are computed: the others are NaN whatever their window holds
    enough = trailing_count(~np.isnan(flat), width) >= min_cycles * period
    enough[:, :first] = False
    if where is not None:
        enough &= np.asarray(where, dtype=bool).reshape(enough.shape)
    series, step = np.nonzero(enough)
    block = max(1, _ELEMENTS // (width * lw))
    for lo in range(0, series.size, block):
        i, t = series[lo : lo + block], step[lo : lo + block]
        w = windows[i, t]
        offset = _offset(w, kind, money_offset)
        expected_t, sigma = seasonal_level(_forward(w, offset[:, None], kind), period, lw, trend)
        sigma = np.fmax(sigma, 1.0 if kind == "count" else relative_floor)
        out[0, i, t] = _back(expected_t, offset, kind)
        out[1, i, t] = _back(expected_t - threshold * sigma, offset, kind)
        out[2, i, t] = _back(expected_t + threshold * sigma, offset, kind)
        out[3, i, t] = (_forward(flat[i, t], offset, kind) - expected_t) / sigma
    return Baseline(*(v.reshape(y.shape) for v in out))


def _offset(w: np.ndarray, kind: str, money_offset: float) -> np.ndarray:
    if kind == "count":
        return np.full(w.shape[0], ANSCOMBE_SHIFT)
    offset = np.fmax(money_offset * _nanmedian(np.abs(w), axis=1), 1e-6)
    return np.where(np.isnan(offset), 1e-6, offset)


def _forward(v: np.ndarray, offset: np.ndarray, kind: str) -> np.ndarray:
    v = np.maximum(v, 0.0)
    return 2.0 * np.sqrt(v + offset) if kind == "count" else np.log(v + offset)


def _back(a: np.ndarray, offset: np.ndarray, kind: str) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if kind == "count":
            return np.where(a <= 2.0 * np.sqrt(offset), 0.0, (a / 2.0) ** 2 - offset)
        return np.maximum(np.exp(a) - offset, 0.0)


def trailing_ratio(
    num: np.ndarray, den: np.ndarray, *, window: int = 28, min_den_days: int = 7
) -> np.ndarray:
    """Weighted ratio ``sum(num) / sum(den)`` over the ``window`` steps before each step.

    Only steps where both are known count (a NaN numerator drops its step's denominator too: sessions
    not tracked on a day say nothing about that day's clicks). NaN where fewer than ``min_den_days`` of
    those steps have a positive denominator, or where the ratio is not a positive finite number. One
    series, or several (series x steps) each on its own.
    """
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    known = ~np.isnan(num) & ~np.isnan(den)
    with np.errstate(all="ignore"):
        rho = trailing_sum(np.where(known, num, 0.0), window) / trailing_sum(
            np.where(known, den, 0.0), window
        )
    enough = trailing_count(known & (den > 0), window) >= min_den_days
    return np.where(enough & np.isfinite(rho) & (rho > 0), rho, np.nan)


def trailing_scale(resid: np.ndarray, window: int = 28, first: int = 0) -> np.ndarray:
    """``1.4826 x MAD`` of the ``window`` values before each step (NaN ignored), at least 1.

    One series or several (series x steps); steps before ``first`` are NaN (not computed).
    """
    resid = np.asarray(resid, dtype=float)
    flat = resid.reshape(-1, resid.shape[-1]) if resid.size else resid.reshape(1, -1)
    scale = np.full(flat.shape, np.nan)
    hist = trailing_windows(flat, window)[:, first:]
    block = max(1, _ELEMENTS // (window * max(hist.shape[1], 1)))
    for lo in range(0, flat.shape[0], block):
        h = hist[lo : lo + block]
        centre = _nanmedian(h, axis=-1)
        spread = _nanmedian(np.abs(h - centre[..., None]), axis=-1)
        scale[lo : lo + block, first:] = np.fmax(MAD_TO_SIGMA * spread, 1.0)
    return scale.reshape(resid.shape)


def count_check(
    num: np.ndarray,
    expected: np.ndarray,
    *,
    unit: np.ndarray | float = 1.0,
    window: int = 28,
    threshold: float = 4.0,
    first: int = 0,
) -> Baseline:
    """Judge observed ``num`` against a given expectation on the Anscombe scale.

    The noise scale is ``1.4826 x MAD`` of the residuals ``2 sqrt(num/unit + 3/8) - 2 sqrt(expected/unit
    + 3/8)`` of the ``window`` steps before, at least 1 (Poisson). NaN where ``expected`` or ``unit`` is
    not finite, and before step ``first``. One series or several (series x steps), each on its own.
    """
    num, expected = np.asarray(num, dtype=float), np.asarray(expected, dtype=float)
    unit = np.broadcast_to(np.asarray(unit, dtype=float), num.shape)
    with np.errstate(all="ignore"):
        resid = anscombe(num / unit) - anscombe(expected / unit)
        resid = np.where(np.isfinite(expected) & np.isfinite(unit), resid, np.nan)
        scale = trailing_scale(resid, window, first)
        a_exp = anscombe(expected / unit)
        lower = inverse_anscombe(a_exp - threshold * scale) * unit
        upper = inverse_anscombe(a_exp + threshold * scale) * unit
        z = resid / scale
    bad = ~np.isfinite(expected) | ~np.isfinite(unit) | ~(unit > 0) | np.isnan(scale)
    return Baseline(*(np.where(bad, np.nan, v) for v in (expected, lower, upper, z)))


def ratio_baseline(
    num: np.ndarray,
    den: np.ndarray,
    *,
    window: int = 28,
    unit: np.ndarray | float = 1.0,
    threshold: float = 4.0,
    min_den_days: int = 7,
) -> tuple[np.ndarray, Baseline]:
    """Weighted-ratio baseline: expected ``num`` given the day's ``den`` (see module docstring).

    Parameters
    ----------
    num, den
        Numerator and denominator per step (conversions and spend for CPA, revenue and spend for ROAS,
        clicks and impressions for CTR), oldest first.
    window
        Trailing steps (before the current one) whose sums give ``rho`` and whose residuals give the scale.
    unit
        Numerator units per count: 1 for counts; the average order value for revenue, so revenue is
        judged as ``revenue / AOV`` orders on the Anscombe scale. A scalar or one value per step.
    min_den_days
        Fewer trailing steps with a positive denominator than this: no judgement.

    Returns
    -------
    rho, Baseline
        The trailing ratio per step and the baseline of the numerator (expected, range, z); NaN on steps
        with a zero denominator.
    """
    den = np.asarray(den, dtype=float)
    rho = trailing_ratio(num, den, window=window, min_den_days=min_den_days)
    expected = np.where(den > 0, rho * den, np.nan)
    return rho, count_check(num, expected, unit=unit, window=window, threshold=threshold)
