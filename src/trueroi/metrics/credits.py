"""Per-order attribution credits the KPI engine joins onto orders.

``last_non_direct_click`` is built in as an Ibis expression (it runs in the warehouse on any backend).
Every other model name is asked of :mod:`trueroi.attribution` (``order_credits``), which returns one row
per order and channel with a credit; credits of one order sum to 1.
"""

from __future__ import annotations

from datetime import date

import ibis

from trueroi.errors import UsageError
from trueroi.workspace import Workspace
from trueroi.workspace.derived import materialized, user_bucket
from trueroi.workspace.schema import SALE_STATUSES

DIRECT = ("direct", "(direct)")
BUILT_IN = ("last_non_direct_click", "last_click")


def sale_orders(ws: Workspace, start: date, end: date) -> ibis.Table:
    """Orders of the period that count as sales (paid or fulfilled; null status counts)."""
    o = ws.table("orders")
    status = o.status.lower()
    return o.filter(o.date_day.between(start, end), status.isnull() | status.isin(SALE_STATUSES))


def norm_campaign(value: ibis.Value) -> ibis.Value:
    return value.strip().lower()


def last_click_credits(
    ws: Workspace, start: date, end: date, *, skip_direct: bool = True, lookback_days: int | None = None
) -> ibis.Table:
    """The last (non-direct) touch of each order's user within the lookback window before the order.

    Returns ``order_id, channel, campaign, is_brand, credit`` with credit 1.0 for the sale orders of
    [start, end]. With ``skip_direct`` a direct touch wins only when the journey has nothing else (GA4's
    "last non-direct click"). The credits of all orders are computed once and kept in the warehouse
    (:func:`~trueroi.workspace.derived.materialized`) until orders or touchpoints are loaded again.
    """
    lookback = int(lookback_days or ws.config.lookback_days)
    name = f"credits_{'last_non_direct_click' if skip_direct else 'last_click'}_{lookback}d"
    stored = materialized(
        ws,
        name,
        lambda part: _last_click_all(ws, skip_direct=skip_direct, lookback=lookback, part=part),
        reads=("orders", "touchpoints"),
        settings={"skip_direct": skip_direct, "lookback_days": lookback, "direct": DIRECT},
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
    status = o.status.lower()
    orders = o.filter(status.isnull() | status.isin(SALE_STATUSES)).select(
        "order_id", "user_id", "date_day", o_ts="ts"
    )
    tp = ws.table("touchpoints")
    tp = tp.filter(tp.user_id.notnull())
    if part is not None:
        orders = orders.filter(user_bucket(orders.user_id, part[1]) == part[0])
        tp = tp.filter(user_bucket(tp.user_id, part[1]) == part[0])
    tp = tp.select(
        t_user="user_id", t_ts="ts", t_channel="channel", t_campaign="campaign", t_brand="is_brand"
    )
    j = orders.inner_join(
        tp,
        [
            orders.user_id == tp.t_user,
            tp.t_ts <= orders.o_ts,
            tp.t_ts >= orders.o_ts - ibis.interval(days=lookback),
        ],
    )
    direct = j.t_channel.lower().isin(DIRECT).cast("int8") if skip_direct else ibis.literal(0).cast("int8")
    # ties at the same instant are broken by channel and campaign, so the result never depends on row order
    order_by = ["_direct", ibis.desc("t_ts"), "t_channel", "t_campaign"]
    ranked = j.mutate(_direct=direct).mutate(
        _rank=ibis.row_number().over(group_by="order_id", order_by=order_by)
    )
    best = ranked.filter(ranked._rank == 0)
    return best.select(
        "order_id",
        "date_day",
        channel=best.t_channel,
        campaign=norm_campaign(best.t_campaign),
        is_brand=best.t_brand.fill_null(False),
        credit=ibis.literal(1.0),
    )


def order_credits(ws: Workspace, model: str, start: date, end: date) -> ibis.Table:
    """Credits per order for ``model`` over orders of [start, end]."""
    if model == "last_non_direct_click":
        return last_click_credits(ws, start, end, skip_direct=True)
    if model == "last_click":
        return last_click_credits(ws, start, end, skip_direct=False)
    try:
        from trueroi import attribution
    except ImportError as exc:  # pragma: no cover - the package ships with trueroi
        raise UsageError(f"attribution model {model!r} is not available") from exc
    getter = getattr(attribution, "order_credits", None)
    if getter is None:
        raise UsageError(f"unknown attribution model {model!r}; available: {', '.join(BUILT_IN)}")
    frame = getter(ws, model)
    frame = frame[frame["order_id"].isin(sale_orders(ws, start, end).order_id.execute())]
    frame = frame.assign(campaign=frame["campaign"].str.strip().str.lower())
    return ibis.memtable(frame[["order_id", "channel", "campaign", "is_brand", "credit"]])
