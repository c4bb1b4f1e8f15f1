"""Shop orders: the Shopify orders export -> ``orders``, with COGS from the file, a product cost table or a
default margin.

Shopify writes one row per line item; the order-level fields (``Financial Status``, ``Paid at``,
``Subtotal``, ``Shipping``, ``Taxes``, ``Total``, ``Refunded Amount``) are filled on the order's first row
only. The order's status is ``cancelled`` when ``Cancelled at`` is set, else the financial status (``paid``,
``partially_refunded``, ``refunded``, ``pending``; ``voided`` becomes ``cancelled``). Its net revenue before
refunds is ``Total - Taxes - Shipping``: product revenue after discounts, without tax or shipping income. An
order that still counts as a sale has what was paid back (``Refunded Amount``) netted out of its revenue and
kept in ``refunded``; a refunded or cancelled order keeps its revenue before the refund
(:func:`net_of_refunds`), so what was lost stays known. The order id is Shopify's ``Name`` (``#1001``); its
numeric ``Id`` is kept in ``order_ref``, so a tracked purchase carrying either finds the order
(:mod:`trueroi.workspace.links`). The customer id is a hash of the e-mail address, so
no address is stored.

COGS per line item, first found: a ``Lineitem cost`` / ``Cost per item`` column times quantity; the product
cost table (option ``product_costs``: a CSV with ``sku`` or ``name`` and ``unit_cost``); ``Lineitem price x
quantity x (1 - default_margin)`` from the workspace config. An order with a line of unknown cost and no
default margin has null COGS. :func:`line_cogs`, :func:`hash_email` and :func:`net_of_refunds` are shared
with the other shop importers (:mod:`trueroi.ingest.shops`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from trueroi.errors import DataValidationError
from trueroi.ingest.base import Format, ImportContext, missing_columns, register
from trueroi.ingest.numbers import hint_from_file, parse_number, parse_numbers
from trueroi.ingest.parse import (
    Problems,
    as_strings,
    event_window,
    local_day,
    parse_currency,
    parse_timestamp,
    text,
)
from trueroi.ingest.read import iter_rows, norm_header, sniff

SHOPIFY = {
    "name": "order_id",
    "email": "email",
    "financial status": "financial_status",
    "paid at": "paid_at",
    "created at": "created_at",
    "currency": "currency",
    "subtotal": "subtotal",
    "shipping": "shipping",
    "taxes": "taxes",
    "total": "total",
    "discount amount": "discount",
    "lineitem quantity": "qty",
    "lineitem name": "item_name",
    "lineitem price": "item_price",
    "lineitem sku": "sku",
    "cancelled at": "cancelled_at",
    "refunded amount": "refunded",
    "lineitem cost": "item_cost",
    "cost per item": "item_cost",
    "id": "shopify_id",
}
STATUS = {
    "paid": "paid",
    "partially_paid": "pending",
    "partially_refunded": "partially_refunded",
    "refunded": "refunded",
    "pending": "pending",
    "authorized": "pending",
    "voided": "cancelled",
    "expired": "cancelled",
}
MONEY_COLS = ("subtotal", "shipping", "taxes", "total", "discount", "item_price", "refunded", "item_cost")


def _read_shopify(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    def orders():  # noqa: ANN202 - a generator of one table
        src = sniff(path, lambda cells: sum(c in SHOPIFY for c in cells) >= 5)
        hint_from_file(ctx.problems.numbers, src.delimiter, src.header)
        parts = []
        for off, raw in iter_rows(src):
            parts.append(_parse_lines(raw, off, ctx, src.header))
            ctx.problems.check()
            if ctx.on_rows:
                ctx.on_rows(raw.num_rows)
        lines = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        yield _to_orders(lines, ctx)

    return {"orders": orders()}


def _parse_lines(raw: pa.Table, off: int, ctx: ImportContext, header: list[str]) -> pd.DataFrame:
    mapping = {h: SHOPIFY[norm_header(h)] for h in raw.column_names if norm_header(h) in SHOPIFY}
    option = ctx.options.get("currency")
    if off == 0:
        present = set(mapping.values()) | ({"currency"} if option else set())
        missing_columns(
            present, ("order_id", "currency", "total", "qty", "item_price"), ctx.file, "shopify-orders"
        )
        if "paid_at" not in mapping.values() and "created_at" not in mapping.values():
            missing_columns(set(mapping.values()), ("paid_at",), ctx.file, "shopify-orders")
    t = raw.select(list(mapping)).rename_columns(list(mapping.values()))
    if "currency" not in t.column_names:  # the currency option (--currency EUR) stands for the column
        t = t.append_column("currency", pa.array([option] * t.num_rows, pa.string()))
    p = ctx.problems
    numbers = [n for n in t.column_names if n in MONEY_COLS or n == "qty"]
    out = parse_numbers({n: t[n] for n in numbers}, p, off, integer=("qty",))
    window = event_window(ctx.config, ctx.today)
    for name in t.column_names:
        if name in numbers:
            continue
        if name in ("paid_at", "created_at", "cancelled_at"):
            out[name] = parse_timestamp(t[name], p, off, name, tz=ctx.tz, window=window)
        elif name == "currency":
            out[name] = parse_currency(t[name], p, off, name)
        else:
            out[name] = text(t[name], p, off, name)
    frame = pa.table(out).to_pandas()
    frame["row"] = np.arange(off + 1, off + 1 + len(frame))
    return frame


def _to_orders(lines: pd.DataFrame, ctx: ImportContext) -> pa.Table:
    if lines.empty:
        raise DataValidationError("holds no order rows", file=ctx.file, expected="one row per line item")
    lines = lines.copy()
    lines["line_cogs"] = line_cogs(lines, ctx)
    _repeated_orders(lines, ctx)
    first = lines.groupby("order_id", sort=False).first()  # order-level fields are on the first row
    totals = lines.groupby("order_id", sort=False)["line_cogs"].agg(
        lambda s: s.sum() if s.notna().all() else np.nan
    )
    for col in (
        "taxes",
        "shipping",
        "refunded",
        "cancelled_at",
        "email",
        "financial_status",
        "created_at",
        "shopify_id",
    ):
        if col not in first:
            first[col] = np.nan
    missing_total = first["total"].isna()
    if missing_total.any():
        oid = first.index[missing_total][0]
        raise DataValidationError(
            "has no Total on its first row",
            file=ctx.file,
            row=int(first.loc[oid, "row"]),
            column="Total",
            expected="the order total on the first line item of each order",
        )
    ts = first["paid_at"] if "paid_at" in first else first["created_at"]
    if "created_at" in first and first["created_at"].notna().any():  # all-null when the column is absent
        ts = ts.fillna(first["created_at"])
    if ts.isna().any():
        oid = first.index[ts.isna().to_numpy()][0]
        raise DataValidationError(
            "has neither Paid at nor Created at",
            file=ctx.file,
            row=int(first.loc[oid, "row"]),
            column="Created at",
            expected="the time of each order (Shopify exports carry Created at on every order's first row)",
        )
    # as strings: an absent or empty Financial Status column is all-NaN floats
    status = first["financial_status"].astype("string").str.lower().map(STATUS).fillna("pending")
    status = status.where(first["cancelled_at"].isna(), "cancelled")
    before = (first["total"] - first["taxes"].fillna(0) - first["shipping"].fillna(0)).clip(lower=0)
    revenue, refunded = net_of_refunds(before, first["refunded"].astype(float), status)
    customer = first["email"].map(hash_email, na_action="ignore")
    ts_arr = pa.array(ts.astype("datetime64[us]"), pa.timestamp("us"), from_pandas=True)
    return pa.table(
        {
            "order_id": pa.array(first.index.astype(str)),
            "customer_id": pa.array(customer, pa.string(), from_pandas=True),
            "ts": ts_arr,
            "date_day": local_day(ts_arr, ctx.tz),
            "currency": pa.array(first["currency"], pa.string()),
            "revenue": pa.array(revenue, pa.float64()),
            "cogs": pa.array(totals.reindex(first.index), pa.float64(), from_pandas=True),
            "status": pa.array(status, pa.string()),
            "refunded": pa.array(refunded, pa.float64(), from_pandas=True),
            # Shopify's numeric Id beside its Name: a tracked purchase may carry either as transaction id
            "order_ref": pa.array(first["shopify_id"].astype("string"), pa.string(), from_pandas=True),
        }
    )


FULL_LOSS = ("refunded", "cancelled")  # statuses whose revenue is kept before the refund


def net_of_refunds(before: pd.Series, paid_back: pd.Series, status: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each order's ``revenue`` and ``refunded`` from its net revenue before refunds and what was paid back.

    An order that still counts as a sale (``paid``, ``partially_refunded``, ...) has what was paid back
    netted out: ``revenue = max(before - paid_back, 0)`` and ``refunded = before - revenue``, so ``revenue +
    refunded`` is always the net revenue before refunds (what partner commission stands on). A ``refunded`` or
    ``cancelled`` order keeps ``revenue = before`` and ``refunded`` null: it is excluded from sales by its
    status anyway, and netting it to 0 would lose what was refunded (the quality report counts it).

    Parameters
    ----------
    before
        Net revenue before refunds per order (money, the order's currency).
    paid_back
        Amount refunded per order in the same currency (NaN: not in the export).
    status
        Canonical order status per order.

    Returns
    -------
    tuple of pandas.Series
        ``revenue`` and ``refunded`` (NaN where the export gives no refunded amount, and for refunded or
        cancelled orders).
    """
    lost = status.isin(FULL_LOSS).to_numpy()
    net = (before - paid_back.fillna(0.0)).clip(lower=0.0)
    revenue = before.where(lost, net)
    refunded = (before - net).where(~lost & paid_back.notna().to_numpy())
    return revenue.astype(float), refunded.astype(float)


