"""Holdout lift statistics against hand computation, statsmodels and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import betaln
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
    samplesize_proportions_2indep_onetail,
)

from trueroi.errors import UsageError
from trueroi.experiments.lift import analyze_lift, minimum_detectable_lift, prob_test_better, sample_size

CASES = [
    (10_000, 300, 10_000, 250),
    (50_000, 1_210, 5_000, 101),
    (800, 12, 900, 9),
    (20_000, 400, 20_000, 430),
]


def test_point_estimates_match_hand_computation() -> None:
    r = analyze_lift(10_000, 300, 8_000, 200, test_revenue=30_000.0, control_revenue=20_000.0, spend=5_000.0)
    # baseline: 200 / 8000 = 2.5% of 10 000 test users = 250 conversions
    assert r.baseline_conversions == pytest.approx(250.0)
    assert r.incremental_conversions.mean == pytest.approx(50.0)
    assert r.lift.mean == pytest.approx(300 / 250 - 1)  # 0.2
    # incremental revenue 30 000 - 20 000 * 10 000 / 8 000 = 5 000; iROAS 5 000 / 5 000; CPIC 5 000 / 50
    assert r.incremental_revenue.mean == pytest.approx(5_000.0)
    assert r.iroas.mean == pytest.approx(1.0)
    assert r.cost_per_incremental_conversion.mean == pytest.approx(100.0)
    # pooled z-test by hand: p = 500 / 18 000
    pooled = 500 / 18_000
    z = (0.03 - 0.025) / math.sqrt(pooled * (1 - pooled) * (1 / 10_000 + 1 / 8_000))
    assert r.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))


@pytest.mark.parametrize(("n_t", "c_t", "n_c", "c_c"), CASES)
def test_intervals_and_p_value_match_statsmodels(n_t: int, c_t: int, n_c: int, c_c: int) -> None:
    r = analyze_lift(n_t, c_t, n_c, c_c, level=0.9)
    low, high = confint_proportions_2indep(c_t, n_t, c_c, n_c, method="newcomb", compare="diff", alpha=0.1)
    assert (r.rate_difference.lower, r.rate_difference.upper) == pytest.approx((low, high), rel=1e-9)
    assert (r.incremental_conversions.lower, r.incremental_conversions.upper) == pytest.approx(
        (n_t * low, n_t * high), rel=1e-9
    )
    low, high = confint_proportions_2indep(
        c_t, n_t, c_c, n_c, method="log-adjusted", compare="ratio", alpha=0.1
    )
    assert (r.lift.lower, r.lift.upper) == pytest.approx((low - 1, high - 1), rel=1e-9)
    assert (r.test_rate.lower, r.test_rate.upper) == pytest.approx(
        proportion_confint(c_t, n_t, alpha=0.1, method="beta"), rel=1e-9
    )
    assert (r.control_rate.lower, r.control_rate.upper) == pytest.approx(
        proportion_confint(c_c, n_c, alpha=0.1, method="beta"), rel=1e-9
    )
    _, p_sm = proportions_ztest([c_t, c_c], [n_t, n_c])
    assert r.p_value == pytest.approx(p_sm, rel=1e-9)
    one_sided = analyze_lift(n_t, c_t, n_c, c_c, alternative="larger").p_value
    assert one_sided == pytest.approx(proportions_ztest([c_t, c_c], [n_t, n_c], alternative="larger")[1])


def _miller_prob_b_beats_a(conv_a: int, n_a: int, conv_b: int, n_b: int) -> float:
    """Evan Miller's closed form for P(p_B > p_A) with Beta(1 + conv, 1 + n - conv) posteriors."""
    a_a, b_a, a_b, b_b = 1 + conv_a, 1 + n_a - conv_a, 1 + conv_b, 1 + n_b - conv_b
    return sum(
        math.exp(betaln(a_a + i, b_a + b_b) - math.log(b_b + i) - betaln(1 + i, b_b) - betaln(a_a, b_a))
        for i in range(a_b)
    )


@pytest.mark.parametrize(
    ("n_t", "c_t", "n_c", "c_c"), [(100, 14, 100, 10), (1_000, 40, 900, 41), (60, 3, 80, 2)]
)
def test_probability_of_positive_lift_matches_closed_form(n_t: int, c_t: int, n_c: int, c_c: int) -> None:
    assert prob_test_better(c_t, n_t, c_c, n_c) == pytest.approx(
        _miller_prob_b_beats_a(c_c, n_c, c_t, n_t), abs=1e-6
    )


def test_revenue_bootstrap_with_totals_matches_binomial_variance() -> None:
    n_t, c_t, n_c, c_c, aov_t, aov_c = 20_000, 600, 20_000, 500, 80.0, 75.0
    r = analyze_lift(
        n_t,
        c_t,
        n_c,
        c_c,
        test_revenue=c_t * aov_t,
        control_revenue=c_c * aov_c,
        spend=10_000.0,
        level=0.9,
        n_bootstrap=20_000,
        seed=1,
    )
    # only the number of converters varies: Var = aov^2 n p (1 - p) per group
    sd = math.sqrt(aov_t**2 * c_t * (1 - c_t / n_t) + aov_c**2 * c_c * (1 - c_c / n_c))
    half = 1.6448536 * sd
    assert r.incremental_revenue.mean == pytest.approx(600 * 80 - 500 * 75)
    assert r.incremental_revenue.upper - r.incremental_revenue.lower == pytest.approx(2 * half, rel=0.03)
    assert r.iroas.lower == pytest.approx(r.incremental_revenue.lower / 10_000)
    again = analyze_lift(
        n_t,
        c_t,
        n_c,
        c_c,
        test_revenue=c_t * aov_t,
        control_revenue=c_c * aov_c,
        spend=10_000.0,
        n_bootstrap=20_000,
        seed=1,
    )
    assert again.incremental_revenue == r.incremental_revenue  # same seed, same draws


