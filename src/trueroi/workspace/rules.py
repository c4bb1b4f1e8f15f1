"""Warehouse rules every domain shares: what counts as a sale, what "direct" means, the last touch.

These are definitions, not analyses: the KPI engine, attribution, the mix model's weekly series, CLV,
experiments, monitoring and the quality checks all ask the same questions of the canonical tables, and
they must all get the same answer. Each rule is an Ibis expression builder, so it runs on any backend.

- A **sale** is an order whose status is one of :data:`SALE_STATUSES` (any case) or missing; cancelled,
  refunded, pending and test orders are kept in the warehouse but never counted.
- **Direct** traffic is a channel labelled "Direct" or "(direct)" (any case, surrounding spaces ignored),
  as GA4 labels it, or no channel at all (nothing is known about where the visit came from).
- The **last (non-direct) touch** of an event is the user's latest touch within ``lookback_days`` before
  (or at) the event; with ``skip_direct`` a direct touch wins only when the window holds nothing else
  (GA4's "last non-direct click"). Ties at one instant are broken by channel, then campaign, so the result
  never depends on row order.
- **Days** are cut in the workspace time zone; timestamps are stored in UTC (:func:`utc_bounds`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis

from trueroi.workspace.schema import SALE_STATUSES

DIRECT_LABELS = ("direct", "(direct)")

__all__ = [
    "DIRECT_LABELS",
    "SALE_STATUSES",
    "is_direct",
    "is_direct_label",
    "is_sale",
    "last_touch",
    "norm_campaign",
    "sale_orders",
    "utc_bounds",
]


def is_sale(status: ibis.Value) -> ibis.BooleanValue:
    """Whether an order ``status`` counts as a sale: one of :data:`SALE_STATUSES` (any case) or null."""
    return status.isnull() | status.lower().strip().isin(list(SALE_STATUSES))


def sale_orders(ws, start: date | None = None, end: date | None = None) -> ibis.Table:  # noqa: ANN001
    """The workspace's orders that count as sales, on the days ``[start, end]`` when given."""
    orders = ws.table("orders")
    orders = orders.filter(is_sale(orders.status))
    if start is not None:
        orders = orders.filter(orders.date_day >= start)
    if end is not None:
        orders = orders.filter(orders.date_day <= end)
    return orders


def is_direct_label(channel: str | None) -> bool:
    """Whether a channel label means direct traffic: "Direct" or "(direct)" (any case), or none."""
    return channel is None or channel.strip().lower() in DIRECT_LABELS


def is_direct(channel: ibis.StringValue) -> ibis.BooleanValue:
    """Ibis form of :func:`is_direct_label`."""
    return channel.isnull() | channel.strip().lower().isin(list(DIRECT_LABELS))


def norm_campaign(value: ibis.StringValue) -> ibis.StringValue:
    """The key a campaign name is joined on: trimmed and lower-cased (display keeps the original)."""
    return value.strip().lower()


def last_touch(
    events: ibis.Table,
    touchpoints: ibis.Table,
    *,
    lookback_days: int,
    skip_direct: bool = True,
) -> ibis.Table:
    """The last touch of each event's user within the lookback window before the event.

    Parameters
    ----------
    events
        One row per event with ``event_key`` (unique), ``user_id`` and ``event_ts`` (UTC); further columns
        are kept.
    touchpoints
        The canonical ``touchpoints`` table (or a filter of it).
    lookback_days
        Touches more than this many days before the event do not count.
    skip_direct
        Prefer any other touch over a direct one (last non-direct click); without it, the last touch wins.

    Returns
    -------
    ibis.Table
        The events that have a touch in the window, with their columns and ``channel, campaign`` (as
        tracked), ``is_brand`` (null taken as false) and ``touch_ts``.
    """
    tp = touchpoints.filter(touchpoints.user_id.notnull()).select(
        _t_user="user_id", touch_ts="ts", channel="channel", campaign="campaign", _t_brand="is_brand"
    )
    joined = events.inner_join(
        tp,
        [
            events.user_id == tp._t_user,
            tp.touch_ts <= events.event_ts,
            tp.touch_ts >= events.event_ts - ibis.interval(days=lookback_days),
        ],
    )
    direct = is_direct(joined.channel).cast("int8") if skip_direct else ibis.literal(0).cast("int8")
    order_by = ["_direct", ibis.desc("touch_ts"), "channel", "campaign"]
    ranked = joined.mutate(_direct=direct).mutate(
        _rank=ibis.row_number().over(group_by="event_key", order_by=order_by)
    )
    best = ranked.filter(ranked._rank == 0)
    return best.mutate(is_brand=best._t_brand.fill_null(False)).drop(
        "_t_user", "_t_brand", "_direct", "_rank"
    )


def utc_bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """The local days ``start`` to ``end`` (inclusive) in ``timezone`` as naive UTC instants ``[lo, hi)``."""
    tz = ZoneInfo(timezone)
    lo = datetime.combine(start, time.min, tz).astimezone(UTC).replace(tzinfo=None)
    hi = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC).replace(tzinfo=None)
    return lo, hi
