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
    each order; columns as in ``tracking_events``). Orders without a purchase give no row."""
    rows = []
    for order_id, group in events.groupby("order_id", sort=True):
        row = _order(str(order_id), group.sort_values(["recv_ts", "ts", "event_id"]), config.base_currency)
        if row is not None:
            rows.append(row)
    if not rows:
        return arrow_schema("orders").empty_table()
    frame = pd.DataFrame(rows)
    ts = pa.array(frame["ts"].to_numpy().astype("datetime64[us]"), pa.timestamp("us"))
    return pa.table(
        {
            "order_id": pa.array(frame["order_id"], pa.string()),
            "customer_id": pa.array(frame["customer_id"], pa.string()),
            "user_id": pa.array(frame["user_id"], pa.string()),
            "ts": ts,
            "date_day": local_day(ts, config.timezone),
            "currency": pa.array(frame["currency"], pa.string()),
            "revenue": pa.array(frame["revenue"], pa.float64()),
            "cogs": pa.array(frame["cogs"], pa.float64()),
            "status": pa.array(frame["status"], pa.string()),
        }
    )


def _order(order_id: str, events: pd.DataFrame, base_currency: str) -> dict | None:
    purchases = events[events["type"] == "purchase"]
    server = purchases[purchases["source"] == "server"]
    browser = purchases[purchases["source"] == "browser"].sort_values(["ts", "event_id"])
    if purchases.empty:
        return None
    main = server if not server.empty else browser
    latest, first = main.iloc[-1], main.sort_values(["ts", "event_id"]).iloc[0]
    visitor = _first_value(browser["user_id"])
    customer = _last_value(server["user_id"])
    gross = float(latest["revenue"])
    refunds = events[events["type"] == "refund"]
    refunded = float(refunds["revenue"].fillna(0.0).sum())
    status = _status(latest["status"], gross, refunded, bool((refunds["status"] == "cancelled").any()))
    return {
        "order_id": order_id,
        "customer_id": customer,
        "user_id": visitor if visitor is not None else customer,
        "ts": first["ts"],
        "currency": latest["currency"] or base_currency,
        "revenue": max(gross - refunded, 0.0),
        "cogs": None if pd.isna(latest["cogs"]) else float(latest["cogs"]),
        "status": status,
    }


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


def _first_value(values: pd.Series) -> str | None:
    found = values.dropna()
    return str(found.iloc[0]) if len(found) else None


def _last_value(values: pd.Series) -> str | None:
    found = values.dropna()
    return str(found.iloc[-1]) if len(found) else None
