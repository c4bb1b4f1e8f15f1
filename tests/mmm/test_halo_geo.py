"""The geo halo model: national direct, indirect and total ROAS on a simulated geo panel with known truth.

Expected values come from :func:`trueroi.mmm.halo_simulate.simulate_geo_halo` (independent simulated geos;
national truth = summed true contributions over summed spend). Laplace fits on a small panel (4 geos x 80
weeks) on one seed each; over 8 seeds (bench/bench_halo.py ``--geos 4``) the national intervals covered
94% of true direct, 75% of true indirect and 91% of true total ROAS, and every indirect interval covered 0
without halo in the truth (bench/RESULTS.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trueroi.budget import optimize_budget
from trueroi.cli.main import build_app
from trueroi.errors import UsageError
from trueroi.mmm import GeoHaloMMM, GeoMMM, fit_mix_model, load_model
from trueroi.mmm.halo_simulate import GeoHaloSimulation, simulate_geo_halo

SETTINGS = dict(method="laplace", draws=200, seed=0)


def _fit(sim: GeoHaloSimulation) -> GeoHaloMMM:
    model = GeoHaloMMM(halo=sim.halo, mediator=sim.mediator, **SETTINGS)
    return model.fit(sim.df, date="week", geo="geo", target="revenue", channels=sim.channels)


@pytest.fixture(scope="module")
def sim() -> GeoHaloSimulation:
    return simulate_geo_halo(seed=2, n_geos=4, n_periods=80)


@pytest.fixture(scope="module")
def fitted(sim: GeoHaloSimulation) -> GeoHaloMMM:
    return _fit(sim)


def _inside(block: dict[str, float], truth: float) -> bool:
    return block["lower"] <= truth <= block["upper"]


def test_national_intervals_cover_true_direct_and_total_and_find_the_halo(
    sim: GeoHaloSimulation, fitted: GeoHaloMMM
) -> None:
    channels = fitted.summary()["channels"]
    for c in sim.channels:
        assert _inside(channels[c]["roas_direct"], sim.roi_direct[c]), (c, channels[c]["roas_direct"])
        assert _inside(channels[c]["roas"], sim.roi_total[c]), (c, channels[c]["roas"])
    for h in sim.halo:
        assert channels[h]["roas_indirect"]["lower"] > 0, channels[h]


def test_geo_blocks_add_up_to_the_national_contribution(fitted: GeoHaloMMM) -> None:
    summary = fitted.summary()
    for c, block in summary["channels"].items():
        per_geo = [g["channels"][c] for g in summary["geos"].values()]
        assert sum(b["spend"] for b in per_geo) == pytest.approx(block["spend"])
        total = sum(b["contribution"]["mean"] for b in per_geo)
        assert total == pytest.approx(block["contribution"]["mean"], rel=1e-9)


def test_no_halo_in_truth_gives_indirect_intervals_around_zero() -> None:
    sim = simulate_geo_halo(seed=0, n_geos=4, n_periods=80, halo_share=0.0)
    channels = _fit(sim).summary()["channels"]
    for h in sim.halo:
        assert _inside(channels[h]["roas_indirect"], 0.0), channels[h]


def test_save_load_round_trip(fitted: GeoHaloMMM, tmp_path: Path) -> None:
    fitted.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert isinstance(loaded, GeoHaloMMM)
    want = fitted.summary()["channels"]["display_spend"]["roas_indirect"]
    got = loaded.summary()["channels"]["display_spend"]["roas_indirect"]
    assert got == pytest.approx(want, rel=1e-6)
    np.testing.assert_allclose(loaded.decomposition()["fitted"], fitted.decomposition()["fitted"], rtol=1e-6)
    spend = fitted.response_curves().current_spend
    np.testing.assert_allclose(
        loaded.response_curves().weekly_response(spend), fitted.response_curves().weekly_response(spend)
    )


def test_geo_curves_plan_on_total_effects(fitted: GeoHaloMMM) -> None:
    curves = fitted.response_curves()
    direct = GeoMMM.response_curves(fitted)
    now = curves.current_spend
    total, only_direct = curves.weekly_response(now), direct.weekly_response(now)
    halo = [curves.channels.index(h) for h in fitted.halo]
    others = [i for i in range(len(now)) if i not in halo]
    np.testing.assert_allclose(total[:, others], only_direct[:, others])
    assert (total[:, halo].mean(axis=0) > only_direct[:, halo].mean(axis=0)).all()
    plan = optimize_budget(curves, float(now.sum()), objective="revenue").to_dict()
    assert sum(r["recommended"] for r in plan["explanation"]) <= now.sum() * (1 + 1e-6)


def test_cli_geo_halo_json(sim: GeoHaloSimulation, tmp_path: Path) -> None:
    csv = tmp_path / "panel.csv"
    sim.df.to_csv(csv, index=False)
    args = ["mmm", "fit", str(csv), "--geo", "geo", "--channels", ",".join(sim.channels)]
    args += ["--halo", ",".join(sim.halo), "--mediator", "brand_clicks", "--out", str(tmp_path / "m")]
    args += ["--method", "laplace", "--draws", "100", "--margin-rate", "0.5", "--format", "json"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    for block in (payload["channels"], payload["geos"]["geo_0"]["channels"]):
        for key in ("roi", "roi_direct", "roi_indirect"):
            assert set(block["video_spend"][key]) == {"mean", "lower", "upper"}
        assert "roi_net_of_halo" in block["brand_search_spend"]


def test_fit_mix_model_routes_geo_and_halo(sim: GeoHaloSimulation) -> None:
    with pytest.raises(UsageError, match="not among the channels"):
        fit_mix_model(sim.df, geo="geo", channels=sim.channels, halo=["tv"], method="laplace")
