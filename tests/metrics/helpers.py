"""Small hand-built workspaces for the KPI engine tests."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pandas as pd

from trueroi.workspace import Workspace

_counter = itertools.count()


def load(ws: Workspace, table: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    if table in ("orders", "touchpoints", "conversions") and "date_day" not in frame:
        frame["date_day"] = pd.to_datetime(frame["ts"]).dt.date
    ws.load({table: frame}, source_format="test", file_name=f"{table}.csv", sha256=f"h{next(_counter)}")


def ad(
    day: date,
    campaign: str,
    spend: float,
    *,
    channel: str = "Paid Search",
    clicks: int = 10,
    impressions: int = 1000,
    currency: str = "EUR",
    reach: int | None = None,
    **extra,
) -> dict:
    return {
        "date_day": day,
        "platform": "google_ads",
        "campaign_id": campaign,
        "campaign_name": campaign,
        "channel": channel,
        "currency": currency,
        "spend": spend,
        "clicks": clicks,
        "impressions": impressions,
        "reach": reach,
        **extra,
    }


def order(oid: str, user: str, ts: datetime, revenue: float, cogs: float, **extra) -> dict:
    return {
        "order_id": oid,
        "user_id": user,
        "customer_id": user,
        "ts": ts,
        "currency": "EUR",
        "revenue": revenue,
        "cogs": cogs,
        "status": "paid",
        **extra,
    }


def touch(user: str, ts: datetime, channel: str, campaign: str | None = None, **extra) -> dict:
    return {
        "touch_id": f"t{next(_counter)}",
        "user_id": user,
        "ts": ts,
        "channel": channel,
        "campaign": campaign,
        **extra,
    }
