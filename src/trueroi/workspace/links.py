"""Shop orders joined to tracked purchases by transaction id, so orders without a user reach the journeys.

A shop export (Shopify, WooCommerce, ...) knows no web user; the web tracking (GA4's BigQuery export, a
conversions file) knows the user of each purchase and its transaction id. Attribution, the KPI engine, CLV
and the quality checks link orders to journeys only through ``orders.user_id``, so the warehouse writes the
user of the tracked purchase into the order:

- A **tracked purchase** is a ``conversions`` row of type ``purchase`` (any case) with a ``user_id`` and an
  ``order_id`` (GA4's ``transaction_id``).
- It **matches** an order when its transaction id equals the order's ``order_id`` or ``order_ref`` (the
  shop's other id: Shopify's numeric ``Id`` beside its ``Name``), compared trimmed, without leading ``#`` and
  in any case: GA4 may carry ``#1001``, ``1001`` or ``5623456789012`` for Shopify's order ``#1001``.
  Transaction ids ``""`` and ``(not set)`` match nothing.
- An order with a user of its own (a tracked order, an orders file with ``user_id``) keeps it. An order
  without one takes the user of its earliest matching purchase (ties: the smaller user id) and is marked
  ``user_linked``; a linked order whose purchase is gone or changed is linked again or unlinked.

:func:`link_orders` does this on the raw DuckDB connection inside the caller's transaction; the load commit
(:func:`trueroi.workspace.load.commit`) runs it after every load of orders or conversions, so the link holds
whichever file came first, and after re-imports. :func:`order_links` reads how many orders are linked.
:func:`add_missing_columns` gives a warehouse made by an older version the nullable columns added since.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis

from trueroi.io import jsonable
from trueroi.workspace.derived import invalidate
from trueroi.workspace.money import to_base
from trueroi.workspace.rules import is_sale
from trueroi.workspace.schema import TABLES

if TYPE_CHECKING:
    import duckdb

    from trueroi.workspace.core import Workspace

#: Transaction ids that name no order.
NO_ID = ("", "(not set)")
LINK_TABLES = ("orders", "conversions")


def _key(column: str) -> str:
    """SQL: the comparable form of an order id (trimmed, no leading '#', lower case)."""
    return f"lower(trim(ltrim(trim({column}), '#')))"


_LINKS_SQL = f"""
    WITH p AS (
        SELECT {_key("order_id")} AS k, first(user_id ORDER BY ts NULLS LAST, user_id) AS user_id
        FROM conversions
        WHERE lower(type) = 'purchase' AND user_id IS NOT NULL AND order_id IS NOT NULL
        GROUP BY 1
        HAVING k NOT IN ({", ".join(repr(v) for v in NO_ID)})
    ),
    o AS (
        SELECT DISTINCT order_id, order_ref FROM orders WHERE user_id IS NULL OR user_linked
    )
    SELECT o.order_id, min(coalesce(a.user_id, b.user_id)) AS user_id
    FROM o LEFT JOIN p AS a ON a.k = {_key("o.order_id")} LEFT JOIN p AS b ON b.k = {_key("o.order_ref")}
    GROUP BY o.order_id
