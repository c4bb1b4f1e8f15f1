"""Hand-built workspaces for the goal and pacing tests: a few weeks of ads, orders and conversions."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pandas as pd

from trueroi.workspace import Workspace

_counter = itertools.count()
MARCH = [date(2026, 3, 1) + timedelta(days=i) for i in range(28)]  # Sun 1 March .. Sat 28 March 2026


def load(ws: Workspace, table: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    if table in ("orders", "touchpoints", "conversions") and "date_day" not in frame:
        frame["date_day"] = pd.to_datetime(frame["ts"]).dt.date
    ws.load({table: frame}, source_format="test", file_name=f"{table}.csv", sha256=f"g{next(_counter)}")


def ad(day: date, campaign: str, spend: float, channel: str) -> dict:
    return {
        "date_day": day,
        "platform": "google_ads",
        "campaign_id": campaign,
        "campaign_name": campaign,
        "channel": channel,
        "currency": "EUR",
        "spend": spend,
        "clicks": 10,
        "impressions": 1000,
    }


def at(day: date, hour: int) -> datetime:
    """A UTC timestamp that falls on ``day`` in Europe/Berlin (hours 6..20 are safe)."""
    return datetime(day.year, day.month, day.day, hour)


def march_shop(ws: Workspace) -> None:
    """28 days (1-28 March 2026) of a two-channel shop with constant, hand-checkable numbers.

    * Search (campaign ``search-1``): spend 100 EUR a day; one order a day of revenue 300, COGS 120, from a
      user whose only touch is a Search click an hour before;
    * Social (campaign ``social-1``): spend 50 EUR a day, no orders;
    * conversions of type ``signup``: 10 on Monday to Friday, 3 on Saturday and Sunday (none with a click id).
    """
    ads, touches, orders, signups = [], [], [], []
    for i, day in enumerate(MARCH):
        ads += [ad(day, "search-1", 100.0, "Search"), ad(day, "social-1", 50.0, "Social")]
        user = f"u{i}"
        touches.append(
            {
                "touch_id": f"t{i}",
                "user_id": user,
                "ts": at(day, 9),
                "channel": "Search",
                "campaign": "search-1",
                "session_id": f"s{i}",
            }
        )
        orders.append(
            {
                "order_id": f"o{i}",
                "user_id": user,
                "customer_id": user,
                "ts": at(day, 10),
                "currency": "EUR",
                "revenue": 300.0,
                "cogs": 120.0,
                "status": "paid",
            }
        )
        n = 10 if day.weekday() < 5 else 3
        signups += [
            {
                "conversion_id": f"c{i}-{k}",
                "user_id": f"n{i}-{k}",
                "ts": at(day, 12),
                "type": "signup",
                "value": 0.0,
                "currency": "EUR",
            }
            for k in range(n)
        ]
    load(ws, "ad_performance", ads)
    load(ws, "touchpoints", touches)
    load(ws, "orders", orders)
    load(ws, "conversions", signups)
