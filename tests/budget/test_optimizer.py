"""The optimizer against closed-form optima derived by hand, brute-force grids and the KKT conditions."""

from __future__ import annotations

import numpy as np
import pytest

from trueroi.budget import ParametricCurves, optimize_budget
from trueroi.budget.evaluate import Objective, draw_values, marginal_matrix
from trueroi.errors import UsageError

B1, B2, K1, K2 = 300.0, 200.0, 100.0, 50.0


def test_two_log_curves_closed_form() -> None:
    # max b1 log(1 + x1/k1) + b2 log(1 + x2/k2) s.t. x1 + x2 = B.
    # Stationarity: b_i / (k_i + x_i) = lam  =>  x_i = b_i / lam - k_i;
    # summing: 1/lam = (B + k1 + k2) / (b1 + b2)
    # => x_i = b_i (B + k1 + k2) / (b1 + b2) - k_i.  With B = 500: x1 = 300*650/500 - 100 = 290, x2 = 210.
    curves = ParametricCurves(["a", "b"], [250, 250], "log", beta=[B1, B2], k=[K1, K2])
    plan = optimize_budget(curves, 500.0)
    np.testing.assert_allclose(plan.allocation, [290.0, 210.0], rtol=1e-6)
    assert plan.marginal_roi == pytest.approx(500.0 / 650.0, rel=1e-6)  # lam = (b1 + b2) / (B + k1 + k2)
    assert plan.binding == ["total"]


def test_two_hill_curves_closed_form() -> None:
    # Hill with shape 1: r = b x / (x + k), r' = b k / (x + k)^2 = lam  =>  x_i = sqrt(b_i k_i / lam) - k_i.
    # Summing: 1 / sqrt(lam) = (B + k1 + k2) / (sqrt(b1 k1) + sqrt(b2 k2)).
    budget = 500.0
    root = np.sqrt([B1 * K1, B2 * K2])  # 173.205..., 100
    expected = root * (budget + K1 + K2) / root.sum() - [K1, K2]
    curves = ParametricCurves(["a", "b"], [250, 250], "hill", beta=[B1, B2], k=[K1, K2], s=1.0)
    np.testing.assert_allclose(optimize_budget(curves, budget).allocation, expected, rtol=1e-6)


def test_profit_objective_closed_form_leaves_budget_unspent() -> None:
    # profit = m b log(1 + x/k) - x  =>  m b / (k + x) = 1  =>  x = m b - k:
    # 0.5*300 - 100 = 50 and 0.5*200 - 50 = 50.
    curves = ParametricCurves(["a", "b"], [250, 250], "log", beta=[B1, B2], k=[K1, K2])
    plan = optimize_budget(curves, 500.0, objective="profit", margin_rate=0.5)
    np.testing.assert_allclose(plan.allocation, [50.0, 50.0], rtol=1e-6)
    assert "total" not in plan.binding
    assert plan.marginal_roi == pytest.approx(1.0)


def test_upper_bound_binds_and_rest_goes_to_other_channel() -> None:
    # Unconstrained optimum gives a = 290; capping a at 200 leaves b = 300 and a's marginal ROI above b's:
    # a: 300 / (100 + 200) = 1.0, b: 200 / (50 + 300) = 0.5714...
    curves = ParametricCurves(["a", "b"], [250, 250], "log", beta=[B1, B2], k=[K1, K2])
    plan = optimize_budget(curves, 500.0, maximum={"a": 200})
    np.testing.assert_allclose(plan.allocation, [200.0, 300.0], rtol=1e-6)
    np.testing.assert_allclose(plan.mroi, [1.0, 200.0 / 350.0], rtol=1e-5)
    assert "a:max" in plan.binding
    assert plan.explanation[0]["bound"] == "max" and "capped" in plan.explanation[0]["reason"]


def test_relative_bounds_max_change_and_lock() -> None:
    curves = ParametricCurves(["a", "b", "c"], [100, 100, 100], "log", beta=[400, 100, 100], k=[50, 50, 50])
    plan = optimize_budget(curves, 300.0, max_change=0.2, locked=["c"])
    # a wants far more than +20%: held at 120; c locked at 100; b gets the remaining 80 = its -20% floor.
    np.testing.assert_allclose(plan.allocation, [120.0, 80.0, 100.0], rtol=1e-6)
    assert set(plan.binding) == {"a:max_change", "b:max_change", "c:locked", "total"}
    plan = optimize_budget(curves, 300.0, minimum={"b": "90%"}, maximum={"a": "1.1x"})
    # a capped at 1.1 x 100; b and c have equal curves and split the remaining 190 (b's 90 floor is slack).
    np.testing.assert_allclose(plan.allocation, [110.0, 95.0, 95.0], rtol=1e-6)
    assert set(plan.binding) == {"a:max", "total"}