"""


def link_orders(raw: duckdb.DuckDBPyConnection) -> int:
    """Give orders without a user of their own the user of their tracked purchase (see the module's rule).

    Runs inside the caller's transaction on the raw DuckDB connection; when an order's user changes, the
    derived tables are invalidated in the same transaction (their fingerprints do not see this update).

    Returns
    -------
    int
        How many orders' ``user_id`` changed (linked, re-linked or unlinked).
    """
    if not _has_columns(raw, "orders", ("order_ref", "user_linked")):
        return 0
    flag = "CASE WHEN m.user_id IS NULL THEN NULL ELSE true END"
    changed = raw.execute(f"""
        UPDATE orders SET user_id = m.user_id, user_linked = {flag}
        FROM ({_LINKS_SQL}) AS m
        WHERE orders.order_id = m.order_id AND (orders.user_id IS NULL OR orders.user_linked)
          AND (orders.user_id IS DISTINCT FROM m.user_id OR orders.user_linked IS DISTINCT FROM {flag})
    """).fetchone()
    n = int(changed[0]) if changed else 0
    if n:
        invalidate(raw)
    return n


def add_missing_columns(raw: duckdb.DuckDBPyConnection, tables: tuple[str, ...] | None = None) -> list[str]:
    """Add the canonical columns a warehouse made by an older version lacks (all nullable); returns them
    as ``table.column``. Tables that do not exist are left alone (they are created whole when needed)."""
    added = []
    for table in tables or tuple(TABLES):
        present = _columns(raw, table)
        if not present:
            continue
        for column, typ in TABLES[table].items():
            if column not in present:
                sql_type = {"string": "VARCHAR", "float64": "DOUBLE", "int64": "BIGINT", "int32": "INTEGER"}
                raw.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type.get(typ, typ.upper())}")
                added.append(f"{table}.{column}")
    return added


def _columns(raw: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = raw.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = current_schema() "
        "AND database_name = current_database()",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def _has_columns(raw: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> bool:
    return set(columns) <= _columns(raw, table)


@dataclass(frozen=True)
class OrderLinks:
    """How the workspace's orders meet its tracked purchases.

    ``orders``: all orders; ``with_user``: orders with a user (their own or linked); ``linked``: orders whose
    user came from a tracked purchase with their id; ``unlinked``: orders without any user; ``purchases``:
    tracked purchases (distinct transaction ids); ``purchases_unmatched``: of those, ids no order carries;
    ``unlinked_revenue_share``: the unlinked sale orders' share of all sale orders' revenue in the base
    currency (orders without an exchange rate for their day left out; None without sale revenue).
    """

    orders: int
    with_user: int
    linked: int
    unlinked: int
    purchases: int
    purchases_unmatched: int
    unlinked_revenue_share: float | None

    def to_dict(self) -> dict[str, Any]:
        """``{orders, with_user, linked, unlinked, purchases, purchases_unmatched,
        unlinked_revenue_share}``."""
        return jsonable(
            {
                "orders": self.orders,
                "with_user": self.with_user,
                "linked": self.linked,
                "unlinked": self.unlinked,
                "purchases": self.purchases,
                "purchases_unmatched": self.purchases_unmatched,
                "unlinked_revenue_share": self.unlinked_revenue_share,
            }
        )

    def line(self) -> str:
        """One sentence for people: what matched and what did not."""
        text = (
            f"{self.linked:,} of {self.orders:,} orders linked to tracked purchases by transaction id; "
            f"{self.unlinked:,} without a user"
        )
        if self.unlinked and self.unlinked_revenue_share is not None:
            text += f" ({self.unlinked_revenue_share:.1%} of sale revenue, unattributed)"
        if self.purchases_unmatched:
            text += f"; {self.purchases_unmatched:,} of {self.purchases:,} tracked purchases match no order"
        return text


def order_links(ws: Workspace) -> OrderLinks:
    """How many of the workspace's orders have a user, own or linked from a tracked purchase (see
    :class:`OrderLinks`). A warehouse made before ``user_linked`` existed counts no order as linked."""
    orders = ws.table("orders")
    if "user_linked" in orders.columns:
        linked = orders.user_linked.fill_null(False)
    else:  # a column of false
        linked = orders.order_id.isnull() & ibis.literal(False)
    counts = orders.aggregate(
        orders=orders.count(),
        with_user=orders.user_id.notnull().sum(),
        linked=linked.cast("int64").sum(),
    ).execute()
    sales = to_base(ws, orders.filter(is_sale(orders.status)), ["revenue"])
    sales = sales.filter(~sales._fx_missing)
    rev = sales.aggregate(
        total=sales.revenue.sum(), lost=sales.revenue.fill_null(0.0).sum(where=sales.user_id.isnull())
    ).execute()
    total, lost = _number(rev["total"].iloc[0]), _number(rev["lost"].iloc[0])
    purchases, unmatched = _purchases(ws)
    n_orders, with_user = _count(counts["orders"].iloc[0]), _count(counts["with_user"].iloc[0])
    return OrderLinks(
        orders=n_orders,
        with_user=with_user,
        linked=_count(counts["linked"].iloc[0]),
        unlinked=n_orders - with_user,
        purchases=purchases,
        purchases_unmatched=unmatched,
        unlinked_revenue_share=lost / total if total else None,
    )


def _purchases(ws: Workspace) -> tuple[int, int]:
    """Tracked purchases (distinct transaction ids) and how many of them no order carries."""
    c = ws.table("conversions")
    key = _ibis_key(c.order_id)
    p = (
        c.filter(
            (c.type.lower() == "purchase")
            & c.user_id.notnull()
            & c.order_id.notnull()
            & ~key.isin(list(NO_ID))
        )
        .select(k=key)
        .distinct()
    )
    o = ws.table("orders")
    ids = o.select(k=_ibis_key(o.order_id))
    if "order_ref" in o.columns:
        ids = ids.union(o.filter(o.order_ref.notnull()).select(k=_ibis_key(o.order_ref)))
    missing = p.anti_join(ids, p.k == ids.k)
    return _count(p.count().execute()), _count(missing.count().execute())


def _ibis_key(value: ibis.StringValue) -> ibis.StringValue:
    """Ibis form of the SQL order-id key: trimmed, leading '#' removed, lower case."""
    return value.strip().re_replace(r"^#+", "").strip().lower()


def _count(value: Any) -> int:
    return 0 if value is None or value != value else int(value)


def _number(value: Any) -> float:
    return 0.0 if value is None or value != value else float(value)
