"""Period-end forecasts of daily series: recent level x weekday index x year-over-year seasonal index.

The method (``"level_weekday_yoy+backtest"``) is a seasonal-index forecast in the classical decomposition
tradition (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., ch. 3 and 5.3):

* **level**: the mean of the last :data:`LEVEL_DAYS` (28) days, four of every weekday;
* **weekday index**: the mean of each weekday over the last :data:`WEEKDAY_DAYS` (84) days divided by the
  mean of all of them (averages 1 over a week);
* **year-over-year index** (only with a year of history before the forecast window): for a future day
  ``t``, the 7-day centred mean of the series at ``t - 364`` (same weekday last year) divided by the mean
  of the 28 days that ended 364 days before the forecast origin, i.e. how the coming days moved against the
  weeks before them last year; clipped to [0.25, 4].

With a year of history (:data:`YOY_LAG` + :data:`LEVEL_DAYS` days) the year-over-year index is used: the
coming days follow last year's shape for those days, scaled to this year's level. Where at least
:data:`MIN_BACKTESTS` earlier origins have a year before them, it is kept for a measure only where it lowers
the backtest error (mean squared log ratio of actual to forecast, below) against the same forecast without
it: on a sparse series (a few orders a week) last year's days are noise, and the method name then reads
``"level_weekday+..."``.

A series that starts inside the history (a conversion type tracked from some day on, a CRM export shorter
than the ad history) is forecast from the day every measure with volume has started: the days before it are
not zeros of the same process, and reading them as such pulls the level and the backtests towards 0.

The interval comes from the forecast's own past errors (an empirical prediction interval from backtest
residuals, FPP3 ch. 5.5): the same forecast is made at every earlier origin whose horizon ended by the data's
last day, and the ratio of actual to forecast over the horizon is kept. Draws of the remaining sum are the
current forecast times those ratios, taken jointly across measures at the same origin so that ratio KPIs
(ROAS = revenue / spend) keep the correlation between their numerator and denominator. With fewer than
:data:`MIN_BACKTESTS` origins, or fewer than ``horizon + LEVEL_DAYS`` (two origins that share no day: two
independent errors), the method falls back to ``"level_weekday_yoy+bootstrap"``: each remaining day
gets the relative residual of a random recent day (joint across measures), and the level is resampled from
its own 28 days (a bootstrap of the mean). With under :data:`MIN_HISTORY` (7) days of history there is no
interval at all (the draws are NaN). A backtest origin whose forecast of a measure is 0 while the current
one is not says nothing about that measure's relative error and is left out.

Counts (orders, signups, deals) get at least the uncertainty of counting (:func:`count_draws`): the remaining
days are negative binomial around a rate that is itself uncertain (a Gamma posterior from the level's days,
overdispersion from their Pearson residuals, never below Poisson), so a count KPI with days left never has
a point interval, however regular its past. Where the empirical draws are narrower than the counting noise
alone (the rate taken as known), which no honest interval can be, that predictive distribution replaces
them, reordered by the empirical draws' ranks so the dependence between measures stays
(the Schaake shuffle, Clark et al. 2004); values per count (revenue per order) keep their draw's value per
count. Ratio KPIs (CPA = spend / conversions) are then the ratio of the joint draws: a simulation of the
delta method's question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# scipy is imported inside the functions that use it: it takes about half a second to load, and most
# callers of this module (and of the CLI) never need it.

LEVEL_DAYS = 28
WEEKDAY_DAYS = 84
YOY_LAG = 364
MIN_BACKTESTS = 28
MIN_HISTORY = 7
MAX_BACKTESTS = 364
N_DRAWS = 2000


@dataclass(frozen=True)
class Forecast:
    """Forecast of the sum of each measure over the remaining days.

    ``point`` has shape (M,); ``draws`` has shape (D, M): joint draws of the same sums, one row per backtest
    origin (or bootstrap draw). ``method`` names how the draws were made.
    """

    point: np.ndarray
    draws: np.ndarray
    method: str
    n_backtests: int


def daily_path(
    history: np.ndarray, days: pd.DatetimeIndex, future: pd.DatetimeIndex, *, yoy: bool = True
) -> np.ndarray:
    """Point forecast of each future day for each measure.

    Parameters
    ----------
    history
        Shape (T, M): one row per consecutive day in ``days`` (missing days already filled with 0).
    days
        The T history days, consecutive, last one the forecast origin.
    future
        Days to forecast (after ``days[-1]``).
    yoy
        Apply the year-over-year index (where a year of history exists).

    Returns
    -------
    numpy.ndarray
        Shape (len(future), M).
    """
    y = np.asarray(history, dtype=float)
    n, m = y.shape
    if n == 0 or len(future) == 0:
        return np.zeros((len(future), m))
    level = y[-LEVEL_DAYS:].mean(axis=0)
    index = weekday_index(y[-WEEKDAY_DAYS:], days[-WEEKDAY_DAYS:])
    path = level[None, :] * index[np.asarray(future.dayofweek)]
    return path * yoy_index(y, days, future) if yoy else path


def weekday_index(y: np.ndarray, days: pd.DatetimeIndex) -> np.ndarray:
    """Shape (7, M): mean of each weekday / mean of the weekday means; 1 with under 2 weeks or no volume."""
    m = y.shape[1]
    if len(y) < 14:
        return np.ones((7, m))
    dow = np.asarray(days.dayofweek)
    onehot = np.eye(7)[dow]  # (T, 7)
    means = (onehot.T @ y) / onehot.sum(axis=0)[:, None]
    overall = means.mean(axis=0)
    safe = np.where(overall > 0, overall, 1.0)
    return np.where(overall[None, :] > 0, means / safe[None, :], 1.0)


def yoy_index(y: np.ndarray, days: pd.DatetimeIndex, future: pd.DatetimeIndex) -> np.ndarray:
    """Shape (len(future), M): same days last year / the 28 days before the origin last year (else 1)."""
    n, m = y.shape
    ones = np.ones((len(future), m))
    origin = n - 1
    base_end = origin - YOY_LAG
    if base_end - LEVEL_DAYS + 1 < 0:
        return ones
    base = y[base_end - LEVEL_DAYS + 1 : base_end + 1].mean(axis=0)
    pos = origin + np.arange(1, len(future) + 1) - YOY_LAG
    ok = pos <= origin
    if not ok.any():
        return ones
    pos = pos[ok]
    # 7-day centred mean at each position, cut at the origin (as pandas rolling(7, center=True))
    csum = np.vstack([np.zeros((1, m)), np.cumsum(y, axis=0)])
    lo, hi = np.maximum(pos - 3, 0), np.minimum(pos + 4, n)
    last_year = (csum[hi] - csum[lo]) / (hi - lo)[:, None]
    safe = np.where(base > 0, base, 1.0)
    out = ones.copy()
    out[ok] = np.clip(np.where(base[None, :] > 0, last_year / safe[None, :], 1.0), 0.25, 4.0)
    return out


def forecast_remaining(
    history: np.ndarray,
    days: pd.DatetimeIndex,
    horizon: int,
    *,
    skip: int = 0,
    seed: int = 0,
    counts: Sequence[bool] | None = None,
    value_of: Mapping[int, int] | None = None,
) -> Forecast:
    """Forecast the sum of each measure over days ``skip + 1 .. horizon`` after the origin, with draws.

    Parameters
    ----------
    history
        Shape (T, M), daily values of M measures over the consecutive days ``days`` (origin = last day).
    horizon
        Number of days after the origin to forecast.
    skip
        Leading days of the horizon left out of the sum (a period that starts after the origin).
    seed
        Seed of the bootstrap and of the count draws (the backtest draws are deterministic).
    counts
        Per measure, whether it is a count (orders, signups, deals): its draws are at least as wide as the
        counting noise of :func:`count_draws`. Default: no measure is.
    value_of
        ``{value measure: count measure}`` for money that comes per count (revenue per order): its draws
        keep their draw's value per count when the count's draws are widened.
    """
    y = np.asarray(history, dtype=float)
    m = y.shape[1]
    skip = max(0, min(skip, horizon))
    if horizon - skip <= 0:
        return Forecast(np.zeros(m), np.zeros((1, m)), "none (period over)", 0)
    first = series_start(y)
    y, days = y[first:], days[first:]
    future = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
    point = daily_path(y, days, future, yoy=False)[skip:].sum(axis=0)
    if len(y) < MIN_HISTORY:  # no spread can be read from so few days: no interval (NaN draws)
        return Forecast(point, np.full((1, m), np.nan), f"level (under {MIN_HISTORY} days: no interval)", 0)
    ratios = backtest_ratios(y, days, horizon, skip, yoy=False)
    use_yoy = np.zeros(m, dtype=bool)
    if len(y) >= YOY_LAG + LEVEL_DAYS:  # a year of history: last year's shape, unless backtests refuse it
        ratios_yoy = backtest_ratios(y, days, horizon, skip, yoy=True)
        n_yoy = len(range(YOY_LAG + LEVEL_DAYS - 1, len(y) - horizon))  # origins with a year before
        use_yoy = _msle(ratios_yoy) < _msle(ratios) if n_yoy >= MIN_BACKTESTS else np.ones(m, dtype=bool)
        point = np.where(use_yoy, daily_path(y, days, future)[skip:].sum(axis=0), point)
        ratios = np.where(use_yoy[None, :], ratios_yoy, ratios)
    name = "level_weekday_yoy" if use_yoy.any() else "level_weekday"
    ratios = ratios[np.isfinite(ratios[:, point > 0]).all(axis=1)]  # origins that forecast every measure
    rng = np.random.default_rng(seed)
    if len(ratios) >= max(MIN_BACKTESTS, horizon + LEVEL_DAYS):  # at least 2 independent errors
        draws, method = point[None, :] * widen(np.nan_to_num(ratios, nan=1.0), horizon - skip), "backtest"
    else:
        draws, method = _bootstrap(y, days, future[skip:], rng, use_yoy), "bootstrap"
    if counts is not None and any(counts):
        draws = count_draws(y, days, point, draws, counts, value_of or {}, horizon - skip, rng)
    return Forecast(point, draws, f"{name}+{method}", len(ratios))


def series_start(y: np.ndarray) -> int:
    """Index of the first day on which every measure with any volume had started (0 for none).

    A measure starts on its first non-zero day; measures that are all zero do not count.
    """
    started = y != 0
    has = started.any(axis=0)
    if not has.any():
        return 0
    return int(started[:, has].argmax(axis=0).max())


def _msle(ratios: np.ndarray) -> np.ndarray:
    """Mean squared log ratio per measure over its finite ratios (0 counts as log(0.01)); inf without any."""
    sq = np.log(np.clip(ratios, 0.01, None)) ** 2
    ok = np.isfinite(sq)
    n = ok.sum(axis=0)
    return np.where(n > 0, np.where(ok, sq, 0.0).sum(axis=0) / np.maximum(n, 1), np.inf)


def backtest_ratios(
    y: np.ndarray, days: pd.DatetimeIndex, horizon: int, skip: int = 0, *, yoy: bool = True
) -> np.ndarray:
    """Shape (B, M): actual / forecast sums over days ``skip+1 .. horizon`` from each earlier origin.

    Origins run newest first; one needs :data:`LEVEL_DAYS` days up to it and its whole horizon inside the
    history. A measure whose backtest forecast is 0 gets ratio NaN (no relative error can be read).
    """
    n = len(y)
    last_origin = n - 1 - horizon
    origins = range(last_origin, max(LEVEL_DAYS - 2, last_origin - MAX_BACKTESTS), -1)
    out = []
    for o in origins:
        future = days[o + 1 : o + 1 + horizon]
        fc = daily_path(y[: o + 1], days[: o + 1], future, yoy=yoy)[skip:].sum(axis=0)
        actual = y[o + 1 + skip : o + 1 + horizon].sum(axis=0)
        out.append(np.where(fc > 0, actual / np.where(fc > 0, fc, 1.0), np.nan))
    return np.array(out).reshape(len(out), y.shape[1])


def widen(ratios: np.ndarray, horizon: int, level: float = 0.8) -> np.ndarray:
    """Scale log backtest ratios by t/z: overlapping backtest windows hold few independent errors.

    Errors of origins closer than ``horizon + LEVEL_DAYS`` days share data, so B origins carry about
    ``2B / (horizon + LEVEL_DAYS)`` independent errors (at least 2); the empirical quantiles of so few are
    too narrow on average, and the Student-t quantile with that many degrees of freedom over the normal one
    widens them (as a prediction interval from an estimated spread does).
    """
    from scipy import stats

    df = max(2.0, 2.0 * len(ratios) / (horizon + LEVEL_DAYS))
    q = 0.5 + level / 2
    factor = stats.t.ppf(q, df) / stats.norm.ppf(q)
    logs = np.log(np.clip(ratios, 1e-6, None))
    return np.where(ratios > 0, np.exp(logs * factor), 0.0)


def _bootstrap(
    y: np.ndarray,
    days: pd.DatetimeIndex,
    future: pd.DatetimeIndex,
    rng: np.random.Generator,
    use_yoy: np.ndarray,
) -> np.ndarray:
    """Joint draws of the remaining sums from relative residuals of the last 28 days (see module doc).

    ``use_yoy`` (per measure) applies the year-over-year index to that measure's path, as its point does.
    """
    n, m = y.shape
    path = np.where(use_yoy[None, :], daily_path(y, days, future), daily_path(y, days, future, yoy=False))
    if n < 2:
        return path.sum(axis=0)[None, :].repeat(2, axis=0)
    recent = y[-LEVEL_DAYS:]
    level = recent.mean(axis=0)
    fitted = (
        level[None, :]
        * weekday_index(y[-WEEKDAY_DAYS:], days[-WEEKDAY_DAYS:])[np.asarray(days[-LEVEL_DAYS:].dayofweek)]
    )
    rel = np.where(fitted > 0, recent / np.where(fitted > 0, fitted, 1.0), 1.0)
    k = len(recent)
    # in-sample residuals are shrunk by the fitted parameters: the level, and 6 free weekday indices when
    # the index was estimated (2 weeks or more); widened back, never below zero
    fitted_params = 7 if min(n, WEEKDAY_DAYS) >= 14 else 1
    rel = np.clip(1.0 + (rel - 1.0) * np.sqrt(k / max(k - fitted_params, 1)), 0.0, None)
    pick_level = rng.integers(0, k, size=(N_DRAWS, k))
    level_factor = rel[pick_level].mean(axis=1)  # (D, M): bootstrap of the level's mean
    pick_day = rng.integers(0, k, size=(N_DRAWS, len(future)))
    daily = rel[pick_day] * path[None, :, :]  # (D, H, M)
    return daily.sum(axis=1) * level_factor


def count_draws(
    y: np.ndarray,
    days: pd.DatetimeIndex,
    point: np.ndarray,
    draws: np.ndarray,
    counts: Sequence[bool],
    value_of: Mapping[int, int],
    n_days: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Joint draws (N_DRAWS, M) in which every count is at least as uncertain as counting makes it.

    For a count, the remaining sum is negative binomial: the daily base rate has the Gamma posterior
    ``Gamma(K / phi + 1/2, scale phi / k)`` of ``K`` counts on the ``k`` level days (Jeffreys prior, scaled
    by the overdispersion ``phi``: the Pearson statistic of those days against the level x weekday fit per
    residual degree of freedom, at least 1), times the forecast path's days in level units, and the sum given
    that rate has variance ``phi`` times its mean (McCullagh & Nelder 1989, sec. 6.2). Where the 80% range of
    the empirical ``draws`` is narrower than that of the counting noise alone (the rate taken as known),
    these draws replace them in the order of the empirical draws' ranks; each value measure of ``value_of``
    is rescaled with its count, keeping its draw's value per count (the history's when the draw has none).
    """
    emp = draws[rng.integers(0, len(draws), N_DRAWS)]
    out = emp.copy()
    k = min(len(y), LEVEL_DAYS)
    recent = y[-k:]
    level = recent.mean(axis=0)
    fitted = level[None, :] * weekday_index(y[-WEEKDAY_DAYS:], days[-WEEKDAY_DAYS:])[days[-k:].dayofweek]
    # parameters fitted on the level days: the level, and the weekday index's 6 free values in the share
    # of its window (up to 84 days) that these days make up
    n_params = 1 + (6 * k / min(len(y), WEEKDAY_DAYS) if min(len(y), WEEKDAY_DAYS) >= 14 else 0)
    for c in np.flatnonzero(np.asarray(counts, dtype=bool)):
        f = fitted[:, c]
        pearson = np.where(f > 0, (recent[:, c] - f) ** 2 / np.where(f > 0, f, 1.0), 0.0)
        phi = max(1.0, pearson.sum() / max(k - n_params, 1))
        path_days = point[c] / level[c] if level[c] > 0 else float(n_days)  # remaining days, level units
        if _width(_counted(np.full(N_DRAWS, point[c]), phi, rng)) <= _width(emp[:, c]):
            continue  # the empirical draws hold at least the counting noise: they also hold the rest
        rate = rng.gamma(recent[:, c].sum() / phi + 0.5, phi / k, N_DRAWS) * path_days
        sums = _counted(rate, phi, rng)
        order = np.lexsort((rng.random(N_DRAWS), emp[:, c]))  # ranks of the empirical draws, ties at random
        out[order, c] = np.sort(sums)
        for v, of in value_of.items():
            if of == c:
                out[:, v] = out[:, c] * _per_count(emp[:, v], emp[:, c], y[:, v], y[:, c])
    return out


def _per_count(
    values: np.ndarray, counts: np.ndarray, hist_values: np.ndarray, hist_counts: np.ndarray
) -> np.ndarray:
    """Value per count of each draw; the history's where a draw has no count (0 when it has none either)."""
    total = hist_counts.sum()
    fallback = hist_values.sum() / total if total > 0 else 0.0
    return np.where(counts > 0, values / np.where(counts > 0, counts, 1.0), fallback)


def _counted(mean: np.ndarray, phi: float, rng: np.random.Generator) -> np.ndarray:
    """Counts of the given means with variance ``phi`` x mean (Poisson at phi = 1, else Gamma-Poisson)."""
    if phi > 1:
        mean = rng.gamma(np.where(mean > 0, mean, 1.0) / (phi - 1), phi - 1) * (mean > 0)
    return rng.poisson(mean).astype(float)


def _width(draws: np.ndarray) -> float:
    """Width of the central 80% of the draws."""
    lo, hi = np.quantile(draws, [0.1, 0.9])
    return float(hi - lo)
