"""More shop systems: WooCommerce and Shopware 6 order exports -> ``orders``, beside Shopify's (:mod:`.shop`).

Both give one row per order and follow the Shopify importer's definitions: the order time is the payment
time, else the creation time (times without an offset are local times of the workspace time zone); the
customer id is a hash of the e-mail address (:func:`~trueroi.ingest.shop.hash_email`); net revenue is the
order total without taxes, shipping and fees; an order that still counts as a sale has its refunds netted out
(kept in ``refunded``), a refunded or cancelled order keeps its revenue before the refund
(:func:`~trueroi.ingest.shop.net_of_refunds`). Refunds are written with their tax, so the net part taken out
is the refund times the order's net share (net revenue / total). COGS per line item come from the product
cost table (option ``product_costs``: ``sku``, ``product_id`` or ``name`` and ``unit_cost``) or the
workspace's ``default_margin`` (:func:`~trueroi.ingest.shop.line_cogs`); an order with a line of unknown
cost has null COGS unless a default margin is set.

* ``woocommerce-orders``: the order CSV of the "Order Export & Order Import for WooCommerce" plugin
  (WebToffee; its default columns ``order_id, order_number, order_date, paid_date, status, shipping_total,
  shipping_tax_total, fee_total, fee_tax_total, tax_total, discount_total, order_total, order_currency,
  customer_email, billing_email, refund_items, line_item_1, line_item_2, ...``). ``tax_total`` is all of the
  order's tax (shipping tax included), so net revenue is ``order_total - tax_total - shipping_total -
  fee_total``. Line items are written ``name:...|product_id:...|sku:...|quantity:2|total:...|sub_total:...``
  (a cost-of-goods plugin's ``meta:_wc_cog_item_cost:...`` is the unit cost), refunds
  ``amount:10.00|reason:...|date:...;amount:...``. Statuses: ``completed`` stays ``completed``,
  ``processing`` (paid, not shipped) becomes ``paid``, ``on-hold`` and ``pending`` become ``pending``,
  ``cancelled``, ``refunded`` and ``failed`` stay; a completed or processing order with refunds is
  ``partially_refunded`` (``refunded`` once they reach its total). Other statuses (a plugin's ``shipped``) are
  kept as written, with a warning: they are not counted as sales.
* ``shopware-orders``: the CSV of Shopware 6's Import/Export profile "Default orders" (``;``-separated; the
  profile's keys ``order_number, order_date_time, amount_total, line_items, customer_email ...``) with the
  fields a revenue import needs added to the profile: ``amountNet`` (mapped as ``amount_net``),
  ``shippingTotal`` (``shipping_total``), ``currency.isoCode`` (``currency``),
  ``stateMachineState.technicalName`` (``order_state``) and ``transactions.stateMachineState.technicalName``
  (``payment_state``); the entity paths themselves are read as headers too. The default profile's
  ``order_state_id`` holds state ids, not names, and is refused with what to add. Net revenue is
  ``amount_net`` less the shipping costs at the order's tax share (``shipping x amount_net / amount_total``;
  shipping as given for a ``taxStatus`` of ``net`` or ``tax-free``). The order state ``cancelled`` makes an
  order ``cancelled``; otherwise the payment state decides: ``paid`` (``completed`` with a completed order),
  ``paid_partially``/``open``/``in_progress``/``authorized``/``unconfirmed``/``reminded`` -> ``pending``,
  ``refunded`` and ``chargeback`` -> ``refunded``, ``refunded_partially`` -> ``partially_refunded``,
  ``cancelled`` and ``failed`` stay. Without a payment state only completed orders count as sales (a
  warning says so). Line items are written ``2x <product id>|1x <product id>``: the product cost table may
  name products by ``product_id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from trueroi.errors import DataValidationError
from trueroi.ingest.base import Format, ImportContext, register
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.networks import header_key
from trueroi.ingest.numbers import POINT, hint_from_file, parse_numbers
from trueroi.ingest.parse import (
    event_window,
    local_day,
    parse_currency,
    parse_timestamp,
    require_values,
    text,
)
from trueroi.ingest.read import iter_rows, sniff
from trueroi.ingest.shop import hash_email, line_cogs, net_of_refunds
from trueroi.workspace.schema import SALE_STATUSES

Chunk = dict[str, pd.Series]


@dataclass(frozen=True)
class ShopFormat:
    """One shop export: the headers of each field (loose keys, in order of preference), the required
    fields, the money fields and the header keys that identify it (all must be present)."""

    name: str
    fields: dict[str, tuple[str, ...]]
    required: tuple[str, ...]  # columns that must be present, with a value in every row
    money: tuple[str, ...]
    signature: frozenset[str]
    description: str

    def columns(self, header: list[str]) -> dict[str, str]:
        """Field -> the file's header cell, the most preferred one present."""
        keys = {header_key(h): h for h in reversed(header)}  # the first of equal keys wins
        found = {}
        for field_name, names in self.fields.items():
            hit = next((keys[n] for n in names if n in keys), None)
            if hit is not None:
                found[field_name] = hit
        return found


