"""Two processes on one workspace: readers never fail while a load runs, a second writer waits or gives up
with one line, and the rows of a killed load are never seen (real processes, bounded in time)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from trueroi.ingest import import_file
from trueroi.workspace import Workspace, WorkspaceConfig

FIXTURES = Path(__file__).parents[1] / "ingest" / "fixtures"
ENV = {**os.environ, "PYTHONWARNINGS": "ignore", "TRUEROI_LOCK_TIMEOUT": "120"}
CLI = [sys.executable, "-m", "trueroi.cli.main"]

# Imports a file in its own process, printing "staged" once its first chunk of rows has been read, then
# pausing for argv[4] seconds (a long parse).
IMPORT_SCRIPT = """
import sys, time
from trueroi.ingest import import_file
from trueroi.workspace import Workspace
seen = []
def on_rows(n):
    seen.append(n)
    if len(seen) == 1:
        print("staged", flush=True)
        time.sleep(float(sys.argv[4]))
ws = Workspace.open(sys.argv[1])
result = import_file(ws, sys.argv[2], sys.argv[3], on_rows=on_rows)
ws.close()
print("done", sum(result.rows.values()), flush=True)
"""


def _touch_csv(path: Path, rows: int, *, day: str = "2025-01-01", prefix: str = "u") -> Path:
    """A session log: ``rows`` sessions of 20 000 users on one day, a third from Google Ads."""
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT '{prefix}' || (i % 20000) AS user_id,
                     TIMESTAMP '{day} 00:00:00' + INTERVAL (i % 86000) SECOND AS ts,
                     '{prefix}s' || i AS session_id,
                     CASE WHEN i % 3 = 0 THEN 'https://shop.example/?utm_source=google&utm_medium=cpc'
                          ELSE 'https://shop.example/p/' || (i % 50) END AS landing_page
              FROM range({rows}) t(i)) TO '{path}' (HEADER, DELIMITER ',')""")
    con.close()
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A closed workspace with orders, touchpoints and exchange rates (enough for ``trueroi kpis``)."""
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(name="shop"))
    for fmt in ("fx-rates", "orders", "touchpoints"):
        import_file(ws, fmt, FIXTURES / f"{fmt.replace('-', '_')}.csv")
    ws.close()
    return tmp_path / "ws"


def _start_import(ws: Path, fmt: str, path: Path, pause: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", IMPORT_SCRIPT, str(ws), fmt, str(path), str(pause)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _outside_count(db: Path, table: str = "touchpoints") -> int | None:
    """Rows of ``table`` as a DuckDB reader outside trueroi sees them (None while a writer holds the file)."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.IOException:
        return None
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_reports_run_while_a_large_import_runs_in_another_process(shop: Path, tmp_path: Path) -> None:
    big = _touch_csv(tmp_path / "sessions.csv", 150_000)
    loader = _start_import(shop, "touchpoints", big, pause=5.0)
    try:
        assert loader.stdout.readline().strip() == "staged"
        runs = 0
        while loader.poll() is None or runs < 2:
            kpis = subprocess.run(
                [*CLI, "kpis", "-w", str(shop), "--format", "json"],
                capture_output=True,
                text=True,
                env=ENV,
                timeout=300,
            )
            assert kpis.returncode == 0, kpis.stderr
            assert "revenue" in json.loads(kpis.stdout)["totals"]
            runs += 1
        out, err = loader.communicate(timeout=300)
    finally:
        loader.kill()
    assert loader.returncode == 0, err
    assert out.split() == ["done", "150000"]
    with Workspace.open(shop) as ws:
        assert ws.row_count("touchpoints") == 150_000 + 8  # the fixture's 8 sessions


def test_a_second_writer_waits_then_loads(shop: Path, tmp_path: Path) -> None:
    first = _touch_csv(tmp_path / "a.csv", 60_000, prefix="a")
    second = _touch_csv(tmp_path / "b.csv", 60_000, prefix="b")
    loaders = [_start_import(shop, "touchpoints", first), _start_import(shop, "touchpoints", second)]
    results = [p.communicate(timeout=300) for p in loaders]
    assert [p.returncode for p in loaders] == [0, 0], [err for _, err in results]
    assert [out.split()[-1] for out, _ in results] == ["60000", "60000"]
    with Workspace.open(shop) as ws:
        assert ws.row_count("touchpoints") == 120_000 + 8
        assert ws.row_count("imports") == 5


def test_a_writer_that_waits_too_long_fails_with_one_line(shop: Path) -> None:
    env = {**ENV, "TRUEROI_LOCK_TIMEOUT": "0.5"}
    with Workspace.open(shop) as holder, holder.writing("a long repair"):
        before = time.monotonic()
        result = subprocess.run(
            [*CLI, "import", "shopify-orders", str(FIXTURES / "shopify_orders.csv"), "-w", str(shop)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        waited = time.monotonic() - before
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("waiting for process") and "(a long repair) to finish writing" in lines[0]
    assert lines[1].startswith("error: workspace")
    assert "(a long repair) was still writing after 0.5 s" in lines[1]
    assert "Traceback" not in result.stderr and waited < 60
    with Workspace.open(shop) as ws:
        assert ws.row_count("imports") == 3  # nothing was loaded


# Kill moments: right after the first rows were staged, after some seconds (staging or commit, depending on
# the machine), and the moment the commit has taken the write lock (its gate file names the import).
KILL_MOMENTS = ("staged", 1.0, 3.0, "commit")


def _wait_for_commit(gate: Path, loader: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while loader.poll() is None and time.monotonic() < deadline:
        if gate.exists() and "import of sessions.csv" in gate.read_text():
            return
        time.sleep(0.002)
    raise AssertionError("the load never reached its commit")


@pytest.mark.parametrize("moment", KILL_MOMENTS)
def test_a_killed_load_is_never_seen_and_the_next_open_cleans_up(shop: Path, tmp_path: Path, moment) -> None:
    big = _touch_csv(tmp_path / "sessions.csv", 120_000)
    db = shop / "warehouse.duckdb"
    before = _outside_count(db)
    loader = _start_import(shop, "touchpoints", big)
    assert loader.stdout.readline().strip() == "staged"
    seen = set()
    if moment == "commit":
        _wait_for_commit(shop / ".trueroi" / "warehouse.duckdb.gate", loader)
    elif moment != "staged":
        deadline = time.monotonic() + moment
        while time.monotonic() < deadline and loader.poll() is None:
            seen.add(_outside_count(db))  # a reader outside trueroi, while the load runs
    if loader.poll() is None:  # not reaped yet: a finished but unreaped child is still there to kill
        os.kill(loader.pid, signal.SIGKILL)
    loader.communicate(timeout=60)
    after = _outside_count(db)
    seen.discard(None)
    if loader.returncode == -signal.SIGKILL:  # killed before it finished: nothing of it anywhere
        assert after == before and seen <= {before}
    else:  # it finished first: all of its rows, and never a part of them
        assert moment not in ("staged", "commit")
        assert after == before + 120_000 and seen <= {before, before + 120_000}
    with Workspace.open(shop) as ws:  # opening cleans what the killed load left
        assert list((shop / ".trueroi" / "staging").glob("*.duckdb")) == []
        assert ws.row_count("touchpoints") == after
        assert set(ws.table("imports").status.execute()) == {"loaded"}
