"""Day-level simulation of the demo shop: media spend, true incremental orders, baseline demand.

The data-generating process (the "truth" every model in trueroi is checked against):

    orders_c(t) ~ Poisson(scale * beta_c * season(t) * hill(adstock_c(spend_c / scale)(t)))

with a normalised geometric adstock (weights (1 - decay) * decay^k sum to 1, so a flat spend of x gives an
adstocked x) and a Hill saturation x^n / (x^n + K^n). beta_c is solved so that the channel's expected
incremental revenue per euro equals its ``iroas`` at the simulated spend. Baseline demand follows the same
season and a trend; organic search gets a lagged lift from content production (a very slow adstock).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trueroi.demo import spec


def geometric_adstock(x: np.ndarray, decay: float) -> np.ndarray:
    """Normalised geometric carry-over along the last axis: a_t = (1 - decay) x_t + decay a_{t-1}."""
    out = np.empty_like(x, dtype=float)
    acc = np.zeros(x.shape[:-1])
    for t in range(x.shape[-1]):
        acc = (1.0 - decay) * x[..., t] + decay * acc
        out[..., t] = acc
    return out


def hill(x: np.ndarray, half: float, shape: float) -> np.ndarray:
    """Hill saturation x^n / (x^n + K^n), 0 at 0 and 1/2 at the half-saturation point K."""
    xn = np.power(np.maximum(x, 0.0), shape)
    return xn / (xn + half**shape)


def calendar() -> pd.DatetimeIndex:
    return pd.date_range(spec.START, spec.END, freq="D")


def seasonality(days: pd.DatetimeIndex) -> np.ndarray:
    """Demand multiplier: yearly wave peaking in December, a Black-Friday week, weekday pattern, trend."""
    doy = days.dayofyear.to_numpy()
    yearly = 1.0 + 0.28 * np.cos(2 * np.pi * (doy - 350) / 365.25)
    bf = np.zeros(len(days))
    for year in sorted(set(days.year)):
        nov1 = pd.Timestamp(year=year, month=11, day=1)
        thanksgiving = nov1 + pd.Timedelta(days=(3 - nov1.weekday()) % 7 + 21)  # 4th Thursday
        dist = (days - (thanksgiving + pd.Timedelta(days=1))).days.to_numpy()  # Black Friday
        bf += 0.9 * np.exp(-0.5 * (dist / 3.0) ** 2)
    weekday = np.array([1.0, 0.97, 0.96, 0.98, 1.02, 1.05, 1.08])[days.weekday]
    trend = 1.0 + 0.08 * np.arange(len(days)) / 365.25
    return yearly * (1.0 + bf) * weekday * trend


def spend_paths(rng: np.random.Generator, days: pd.DatetimeIndex) -> np.ndarray:
    """Daily EUR spend per paid channel at scale 1, shape (C, T): drifting budgets, flights, a Q4 peak."""
    n = len(days)
    weeks = (np.arange(n) // 7).astype(int)
    n_weeks = weeks.max() + 1
    q4 = np.isin(days.month, (10, 11, 12)).astype(float)
    out = np.empty((len(spec.PAID), n))
    for i, ch in enumerate(spec.PAID):
        level = np.zeros(n_weeks)
        for w in range(1, n_weeks):  # mean-reverting weekly budget drift
            level[w] = 0.85 * level[w - 1] + rng.normal(0, 0.18)
        path = np.exp(level[weeks]) * (1.0 + 0.3 * q4) * rng.lognormal(0, 0.12, n)
        if ch.flighting:  # three-week flights, about a third of them dark
            blocks = rng.random(n // 21 + 1) < 0.68
            path *= np.where(blocks[np.arange(n) // 21], 1.0, 0.04)
        out[i] = path * ch.spend / path.mean()
    return out


@dataclass
class DayPlan:
    """Everything decided per day before individual orders and sessions are drawn."""

    days: pd.DatetimeIndex
    season: np.ndarray  # (T,)
    spend: np.ndarray  # (C, T) EUR, scaled
    expected: np.ndarray  # (C, T) expected incremental orders, scaled
    caused: np.ndarray  # (C, T) drawn incremental orders
    baseline: np.ndarray  # (T,) drawn baseline new-customer orders
    content: np.ndarray  # (T,) drawn orders caused by content production (organic search lift)
    content_cost: np.ndarray  # (T,) EUR per day, scaled
    beta: np.ndarray  # (C,) expected orders per day at full saturation, scale 1
    half: np.ndarray  # (C,) half-saturation EUR per day, scale 1


def mix_aov(mix: tuple[float, ...]) -> float:
    return float(sum(w * p.aov for w, p in zip(mix, spec.PRODUCTS, strict=True)))


def plan_days(rng: np.random.Generator, scale: float) -> DayPlan:
    """Draw the day-level plan: spend, expected and realised incremental orders, baseline and content."""
    days = calendar()
    season = seasonality(days)
    spend1 = spend_paths(rng, days)
    n_ch, n = spend1.shape
    half = np.array([ch.saturation * ch.spend for ch in spec.PAID])
    shape = np.array([ch.shape for ch in spec.PAID])
    response = np.stack(
        [hill(geometric_adstock(spend1[i], ch.decay), half[i], shape[i]) for i, ch in enumerate(spec.PAID)]
    )
    aov = np.array([mix_aov(ch.product_mix) for ch in spec.PAID])
    target_revenue = np.array([ch.iroas for ch in spec.PAID]) * spend1.sum(axis=1)
    beta = target_revenue / (aov * (season * response).sum(axis=1))
    expected = scale * beta[:, None] * season[None, :] * response
    caused = rng.poisson(expected)
    baseline = rng.poisson(scale * spec.BASELINE_ORDERS * season)
    content_cost1 = np.full(n, spec.CONTENT["monthly_cost"] * 12 / 365.25)
    content_resp = geometric_adstock(content_cost1, spec.CONTENT["decay"])  # ramps up slowly: the lag
    content_rate = (
        spec.CONTENT["iroas"]
        * content_cost1.sum()
        / (mix_aov((0.5, 0.3, 0.2)) * (season * content_resp).sum())
    )
    content = rng.poisson(scale * content_rate * season * content_resp)
    return DayPlan(
        days, season, spend1 * scale, expected, caused, baseline, content, content_cost1 * scale, beta, half
    )