WOO = ShopFormat(
    "woocommerce-orders",
    {
        "order_id": ("ordernumber", "orderid", "bestellnummer"),
        "created_at": ("orderdate", "datecreated", "bestelldatum"),
        "paid_at": ("paiddate", "datepaid", "bezahltam"),
        "status": ("status", "orderstatus", "bestellstatus"),
        "currency": ("ordercurrency", "currency", "währung"),
        "total": ("ordertotal", "total", "gesamtsumme"),
        "taxes": ("taxtotal", "ordertax", "totaltax", "steuern"),
        "shipping": ("shippingtotal", "ordershipping", "versandkosten"),
        "fees": ("feetotal", "gebühren"),
        "email": ("billingemail", "customeremail", "email", "emailbilling"),
        "refunds": ("refunditems",),
    },
    ("order_id", "created_at", "status", "total", "taxes"),
    ("total", "taxes", "shipping", "fees"),
    frozenset({"ordertotal", "orderdate", "taxtotal"}),
    "WooCommerce order export (WebToffee Order Export & Order Import CSV, one row per order)",
)
SHOPWARE = ShopFormat(
    "shopware-orders",
    {
        "order_id": ("ordernumber", "bestellnummer", "id"),
        "created_at": ("orderdatetime", "orderdate", "bestelldatum", "createdat"),
        "total": ("amounttotal", "pricetotalprice", "gesamtbetrag"),
        "net": ("amountnet", "pricenetprice", "nettobetrag"),
        "shipping": ("shippingtotal", "shippingcoststotalprice", "versandkosten"),
        "currency": ("currency", "currencyisocode", "currencyisocodes", "währung"),
        "state": ("orderstate", "statemachinestatetechnicalname", "orderstatetechnicalname", "bestellstatus"),
        "state_id": ("orderstateid", "stateid"),
        "payment": (
            "paymentstate",
            "transactionsstatemachinestatetechnicalname",
            "paymentstatetechnicalname",
            "zahlungsstatus",
        ),
        "tax_status": ("taxstatus", "pricetaxstatus"),
        "email": ("customeremail", "ordercustomeremail", "email"),
        "refunded": ("refunded", "amountrefunded", "refundedamount"),
        "line_items": ("lineitems",),
    },
    ("order_id", "created_at", "total", "net", "state"),
    ("total", "net", "shipping", "refunded"),
    frozenset({"amounttotal", "orderdatetime"}),
    "Shopware 6 order export (Import/Export profile 'Default orders' with net amount and states added)",
)
SHOPWARE_KEYS = (frozenset({"amounttotal", "orderdatetime"}), frozenset({"ordernumber", "amountnet"}))

WOO_STATUS = {
    "completed": "completed",
    "processing": "paid",
    "on-hold": "pending",
    "pending": "pending",
    "checkout-draft": "pending",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "failed": "failed",
}
SHOPWARE_PAYMENT = {
    "paid": "paid",
    "paid_partially": "pending",
    "open": "pending",
    "in_progress": "pending",
    "authorized": "pending",
    "unconfirmed": "pending",
    "reminded": "pending",
    "refunded": "refunded",
    "chargeback": "refunded",
    "refunded_partially": "partially_refunded",
    "cancelled": "cancelled",
    "failed": "failed",
}
SHOPWARE_ORDER = ("open", "in_progress", "completed", "cancelled")
NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
SEPARATE = ("refunds", "line_items")  # parsed apart: long cells of several items


