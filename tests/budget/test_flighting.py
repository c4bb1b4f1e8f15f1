"""Week-by-week plans with carry-over, against a brute-force grid."""

from __future__ import annotations

import numpy as np
import pytest

from trueroi.budget import ParametricCurves
from trueroi.budget.flighting import optimize_flighting


def test_two_week_single_channel_matches_brute_force() -> None:
    # One channel, two weeks, adstock retention 0.6 from zero carry-over: spend in week 1 also works in
    # week 2, spend in week 2 has its carry-over cut off by the horizon, so the optimum front-loads.
    # Brute force: x1 on a fine grid, x2 = 2 * 100 - x1; levels a1 = 0.4 x1, a2 = 0.6 a1 + 0.4 x2.
    curves = ParametricCurves(["a"], [100.0], "hill", beta=[500.0], k=[60.0], s=1.0, alpha=[0.6])
    grid = np.linspace(0.0, 200.0, 200_001)
    a1 = 0.4 * grid
    a2 = 0.6 * a1 + 0.4 * (200.0 - grid)
    values = 500 * (a1 / (a1 + 60) + a2 / (a2 + 60))
    best = grid[np.argmax(values)]
    result = optimize_flighting(curves, 100.0, 2)
    assert result.plan[0, 0] == pytest.approx(best, abs=0.05)
    assert result.plan.sum() == pytest.approx(200.0, rel=1e-6)
    assert result.expected.mean == pytest.approx(values.max(), rel=1e-7)
    assert result.plan[0, 0] > result.plan[1, 0]  # front-loaded
    assert result.expected.mean >= result.flat_expected.mean


def test_flighting_respects_budget_and_bounds_and_beats_flat() -> None:
    rng = np.random.default_rng(5)
    curves = ParametricCurves(
        list("abc"),
        [50.0, 80.0, 30.0],
        ["hill", "log", "exponential"],
        beta=rng.uniform(100, 300, (40, 3)),
        k=rng.uniform(30, 90, (40, 3)),
        s=0.9,
        alpha=rng.uniform(0.2, 0.7, (40, 3)),
    )
    result = optimize_flighting(curves, 160.0, 6, maximum={"a": 70}, locked=["c"])
    assert result.plan.shape == (6, 3)
    assert result.plan.sum() <= 160.0 * 6 * (1 + 1e-9)
    assert np.all(result.plan[:, 0] <= 70 + 1e-6)
    np.testing.assert_allclose(result.plan[:, 2], 30.0, rtol=1e-6)
    assert result.expected.mean >= result.flat_expected.mean - 1e-9
    payload = result.to_dict()
    assert set(payload["plan"]) == {"a", "b", "c"} and len(payload["weekly_total"]) == 6
