"""``trueroi experiment ...``: JSON contracts, exit code 2 on bad input, the save/export round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main
from trueroi.experiments.simulate import simulate_geo_panel

runner = CliRunner()
INTERVAL = {"mean", "lower", "upper"}


def _json(args: list[str]) -> dict:
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _exit_code(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    return info.value.code, capsys.readouterr().err


@pytest.fixture(scope="module")
def geo_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    sim = simulate_geo_panel(n_locations=22, n_periods=90, n_test=14, n_treated=2, effect=0.1, seed=8)
    path = tmp_path_factory.mktemp("geo") / "geo.csv"
    sim.data.assign(date=sim.data["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return path, sim


LIFT = [
    "experiment",
    "lift",
    "--test-users",
    "10000",
    "--test-conversions",
    "300",
    "--control-users",
    "10000",
    "--control-conversions",
    "250",
]


def test_lift_json_contract() -> None:
    out = _json(
        [
            *LIFT,
            "--test-revenue",
            "30000",
            "--control-revenue",
            "25000",
            "--spend",
            "5000",
            "--format",
            "json",
        ]
    )
    for key in ("lift", "incremental_conversions", "iroas", "cost_per_incremental_conversion"):
        assert set(out[key]) == INTERVAL
    assert isinstance(out["p_value"], float)
    assert out["lift"]["mean"] == pytest.approx(0.2)
    assert out["incremental_conversions"]["mean"] == pytest.approx(50.0)
    assert out["iroas"]["mean"] == pytest.approx(1.0)
    assert out["cost_per_incremental_conversion"]["mean"] == pytest.approx(100.0)
    assert out["level"] == 0.9
    wider = _json([*LIFT, "--level", "0.95", "--format", "json"])
    assert wider["lift"]["upper"] - wider["lift"]["lower"] > out["lift"]["upper"] - out["lift"]["lower"]
    assert wider["iroas"] is None  # no revenue given


def test_lift_bad_input_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _exit_code(
        [
            "experiment",
            "lift",
            "--test-users",
            "100",
            "--test-conversions",
            "300",
            "--control-users",
            "100",
            "--control-conversions",
            "3",
        ],
        capsys,
    )
    assert code == 2 and "test conversions is 300" in err


def test_geo_json_contract(geo_csv) -> None:
    path, sim = geo_csv
    out = _json(
        [
            "experiment",
            "geo",
            str(path),
            "--location",
            "location",
            "--date",
            "date",
            "--kpi",
            "kpi",
            "--treated",
            ",".join(sim.treated),
            "--start",
            sim.start.date().isoformat(),
            "--spend",
            "2000",
            "--format",
            "json",
        ]
    )
    for key in ("att", "lift", "incremental", "iroas"):
        assert set(out[key]) == INTERVAL
    assert set(out["pre_fit"]) == {"rmse", "r2"}
    assert isinstance(out["p_value"], float)
    assert out["att"]["lower"] <= sim.att <= out["att"]["upper"]
    assert out["iroas"]["mean"] == pytest.approx(out["incremental"]["mean"] / 2000)
    tbr = _json(
        [
            "experiment",
            "geo",
            str(path),
            "--location",
            "location",
            "--date",
            "date",
            "--kpi",
            "kpi",
            "--treated",
            ",".join(sim.treated),
            "--start",
            sim.start.date().isoformat(),
            "--method",
            "tbr",
            "--format",
            "json",
        ]
    )
    assert tbr["method"] == "tbr" and tbr["iroas"] is None


def test_geo_bad_panels_exit_2(geo_csv, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, sim = geo_csv
    base = ["experiment", "geo", "--location", "location", "--date", "date", "--kpi", "kpi"]
    code, err = _exit_code(
        [*base[:2], str(path), *base[2:], "--treated", "Atlantis", "--start", sim.start.date().isoformat()],
        capsys,
    )
    assert code == 2 and "Atlantis not in the data" in err
    code, err = _exit_code(
        [*base[:2], str(path), *base[2:], "--treated", sim.treated[0], "--start", "2030-01-01"], capsys
    )
    assert code == 2 and "not inside the data" in err
    holed = pd.read_csv(path).drop(index=[100])
    holed_path = tmp_path / "holed.csv"
    holed.to_csv(holed_path, index=False)
    code, err = _exit_code(
        [
            *base[:2],
            str(holed_path),
            *base[2:],
            "--treated",
            sim.treated[0],
            "--start",
            sim.start.date().isoformat(),
        ],
        capsys,
    )
    assert code == 2 and "holed.csv" in err and "has no row for" in err
    code, err = _exit_code(
        [*base[:2], str(tmp_path / "nope.csv"), *base[2:], "--treated", "x", "--start", "2024-01-01"], capsys
    )
    assert code == 2 and "file not found" in err


def test_power_and_select_markets_json(geo_csv) -> None:
    path, sim = geo_csv
    common = [str(path), "--location", "location", "--date", "date", "--kpi", "kpi", "--duration", "10"]
    power = _json(
        [
            "experiment",
            "power",
            *common,
            "--treated",
            ",".join(sim.treated),
            "--effects",
            "0,0.2",
            "--windows",
            "3",
            "--format",
            "json",
        ]
    )
    assert [row["effect"] for row in power["power"]] == [0.0, 0.2]
    assert power["power"][1]["power"] == 1.0
    markets = _json(
        [
            "experiment",
            "select-markets",
            *common,
            "--effect",
            "0.2",
            "--n-treated",
            "2",
            "--candidates",
            "3",
            "--windows",
            "2",
            "--cpic",
            "4",
            "--format",
            "json",
        ]
    )
    assert [row["rank"] for row in markets["markets"]] == [1, 2, 3]
    assert {"locations", "power", "abs_lift_in_zero", "investment"} <= set(markets["markets"][0])


def test_cro_projection_json(tmp_path: Path) -> None:
    channels = tmp_path / "channels.csv"
    pd.DataFrame(
        {
            "channel": ["search"],
            "spend": [1000.0],
            "conversions": [50.0],
            "revenue": [5000.0],
            "margin": [2000.0],
        }
    ).to_csv(channels, index=False)
    out = _json(
        [
            "experiment",
            "cro",
            "--control-visitors",
            "10000",
            "--control-conversions",
            "200",
            "--variant-visitors",
            "10000",
            "--variant-conversions",
            "300",
            "--channels",
            str(channels),
            "--format",
            "json",
        ]
    )
    assert out["test"]["relative_change"]["mean"] == pytest.approx(0.5)
    search = out["projection"][0]
    assert search["conversions_after"] == pytest.approx(75.0) and search["roi_after"] == pytest.approx(2.0)


def test_save_list_and_export_lifts(workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = ["--workspace", str(workspace.path)]
    workspace.close()
    result = runner.invoke(
        build_app(),
        [
            *LIFT,
            "--spend",
            "5000",
            "--save",
            "--channel",
            "meta",
            "--start",
            "2024-03-01",
            "--end",
            "2024-03-28",
            *ws,
        ],
    )
    assert result.exit_code == 0, result.output
    listed = _json(["experiment", "list", "--format", "json", *ws])
    assert len(listed) == 1 and listed[0]["channel"] == "meta"
    out = tmp_path / "lifts.csv"
    result = runner.invoke(build_app(), ["experiment", "export-lifts", "--out", str(out), *ws])
    assert result.exit_code == 0, result.output
    csv = pd.read_csv(out)
    assert list(csv.columns) == [
        "channel",
        "start",
        "end",
        "delta_spend",
        "lift",
        "lift_se",
        "kpi",
        "experiment_id",
    ]
    assert csv.loc[0, "lift"] == pytest.approx(50.0) and csv.loc[0, "delta_spend"] == 5000.0
    code, err = _exit_code([*LIFT, "--save", *ws], capsys)
    assert code == 2 and "needs its channel" in err


def test_plan_matches_statsmodels_sample_size() -> None:
    from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

    out = _json(["experiment", "plan", "--baseline-rate", "0.02", "--lift", "0.1", "--format", "json"])
    expected = samplesize_proportions_2indep_onetail(0.002, 0.02, 0.8, alpha=0.05, alternative="two-sided")
    assert out["test_users"] == int(np.ceil(expected))
    back = _json(
        [
            "experiment",
            "plan",
            "--baseline-rate",
            "0.02",
            "--test-users",
            str(out["test_users"]),
            "--format",
            "json",
        ]
    )
    assert back["lift"] == pytest.approx(0.1, rel=1e-4)


def test_geo_save_feeds_the_lift_export(geo_csv, workspace, tmp_path: Path) -> None:
    path, sim = geo_csv
    ws = ["--workspace", str(workspace.path)]
    workspace.close()
    result = runner.invoke(
        build_app(),
        [
            "experiment",
            "geo",
            str(path),
            "--location",
            "location",
            "--date",
            "date",
            "--kpi",
            "kpi",
            "--treated",
            ",".join(sim.treated),
            "--start",
            sim.start.date().isoformat(),
            "--spend",
            "2500",
            "--save",
            "--channel",
            "youtube",
            "--format",
            "json",
            *ws,
        ],
    )
    assert result.exit_code == 0, result.output
    incremental = json.loads(result.stdout)["incremental"]
    out = tmp_path / "lifts.csv"
    assert runner.invoke(build_app(), ["experiment", "export-lifts", "--out", str(out), *ws]).exit_code == 0
    row = pd.read_csv(out).iloc[0]
    assert row["channel"] == "youtube" and row["kpi"] == "kpi" and row["delta_spend"] == 2500.0
    assert row["lift"] == pytest.approx(incremental["mean"])
    assert row["lift_se"] == pytest.approx(
        (incremental["upper"] - incremental["lower"]) / (2 * 1.6448536), rel=1e-6
    )
    assert (row["start"], row["end"]) == (sim.start.date().isoformat(), sim.end.date().isoformat())
