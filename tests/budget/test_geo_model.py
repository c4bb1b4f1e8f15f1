"""``trueroi budget optimize | compare | target`` on a geo model directory (a fast MAP fit).

The panel comes from the geo simulator with known Hill x geometric-adstock truth. The planner sees national
spend split over geos as in the last 8 fitted weeks; under the truth, channel_1's marginal return at current
spend is about three times channel_0's (computed by hand below), so a plan at the same total must move
budget from channel_0 to channel_1, spend exactly the total, and keep every bound.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trueroi.mmm import GeoMMM
from trueroi.mmm.simulate import GeoSimulation, simulate_geo

runner = CliRunner()


@pytest.fixture(scope="module")
def panel() -> GeoSimulation:
    return simulate_geo(seed=8, n_geos=4, n_periods=52, n_channels=2, noise=0.03)


@pytest.fixture(scope="module")
def model_dir(panel: GeoSimulation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = GeoMMM(method="map", seed=0)
    model.fit(panel.df, date="week", geo="geo", target="revenue", channels=panel.channels)
    return model.save(tmp_path_factory.mktemp("geo") / "model")


def _true_mroi(panel: GeoSimulation, weeks: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Current national weekly spend and the true marginal return of each channel there.

    Geo g's true steady-state weekly response to flat spend x is k_g hill(x / m_g) (the simulator's scale
    m_g is the geo's mean spend; normalised adstock settles at x), with hill(u) = u^s / (u^s + h^s), whose
    derivative is s u^(s-1) h^s / (u^s + h^s)^2. National spend S goes to geo g in its share w_g of the last
    weeks, so dr/dS = sum_g w_g k_g hill'(w_g S / m_g) / m_g.
    """
    r = panel.response
    current, mroi = [], []
    for i in range(len(panel.channels)):
        by_geo = np.array([r["spend"][g][-weeks:, i].mean() for g in panel.geos])
        total, share = by_geo.sum(), by_geo / by_geo.sum()
        h, s = r["half"][i], r["slope"][i]
        slope = 0.0
        for j, g in enumerate(panel.geos):
            m = r["spend"][g][:, i].mean()
            u = share[j] * total / m
            slope += share[j] * r["k"][g][i] * s * u ** (s - 1) * h**s / (u**s + h**s) ** 2 / m
        current.append(total)
        mroi.append(slope)
    return np.array(current), np.array(mroi)


def _json(args: list[str]) -> dict:
    from trueroi.cli.main import build_app

    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_optimize_moves_budget_to_the_higher_marginal_return(model_dir: Path, panel: GeoSimulation) -> None:
    current, true_mroi = _true_mroi(panel)
    assert (
        true_mroi[1] > 2 * true_mroi[0]
    )  # the hand-computed premise: channel_1 returns far more at the margin
    total = float(current.sum())
    out = _json(["budget", "optimize", str(model_dir), "--total", f"{total:.6f}", "--format", "json"])
    assert [out["current"][c] for c in panel.channels] == pytest.approx(current, rel=1e-9)
    assert sum(out["allocation"].values()) == pytest.approx(total, rel=1e-6)  # the budget, all of it
    assert out["allocation"]["channel_1"] > 1.3 * out["current"]["channel_1"]
    assert out["allocation"]["channel_0"] < out["current"]["channel_0"]
    assert out["expected"]["mean"] >= out["current_expected"]["mean"]


def test_bounds_and_a_smaller_budget_hold(model_dir: Path, panel: GeoSimulation) -> None:
    current, _ = _true_mroi(panel)
    total = 0.8 * float(current.sum())
    out = _json(
        [
            "budget",
            "optimize",
            str(model_dir),
            "--total",
            f"{total:.6f}",
            "--max",
            "channel_1=120%",
            "--format",
            "json",
        ]
    )
    assert sum(out["allocation"].values()) <= total * (1 + 1e-9)
    assert out["allocation"]["channel_1"] == pytest.approx(1.2 * current[1], rel=1e-6)
    assert "channel_1:max" in out["binding"]


def test_compare_and_target_on_a_geo_model(model_dir: Path, panel: GeoSimulation) -> None:
    current, _ = _true_mroi(panel)
    out = _json(["budget", "compare", str(model_dir), "--format", "json"])
    assert list(out["plans"]) == ["current", "optimised", "optimised_plus_20%"]
    assert [out["plans"]["current"]["allocation"][c] for c in panel.channels] == pytest.approx(current)
    assert out["plans"]["optimised_plus_20%"]["spend"] == pytest.approx(1.2 * current.sum(), rel=1e-6)
    assert out["plans"]["optimised"]["p_beats_current"] == 1.0  # one MAP draw, and the plan gains on it
    target = _json(["budget", "target", str(model_dir), "--mroi", "1.0", "--format", "json"])
    # every channel the plan funds is pushed until its marginal return is the level asked for
    for c in panel.channels:
        if target["allocation"][c] > 0:
            assert target["mroi"][c] == pytest.approx(1.0, rel=1e-3)
