"""Parametric response curves: values, derivatives, adstock and curves.json, against hand computations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trueroi.budget import ParametricCurves, ResponseCurves, load_curves_json
from trueroi.budget.parametric import geometric_adstock
from trueroi.errors import DataValidationError, UsageError


def test_curve_values_match_hand_computation() -> None:
    curves = ParametricCurves(
        ["h", "l", "e"],
        [1, 1, 1],
        ["hill", "log", "exponential"],
        beta=[200.0, 50.0, 80.0],
        k=[100.0, 10.0, 20.0],
        s=[2.0, 1.0, 1.0],
    )
    out = curves.weekly_response(np.array([100.0, 10.0, 20.0]))
    # hill at x = k is beta / 2; log(1 + 10/10) = log 2; 1 - exp(-1)
    assert out.shape == (1, 3)
    np.testing.assert_allclose(out[0], [100.0, 50.0 * np.log(2.0), 80.0 * (1 - np.exp(-1.0))])
    # hill with s = 2 at x = 2k: 4 / (4 + 1) of beta
    np.testing.assert_allclose(curves.weekly_response(np.array([200.0, 0.0, 0.0]))[0], [160.0, 0.0, 0.0])


def test_marginal_response_matches_hand_derivatives() -> None:
    curves = ParametricCurves(
        ["h", "l", "e"],
        [1, 1, 1],
        ["hill", "log", "exponential"],
        beta=[200.0, 50.0, 80.0],
        k=[100.0, 10.0, 20.0],
        s=[1.0, 1.0, 1.0],
    )
    x = np.array([100.0, 10.0, 20.0])
    # hill s=1: beta k / (k + x)^2 = 200*100/200^2 = 0.5; log: beta / (k + x) = 2.5; exp: beta e^-1 / k
    np.testing.assert_allclose(curves.marginal_response(x)[0], [0.5, 2.5, 4.0 * np.exp(-1.0)])
    # at zero: hill s=1 -> beta / k
    assert curves.marginal_response(np.zeros(3))[0, 0] == pytest.approx(2.0)


def test_shapes_over_draws_and_extra_axes() -> None:
    rng = np.random.default_rng(1)
    curves = ParametricCurves(["a", "b"], [1, 2], "hill", beta=rng.uniform(1, 2, (7, 2)), k=1.0)
    assert isinstance(curves, ResponseCurves)
    assert curves.n_draws == 7
    assert curves.weekly_response(np.ones((4, 3, 2))).shape == (7, 4, 3, 2)
    assert curves.plan_response(np.ones((5, 2))).shape == (7, 5, 2)


def test_geometric_adstock_by_hand() -> None:
    # a_t = 0.5 a_{t-1} + 0.5 x_t from zero: x = 100, 0, 0 -> 50, 25, 12.5
    level = geometric_adstock(np.array([[100.0], [0.0], [0.0]]), np.array([[0.5]]))
    np.testing.assert_allclose(level[0, :, 0], [50.0, 25.0, 12.5])


def test_plan_response_settles_to_weekly_response() -> None:
    curves = ParametricCurves(["a", "b"], [1, 1], "log", beta=[10.0, 5.0], k=[3.0, 4.0], alpha=[0.6, 0.3])
    plan = np.tile([7.0, 2.0], (200, 1))
    np.testing.assert_allclose(
        curves.plan_response(plan)[0, -1], curves.weekly_response(np.array([7.0, 2.0]))[0]
    )
    # first week: only (1 - alpha) of the spend is in effect
    first = curves.plan_response(plan)[0, 0]
    np.testing.assert_allclose(first, [10 * np.log1p(0.4 * 7 / 3), 5 * np.log1p(0.7 * 2 / 4)])


def test_curves_json_round_trip(tmp_path) -> None:
    curves = ParametricCurves(
        ["a", "b"],
        [3.0, 4.0],
        ["hill", "log"],
        beta=[[1.0, 2.0], [1.5, 2.0]],
        k=2.0,
        s=[0.8, 1.0],
        alpha=0.3,
        kpi="conversions",
    )
    path = tmp_path / "curves.json"
    path.write_text(json.dumps(curves.to_dict()))
    again = load_curves_json(path)
    assert again.channels == ["a", "b"] and again.kpi == "conversions" and again.n_draws == 2
    x = np.array([[1.0, 5.0], [2.0, 0.5]])
    np.testing.assert_allclose(again.weekly_response(x), curves.weekly_response(x))


def test_invalid_curves_are_rejected(tmp_path) -> None:
    with pytest.raises(UsageError, match="alpha"):
        ParametricCurves(["a"], [1.0], alpha=1.0)
    with pytest.raises(UsageError, match="curve"):
        ParametricCurves(["a"], [1.0], curve="cubic")
    path = tmp_path / "curves.json"
    path.write_text(json.dumps({"channels": [{"name": "a", "current_spend": 1, "beta": "x", "k": 1}]}))
    with pytest.raises(DataValidationError, match="column beta"):
        load_curves_json(path)
    path.write_text("{not json")
    with pytest.raises(DataValidationError, match="not valid JSON"):
        load_curves_json(path)
