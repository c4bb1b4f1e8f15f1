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
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.limits import read_json_bytes
from trueroi.ingest.numbers import POINT, hint_from_file, parse_numbers
from trueroi.ingest.parse import (
    as_strings,
    currency_from_header,
    event_window,
    parse_currency,
    parse_date,
    require_values,
    text,
)
from trueroi.ingest.read import detect_encoding, iter_rows, norm_header, sniff

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
    "results": "results",
    "ergebnisse": "results",
    "result indicator": "result_indicator",
    "ergebnisindikator": "result_indicator",
    "result type": "result_indicator",
    "ergebnistyp": "result_indicator",
}
MICROSOFT_ALIASES = {
    "timeperiod": "date_day",
    "time period": "date_day",
    "gregoriandate": "date_day",
    "gregorian date": "date_day",  # the UI export's names
    "day": "date_day",
    "date": "date_day",
    "date_day": "date_day",
    "campaign": "campaign_name",
    "ad group": "ad_group_name",
    "ad group id": "ad_group_id",
    "account number": "account_id",
    "account id": "account_id",
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
MICROSOFT_PREAMBLE = re.compile(r"^\W*(report name|report time|time zone|rows)\s*:", re.IGNORECASE)
NUMERIC = ("spend", "spend_micros", "conversions_value", "conversions", "results")
COUNTS = ("impressions", "clicks", "reach", "clicks_all")
META_METRICS = frozenset(
    {
        "spend",
        "impressions",
        "reach",
        "clicks",
        "inline_link_clicks",
        "frequency",
        "cpc",
        "cpm",
        "cpp",
        "ctr",
        "actions",
        "action_values",
        "cost_per_action_type",
        "purchase_roas",
        "outbound_clicks",
        "unique_clicks",
    }
)


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


def _number_hints(problems_style, delimiter: str | None, header: list[str]) -> None:  # noqa: ANN001
    """Decimal commas for German headers or a ``;`` delimiter; decimal points for API field names."""
    hint_from_file(problems_style, delimiter, header)
    if any(norm_header(h).startswith(("metrics.", "metrics_", "segments.")) for h in header):
        problems_style.set_hint(POINT, "the file's API field names")


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
    """Stream an ad report: sniff its header, map names, drop footers and parse every column.

    Rows must be unique in all their non-metric columns (an exact or conflicting repeat of a row is
    refused); the dimensions trueroi does not map, such as an ad or keyword column, keep rows apart.
    """

    def is_header(cells: list[str]) -> bool:
        return sum(c in aliases or bool(SPEND_HEADER.match(c)) for c in cells) >= 3

    if path.suffix.lower() in (".parquet", ".pq"):
        chunks: Iterable[tuple[int, pa.Table]] = iter_source(path, ctx.problems)
    else:
        src = sniff(path, is_header)
        _number_hints(ctx.problems.numbers, src.delimiter, src.header)
        chunks = iter_rows(src)
    header_currency, keys = None, None
    for i, (off, raw) in enumerate(chunks):
        mapping = _map_header(raw.column_names, aliases)
        if i == 0:
            header_currency = _check_columns(mapping, ctx, platform, required)
            metrics = {h for h, c in mapping.items() if c in NUMERIC + COUNTS}
            keys = UniqueKeys([h for h in raw.column_names if h not in metrics], column="campaign_id")
        raw = _drop_footer(raw)
        table = raw.select(list(mapping)).rename_columns(list(mapping.values()))
        cols = _parse_ad_columns(table, off, ctx)
        n = table.num_rows
        if "currency" not in cols:
            cur = header_currency or ctx.options.get("currency")
            cols["currency"] = parse_currency(pa.array([cur] * n, pa.string()), ctx.problems, off, "currency")
        cols["platform"] = pa.array([platform] * n, pa.string())
        cols = ad_derived(_results(cols, ctx), n, ctx)
        keys.check({c: raw[c] for c in keys.columns}, ctx.problems, off, n)
        ctx.problems.check()
        if ctx.on_rows:
            ctx.on_rows(n)
        yield pa.table(cols)


def _check_columns(
    mapping: dict[str, str], ctx: ImportContext, platform: str, required: tuple[str, ...]
) -> str | None:
    """Raise for missing required columns; return the currency named in the spend header, if any."""
    spend_header = next((h for h, c in mapping.items() if c == "spend"), "")
    header_currency = currency_from_header(spend_header)
    have = set(mapping.values()) | ({"currency"} if header_currency or ctx.options.get("currency") else set())
    for present, implied in (
        ("spend_micros", "spend"),
        ("campaign_name", "campaign_id"),
        ("clicks_all", "clicks"),
    ):
        if present in have:
            have.add(implied)
    missing_columns(have, required, ctx.file, platform.replace("_", "-"))
    if "results" in have and "conversions" not in have and "result_indicator" not in have:
        ctx.problems.warn(
            "the Results column was not used: no Result indicator column says what its numbers count; "
            "export the Purchases column (or Result indicator) for platform conversions"
        )
    return header_currency


def _purchase(kinds: pa.Array, preferred: str | None) -> pa.Array:
    """Whether each result indicator (``actions:offsite_conversion.fb_pixel_purchase``) counts purchases."""
    action = pc.replace_substring_regex(pc.utf8_lower(kinds), r"^actions?:", "")
    if preferred:
        return pc.fill_null(pc.equal(action, preferred.lower()), False)
    return pc.fill_null(pc.match_substring(action, "purchase"), False)


def _results(cols: dict[str, pa.Array], ctx: ImportContext) -> dict[str, pa.Array]:
    """Meta's ``Results`` are platform conversions where ``Result indicator`` names a purchase action."""
    results, kinds = cols.pop("results", None), cols.pop("result_indicator", None)
    if results is None or kinds is None or "conversions" in cols:
        return cols
    purchase = _purchase(kinds, ctx.options.get("purchase_action"))
    cols["conversions"] = pc.if_else(purchase, results, pa.scalar(None, pa.float64()))
    unused = pc.and_(pc.invert(purchase), pc.fill_null(pc.greater(results, 0), False))
    if pc.any(unused).as_py():
        counted = sorted(k for k in pc.unique(kinds.filter(unused)).to_pylist() if k)
        ctx.problems.warn(
            f"{pc.sum(unused).as_py()} row(s) have Results that count "
            f"{', '.join(counted) or 'nothing named'}, "
            "not purchases: their platform conversions are left empty"
        )
    return cols


def _parse_ad_columns(
    table: pa.Table, off: int, ctx: ImportContext, *, decimal: str | None = None
) -> dict[str, pa.Array]:
    p = ctx.problems
    names = table.column_names
    numbers = [n for n in names if n in NUMERIC + COUNTS]
    cols = parse_numbers({n: table[n] for n in numbers}, p, off, integer=COUNTS, decimal=decimal)
    if "spend_micros" in cols:
        cols["spend"] = pc.divide(cols.pop("spend_micros"), 1e6)
    window = event_window(ctx.config, ctx.today)
    for name in names:
        values = table[name]
        if name in numbers or (name == "date_start" and "date_day" in names):
            continue
        if name in ("date_day", "date_start"):
            cols["date_day"] = parse_date(values, p, off, name, window=window)
        elif name == "currency":
            cols[name] = parse_currency(values, p, off, name)
        else:
            cols[name] = text(values, p, off, name)
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
    """Marketing API insights: ``{"data": [...]}``, a list, or one object per line; numbers as strings.

    A record must be unique in its non-metric fields (date, ids, breakdowns).
    """
    records = _json_records(path)
    action_type = ctx.options.get("purchase_action")
    rows, keys = [], []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            raise DataValidationError(
                "is not an insights object",
                file=ctx.file,
                row=i,
                value=str(rec)[:40],
                expected='objects like {"date_start": ..., "spend": ...}',
            )
        rows.append(_meta_row(rec, action_type, ctx.options.get("currency")))
        dims = {k: v for k, v in rec.items() if k not in META_METRICS}
        keys.append(json.dumps(dims, sort_keys=True, default=str))
    if not rows:
        raise DataValidationError("holds no insights rows", file=ctx.file, expected='a "data" list of rows')
    table = pa.Table.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]]))
    cols = _parse_ad_columns(table, 0, ctx, decimal=POINT)
    cols["currency"] = parse_currency(table["currency"], ctx.problems, 0, "currency")
    require_values(cols["currency"], ctx.problems, 0, "currency")
    cols["platform"] = pa.array(["meta_ads"] * table.num_rows, pa.string())
    cols = ad_derived(cols, table.num_rows, ctx)
    UniqueKeys(["record"], column="campaign_id").check({"record": pa.array(keys)}, ctx.problems, 0, len(keys))
    ctx.problems.check()
    yield pa.table(cols)


