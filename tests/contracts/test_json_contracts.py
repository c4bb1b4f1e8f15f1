"""The JSON every ``trueroi`` command prints (``--format json``; ``report --out x.json``) keeps its shape.

That JSON is a public contract: scripts read it and the web API serves the same documents. Each test runs
one command in this process through ``trueroi.cli.main.main`` and compares the shape of its output (keys,
element shapes, scalar types; see ``jsonshape.py``) with the snapshot ``shapes/<command>[__<variant>].json``.

The snapshots were written from the CLI before the faces were refactored to render the library's
``to_dict()`` (commit 3986e8b), by running this module against that code with ``TRUEROI_WRITE_SHAPES=1``::

    git worktree add ../old 3986e8b
    cd ../old && cp -r <here>/tests/contracts tests/ && \\
        TRUEROI_WRITE_SHAPES=1 PYTHONPATH=src python -m pytest tests/contracts

Do not rewrite them from new code to make a failure go away: a difference is a change of the contract.
A deliberate, additive change is recorded by rewriting only its snapshots (``-k NAME``) and reviewing that
the diff adds keys and removes none. Recorded so far: ``paid_roas``, ``paid_cpa``, ``mer`` in the KPI
totals (issue 17.14); ``roas``, ``mroas``, ``kpi``, ``roi_basis``, ``margin_rate``, ``roi_note`` in ``mmm
fit`` (17.16, ``roi`` now on margin); ``margin``, ``tracking``, ``experiments``, ``next_steps_appendix`` and
each step's ``evidence`` in the report (17.12-17.14); ``mmm fit --halo`` (``mmm_fit__halo``, issue 22:
``roi`` is the total effect, ``roi_direct``/``roi_indirect`` beside it, ``roi_net_of_halo`` for brand
search, and a ``halo`` block; ``mmm_fit__geo_halo`` the same with ``geos``).

Commands that write state (goal add, budget set, alert add/remove, monitor run/watch, experiment lift
--save) run once, in order, on a copy of the small demo shop (the ``scenario`` fixture); the tests read
that copy. Fitting the mix model is marked slow.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import threading
from contextlib import nullcontext, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pandas as pd
import pytest

from .jsonshape import differences, merge, shape

SHAPES = Path(__file__).parent / "shapes"
WRITE = os.environ.get("TRUEROI_WRITE_SHAPES") == "1"
FIXTURES = Path(__file__).parents[1] / "ingest" / "fixtures"
JSON = ["--format", "json"]
LIFT = ["--test-users", "10000", "--test-conversions", "300", "--control-users", "10000"]
LIFT += ["--control-conversions", "250"]
CRO = ["--control-visitors", "10000", "--control-conversions", "200", "--variant-visitors", "10000"]
CRO += ["--variant-conversions", "300"]
CALIBRATION_END = "1997-09-30"  # of the CDNOW sample (39 weeks)
LIFT_SAVE = ["--channel", "Display", "--start", "2026-08-01", "--end", "2026-08-28"]


# -- running the CLI and checking its output --------------------------------------------------------------
@dataclass
class Result:
    args: list[str]
    code: int
    out: str
    err: str


@functools.cache
def app() -> Any:
    """The whole ``trueroi`` app as one Click command, built once: every build adds each group's commands
    to the groups again, so building it for every call gets slower with each call."""
    import typer

    from trueroi.cli.main import build_app

    return typer.main.get_command(build_app())


def invoke(*args: Any) -> Result:
    """Run ``trueroi ARGS`` in this process through ``main``, as the console script does (errors: exit 2)."""
    from trueroi.cli import main as cli_main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    built_once: Any = nullcontext()
    if hasattr(cli_main, "build_app"):
        command = app()  # built before build_app is patched
        built_once = mock.patch.object(cli_main, "build_app", lambda: command)
    with redirect_stdout(out), redirect_stderr(err), built_once:
        try:
            cli_main.main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(argv, code, out.getvalue(), err.getvalue())


def parsed(result: Result, code: int = 0) -> Any:
    """The JSON document ``result`` printed, after checking its exit code."""
    assert result.code == code, (
        f"trueroi {' '.join(result.args)} exited {result.code} (expected {code}):\n"
        f"{result.err[-3000:]}{result.out[-1000:]}"
    )
    return json.loads(result.out)


def documents(result: Result, code: int = 0) -> list[Any]:
    """Every JSON document of an output that prints one per pass (``monitor watch``)."""
    assert result.code == code, f"trueroi {' '.join(result.args)} exited {result.code}:\n{result.err}"
    decoder, text, pos, found = json.JSONDecoder(), result.out, 0, []
    while text[pos:].strip():
        while text[pos].isspace():
            pos += 1
        obj, pos = decoder.raw_decode(text, pos)
        found.append(obj)
    return found


def check(name: str, *payloads: Any) -> None:
    """Compare the shape of ``payloads`` (their union) with ``shapes/NAME.json``, or write it there."""
    got = shape(payloads[0])
    for payload in payloads[1:]:
        got = merge(got, shape(payload))
    path = SHAPES / f"{name}.json"
    if WRITE:
        SHAPES.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert path.is_file(), f"no recorded contract {path.name}"
    found = differences(json.loads(path.read_text(encoding="utf-8")), got)
    assert not found, f"{name}: the JSON no longer has the recorded shape:\n" + "\n".join(found)


class Checks:
    """Every shape check of a test, failing once at the end with all the differences, so a sequence of
    commands goes on after one output changed and one run shows every change."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, name: str, *payloads: Any) -> None:
        try:
            check(name, *payloads)
        except AssertionError as exc:
            self.failures.append(str(exc))

    def done(self) -> None:
        assert not self.failures, "\n\n".join(self.failures)


