"""Baselines as pure functions: small examples computed by hand, and a simulation with known truth."""

from __future__ import annotations

from math import sqrt

import numpy as np
import pytest

from trueroi.monitor.baseline import (
    anscombe,
    count_check,
    inverse_anscombe,
    mad,
    ratio_baseline,
    robust_sigma,
    seasonal_baseline,
    seasonal_level,
    trailing_ratio,
    trailing_windows,
)


def test_mad_by_hand() -> None:
    # median of [1, 2, 3, 4, 100] is 3; |x - 3| = [2, 1, 0, 1, 97], whose median is 1
    assert mad(np.array([1, 2, 3, 4, 100.0])) == 1.0
    assert robust_sigma(np.array([1, 2, 3, 4, 100.0])) == pytest.approx(1.4826)
    # even count: median of [1, 3, 5, 9] is 4; |x - 4| = [3, 1, 1, 5], median (1 + 3) / 2 = 2; NaN ignored
    assert mad(np.array([1, 3, np.nan, 5, 9])) == 2.0
    assert np.isnan(mad(np.array([np.nan])))


def test_anscombe_by_hand() -> None:
    assert anscombe(0.0) == pytest.approx(2 * sqrt(3 / 8))
    assert anscombe(9.0) == pytest.approx(2 * sqrt(9.375))
    assert inverse_anscombe(anscombe(9.0)) == pytest.approx(9.0)
    assert inverse_anscombe(0.5) == 0.0  # below 2 sqrt(3/8): no count


def test_trailing_windows() -> None:
    w = trailing_windows(np.array([1.0, 2, 3, 4]), 2)
    assert np.isnan(w[0]).all()
    assert np.isnan(w[1, 0]) and w[1, 1] == 1.0
    assert w[3].tolist() == [2.0, 3.0]


def test_seasonal_level_by_hand() -> None:
    # period 2 (two "weekdays"), three cycles, level over the last 2 steps; the next step is slot 0.
    w = np.array([[10.0, 20, 12, 22, 11, 21]])
    # slot 0 holds 10, 12, 11 (median 11), slot 1 holds 20, 22, 21 (median 21); median of medians 16,
    # so season = [-5, +5]; deseasonalised d = [15, 15, 17, 17, 16, 16].
    # level = median(16, 16) = 16; the level before = median(17, 17) = 17; slope = (16 - 17) / 2 = -0.5
    # per step; the next step lies (2 + 1) / 2 = 1.5 steps after the level's centre:
    # expected = 16 - 0.5 x 1.5 - 5 = 10.25.
    # Noise: medians of the previous two d values predict d[2:]: [15, 16, 17, 16.5] against
    # [17, 17, 16, 16] miss by [2, 1, -1, -0.5]; their median is 0.25, absolute deviations
    # [1.75, 0.75, 1.25, 0.75] have median 1.0, so sigma = 1.4826.
    expected, sigma = seasonal_level(w, period=2, level_window=2, trend=True)
    assert expected[0] == pytest.approx(10.25)
    assert sigma[0] == pytest.approx(1.4826)
    expected, _ = seasonal_level(w, period=2, level_window=2, trend=False)
    assert expected[0] == pytest.approx(16 - 5)


def test_seasonal_baseline_count_by_hand() -> None:
    # a flat count series of 9 a day: every transformed value is 2 sqrt(9.375), no season, no trend, zero
    # MAD, so the scale is the Poisson floor 1 and the range is 2 sqrt(9.375) +- 4 on the Anscombe scale.
    y = np.array([9.0] * 56 + [0.0])
    b = seasonal_baseline(y, period=7, cycles=8, kind="count", threshold=4.0)
    a9 = 2 * sqrt(9.375)
    assert b.expected[-1] == pytest.approx(9.0)
    assert b.lower[-1] == pytest.approx(((a9 - 4) / 2) ** 2 - 3 / 8)
    assert b.upper[-1] == pytest.approx(((a9 + 4) / 2) ** 2 - 3 / 8)
    assert b.z[-1] == pytest.approx(2 * sqrt(3 / 8) - a9)  # about -4.9: a tracking drop to zero
    assert np.isnan(b.z[: 4 * 7]).all()  # fewer than four weeks of history: no judgement


def test_seasonal_baseline_money_by_hand() -> None:
    # spend of 100 a day: offset = 0.05 x 100 = 5, log scale, zero MAD -> the relative floor 0.175.
    y = np.array([100.0] * 56 + [0.0, 300.0])
    b = seasonal_baseline(y, period=7, cycles=8, kind="money", threshold=4.0, relative_floor=0.175)
    assert b.expected[56] == pytest.approx(100.0)
    assert b.lower[56] == pytest.approx(105 * np.exp(-0.7) - 5)
    assert b.upper[56] == pytest.approx(105 * np.exp(0.7) - 5)
    assert b.z[56] == pytest.approx((np.log(5) - np.log(105)) / 0.175)  # a spend stop: about -17
    assert b.z[57] == pytest.approx((np.log(305) - np.log(105)) / 0.175)  # spend x3: about 6