# -- shared: parsing a chunk, building the orders table ----------------------------------------------------
def _parse_chunk(raw: pa.Table, cols: dict[str, str], fmt: ShopFormat, off: int, ctx: ImportContext) -> Chunk:
    """The mapped fields of one chunk as pandas Series (money as floats, times as UTC); problems name the
    file's header cells."""
    p = ctx.problems
    money = {cols[f]: raw[cols[f]] for f in fmt.money if f in cols}
    numbers = parse_numbers(money, p, off)
    out: Chunk = {f: numbers[cols[f]].to_pandas() for f in fmt.money if f in cols}
    window = event_window(ctx.config, ctx.today)
    for f in ("created_at", "paid_at"):
        if f in cols:
            ts = parse_timestamp(raw[cols[f]], p, off, cols[f], tz=ctx.tz, window=window)
            out[f] = pd.Series(ts.to_pandas(), dtype="datetime64[us]")
    if "currency" in cols:
        currency = parse_currency(raw[cols["currency"]], p, off, cols["currency"])
    else:
        code = ctx.options.get("currency")
        currency = parse_currency(pa.array([code] * raw.num_rows, pa.string()), p, off, "currency")
    require_values(currency, p, off, cols.get("currency", "currency"))
    out["currency"] = currency.to_pandas()
    for f, name in cols.items():
        if f not in out and f not in SEPARATE:
            out[f] = text(raw[name], p, off, name).to_pandas()
    for f in fmt.required:
        if f in cols:
            require_values(pa.array(out[f], from_pandas=True), p, off, cols[f])
    out["row"] = pd.Series(np.arange(off + 1, off + 1 + raw.num_rows))
    return out


def _net_refund(before: pd.Series, total: pd.Series, refunds: pd.Series) -> pd.Series:
    """The net part of refunds written with their tax: ``refunds x before / total`` (at most ``before``)."""
    share = (before / total.where(total > 0)).fillna(1.0).clip(upper=1.0)
    return (refunds * share).clip(upper=before)


def _orders(
    c: Chunk, before: pd.Series, status: pd.Series, paid_back: pd.Series, cogs: pd.Series, ctx: ImportContext
) -> pa.Table:
    """The ``orders`` rows of one chunk from its net revenue before refunds, canonical status, net amount
    paid back and COGS (see :func:`~trueroi.ingest.shop.net_of_refunds`)."""
    revenue, refunded = net_of_refunds(before, paid_back, status)
    margin = ctx.config.default_margin
    if margin is not None:
        cogs = cogs.fillna(revenue * (1.0 - margin))
    ts = c["paid_at"].fillna(c["created_at"]) if "paid_at" in c else c["created_at"]
    ts_arr = pa.array(ts.astype("datetime64[us]"), pa.timestamp("us"), from_pandas=True)
    return pa.table(
        {
            "order_id": pa.array(c["order_id"], pa.string(), from_pandas=True),
            "customer_id": pa.array(c["customer_id"], pa.string(), from_pandas=True),
            "ts": ts_arr,
            "date_day": local_day(ts_arr, ctx.tz),
            "currency": pa.array(c["currency"], pa.string(), from_pandas=True),
            "revenue": pa.array(revenue, pa.float64(), from_pandas=True),
            "cogs": pa.array(cogs, pa.float64(), from_pandas=True),
            "status": pa.array(status, pa.string(), from_pandas=True),
            "refunded": pa.array(refunded, pa.float64(), from_pandas=True),
            "status_at": pa.array(
                c["status_at"].astype("datetime64[us]"), pa.timestamp("us"), from_pandas=True
            ),
        }
    )


def _customers(c: Chunk) -> pd.Series:
    email = c.get("email", pd.Series([None] * len(c["order_id"]), dtype=object))
    return email.map(hash_email, na_action="ignore")


def _warn_statuses(status: pd.Series, known: Iterable[str], ctx: ImportContext) -> None:
    """Warn once per status word the format does not know (loaded as written, never counted as sales)."""
    odd = sorted({s for s in status.dropna().unique() if s not in known and s not in SALE_STATUSES})
    if odd:
        ctx.problems.warn(
            f"order status(es) {', '.join(map(repr, odd))} are not known; their orders are loaded with the "
            "status as written and are not counted as sales"
        )


