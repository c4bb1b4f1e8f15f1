"""Per-order attribution credits the KPI engine joins onto orders.

``last_non_direct_click`` is built in as an Ibis expression (it runs in the warehouse on any backend).
Every other model name is asked of :mod:`trueroi.attribution` (``order_credits``), which returns one row
per order and channel with a credit; credits of one order sum to 1.
"""

from __future__ import annotations

from datetime import date

import ibis

from trueroi import attribution
from trueroi.workspace import Workspace
from trueroi.workspace.derived import materialized, user_bucket
from trueroi.workspace.rules import DIRECT_LABELS, is_sale, last_touch, norm_campaign, sale_orders

BUILT_IN = ("last_non_direct_click", "last_click")


def last_click_credits(
    ws: Workspace, start: date, end: date, *, skip_direct: bool = True, lookback_days: int | None = None
) -> ibis.Table:
    """The last (non-direct) touch of each order's user within the lookback window before the order.

    Returns ``order_id, channel, campaign, is_brand, credit`` with credit 1.0 for the sale orders of
    [start, end] (:func:`~trueroi.workspace.rules.last_touch`). The credits of all orders are computed once
    and kept in the warehouse (:func:`~trueroi.workspace.derived.materialized`) until orders or touchpoints
    are loaded again.
    """
    lookback = int(lookback_days or ws.config.lookback_days)
    name = f"credits_{'last_non_direct_click' if skip_direct else 'last_click'}_{lookback}d"
    stored = materialized(
        ws,
        name,
        lambda part: _last_click_all(ws, skip_direct=skip_direct, lookback=lookback, part=part),
        reads=("orders", "touchpoints"),
        settings={"skip_direct": skip_direct, "lookback_days": lookback, "direct": DIRECT_LABELS},
        by_user=True,
    )
    stored = stored.filter(stored.date_day.between(start, end))
    return stored.select("order_id", "channel", "campaign", "is_brand", "credit")


def _last_click_all(
    ws: Workspace, *, skip_direct: bool, lookback: int, part: tuple[int, int] | None = None
) -> ibis.Table:
    """:func:`last_click_credits` for every sale order (of the users in hash bucket ``part``), with the
    order's ``date_day``."""
    o = ws.table("orders")
    orders = o.filter(is_sale(o.status), o.user_id.notnull()).select(
        "date_day", "user_id", event_key="order_id", event_ts="ts"
    )
    tp = ws.table("touchpoints")
    if part is not None:
        orders = orders.filter(user_bucket(orders.user_id, part[1]) == part[0])
        tp = tp.filter(user_bucket(tp.user_id, part[1]) == part[0])
    best = last_touch(orders, tp, lookback_days=lookback, skip_direct=skip_direct)
    return best.select(
        "date_day",
        "channel",
        "is_brand",
        order_id="event_key",
        campaign=norm_campaign(best.campaign),
        credit=ibis.literal(1.0),
    ).select("order_id", "date_day", "channel", "campaign", "is_brand", "credit")


def order_credits(ws: Workspace, model: str, start: date, end: date) -> ibis.Table:
    """Credits per order for ``model`` over orders of [start, end]."""
    if model == "last_non_direct_click":
        return last_click_credits(ws, start, end, skip_direct=True)
    if model == "last_click":
        return last_click_credits(ws, start, end, skip_direct=False)
    frame = attribution.order_credits(ws, model)
    frame = frame[frame["order_id"].isin(sale_orders(ws, start, end).order_id.execute())]
    frame = frame.assign(campaign=frame["campaign"].str.strip().str.lower())
    return ibis.memtable(frame[["order_id", "channel", "campaign", "is_brand", "credit"]])
