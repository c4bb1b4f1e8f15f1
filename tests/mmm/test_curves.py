"""Response curves of a geo model: national spend split over geos, the geo curves summed, and the budget
planner on that national sum, against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from trueroi.budget import ResponseCurves, optimize_budget
from trueroi.mmm.curves import MMMResponseCurves


def _geo_curves() -> MMMResponseCurves:
    """Two channels in two geos, Michaelis-Menten saturation x / (1 + x) of spend / spend scale, weekly.

    Channel a: geo spend scales 100 and 300, geo shares 0.25 and 0.75; channel b: scales 200 and 200, shares
    0.5 and 0.5. In every geo, share / scale = 1 / 400, so geo g's weekly response to national spend S is
    kpi_scale_g * beta_g * S / (S + 400): the national curve is A * S / (S + 400) with
    A_a = 1000 * 0.5 + 2000 * 0.2 = 900 and A_b = 1000 * 0.04 + 2000 * 0.03 = 100.
    """
    return MMMResponseCurves(
        ["a", "b"],
        np.array([600.0, 600.0]),
        "revenue",
        "geometric",
        "michaelis_menten",
        {
            "adstock_alpha": np.array([[0.5, 0.5]]),
            "sat_k": np.array([[1.0, 1.0]]),
            "beta": np.array([[[0.5, 0.04], [0.2, 0.03]]]),  # (draw, geo, channel)
        },
        np.array([[100.0, 200.0], [300.0, 200.0]]),
        np.array([1000.0, 2000.0]),
        period_days=7,
        l_max=4,
        geo_share=np.array([[0.25, 0.5], [0.75, 0.5]]),
    )


def test_national_response_is_the_sum_of_the_geo_curves() -> None:
    curves = _geo_curves()
    assert isinstance(curves, ResponseCurves) and curves.n_geos == 2 and curves.n_draws == 1
    got = curves.weekly_response(np.array([[400.0, 100.0], [1200.0, 0.0]]))
    assert got.shape == (1, 2, 2)
    # a at 400: geo 1 spends 100 of scale 100 -> 1000 * 0.5 * 1/2 = 250; geo 2 spends 300 of 300 -> 2000 *
    # 0.2 * 1/2 = 200; together 450 = 900 * 400 / 800. b at 100: 100 * 100 / 500 = 20. a at 1200: 900 * 3/4.
    np.testing.assert_allclose(got[0], [[450.0, 20.0], [675.0, 0.0]], rtol=1e-12)


def test_flat_plan_settles_at_the_weekly_response() -> None:
    curves = _geo_curves()
    plan = np.tile([400.0, 100.0], (6, 1))  # 6 weeks > l_max = 4: carry-over has settled
    by_week = curves.plan_response(plan)
    assert by_week.shape == (1, 6, 2)
    np.testing.assert_allclose(by_week[0, -1], [450.0, 20.0], rtol=1e-12)
    # week 1 sees only the first lag's weight 1 / (1 + 0.5 + 0.25 + 0.125) of the settled media
    first = 400.0 / 1.875
    np.testing.assert_allclose(by_week[0, 0, 0], 900 * first / (first + 400), rtol=1e-12)


def test_the_planner_plans_on_the_national_sum_of_geo_curves() -> None:
    # A_c S / (S + K) with K = 400 for both: marginal A K / (S + K)^2; equal marginals at budget B give
    # S_c + K = (B + 2K) sqrt(A_c K) / (sqrt(A_a K) + sqrt(A_b K)); sqrt(900 * 400) = 600,
    # sqrt(100 * 400) = 200, B = 1200: S_a = 2000 * 600 / 800 - 400 = 1100, S_b = 2000 * 200 / 800 - 400 = 100
    plan = optimize_budget(_geo_curves(), 1200.0)
    np.testing.assert_allclose(plan.allocation, [1100.0, 100.0], rtol=1e-6)
    assert plan.expected.mean == pytest.approx(900 * 1100 / 1500 + 100 * 100 / 500, rel=1e-9)  # 680
    # both marginal returns equal 600^2 / 1500^2 = 0.16 at the optimum
    np.testing.assert_allclose(plan.mroi, [0.16, 0.16], rtol=1e-5)


def test_a_national_model_is_the_one_geo_case() -> None:
    params = {
        "adstock_alpha": np.array([[0.5, 0.5]]),
        "sat_k": np.array([[1.0, 1.0]]),
        "beta": np.array([[0.9, 0.1]]),
    }
    national = MMMResponseCurves(
        ["a", "b"],
        [600.0, 600.0],
        "revenue",
        "geometric",
        "michaelis_menten",
        params,
        [400.0, 400.0],
        1000.0,
        7,
        4,
    )
    assert national.n_geos == 1
    # 1000 * 0.9 * S / (S + 400) = the geo case's channel a; 1000 * 0.1 * ... = its channel b
    np.testing.assert_allclose(
        national.weekly_response(np.array([400.0, 100.0])), _geo_curves().weekly_response([400.0, 100.0])
    )
