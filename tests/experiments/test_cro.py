"""CRO A/B tests and their projection onto ROI by channel, against hand computation, statsmodels, scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from trueroi.errors import DataValidationError, UsageError
from trueroi.experiments.cro import project_cro, rate_change, read_ab_test
from trueroi.experiments.lift import Interval

CHANNELS = pd.DataFrame(
    {
        "channel": ["search", "meta", "affiliate"],
        "spend": [1_000.0, 500.0, 0.0],
        "conversions": [50.0, 20.0, 10.0],
        "revenue": [5_000.0, 1_800.0, 900.0],
        "margin": [2_000.0, 700.0, 300.0],
    }
)


def test_two_to_three_percent_is_fifty_percent_more_conversions_at_the_same_spend() -> None:
    change = rate_change(0.02, 0.03)
    assert change == pytest.approx(0.5)
    out = project_cro(CHANNELS, change).set_index("channel")
    search = out.loc["search"]
    assert search["conversions_after"] == pytest.approx(75.0)
    assert search["cpa_before"] == pytest.approx(20.0) and search["cpa_after"] == pytest.approx(1_000 / 75)
    assert search["roi_before"] == pytest.approx((2_000 - 1_000) / 1_000)
    assert search["roi_after"] == pytest.approx((3_000 - 1_000) / 1_000)
    assert search["roas_after"] == pytest.approx(7_500 / 1_000)
    assert math.isnan(out.loc["affiliate", "roi_after"])  # zero spend: no ratio, no error
    total = out.loc["total"]  # ratio of sums, not mean of ratios
    assert total["spend"] == pytest.approx(1_500.0) and total["conversions_after"] == pytest.approx(120.0)
    assert total["cpa_after"] == pytest.approx(1_500 / 120)
    assert total["roi_after"] == pytest.approx((3_000 * 1.5 - 1_500) / 1_500)


def test_revenue_per_visitor_change_keeps_conversions() -> None:
    out = project_cro(CHANNELS, 0.1, metric="revenue_per_visitor").set_index("channel")
    assert out.loc["meta", "conversions_after"] == pytest.approx(20.0)
    assert out.loc["meta", "roi_after"] == pytest.approx((770 - 500) / 500)


def test_projection_of_an_interval_gives_bounds() -> None:
    out = project_cro(CHANNELS, Interval(0.3, 0.1, 0.5)).set_index("channel")
    assert out.loc["search", "conversions_after_lower"] == pytest.approx(55.0)
    assert out.loc["search", "roi_after_upper"] == pytest.approx((3_000 - 1_000) / 1_000)
    with pytest.raises(DataValidationError, match="margin"):
        project_cro(CHANNELS.drop(columns=["margin"]), 0.1)
    with pytest.raises(UsageError, match="remove every conversion"):
        project_cro(CHANNELS, -1.5)


def test_conversion_rate_test_matches_statsmodels() -> None:
    r = read_ab_test(10_000, 200, 10_000, 260, level=0.95)
    assert r.relative_change.mean == pytest.approx(0.3)
    low, high = confint_proportions_2indep(260, 10_000, 200, 10_000, compare="ratio", method="log-adjusted")
    assert (r.relative_change.lower, r.relative_change.upper) == pytest.approx((low - 1, high - 1))
    assert r.p_value == pytest.approx(proportions_ztest([260, 200], [10_000, 10_000])[1])


def test_revenue_per_visitor_test_matches_welch_t_test() -> None:
    rng = np.random.default_rng(3)
    orders_c, orders_v = rng.gamma(2.0, 50.0, 150), rng.gamma(2.0, 60.0, 170)
    r = read_ab_test(
        3_000,
        150,
        3_100,
        170,
        control_revenue=orders_c,
        variant_revenue=orders_v,
        metric="revenue_per_visitor",
        seed=1,
    )
    per_visitor_c = np.concatenate([orders_c, np.zeros(3_000 - 150)])
    per_visitor_v = np.concatenate([orders_v, np.zeros(3_100 - 170)])
    assert r.p_value == pytest.approx(stats.ttest_ind(per_visitor_v, per_visitor_c, equal_var=False).pvalue)
    assert r.relative_change.mean == pytest.approx(per_visitor_v.mean() / per_visitor_c.mean() - 1)
    assert r.relative_change.lower < r.relative_change.mean < r.relative_change.upper
    with pytest.raises(UsageError, match="revenue of both groups"):
        read_ab_test(3_000, 150, 3_100, 170, metric="revenue_per_visitor")