def _repeated_orders(lines: pd.DataFrame, ctx: ImportContext) -> None:
    """An order whose order-level fields (its Total) fill more than one row is in the file twice."""
    heads = lines[lines["total"].notna()]
    again = heads[heads.duplicated("order_id", keep="first")]
    if again.empty:
        return
    first_rows = heads.drop_duplicates("order_id").set_index("order_id")["row"]
    for _, line in again.head(20).iterrows():
        ctx.problems.add(
            f"repeats order {line['order_id']} of row {int(first_rows[line['order_id']])}; "
            "expected each order once in a file (its Total on its first line item only)",
            row=int(line["row"]),
            column="Name",
            value=line["order_id"],
        )
    for _, line in again.iloc[20:].iterrows():
        ctx.problems.add(
            "repeats an earlier order", row=int(line["row"]), column="Name", value=line["order_id"]
        )
    ctx.problems.check()


def hash_email(email: str) -> str:
    """The customer id of an e-mail address: ``c_`` and 16 hex digits of its SHA-256 (trimmed, lower-cased),
    the same for every shop importer, so no address is stored."""
    return "c_" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def line_cogs(lines: pd.DataFrame, ctx: ImportContext) -> pd.Series:
    """COGS of each line item (money): ``item_cost x qty``, else the product cost table's unit cost (option
    ``product_costs``) by ``sku``, ``product_id`` or ``item_name`` x qty, else ``item_price x qty x (1 -
    default_margin)``; NaN where none is known. Columns: ``qty`` and optionally ``item_cost``, ``sku``,
    ``product_id``, ``item_name``, ``item_price`` (unit price)."""
    qty = lines["qty"].astype(float)
    cost = lines["item_cost"] * qty if "item_cost" in lines else pd.Series(np.nan, index=lines.index)
    table = ctx.options.get("product_costs")
    if table is not None:
        unit = _product_costs(Path(table))
        for key in ("sku", "product_id", "item_name"):
            if key in lines:
                cost = cost.fillna(lines[key].map(unit).astype(float) * qty)
    margin = ctx.config.default_margin
    if margin is not None and "item_price" in lines:
        cost = cost.fillna(lines["item_price"] * qty * (1.0 - margin))
    return cost