def test_outlier_in_history_moves_nothing() -> None:
    rng = np.random.default_rng(3)
    weekday = np.array([1.0, 1.1, 1.2, 1.0, 0.9, 0.6, 0.5])
    y = rng.poisson(200 * np.tile(weekday, 10)).astype(float)
    broken = y.copy()
    broken[40] = 0.0  # one day of a broken tag inside the history
    clean_b = seasonal_baseline(y, kind="count")
    broken_b = seasonal_baseline(broken, kind="count")
    # the last day's expectation barely moves (medians), and stays near the true 200 x 0.5 = 100
    assert broken_b.expected[-1] == pytest.approx(clean_b.expected[-1], rel=0.03)
    assert broken_b.expected[-1] == pytest.approx(100, rel=0.1)


def test_weekday_pattern_and_false_alarms_on_simulated_poisson() -> None:
    # known truth: Poisson counts with a weekday pattern and a slow trend; nothing is anomalous.
    rng = np.random.default_rng(11)
    n = 7 * 60
    weekday = np.array([1.0, 1.1, 1.2, 1.0, 0.9, 0.6, 0.5])
    mean = 50 * np.tile(weekday, n // 7) * np.linspace(1.0, 1.3, n)
    y = rng.poisson(mean).astype(float)
    b = seasonal_baseline(y, kind="count")
    judged = ~np.isnan(b.z)
    assert (np.abs(b.z[judged]) >= 4).mean() < 0.005
    # the expectation follows the weekday pattern and the trend: within 10 % of the true mean
    rel = np.abs(b.expected[judged] - mean[judged]) / mean[judged]
    assert np.median(rel) < 0.1


def test_ratio_baseline_by_hand() -> None:
    # conversions given spend, trailing window of 4 days
    num = np.array([1.0, 2, 1, 0, 0])
    den = np.array([10.0, 20, 10, 10, 30])
    rho, b = ratio_baseline(num, den, window=4, min_den_days=4)
    assert rho[4] == pytest.approx(4 / 50)
    assert b.expected[4] == pytest.approx(0.08 * 30)
    # the four days before have no expectation of their own (less than four days of history each), so
    # there are no residuals to scale by and the Poisson floor 1 applies: z = 2 sqrt(0 + 3/8) - 2 sqrt(2.775)
    assert b.z[4] == pytest.approx(2 * sqrt(3 / 8) - 2 * sqrt(2.4 + 3 / 8))
    assert b.upper[4] == pytest.approx(((2 * sqrt(2.775) + 4) / 2) ** 2 - 3 / 8)
    assert np.isnan(b.z[:4]).all()  # fewer than four days with spend before


def test_count_check_scale_by_hand() -> None:
    # expectations given: 4, 4, 4, 4, 4, then judge 4 against 4 with a window of 4 steps.
    # residuals 2 sqrt(n + 3/8) - 2 sqrt(4 + 3/8) for n = [1, 9, 4, 16]:
    num = np.array([1.0, 9, 4, 16, 4])
    a = [2 * sqrt(n + 3 / 8) - 2 * sqrt(4 + 3 / 8) for n in (1, 9, 4, 16)]  # [-1.83, 1.94, 0, 4.06]
    centre = (a[2] + a[1]) / 2  # median of four: mean of the middle two (0 and 1.94)
    dev = sorted(abs(x - centre) for x in a)
    sigma = 1.4826 * (dev[1] + dev[2]) / 2
    b = count_check(num, np.full(5, 4.0), window=4)
    assert sigma > 1  # above the Poisson floor: this series is overdispersed
    assert b.z[4] == pytest.approx(0.0)
    assert b.upper[4] == pytest.approx(((2 * sqrt(4.375) + 4 * sigma) / 2) ** 2 - 3 / 8)


def test_ratio_baseline_units() -> None:
    # revenue judged in orders: with an average order value of 50, revenue 500 on a day that should
    # bring 100 is 10 orders where 2 were expected
    num = np.array([100.0] * 10 + [500.0])
    den = np.array([20.0] * 11)
    _, b = ratio_baseline(num, den, window=10, unit=50.0, min_den_days=5)
    assert b.expected[-1] == pytest.approx(100.0)
    assert b.z[-1] == pytest.approx(2 * sqrt(10 + 3 / 8) - 2 * sqrt(2 + 3 / 8))


def test_trailing_ratio_skips_steps_whose_numerator_is_unknown() -> None:
    # 8 days of 10 clicks; sessions 5 a day but not known (not tracked) on days 2 and 3. Before day 8 the
    # ratio is the 6 known days' 30 sessions over their 60 clicks = 0.5, not 30 / 80 = 0.375.
    sessions = np.array([5, 5, np.nan, np.nan, 5, 5, 5, 5, 5.0])
    clicks = np.full(9, 10.0)
    rho = trailing_ratio(sessions, clicks, window=8, min_den_days=6)
    assert rho[8] == pytest.approx(0.5)
    # with 5 known days (before day 7) there are too few: no ratio
    assert np.isnan(rho[7])


def test_a_new_series_has_no_seasonal_baseline_before_four_weeks() -> None:
    # NaN before the series starts (day 30) is no history: no judgement until 28 values are known, and
    # then the expectation is the series' own level (40), not a median pulled to 0 by the days before.
    y = np.concatenate([np.full(30, np.nan), np.full(40, 40.0)])
    b = seasonal_baseline(y)
    assert np.isnan(b.expected[:58]).all()
    assert b.expected[58:] == pytest.approx(np.full(12, 40.0))
