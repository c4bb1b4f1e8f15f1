"""Both kinds of mix model behind one base: saved and loaded by kind, reported, and used by the planner's
and the management report's model section (fast MAP fits)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trueroi.budget.curves import ResponseCurves
from trueroi.errors import NotFittedError, UsageError
from trueroi.mmm import MMM, GeoMMM, MixModel, load_model, model_kind, write_model_report
from trueroi.mmm.simulate import GeoSimulation, Simulation, simulate, simulate_geo

LIFT = "lift_tests.csv"


@pytest.fixture(scope="module")
def national_sim() -> Simulation:
    return simulate(seed=3, n_periods=60, rois=(2.0, 1.0, 0.5))


@pytest.fixture(scope="module")
def national(national_sim: Simulation) -> MMM:
    model = MMM(method="map", holdout_periods=4, seed=0)
    return model.fit(
        national_sim.df, date="week", target="revenue", channels=national_sim.channels, controls=["control_0"]
    )


@pytest.fixture(scope="module")
def geo_sim() -> GeoSimulation:
    return simulate_geo(seed=5, n_geos=3, n_periods=36, n_channels=2)


@pytest.fixture(scope="module")
def geo(geo_sim: GeoSimulation) -> GeoMMM:
    model = GeoMMM(saturation="logistic", method="map", holdout_periods=4, seed=0)
    return model.fit(geo_sim.df, date="week", geo="geo", target="revenue", channels=geo_sim.channels)


@pytest.fixture(params=["national", "geo"])
def model(request: pytest.FixtureRequest) -> MixModel:
    return request.getfixturevalue(request.param)


def test_both_kinds_share_the_base(national: MMM, geo: GeoMMM) -> None:
    assert isinstance(national, MixModel) and isinstance(geo, MixModel)
    assert (national.KIND, geo.KIND) == ("national", "geo")
    for fresh in (MMM(), GeoMMM()):
        with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
            fresh.summary()
        with pytest.raises(NotFittedError):
            fresh.response_curves()
    assert GeoMMM(kpi="conversions").get_params()["kpi"] == "conversions"


def test_save_load_round_trip_by_kind(model: MixModel, tmp_path: Path) -> None:
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["kind"] == model.KIND and config["format_version"] == 1
    assert model_kind(tmp_path / "m") == model.KIND
    back = load_model(tmp_path / "m")
    assert type(back) is type(model)
    assert back.get_params() == model.get_params()
    for name, values in model.posterior_.items():
        np.testing.assert_array_equal(back.posterior_[name], values)
    assert back.data_.n_train == model.data_.n_train == len(back.data_.dates) - 4
    a, b = back.summary(), model.summary()
    assert list(a) == list(b)
    for c, block in b["channels"].items():
        for key in ("contribution", "roas", "mroas"):
            assert a["channels"][c][key] == pytest.approx(block[key], rel=1e-9)
    assert back.warnings_ == model.warnings_
    spend = model.response_curves().current_spend
    np.testing.assert_allclose(back.response_curves().current_spend, spend)
    np.testing.assert_allclose(
        back.response_curves().weekly_response(spend), model.response_curves().weekly_response(spend)
    )
    assert type(model).load(tmp_path / "m").get_params() == model.get_params()


def test_loading_checks_the_kind_and_the_format(national: MMM, geo: GeoMMM, tmp_path: Path) -> None:
    geo.save(tmp_path / "geo")
    assert isinstance(load_model(tmp_path / "geo"), GeoMMM)
    with pytest.raises(UsageError, match="holds a geo model, not a national one"):
        MMM.load(tmp_path / "geo")
    national.save(tmp_path / "nat")
    config_file = tmp_path / "nat" / "config.json"
    config = json.loads(config_file.read_text())
    del config["kind"]  # a directory written before the kind was recorded is national
    config_file.write_text(json.dumps(config))
    assert isinstance(load_model(tmp_path / "nat"), MMM)
    config_file.write_text(json.dumps({**config, "kind": "regional"}))
    with pytest.raises(UsageError, match="kind 'regional'"):
        load_model(tmp_path / "nat")
    config_file.write_text(json.dumps({**config, "format_version": 99}))
    with pytest.raises(UsageError, match="format 99, expected 1"):
        load_model(tmp_path / "nat")
    with pytest.raises(UsageError, match="not a model directory"):
        load_model(tmp_path)


def test_saving_over_a_calibrated_model_drops_its_lift_tests(national: MMM, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / LIFT).write_text("channel,start,end,delta_spend,lift,lift_se\n")
    national.save(tmp_path / "m")
    assert not (tmp_path / "m" / LIFT).exists()
    assert load_model(tmp_path / "m").lift_tests_ is None


def test_geo_response_curves_split_national_spend_as_the_last_weeks(
    geo: GeoMMM, geo_sim: GeoSimulation
) -> None:
    curves = geo.response_curves(reference_weeks=8)
    assert (
        isinstance(curves, ResponseCurves) and curves.kpi == "revenue" and curves.channels == geo_sim.channels
    )
    # by hand from the panel: the 8 weeks before the 4 held out, spend summed over geos, then averaged
    fitted = geo_sim.df[geo_sim.df["week"] < sorted(geo_sim.df["week"].unique())[-4]]
    last8 = fitted[fitted["week"] >= sorted(fitted["week"].unique())[-8]]
    np.testing.assert_allclose(
        curves.current_spend, last8.groupby("week")[geo_sim.channels].sum().mean().to_numpy(), rtol=1e-12
    )
    by_geo = last8.groupby("geo")[geo_sim.channels].sum()
    np.testing.assert_allclose(curves.geo_share, (by_geo / by_geo.sum()).to_numpy(), rtol=1e-12)
    grid = np.stack([curves.current_spend * f for f in (0.0, 0.5, 1.0, 2.0)])
    resp = curves.weekly_response(grid)
    assert resp.shape == (1, 4, 2)
    assert np.all(resp[:, 0] == 0) and np.all(np.diff(resp, axis=1) > 0)  # zero at zero, rising


def test_a_report_for_either_kind(national: MMM, geo: GeoMMM, tmp_path: Path) -> None:
    geo.save(tmp_path / "geo")
    page = write_model_report(tmp_path / "geo")  # a directory: report.html inside it by default
    assert page == tmp_path / "geo" / "report.html"
    text = page.read_text(encoding="utf-8")
    assert "<h1>Geo mix model: revenue</h1>" in text and "per geo" in text
    out = write_model_report(national, tmp_path / "national.html")
    text = out.read_text(encoding="utf-8")
    assert "<h1>Marketing-mix model: revenue</h1>" in text and "Media parameters" in text
    assert text.count("Plotly.newPlot") == 3 and "<script src=" not in text
    with pytest.raises(UsageError, match="needs a file"):
        write_model_report(national)


def test_the_management_report_section_takes_a_geo_model(geo: GeoMMM, tmp_path: Path) -> None:
    from trueroi.report.management import mmm_section

    geo.save(tmp_path / "geo")
    section = mmm_section(tmp_path / "geo")
    assert section["available"] and section["kpi"] == "revenue"
    assert [r["channel"] for r in section["channels"]] == geo.data_.channels
    summary = geo.summary()["channels"]
    for row in section["channels"]:
        assert row["roi"] == pytest.approx(summary[row["channel"]]["roi"]["mean"])
    plan = section["budget"]
    # the plan keeps the weekly total: the national mean weekly spend of the last 8 fitted weeks
    total = geo.response_curves().current_spend.sum()
    assert plan["weekly_total"] == pytest.approx(total)
    assert sum(r["recommended"] for r in plan["rows"]) == pytest.approx(total, rel=1e-6)
    assert any("MAP" in w for w in section["warnings"])
