"""Tracked events in the warehouse: stored once, sessions rebuilt by late events, orders joined by order
id, refunds, a forgotten person, old raw events, and goals reading tracked data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from trueroi.goals import add_goal, goal_status
from trueroi.tracking import apply_retention, forget_user, load_events
from trueroi.tracking.store import EVENTS, PositionConflict
from trueroi.workspace import Workspace, WorkspaceConfig

from .conftest import NOW, browser_events, ms, server_events

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
URL = "https://shop.example/"


def pv(
    event_id: str, minute: float, user: str | None = "v1", url: str = URL, referrer: str | None = None
) -> dict:
    event = {"event_id": event_id, "type": "page_view", "ts": ms(T0 + timedelta(minutes=minute)), "url": url}
    if user:
        event["user_id"] = user
    if referrer:
        event["referrer"] = referrer
    return event


@pytest.fixture
def ws(tmp_path):
    with Workspace.init(tmp_path / "ws", WorkspaceConfig(name="shop", brand_terms=["acme"])) as opened:
        yield opened


def _table(ws: Workspace, name: str):
    return ws.con.table(name).execute()


def test_an_event_sent_twice_is_stored_once(ws) -> None:
    batch = browser_events([pv("a", 0), pv("b", 3)])
    first = load_events(ws, batch)
    again = load_events(ws, batch + browser_events([pv("b", 3)]))
    assert (first.new, first.duplicates) == (2, 0)
    assert (again.new, again.duplicates) == (0, 3)
    assert len(_table(ws, EVENTS)) == 2
    (touch,) = _table(ws, "touchpoints").itertuples()
    assert touch.pageviews == 2


def test_a_late_event_joins_the_sessions_it_bridges(ws) -> None:
    load_events(ws, browser_events([pv("a", 0), pv("c", 40)]))
    assert sorted(_table(ws, "touchpoints")["pageviews"]) == [1, 1]  # 40 minutes apart: two sessions
    load_events(ws, browser_events([pv("b", 20)]))  # arrives late: 20 minutes after a, 20 before c
    (touch,) = _table(ws, "touchpoints").itertuples()
    assert (touch.touch_id, touch.pageviews, touch.ts) == ("trk:a", 3, T0.replace(tzinfo=None))
    load_events(ws, browser_events([pv("d", 80), pv("e", 85, url=URL + "?utm_source=news&utm_medium=email")]))
    found = _table(ws, "touchpoints").sort_values("ts")
    assert list(found["touch_id"]) == ["trk:a", "trk:d", "trk:e"]  # 40 minutes gap; then a new campaign
    assert list(found["channel"]) == ["Direct", "Direct", "Email"]


def test_page_views_without_consent_count_landings_only(ws) -> None:
    load_events(
        ws,
        browser_events(
            [
                pv("x1", 0, user=None, url=URL + "?gclid=G1", referrer="https://www.google.com/"),
                pv("x2", 1, user=None, url=URL + "p/1", referrer=URL),  # internal: no session of its own
                pv("x3", 2, user=None, url=URL + "p/2"),  # a direct entry
            ]
        ),
    )
    found = _table(ws, "touchpoints").sort_values("ts")
    assert list(found["user_id"]) == ["anon:x1", "anon:x3"]
    assert list(found["channel"]) == ["Paid Search", "Direct"]


def test_tracked_purchases_join_the_shops_orders_by_order_id(ws) -> None:
    load_events(
        ws,
        browser_events(
            [
                pv("a", 0),
                {
                    "event_id": "b",
                    "type": "purchase",
                    "ts": ms(T0 + timedelta(minutes=2)),
                    "user_id": "v1",
                    "order_id": "A1",
                    "revenue": 59.9,
                    "currency": "EUR",
                },
            ]
        ),
    )
    (order,) = _table(ws, "orders").itertuples()
    assert (order.user_id, order.revenue, order.status, order.customer_id) == ("v1", 59.9, "paid", None)
    shop = {
        "event_id": "s1",
        "type": "purchase",
        "ts": "2026-10-05T08:02:30Z",
        "user_id": "cust9",
        "order_id": "A1",
        "revenue": 55.0,
        "currency": "EUR",
        "cogs": 31.0,
    }
    load_events(ws, server_events([shop]))
    (order,) = _table(ws, "orders").itertuples()
    # the backend's numbers, the visitor's id (its sessions are the order's journey), the shop's customer
    assert (order.user_id, order.customer_id, order.revenue, order.cogs) == ("v1", "cust9", 55.0, 31.0)
    assert order.ts == datetime(2026, 10, 5, 8, 2, 30)
    (conversion,) = _table(ws, "conversions").itertuples()
    assert (conversion.conversion_id, conversion.type, conversion.order_id) == (
        "trk:purchase:A1",
        "purchase",
        "A1",
    )
    load_events(ws, server_events([{"event_id": "r1", "type": "refund", "order_id": "A1", "revenue": 20.0}]))
    (order,) = _table(ws, "orders").itertuples()
    assert (order.revenue, order.status) == (35.0, "partially_refunded")  # 55 - 20, net
    load_events(
        ws, server_events([{"event_id": "r2", "type": "refund", "order_id": "A1", "status": "cancelled"}])
    )
    assert _table(ws, "orders")["status"].tolist() == ["cancelled"]


def test_leads_offline_and_custom_conversions(ws) -> None:
    load_events(
        ws,
        server_events(
            [
                {
                    "event_id": "l1",
                    "type": "lead",
                    "ts": "2026-10-05T08:00:00Z",
                    "user_id": "v1",
                    "value": 20,
                },
                {
                    "event_id": "d1",
                    "type": "offline_conversion",
                    "ts": "2026-10-05T09:00:00Z",
                    "click_id": "G1",
                    "value": 900,
                    "currency": "usd",
                },
                {
                    "event_id": "c1",
                    "type": "custom",
                    "name": "newsletter",
                    "ts": "2026-10-05T09:00:00Z",
                    "user_id": "v1",
                    "value": 1,
                },
            ]
        ),
    )
    found = _table(ws, "conversions").set_index("conversion_id")
    assert found.loc["trk:l1", ["type", "value", "currency", "is_offline"]].tolist() == [
        "lead",
        20.0,
        "EUR",
        False,
    ]
    assert found.loc["trk:d1", ["type", "click_id", "currency", "is_offline"]].tolist() == [
        "deal_won",
        "G1",
        "USD",
        True,
    ]
    assert found.loc["trk:c1", "type"] == "newsletter"


def test_positions_move_with_the_rows_and_a_stale_position_is_refused(ws) -> None:
    load_events(ws, browser_events([pv("a", 0)]), moves={"seg1": (0, 120)})
    with pytest.raises(PositionConflict, match="loaded up to 120, not 0"):
        load_events(ws, browser_events([pv("b", 1)]), moves={"seg1": (0, 240)})
    assert len(_table(ws, EVENTS)) == 1  # nothing of the refused load


def test_forgetting_a_person(ws) -> None:
    load_events(
        ws,
        browser_events(
            [
                pv("a", 0),
                pv("o", 1, user="v2"),
                {
                    "event_id": "p",
                    "type": "purchase",
                    "ts": ms(T0),
                    "user_id": "v1",
                    "order_id": "A1",
                    "revenue": 10.0,
                },
            ]
        ),
    )
    done = forget_user(ws, "v1", now=NOW.replace(tzinfo=None))
    assert (done.touchpoints, done.conversions, done.orders_anonymized) == (1, 1, 1)
    assert set(_table(ws, "touchpoints")["user_id"]) == {"v2"}
    assert _table(ws, "orders")["user_id"].isna().all()  # the order stays, without the person
    assert "v1" not in set(_table(ws, EVENTS)["user_id"].dropna())
    # an event of v1 received before the forget (waiting in the WAL) is dropped when it is loaded
    late = load_events(ws, browser_events([pv("b", 2)], now=NOW - timedelta(minutes=1)))
    assert (late.new, late.dropped) == (0, 1)
    # after it, the person may come back (a new consent)
    again = load_events(ws, browser_events([pv("c", 200)], now=NOW + timedelta(hours=1)))
    assert again.new == 1


def test_retention_deletes_old_raw_events_only(ws) -> None:
    load_events(ws, browser_events([pv("old", 0)], now=NOW - timedelta(days=100)))
    load_events(ws, browser_events([pv("new", 0)], now=NOW))
    assert apply_retention(ws, 90, now=NOW.replace(tzinfo=None)) == 1
    assert _table(ws, EVENTS)["event_id"].tolist() == ["new"]
    assert len(_table(ws, "touchpoints")) == 2  # the sessions built from them stay


def test_goals_read_tracked_orders_as_soon_as_they_are_loaded(ws) -> None:
    add_goal(ws, "october", "revenue", 1000.0, date(2026, 10, 1), date(2026, 10, 31))
    load_events(
        ws,
        server_events(
            [
                {
                    "event_id": "s",
                    "type": "purchase",
                    "ts": "2026-10-05T08:00:00Z",
                    "order_id": "A",
                    "revenue": 250.0,
                }
            ]
        ),
    )
    (status,) = goal_status(ws, date(2026, 10, 5))
    assert status.actual == 250.0
