"""Scenario comparison and the response chart."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trueroi.budget import ParametricCurves
from trueroi.budget.scenarios import compare_plans, plan_vector, read_plan_file, response_chart
from trueroi.errors import DataValidationError, UsageError


def _curves() -> ParametricCurves:
    # two draws: response scale 1x and 2x
    return ParametricCurves(
        ["a", "b"], [10.0, 30.0], "log", beta=[[10.0, 10.0], [20.0, 20.0]], k=[10.0, 10.0]
    )


def test_compare_values_plans_by_hand() -> None:
    rows = compare_plans(
        _curves(), {"even": np.array([20.0, 20.0])}, objective="profit", margin_rate=0.5, weeks=2
    )
    current, even = rows
    assert current["name"] == "current" and even["name"] == "even"
    # current: per week, beta (log 2 + log 4) = beta log 8; mean beta = 15 -> KPI over 2 weeks = 30 log 8
    assert current["kpi"]["mean"] == pytest.approx(30 * np.log(8.0))
    # even: 2 beta log 3 = beta log 9 > log 8 in every draw, so it beats current with probability 1
    assert even["kpi"]["mean"] == pytest.approx(30 * np.log(9.0))
    assert even["p_beats_current"] == 1.0 and current["p_beats_current"] == 0.0
    # profit over 2 weeks = 0.5 * KPI - 2 * 40; ROAS = KPI / spend; ROI = (margin - spend) / spend
    assert even["expected"]["mean"] == pytest.approx(0.5 * 30 * np.log(9.0) - 80.0)
    assert even["roas"] == pytest.approx(30 * np.log(9.0) / 80.0)
    assert even["roi"] == pytest.approx((0.5 * 30 * np.log(9.0) - 80.0) / 80.0)
    # 90% interval over two draws (linear interpolation): 5% and 95% between the 1x and 2x draws
    low = 2 * 10 * np.log(9.0) * 1.05
    assert even["kpi"]["lower"] == pytest.approx(low)


def test_plan_vector_and_file_errors(tmp_path) -> None:
    curves = _curves()
    np.testing.assert_allclose(plan_vector(curves, {"b": 2, "a": 1}), [1.0, 2.0])
    with pytest.raises(UsageError, match="missing channels"):
        plan_vector(curves, {"a": 1})
    with pytest.raises(UsageError, match="unknown channels"):
        plan_vector(curves, {"a": 1, "b": 2, "z": 3})
    with pytest.raises(UsageError, match="non-negative"):
        plan_vector(curves, {"a": -1, "b": 2})
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"allocation": {"a": 5, "b": 6}, "expected": {}}))
    assert read_plan_file(path) == {"a": 5, "b": 6}
    path.write_text("[1, 2]")
    with pytest.raises(DataValidationError, match="not a JSON object"):
        read_plan_file(path)


def test_response_chart_has_a_curve_band_and_plan_points() -> None:
    fig = response_chart(_curves(), {"even": np.array([20.0, 20.0])})
    names = [t.name for t in fig.data if t.mode == "markers"]
    assert names.count("current") == 2 and names.count("even") == 2  # one point per channel and plan
    curve = [t for t in fig.data if t.mode == "lines"][0]
    # mean response of channel a at its largest grid spend (1.5 x 20 = 30): 15 log(1 + 30/10)
    assert curve.y[-1] == pytest.approx(15 * np.log(4.0))