@pytest.fixture
def checks() -> Checks:
    return Checks()


# -- test data --------------------------------------------------------------------------------------------
class Receiver:
    """A local webhook receiver answering ``status`` to every POST."""

    def __init__(self, status: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def scenario(demo_shop, tmp_path_factory):
    """A copy of the demo shop after the commands that write state ran on it, in order, with their results.

    Goals and budgets for September-October 2026 (the data ends on 2026-09-30), alert rules with a
    receiver that accepts and one that fails (``max_attempts = 1``: given up at once), one rule removed,
    ``monitor run`` as of 2026-09-10, one ``monitor watch`` pass up to the last day, a saved lift test.
    """
    from trueroi.workspace import WorkspaceConfig

    demo_shop.ws.con.raw_sql("CHECKPOINT")  # everything in the database file before it is copied
    path = tmp_path_factory.mktemp("contracts") / "shop"
    shutil.copytree(demo_shop.ws.path, path)
    config = WorkspaceConfig.load(path)
    config.alerting.max_attempts = 1
    config.save(path)
    ok, down = Receiver(204), Receiver(500)
    w = ["-w", path]
    autumn = ["--from", "2026-09-01", "--to", "2026-10-31"]
    search = ["--channel", "Non-Brand Search"]
    q3 = ["--from", "2026-07-01", "--to", "2026-09-30"]
    to_ok = ["--webhook", ok.url, "--email", "team@example.com"]  # no SMTP server: the e-mail fails
    steps = [
        ("goal_add", ["goal", "add", "revenue-autumn", "--kpi", "revenue", "--target", "60000", *autumn]),
        ("goal_add", ["goal", "add", "search-cpa", "--kpi", "cpa", "--target", "40", *search, *autumn]),
        ("budget_set", ["budget", "set", "q3", "--amount", "30000", *q3]),
        ("budget_set", ["budget", "set", "search-autumn", "--amount", "9000", *search, *autumn]),
        (
            "alert_add",
            ["alert", "add", "shop", "--kpi", "spend", "--channel", "Shopping", "--above", "0", *to_ok],
        ),
        (
            "alert_add",
            ["alert", "add", "search", "--kpi", "spend", *search, "--above", "0", "--webhook", down.url],
        ),
        ("alert_add", ["alert", "add", "brand", "--kpi", "cpa", "--campaign", "brand_broad", "--anomaly"]),
        ("alert_add", ["alert", "add", "gone", "--kpi", "orders", "--below", "1", "--severity", "critical"]),
        ("alert_remove", ["alert", "remove", "gone"]),
        ("monitor_run", ["monitor", "run", "--as-of", "2026-09-10"]),
        ("monitor_watch", ["monitor", "watch", "--every", "1s", "--max-runs", "1"]),
        ("experiment_lift__save", ["experiment", "lift", *LIFT, "--spend", "5000", "--save", *LIFT_SAVE]),
    ]
    done: dict[str, list[Result]] = {}
    try:
        for name, args in steps:
            done.setdefault(name, []).append(invoke(*args, *w, *JSON))
    finally:
        ok.stop()
        down.stop()
    return SimpleNamespace(path=str(path), w=w, done=done)


@pytest.fixture(scope="module")
def clv_csv(tmp_path_factory) -> Path:
    """The CDNOW sample's transaction log (2,357 customers, 1997-1998: cust, day, value) shipped in the
    test-only package lifetimes, as the CLV tests read it."""
    import importlib.util

    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations, "the test-only package lifetimes is missing"
    raw = pd.read_csv(
        Path(spec.submodule_search_locations[0]) / "datasets" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "cust", "day", "cds", "value"],
        dtype={"day": str},
    )
    raw["day"] = pd.to_datetime(raw["day"], format="%Y%m%d").dt.date
    path = tmp_path_factory.mktemp("clv") / "cdnow_log.csv"
    raw[["cust", "day", "value"]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def demo_log(demo_shop, tmp_path_factory) -> Path:
    """The demo shop's sale orders as a transaction log (customer_id, date, amount), customers first seen
    before September 2026 (one first seen on the last day has T = 0, which the fitters reject)."""
    import pyarrow.parquet as pq

    orders = pd.concat([pq.read_table(p).to_pandas() for p in demo_shop.files.parts("orders")])
    orders = orders[orders["status"].isin(["paid", "fulfilled"])]
    log = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].astype(str),
            "date": pd.to_datetime(orders["ts"], utc=True).dt.strftime("%Y-%m-%d"),
            "amount": orders["revenue"].astype(float),
        }
    )
    first = log.groupby("customer_id")["date"].transform("min")
    path = tmp_path_factory.mktemp("clv") / "demo_log.csv"
    log[first < "2026-09-01"].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def geo_csv(tmp_path_factory) -> SimpleNamespace:
    """A simulated geo panel (22 locations, 90 days, the last 14 treated in 2 of them)."""
    from trueroi.experiments.simulate import simulate_geo_panel

    sim = simulate_geo_panel(n_locations=22, n_periods=90, n_test=14, n_treated=2, effect=0.1, seed=8)
    path = tmp_path_factory.mktemp("geo") / "geo.csv"
    sim.data.assign(date=sim.data["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    columns = ["--location", "location", "--date", "date", "--kpi", "kpi"]
    return SimpleNamespace(
        path=path, columns=columns, treated=",".join(sim.treated), start=str(sim.start.date())
    )


@pytest.fixture(scope="module")
def curves_dir(tmp_path_factory) -> Path:
    """A MODEL_DIR holding parametric response curves (curves.json) for two channels, and a plan file."""
    from trueroi.budget import ParametricCurves

    curves = ParametricCurves(
        ["search", "social"], [250.0, 250.0], "log", beta=[300.0, 200.0], k=[100.0, 50.0]
    )
    directory = tmp_path_factory.mktemp("curves")
    (directory / "curves.json").write_text(json.dumps(curves.to_dict()))
    (directory / "even.json").write_text(json.dumps({"search": 250.0, "social": 250.0}))
    return directory


# -- workspace analyses -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("kpis", ["kpis"]),
        ("kpis__compare_yoy", ["kpis", "--period", "2026-Q3", "--compare", "yoy"]),
        ("kpis__attribution_markov", ["kpis", "--attribution", "markov"]),
        ("kpis__by_channel_week", ["kpis", "--by", "channel,week"]),
        ("kpis__value_clv", ["kpis", "--value", "clv"]),
        ("attribution__model_all", ["attribution", "--model", "all"]),
        ("attribution__view_roi", ["attribution", "--view", "roi"]),
        ("attribution__view_paths", ["attribution", "--view", "paths"]),
        ("quality", ["quality"]),
        ("monitor_check", ["monitor", "check", "--from", "2026-09-01"]),
    ],
)
def test_workspace_analyses(scenario, name: str, args: list[str]) -> None:
    check(name, parsed(invoke(*args, *scenario.w, *JSON)))


