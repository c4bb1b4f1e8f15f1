"""``trueroi budget optimize | compare | target``: the JSON contract, workspace margin and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trueroi.budget import ParametricCurves
from trueroi.cli.main import build_app, main

runner = CliRunner()


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    # Two log curves with the closed-form optimum x_i = b_i (B + k1 + k2) / (b1 + b2) - k_i (B = 500):
    # search 290, social 210.
    curves = ParametricCurves(
        ["search", "social"], [250.0, 250.0], "log", beta=[300.0, 200.0], k=[100.0, 50.0]
    )
    directory = tmp_path / "model"
    directory.mkdir()
    (directory / "curves.json").write_text(json.dumps(curves.to_dict()))
    return directory


def _json(args: list[str]) -> dict:
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_optimize_json_contract(model_dir: Path) -> None:
    out = _json(["budget", "optimize", str(model_dir), "--total", "500", "--format", "json"])
    assert {"allocation", "current", "expected", "mroi", "binding"} <= set(out)
    assert set(out["allocation"]) == set(out["current"]) == set(out["mroi"]) == {"search", "social"}
    assert set(out["expected"]) == {"mean", "lower", "upper"}
    assert out["allocation"]["search"] == pytest.approx(290.0, rel=1e-6)
    assert out["allocation"]["social"] == pytest.approx(210.0, rel=1e-6)
    assert out["current"] == {"search": 250.0, "social": 250.0}
    # revenue at the optimum: 300 log(3.9) + 200 log(5.2)
    assert out["expected"]["mean"] == pytest.approx(300 * np.log(3.9) + 200 * np.log(5.2), rel=1e-8)
    assert out["binding"] == ["total"]
    assert isinstance(out["explanation"], list) and out["explanation"][0]["channel"] == "search"


def test_optimize_bounds_weeks_and_flighting(model_dir: Path) -> None:
    out = _json(
        [
            "budget",
            "optimize",
            str(model_dir),
            "--total",
            "500",
            "--max",
            "search=260",
            "--max-change",
            "0.5",
            "--weeks",
            "4",
            "--format",
            "json",
            "--flighting",
        ]
    )
    assert out["allocation"]["search"] == pytest.approx(260.0)
    assert "search:max" in out["binding"]
    assert out["expected"]["mean"] == pytest.approx(4 * (300 * np.log(3.6) + 200 * np.log(5.8)), rel=1e-8)
    assert len(out["flighting"]["weekly_total"]) == 4
    out = _json(
        ["budget", "optimize", str(model_dir), "--total", "500", "--lock", "social", "--format", "json"]
    )
    assert out["allocation"]["social"] == pytest.approx(250.0) and "social:locked" in out["binding"]


def test_margin_rate_comes_from_the_workspace(model_dir: Path, workspace) -> None:
    workspace.config.default_margin = 0.5
    workspace.config.save(workspace.path)
    out = _json(
        [
            "budget",
            "optimize",
            str(model_dir),
            "--total",
            "500",
            "--objective",
            "profit",
            "--workspace",
            str(workspace.path),
            "--format",
            "json",
        ]
    )
    # profit optimum: 0.5 b / (k + x) = 1  =>  x = 0.5 b - k = 50 for both
    assert out["allocation"]["search"] == pytest.approx(50.0, rel=1e-6)
    assert out["allocation"]["social"] == pytest.approx(50.0, rel=1e-6)


def test_an_unallocated_total_is_said(model_dir: Path, workspace) -> None:
    workspace.config.default_margin = 0.5
    workspace.config.save(workspace.path)
    args = ["budget", "optimize", str(model_dir), "--total", "500", "--workspace", str(workspace.path)]
    result = runner.invoke(build_app(), [*args, "--objective", "profit", "--format", "json"])
    assert result.exit_code == 0
    # the profit optimum spends 50 + 50 of the 500 a week (see above): 400 stay unallocated, said on stderr
    assert "spends 100.00 of the 500.00 per week" in result.stderr and "400.00 a week" in result.stderr
    assert json.loads(result.stdout)["spend"] == pytest.approx(100.0, rel=1e-6)
    result = runner.invoke(build_app(), [*args, "--format", "json"])  # revenue spends it all: no note
    assert result.exit_code == 0 and "unallocated" not in result.stderr


def test_compare_json_and_chart(model_dir: Path, tmp_path: Path) -> None:
    manual = tmp_path / "manual.json"
    manual.write_text(json.dumps({"search": 400, "social": 100}))
    chart = tmp_path / "chart.html"
    out = _json(
        [
            "budget",
            "compare",
            str(model_dir),
            "--plan",
            f"manual={manual}",
            "--format",
            "json",
            "--chart",
            str(chart),
        ]
    )
    plans = out["plans"]
    assert list(plans) == ["current", "manual", "optimised", "optimised_plus_20%"]
    assert plans["optimised"]["allocation"]["search"] == pytest.approx(290.0, rel=1e-6)
    assert plans["manual"]["expected"]["mean"] == pytest.approx(300 * np.log(5.0) + 200 * np.log(3.0))
    assert plans["optimised_plus_20%"]["spend"] == pytest.approx(600.0)
    assert "<html>" in chart.read_text()[:200]


def test_target_command(model_dir: Path) -> None:
    out = _json(["budget", "target", str(model_dir), "--mroi", "1.5", "--format", "json"])
    assert out["allocation"]["search"] == pytest.approx(100.0, rel=1e-6)  # b / m - k = 300 / 1.5 - 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--total", "500", "--objective", "margin"], "needs a margin rate"),
        (["--total", "500", "--min", "tv=10"], "unknown channel 'tv'"),
        (["--total", "500", "--min", "search"], "expected CHANNEL=VALUE"),
        (["--total", "-5"], "positive weekly budget"),
        (["--total", "500", "--risk", "max"], "risk 'max' is unknown"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    model_dir: Path, args: list[str], message: str, capsys, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no trueroi.toml here
    monkeypatch.delenv("TRUEROI_WORKSPACE", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["budget", "optimize", str(model_dir), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())


def test_missing_model_dir_and_bad_plan_file_exit_2(tmp_path: Path, model_dir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["budget", "optimize", str(tmp_path / "nope"), "--total", "5"])
    assert exit_info.value.code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(SystemExit) as exit_info:
        main(["budget", "compare", str(model_dir), "--plan", f"x={bad}"])
    assert exit_info.value.code == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_risk_averse_plan_moves_spend_to_the_certain_channel(tmp_path: Path) -> None:
    # search: 300 or 100 revenue scale (uncertain); social: 200 in both draws. With only two draws the 10%
    # quantile is the low draw's outcome, so the q10 plan puts less on search than the mean plan.
    curves = ParametricCurves(
        ["search", "social"], [250.0, 250.0], "log", beta=[[300.0, 200.0], [100.0, 200.0]], k=[100.0, 50.0]
    )
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "curves.json").write_text(json.dumps(curves.to_dict()))
    mean = _json(["budget", "optimize", str(directory), "--total", "500", "--format", "json"])
    q10 = _json(["budget", "optimize", str(directory), "--total", "500", "--risk", "q10", "--format", "json"])
    assert q10["risk"] == "q10"
    assert q10["allocation"]["search"] < mean["allocation"]["search"]
    assert sum(q10["allocation"].values()) == pytest.approx(500.0)
    # mean plan, closed form with the posterior-mean scale 200: x = 200 * 650 / 400 - 100 = 225
    assert mean["allocation"]["search"] == pytest.approx(225.0, rel=1e-6)
