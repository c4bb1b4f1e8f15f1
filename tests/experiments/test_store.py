"""The calibration feed: the workspace table ``experiments`` and the lift CSV export."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import ibis
import pandas as pd
import pytest

from trueroi.errors import UsageError, WorkspaceError
from trueroi.experiments.geo import analyze_geo
from trueroi.experiments.lift import analyze_lift
from trueroi.experiments.simulate import simulate_geo_panel
from trueroi.experiments.store import (
    COLUMNS,
    TABLE,
    export_lifts,
    list_experiments,
    record_from_geo,
    record_from_lift,
    save_experiment,
)
from trueroi.workspace import Workspace


def test_table_is_created_on_first_use(workspace: Workspace) -> None:
    assert TABLE not in workspace.con.list_tables()
    assert list_experiments(workspace).empty
    assert TABLE in workspace.con.list_tables()
    assert list(workspace.con.table(TABLE).schema().names) == list(COLUMNS)


def test_holdout_and_geo_records_round_trip_to_the_lift_csv(workspace: Workspace, tmp_path) -> None:
    lift = analyze_lift(
        10_000, 300, 10_000, 250, test_revenue=30_000.0, control_revenue=25_000.0, spend=5_000.0, level=0.9
    )
    save_experiment(workspace, record_from_lift(lift, channel="meta", start="2024-03-01", end="2024-03-28"))
    save_experiment(
        workspace, record_from_lift(lift, channel="meta", start="2024-03-01", end="2024-03-28", kpi="revenue")
    )
    sim = simulate_geo_panel(n_locations=20, n_periods=80, n_test=14, n_treated=2, effect=-0.1, seed=4)
    geo = analyze_geo(
        sim.data,
        location="location",
        date="date",
        kpi="kpi",
        treated=sim.treated,
        start=sim.start,
        spend=-3_000.0,
    )  # a holdout: ads switched off in treated regions
    save_experiment(workspace, record_from_geo(geo, channel="tv", kpi="orders"))
    stored = list_experiments(workspace)
    assert list(stored["kind"]) == ["holdout", "holdout", "geo"]

    out = tmp_path / "lifts.csv"
    table = export_lifts(workspace, out)
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
    assert list(csv["start"]) == ["2024-03-01", "2024-03-01", sim.start.date().isoformat()]
    assert list(csv["end"])[-1] == sim.end.date().isoformat()
    first, second, third = csv.to_dict(orient="records")
    # holdout in conversions: 50 incremental conversions from 5 000 of spend; se from the 90% interval
    assert first["delta_spend"] == 5_000.0 and first["lift"] == pytest.approx(50.0)
    assert first["lift_se"] == pytest.approx(
        (lift.incremental_conversions.upper - lift.incremental_conversions.lower) / (2 * 1.6448536), rel=1e-6
    )
    assert second["kpi"] == "revenue" and second["lift"] == pytest.approx(5_000.0)
    # geo holdout: negative spend change, negative lift, both in the same direction
    assert third["delta_spend"] == -3_000.0 and third["lift"] < 0 and third["kpi"] == "orders"
    assert third["lift"] == pytest.approx(geo.incremental.mean)
    assert len(table) == 3
    # the mix model's reader accepts the file as written
    from trueroi.mmm.calibration import read_lift_tests

    assert len(read_lift_tests(out)) == 3
    assert len(export_lifts(workspace, tmp_path / "tv.csv", channel="tv")) == 1


def test_records_need_a_channel_and_ordered_dates(workspace: Workspace, tmp_path) -> None:
    lift = analyze_lift(1_000, 30, 1_000, 20, spend=100.0)
    with pytest.raises(UsageError, match="channel"):
        record_from_lift(lift, channel="", start="2024-01-01", end="2024-01-31")
    with pytest.raises(UsageError, match="before its start"):
        record_from_lift(lift, channel="meta", start="2024-02-01", end="2024-01-31")
    with pytest.raises(UsageError, match="revenue"):
        record_from_lift(lift, channel="meta", start="2024-01-01", end="2024-01-31", kpi="revenue")
    no_spend = record_from_lift(
        analyze_lift(1_000, 30, 1_000, 20), channel="meta", start="2024-01-01", end="2024-01-31"
    )
    assert math.isnan(no_spend.delta_spend)
    save_experiment(workspace, no_spend)
    with pytest.raises(WorkspaceError, match="no finished experiment"):
        export_lifts(workspace, tmp_path / "none.csv")  # a test without a spend change cannot calibrate
    assert not (tmp_path / "none.csv").exists()


def test_a_saved_experiment_reads_back_field_by_field(workspace: Workspace) -> None:
    lift = analyze_lift(2_000, 80, 2_000, 60, spend=400.0, level=0.8)
    record = record_from_lift(lift, channel="search", start="2024-05-01", end="2024-05-14", name="may")
    save_experiment(workspace, record)
    (row,) = list_experiments(workspace).to_dict(orient="records")
    assert (row["experiment_id"], row["name"], row["kind"]) == (record.experiment_id, "may", "holdout")
    assert (row["start"], row["end"]) == (pd.Timestamp("2024-05-01"), pd.Timestamp("2024-05-14"))
    # 80 / 2000 - 60 / 2000 = 0.01 more conversions per user, x 2000 test users = 20 incremental
    assert row["lift"] == pytest.approx(20.0) and row["delta_spend"] == 400.0
    assert row["iroas"] == pytest.approx(20.0 / 400.0) and row["level"] == 0.8
    assert row["relative_lift"] == pytest.approx(80 / 60 - 1)
    assert row["created_at"] == pd.Timestamp(record.created_at)
    assert json.loads(row["details"])["test_users"] == 2_000


def test_a_table_written_before_the_state_table_keeps_working(workspace: Workspace) -> None:
    """Workspaces whose ``experiments`` table was created and appended to directly (before StateTable)."""

    old = record_from_lift(
        analyze_lift(1_000, 30, 1_000, 20, spend=50.0), channel="meta", start="2024-01-01", end="2024-01-31"
    )
    workspace.con.create_table(TABLE, schema=ibis.schema(COLUMNS))
    frame = pd.DataFrame([asdict(old)])
    workspace.con.insert(TABLE, frame[list(COLUMNS)])
    new = record_from_lift(
        analyze_lift(1_000, 40, 1_000, 20, spend=50.0), channel="tv", start="2024-02-01", end="2024-02-29"
    )
    save_experiment(workspace, new)
    stored = list_experiments(workspace)
    assert list(stored["experiment_id"]) == [old.experiment_id, new.experiment_id]
    assert list(stored["lift"]) == pytest.approx([10.0, 20.0])
    assert list(workspace.con.table(TABLE).schema().names) == list(COLUMNS)