def test_attribution_of_a_paths_file(tmp_path: Path) -> None:
    paths = tmp_path / "paths.csv"
    paths.write_text(
        "path,conversions,value,nulls\nSearch > Email,3,30,2\nDisplay > Search,1,20,5\nEmail,2,10,1\n"
    )
    check("attribution__paths_file", parsed(invoke("attribution", paths, "--model", "all", *JSON)))


def test_report_json(scenario, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert invoke("report", "--period", "2026-Q3", "--out", out, *scenario.w).code == 0
    check("report", json.loads(out.read_text(encoding="utf-8")))


# -- goals, budgets, alerts and the monitor (state written by the scenario) --------------------------------
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("goal_add", 0),
        ("budget_set", 0),
        ("alert_add", 0),
        ("alert_remove", 0),
        ("monitor_run", 1),  # one receiver answered 500 and max_attempts is 1: given up, exit code 1
        ("experiment_lift__save", 0),
    ],
)
def test_commands_that_write_state(scenario, name: str, code: int) -> None:
    results = scenario.done[name]
    check(name, *[parsed(r, code) for r in results])


def test_monitor_watch(scenario) -> None:
    (result,) = scenario.done["monitor_watch"]
    check("monitor_watch", *documents(result, code=1))


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("goal_list", ["goal", "list"]),
        ("goal_status", ["goal", "status"]),
        ("budget_list", ["budget", "list"]),
        ("budget_pacing", ["budget", "pacing"]),
        ("alert_list", ["alert", "list"]),
        ("alert_outbox", ["alert", "outbox"]),
        ("experiment_list", ["experiment", "list"]),
    ],
)
def test_stored_state(scenario, name: str, args: list[str]) -> None:
    check(name, parsed(invoke(*args, *scenario.w, *JSON)))


