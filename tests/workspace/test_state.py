"""Declared workspace tables (goals, budgets, alert rules): upsert by key, delete, types kept."""

from __future__ import annotations

import datetime as dt

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
