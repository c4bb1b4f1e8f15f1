"""The generic formats: CSV or Parquet files with the canonical column names of DESIGN.md.

``ad-performance``, ``orders``, ``touchpoints``, ``costs``, ``fx-rates`` and ``conversions``. Only the
identifying and measured columns are required (``trueroi.workspace.schema.REQUIRED``); the others are
derived (channel, is_brand, source/medium from the landing page, date_day from ts) or left null. Extra
columns are ignored. Files are streamed in chunks, so their size is bounded only by the disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trueroi.errors import DataValidationError
from trueroi.ingest.base import Format, ImportContext, missing_columns, register
from trueroi.ingest.channels import brand_flags, channel_groups
from trueroi.ingest.parse import (
    Problems,
    as_strings,
    local_day,
    parse_currency,
    parse_date,
    parse_number,
    parse_timestamp,
    require_values,
)
from trueroi.ingest.read import iter_rows, norm_header, sniff
from trueroi.ingest.touch import enrich_touches, stable_ids
from trueroi.workspace.config import COST_CATEGORIES
from trueroi.workspace.schema import REQUIRED

PLATFORM_SOURCE = {
    "google_ads": ("google", "cpc"),
    "microsoft_ads": ("bing", "cpc"),
    "meta_ads": ("facebook", "cpc"),
    "tiktok_ads": ("tiktok", "cpc"),
    "linkedin_ads": ("linkedin", "cpc"),
    "pinterest_ads": ("pinterest", "cpc"),
}
TRUE = ("true", "1", "yes", "y", "t", "ja", "wahr", "x")
FALSE = ("false", "0", "no", "n", "f", "nein", "falsch")
ALIASES = {
    "landing_page_url": "landing_page",
    "page_location": "landing_page",
    "url": "landing_page",
    "referer": "referrer",
    "page_referrer": "referrer",
}
BATCH_ROWS = 200_000


def iter_source(path: Path, problems: Problems) -> Iterator[tuple[int, pa.Table]]:
    """Chunks of a CSV (as strings) or Parquet (as typed columns) file with lower-cased column names."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            handle = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataValidationError(f"is not a readable Parquet file ({exc})", file=path.name) from exc
        offset = 0
        for batch in handle.iter_batches(batch_size=BATCH_ROWS):
            table = pa.Table.from_batches([batch])
            yield offset, table.rename_columns([_canon(c) for c in table.column_names])
            offset += table.num_rows
        return
    src = sniff(path)
    src.header = [_canon(h) for h in src.header]
    yield from iter_rows(src)


def _canon(name: str) -> str:
    key = norm_header(name).replace(" ", "_")
    return ALIASES.get(key, key)


def parse_bool(values: pa.Array, problems: Problems, offset: int, column: str) -> pa.Array:
    if pa.types.is_boolean(values.type):
        return values
    raw = pc.utf8_lower(as_strings(values))
    true, false = pc.is_in(raw, value_set=pa.array(TRUE)), pc.is_in(raw, value_set=pa.array(FALSE))
    problems.add_mask(
        pc.and_(pc.is_valid(raw), pc.invert(pc.or_(true, false))),
        raw,
        offset,
        column,
        "is not true/false; expected true, false, 1, 0, yes or no",
    )
    return pc.if_else(true, True, pc.if_else(false, False, pa.scalar(None, pa.bool_())))


def _strings(table: pa.Table, name: str) -> pa.Array | None:
    return as_strings(table[name]) if name in table.column_names else None