# -- imports ----------------------------------------------------------------------------------------------
def test_import(checks: Checks, tmp_path: Path) -> None:
    from trueroi.workspace import Workspace, WorkspaceConfig

    Workspace.init(tmp_path / "ws", WorkspaceConfig(name="contracts")).close()
    w = ["-w", tmp_path / "ws"]
    ads = FIXTURES / "google_ads_api.csv"
    checks("import", parsed(invoke("import", "google-ads", ads, *w, *JSON)))
    both = [FIXTURES / "orders.csv", FIXTURES / "fx_rates.csv"]
    first, again = (parsed(invoke("import", "auto", *both, *w, *JSON)) for _ in range(2))
    checks("import__auto", first, again)  # again: every file skipped
    checks("import__detect", parsed(invoke("import", "--detect", ads, *both, *JSON)))
    checks.done()


# -- experiments ------------------------------------------------------------------------------------------


def test_experiment_lift(checks: Checks, scenario) -> None:
    money = ["--test-revenue", "30000", "--control-revenue", "25000", "--spend", "5000"]
    checks("experiment_lift", parsed(invoke("experiment", "lift", *LIFT, *money, *JSON)))
    tags = ["--test-tag", "brand_broad", "--control-tag", "brand_exact", "--start", "2026-07-01"]
    tags += ["--end", "2026-09-30", "--spend", "2000"]
    checks("experiment_lift__tags", parsed(invoke("experiment", "lift", *tags, *scenario.w, *JSON)))
    checks.done()


