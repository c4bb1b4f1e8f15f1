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


def test_users_by_hand_across_keys_weeks_and_periods(workspace: Workspace) -> None:
    """Distinct users, worked out by hand. Week of 2025-06-30 holds 07-01 and 07-02; 07-08 is the next week.

    u1: Email 07-01 only (one key)                         -> Email week 1
    u2: Email 07-01 and Email 07-02 (two keys, same week)   -> Email week 1, once
    u3: Email 07-02 and Display 07-08                       -> Email week 1, Display week 2
    u4: Display 07-08 twice at the same key                 -> Display week 2
    Rows: Email wk1 = {u1, u2, u3} = 3; Display wk2 = {u3, u4} = 2. Totals 4 users (u3 once).
    Period 07-02..07-08: Email = {u2, u3} = 2, Display = 2, total {u2, u3, u4} = 3.
    """
    t = datetime
    load(
        workspace,
        "touchpoints",
        [
            touch("u1", t(2025, 7, 1, 8), "Email", "News"),
            touch("u2", t(2025, 7, 1, 9), "Email", "news "),  # same campaign after normalising
            touch("u2", t(2025, 7, 2, 9), "Email", "News"),
            touch("u3", t(2025, 7, 2, 10), "Email", "News"),
            touch("u3", t(2025, 7, 8, 10), "Display", "d"),
            touch("u4", t(2025, 7, 8, 11), "Display", "d"),
            touch("u4", t(2025, 7, 8, 12), "Display", "d"),
        ],
    )
    load(workspace, "orders", [order("o1", "u1", datetime(2025, 7, 1, 9), 10.0, 5.0)])
    whole = kpi_report(workspace, by="channel,week", start=D1, end=date(2025, 7, 8))
    users = {(r.channel, str(r.week)): r.users for r in whole.rows.itertuples()}
    assert users[("Email", "2025-06-30")] == 3 and users[("Display", "2025-07-07")] == 2
    assert whole.totals["users"] == 4
    part = kpi_report(workspace, by="channel", start=D2, end=date(2025, 7, 8))
    assert part.rows.set_index("channel")["users"].to_dict() == {"Display": 2.0, "Email": 2.0}
    assert part.totals["users"] == 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_users_match_pandas_nunique_on_random_touches(workspace: Workspace, seed: int) -> None:
    """Users per row and in total equal pandas' nunique over the same touches, for several breakdowns and
    periods (random users who come back on other days, channels and campaigns)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = 600
    frame = pd.DataFrame(
        {
            "touch_id": [f"t{i}" for i in range(n)],
            "user_id": [f"u{k}" for k in rng.integers(0, 180, n)],
            "ts": pd.Timestamp("2025-07-01") + pd.to_timedelta(rng.integers(0, 40 * 24, n), unit="h"),
            "channel": rng.choice(["Email", "Display", "Paid Search", None], n),
            "campaign": rng.choice(["a", "A ", "b", None], n),
            "is_brand": rng.choice([True, False], n),
        }
    )
    frame["date_day"] = frame["ts"].dt.date
    workspace.load({"touchpoints": frame}, source_format="test", file_name="t.csv", sha256=f"r{seed}")
    load(workspace, "orders", [order("o1", "u1", datetime(2025, 7, 1, 9), 10.0, 5.0)])
    norm = frame.assign(
        channel=frame["channel"].fillna("(unknown)"),
        campaign=frame["campaign"].str.strip().str.lower(),
        week=(frame["ts"] - pd.to_timedelta(frame["ts"].dt.weekday, unit="D")).dt.date,
        day=frame["date_day"],
    )
    for start, end in ((date(2025, 7, 1), date(2025, 8, 9)), (date(2025, 7, 9), date(2025, 7, 23))):
        cut = norm[(norm["date_day"] >= start) & (norm["date_day"] <= end)]
        for by in (["channel", "week"], ["campaign"], ["day", "is_brand"]):
            got = kpi_report(workspace, by=",".join(by), start=start, end=end)
            expected = cut.groupby(by, dropna=False)["user_id"].nunique()
            rows = got.rows[got.rows["users"] > 0]
            seen = {tuple(None if pd.isna(v) else v for v in r[by]): r["users"] for _, r in rows.iterrows()}
            want = {
                tuple(None if pd.isna(v) else v for v in (k if isinstance(k, tuple) else (k,))): float(v)
                for k, v in expected.items()
            }
            assert seen == want, (start, by)
            assert got.totals["users"] == cut["user_id"].nunique()


def test_built_in_user_buckets_gives_the_same_report(demo_shop, monkeypatch) -> None:
    """Credits and user keys built bucket by bucket (a few thousand touches a bucket) give the same KPIs."""
    from trueroi.workspace import derived

    ws = demo_shop.ws
    derived.drop_all(ws)
    whole = kpi_report(ws, by="channel,month")
    assert derived.user_parts(ws) == 1
    monkeypatch.setattr(derived, "TOUCHES_PER_PART", 5_000)
    assert derived.user_parts(ws) > 4
    derived.drop_all(ws)
    split = kpi_report(ws, by="channel,month")
    assert whole.rows["users"].sum() > 1000 and whole.rows["conversions"].sum() > 1000
    pd.testing.assert_frame_equal(split.rows, whole.rows, check_exact=False, rtol=1e-9)
    assert split.totals == pytest.approx(whole.totals, rel=1e-9, nan_ok=True)
