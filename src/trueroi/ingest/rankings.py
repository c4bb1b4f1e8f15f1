"""Keyword rankings and visibility -> ``rankings`` (format ``rankings``): Sistrix, SEMrush, a generic CSV.

* Sistrix: a keyword rankings export (``Keyword, Position, URL, Search volume, Date``; German ``Keyword,
  Position, URL, Suchvolumen, Datum`` with ``;`` and decimal commas) and the Visibility Index history
  (``Date, Visibility Index`` / ``Datum, Sichtbarkeitsindex``, optionally ``Domain``/``Host``).
* SEMrush Position Tracking: the rankings overview export with one position column per day, named
  ``<domain>_<YYYYMMDD>`` (``*.acme-shop.de/*_20250301``; ``-`` = not in the top 100), the landing page in
  ``<domain>_<YYYYMMDD>_landing`` and ``Search Volume``; or the same data long (``Keyword, Date, Position,
  URL, Search Volume``); a ``Visibility`` column per day is the domain's visibility in percent.
* Generic: ``date, tool, domain, keyword, url, device, location, position, search_volume, visibility``.

A keyword's position is null where it does not rank (``-``, ``>100``, empty). A row without a keyword is a
domain-level visibility value. Rows are identified by day, tool, domain, keyword, device and location; a
later export replaces the rows it repeats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest.base import Format, ImportContext, register
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.owned import (
    Layout,
    constant,
    header_key,
    number_hint,
    parse_day,
    parse_fields,
    register_table,
    require,
    sniff_layout,
)
from trueroi.ingest.parse import as_strings
from trueroi.ingest.read import iter_rows
from trueroi.workspace.load import PeriodReplace, RowKey

TABLE = "rankings"
KEY = ("date_day", "tool", "domain", "keyword", "device", "location")
WIDE = re.compile(r"^(?P<domain>.+?)_(?P<day>\d{8})(?P<landing>_landing)?$")


def _aliases(pairs: dict[str, Iterable[str]]) -> dict[str, str]:
    return {header_key(name): field for field, names in pairs.items() for name in names}


ALIASES = _aliases(
    {
        "date": ("Date", "Datum", "date_day", "Day", "Tag", "Timestamp"),
        "keyword": ("Keyword", "Suchbegriff", "Query"),
        "position": ("Position", "Rank", "Ranking", "Platzierung"),
        "url": ("URL", "Landing page", "Landing Page URL", "Ranking URL"),
        "search_volume": ("Search volume", "Suchvolumen", "Volume"),
        "visibility": ("Visibility Index", "Sichtbarkeitsindex", "Visibility", "Sichtbarkeit"),
        "domain": ("Domain", "Host", "Website"),
        "device": ("Device", "Gerät"),
        "location": ("Location", "Country", "Land", "Standort"),
        "tool": ("tool",),
    }
)
GERMAN = frozenset(header_key(h) for h in ("Datum", "Suchvolumen", "Sichtbarkeitsindex", "Suchbegriff"))
KINDS = {
    "date": "day",
    "keyword": "text",
    "url": "url",
    "domain": "lower",
    "device": "lower",
    "location": "lower",
    "tool": "lower",
    "position": "number",
    "search_volume": "count",
    "visibility": "number",
}
LAYOUT = Layout("rankings", TABLE, ALIASES, KINDS, (), GERMAN, KEY, min_header=2)


def _tool(header: list[str], wide: bool) -> str:
    keys = {header_key(h) for h in header}
    if keys & {"sichtbarkeitsindex", "visibilityindex", "suchvolumen"}:
        return "sistrix"
    if wide or "visibility" in keys:
        return "semrush"
    return "rankings"


def _not_ranking(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Positions with "not ranking" (``>100``, ``n/a``) as empty."""
    strings = as_strings(values)
    outside = pc.fill_null(pc.match_substring_regex(strings, r"^\s*>"), False)
    return pc.if_else(outside, pa.scalar(None, pa.string()), strings)


def _long_rows(
    table: pa.Table, off: int, ctx: ImportContext, shown: dict[str, str], tool: str
) -> dict[str, pa.Array]:
    n = table.num_rows
    if "position" in table.column_names:
        table = table.set_column(
            table.column_names.index("position"), "position", _not_ranking(table["position"])
        )
    cols = parse_fields(table, off, ctx, KINDS, shown)
    require(cols, ctx, off, shown, "date")
    if "keyword" not in cols and "visibility" not in cols:
        raise DataValidationError(
            "holds neither keywords nor visibility",
            file=ctx.file,
            expected="Keyword and Position columns, or a Visibility Index column",
        )
    low = pc.fill_null(pc.less(cols.get("position", pa.nulls(n, pa.float64())), 1.0), False)
    if "position" in cols:
        ctx.problems.add_mask(
            low, cols["position"], off, shown["position"], "is below 1; positions start at 1"
        )
    return _finish(cols, n, ctx, tool)


