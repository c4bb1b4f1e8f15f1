"""Workspace creation, configuration round trip and atomic, idempotent loads."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from trueroi.errors import ConfigError, DataValidationError, WorkspaceError
from trueroi.workspace import Workspace, WorkspaceConfig, load
from trueroi.workspace.config import ChannelRule, CostAllocation


def _ads(days: list[date], spend: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date_day": days,
            "platform": "google_ads",
            "campaign_id": "c1",
            "currency": "EUR",
            "spend": spend,
            "impressions": 1000,
            "clicks": 10,
        }
    )


def test_init_creates_config_and_every_canonical_table(workspace: Workspace) -> None:
    assert (workspace.path / "trueroi.toml").exists()
    assert (workspace.path / "warehouse.duckdb").exists()
    assert set(workspace.con.list_tables()) >= {
        "ad_performance",
        "touchpoints",
        "orders",
        "conversions",
        "costs",
        "fx_rates",
        "imports",
    }
    assert workspace.is_empty()


def test_config_round_trips_through_toml(tmp_path) -> None:
    config = WorkspaceConfig(
        name="shop",
        base_currency="CHF",
        timezone="Europe/Zurich",
        brand_terms=["acme", "ac me"],
        channel_rules=[ChannelRule(channel="Partners", source="^partner")],
        cost_allocation=CostAllocation(rule="fixed", channel="Paid Search"),
        default_margin=0.4,
    )
    config.save(tmp_path)
    assert WorkspaceConfig.load(tmp_path) == config


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_currency": "euro"},
        {"timezone": "Mars/Olympus"},
        {"cost_allocation": CostAllocation(rule="magic")},
        {"brand_terms": ["(unclosed"]},
        {"cost_allocation": CostAllocation(rule="fixed")},
    ],
)
def test_bad_config_is_refused(kwargs) -> None:
    with pytest.raises(ConfigError):
        WorkspaceConfig(**kwargs)


def test_open_outside_a_workspace_says_what_to_do(tmp_path) -> None:
    with pytest.raises(WorkspaceError, match="initialise a workspace there"):
        Workspace.open(tmp_path)


def test_same_file_twice_changes_nothing(workspace: Workspace) -> None:
    df = _ads([date(2025, 1, 1), date(2025, 1, 2)], 10.0)
    first = workspace.load({"ad_performance": df}, source_format="t", file_name="a.csv", sha256="h1")
    before = workspace.checksum()
    second = workspace.load({"ad_performance": df}, source_format="t", file_name="a.csv", sha256="h1")
    assert not first.skipped and second.skipped
    assert workspace.checksum() == before
    assert workspace.table("ad_performance").spend.sum().execute() == pytest.approx(20.0)


def test_corrected_reexport_replaces_overlapping_days(workspace: Workspace) -> None:
    keys = {"ad_performance": ["date_day", "platform", "campaign_id"]}
    workspace.load(
        {"ad_performance": _ads([date(2025, 1, 1), date(2025, 1, 2)], 10.0)},
        source_format="t",
        file_name="a.csv",
        sha256="h1",
        replace_on=keys,
    )
    result = workspace.load(
        {"ad_performance": _ads([date(2025, 1, 2), date(2025, 1, 3)], 7.0)},
        source_format="t",
        file_name="b.csv",
        sha256="h2",
        replace_on=keys,
    )
    assert result.replaced == 1
    # day 1 keeps 10, day 2 is replaced by 7, day 3 adds 7
    assert workspace.table("ad_performance").spend.sum().execute() == pytest.approx(24.0)


def test_failed_load_leaves_workspace_as_it_was(workspace: Workspace) -> None:
    workspace.load(
        {"ad_performance": _ads([date(2025, 1, 1)], 10.0)}, source_format="t", file_name="a", sha256="h1"
    )
    before = workspace.checksum()
    good = _ads([date(2025, 2, 1)], 5.0)

    def batches():
        yield good  # written to staging first ...
        raise RuntimeError("killed midway")  # ... then the load dies

    with pytest.raises(RuntimeError):
        workspace.load(
            {"ad_performance": batches(), "orders": pd.DataFrame()},
            source_format="t",
            file_name="b",
            sha256="h2",
        )
    assert workspace.checksum() == before


def test_uncastable_value_is_a_validation_error_and_changes_nothing(workspace: Workspace) -> None:
    before = workspace.checksum()
    bad = _ads([date(2025, 1, 1)], 1.0).assign(spend="12,5O")
    with pytest.raises(DataValidationError, match="spend"):
        workspace.load({"ad_performance": bad}, source_format="t", file_name="bad", sha256="h3")
    assert workspace.checksum() == before


def test_replacement_matches_null_keys(workspace: Workspace) -> None:
    keys = {"ad_performance": ["date_day", "platform", "campaign_id", "ad_group_id"]}  # ad group left null
    first = _ads([date(2025, 1, 1)], 10.0)
    workspace.load({"ad_performance": first}, source_format="t", file_name="a", sha256="n1", replace_on=keys)
    result = workspace.load(
        {"ad_performance": _ads([date(2025, 1, 1)], 4.0)},
        source_format="t",
        file_name="b",
        sha256="n2",
        replace_on=keys,
    )
    assert result.replaced == 1
    assert workspace.table("ad_performance").spend.sum().execute() == pytest.approx(4.0)


def _load_then_die(path: str) -> None:
    """Child process: start a load, commit a first chunk, then die without any cleanup (as if killed)."""
    import os

    ws = Workspace.open(path)

    def batches():
        yield _ads([date(2025, 3, 1)], 1.0)
        yield _ads([date(2025, 3, 2)], 1.0)
        os._exit(9)

    ws.load({"ad_performance": batches()}, source_format="t", file_name="k", sha256="killed")


def test_load_killed_midway_is_undone_before_the_next_read(workspace: Workspace) -> None:
    import multiprocessing

    workspace.load(
        {"ad_performance": _ads([date(2025, 1, 1)], 10.0)}, source_format="t", file_name="a", sha256="h1"
    )
    before = workspace.checksum()
    path = str(workspace.path)
    workspace.close()  # DuckDB lets one process write at a time
    child = multiprocessing.get_context("spawn").Process(target=_load_then_die, args=(path,))
    child.start()
    child.join(120)
    assert child.exitcode == 9
    reopened = Workspace.open(path)
    assert reopened.checksum() == before
    assert reopened.row_count("imports") == 1
    reopened.close()


@pytest.mark.parametrize("bucket_rows", [1_000, 1])
def test_touches_without_an_id_are_matched_on_their_natural_key(
    workspace: Workspace, monkeypatch, bucket_rows
):
    """Rows without touch_id: the same user, time, session and source replace each other (u1 at 10:00 and u2),
    another time of u1 does not; rows with a touch_id never match rows without one. In one bucket of keys and
    in one bucket per staged row."""
    monkeypatch.setattr(load, "BUCKET_ROWS", bucket_rows)
    key = {"touchpoints": load.RowKey(("touch_id",), fallback=("user_id", "ts", "session_id", "source"))}

    def touches(rows):
        return pd.DataFrame(rows, columns=["touch_id", "user_id", "ts", "session_id", "source"]).assign(
            ts=lambda f: pd.to_datetime(f["ts"]), date_day=date(2025, 1, 1)
        )

    first = touches(
        [
            (None, "u1", "2025-01-01 10:00", "s1", "google"),
            (None, "u2", "2025-01-01 11:00", None, None),
            ("t9", "u1", "2025-01-01 10:00", "s1", "google"),
        ]
    )
    workspace.load({"touchpoints": first}, source_format="t", file_name="a", sha256="k1", replace_on=key)
    second = touches(
        [
            (None, "u1", "2025-01-01 10:00", "s1", "google"),
            (None, "u1", "2025-01-01 12:00", "s1", "google"),
            (None, "u2", "2025-01-01 11:00", None, None),
        ]
    )
    result = workspace.load(
        {"touchpoints": second}, source_format="t", file_name="b", sha256="k2", replace_on=key
    )
    assert result.replaced == 2
    assert workspace.row_count("touchpoints") == 4  # t9, and the three rows of the second load