def _common(table: pa.Table, off: int, ctx: ImportContext, spec: dict[str, str]) -> dict[str, pa.Array]:
    """Parse the columns present in ``table`` by the kind ``spec`` gives them."""
    p, out = ctx.problems, {}
    for col, kind in spec.items():
        if col not in table.column_names:
            continue
        values = table[col]
        if kind == "string":
            out[col] = as_strings(values)
        elif kind == "lower":
            out[col] = pc.utf8_lower(as_strings(values))
        elif kind in ("money", "count", "number"):
            out[col] = parse_number(values, p, off, col, integer=kind == "count", non_negative=True)
        elif kind == "date":
            out[col] = parse_date(values, p, off, col, today=ctx.today)
        elif kind == "ts":
            out[col] = parse_timestamp(values, p, off, col, tz=ctx.tz, today=ctx.today)
        elif kind == "currency":
            out[col] = parse_currency(values, p, off, col)
        elif kind == "bool":
            out[col] = parse_bool(
                values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values, p, off, col
            )
        if col in REQUIRED.get(ctx.options.get("_table", ""), ()):
            require_values(out[col], p, off, col)
    return out


def _reader(table: str, build) -> callable:  # noqa: ANN001
    def read(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
        ctx.options["_table"] = table

        def chunks() -> Iterator[pa.Table]:
            for i, (off, raw) in enumerate(iter_source(path, ctx.problems)):
                if i == 0:
                    missing_columns(raw.column_names, REQUIRED[table], ctx.file, table.replace("_", "-"))
                cols = build(raw, off, ctx)
                ctx.problems.check()
                if ctx.on_rows:
                    ctx.on_rows(raw.num_rows)
                yield pa.table(cols)

        return {table: chunks()}

    return read


def _ads(raw: pa.Table, off: int, ctx: ImportContext) -> dict[str, pa.Array]:
    spec = {
        c: "string"
        for c in (
            "platform",
            "account_id",
            "account_name",
            "campaign_id",
            "campaign_name",
            "ad_group_id",
            "ad_group_name",
            "channel",
            "funnel_stage",
        )
    }
    spec |= {
        "date_day": "date",
        "currency": "currency",
        "spend": "money",
        "impressions": "count",
        "reach": "count",
        "clicks": "count",
        "conversions": "number",
        "conversions_value": "money",
        "is_brand": "bool",
    }
    cols = _common(raw, off, ctx, spec)
    return ad_derived(cols, raw.num_rows, ctx)


def ad_derived(cols: dict[str, pa.Array], n: int, ctx: ImportContext) -> dict[str, pa.Array]:
    """Channel (GA4 group of the platform's source/medium and the campaign name, then rules) and is_brand."""
    platform = pc.utf8_lower(cols["platform"])
    cols["platform"] = platform
    pairs = {k: v for k, v in PLATFORM_SOURCE.items()}
    names = pa.array(list(pairs))
    idx = pc.index_in(platform, value_set=names)
    source = pc.coalesce(pc.take(pa.array([v[0] for v in pairs.values()]), idx), platform)
    medium = pc.coalesce(pc.take(pa.array([v[1] for v in pairs.values()]), idx), pa.scalar("cpc"))
    campaign = cols.get("campaign_name", pa.nulls(n, pa.string()))
    derived = channel_groups(source, medium, campaign, rules=ctx.config.channel_rules)
    cols["channel"] = pc.coalesce(cols["channel"], derived) if "channel" in cols else derived
    if "is_brand" not in cols:
        cols["is_brand"] = brand_flags(campaign, brand_regex=ctx.config.brand_regex)
    if "campaign_id" in cols and "campaign_name" in cols:
        cols["campaign_id"] = pc.coalesce(cols["campaign_id"], cols["campaign_name"])
    return cols


def _orders(raw: pa.Table, off: int, ctx: ImportContext) -> dict[str, pa.Array]:
    spec = {
        "order_id": "string",
        "customer_id": "string",
        "user_id": "string",
        "ts": "ts",
        "currency": "currency",
        "revenue": "money",
        "cogs": "money",
        "status": "lower",
        "is_new_customer": "bool",
    }
    cols = _common(raw, off, ctx, spec)
    cols["date_day"] = local_day(cols["ts"], ctx.tz)
    cols["status"] = cols.get("status", pa.array(["paid"] * raw.num_rows, pa.string()))
    return with_default_cogs(cols, ctx)


def with_default_cogs(cols: dict[str, pa.Array], ctx: ImportContext) -> dict[str, pa.Array]:
    """Fill missing COGS as revenue x (1 - default_margin) when the workspace sets a default margin."""
    margin = ctx.config.default_margin
    if margin is None:
        return cols
    default = pc.multiply(cols["revenue"], 1.0 - margin)
    cols["cogs"] = pc.coalesce(cols["cogs"], default) if "cogs" in cols else default
    return cols


def _touches(raw: pa.Table, off: int, ctx: ImportContext) -> dict[str, pa.Array]:
    spec = {
        c: "string"
        for c in (
            "touch_id",
            "user_id",
            "session_id",
            "source",
            "medium",
            "campaign",
            "term",
            "content",
            "click_id",
            "channel",
            "landing_page",
            "referrer",
        )
    }
    spec |= {"ts": "ts", "engaged": "bool", "pageviews": "count", "is_brand": "bool"}
    cols = _common(raw, off, ctx, spec)
    if "pageviews" in cols:
        cols["pageviews"] = cols["pageviews"].cast(pa.int32())
    cols = enrich_touches(cols, raw.num_rows, ctx.config)
    cols["date_day"] = local_day(cols["ts"], ctx.tz)
    derived = stable_ids(
        "t",
        cols["user_id"],
        cols["ts"].cast(pa.string()),
        cols.get("session_id", pa.nulls(raw.num_rows, pa.string())),
        cols.get("landing_page", pa.nulls(raw.num_rows, pa.string())),
    )
    cols["touch_id"] = pc.coalesce(cols["touch_id"], derived) if "touch_id" in cols else derived
    return cols


def _costs(raw: pa.Table, off: int, ctx: ImportContext) -> dict[str, pa.Array]:
    spec = {
        "period_start": "date",
        "period_end": "date",
        "category": "lower",
        "amount": "money",
        "currency": "currency",
        "channel": "string",
        "campaign_id": "string",
    }
    cols = _common(raw, off, ctx, spec)
    cat = cols["category"]
    bad = pc.and_(pc.is_valid(cat), pc.invert(pc.is_in(cat, value_set=pa.array(COST_CATEGORIES))))
    ctx.problems.add_mask(
        bad, cat, off, "category", "is not a cost category; expected one of " + ", ".join(COST_CATEGORIES)
    )
    rev = pc.fill_null(pc.less(cols["period_end"], cols["period_start"]), False)
    ctx.problems.add_mask(rev, cols["period_end"], off, "period_end", "is before period_start")
    return cols


def _fx(raw: pa.Table, off: int, ctx: ImportContext) -> dict[str, pa.Array]:
    cols = _common(raw, off, ctx, {"date_day": "date", "currency": "currency", "rate_to_base": "number"})
    zero = pc.fill_null(pc.less_equal(cols["rate_to_base"], 0), False)
    ctx.problems.add_mask(zero, cols["rate_to_base"], off, "rate_to_base", "is not a positive rate")
    return cols


def _conversions(raw: pa.Table, off: int, ctx: ImportContext) -> dict[str, pa.Array]:
    spec = {
        "conversion_id": "string",
        "user_id": "string",
        "click_id": "string",
        "ts": "ts",
        "type": "lower",
        "value": "money",
        "currency": "currency",
        "order_id": "string",
        "is_offline": "bool",
    }
    cols = _common(raw, off, ctx, spec)
    cols["date_day"] = local_day(cols["ts"], ctx.tz)
    return cols


for _name, _table, _build, _desc in (
    ("ad-performance", "ad_performance", _ads, "daily ad rows with canonical columns (CSV/Parquet)"),
    ("orders", "orders", _orders, "orders with canonical columns (CSV/Parquet)"),
    ("touchpoints", "touchpoints", _touches, "sessions or clicks with a landing-page URL (CSV/Parquet)"),
    ("costs", "costs", _costs, "non-media cost ledger (CSV/Parquet)"),
    ("fx-rates", "fx_rates", _fx, "exchange rates to the base currency (CSV/Parquet)"),
    ("conversions", "conversions", _conversions, "non-order conversions (CSV/Parquet)"),
):
    register(Format(_name, (_table,), _reader(_table, _build), _desc))
