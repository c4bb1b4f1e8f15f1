"""Ad-platform exports: Google Ads, Meta Ads and Microsoft Advertising -> ``ad_performance``.

Each platform's report is mapped through an alias map from the header names its UI and API use (English
and German UI names, API / BigQuery Data Transfer names) to canonical columns. Title and date-range lines
above the header and ``Total:`` / copyright lines below the data are dropped; numbers with currency signs,
thousands separators and decimal commas are read as the platform writes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest.base import Format, ImportContext, missing_columns, register
from trueroi.ingest.generic import ad_derived, iter_source
from trueroi.ingest.parse import (
    as_strings,
    currency_from_header,
    parse_currency,
    parse_date,
    parse_number,
    require_values,
)
from trueroi.ingest.read import iter_rows, norm_header, sniff

GOOGLE_ALIASES = {
    # UI download, English
    "day": "date_day",
    "date": "date_day",
    "campaign": "campaign_name",
    "campaign id": "campaign_id",
    "ad group": "ad_group_name",
    "ad group id": "ad_group_id",
    "account": "account_name",
    "account name": "account_name",
    "customer id": "account_id",
    "currency code": "currency",
    "currency": "currency",
    "impr.": "impressions",
    "impressions": "impressions",
    "clicks": "clicks",
    "cost": "spend",
    "conversions": "conversions",
    "conv. value": "conversions_value",
    # UI download, German
    "tag": "date_day",
    "datum": "date_day",
    "kampagne": "campaign_name",
    "kampagnen-id": "campaign_id",
    "anzeigengruppe": "ad_group_name",
    "anzeigengruppen-id": "ad_group_id",
    "konto": "account_name",
    "kundennummer": "account_id",
    "kunden-id": "account_id",
    "währungscode": "currency",
    "währung": "currency",
    "impressionen": "impressions",
    "klicks": "clicks",
    "kosten": "spend",
    "conv.-wert": "conversions_value",
    "konv.-wert": "conversions_value",
    "conversion-wert": "conversions_value",
    "conv.": "conversions",
    "konv.": "conversions",
    # API (GAQL) and BigQuery Data Transfer names
    "segments.date": "date_day",
    "segments_date": "date_day",
    "campaign.id": "campaign_id",
    "campaign.name": "campaign_name",
    "campaign_name": "campaign_name",
    "campaign_id": "campaign_id",
    "ad_group.id": "ad_group_id",
    "ad_group_id": "ad_group_id",
    "ad_group.name": "ad_group_name",
    "ad_group_name": "ad_group_name",
    "customer.id": "account_id",
    "customer_id": "account_id",
    "customer.descriptive_name": "account_name",
    "customer_descriptive_name": "account_name",
    "customer.currency_code": "currency",
    "customer_currency_code": "currency",
    "metrics.impressions": "impressions",
    "metrics_impressions": "impressions",
    "metrics.clicks": "clicks",
    "metrics_clicks": "clicks",
    "metrics.cost_micros": "spend_micros",
    "metrics_cost_micros": "spend_micros",
    "metrics.conversions": "conversions",
    "metrics_conversions": "conversions",
    "metrics.conversions_value": "conversions_value",
    "metrics_conversions_value": "conversions_value",
}
GERMAN = {"tag", "kampagne", "kosten", "klicks", "impressionen", "währungscode", "konto", "kampagnen-id"}
META_ALIASES = {
    "day": "date_day",
    "reporting starts": "date_start",
    "campaign name": "campaign_name",
    "campaign id": "campaign_id",
    "ad set name": "ad_group_name",
    "ad set id": "ad_group_id",
    "account name": "account_name",
    "account id": "account_id",
    "currency": "currency",
    "impressions": "impressions",
    "reach": "reach",
    "link clicks": "clicks",
    "clicks (all)": "clicks_all",
    "purchases": "conversions",
    "purchases conversion value": "conversions_value",
    "tag": "date_day",
    "berichtsbeginn": "date_start",
    "kampagnenname": "campaign_name",
    "kampagnen-id": "campaign_id",
    "name der anzeigengruppe": "ad_group_name",
    "kontoname": "account_name",
    "konto-id": "account_id",
    "währung": "currency",
    "impressionen": "impressions",
    "reichweite": "reach",
    "link-klicks": "clicks",
    "klicks (alle)": "clicks_all",
    "käufe": "conversions",
    "conversion-wert für käufe": "conversions_value",
    "wert der käufe": "conversions_value",
}
MICROSOFT_ALIASES = {
    "timeperiod": "date_day",
    "time period": "date_day",
    "gregoriandate": "date_day",
    "accountname": "account_name",
    "account name": "account_name",
    "accountid": "account_id",
    "accountnumber": "account_id",
    "campaignname": "campaign_name",
    "campaign name": "campaign_name",
    "campaignid": "campaign_id",
    "campaign id": "campaign_id",
    "adgroupname": "ad_group_name",
    "adgroupid": "ad_group_id",
    "impressions": "impressions",
    "impr.": "impressions",
    "clicks": "clicks",
    "spend": "spend",
    "conversions": "conversions",
    "conv.": "conversions",
    "revenue": "conversions_value",
    "currencycode": "currency",
    "currency code": "currency",
    "currency": "currency",
}
SPEND_HEADER = re.compile(r"^(amount spent|ausgegebener betrag|betrag ausgegeben|montant dépensé)\b")
META_PURCHASE_ACTIONS = (
    "omni_purchase",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
    "onsite_web_purchase",
)
FOOTER = re.compile(r"^(total|gesamt|summe|©|\(c\))", re.IGNORECASE)


def _map_header(header: list[str], aliases: dict[str, str]) -> dict[str, str]:
    """Original header -> canonical name for every header the alias map knows (plus Meta's spend header)."""
    mapped = {}
    for h in header:
        key = norm_header(h)
        if key in aliases and aliases[key] not in mapped.values():
            mapped[h] = aliases[key]
        elif SPEND_HEADER.match(key) and "spend" not in mapped.values():
            mapped[h] = "spend"
    return mapped


def _decimal(src_delim: str, header: list[str], values: pa.Array | None) -> str:
    """``","`` for ``;``-separated or German exports, or when money values end in a decimal comma."""
    if src_delim == ";" or {norm_header(h) for h in header} & GERMAN:
        return ","
    if values is not None and values.type == pa.string():
        comma = pc.sum(pc.cast(pc.match_substring_regex(values, r"\d,\d{1,2}\D*$"), pa.int64())).as_py() or 0
        point = pc.sum(pc.cast(pc.match_substring_regex(values, r"\d\.\d{1,2}\D*$"), pa.int64())).as_py() or 0
        if comma > 0 and point == 0:
            return ","
    return "."


def _drop_footer(table: pa.Table) -> pa.Table:
    keep = None
    for name in table.column_names[:2]:
        col = pc.fill_null(
            pc.match_substring_regex(as_strings(table[name]), FOOTER.pattern, ignore_case=True), False
        )
        keep = pc.invert(col) if keep is None else pc.and_(keep, pc.invert(col))
    return table.filter(keep) if keep is not None else table


def _ad_rows(
    path: Path,
    ctx: ImportContext,
    platform: str,
    aliases: dict[str, str],
    required: tuple[str, ...],
) -> Iterator[pa.Table]:
    """Stream an ad report: sniff its header, map names, drop footers and parse every column."""

    def is_header(cells: list[str]) -> bool:
        return sum(c in aliases or bool(SPEND_HEADER.match(c)) for c in cells) >= 3

    if path.suffix.lower() in (".parquet", ".pq"):
        chunks: Iterable[tuple[int, pa.Table]] = iter_source(path, ctx.problems)
        header, delim = None, ","
    else:
        src = sniff(path, is_header)
        header, delim = src.header, src.delimiter
        chunks = iter_rows(src)
    header_currency = None
    for i, (off, raw) in enumerate(chunks):
        if header is None:
            header = raw.column_names
        mapping = _map_header(raw.column_names, aliases)
        if i == 0:
            spend_header = next((h for h, c in mapping.items() if c == "spend"), "")
            header_currency = currency_from_header(spend_header)
            have = set(mapping.values()) | (
                {"currency"} if header_currency or ctx.options.get("currency") else set()
            )
            if "spend_micros" in have:
                have.add("spend")
            if "campaign_name" in have:
                have.add("campaign_id")
            if "clicks_all" in have:
                have.add("clicks")
            missing_columns(have, required, ctx.file, platform.replace("_", "-"))
        raw = _drop_footer(raw)
        table = raw.select(list(mapping)).rename_columns(list(mapping.values()))
        spend_raw = table["spend"].combine_chunks() if "spend" in table.column_names else None
        decimal = _decimal(delim, header, spend_raw)
        cols = _parse_ad_columns(table, off, ctx, decimal)
        n = table.num_rows
        if "currency" not in cols:
            cur = header_currency or ctx.options.get("currency")
            cols["currency"] = parse_currency(pa.array([cur] * n, pa.string()), ctx.problems, off, "currency")
        cols["platform"] = pa.array([platform] * n, pa.string())
        cols = ad_derived(cols, n, ctx)
        ctx.problems.check()
        if ctx.on_rows:
            ctx.on_rows(n)
        yield pa.table(cols)


def _parse_ad_columns(table: pa.Table, off: int, ctx: ImportContext, decimal: str) -> dict[str, pa.Array]:
    p, cols = ctx.problems, {}
    for name in table.column_names:
        values = table[name]
        if name == "date_start" and "date_day" in table.column_names:
            continue
        if name in ("date_day", "date_start"):
            cols["date_day"] = parse_date(values, p, off, name, today=ctx.today)
        elif name == "currency":
            cols[name] = parse_currency(values, p, off, name)
        elif name in ("spend", "conversions_value"):
            cols[name] = parse_number(values, p, off, name, decimal=decimal, non_negative=True)
        elif name == "spend_micros":
            micros = parse_number(values, p, off, name, decimal=decimal, non_negative=True)
            cols["spend"] = pc.divide(micros, 1e6)
        elif name in ("impressions", "clicks", "reach", "clicks_all"):
            cols[name] = parse_number(values, p, off, name, decimal=decimal, integer=True, non_negative=True)
        elif name == "conversions":
            cols[name] = parse_number(values, p, off, name, decimal=decimal, non_negative=True)
        else:
            cols[name] = as_strings(values)
    if "clicks_all" in cols:
        clicks_all = cols.pop("clicks_all")
        cols.setdefault("clicks", clicks_all)
    for name in ("date_day", "spend", "impressions", "clicks"):
        if name in cols:
            require_values(cols[name], p, off, name)
    if "campaign_id" not in cols and "campaign_name" in cols:
        cols["campaign_id"] = cols["campaign_name"]
    if "campaign_id" in cols:
        require_values(
            pc.coalesce(cols["campaign_id"], cols.get("campaign_name", cols["campaign_id"])),
            p,
            off,
            "campaign_id",
        )
    return cols


REQUIRED_AD = ("date_day", "campaign_id", "spend", "impressions", "clicks", "currency")


def _read_google(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    return {"ad_performance": _ad_rows(path, ctx, "google_ads", GOOGLE_ALIASES, REQUIRED_AD)}


def _read_microsoft(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    return {"ad_performance": _ad_rows(path, ctx, "microsoft_ads", MICROSOFT_ALIASES, REQUIRED_AD)}


def _read_meta(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    if path.suffix.lower() in (".json", ".ndjson", ".jsonl"):
        return {"ad_performance": _meta_json(path, ctx)}
    return {"ad_performance": _ad_rows(path, ctx, "meta_ads", META_ALIASES, REQUIRED_AD)}


def _meta_json(path: Path, ctx: ImportContext) -> Iterator[pa.Table]:
    """Marketing API insights: ``{"data": [...]}``, a list, or one object per line; numbers as strings."""
    records = _json_records(path)
    action_type = ctx.options.get("purchase_action")
    rows = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            raise DataValidationError(
                "is not an insights object",
                file=ctx.file,
                row=i,
                value=str(rec)[:40],
                expected='objects like {"date_start": ..., "spend": ...}',
            )
        actions = _actions(rec.get("actions"), action_type)
        values = _actions(rec.get("action_values"), action_type)
        rows.append(
            {
                "date_day": rec.get("date_start"),
                "campaign_id": rec.get("campaign_id"),
                "campaign_name": rec.get("campaign_name"),
                "ad_group_id": rec.get("adset_id"),
                "ad_group_name": rec.get("adset_name"),
                "account_id": rec.get("account_id"),
                "account_name": rec.get("account_name"),
                "currency": rec.get("account_currency") or ctx.options.get("currency"),
                "spend": _text(rec.get("spend")),
                "impressions": _text(rec.get("impressions")),
                "reach": _text(rec.get("reach")),
                "clicks": _text(rec.get("inline_link_clicks", rec.get("clicks"))),
                "conversions": actions,
                "conversions_value": values,
            }
        )
    if not rows:
        raise DataValidationError("holds no insights rows", file=ctx.file, expected='a "data" list of rows')
    table = pa.Table.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]]))
    cols = _parse_ad_columns(table, 0, ctx, ".")
    cols["currency"] = parse_currency(table["currency"], ctx.problems, 0, "currency")
    require_values(cols["currency"], ctx.problems, 0, "currency")
    cols["platform"] = pa.array(["meta_ads"] * table.num_rows, pa.string())
    cols = ad_derived(cols, table.num_rows, ctx)
    ctx.problems.check()
    yield pa.table(cols)


