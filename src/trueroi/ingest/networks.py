"""Affiliate network transaction reports -> ``partner_transactions`` (what a network claims per partner).

Three formats, each streamed in chunks with one error naming file, row and column:

* ``awin``: Awin's Transactions report (Reports > Performance > Transactions > Export as CSV), with the
  field names Awin's help centre documents for the download (``id``, ``publisher_id``, ``site_name``,
  ``date``, ``click_date``, ``validation_date``, ``commission_status`` as ``pending``/``approved``/
  ``declined``/``deleted`` or ``0``/``1``/``2``, ``sale_amount``, ``commission``, ``extra`` = the
  advertiser's order reference, ``type``, ``voucher_code``); the Advertiser API's camel-case names
  (``transactionDate``, ``orderRef``, ``commissionStatus``, ``saleAmount``, ``commissionAmount``,
  ``siteName``, ``clickDate``, ``voucherCode``) are read too.
* ``cj``: CJ's Commission Detail (the advertiser records of the Commission Detail API, one CSV column per
  field: ``commissionId``, ``orderId``, ``actionStatus`` ``new``/``extended``/``locked``/``closed``,
  ``actionType``, ``eventDate`` (UTC), ``clickDate``, ``publisherId``, ``publisherName``, ``websiteName``,
  ``saleAmountAdvCurrency``, ``advCommissionAmountAdvCurrency``, ``cjFeeAdvCurrency``, ``coupon``,
  ``original``, ``correctionReason``). A correction (a return, a cancelled order) is a row of its own with
  negative amounts, as CJ reports it; the partner's commission is the advertiser's commission less CJ's fee.
* ``network``: a generic network CSV with the canonical columns ``network, transaction_id, order_id,
  publisher_id, publisher_name, type, ts, click_ts, currency, sale_amount, commission, status,
  voucher_code`` (``network`` may be given as an option instead).

Header cells are compared without case, spaces, underscores or dashes (``Commission Status``,
``commission_status`` and ``commissionStatus`` are one name). Statuses become ``pending``, ``approved`` or
``declined``. Reports that name no currency (Awin's download and CJ's advertiser-currency amounts) take the
``currency`` option, else the workspace base currency. The network name and the transaction id identify a
row: a later report with the same transactions (updated statuses) replaces them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest.base import Format, ImportContext, missing_columns, register
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.numbers import hint_from_file, parse_number
from trueroi.ingest.parse import (
    Problems,
    event_window,
    local_day,
    parse_currency,
    parse_timestamp,
    require_values,
    text,
)
from trueroi.ingest.read import iter_rows, norm_header, sniff

TABLE = "partner_transactions"
STATUSES = ("pending", "approved", "declined")
# Network words for each status (lower-cased); Awin's download writes 0/1/2.
STATUS_WORDS = {
    "pending": ("pending", "0", "new", "extended", "open", "offen", "ausstehend"),
    "approved": ("approved", "1", "locked", "closed", "confirmed", "validated", "paid", "bestätigt"),
    "declined": ("declined", "2", "deleted", "rejected", "cancelled", "canceled", "void", "abgelehnt"),
}

AWIN = {
    "id": "transaction_id",
    "transactionid": "transaction_id",
    "publisherid": "publisher_id",
    "sitename": "publisher_name",
    "publishername": "publisher_name",
    "date": "ts",
    "transactiondate": "ts",
    "clickdate": "click_ts",
    "commissionstatus": "status",
    "saleamount": "sale_amount",
    "commission": "commission",
    "commissionamount": "commission",
    "extra": "order_id",
    "orderref": "order_id",
    "orderreference": "order_id",
    "type": "type",
    "vouchercode": "voucher_code",
    "currency": "currency",
    "saleamountcurrency": "currency",
}
CJ = {
    "commissionid": "transaction_id",
    "orderid": "order_id",
    "actionstatus": "status",
    "actiontype": "type",
    "eventdate": "ts",
    "clickdate": "click_ts",
    "publisherid": "publisher_id",
    "publishername": "publisher_name",
    "saleamountadvcurrency": "sale_amount",
    "saleamount": "sale_amount",
    "advcommissionamountadvcurrency": "commission",
    "commission": "commission",
    "cjfeeadvcurrency": "fee",
    "coupon": "voucher_code",
    "currency": "currency",
    "advertisercurrency": "currency",
}
GENERIC = {
    name.replace("_", ""): name
    for name in (
        "network",
        "transaction_id",
        "order_id",
        "publisher_id",
        "publisher_name",
        "type",
        "ts",
        "click_ts",
        "currency",
        "sale_amount",
        "commission",
        "status",
        "voucher_code",
    )
}
GENERIC |= {"transactiondate": "ts", "clickdate": "click_ts", "orderref": "order_id"}


def header_key(name: str) -> str:
    """A header cell compared loosely: lower case, without spaces, underscores, dashes or dots."""
    return re.sub(r"[^0-9a-zäöüß]", "", norm_header(name))


@dataclass(frozen=True)
class NetworkFormat:
    """How one network writes its report: header names, which of them identify it, and its amounts."""

    name: str
    aliases: dict[str, str]
    signature: frozenset[str]  # header keys that identify the format (all must be present)
    signed: bool = False  # corrections are rows with negative amounts (CJ)


FORMATS = {
    "awin": NetworkFormat("awin", AWIN, frozenset({"commissionstatus", "publisherid"})),
    "cj": NetworkFormat("cj", CJ, frozenset({"commissionid", "actionstatus"}), signed=True),
    "network": NetworkFormat("network", GENERIC, frozenset({"transactionid", "saleamount", "commission"})),
}


def _mapped(raw: pa.Table, fmt: NetworkFormat) -> tuple[pa.Table, dict[str, str]]:
    """The columns the format knows, renamed to canonical names; and canonical name -> header cell."""
    mapping: dict[str, str] = {}
    for h in raw.column_names:
        target = fmt.aliases.get(header_key(h))
        if target is not None and target not in mapping:
            mapping[target] = h
    table = raw.select(list(mapping.values())).rename_columns(list(mapping))
    return table, mapping


def _status(values: pa.Array, problems: Problems, offset: int, column: str) -> pa.Array:
    """Network statuses as ``pending``, ``approved`` or ``declined``; an unknown word is a problem."""
    raw = pc.utf8_lower(text(values, problems, offset, column))
    out = pa.nulls(len(raw), pa.string())
    for status, words in STATUS_WORDS.items():
        out = pc.if_else(pc.is_in(raw, value_set=pa.array(words)), pa.scalar(status), out)
    problems.add_mask(
        pc.and_(pc.is_valid(raw), pc.is_null(out)),
        raw,
        offset,
        column,
        "is not a transaction status; expected pending, approved or declined (or the network's word)",
    )
    return out


def _money(t: pa.Table, name: str, shown: str, fmt: NetworkFormat, ctx: ImportContext, off: int) -> pa.Array:
    if name not in t.column_names:
        return pa.nulls(t.num_rows, pa.float64())
    return parse_number(t[name], ctx.problems, off, shown, non_negative=not fmt.signed)


def _chunk(t: pa.Table, shown: dict[str, str], fmt: NetworkFormat, ctx: ImportContext, off: int) -> pa.Table:
    """One chunk of a report as canonical rows (problems recorded in ``ctx.problems``)."""
    p, n = ctx.problems, t.num_rows
    window = event_window(ctx.config, ctx.today)
    nulls = pa.nulls(n, pa.string())

    def string(name: str) -> pa.Array:
        return text(t[name], p, off, shown[name]) if name in t.column_names else nulls

    transaction = string("transaction_id")
    require_values(transaction, p, off, shown["transaction_id"])
    ts = parse_timestamp(t["ts"], p, off, shown["ts"], tz=ctx.tz, window=window)
    require_values(ts, p, off, shown["ts"])
    click = (
        parse_timestamp(t["click_ts"], p, off, shown["click_ts"], tz=ctx.tz, window=window)
        if "click_ts" in t.column_names
        else pa.nulls(n, pa.timestamp("us"))
    )
    sale = _money(t, "sale_amount", shown.get("sale_amount", ""), fmt, ctx, off)
    require_values(sale, p, off, shown["sale_amount"])
    commission = _money(t, "commission", shown.get("commission", ""), fmt, ctx, off)
    if "fee" in t.column_names:  # CJ: the advertiser's commission includes CJ's fee
        fee = parse_number(t["fee"], p, off, shown["fee"])
        commission = pc.subtract(commission, pc.fill_null(fee, 0.0))
    status = (
        _status(t["status"], p, off, shown["status"])
        if "status" in t.column_names
        else pa.nulls(n, pa.string())
    )
    return pa.table(
        {
            "network": _network(t, shown, fmt, ctx, off),
            "transaction_id": transaction,
            "order_id": string("order_id"),
            "publisher_id": string("publisher_id"),
            "publisher_name": string("publisher_name"),
            "type": pc.utf8_lower(string("type")),
            "ts": ts,
            "date_day": local_day(ts, ctx.tz),
            "click_ts": click,
            "currency": _currency(t, shown, ctx, off),
            "sale_amount": sale,
            "commission": commission,
            "status": status,
            "voucher_code": string("voucher_code"),
        }
    )


def _network(
    t: pa.Table, shown: dict[str, str], fmt: NetworkFormat, ctx: ImportContext, off: int
) -> pa.Array:
    n = t.num_rows
    if fmt.name != "network":
        return pa.array([fmt.name] * n, pa.string())
    if "network" in t.column_names:
        names = pc.utf8_lower(text(t["network"], ctx.problems, off, shown["network"]))
        require_values(names, ctx.problems, off, shown["network"])
        return names
    return pa.array([str(ctx.options["network"]).strip().lower()] * n, pa.string())


def _currency(t: pa.Table, shown: dict[str, str], ctx: ImportContext, off: int) -> pa.Array:
    n = t.num_rows
    default = ctx.options.get("currency") or ctx.config.base_currency
    if "currency" not in t.column_names:
        return pa.array([str(default).upper()] * n, pa.string())
    codes = parse_currency(t["currency"], ctx.problems, off, shown["currency"])
    return pc.fill_null(codes, str(default).upper())


def _required(fmt: NetworkFormat, ctx: ImportContext) -> tuple[str, ...]:
    needed = ("transaction_id", "ts", "sale_amount")
    if fmt.name == "network" and not ctx.options.get("network"):
        needed = ("network", *needed)
    return needed


def _rows(path: Path, ctx: ImportContext, fmt: NetworkFormat) -> Iterator[pa.Table]:
    src = sniff(path, lambda cells: sum(header_key(c) in fmt.aliases for c in cells) >= 3)
    hint_from_file(ctx.problems.numbers, src.delimiter, src.header)
    keys = UniqueKeys(["network", "transaction"], column="transaction")
    for off, raw in iter_rows(src):
        t, shown = _mapped(raw, fmt)
        if off == 0:
            missing_columns(t.column_names, _required(fmt, ctx), ctx.file, fmt.name)
        rows = _chunk(t, shown, fmt, ctx, off)
        keys.check(
            {"network": rows["network"], "transaction": rows["transaction_id"]}, ctx.problems, off, t.num_rows
        )
        ctx.problems.check()
        if ctx.on_rows:
            ctx.on_rows(t.num_rows)
        yield rows


def _reader(fmt: NetworkFormat):  # noqa: ANN202 - an importer function
    def read(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
        return {TABLE: _rows(path, ctx, fmt)}

    return read


def _detector(fmt: NetworkFormat):  # noqa: ANN202 - a detection function
    def detect(path: Path) -> bool:
        if path.suffix.lower() in (".parquet", ".pq"):
            return False
        try:
            src = sniff(path, lambda cells: sum(header_key(c) in fmt.aliases for c in cells) >= 3)
        except DataValidationError:
            return False
        keys = {header_key(h) for h in src.header}
        return fmt.signature <= keys

    return detect


for _fmt, _description in (
    ("awin", "Awin Transactions report (CSV download or the Advertiser API's fields)"),
    ("cj", "CJ Commission Detail (advertiser commission records)"),
    ("network", "affiliate network transactions with canonical columns (CSV)"),
):
    register(Format(_fmt, (TABLE,), _reader(FORMATS[_fmt]), _description, _detector(FORMATS[_fmt])))