def _finish(cols: dict[str, pa.Array], n: int, ctx: ImportContext, tool: str) -> dict[str, pa.Array]:
    nulls = pa.nulls(n, pa.string())
    domain = cols.get("domain", constant(ctx.options.get("domain"), n))
    return {
        "date_day": cols["date"],
        "tool": pc.fill_null(cols["tool"], tool) if "tool" in cols else constant(tool, n),
        "domain": domain,
        "keyword": cols.get("keyword", nulls),
        "url": cols.get("url", nulls),
        "device": cols.get("device", nulls),
        "location": cols.get("location", nulls),
        "position": cols.get("position", pa.nulls(n, pa.float64())),
        "search_volume": cols.get("search_volume", pa.nulls(n, pa.int64())),
        "visibility": cols.get("visibility", pa.nulls(n, pa.float64())),
    }


def _wide_columns(header: list[str]) -> dict[str, tuple[str, str, bool]]:
    """SEMrush's per-day columns: header cell -> (domain, YYYYMMDD, is the landing-page column)."""
    found = {}
    for h in header:
        match = WIDE.match(h.strip())
        if match:
            domain = match["domain"].strip("*./ ").removeprefix("*.") or None
            found[h] = (domain, match["day"], bool(match["landing"]))
    return found


def _wide_rows(
    raw: pa.Table,
    off: int,
    ctx: ImportContext,
    wide: dict[str, tuple[str, str, bool]],
    mapping: dict[str, str],
) -> Iterator[pa.Table]:
    """One table per day column of a SEMrush rankings overview chunk (rows = keywords)."""
    n = raw.num_rows
    keyword = parse_fields(
        raw.select([mapping["keyword"]]).rename_columns(["keyword"]), off, ctx, KINDS, mapping
    )
    require(keyword, ctx, off, mapping, "keyword")
    volume = None
    if "search_volume" in mapping:
        sub = raw.select([mapping["search_volume"]]).rename_columns(["search_volume"])
        volume = parse_fields(sub, off, ctx, KINDS, mapping)["search_volume"]
    landing = {(d, day): h for h, (d, day, is_landing) in wide.items() if is_landing}
    for header, (domain, day, is_landing) in wide.items():
        if is_landing:
            continue
        values = raw.select([header]).rename_columns(["position"])
        values = values.set_column(0, "position", _not_ranking(values["position"]))
        cols = parse_fields(values, off, ctx, KINDS, {"position": header})
        days = parse_day(constant(day, n), ctx, off, header)
        url_header = landing.get((domain, day))
        cols |= {"date": days, "keyword": keyword["keyword"], "domain": constant(domain, n)}
        if url_header is not None:
            cols["url"] = parse_fields(
                raw.select([url_header]).rename_columns(["url"]), off, ctx, KINDS, {"url": url_header}
            )["url"]
        if volume is not None:
            cols["search_volume"] = volume
        yield pa.table(_finish(cols, n, ctx, "semrush"))


def _rows(path: Path, ctx: ImportContext) -> Iterator[pa.Table]:
    src = sniff_layout(path, LAYOUT)
    number_hint(ctx, src, LAYOUT)
    mapping = LAYOUT.mapping(src.header)
    wide = _wide_columns(src.header)
    if not wide and "date" not in mapping:
        raise DataValidationError(
            "missing required column Date for rankings",
            file=ctx.file,
            expected=f"a Date column, or SEMrush's per-day position columns (found: {', '.join(src.header)})",
        )
    if wide and "keyword" not in mapping:
        raise DataValidationError("missing required column Keyword for rankings", file=ctx.file)
    tool = str(ctx.options.get("tool") or _tool(src.header, bool(wide)))
    unique = UniqueKeys(KEY, column="keyword")
    for off, raw in iter_rows(src):
        parts = (
            list(_wide_rows(raw, off, ctx, wide, mapping))
            if wide
            else [pa.table(_long_rows(_mapped(raw, mapping), off, ctx, mapping, tool))]
        )
        for part in parts:
            unique.check({k: part[k] for k in KEY}, ctx.problems, off, part.num_rows)
        ctx.problems.check()
        yield from parts


def _mapped(raw: pa.Table, mapping: dict[str, str]) -> pa.Table:
    return raw.select(list(mapping.values())).rename_columns(list(mapping))


def _read(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    return {TABLE: _rows(path, ctx)}


def _detect(path: Path) -> bool:
    """Keyword and Position (or SEMrush's per-day columns) with no Clicks/Impressions, or a visibility
    index with a date."""
    if path.suffix.lower() in (".parquet", ".pq", ".zip"):
        return False
    try:
        src = sniff_layout(path, LAYOUT)
    except DataValidationError:
        return False
    keys = {header_key(h) for h in src.header}
    if keys & {"clicks", "klicks", "impressions", "impressionen"}:
        return False
    ranked = bool(keys & {"keyword", "suchbegriff"}) and (
        "position" in keys or bool(_wide_columns(src.header))
    )
    visibility = bool(keys & {"visibilityindex", "sichtbarkeitsindex"}) and bool(keys & {"date", "datum"})
    return ranked or visibility


register_table(TABLE, RowKey(KEY), PeriodReplace("date_day", scope=("tool",)))
register(
    Format(
        "rankings",
        (TABLE,),
        _read,
        "keyword rankings and visibility: Sistrix (rankings, Visibility Index), SEMrush Position Tracking, "
        "or a generic CSV",
        _detect,
    )
)
