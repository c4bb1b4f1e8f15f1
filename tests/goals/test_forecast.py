"""The period-end forecast on synthetic series whose truth is known: pattern, seasonality, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueroi.goals.forecast import daily_path, forecast_remaining, weekday_index

WEEKDAY = np.array([1.3, 1.2, 1.1, 1.0, 0.9, 0.7, 0.8])  # Monday .. Sunday, mean 1.0


def _days(n: int, start: str = "2024-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="D")


def test_noise_free_weekday_pattern_is_recovered_exactly() -> None:
    # 8 weeks at level 50 x the pattern; the next 10 days (Mon 26 Feb .. Wed 6 Mar 2024) are
    # 50 x (1.3 + 1.2 + 1.1 + 1.0 + 0.9 + 0.7 + 0.8 + 1.3 + 1.2 + 1.1) = 50 x 10.6 = 530.
    days = _days(56)
    y = (50 * WEEKDAY[days.dayofweek])[:, None]
    np.testing.assert_allclose(weekday_index(y, days)[:, 0], WEEKDAY)
    fc = forecast_remaining(y, days, 10)
    assert fc.point[0] == pytest.approx(530)
    assert np.quantile(fc.draws[:, 0], [0.1, 0.9]) == pytest.approx([530, 530])


def test_known_level_and_pattern_truth_lies_in_the_interval() -> None:
    # Poisson counts at 40 x pattern for 26 weeks; the next 30 days' true mean is 40 x sum of the pattern.
    rng = np.random.default_rng(11)
    days = _days(182 + 30)
    lam = 40 * WEEKDAY[days.dayofweek]
    y = rng.poisson(lam).astype(float)
    fc = forecast_remaining(y[:182, None], days[:182], 30)
    lo, hi = np.quantile(fc.draws[:, 0], [0.1, 0.9])
    assert lo <= lam[182:].sum() <= hi
    assert lo <= y[182:].sum() <= hi
    assert fc.point[0] == pytest.approx(lam[182:].sum(), rel=0.05)
    assert fc.method == "level_weekday+backtest" and fc.n_backtests > 100


def test_year_over_year_index_follows_last_years_season() -> None:
    # Two years of level 100 x pattern x (1 + 0.5 sin(2 pi t / 364)); forecast 28 days from day 728 + 7,
    # where the season climbs steeply. The plain level x weekday forecast lags the climb; the YoY index
    # (the same days 364 days earlier against the 28 days before them) tracks it.
    n, h = 735, 28
    days = _days(n + h, "2023-01-02")
    t = np.arange(n + h)
    mean = 100 * WEEKDAY[days.dayofweek] * (1 + 0.5 * np.sin(2 * np.pi * t / 364))
    y = np.random.default_rng(5).poisson(mean).astype(float)[:, None]
    truth = mean[n:].sum()
    fc = forecast_remaining(y[:n], days[:n], h)
    plain = daily_path(y[:n], days[:n], days[n:], yoy=False).sum()
    assert fc.method == "level_weekday_yoy+backtest"
    assert fc.point[0] == pytest.approx(truth, rel=0.08)  # seeds 5-8 land within 0.94-1.04 of the truth
    assert abs(plain - truth) / truth > 0.15  # the plain forecast lands at 0.78-0.81
    lo, hi = np.quantile(fc.draws[:, 0], [0.1, 0.9])
    assert lo <= truth <= hi


@pytest.mark.parametrize(("history", "horizon", "method"), [(120, 14, "backtest"), (40, 20, "bootstrap")])
def test_interval_coverage_is_close_to_nominal(history: int, horizon: int, method: str) -> None:
    # 200 simulated series (Poisson, level 50 x pattern): the 80% interval of the period's total must
    # hold the realised total in 70-90% of them (binomial sd of the rate at n = 200 is 2.8 points).
    rng = np.random.default_rng(2024)
    days = _days(history + horizon)
    lam = 50 * WEEKDAY[days.dayofweek]
    hits = 0
    for _ in range(200):
        y = rng.poisson(lam).astype(float)
        fc = forecast_remaining(y[:history, None], days[:history], horizon)
        lo, hi = np.quantile(fc.draws[:, 0], [0.1, 0.9])
        hits += lo <= y[history:].sum() <= hi
    assert fc.method.endswith(method)
    assert 0.70 <= hits / 200 <= 0.90


def test_joint_draws_keep_ratio_measures_together() -> None:
    # Revenue is exactly 3 x spend every day: every joint draw of the sums keeps ROAS at exactly 3.
    rng = np.random.default_rng(8)
    days = _days(150)
    spend = rng.gamma(20, 5, size=150) * WEEKDAY[days.dayofweek]
    y = np.column_stack([spend, 3 * spend])
    fc = forecast_remaining(y, days, 21)
    np.testing.assert_allclose(fc.draws[:, 1] / fc.draws[:, 0], 3.0)
    assert fc.draws[:, 0].std() > 0


def test_period_starting_later_skips_the_gap_days() -> None:
    # Constant 10 a day: a 7-day period starting 3 days after the origin sums to 70, not 100.
    days = _days(60)
    fc = forecast_remaining(np.full((60, 1), 10.0), days, 10, skip=3)
    assert fc.point[0] == pytest.approx(70)
    assert forecast_remaining(np.full((60, 1), 10.0), days, 0).point[0] == 0


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 120),
    horizon=st.integers(0, 40),
    scale=st.floats(0.01, 1000),
)
def test_forecast_is_nonnegative_and_scales_with_the_data(
    seed: int, n: int, horizon: int, scale: float
) -> None:
    # Invariants: counts and money never forecast below zero; measuring in cents instead of euros
    # multiplies the forecast and every draw by 100 (the method has no unit-dependent constant).
    rng = np.random.default_rng(seed)
    days = _days(n)
    y = rng.poisson(rng.uniform(0, 30), size=(n, 2)).astype(float)
    a = forecast_remaining(y, days, horizon)
    b = forecast_remaining(y * scale, days, horizon)
    assert (a.point >= 0).all() and (np.nan_to_num(a.draws) >= 0).all()
    np.testing.assert_allclose(b.point, a.point * scale, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b.draws, a.draws * scale, rtol=1e-9, atol=1e-9)
    assert a.method == b.method