def _product_costs(path: Path) -> dict[str, float]:
    """Unit cost by SKU, product id and product name from a CSV with ``sku``, ``product_id`` and/or ``name``
    and ``unit_cost``."""
    src = sniff(path)
    problems = Problems(path.name)
    hint_from_file(problems.numbers, src.delimiter, src.header)
    costs: dict[str, float] = {}
    for off, raw in iter_rows(src):
        cols = {norm_header(c): c for c in raw.column_names}
        missing_columns(cols, ("unit_cost",), path.name, "product cost table")
        unit = parse_number(raw[cols["unit_cost"]], problems, off, "unit_cost", non_negative=True)
        problems.check()
        for key in ("sku", "product_id", "name"):
            if key in cols:
                names = as_strings(raw[cols[key]])
                for k, v in zip(names.to_pylist(), unit.to_pylist(), strict=True):
                    if k is not None and v is not None:
                        costs.setdefault(k, v)
    return costs


def _detect(path: Path) -> bool:
    try:
        src = sniff(path, lambda cells: sum(c in SHOPIFY for c in cells) >= 5)
    except DataValidationError:
        return False
    return {"financial status", "lineitem quantity"} <= {norm_header(h) for h in src.header}


register(
    Format(
        "shopify-orders", ("orders",), _read_shopify, "Shopify orders export (one row per line item)", _detect
    )
)