def _meta_row(rec: dict, action_type: str | None, currency: str | None) -> dict[str, str | None]:
    return {
        "date_day": _text(rec.get("date_start")),
        "campaign_id": _text(rec.get("campaign_id")),
        "campaign_name": _text(rec.get("campaign_name")),
        "ad_group_id": _text(rec.get("adset_id")),
        "ad_group_name": _text(rec.get("adset_name")),
        "account_id": _text(rec.get("account_id")),
        "account_name": _text(rec.get("account_name")),
        "currency": _text(rec.get("account_currency") or currency),
        "spend": _text(rec.get("spend")),
        "impressions": _text(rec.get("impressions")),
        "reach": _text(rec.get("reach")),
        "clicks": _text(rec.get("inline_link_clicks", rec.get("clicks"))),
        "conversions": _actions(rec.get("actions"), action_type),
        "conversions_value": _actions(rec.get("action_values"), action_type),
    }


def _json_records(path: Path) -> list:
    """The records of a JSON document or of JSON lines; ``NaN`` and ``Infinity`` stay text (and are refused
    as numbers), the size and nesting are checked first (:func:`~trueroi.ingest.limits.read_json_bytes`)."""
    data = read_json_bytes(path)
    encoding = detect_encoding(data[:65536], path)
    try:
        text_ = data.decode(encoding).strip()
    except UnicodeDecodeError as exc:
        raise DataValidationError(f"is not valid {encoding} text (byte {exc.start})", file=path.name) from exc
    try:
        doc = json.loads(text_, parse_constant=str)
    except json.JSONDecodeError:
        try:
            return [json.loads(line, parse_constant=str) for line in text_.splitlines() if line.strip()]
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
    if value is None:
        return None
    return (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, dict | list)
        else str(value)
    )


