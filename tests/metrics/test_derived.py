"""Derived tables: stored once, reused while the data holds, rebuilt after any load into what they read."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from trueroi.errors import DataValidationError
from trueroi.metrics import kpi_report
from trueroi.workspace import Workspace
from trueroi.workspace.derived import STATE_TABLE, materialized

from .helpers import load, order, touch

D1, D2 = date(2025, 7, 1), date(2025, 7, 2)


def _counting_build(ws: Workspace, calls: list[int]):
    def build():
        calls.append(1)
        tp = ws.table("touchpoints")
        return tp.group_by("channel").aggregate(n=tp.count())

    return build


def _stored(ws: Workspace, name: str, calls: list[int], **settings) -> dict[str, int]:
    t = materialized(ws, name, _counting_build(ws, calls), reads=("touchpoints",), settings=settings)
    return dict(t.execute().itertuples(index=False, name=None))


def test_built_once_then_reused_until_a_load(workspace: Workspace) -> None:
    load(workspace, "touchpoints", [touch("u1", datetime(2025, 7, 1, 8), "Email")])
    calls: list[int] = []
    assert _stored(workspace, "t", calls) == {"Email": 1}
    assert _stored(workspace, "t", calls) == {"Email": 1}
    assert len(calls) == 1  # the second read found the stored table
    # a load into another table does not touch it; a load into touchpoints does
    load(workspace, "orders", [order("o1", "u1", datetime(2025, 7, 1, 9), 50.0, 20.0)])
    assert _stored(workspace, "t", calls) == {"Email": 1} and len(calls) == 1
    load(workspace, "touchpoints", [touch("u2", datetime(2025, 7, 2, 8), "Email")])
    assert _stored(workspace, "t", calls) == {"Email": 2} and len(calls) == 2
    # another setting is another result
    assert _stored(workspace, "t", calls, lookback=7) == {"Email": 2} and len(calls) == 3


def test_a_reopened_workspace_reads_the_stored_table(workspace: Workspace) -> None:
    load(workspace, "touchpoints", [touch("u1", datetime(2025, 7, 1, 8), "Email")])
    calls: list[int] = []
    _stored(workspace, "t", calls)
    path = workspace.path
    workspace.close()
    with Workspace.open(path) as again:
        assert _stored(again, "t", calls) == {"Email": 1}
        assert len(calls) == 1


def test_a_direct_delete_is_seen_through_the_row_count(workspace: Workspace) -> None:
    load(
        workspace,
        "touchpoints",
        [touch("u1", datetime(2025, 7, 1, 8), "Email"), touch("u2", datetime(2025, 7, 1, 9), "Display")],
    )
    calls: list[int] = []
    assert _stored(workspace, "t", calls) == {"Email": 1, "Display": 1}
    workspace.con.con.execute("DELETE FROM touchpoints WHERE channel = 'Display'")
    assert _stored(workspace, "t", calls) == {"Email": 1} and len(calls) == 2


def test_kpis_follow_every_load(workspace: Workspace) -> None:
    """Revenue by last non-direct click and sessions after each of three loads, worked out by hand.

    Load 1: u1 touches Email on 07-01 08:00 and orders 100 at 09:00 -> Email 100, 1 session.
    Load 2: u1 touches Display on 07-01 08:30 (between) -> the order moves to Display; Email and Display
    1 session each.
    Load 3: a second order of u2, who has no touch -> (unattributed) 40.
    """
    load(workspace, "touchpoints", [touch("u1", datetime(2025, 7, 1, 8), "Email")])
    load(workspace, "orders", [order("o1", "u1", datetime(2025, 7, 1, 9), 100.0, 40.0)])

    def by_channel() -> pd.DataFrame:
        rows = kpi_report(workspace, by="channel", start=D1, end=D2).rows
        return rows.set_index("channel")[["revenue", "sessions"]]

    first = by_channel()
    assert first.loc["Email"].tolist() == [100.0, 1.0]
    load(workspace, "touchpoints", [touch("u1", datetime(2025, 7, 1, 8, 30), "Display")])
    second = by_channel()
    assert second.loc["Display"].tolist() == [100.0, 1.0]
    assert second.loc["Email"].tolist() == [0.0, 1.0]
    load(workspace, "orders", [order("o2", "u2", datetime(2025, 7, 2, 9), 40.0, 10.0)])
    third = by_channel()
    assert third.loc["(unattributed)", "revenue"] == 40.0
    assert third["revenue"].sum() == 140.0


def test_a_failed_load_keeps_the_stored_tables(workspace: Workspace) -> None:
    load(workspace, "touchpoints", [touch("u1", datetime(2025, 7, 1, 8), "Email")])
    load(workspace, "orders", [order("o1", "u1", datetime(2025, 7, 1, 9), 100.0, 40.0)])
    before = kpi_report(workspace, by="channel").rows
    state = workspace.con.con.execute(f"SELECT * FROM {STATE_TABLE} ORDER BY name").fetchall()
    bad = pd.DataFrame({"order_id": ["o2"], "user_id": ["u1"], "ts": ["not a time"], "revenue": [1.0]})
    with pytest.raises(DataValidationError):
        workspace.load({"orders": bad}, source_format="test", file_name="bad.csv", sha256="bad")
    assert workspace.con.con.execute(f"SELECT * FROM {STATE_TABLE} ORDER BY name").fetchall() == state
    pd.testing.assert_frame_equal(kpi_report(workspace, by="channel").rows, before)