def _rows(
    path: Path, ctx: ImportContext, fmt: ShopFormat, build: Callable[..., pa.Table]
) -> Iterator[pa.Table]:
    """Stream a shop export: header, number hint, required columns, each chunk built by ``build``."""
    src = sniff(path, lambda cells: len({header_key(c) for c in cells} & fmt.signature) >= 2)
    ctx.problems.numbers.set_hint(POINT, f"{fmt.name} exports write decimal points")
    hint_from_file(ctx.problems.numbers, src.delimiter, src.header)
    cols = fmt.columns(src.header)
    _require(cols, fmt, ctx)
    keys = UniqueKeys(["order_id"], column=cols["order_id"])
    for off, raw in iter_rows(src):
        chunk = _parse_chunk(raw, cols, fmt, off, ctx)
        ctx.problems.check()
        table = build(raw, chunk, cols, off, ctx)
        keys.check({"order_id": table["order_id"]}, ctx.problems, off, raw.num_rows)
        ctx.problems.check()
        if ctx.on_rows:
            ctx.on_rows(raw.num_rows)
        yield table


def _require(cols: dict[str, str], fmt: ShopFormat, ctx: ImportContext) -> None:
    missing = [f for f in fmt.required if f not in cols]
    if "currency" not in cols and not ctx.options.get("currency"):
        missing.append("currency")
    if missing:
        names = "; ".join(f"{f}: {fmt.fields[f][0]}" for f in missing)
        raise DataValidationError(
            f"missing required column(s) for {fmt.name}: {names}",
            file=ctx.file,
            expected=f"the columns of a {fmt.description} (or the currency option for the currency)",
        )


# -- WooCommerce -------------------------------------------------------------------------------------------
def _woo_chunk(raw: pa.Table, c: Chunk, cols: dict[str, str], off: int, ctx: ImportContext) -> pa.Table:
    zero = pd.Series(0.0, index=c["total"].index)
    before = (c["total"] - c.get("taxes", zero).fillna(0) - c.get("shipping", zero).fillna(0)).clip(lower=0)
    before = (before - c.get("fees", zero).fillna(0)).clip(lower=0)
    refunds, c["status_at"] = _woo_refunds(raw, cols, off, ctx)
    written = c["status"].str.lower().str.strip().str.removeprefix("wc-")
    _warn_statuses(written, WOO_STATUS, ctx)
    status = written.map(WOO_STATUS).fillna(written)
    partly = status.isin(("completed", "paid")) & (refunds > 0)
    full = partly & (refunds >= c["total"] - 0.005)
    status = status.mask(partly, "partially_refunded").mask(full, "refunded")
    paid_back = _net_refund(before, c["total"], refunds) if "refunds" in cols else refunds * np.nan
    c["customer_id"] = _customers(c)
    lines = _woo_lines(raw, off, ctx)
    ctx.problems.check()
    cogs = _order_cogs(lines, len(before), ctx)
    return _orders(c, before, status, paid_back, cogs, ctx)


def _woo_refunds(
    raw: pa.Table, cols: dict[str, str], off: int, ctx: ImportContext
) -> tuple[pd.Series, pd.Series]:
    """Refunded amount (with tax) and time of the last refund of each order, from ``refund_items``."""
    n = raw.num_rows
    if "refunds" not in cols:
        return pd.Series(0.0, index=range(n)), pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]")
    name = cols["refunds"]
    cells = text(raw[name], ctx.problems, off, name, limit=20_000).to_pylist()
    found = [_refund_cell(cell, off + i + 1, name, ctx) for i, cell in enumerate(cells)]
    last = pa.array([when for _, when in found], pa.string())
    times = parse_timestamp(last, ctx.problems, off, name, tz=ctx.tz, check_days=False)
    amounts = pd.Series([amount for amount, _ in found], dtype=float)
    return amounts, pd.Series(times.to_pandas(), dtype="datetime64[us]")


def _refund_cell(cell: str | None, row: int, column: str, ctx: ImportContext) -> tuple[float, str | None]:
    """The sum and the last date of the refunds in one ``refund_items`` cell (a reason may hold ``;``)."""
    total, when = 0.0, None
    for part in re.split(r";(?=\s*amount:)", cell or ""):
        fields = _fields(part)
        if not fields:
            continue
        value = _number(fields.get("amount"))
        if value is None or value < 0:
            ctx.problems.add(
                f"holds a refund without an amount ({fields.get('amount')!r}); "
                "expected amount:12.50|reason:...|date:...",
                row=row,
                column=column,
                value=part[:60],
            )
            continue
        total += value
        when = max(when or "", fields.get("date") or "") or None
    return total, when