def test_revenue_bootstrap_with_order_values_counts_value_spread() -> None:
    rng = np.random.default_rng(7)
    n, c_t, c_c = 5_000, 250, 200
    values_t, values_c = rng.gamma(2.0, 40.0, c_t), rng.gamma(2.0, 40.0, c_c)
    r = analyze_lift(
        n, c_t, n, c_c, test_revenue=values_t, control_revenue=values_c, n_bootstrap=8_000, seed=3
    )
    # resampling users: Var(total) = n (p E[v^2] - p^2 E[v]^2) per group, with the sample moments
    var = sum(
        n * (c / n * np.mean(v**2) - (c / n) ** 2 * np.mean(v) ** 2)
        for c, v in ((c_t, values_t), (c_c, values_c))
    )
    assert r.incremental_revenue.upper - r.incremental_revenue.lower == pytest.approx(
        2 * 1.6448536 * math.sqrt(var), rel=0.05
    )


def test_cost_per_incremental_conversion_is_unbounded_when_lift_may_be_zero() -> None:
    r = analyze_lift(10_000, 205, 10_000, 200, spend=1_000.0)
    assert r.incremental_conversions.lower < 0
    assert math.isinf(r.cost_per_incremental_conversion.upper)
    assert r.cost_per_incremental_conversion.lower == pytest.approx(1_000 / r.incremental_conversions.upper)


@pytest.mark.parametrize(
    ("p_c", "lift", "ratio", "alt"),
    [(0.02, 0.1, 1.0, "two-sided"), (0.05, 0.2, 0.25, "larger"), (0.3, -0.1, 2.0, "two-sided")],
)
def test_sample_size_matches_statsmodels(p_c: float, lift: float, ratio: float, alt: str) -> None:
    n = sample_size(p_c, lift, alpha=0.05, power=0.8, control_ratio=ratio, alternative=alt)
    expected = samplesize_proportions_2indep_onetail(
        p_c * lift, p_c, 0.8, ratio=ratio, alpha=0.05, alternative=alt
    )
    assert n == pytest.approx(expected, rel=1e-9)
    # Cohen's arcsine effect size (NormalIndPower) is a different approximation: agree within a few percent
    h = proportion_effectsize(p_c * (1 + lift), p_c)
    n_h = NormalIndPower().solve_power(
        effect_size=h,
        alpha=0.05,
        power=0.8,
        ratio=ratio,
        alternative="two-sided" if alt == "two-sided" else "larger",
    )
    assert n == pytest.approx(n_h, rel=0.05)


def test_minimum_detectable_lift_inverts_sample_size() -> None:
    n = sample_size(0.03, 0.15, alpha=0.1, power=0.9)
    assert minimum_detectable_lift(0.03, n, alpha=0.1, power=0.9) == pytest.approx(0.15, rel=1e-6)
    assert minimum_detectable_lift(0.03, 4 * n, alpha=0.1, power=0.9) < 0.08  # ~ halves with 4x users


def test_newcombe_interval_covers_at_nominal_rate_in_simulation() -> None:
    rng = np.random.default_rng(11)
    n_t, n_c, p_t, p_c = 4_000, 4_000, 0.036, 0.03
    truth = n_t * (p_t - p_c)
    hits = sum(
        r.incremental_conversions.lower <= truth <= r.incremental_conversions.upper
        for r in (
            analyze_lift(n_t, int(rng.binomial(n_t, p_t)), n_c, int(rng.binomial(n_c, p_c)))
            for _ in range(600)
        )
    )
    assert 0.86 <= hits / 600 <= 0.94  # nominal 0.90; binomial sd of the rate ~0.012


def test_bad_counts_raise_usage_errors() -> None:
    with pytest.raises(UsageError, match="between 0 and"):
        analyze_lift(100, 120, 100, 10)
    with pytest.raises(UsageError, match="positive number of users"):
        analyze_lift(0, 0, 100, 10)
    with pytest.raises(UsageError, match="both groups"):
        analyze_lift(100, 10, 100, 10, test_revenue=5.0)
    with pytest.raises(UsageError, match="level"):
        analyze_lift(100, 10, 100, 10, level=90)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _groups(draw):
    n_t = draw(st.integers(20, 200_000))
    n_c = draw(st.integers(20, 200_000))
    return n_t, draw(st.integers(1, n_t - 1)), n_c, draw(st.integers(1, n_c - 1))


@settings(max_examples=60, deadline=None)
@given(_groups(), st.floats(0.5, 0.99))
def test_interval_invariants(groups: tuple[int, int, int, int], level: float) -> None:
    n_t, c_t, n_c, c_c = groups
    r = analyze_lift(n_t, c_t, n_c, c_c, level=level, spend=100.0)
    for interval in (r.lift, r.incremental_conversions, r.test_rate, r.control_rate, r.rate_difference):
        assert interval.lower <= interval.mean <= interval.upper
    assert r.test_rate.lower >= 0.0 and r.test_rate.upper <= 1.0
    assert 0.0 <= r.prob_positive <= 1.0 and 0.0 <= r.p_value <= 1.0
    assert r.cost_per_incremental_conversion.lower <= r.cost_per_incremental_conversion.upper
    # swapping the groups mirrors the difference and the probability
    s = analyze_lift(n_c, c_c, n_t, c_t, level=level)
    assert s.rate_difference.lower == pytest.approx(-r.rate_difference.upper, abs=1e-12)
    assert s.prob_positive == pytest.approx(1 - r.prob_positive, abs=1e-8)