def test_experiment_plan() -> None:
    needed = parsed(invoke("experiment", "plan", "--baseline-rate", "0.02", "--lift", "0.1", *JSON))
    users = ["--test-users", "50000", "--one-sided"]
    check(
        "experiment_plan",
        needed,
        parsed(invoke("experiment", "plan", "--baseline-rate", "0.02", *users, *JSON)),
    )


def test_experiment_geo(checks: Checks, geo_csv) -> None:
    args = ["experiment", "geo", geo_csv.path, *geo_csv.columns, "--treated", geo_csv.treated]
    args += ["--start", geo_csv.start]
    checks("experiment_geo", parsed(invoke(*args, "--spend", "2000", *JSON)))
    checks("experiment_geo__tbr", parsed(invoke(*args, "--method", "tbr", *JSON)))
    checks.done()


def test_experiment_design(checks: Checks, geo_csv) -> None:
    common = [geo_csv.path, *geo_csv.columns, "--duration", "10"]
    power = ["--treated", geo_csv.treated, "--effects", "0,0.2", "--windows", "3"]
    checks("experiment_power", parsed(invoke("experiment", "power", *common, *power, *JSON)))
    markets = ["--effect", "0.2", "--n-treated", "2", "--candidates", "3", "--windows", "2", "--cpic", "4"]
    checks(
        "experiment_select-markets", parsed(invoke("experiment", "select-markets", *common, *markets, *JSON))
    )
    checks.done()


def test_experiment_cro(checks: Checks, tmp_path: Path) -> None:
    channels = tmp_path / "channels.csv"
    channels.write_text(
        "channel,spend,conversions,revenue,margin\nsearch,1000,50,5000,2000\nsocial,800,20,1500,600\n"
    )
    checks("experiment_cro", parsed(invoke("experiment", "cro", *CRO, *JSON)))
    money = ["--control-revenue", "20000", "--variant-revenue", "27000", "--metric", "revenue_per_visitor"]
    checks(
        "experiment_cro__channels",
        parsed(invoke("experiment", "cro", *CRO, *money, "--channels", channels, *JSON)),
    )
    checks.done()


# -- customer lifetime value ------------------------------------------------------------------------------
CDNOW = ["--customer", "cust", "--date", "day", "--calibration-end", CALIBRATION_END]


def test_clv_fit(checks: Checks, clv_csv: Path) -> None:
    args = ["clv", "fit", clv_csv, *CDNOW]
    checks("clv_fit", parsed(invoke(*args, "--amount", "value", *JSON)))
    checks("clv_fit__no_amount", parsed(invoke(*args, *JSON)))
    checks("clv_fit__pareto", parsed(invoke(*args, "--amount", "value", "--model", "pareto", *JSON)))
    checks("clv_fit__mbgnbd", parsed(invoke(*args, "--amount", "value", "--model", "mbgnbd", *JSON)))
    checks.done()


def test_clv_fit_at_a_boundary(demo_log: Path) -> None:
    # the demo shop's few repeat buyers put BG/NBD at a boundary: diagnostics, warnings, reduced parameters
    check("clv_fit__boundary", parsed(invoke("clv", "fit", demo_log, "--amount", "amount", *JSON)))


def test_clv_predict(checks: Checks, clv_csv: Path) -> None:
    args = ["clv", "predict", clv_csv, *CDNOW, "--amount", "value"]
    checks("clv_predict", parsed(invoke(*args, *JSON)))
    checks("clv_predict__interval", parsed(invoke(*args, "--interval", "0.9", "--draws", "40", *JSON)))
    checks("clv_predict__group_by", parsed(invoke(*args, "--group-by", "cohort", "--draws", "40", *JSON)))
    checks.done()


