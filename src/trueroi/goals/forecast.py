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

The year-over-year index is kept for a measure only where it lowers the backtest error (mean squared log
ratio of actual to forecast, below) against the same forecast without it: on a sparse series (a few orders a
week) last year's days are noise, and the method name then reads ``"level_weekday+..."``.

The interval comes from the forecast's own past errors (an empirical prediction interval from backtest
residuals, FPP3 ch. 5.5): the same forecast is made at every earlier origin whose horizon ended by the data's
last day, and the ratio of actual to forecast over the horizon is kept. Draws of the remaining sum are the
current forecast times those ratios, taken jointly across measures at the same origin so that ratio KPIs
(ROAS = revenue / spend) keep the correlation between their numerator and denominator. With fewer than
:data:`MIN_BACKTESTS` origins the method falls back to ``"level_weekday_yoy+bootstrap"``: each remaining day
gets the relative residual of a random recent day (joint across measures), and the level is resampled from
its own 28 days (a bootstrap of the mean). With under :data:`MIN_HISTORY` (7) days of history there is no
interval at all (the draws are NaN).
"""

from __future__ import annotations

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
    history: np.ndarray, days: pd.DatetimeIndex, horizon: int, *, skip: int = 0, seed: int = 0
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
        Seed of the bootstrap fallback (the backtest draws are deterministic).
    """
    y = np.asarray(history, dtype=float)
    m = y.shape[1]
    skip = max(0, min(skip, horizon))
    if horizon - skip <= 0:
        return Forecast(np.zeros(m), np.zeros((1, m)), "none (period over)", 0)
    future = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
    point = daily_path(y, days, future, yoy=False)[skip:].sum(axis=0)
    if len(y) < MIN_HISTORY:  # no spread can be read from so few days: no interval (NaN draws)
        return Forecast(point, np.full((1, m), np.nan), f"level (under {MIN_HISTORY} days: no interval)", 0)
    ratios = backtest_ratios(y, days, horizon, skip, yoy=False)
    use_yoy = np.zeros(m, dtype=bool)
    n_yoy = len(range(YOY_LAG + LEVEL_DAYS - 1, len(y) - horizon))  # backtest origins with a year before
    if n_yoy >= MIN_BACKTESTS:
        ratios_yoy = backtest_ratios(y, days, horizon, skip, yoy=True)
        use_yoy = _msle(ratios_yoy) < _msle(ratios)
        point = np.where(use_yoy, daily_path(y, days, future)[skip:].sum(axis=0), point)
        ratios = np.where(use_yoy[None, :], ratios_yoy, ratios)
    name = "level_weekday_yoy" if use_yoy.any() else "level_weekday"
    if len(ratios) >= MIN_BACKTESTS:
        draws = point[None, :] * widen(ratios, horizon - skip)
        return Forecast(point, draws, f"{name}+backtest", len(ratios))
    draws = _bootstrap(y, days, future[skip:], np.random.default_rng(seed))
    return Forecast(point, draws, f"{name}+bootstrap", len(ratios))


def _msle(ratios: np.ndarray) -> np.ndarray:
    """Mean squared log ratio per measure (ratios of 0 count as log(0.01))."""
    return (np.log(np.clip(ratios, 0.01, None)) ** 2).mean(axis=0)


def backtest_ratios(
    y: np.ndarray, days: pd.DatetimeIndex, horizon: int, skip: int = 0, *, yoy: bool = True
) -> np.ndarray:
    """Shape (B, M): actual / forecast sums over days ``skip+1 .. horizon`` from each earlier origin.

    Origins run newest first; one needs :data:`LEVEL_DAYS` days up to it and its whole horizon inside the
    history. A measure whose backtest forecast is 0 gets ratio 1 (nothing to scale).
    """
    n = len(y)
    last_origin = n - 1 - horizon
    origins = range(last_origin, max(LEVEL_DAYS - 2, last_origin - MAX_BACKTESTS), -1)
    out = []
    for o in origins:
        future = days[o + 1 : o + 1 + horizon]
        fc = daily_path(y[: o + 1], days[: o + 1], future, yoy=yoy)[skip:].sum(axis=0)
        actual = y[o + 1 + skip : o + 1 + horizon].sum(axis=0)
        out.append(np.where(fc > 0, actual / np.where(fc > 0, fc, 1.0), 1.0))
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
    y: np.ndarray, days: pd.DatetimeIndex, future: pd.DatetimeIndex, rng: np.random.Generator
) -> np.ndarray:
    """Joint draws of the remaining sums from relative residuals of the last 28 days (see module doc)."""
    n, m = y.shape
    path = daily_path(y, days, future)
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
