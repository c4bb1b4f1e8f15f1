"""Simulated geo panels with a known injected effect, for tests, benchmarks and demos.

KPI of location ``i`` in period ``t``: ``base_i * (1 + g_i (f_t - 1)) + e_it`` where ``f_t`` is a common
factor (weekly and yearly seasonality, a slow trend and an AR(1) shock), ``g_i ~ N(1, 0.2^2)`` the
location's sensitivity to it, ``base_i`` log-normal around 100 and ``e_it ~ N(0, (noise * base_i)^2)``.
The treatment multiplies the treated locations' KPI in the test periods by ``1 + effect``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SimulatedGeo:
    """A simulated panel and its truth: ``att`` per treated location and period, ``incremental`` total."""

    data: pd.DataFrame
    treated: list[str]
    start: pd.Timestamp
    end: pd.Timestamp
    att: float
    incremental: float


def simulate_geo_panel(
    n_locations: int = 40,
    n_periods: int = 120,
    n_test: int = 21,
    n_treated: int = 4,
    effect: float = 0.0,
    noise: float = 0.05,
    seed: int | np.random.Generator | None = 0,
    freq: str = "D",
    first_date: str = "2024-01-01",
) -> SimulatedGeo:
    """Simulate a long panel (columns ``location``, ``date``, ``kpi``) with a known relative effect.

    Parameters
    ----------
    n_locations, n_periods
        Panel size; the last ``n_test`` periods are the test period.
    n_treated
        Treated locations, drawn at random.
    effect
        Relative lift injected in treated locations over the test (0.05 = +5%).
    noise
        Idiosyncratic noise sd relative to each location's base level.
    seed
        Seed or generator.
    freq
        ``"D"`` for days, anything else for weeks (starting on Mondays).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_periods)
    shock = np.zeros(n_periods)
    for i in range(1, n_periods):
        shock[i] = 0.7 * shock[i - 1] + rng.normal(0, 0.03)
    if freq == "D":  # day-of-week and yearly seasonality
        season = 0.15 * np.sin(2 * np.pi * t / 7) + 0.1 * np.sin(2 * np.pi * t / 365.25)
    else:  # weekly data: yearly seasonality only
        season = 0.15 * np.sin(2 * np.pi * t / 52.18)
    factor = 1 + season + 0.0005 * t + shock
    base = np.exp(rng.normal(np.log(100), 0.5, n_locations))
    sens = rng.normal(1, 0.2, n_locations)
    kpi = (
        base * (1 + sens * (factor[:, None] - 1)) + rng.normal(0, 1, (n_periods, n_locations)) * noise * base
    )
    names = [f"L{i:03d}" for i in range(n_locations)]
    treated_idx = np.sort(rng.choice(n_locations, n_treated, replace=False))
    test = slice(n_periods - n_test, n_periods)
    uplift = effect * kpi[test][:, treated_idx]
    kpi[test, treated_idx] += uplift
    dates = pd.date_range(first_date, periods=n_periods, freq=freq if freq == "D" else "W-MON")
    data = pd.DataFrame(
        {
            "location": np.tile(names, n_periods),
            "date": np.repeat(dates, n_locations),
            "kpi": kpi.ravel(),
        }
    )
    return SimulatedGeo(
        data=data,
        treated=[names[i] for i in treated_idx],
        start=dates[n_periods - n_test],
        end=dates[-1],
        att=float(uplift.sum(axis=1).mean() / n_treated),
        incremental=float(uplift.sum()),
    )
