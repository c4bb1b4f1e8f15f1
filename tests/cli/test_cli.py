"""The CLI: JSON contract of `trueroi kpis`, one clear line and exit code 2 on bad input, the demo run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trueroi.workspace import Workspace


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run(*args: str) -> Result:
    """Run the CLI in a fresh process, as a user would."""
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "trueroi", *args], capture_output=True, text=True, env=env, timeout=600
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the CLI in this process (the test's open workspace connection stays valid)."""
    from trueroi.cli.main import main

    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> Result:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return invoke


def _one_error_line(result: Result, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_unknown_dimension_is_one_clear_line(demo_shop, cli) -> None:
    _one_error_line(cli("kpis", "--by", "channel,colour", "-w", str(demo_shop.ws.path)), "colour", "channel")


def test_dates_reversed_is_one_clear_line(demo_shop, cli) -> None:
    _one_error_line(
        cli("kpis", "--from", "2026-09-30", "--to", "2026-07-01", "-w", str(demo_shop.ws.path)), "reversed"
    )


def test_empty_workspace_is_one_clear_line(workspace: Workspace, cli) -> None:
    _one_error_line(cli("kpis", "-w", str(workspace.path)), "no data")


def test_not_a_workspace_is_one_clear_line(tmp_path) -> None:
    _one_error_line(run("kpis", "-w", str(tmp_path)), "trueroi init")


def test_kpis_json_contract(demo_shop, cli) -> None:
    result = cli(
        "kpis",
        "--by",
        "channel",
        "--period",
        "2026-Q3",
        "--compare",
        "yoy",
        "--format",
        "json",
        "-w",
        str(demo_shop.ws.path),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["attribution_model"] == "last_non_direct_click" and data["currency"] == "EUR"
    keys = {"spend", "revenue", "margin", "conversions", "roas", "media_roi", "full_roi", "cpa"}
    assert keys <= set(data["totals"])
    for row in data["rows"]:
        assert {"channel"} | keys <= set(row)
        for key in keys:
            assert row[key] is None or isinstance(row[key], float | int)
    search = next(r for r in data["rows"] if r["channel"] == "Non-Brand Search")
    assert search["roas"] == pytest.approx(search["revenue"] / search["spend"])
    assert search["media_roi"] == pytest.approx((search["margin"] - search["spend"]) / search["spend"])
    organic = next(r for r in data["rows"] if r["channel"] == "Organic Search")
    assert organic["roas"] is None  # no spend: null, never infinity


def test_demo_runs_end_to_end_and_report_is_self_contained(tmp_path) -> None:
    result = run("demo", "--workspace", str(tmp_path / "d"), "--scale", "0.02", "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert "Last full quarter" in result.stdout and "ground truth" in result.stdout.lower()
    html = (tmp_path / "d" / "report.html").read_text()
    assert "Plotly.newPlot" in html and "ROI by channel" in html
    assert "<script src=" not in html  # plotly.js is inlined: renders offline, no CDN
    truth = json.loads((tmp_path / "d" / "ground_truth.json").read_text())
    assert len(truth["channels"]) >= 8
    again = run("demo", "--workspace", str(tmp_path / "d"), "--scale", "0.02")
    _one_error_line(again, "--fresh")


def test_piped_table_is_never_cut(demo_shop, cli) -> None:
    """Not on a terminal (as when piped into a file), the table keeps whole names and numbers."""
    assert not sys.stdout.isatty()
    channels = [
        row["channel"]
        for row in json.loads(cli("kpis", "-w", str(demo_shop.ws.path), "-f", "json").stdout)["rows"]
    ]
    table = cli("kpis", "-w", str(demo_shop.ws.path)).stdout
    assert "…" not in table
    assert all(name in table for name in channels), channels
    assert max(len(line) for line in table.splitlines()) > 80  # rich's default width when piped was 80


def test_piped_lines_are_not_wrapped_at_80_columns(tmp_path) -> None:
    """A fresh process with its output piped and no COLUMNS: a long line stays one line."""
    deep = tmp_path / ("exports-of-a-client-with-a-long-folder-name" * 2)
    deep.mkdir()
    orders = deep / "orders.csv"
    orders.write_bytes((Path(__file__).parents[1] / "ingest" / "fixtures" / "orders.csv").read_bytes())
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run(
        [sys.executable, "-m", "trueroi", "import", "--detect", str(orders)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.stdout.strip().splitlines() == [f"{orders}: orders"]


def test_building_the_app_twice_registers_each_command_once() -> None:
    """main() builds the app on every call; commands must not pile up in the shared groups."""
    from trueroi.cli.main import build_app

    build_app()
    app = build_app()
    for group in app.registered_groups:
        names = [c.name or c.callback.__name__ for c in group.typer_instance.registered_commands]
        assert len(names) == len(set(names)), (group.name, names)
