"""Orders and conversions from tracked events.

**Orders** (one row per ``order_id``, rebuilt from every tracked event of that order whenever one arrives):

- the shop's backend is authoritative: its latest ``purchase`` event gives revenue, currency, COGS and
  status (``paid`` unless sent), its first gives the order time, and its ``user_id`` is the customer;
- a browser ``purchase`` with the same order id joins the order to the visitor: the order's ``user_id`` is
  the tracker's visitor id (so the visitor's sessions are the order's journey), and when the backend sent
  nothing for the order, the browser's revenue and currency stand for it;
- ``refund`` events lower the revenue by the amount paid back (``revenue`` is net, as in the canonical
  table); fully refunded orders get the status ``refunded``, partly refunded ``partially_refunded``, and a
  refund with ``status`` ``cancelled`` cancels the order. Refunds are taken in the order's currency.

An order id tracked here replaces an order of the same id loaded earlier (as a re-import does). A refund
for an order with no tracked purchase is kept as a raw event and applied once its purchase arrives.

**Conversions** (``conversion_id`` = ``trk:<event id>``): leads (``lead``), offline conversions
(``offline_conversion``; type = the event's name, ``deal_won`` by default; ``is_offline``), custom events
(type = their name) and browser purchases (type ``purchase``, one per order: ``trk:purchase:<order id>``,
mirroring the order as the GA4 import's purchases do).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from trueroi.ingest.parse import local_day
from trueroi.workspace.config import WorkspaceConfig
from trueroi.workspace.schema import arrow_schema

CONVERSION_PREFIX = "trk:"
DEFAULT_OFFLINE_TYPE = "deal_won"


def order_rows(events: pd.DataFrame, config: WorkspaceConfig) -> pa.Table:
    """The orders of the tracked ``purchase`` and ``refund`` events in ``events`` (every such event of
    each order; columns as in ``tracking_events``). Orders without a purchase give no row.

    Built with whole-frame sorts and group-bys (one pass per rule of the module's notes, not a loop over
    orders), so a batch of many purchases costs about what one does."""
    events = events[events["order_id"].notna()]
    purchases = events[events["type"] == "purchase"]
    if purchases.empty:
        return arrow_schema("orders").empty_table()
    arrival = purchases.sort_values(["order_id", "recv_ts", "ts", "event_id"], kind="stable")
    server = arrival["source"] == "server"
    has_server = server.groupby(arrival["order_id"]).transform("any")
    main = arrival[server | (~has_server & (arrival["source"] == "browser"))]
    latest = main.drop_duplicates("order_id", keep="last").set_index("order_id")
    first = main.sort_values(["order_id", "ts", "event_id"], kind="stable").drop_duplicates("order_id")
    visitor, customer = _people(arrival, server)
    refunds = events[events["type"] == "refund"]
    refunded = refunds["revenue"].fillna(0.0).groupby(refunds["order_id"]).sum()
    cancelled = (refunds["status"] == "cancelled").groupby(refunds["order_id"]).any()
    ids = latest.index
    gross = latest["revenue"].astype("float64")
    back = refunded.reindex(ids, fill_value=0.0).astype("float64")
    status = [
        _status(sent, g, r, bool(c))
        for sent, g, r, c in zip(
            latest["status"], gross, back, cancelled.reindex(ids, fill_value=False), strict=True
        )
    ]
    user = visitor.reindex(ids).where(visitor.reindex(ids).notna(), customer.reindex(ids))
    currency = latest["currency"].where(
        latest["currency"].notna() & (latest["currency"] != ""), config.base_currency
    )
    ts = pa.array(
        first.set_index("order_id")["ts"].reindex(ids).to_numpy().astype("datetime64[us]"), pa.timestamp("us")
    )
    return pa.table(
        {
            "order_id": pa.array(ids.astype(str), pa.string()),
            "customer_id": pa.array(_strings(customer.reindex(ids)), pa.string()),
            "user_id": pa.array(_strings(user), pa.string()),
            "ts": ts,
            "date_day": local_day(ts, config.timezone),
            "currency": pa.array(_strings(currency), pa.string()),
            "revenue": pa.array((gross - back).clip(lower=0.0), pa.float64()),
            "cogs": pa.array(latest["cogs"].astype("float64"), pa.float64(), from_pandas=True),
            "status": pa.array(status, pa.string()),
        }
    )


def _people(arrival: pd.DataFrame, server: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per order, the first browser visitor id (by event time) and the backend's last customer id (by
    arrival) of ``arrival``, its purchases in arrival order."""
    browser = arrival[arrival["source"] == "browser"].sort_values(
        ["order_id", "ts", "event_id"], kind="stable"
    )
    visitor = browser.dropna(subset=["user_id"]).drop_duplicates("order_id").set_index("order_id")["user_id"]
    customer = arrival[server].dropna(subset=["user_id"]).drop_duplicates("order_id", keep="last")
    return visitor, customer.set_index("order_id")["user_id"]


def _strings(values: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in values]


def _status(sent: str | None, gross: float, refunded: float, cancelled: bool) -> str:
    if cancelled:
        return "cancelled"
    if refunded > 0 and refunded >= gross:
        return "refunded"
    if refunded > 0:
        return "partially_refunded"
    return sent if isinstance(sent, str) and sent else "paid"


def conversion_rows(events: pd.DataFrame, config: WorkspaceConfig) -> pa.Table:
    """Conversions of the ``lead``, ``offline_conversion``, ``custom`` and browser ``purchase`` events in
    ``events`` (new events only; each conversion id once, its earliest event)."""
    kinds = events["type"]
    chosen = events[
        kinds.isin(["lead", "offline_conversion", "custom"])
        | ((kinds == "purchase") & (events["source"] == "browser"))
    ]
    if chosen.empty:
        return arrow_schema("conversions").empty_table()
    chosen = chosen.sort_values(["ts", "event_id"])
    purchase = chosen["type"] == "purchase"
    ids = CONVERSION_PREFIX + chosen["event_id"]
    ids = ids.where(~purchase, CONVERSION_PREFIX + "purchase:" + chosen["order_id"].fillna(""))
    types = chosen["name"].where(chosen["type"].isin(["custom", "offline_conversion"]), chosen["type"])
    types = types.where(
        ~((chosen["type"] == "offline_conversion") & chosen["name"].isna()), DEFAULT_OFFLINE_TYPE
    )
    value = chosen["value"].where(~purchase, chosen["revenue"])
    frame = pd.DataFrame(
        {
            "conversion_id": ids,
            "user_id": chosen["user_id"],
            "click_id": chosen["click_id"],
            "ts": chosen["ts"],
            "type": types,
            "value": value,
            "currency": chosen["currency"].fillna(config.base_currency),
            "order_id": chosen["order_id"],
            "is_offline": chosen["type"] == "offline_conversion",
        }
    ).drop_duplicates("conversion_id", keep="first")
    ts = pa.array(frame["ts"].to_numpy().astype("datetime64[us]"), pa.timestamp("us"))
    table = pa.Table.from_pandas(frame.drop(columns=["ts"]), preserve_index=False)
    return table.append_column("ts", ts).append_column("date_day", local_day(ts, config.timezone))
