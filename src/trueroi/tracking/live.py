"""Live numbers: the last 30 minutes and today, by channel, as the live page shows them.

For each window (``last_30_minutes``: the 30 minutes before now; ``today``: from midnight in the workspace
time zone until now) and each channel:

- ``sessions``: touchpoints starting in the window (tracked or imported);
- ``orders`` and ``revenue``: orders in the window that count as sales, revenue in the base currency;
- ``conversions``: other conversions in the window (leads, offline conversions, custom events; those that
  mirror an order are counted as the order);
- ``spend``: media spend of the platforms' rows for today (``today`` only: platform exports have days, not
  minutes; null where none is loaded yet).

Orders and conversions are credited to the channel of the person's last non-direct touch within the
workspace's ``lookback_days`` (:func:`trueroi.workspace.rules.last_touch`, the KPIs' default model); those
without a touch are ``(unattributed)``. Amounts without an exchange rate for their day are left out of the
revenue and counted in ``missing_rates``. ``page_views`` counts tracked page views in the last 30 minutes,
with and without consent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pandas as pd

from trueroi.io import jsonable
from trueroi.workspace.core import Workspace
from trueroi.workspace.money import to_base
from trueroi.workspace.rules import is_sale, last_touch, utc_bounds

UNATTRIBUTED = "(unattributed)"
WINDOW = timedelta(minutes=30)
MEASURES = ("sessions", "orders", "revenue", "conversions", "spend")
EVENTS_TABLE = "tracking_events"


@dataclass(frozen=True)
class LiveWindow:
    """One window's numbers: rows by channel (sorted by sessions, then revenue) and their total."""

    name: str
    start: datetime
    end: datetime
    rows: list[dict[str, Any]]
    total: dict[str, Any]


@dataclass(frozen=True)
class LiveNumbers:
    """The live page's numbers at ``at`` (UTC) for the local day ``day``, money in ``currency``."""

    at: datetime
    day: date
    currency: str
    windows: list[LiveWindow]
    page_views: int
    missing_rates: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "at": self.at,
                "day": self.day,
                "currency": self.currency,
                "page_views_last_30_minutes": self.page_views,
                "missing_rates": self.missing_rates,
                "windows": {
                    w.name: {"start": w.start, "end": w.end, "rows": w.rows, "total": w.total}
                    for w in self.windows
                },
                "notes": self.notes,
            }
        )


def live_numbers(ws: Workspace, now: datetime | None = None) -> LiveNumbers:
    """The workspace's live numbers at ``now`` (UTC; default: the current time)."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    tz = ws.config.timezone
    day = now.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()
    midnight, _ = utc_bounds(day, day, tz)
    missing = [0]
    windows = [
        _window(ws, "last_30_minutes", now - WINDOW, now, None, missing),
        _window(ws, "today", midnight, now, day, missing),
    ]
    notes = []
    if missing[0]:
        notes.append(
            f"{missing[0]} order(s) or conversion(s) in a currency without a rate are left out of revenue"
        )
    return LiveNumbers(now, day, ws.config.base_currency, windows, _page_views(ws, now), missing[0], notes)


def _window(
    ws: Workspace, name: str, start: datetime, end: datetime, spend_day: date | None, missing: list[int]
) -> LiveWindow:
    frames = [_sessions(ws, start, end), _orders(ws, start, end, missing), _conversions(ws, start, end)]
    if spend_day is not None:
        frames.append(_spend(ws, spend_day))
    table = pd.concat([f.set_index("channel") for f in frames], axis=1).reset_index()
    for measure in MEASURES:
        if measure not in table:
            table[measure] = None
    table = table[["channel", *MEASURES]]
    for measure in ("sessions", "orders", "conversions"):
        table[measure] = table[measure].fillna(0).astype(int)
    table["revenue"] = table["revenue"].fillna(0.0)
    table = table.sort_values(["sessions", "revenue", "channel"], ascending=[False, False, True])
    rows = [{k: jsonable(v) for k, v in r.items()} for r in table.to_dict(orient="records")]
    total = {m: jsonable(table[m].sum()) for m in MEASURES if m != "spend"}
    total["spend"] = None if table["spend"].isna().all() else jsonable(table["spend"].sum())
    return LiveWindow(name, start, end, rows, {"channel": "Total", **total})


def _sessions(ws: Workspace, start: datetime, end: datetime) -> pd.DataFrame:
    tp = ws.table("touchpoints")
    tp = tp.filter((tp.ts >= start) & (tp.ts < end))
    out = tp.group_by(channel=tp.channel.fill_null(UNATTRIBUTED)).aggregate(sessions=tp.count()).execute()
    return out if not out.empty else pd.DataFrame({"channel": [], "sessions": []})


def _credited(ws: Workspace, events: ibis.Table) -> ibis.Table:
    """``events`` (``event_key, user_id, event_ts`` and more) with the channel of their last touch."""
    touched = last_touch(events, ws.table("touchpoints"), lookback_days=ws.config.lookback_days)
    found = touched.select(t_key="event_key", t_channel="channel")
    joined = events.left_join(found, events.event_key == found.t_key)
    return joined.mutate(channel=joined.t_channel.fill_null(UNATTRIBUTED)).drop("t_key", "t_channel")


def _orders(ws: Workspace, start: datetime, end: datetime, missing: list[int]) -> pd.DataFrame:
    orders = ws.table("orders")
    orders = orders.filter(is_sale(orders.status) & (orders.ts >= start) & (orders.ts < end))
    events = orders.select(
        event_key=orders.order_id,
        user_id=orders.user_id,
        event_ts=orders.ts,
        revenue=orders.revenue,
        currency=orders.currency,
        date_day=orders.date_day,
    )
    credited = to_base(ws, _credited(ws, events), ["revenue"])
    out = (
        credited.group_by("channel")
        .aggregate(
            orders=credited.count(),
            revenue=credited.revenue.sum(where=~credited._fx_missing),
            no_rate=credited._fx_missing.cast("int64").sum(),
        )
        .execute()
    )
    missing[0] += int(out["no_rate"].sum()) if not out.empty else 0
    return out.drop(columns=["no_rate"]) if not out.empty else pd.DataFrame({"channel": [], "orders": []})


def _conversions(ws: Workspace, start: datetime, end: datetime) -> pd.DataFrame:
    cv = ws.table("conversions")
    cv = cv.filter(cv.order_id.isnull() & (cv.ts >= start) & (cv.ts < end))
    events = cv.select(event_key=cv.conversion_id, user_id=cv.user_id, event_ts=cv.ts)
    credited = _credited(ws, events)
    out = credited.group_by("channel").aggregate(conversions=credited.count()).execute()
    return out if not out.empty else pd.DataFrame({"channel": [], "conversions": []})


def _spend(ws: Workspace, day: date) -> pd.DataFrame:
    ads = ws.table("ad_performance")
    ads = to_base(ws, ads.filter(ads.date_day == day), ["spend"])
    out = ads.group_by(channel=ads.channel.fill_null(UNATTRIBUTED)).aggregate(spend=ads.spend.sum()).execute()
    return out if not out.empty else pd.DataFrame({"channel": [], "spend": []})


def _page_views(ws: Workspace, now: datetime) -> int:
    if EVENTS_TABLE not in set(ws.con.list_tables()):
        return 0
    events = ws.con.table(EVENTS_TABLE)
    found = events.filter((events.type == "page_view") & (events.ts >= now - WINDOW) & (events.ts < now))
    return int(found.count().execute())