def test_kkt_marginal_rois_equal_except_at_bounds() -> None:
    rng = np.random.default_rng(7)
    n = 8
    curves = ParametricCurves(
        [f"c{i}" for i in range(n)],
        rng.uniform(50, 150, n),
        ["hill", "log"] * 4,
        beta=rng.uniform(100, 500, (50, n)),
        k=rng.uniform(40, 200, (50, n)),
        s=rng.uniform(0.5, 1.0, (50, n)),
    )
    plan = optimize_budget(curves, 800.0, maximum={"c0": 30, "c3": 40}, minimum={"c5": 200})
    assert plan.allocation.sum() == pytest.approx(800.0, rel=1e-8)
    # KKT, derived from the Lagrangian: interior channels share one marginal ROI; a channel at its upper
    # bound has a higher one, a channel at its lower bound a lower one. Marginals from our own finite
    # differences of the response, not from the optimizer.
    curves_fd = _WithoutDerivative(curves)
    m = marginal_matrix(curves_fd, plan.allocation).mean(axis=0)
    at_hi = np.isclose(plan.allocation, plan.bounds.upper, rtol=1e-7)
    at_lo = np.isclose(plan.allocation, plan.bounds.lower, rtol=1e-7, atol=1e-6)
    interior = ~(at_hi | at_lo)
    assert interior.sum() >= 3
    np.testing.assert_allclose(m[interior], m[interior][0], rtol=1e-4)
    assert np.all(m[at_hi] >= m[interior][0] * (1 - 1e-6))
    assert np.all(m[at_lo] <= m[interior][0] * (1 + 1e-6))
    assert {"c0:max", "c3:max", "c5:min"} <= set(plan.binding)


class _WithoutDerivative:
    """The same curves seen through the bare protocol (no analytic marginal)."""

    def __init__(self, curves: ParametricCurves) -> None:
        self.channels, self.current_spend, self.kpi, self.n_draws = (
            curves.channels,
            curves.current_spend,
            curves.kpi,
            curves.n_draws,
        )
        self.weekly_response, self.plan_response = curves.weekly_response, curves.plan_response


def test_finite_difference_path_matches_analytic() -> None:
    rng = np.random.default_rng(3)
    curves = ParametricCurves(
        list("abcd"),
        [10, 20, 30, 40],
        "hill",
        beta=rng.uniform(50, 100, (30, 4)),
        k=rng.uniform(10, 40, (30, 4)),
        s=0.9,
    )
    exact = optimize_budget(curves, 120.0).allocation
    np.testing.assert_allclose(
        optimize_budget(_WithoutDerivative(curves), 120.0).allocation, exact, rtol=1e-5
    )


def test_s_shaped_hill_matches_brute_force_grid() -> None:
    # Two S-shaped Hill curves (shape 3): the marginal ROI rises, then falls. Brute force over x1 on a fine
    # grid with x2 = B - x1.
    curves = ParametricCurves(["a", "b"], [50, 50], "hill", beta=[100.0, 60.0], k=[80.0, 30.0], s=3.0)
    budget = 120.0
    grid = np.linspace(0.0, budget, 120_001)
    values = curves.weekly_response(np.stack([grid, budget - grid], axis=1))[0].sum(axis=1)
    best = grid[np.argmax(values)]
    plan = optimize_budget(curves, budget)
    assert plan.allocation[0] == pytest.approx(best, abs=2e-3)
    assert plan.expected.mean == pytest.approx(values.max(), rel=1e-8)


def test_q10_risk_raises_the_lower_quantile() -> None:
    # Channel a: high mean, very uncertain; b: lower mean, certain. Brute force the 10% quantile on a grid.
    rng = np.random.default_rng(11)
    d = 400
    beta = np.stack([rng.lognormal(np.log(300), 0.8, d), np.full(d, 220.0)], axis=1)
    curves = ParametricCurves(["a", "b"], [50, 50], "log", beta=beta, k=[60.0, 60.0])
    budget = 100.0
    mean_plan = optimize_budget(curves, budget)
    q_plan = optimize_budget(curves, budget, risk="q10")
    obj = Objective("revenue", 1.0, 0.0)

    def q10(x: np.ndarray) -> float:
        return float(np.quantile(draw_values(curves, x, obj), 0.10))

    grid = np.linspace(0, budget, 2001)
    brute = max(q10(np.array([g, budget - g])) for g in grid)
    assert q_plan.allocation[0] < mean_plan.allocation[0]  # less on the uncertain channel
    assert q10(q_plan.allocation) >= q10(mean_plan.allocation)
    assert q10(q_plan.allocation) == pytest.approx(brute, rel=2e-3)
    assert q_plan.expected.mean <= mean_plan.expected.mean + 1e-9


