"""``trueroi goal ...`` and ``trueroi budget set|list|remove|pacing``: JSON contracts and exit code 2."""

from __future__ import annotations

import json

import pytest

from trueroi.workspace import Workspace, WorkspaceConfig

from .helpers import march_shop

GOAL_KEYS = {
    *("name", "kpi", "scope", "horizon", "from", "to", "target", "actual", "progress", "expected"),
    *("expected_lower", "expected_upper", "status", "direction", "days_elapsed", "days_total"),
    "forecast_method",
}
PACING_KEYS = {
    *("name", "scope", "from", "to", "amount", "currency", "spend_to_date", "expected_to_date"),
    *("pacing_ratio", "status", "projected", "projected_lower", "projected_upper", "daily_needed"),
    *("days_elapsed", "days_remaining", "days_total", "forecast_method"),
}
MARCH = "--from 2026-03-01 --to 2026-03-31"


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Workspace:
    """One March shop for the module (each test removes what it declares)."""
    ws = Workspace.init(tmp_path_factory.mktemp("goals-cli") / "ws", WorkspaceConfig(name="cli"))
    march_shop(ws)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def command():
    """The whole ``trueroi`` app as one Click command, built once (Typer rebuilds it on every call)."""
    import typer

    from trueroi.cli.main import build_app

    return typer.main.get_command(build_app())


@pytest.fixture
def cli(shop: Workspace, command, capsys, monkeypatch):
    """Run ``trueroi ... -w <the March shop>`` through ``main`` (which maps errors to exit code 2)."""
    from trueroi.cli import main as cli_main

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli_main, "build_app", lambda: command)
    main = cli_main.main

    def invoke(*args: str) -> Result:
        try:
            main([*args, "-w", str(shop.path)])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return invoke


def _error(result: Result, *words: str) -> None:
    assert result.code == 2, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    for word in words:
        assert word in lines[0]


def test_goal_add_list_status_remove(cli) -> None:
    add = cli(*f"goal add newsletter --kpi conversions --type signup --target 1000 {MARCH} -f json".split())
    assert add.code == 0, add.err
    assert json.loads(add.out)["conv_type"] == "signup"
    roas = f"goal add search-roas --kpi roas --target 2.5 --channel Search {MARCH} --horizon mid"
    assert cli(*roas.split()).code == 0
    listed = json.loads(cli("goal", "list", "--format", "json").out)
    assert [g["name"] for g in listed] == ["newsletter", "search-roas"]
    status = cli("goal", "status", "--format", "json")
    assert status.code == 0, status.err
    rows = {r["name"]: r for r in json.loads(status.out)}
    assert set(rows["newsletter"]) >= GOAL_KEYS
    assert rows["newsletter"]["scope"] == {"channel": None, "campaign": None}
    # 224 signups by 28 March, 247 expected at month end (see test_progress); ROAS 3.0 >= 2.5
    assert rows["newsletter"]["actual"] == pytest.approx(224)
    assert rows["newsletter"]["expected"] == pytest.approx(247)
    assert rows["newsletter"]["status"] == "off_track"
    assert rows["search-roas"]["status"] == "on_track" and rows["search-roas"]["horizon"] == "mid"
    table = cli("goal", "status", "--as-of", "2026-03-14")
    assert table.code == 0 and "newsletter" in table.out and "off_track" in table.out
    csv = cli("goal", "status", "--format", "csv").out.splitlines()
    assert csv[0].startswith("name,kpi") and len(csv) == 3
    assert cli("goal", "remove", "newsletter").code == 0
    assert [g["name"] for g in json.loads(cli("goal", "list", "--format", "json").out)] == ["search-roas"]
    assert cli("goal", "remove", "search-roas").code == 0


def test_budget_set_list_pacing_remove(cli) -> None:
    assert cli(*f"budget set search-march --amount 3500 --channel Search {MARCH}".split()).code == 0
    assert json.loads(cli("budget", "list", "--format", "json").out)[0]["amount"] == 3500
    out = cli("budget", "pacing", "--as-of", "2026-03-14", "--format", "json")
    assert out.code == 0, out.err
    (row,) = json.loads(out.out)
    assert set(row) >= PACING_KEYS
    # 1,400 spent against 1,580.65 expected: under; (3,500 - 1,400) / 17 = 123.53 a day needed
    assert row["status"] == "under" and row["daily_needed"] == pytest.approx(123.529, abs=1e-3)
    # constant spend: the weekday schedule expects the same as pro rata
    weekly = "budget pacing --as-of 2026-03-14 --schedule weekday -f json"
    (weekday,) = json.loads(cli(*weekly.split()).out)
    assert weekday["expected_method"] == "weekday_pattern"
    assert weekday["expected_to_date"] == pytest.approx(row["expected_to_date"])
    table = cli("budget", "pacing", "--as-of", "2026-03-14")
    assert "search-march" in table.out and "under" in table.out
    assert cli("budget", "remove", "search-march").code == 0
    assert json.loads(cli("budget", "list", "--format", "json").out) == []


BAD_INPUT = [
    (f"goal add g --kpi colour --target 1 {MARCH}", ["unknown KPI 'colour'"]),
    ("goal add g --kpi roas --target 1 --from 2026-03-31 --to 2026-03-01", ["dates reversed"]),
    ("goal add g --kpi roas --target 1 --from 2026-02-30 --to 2026-03-01", ["--from", "not a date"]),
    (f"goal add g --kpi roas --target 1 {MARCH} --channel TV", ["unknown channel 'TV'", "Search"]),
    ("goal status --as-of yesterday", ["--as-of", "not a date"]),
    ("goal remove nope", ["no goal named 'nope'"]),
    (f"budget set b --amount 0 {MARCH}", ["positive"]),
    ("budget pacing --tolerance 2", ["tolerance 2.0", "[0, 1)"]),
    ("budget pacing --schedule monthly", ["schedule 'monthly'", "pro_rata, weekday"]),
]


def test_bad_input_is_one_line_and_exit_2(cli) -> None:
    # one test for all cases: every CLI call builds the whole app (about a second of CPU)
    for args, words in BAD_INPUT:
        _error(cli(*args.split()), *words)
    assert json.loads(cli("goal", "list", "--format", "json").out) == []
    assert json.loads(cli("budget", "list", "--format", "json").out) == []
