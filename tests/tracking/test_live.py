"""Live numbers by hand: the last 30 minutes and today by channel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from trueroi.tracking import live_numbers, load_events
from trueroi.workspace import Workspace, WorkspaceConfig

from .conftest import browser_events, ms, server_events

NOW = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)  # 12:00 in Berlin


def test_the_last_30_minutes_and_today_by_channel(tmp_path) -> None:
    with Workspace.init(tmp_path / "ws", WorkspaceConfig(name="shop")) as ws:
        load_events(
            ws,
            browser_events(
                [
                    # 08:00 UTC, today: a paid-search visit that buys 100 at 08:05
                    {
                        "event_id": "a",
                        "type": "page_view",
                        "ts": ms(NOW - timedelta(hours=2)),
                        "user_id": "v1",
                        "url": "https://s.example/?gclid=G",
                    },
                    {
                        "event_id": "b",
                        "type": "purchase",
                        "ts": ms(NOW - timedelta(minutes=115)),
                        "user_id": "v1",
                        "order_id": "A",
                        "revenue": 100.0,
                    },
                    # 09:50: an email visit, a lead at 09:55
                    {
                        "event_id": "c",
                        "type": "page_view",
                        "ts": ms(NOW - timedelta(minutes=10)),
                        "user_id": "v2",
                        "url": "https://s.example/?utm_source=news&utm_medium=email",
                    },
                    {"event_id": "d", "type": "lead", "ts": ms(NOW - timedelta(minutes=5)), "user_id": "v2"},
                    # yesterday 21:30 UTC (23:30 in Berlin): not today
                    {
                        "event_id": "e",
                        "type": "page_view",
                        "ts": ms(NOW - timedelta(hours=12, minutes=30)),
                        "user_id": "v3",
                        "url": "https://s.example/",
                    },
                ],
                now=NOW,
            ),
        )
        # an order of the email visitor at 09:58, from the shop's backend
        load_events(
            ws,
            server_events(
                [
                    {
                        "event_id": "s",
                        "type": "purchase",
                        "ts": "2026-10-05T09:58:00Z",
                        "user_id": "v2",
                        "order_id": "B",
                        "revenue": 40.0,
                    }
                ],
                now=NOW,
            ),
        )
        ads = pa.table(
            {
                "date_day": [date(2026, 10, 5)],
                "platform": ["google_ads"],
                "campaign_id": ["1"],
                "channel": ["Paid Search"],
                "currency": ["EUR"],
                "spend": [30.0],
                "impressions": [100],
                "clicks": [10],
            }
        )
        ws.load({"ad_performance": ads}, source_format="test", file_name="ads", sha256="x")
        live = live_numbers(ws, NOW).to_dict()
    recent, today = live["windows"]["last_30_minutes"], live["windows"]["today"]
    assert recent["rows"] == [
        {"channel": "Email", "sessions": 1, "orders": 1, "revenue": 40.0, "conversions": 1, "spend": None}
    ]
    by_channel = {r["channel"]: r for r in today["rows"]}
    assert by_channel["Paid Search"] == {
        "channel": "Paid Search",
        "sessions": 1,
        "orders": 1,
        "revenue": 100.0,
        "conversions": 0,
        "spend": 30.0,
    }
    assert by_channel["Email"]["revenue"] == 40.0
    assert today["total"] == {
        "channel": "Total",
        "sessions": 2,
        "orders": 2,
        "revenue": 140.0,
        "conversions": 1,
        "spend": 30.0,
    }
    assert live["day"] == "2026-10-05"
    assert live["page_views_last_30_minutes"] == 1
