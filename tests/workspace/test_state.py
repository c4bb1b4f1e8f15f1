"""Declared workspace tables (goals, budgets, alert rules): upsert by key, delete, types kept."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time

from trueroi.workspace import Workspace
from trueroi.workspace.config import Branding, WorkspaceConfig
from trueroi.workspace.state import StateTable

GOALS = StateTable(
    "goals_t", {"name": "string", "target": "float64", "start": "date", "n": "int64"}, key=("name",)
)


def test_upsert_replaces_by_key_and_keeps_types(workspace):
    assert GOALS.records(workspace) == []
    GOALS.upsert(workspace, [{"name": "a", "target": 1.0, "start": dt.date(2025, 1, 1), "n": 3}])
    GOALS.upsert(workspace, [{"name": "b", "target": 2.5, "start": dt.date(2025, 1, 2), "n": None}])
    GOALS.upsert(workspace, [{"name": "a", "target": 5.0, "start": dt.date(2025, 1, 3), "n": 4}])
    rows = sorted(GOALS.records(workspace), key=lambda r: r["name"])
    assert rows == [
        {"name": "a", "target": 5.0, "start": dt.date(2025, 1, 3), "n": 4},
        {"name": "b", "target": 2.5, "start": dt.date(2025, 1, 2), "n": None},
    ]
    assert GOALS.delete(workspace, name="b") == 1
    assert GOALS.delete(workspace, name="zzz") == 0
    assert [r["name"] for r in GOALS.records(workspace)] == ["a"]


def test_client_branding_round_trips_through_toml(tmp_path):
    cfg = WorkspaceConfig(clients={"acme": Branding(name="ACME GmbH", primary_color="#112233")})
    cfg.save(tmp_path)
    text = (tmp_path / "trueroi.toml").read_text()
    assert "[clients.acme]" in text and 'name = "ACME GmbH"' in text
    again = WorkspaceConfig.load(tmp_path)
    assert again.branding_for("acme").primary_color == "#112233"
    assert again.branding_for(None).name == "trueroi"


# Rewrites a 10-row state table again and again, every row holding the round's number, until killed. A table
# rewritten as separate statements (create a copy, drop the table, rename the copy) is killed right between
# the drop and the rename, the moment where such a rewrite leaves no table at all.
CHURN = """
import os, signal, sys
import ibis.backends.duckdb as duckdb_backend
from trueroi.workspace import Workspace
from trueroi.workspace.state import StateTable
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
duckdb_backend.AlterTable = die
table = StateTable("rules_t", {"name": "string", "round": "int64"}, key=("name",))
ws = Workspace.open(sys.argv[1])
print("ready", flush=True)
n = 1
while True:
    rows = [{"name": f"r{k}", "round": n} for k in range(10)]
    (table.upsert if n % 2 else table.write)(ws, rows)
    n += 1
"""
RULES = StateTable("rules_t", {"name": "string", "round": "int64"}, key=("name",))


def test_a_process_killed_while_it_changes_a_state_table_leaves_old_or_new_content(workspace) -> None:
    """SIGKILL at random moments of a loop of state changes: the table is always whole (10 rows of one round),
    never missing, as a fresh process sees it."""
    RULES.write(workspace, [{"name": f"r{k}", "round": 0} for k in range(10)])
    path = str(workspace.path)
    workspace.close()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    rng = random.Random(7)
    rounds = []
    for _ in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", CHURN, path], stdout=subprocess.PIPE, text=True, env=env
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.3, 1.5))
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(60)
        child.stdout.close()
        with Workspace.open(path) as ws:
            rows = RULES.records(ws)
        assert sorted(r["name"] for r in rows) == [f"r{k}" for k in range(10)]
        assert len({r["round"] for r in rows}) == 1
        rounds.append(rows[0]["round"])
    assert max(rounds) > 0  # the children did change the table before they were killed