def _fields(part: str) -> dict[str, str]:
    """``key:value|key:value`` -> dict (the first ``:`` splits, the second for ``meta:<key>:value``; a
    value may hold more colons); the first of repeated keys wins."""
    out = {}
    for item in part.split("|"):
        key, sep, value = item.partition(":")
        key = key.strip()
        if key == "meta":
            sub, sep, value = value.partition(":")
            key = f"meta:{sub.strip()}"
        if sep and key and key not in out:
            out[key] = value.strip()
    return out


def _number(value: str | None) -> float | None:
    """A plain decimal as WooCommerce writes it (``12.50``), else None (no grouping, no NaN or inf)."""
    if value is None or not NUMBER.match(value):
        return None
    number = float(value)
    return number if abs(number) <= 1e15 else None


LINE_KEYS = {"quantity": "qty", "sku": "sku", "product_id": "product_id", "name": "item_name"}


def _woo_lines(raw: pa.Table, off: int, ctx: ImportContext) -> pd.DataFrame:
    """One row per line item of the chunk's ``line_item_<n>`` columns: ``order`` (position in the chunk),
    ``qty``, ``item_price`` (unit price before discounts), ``item_cost`` (a COGS plugin's unit cost), ``sku``,
    ``product_id``, ``item_name``."""
    names = [h for h in raw.column_names if re.fullmatch(r"lineitem\d+", header_key(h))]
    rows = []
    for name in names:
        for i, cell in enumerate(text(raw[name], ctx.problems, off, name, limit=20_000).to_pylist()):
            if cell:
                line = _woo_line(cell, off + i + 1, name, ctx)
                if line is not None:
                    rows.append({"order": i, **line})
    columns = ["order", "qty", "item_price", "item_cost", "sku", "product_id", "item_name"]
    return pd.DataFrame(rows, columns=columns)


def _woo_line(cell: str, row: int, column: str, ctx: ImportContext) -> dict | None:
    fields = _fields(cell)
    qty = _number(fields.get("quantity"))
    if qty is None or qty <= 0 or qty != int(qty):
        ctx.problems.add(
            f"has no whole quantity ({fields.get('quantity')!r}); expected name:...|quantity:2|total:...",
            row=row,
            column=column,
            value=cell[:60],
        )
        return None
    line = {target: fields.get(key) for key, target in LINE_KEYS.items()}
    line["qty"] = qty
    subtotal = _number(fields.get("sub_total")) or _number(fields.get("total"))
    line["item_price"] = None if subtotal is None else subtotal / qty
    line["item_cost"] = _number(fields.get("meta:_wc_cog_item_cost"))
    return line


def _order_cogs(lines: pd.DataFrame, n: int, ctx: ImportContext) -> pd.Series:
    """COGS per order of the chunk: the sum of its lines' COGS, NaN when a line's cost is unknown or the
    order has no line items."""
    if lines.empty:
        return pd.Series(np.nan, index=range(n))
    lines = lines.astype({"qty": float, "item_price": float, "item_cost": float})
    lines["line_cogs"] = line_cogs(lines, ctx)
    per_order = lines.groupby("order")["line_cogs"].agg(lambda s: s.sum() if s.notna().all() else np.nan)
    return per_order.reindex(range(n))


# -- Shopware 6 --------------------------------------------------------------------------------------------
def _shopware_chunk(raw: pa.Table, c: Chunk, cols: dict[str, str], off: int, ctx: ImportContext) -> pa.Table:
    shipping = c.get("shipping", pd.Series(0.0, index=c["total"].index)).fillna(0.0)
    tax_status = c.get("tax_status", pd.Series(None, index=c["total"].index, dtype=object))
    as_net = tax_status.str.lower().isin(("net", "tax-free", "tax_free")).to_numpy()
    share = (c["net"] / c["total"].where(c["total"] > 0)).fillna(1.0)
    before = (c["net"] - shipping.where(as_net, shipping * share)).clip(lower=0)
    status = _shopware_status(c, cols, off, ctx)
    refunds = c.get("refunded", pd.Series(np.nan, index=c["total"].index))
    paid_back = _net_refund(before, c["total"], refunds)
    unknown = (status == "partially_refunded") & refunds.isna()
    if unknown.any():
        ctx.problems.warn(
            f"{int(unknown.sum())} partially refunded order(s) without a refunded amount: the export names "
            "none (add one to the profile as refunded), so their revenue still includes what was paid back"
        )
    c["customer_id"] = _customers(c)
    c["status_at"] = pd.Series(pd.NaT, index=c["total"].index, dtype="datetime64[us]")
    lines = _shopware_lines(raw, cols, off, ctx)
    ctx.problems.check()
    return _orders(c, before, status, paid_back, _order_cogs(lines, len(before), ctx), ctx)