def test_uncertainty_summary_by_hand() -> None:
    # Two equally likely draws: revenue scale 1x and 3x. Mean = 2x the unit response, p_beats_current is 1
    # when the plan beats the current one in both draws.
    curves = ParametricCurves(
        ["a", "b"], [90, 10], "log", beta=[[100.0, 100.0], [300.0, 300.0]], k=[10.0, 10.0]
    )
    plan = optimize_budget(curves, 100.0, weeks=4)
    np.testing.assert_allclose(plan.allocation, [50.0, 50.0], rtol=1e-6)
    unit = 2 * np.log(6.0)  # per week, beta = 1: 2 log(1 + 50/10)
    assert plan.expected.mean == pytest.approx(4 * 200 * unit, rel=1e-6)
    assert plan.expected.lower == pytest.approx(4 * unit * (100 + 0.05 * 200), rel=1e-6)  # linear quantile
    assert plan.expected.p_beats_current == 1.0


def test_bad_requests_raise_usage_errors() -> None:
    curves = ParametricCurves(["a", "b"], [10, 10], "log", beta=[1, 1], k=[1, 1])
    with pytest.raises(UsageError, match="minimums add up"):
        optimize_budget(curves, 10.0, minimum={"a": 8, "b": 8})
    with pytest.raises(UsageError, match="unknown channel 'z'"):
        optimize_budget(curves, 10.0, maximum={"z": 1})
    with pytest.raises(UsageError, match="contradictory"):
        optimize_budget(curves, 10.0, minimum={"a": 5}, maximum={"a": 4})
    with pytest.raises(UsageError, match="margin rate"):
        optimize_budget(curves, 10.0, objective="margin")
    with pytest.raises(UsageError, match="risk"):
        optimize_budget(curves, 10.0, risk="worst")
    with pytest.raises(UsageError, match="amount"):
        optimize_budget(curves, 10.0, minimum={"a": "lots"})


def test_channel_with_extreme_marginal_does_not_derail_the_multiplier_search() -> None:
    # Found by hypothesis: a Hill channel with shape < 1 capped at 1e-300 has a marginal ROI of ~1e150 at its
    # cap. The other channels must still share one marginal ROI and spend the budget: for two log curves
    # with equal k the closed form is x_i = b_i (B + 2k) / (b1 + b2) - k = 300 * 30 / 400 - 5 = 17.5 and 2.5.
    curves = ParametricCurves(
        ["a", "b", "c"],
        [5, 5, 5],
        ["log", "log", "hill"],
        beta=[300.0, 100.0, 700.0],
        k=[5.0, 5.0, 6.0],
        s=[1.0, 1.0, 0.5],
    )
    plan = optimize_budget(curves, 20.0, maximum={"c": 1e-300})
    np.testing.assert_allclose(plan.allocation[:2], [17.5, 2.5], rtol=1e-6)
    assert "c:max" in plan.binding


@pytest.mark.parametrize("budget", [40.0, 80.0, 120.0, 200.0])
def test_mixture_of_concave_and_s_shaped_draws_matches_brute_force(budget: float) -> None:
    # Channel a's two draws: a small concave Hill (shape 0.5) and a large S-shaped one (shape 4). Its
    # posterior-mean marginal ROI falls, rises, then falls again (two branches). Brute force over x_a on a
    # fine grid with x_b = B - x_a. (Found by a hypothesis run: more budget gave less, before the solver
    # looked at both falling branches.)
    curves = ParametricCurves(
        ["a", "b"],
        [50, 50],
        "hill",
        beta=[[40.0, 120.0], [400.0, 120.0]],
        k=[[5.0, 60.0], [80.0, 60.0]],
        s=[[0.5, 1.0], [4.0, 1.0]],
    )
    grid = np.linspace(0.0, budget, 200_001)
    values = curves.weekly_response(np.stack([grid, budget - grid], axis=1)).mean(axis=0).sum(axis=1)
    plan = optimize_budget(curves, budget)
    assert plan.expected.mean == pytest.approx(values.max(), rel=1e-7)
    assert plan.allocation[0] == pytest.approx(grid[np.argmax(values)], abs=5e-3 * budget)
