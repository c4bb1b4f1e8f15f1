"""The inverse questions against closed forms on log curves."""

from __future__ import annotations

import numpy as np
import pytest

from trueroi.budget import ParametricCurves
from trueroi.budget.targets import budget_for_mroi, budget_for_target
from trueroi.errors import UsageError

BETA, K = np.array([300.0, 200.0]), np.array([100.0, 50.0])


def _curves() -> ParametricCurves:
    return ParametricCurves(["a", "b"], [100, 100], "log", beta=BETA, k=K)


def test_smallest_budget_for_a_revenue_target_closed_form() -> None:
    # At budget B (both channels interior) the optimum is x_i = b_i (B + K) / S - k_i with S = b1 + b2 and
    # K = k1 + k2, so 1 + x_i / k_i = b_i (B + K) / (S k_i) and the optimal revenue is
    # V(B) = S log(B + K) + sum_i b_i log(b_i / (S k_i)). Inverting: B = exp((T - c) / S) - K.
    s, k_sum = BETA.sum(), K.sum()
    c = float(np.sum(BETA * np.log(BETA / (s * K))))
    target = 500.0
    expected_budget = np.exp((target - c) / s) - k_sum
    plan = budget_for_target(_curves(), target)
    assert plan.budget == pytest.approx(expected_budget, rel=1e-5)
    assert plan.expected.mean == pytest.approx(target, rel=1e-5)
    # over a 4-week horizon the weekly budget is the one reaching target / 4 per week
    plan4 = budget_for_target(_curves(), 4 * target, weeks=4)
    assert plan4.budget == pytest.approx(expected_budget, rel=1e-5)


def test_unreachable_target_names_the_most_the_curves_can_do() -> None:
    curves = ParametricCurves(["a"], [10], "exponential", beta=[100.0], k=[10.0])  # saturates at 100 per week
    with pytest.raises(UsageError, match="out of reach"):
        budget_for_target(curves, 150.0)
    with pytest.raises(UsageError, match="at most 50.00"):
        budget_for_target(curves, 80.0, maximum={"a": 10 * np.log(2)})  # 100 (1 - e^-ln2) = 50
    with pytest.raises(UsageError, match="profit"):
        budget_for_target(curves, 10.0, objective="profit", margin_rate=0.5)


def test_budget_where_marginal_roi_falls_to_a_level() -> None:
    # b_i / (k_i + x_i) = m  =>  x_i = b_i / m - k_i: at m = 1.5, a = 100, b = 83.33...
    plan = budget_for_mroi(_curves(), 1.5)
    np.testing.assert_allclose(plan.allocation, [100.0, 200.0 / 1.5 - 50.0], rtol=1e-7)
    np.testing.assert_allclose(plan.mroi, [1.5, 1.5], rtol=1e-6)
    assert plan.budget == pytest.approx(100.0 + 200.0 / 1.5 - 50.0, rel=1e-7)
    assert "total" not in plan.binding


def test_break_even_on_margin() -> None:
    # margin rate 0.4: 0.4 b_i / (k_i + x_i) = 1  =>  x = 0.4 b - k = 20 for a; b would be 30 but its
    # maximum of 10 binds.
    plan = budget_for_mroi(_curves(), 1.0, objective="margin", margin_rate=0.4, maximum={"b": 10})
    np.testing.assert_allclose(plan.allocation, [20.0, 10.0], rtol=1e-7)
    assert plan.binding == ["b:max"]
    with pytest.raises(UsageError, match="positive"):
        budget_for_mroi(_curves(), 0.0)