def _actions(items: object, preferred: str | None) -> str | None:
    """The value of ONE purchase action type, so pixel, on-site and omni purchases are not added up."""
    if not isinstance(items, list):
        return None
    by_type = {a.get("action_type"): a.get("value") for a in items if isinstance(a, dict)}
    for kind in (preferred,) if preferred else META_PURCHASE_ACTIONS:
        if kind in by_type:
            return _text(by_type[kind])
    return "0"


def _sniffed(path: Path, aliases: dict[str, str]):  # noqa: ANN202 - TextSource or None
    try:
        return sniff(path, lambda cells: sum(c in aliases or bool(SPEND_HEADER.match(c)) for c in cells) >= 3)
    except DataValidationError:
        return None


def _microsoft_preamble(preamble: list[str]) -> bool:
    """Microsoft Advertising's report header: ``Report Name:``, ``Report Time:``, ``Time Zone:`` lines."""
    return sum(bool(MICROSOFT_PREAMBLE.match(line)) for line in preamble) >= 2


def _detector(aliases: dict[str, str], must: set[str], *, microsoft: bool = False):  # noqa: ANN202
    """A detector: the file's header maps at least three names and holds one of ``must``; a Microsoft
    Advertising export is told apart by its report header lines (``microsoft``: they suffice)."""

    def detect(path: Path) -> bool:
        src = _sniffed(path, aliases)
        if src is None:
            return False
        ms_header = _microsoft_preamble(src.preamble)
        if ms_header != microsoft and ms_header:
            return False
        return (microsoft and ms_header) or bool({norm_header(h) for h in src.header} & must)

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
        "Microsoft Advertising performance report (UI export with its report header, or API columns)",
        _detector(
            MICROSOFT_ALIASES,
            {"timeperiod", "campaignname", "currencycode", "gregoriandate", "gregorian date"},
            microsoft=True,
        ),
    )
)