def test_clv_holdout(checks: Checks, clv_csv: Path) -> None:
    args = ["clv", "holdout", clv_csv, "--customer", "cust", "--date", "day"]
    args += ["--calibration-end", CALIBRATION_END]
    checks("clv_holdout", parsed(invoke(*args, *JSON)))
    checks("clv_holdout__over_time", parsed(invoke(*args, "--over-time", *JSON)))
    checks.done()


# -- budget plans on response curves ----------------------------------------------------------------------
def test_budget_plans_on_curves(checks: Checks, curves_dir: Path) -> None:
    _budget_plans(checks, curves_dir, total="500", kpi_target="1500", suffix="")
    checks.done()


def _budget_plans(checks: Checks, model_dir: Path, total: str, kpi_target: str, suffix: str) -> None:
    checks(
        f"budget_optimize{suffix}", parsed(invoke("budget", "optimize", model_dir, "--total", total, *JSON))
    )
    flighting = ["--weeks", "4", "--flighting", "--max-change", "0.5"]
    checks(
        f"budget_optimize__flighting{suffix}",
        parsed(invoke("budget", "optimize", model_dir, "--total", total, *flighting, *JSON)),
    )
    plans = ["--plan", f"even={model_dir / 'even.json'}"] if (model_dir / "even.json").exists() else []
    checks(f"budget_compare{suffix}", parsed(invoke("budget", "compare", model_dir, *plans, *JSON)))
    checks(
        f"budget_target__kpi_target{suffix}",
        parsed(invoke("budget", "target", model_dir, "--kpi-target", kpi_target, *JSON)),
    )
    checks(
        f"budget_target__mroi{suffix}", parsed(invoke("budget", "target", model_dir, "--mroi", "0.5", *JSON))
    )


# -- the mix model (slow: fits) ---------------------------------------------------------------------------
FAST_MMM = ["--method", "map", "--draws", "50", "--seed", "1"]


@pytest.mark.slow
def test_mmm_fit_then_budget_and_report(checks: Checks, scenario, tmp_path: Path) -> None:
    model = tmp_path / "model"
    checks("mmm_fit", parsed(invoke("mmm", "fit", "--out", model, *FAST_MMM, *scenario.w, *JSON)))
    _budget_plans(checks, model, total="200", kpi_target="300", suffix="__mmm")  # now ~190 a week for ~250
    out = tmp_path / "report.json"
    assert invoke("report", "--period", "2026-Q3", "--model", model, "--out", out, *scenario.w).code == 0
    checks("report__mmm", json.loads(out.read_text(encoding="utf-8")))
    checks.done()


@pytest.mark.slow
def test_mmm_fit_geo(tmp_path: Path) -> None:
    from trueroi.mmm.simulate import simulate_geo

    panel = simulate_geo(seed=5, n_geos=4, n_periods=40, n_channels=2)
    csv = tmp_path / "panel.csv"
    panel.df.to_csv(csv, index=False)
    args = [
        "mmm",
        "fit",
        csv,
        "--geo",
        "geo",
        "--channels",
        ",".join(panel.channels),
        "--out",
        tmp_path / "m",
    ]
    check("mmm_fit__geo", parsed(invoke(*args, "--holdout-weeks", "4", *FAST_MMM, *JSON)))


@pytest.mark.slow
def test_mmm_fit_halo(tmp_path: Path) -> None:
    from trueroi.mmm.halo_simulate import simulate_halo

    sim = simulate_halo(seed=0, n_periods=60)
    csv = tmp_path / "weekly.csv"
    sim.df.to_csv(csv, index=False)
    args = ["mmm", "fit", csv, "--channels", ",".join(sim.channels), "--out", tmp_path / "m"]
    args += ["--halo", ",".join(sim.halo), "--mediator", sim.mediator, "--margin-rate", "0.5"]
    check("mmm_fit__halo", parsed(invoke(*args, *FAST_MMM, *JSON)))


