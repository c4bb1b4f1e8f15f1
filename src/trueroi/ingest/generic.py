"""The generic formats: CSV or Parquet files with the canonical column names of DESIGN.md.

``ad-performance``, ``orders``, ``touchpoints``, ``costs``, ``fx-rates`` and ``conversions``. Only the
identifying and measured columns are required (``trueroi.workspace.schema.REQUIRED``); the others are
derived (channel, is_brand, source/medium from the landing page, date_day from ts) or left null. Extra
columns are ignored. Files are streamed in chunks, so their size is bounded only by the disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest import fx
from trueroi.ingest.base import Format, ImportContext, missing_columns, register
from trueroi.ingest.channels import brand_flags, channel_groups, known_channels, unknown_channel_notes
from trueroi.ingest.costs import cost_categories, one_day_periods
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.limits import open_parquet
from trueroi.ingest.numbers import hint_from_file, parse_numbers
from trueroi.ingest.parse import (
    ISO_4217,
    Problems,
    ahead_window,
    as_strings,
    event_window,
    local_day,
    parse_currency,
    parse_date,
    parse_timestamp,
    require_values,
    text,
)
from trueroi.ingest.read import iter_rows, norm_header, sniff
from trueroi.ingest.touch import enrich_touches, stable_ids
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
    """Chunks of a CSV (as strings) or Parquet (as typed columns) file with lower-cased column names.

    A Parquet file is checked before it is read (:func:`~trueroi.ingest.limits.open_parquet`); a text
    file sets the file's number hint from its delimiter and header
    (:func:`~trueroi.ingest.numbers.hint_from_file`).
    """
    if path.suffix.lower() in (".parquet", ".pq"):
        yield from _parquet_chunks(path)
        return
    src = sniff(path)
    hint_from_file(problems.numbers, src.delimiter, src.header)
    src.header = [_canon(h) for h in src.header]
    yield from iter_rows(src)


def _parquet_chunks(path: Path) -> Iterator[tuple[int, pa.Table]]:
    handle = open_parquet(path)
    offset = 0
    try:
        for batch in handle.iter_batches(batch_size=BATCH_ROWS):
            table = _flat(pa.Table.from_batches([batch]), path.name)
            yield offset, table.rename_columns([_canon(c) for c in table.column_names])
            offset += table.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise DataValidationError(
            f"cannot be read as Parquet after row {offset}: {str(exc).splitlines()[0][:200]}", file=path.name
        ) from exc


def _flat(table: pa.Table, file: str) -> pa.Table:
    """Text columns as UTF-8 strings; a nested or undecodable column is refused, naming it."""
    for i, field in enumerate(table.schema):
        typ = field.type
        if pa.types.is_nested(typ):
            raise DataValidationError(
                f"holds nested values ({typ})",
                file=file,
                column=field.name,
                expected="flat columns: text, numbers, dates or true/false",
            )
        if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_large_string(typ):
            try:
                table = table.set_column(i, field.name, table[field.name].cast(pa.string()))
            except pa.ArrowInvalid as exc:
                raise DataValidationError("is not UTF-8 text", file=file, column=field.name) from exc
        elif pa.types.is_dictionary(typ):
            table = table.set_column(i, field.name, table[field.name].cast(typ.value_type))
    return table


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


NUMBER_KINDS = ("money", "count", "number")


def _common(
    table: pa.Table, off: int, ctx: ImportContext, spec: dict[str, str], *, ahead: bool = False
) -> dict[str, pa.Array]:
    """Parse the columns present in ``table`` by the kind ``spec`` gives them.

    Dates must lie in the workspace's import window: :func:`~trueroi.ingest.parse.event_window`, or
    :func:`~trueroi.ingest.parse.ahead_window` with ``ahead`` (periods booked ahead).
    """
    p, out = ctx.problems, {}
    window = (ahead_window if ahead else event_window)(ctx.config, ctx.today)
    present = {col: kind for col, kind in spec.items() if col in table.column_names}
    numbers = [col for col, kind in present.items() if kind in NUMBER_KINDS]
    out |= parse_numbers(
        {col: table[col] for col in numbers}, p, off, integer=[c for c in numbers if present[c] == "count"]
    )
    for col, kind in present.items():
        values = table[col]
        if kind == "string":
            out[col] = text(values, p, off, col)
        elif kind == "lower":
            out[col] = pc.utf8_lower(text(values, p, off, col))
        elif kind == "date":
            out[col] = parse_date(values, p, off, col, window=window)
        elif kind == "ts":
            out[col] = parse_timestamp(values, p, off, col, tz=ctx.tz, window=window)
        elif kind == "currency":
            out[col] = parse_currency(values, p, off, col)
        elif kind == "bool":
            out[col] = parse_bool(
                values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values, p, off, col
            )
        if col in REQUIRED.get(ctx.options.get("_table", ""), ()):
            require_values(out[col], p, off, col)
    return {col: out[col] for col in present}


def with_currency(raw: pa.Table, ctx: ImportContext) -> pa.Table:
    """A file without a currency column takes the ``currency`` option (``--currency EUR``) for every row."""
    if "currency" in raw.column_names or not ctx.options.get("currency"):
        return raw
    return raw.append_column("currency", pa.array([ctx.options["currency"]] * raw.num_rows, pa.string()))


Prepare = Callable[[pa.Table, ImportContext], pa.Table]


def _reader(table: str, build, keys: tuple[str, ...] = (), prepare: Prepare | None = None) -> callable:  # noqa: ANN001
    """A streaming reader of one canonical table: per chunk ``prepare`` (column fixes), the required-column
    check, ``build`` (parsing) and the within-file uniqueness of ``keys``."""

    def read(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
        ctx.options["_table"] = table
        unique = UniqueKeys(keys) if keys else None

        def chunks() -> Iterator[pa.Table]:
            for i, (off, raw) in enumerate(iter_source(path, ctx.problems)):
                raw = with_currency(prepare(raw, ctx) if prepare else raw, ctx)
                if i == 0:
                    missing_columns(raw.column_names, REQUIRED[table], ctx.file, table.replace("_", "-"))
                cols = build(raw, off, ctx)
                if unique is not None:  # only the key columns the file itself holds (not derived ids)
                    given = {k: cols[k] for k in keys if k in raw.column_names and k in cols}
                    unique.check(given, ctx.problems, off, raw.num_rows)
                ctx.problems.check()
                if ctx.on_rows:
                    ctx.on_rows(raw.num_rows)
                yield pa.table(cols)

        return {table: chunks()}

    return read


def warn_unknown_channels(channels: pa.Array, ctx: ImportContext) -> None:
    """Warn (once per name and file) about channel names no table, rule or GA4 group knows."""
    names = [n for n in pc.unique(channels).to_pylist() if n]
    if not names:
        return
    vocabulary = known_channels(ctx.config.channel_rules, ctx.options.get("known_channels", ()))
    for note in unknown_channel_notes(names, vocabulary):
        ctx.problems.warn(note)


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
    if "channel" in cols:
        warn_unknown_channels(cols["channel"], ctx)
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
        "category": "string",
        "amount": "money",
        "currency": "currency",
        "channel": "string",
        "campaign_id": "string",
    }
    cols = _common(raw, off, ctx, spec, ahead=True)
    cols["category"] = cost_categories(cols["category"], ctx.problems, off)
    rev = pc.fill_null(pc.less(cols["period_end"], cols["period_start"]), False)
    ctx.problems.add_mask(rev, cols["period_end"], off, "period_end", "is before period_start")
    if "channel" in cols:
        warn_unknown_channels(cols["channel"], ctx)
    return cols


def _costs_columns(raw: pa.Table, ctx: ImportContext) -> pa.Table:
    return one_day_periods(raw)


def _read_fx(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    """Exchange rates, long or in the ECB's wide layout (see :mod:`trueroi.ingest.fx`)."""

    def rows() -> Iterator[pa.Table]:
        if path.suffix.lower() not in (".parquet", ".pq") and fx.is_wide_header(sniff(path).header, ISO_4217):
            table = fx.wide_rates(path, ctx, ISO_4217)
            yield from fx.finish(table, ctx, wide=True)
            return
        table = fx.to_frame(fx.read_long(iter_source(path, ctx.problems), ctx))
        yield from fx.finish(table, ctx, wide=False)

    return {"fx_rates": rows()}


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


for _name, _table, _build, _desc, _keys, _prepare in (
    (
        "ad-performance",
        "ad_performance",
        _ads,
        "daily ad rows with canonical columns (CSV/Parquet)",
        ("date_day", "platform", "account_id", "campaign_id", "ad_group_id"),
        None,
    ),
    ("orders", "orders", _orders, "orders with canonical columns (CSV/Parquet)", ("order_id",), None),
    (
        "touchpoints",
        "touchpoints",
        _touches,
        "sessions or clicks with a landing-page URL (CSV/Parquet)",
        ("touch_id",),
        None,
    ),
    ("costs", "costs", _costs, "non-media cost ledger (CSV/Parquet)", (), _costs_columns),
    (
        "conversions",
        "conversions",
        _conversions,
        "non-order conversions (CSV/Parquet)",
        ("conversion_id",),
        None,
    ),
):
    register(Format(_name, (_table,), _reader(_table, _build, _keys, _prepare), _desc))
register(
    Format(
        "fx-rates",
        ("fx_rates",),
        _read_fx,
        "exchange rates to the base currency (CSV/Parquet) or the ECB's eurofxref-hist.csv",
    )
)