def _json_records(path: Path) -> list:
    from trueroi.ingest.read import read_text

    text = read_text(path).strip()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise DataValidationError(
                f"is not valid JSON ({exc.msg} at line {exc.lineno})",
                file=path.name,
                expected="Marketing API insights JSON",
            ) from exc
    if isinstance(doc, dict):
        doc = doc.get("data", [doc])
    return doc if isinstance(doc, list) else [doc]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _actions(items: object, preferred: str | None) -> str | None:
    """The value of ONE purchase action type, so pixel, on-site and omni purchases are not added up."""
    if not isinstance(items, list):
        return None
    by_type = {a.get("action_type"): a.get("value") for a in items if isinstance(a, dict)}
    for kind in (preferred,) if preferred else META_PURCHASE_ACTIONS:
        if kind in by_type:
            return _text(by_type[kind])
    return "0"


def _detector(aliases: dict[str, str], must: set[str]):  # noqa: ANN202
    def detect(path: Path) -> bool:
        try:
            src = sniff(
                path, lambda cells: sum(c in aliases or bool(SPEND_HEADER.match(c)) for c in cells) >= 3
            )
        except DataValidationError:
            return False
        return bool({norm_header(h) for h in src.header} & must)

    return detect


register(
    Format(
        "google-ads",
        ("ad_performance",),
        _read_google,
        "Google Ads report download (UI, UTF-16/tab or CSV, English/German) or API/BigQuery fields",
        _detector(
            GOOGLE_ALIASES,
            {
                "impr.",
                "conv. value",
                "kosten",
                "klicks",
                "metrics.cost_micros",
                "metrics_cost_micros",
                "currency code",
                "währungscode",
            },
        ),
    )
)
register(
    Format(
        "meta-ads",
        ("ad_performance",),
        _read_meta,
        "Meta Ads Manager export (CSV, also ;-separated with decimal commas) or insights JSON",
        _detector(
            META_ALIASES,
            {
                "ad set name",
                "link clicks",
                "reach",
                "reichweite",
                "kampagnenname",
                "purchases conversion value",
            },
        ),
    )
)
register(
    Format(
        "microsoft-ads",
        ("ad_performance",),
        _read_microsoft,
        "Microsoft Advertising campaign performance report",
        _detector(MICROSOFT_ALIASES, {"timeperiod", "campaignname", "currencycode", "gregoriandate"}),
    )
)