@pytest.mark.slow
def test_mmm_fit_geo_halo(tmp_path: Path) -> None:
    from trueroi.mmm.halo_simulate import simulate_geo_halo

    panel = simulate_geo_halo(seed=0, n_geos=3, n_periods=40)
    csv = tmp_path / "panel.csv"
    panel.df.to_csv(csv, index=False)
    args = [
        "mmm",
        "fit",
        csv,
        "--geo",
        "geo",
        "--channels",
        ",".join(panel.channels),
        "--out",
        tmp_path / "m",
    ]
    args += ["--halo", ",".join(panel.halo), "--mediator", panel.mediator, "--margin-rate", "0.5"]
    check("mmm_fit__geo_halo", parsed(invoke(*args, *FAST_MMM, *JSON)))


# -- coverage and the shape rules themselves --------------------------------------------------------------
def _json_commands() -> list[str]:
    """Every command that takes ``--format`` (json, table, csv), as "group command", plus ``report``."""
    found = []

    def walk(command: Any, path: list[str]) -> None:  # a Click command (Typer vendors its own Click)
        if hasattr(command, "commands"):
            for name, sub in sorted(command.commands.items()):
                walk(sub, [*path, name])
        elif any("--format" in getattr(p, "opts", ()) for p in command.params):
            found.append(" ".join(path))

    walk(app(), [])
    return sorted([*found, "report"])


def test_every_json_command_has_a_contract() -> None:
    path = SHAPES / "_commands.json"
    commands = _json_commands()
    if WRITE:
        SHAPES.mkdir(exist_ok=True)
        path.write_text(json.dumps(commands, indent=2) + "\n", encoding="utf-8")
    recorded = json.loads(path.read_text(encoding="utf-8"))
    gone = sorted(set(recorded) - set(commands))
    assert not gone, f"commands that printed JSON before and no longer take --format: {gone}"
    missing = sorted(set(commands) - set(recorded))
    assert not missing, (
        f"commands that take --format but are missing from {path.name}: {missing}; record their JSON "
        "shapes (TRUEROI_WRITE_SHAPES=1 -k THEIR_TESTS) and add them there"
    )
    names = {p.stem.split("__")[0] for p in SHAPES.glob("*.json")}
    uncovered = [c for c in recorded if c.replace(" ", "_") not in names]
    assert not uncovered, f"commands with no recorded JSON shape: {uncovered}"


def test_shape_rules() -> None:
    rows = [{"channel": "a", "spend": 1.0, "clv": None}, {"channel": "b", "spend": None, "extra": [1]}]
    recorded = shape({"rows": rows, "total": 3})
    assert recorded == {
        "rows": [
            "list",
            {"channel": "string", "spend": "null|number", "clv?": "null", "extra?": ["list", "number"]},
        ],
        "total": "number",
    }
    assert differences(recorded, recorded) == []
    assert differences(recorded, shape({"rows": [{"channel": "c", "spend": 2}], "total": None})) == []
    renamed = shape({"rows": [{"name": "c", "spend": 2}], "total": "3", "new": 1})
    assert sorted(differences(recorded, renamed)) == [
        "$.rows[]: key 'channel' is missing",
        "$.rows[]: key 'name' is new (not in the contract)",
        "$.total: was number, now string",
        "$: key 'new' is new (not in the contract)",
    ]
    assert differences(recorded, shape({"rows": [], "total": 1})) == [
        "$.rows: empty now, the contract's run had elements"
    ]
    assert differences(shape({"a": {"b": 1}}), shape({"a": None})) == ["$.a: was an object, now null"]
    assert differences(shape({"a": None}), shape({"a": {"b": 1}})) == []
