"""``trueroi attribution``: the JSON contract, CSV and table output, both file layouts, errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main

MODELS = [
    "first_click",
    "last_click",
    "last_non_direct_click",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
    "shapley_ordered",
]


@pytest.fixture
def paths_file(tmp_path):
    f = tmp_path / "paths.csv"
    f.write_text(
        "path,conversions,value,nulls\nSearch > Email,3,30,2\nDisplay > Search,1,20,5\nEmail,2,10,1\n"
    )
    return f


def run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def test_json_contract_all_models(paths_file):
    res = run("attribution", str(paths_file), "--model", "all", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"results", "total_conversions", "total_value"}
    assert list(data["results"]) == MODELS
    assert data["total_conversions"] == 6.0 and data["total_value"] == 60.0
    for model, channels in data["results"].items():
        assert set(channels) == {"Search", "Email", "Display"}, model
        assert sum(c["conversions"] for c in channels.values()) == pytest.approx(6.0), model
        assert sum(c["value"] for c in channels.values()) == pytest.approx(60.0), model
        assert all(set(c) == {"conversions", "value"} for c in channels.values())
    # last click by hand: Email closes 3 + 2 conversions (30 + 10), Search closes 1 (20)
    assert data["results"]["last_click"]["Email"] == {"conversions": 5.0, "value": 40.0}
    assert data["results"]["last_click"]["Search"] == {"conversions": 1.0, "value": 20.0}


def test_single_model_csv(paths_file):
    res = run("attribution", str(paths_file), "--model", "first_click", "--format", "csv")
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "model,channel,conversions,value"
    assert "first_click,Search,3.0,30.0" in lines


def test_table_output(paths_file):
    res = run("attribution", str(paths_file), "-m", "markov,linear")
    assert res.exit_code == 0, res.output
    assert "Attributed" in res.stdout and "markov" in res.stdout and "Email" in res.stdout


def test_touchpoint_layout_file(tmp_path):
    f = tmp_path / "touches.csv"
    f.write_text(
        "user_id,ts,channel,conversion,value\nu1,2024-01-01,Search,0,\nu1,2024-01-03,Email,1,40\n"
        "u2,2024-01-02,Display,0,\n"
    )
    res = run("attribution", str(f), "-m", "linear", "-f", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["results"]["linear"]["Search"] == {"conversions": 0.5, "value": 20.0}
    assert data["results"]["linear"]["Display"] == {"conversions": 0.0, "value": 0.0}


def test_workspace_journeys(workspace):
    T = pd.Timestamp
    workspace.load(
        {
            "touchpoints": pd.DataFrame(
                {
                    "user_id": ["u1", "u1"],
                    "ts": [T("2024-01-01"), T("2024-01-02")],
                    "channel": ["Shopping", "Email"],
                }
            )
        },
        source_format="t",
        file_name="t",
        sha256="t",
    )
    workspace.load(
        {
            "orders": pd.DataFrame(
                {
                    "order_id": ["o1"],
                    "user_id": ["u1"],
                    "ts": [T("2024-01-03")],
                    "currency": ["EUR"],
                    "revenue": [90.0],
                    "status": ["paid"],
                }
            )
        },
        source_format="t",
        file_name="o",
        sha256="o",
    )
    res = run("attribution", "-w", str(workspace.path), "-m", "first_click", "-f", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["results"]["first_click"] == {
        "Email": {"conversions": 0.0, "value": 0.0},
        "Shopping": {"conversions": 1.0, "value": 90.0},
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "magic"], "unknown attribution model 'magic'"),
        (["--markov-order", "5", "-m", "markov"], "Markov order must be 1, 2 or 3"),
    ],
)
def test_usage_errors_exit_2(paths_file, args, message, capsys):
    code, out, err = main_exit(capsys, "attribution", str(paths_file), *args)
    assert code == 2
    assert message in err.replace("\n", "")
    assert out == ""


def test_bad_file_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.csv"
    f.write_text("path,conversions\nSearch,lots\n")
    code, out, err = main_exit(capsys, "attribution", str(f), "-f", "json")
    assert code == 2
    err = err.replace("\n", "")
    assert "bad.csv" in err and "row 1" in err and "conversions" in err
    assert out == ""


def test_empty_workspace_exit_2(workspace, capsys):
    code, out, err = main_exit(capsys, "attribution", "-w", str(workspace.path))
    assert code == 2
    assert "holds no data" in err.replace("\n", "")


def test_console_script_exit_code(tmp_path):
    """The installed entry point maps library errors to exit code 2 in a real process."""
    f = tmp_path / "bad.csv"
    f.write_text("x,y\n1,2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "trueroi", "attribution", str(f)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "matches no journeys layout" in proc.stderr.replace("\n", "")


def main_exit(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


def test_paths_view_json(paths_file):
    # paths: "Search > Email" 3 conv, "Display > Search" 1 conv, "Email" 2 conv
    res = run("attribution", str(paths_file), "--view", "paths", "-f", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [p["path"] for p in data["top_paths"]] == ["Search > Email", "Email", "Display > Search"]
    roles = {r["channel"]: (r["opened"], r["assisted"], r["closed"]) for r in data["channel_roles"]}
    # Search opens 3 and assists 3 ("Search > Email"), closes 1 ("Display > Search"); Email closes 5
    assert roles == {"Search": (3, 3, 1), "Email": (2, 0, 5), "Display": (1, 1, 0)}
    assert data["time_to_conversion"] is None