def _shopware_status(c: Chunk, cols: dict[str, str], off: int, ctx: ImportContext) -> pd.Series:
    """The canonical status from the order state and (when exported) the payment state."""
    order = c["state"].str.lower().str.strip()
    for name, words in (("state", SHOPWARE_ORDER), ("payment", SHOPWARE_PAYMENT)):
        if name in c:
            values = c[name].str.lower().str.strip()
            bad = values.notna() & ~values.isin(words)
            ctx.problems.add_mask(
                bad.to_numpy(),
                pa.array(c[name], pa.string(), from_pandas=True),
                off,
                cols[name],
                f"is not a Shopware state; expected one of {', '.join(words)} (the state's technical name)",
            )
    if "payment" not in c:
        ctx.problems.warn(
            "no payment state (transactions.stateMachineState.technicalName): only completed orders count "
            "as sales; add the payment state to the export profile as payment_state"
        )
        status = order.map({"completed": "completed", "cancelled": "cancelled"}).fillna("pending")
        return status.where(order.notna(), None)
    status = c["payment"].str.lower().str.strip().map(SHOPWARE_PAYMENT).fillna("pending")
    status = status.mask((status == "paid") & (order == "completed"), "completed")
    return status.mask(order == "cancelled", "cancelled")


def _shopware_lines(raw: pa.Table, cols: dict[str, str], off: int, ctx: ImportContext) -> pd.DataFrame:
    """Line items ``2x <product id>|1x <product id>``: ``order``, ``qty``, ``product_id``."""
    columns = ["order", "qty", "item_price", "item_cost", "sku", "product_id", "item_name"]
    if "line_items" not in cols:
        return pd.DataFrame([], columns=columns)
    name, rows = cols["line_items"], []
    for i, cell in enumerate(text(raw[name], ctx.problems, off, name, limit=100_000).to_pylist()):
        for part in (cell or "").split("|"):
            match = re.fullmatch(r"\s*(\d+)\s*x\s+(\S+)\s*", part)
            if match is None:
                if part.strip():
                    ctx.problems.add(
                        "is not a line item; expected 2x <product id>|1x <product id>",
                        row=off + i + 1,
                        column=name,
                        value=part[:60],
                    )
                continue
            rows.append({"order": i, "qty": float(match.group(1)), "product_id": match.group(2)})
    return pd.DataFrame(rows, columns=columns)


def _shopware_require_state(cols: dict[str, str], ctx: ImportContext) -> None:
    if "state" in cols:
        return
    where = f" ({cols['state_id']} holds state ids, not names)" if "state_id" in cols else ""
    raise DataValidationError(
        f"has no order state{where}",
        file=ctx.file,
        expected="the state's technical name: add stateMachineState.technicalName to the export profile "
        "(mapped as order_state), and the payment state as payment_state",
    )


def _read_woo(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    return {"orders": _rows(path, ctx, WOO, _woo_chunk)}


def _read_shopware(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    def rows() -> Iterator[pa.Table]:
        src = sniff(path, lambda cells: len({header_key(c) for c in cells} & SHOPWARE.signature) >= 2)
        _shopware_require_state(SHOPWARE.columns(src.header), ctx)
        yield from _rows(path, ctx, SHOPWARE, _shopware_chunk)

    return {"orders": rows()}


def _detector(signatures: tuple[frozenset[str], ...]):  # noqa: ANN202 - a detection function
    def detect(path: Path) -> bool:
        if path.suffix.lower() in (".parquet", ".pq", ".json", ".ndjson", ".jsonl"):
            return False
        try:
            src = sniff(
                path, lambda cells: any(len({header_key(c) for c in cells} & s) >= 2 for s in signatures)
            )
        except DataValidationError:
            return False
        keys = {header_key(h) for h in src.header}
        return any(s <= keys for s in signatures)

    return detect


register(Format(WOO.name, ("orders",), _read_woo, WOO.description, _detector((WOO.signature,))))
register(Format(SHOPWARE.name, ("orders",), _read_shopware, SHOPWARE.description, _detector(SHOPWARE_KEYS)))
