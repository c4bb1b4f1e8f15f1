"""Google Search Console performance -> ``search_console`` (format ``search-console``).

Three kinds of file, told apart by their columns:

* The UI download (Performance > Export > Download CSV: a ZIP of ``Queries.csv``, ``Pages.csv``,
  ``Countries.csv``, ``Devices.csv``, ``Search appearance.csv``, ``Dates.csv`` (``Chart.csv`` in older
  downloads) and ``Filters.csv``), in English (``Top queries, Clicks, Impressions, CTR, Position``) or
  German (``Häufigste Suchanfragen, Klicks, Impressionen, CTR, Position`` with decimal commas). The ZIP, a
  folder of its files, or one file each load. The Dates file holds one row per day; the others hold totals
  over the download's period, which they do not name: it is taken from the Dates file of the same download
  (in the ZIP, or beside the file), and ``Filters.csv`` gives the search type.
* The bulk data export tables ``searchdata_site_impression`` (``data_date, site_url, query,
  is_anonymized_query, country, search_type, device, impressions, clicks, sum_top_position``) and
  ``searchdata_url_impression`` (``url`` and ``sum_position`` instead of ``sum_top_position``, plus the
  ``is_*`` search-appearance flags) as Parquet (or CSV), streamed in bounded memory. Positions there are
  0-based sums (Google: average position = sum_top_position / impressions + 1).
* Rows of the Search Analytics API or a connector (``date, query, page, country, device, clicks,
  impressions, position``, any subset of the dimensions).

Every row records its ``aggregation`` ("page" when it is broken down by page, as Search Console aggregates
such rows by URL, else "property") and its ``dimensions``, so that a KPI never adds up rows that count the
same impressions twice (a Queries file and a Countries file of one download, or the site and URL tables).
Positions are stored as ``sum_position`` (average position x impressions), so averages over queries and
days are weighted by impressions. CTR is never read: it is clicks / impressions.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest.base import Format, ImportContext, register
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.limits import open_parquet
from trueroi.ingest.owned import (
    Layout,
    canonical_columns,
    constant,
    header_key,
    number_hint,
    parse_fields,
    register_table,
    require,
    sniff_layout,
)
from trueroi.ingest.parse import URL_CHARS, Problems, as_strings, check_length, parse_date
from trueroi.ingest.read import iter_rows, sniff
from trueroi.ingest.seo_files import DuplicateRows, parquet_duplicates, unzip_members
from trueroi.workspace.load import PeriodReplace, RowKey

TABLE = "search_console"
CHANNEL = "Organic Search"
DIMENSIONS = ("query", "page", "country", "device", "appearance")
KEY = ("date_day", "period_end", "site", "search_type", "aggregation", "dimensions", *DIMENSIONS)
DEVICES = {"computer": "desktop", "mobilgerät": "mobile", "mobile": "mobile", "desktop": "desktop"}
DEVICES |= {"tablet": "tablet", "smartphone": "mobile", "handy": "mobile"}
BATCH_ROWS = 200_000


def _aliases(pairs: dict[str, Iterable[str]]) -> dict[str, str]:
    return {header_key(name): field for field, names in pairs.items() for name in names}


ALIASES = _aliases(
    {
        "date": ("Date", "Datum", "data_date", "day", "date_day"),
        "query": ("Top queries", "Query", "Queries", "Häufigste Suchanfragen", "Suchanfrage", "Suchanfragen"),
        "page": ("Top pages", "Page", "Pages", "url", "Häufigste Seiten", "Seite", "Seiten", "Landing page"),
        "country": ("Country", "Countries", "Land", "Länder"),
        "device": ("Device", "Devices", "Gerät", "Geräte"),
        "appearance": ("Search appearance", "Darstellung in der Suche", "Suchdarstellung"),
        "clicks": ("Clicks", "Klicks"),
        "impressions": ("Impressions", "Impressionen"),
        "position": ("Position", "Average position", "Durchschnittliche Position", "avg_position"),
        "sum_top_position": ("sum_top_position",),
        "sum_position": ("sum_position",),
        "site": ("site_url", "site", "property", "Property"),
        "search_type": ("search_type", "Search type", "Suchtyp", "type"),
        "is_anonymized": ("is_anonymized_query",),
        "channel": ("channel",),
    }
)
GERMAN = frozenset(
    header_key(h) for h in ("Klicks", "Impressionen", "Häufigste Suchanfragen", "Datum", "Land")
)
KINDS = {
    "date": "day",
    "clicks": "count",
    "impressions": "count",
    "position": "number",
    "sum_top_position": "number",
    "sum_position": "number",
    "site": "text",
    "search_type": "lower",
    "country": "lower",
    "device": "lower",
    "appearance": "text",
    "is_anonymized": "bool",
    "channel": "text",
}
LAYOUT = Layout("search-console", TABLE, ALIASES, KINDS, (("clicks",), ("impressions",)), GERMAN, KEY)
FILTER_NAMES = {"filter", "filtern"}
SEARCH_TYPE_WORDS = {"searchtype", "suchtyp", "typ", "type"}


def _appearance_flags(columns: Iterable[str]) -> list[str]:
    """The bulk URL table's search-appearance flags (``is_amp_top_stories`` ...), by column name."""
    return [c for c in columns if c.startswith("is_") and not c.startswith("is_anonymized")]


def _query_text(values: pa.Array | pa.ChunkedArray, ctx: ImportContext, off: int, column: str) -> pa.Array:
    """Queries and URLs as written (only an empty cell is none: a query may be "nan" or "-")."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    strings = pc.utf8_trim_whitespace(values.cast(pa.string()))
    strings = pc.if_else(pc.equal(pc.utf8_length(strings), 0), pa.scalar(None, pa.string()), strings)
    check_length(strings, ctx.problems, off, column, limit=URL_CHARS)
    return strings


def _rows(
    table: pa.Table,
    off: int,
    ctx: ImportContext,
    shown: dict[str, str],
    period: tuple[pa.Scalar, pa.Scalar] | None,
    search_type: str | None,
    flags: list[str],
) -> dict[str, pa.Array]:
    """One chunk as ``search_console`` rows (problems recorded in ``ctx.problems``)."""
    n = table.num_rows
    cols = parse_fields(table, off, ctx, KINDS, shown)
    require(cols, ctx, off, shown, "date", "clicks", "impressions")
    dims = [d for d in DIMENSIONS if d in table.column_names or (d == "appearance" and flags)]
    for d in ("query", "page"):
        if d in table.column_names:
            cols[d] = _query_text(table[d], ctx, off, shown[d])
    if flags:
        cols["appearance"] = _flags_text(table, flags)
    if "device" in cols:
        cols["device"] = _devices(cols["device"])
    _check_counts(cols, ctx, off, shown)
    if "date" in cols:
        start = end = cols["date"]
    else:
        start, end = constant(period[0], n, pa.date32()), constant(period[1], n, pa.date32())
    anonymized = cols.get("is_anonymized")
    if anonymized is None and "query" in dims:
        anonymized = pc.is_null(cols["query"])
    out = {
        "date_day": start,
        "period_end": end,
        "site": cols.get("site", pa.nulls(n, pa.string())),
        "search_type": _search_types(cols.get("search_type"), search_type, n),
        "aggregation": constant("page" if "page" in dims else "property", n),
        "dimensions": constant(",".join(dims), n),
        "is_anonymized": anonymized if anonymized is not None else pa.nulls(n, pa.bool_()),
        "channel": pc.fill_null(cols["channel"], CHANNEL) if "channel" in cols else constant(CHANNEL, n),
        "impressions": cols["impressions"],
        "clicks": cols["clicks"],
        "sum_position": _sum_position(cols, ctx, off, shown),
    }
    for d in DIMENSIONS:
        out[d] = cols.get(d, pa.nulls(n, pa.string()))
    return out


def _flags_text(table: pa.Table, flags: list[str]) -> pa.Array:
    """The set appearance flags of each row, joined by commas (``amp_top_stories,video``), or null.

    Rows are grouped by which flags they set (a handful of combinations per file) through one integer code
    per row, and each combination's text is built once, so the cost does not grow with the ~30 flags of the
    URL table times its rows (joining and cleaning text per row took a third of the parsing time).
    """
    n = table.num_rows
    matrix = np.zeros((n, len(flags)), dtype=bool)
    code, bits = np.zeros(n, dtype=np.int64), 0
    for i, flag in enumerate(flags):
        values = table[flag].combine_chunks() if isinstance(table[flag], pa.ChunkedArray) else table[flag]
        if not pa.types.is_boolean(values.type):
            values = pc.is_in(pc.utf8_lower(as_strings(values)), value_set=pa.array(["true", "1"]))
        matrix[:, i] = pc.fill_null(values, False).to_numpy(zero_copy_only=False)
        if bits >= 62:  # renumber the combinations so far densely before the code overflows
            code = np.unique(code, return_inverse=True)[1].reshape(-1).astype(np.int64)
            bits = int(code.max(initial=0)).bit_length()
        code, bits = code * 2 + matrix[:, i], bits + 1
    _, first, which = np.unique(code, return_index=True, return_inverse=True)
    names = [flag[3:] for flag in flags]
    texts = [",".join(x for x, on in zip(names, matrix[r], strict=True) if on) or None for r in first]
    return pa.array(texts, pa.string()).take(pa.array(which.reshape(-1)))


def _devices(values: pa.Array) -> pa.Array:
    """desktop, mobile or tablet (the bulk export's DESKTOP, the German UI's Computer/Mobilgerät)."""
    known = pa.array(list(DEVICES))
    mapped = pc.take(pa.array(list(DEVICES.values())), pc.index_in(values, value_set=known))
    return pc.coalesce(mapped, values)


def _search_types(values: pa.Array | None, default: str | None, n: int) -> pa.Array:
    fallback = default or "web"
    if values is None:
        return constant(fallback, n)
    return pc.fill_null(pc.replace_substring(values, " ", "_"), fallback)


def _check_counts(cols: dict[str, pa.Array], ctx: ImportContext, off: int, shown: dict[str, str]) -> None:
    over = pc.fill_null(pc.greater(cols["clicks"], cols["impressions"]), False)
    message = f"is more than the row's {shown['impressions']}; expected at most one click per impression"
    ctx.problems.add_mask(over, cols["clicks"], off, shown["clicks"], message)


def _sum_position(cols: dict[str, pa.Array], ctx: ImportContext, off: int, shown: dict[str, str]) -> pa.Array:
    """Sum over impressions of the 1-based position: the bulk tables' 0-based sums plus one per impression,
    or an average position times the impressions."""
    impressions = cols["impressions"].cast(pa.float64())
    for zero_based in ("sum_top_position", "sum_position"):
        if zero_based in cols:
            return pc.add(cols[zero_based], impressions)
    if "position" not in cols:
        return pa.nulls(len(impressions), pa.float64())
    low = pc.fill_null(pc.and_(pc.less(cols["position"], 1.0), pc.greater(impressions, 0)), False)
    ctx.problems.add_mask(low, cols["position"], off, shown["position"], "is below 1; positions start at 1")
    return pc.multiply(cols["position"], impressions)


def _read(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    if path.suffix.lower() == ".zip":
        return {TABLE: _zip_rows(path, ctx)}
    if path.suffix.lower() in (".parquet", ".pq"):
        return {TABLE: _parquet_rows(path, ctx)}
    return {TABLE: _text_rows(path, ctx, _sibling_context(path.parent, ctx))}


def _sibling_context(folder: Path, ctx: ImportContext) -> dict[str, object]:
    """What the other files of a UI download say: the search type (``Filters.csv``) and the period (the
    Dates file's first and last day), found among the CSV files of ``folder``."""
    found: dict[str, object] = {}
    for other in sorted(folder.glob("*.csv"))[:40]:
        if is_filters_file(other):
            found["search_type"] = _filters_search_type(other)
        elif "period" not in found:
            period = _dates_period(other, ctx)
            if period is not None:
                found["period"] = period
    return found


def is_filters_file(path: Path) -> bool:
    """The UI download's ``Filters.csv``: a ``Filter,Value`` table (German ``Filter,Wert``)."""
    try:
        src = sniff(path)
    except DataValidationError:
        return False
    keys = [header_key(h) for h in src.header]
    return len(keys) == 2 and keys[0] in FILTER_NAMES and keys[1] in ("value", "wert")


def _filters_search_type(path: Path) -> str | None:
    src = sniff(path)
    for _, chunk in iter_rows(src):
        for name, value in zip(chunk.column(0).to_pylist(), chunk.column(1).to_pylist(), strict=True):
            if name and header_key(name) in SEARCH_TYPE_WORDS and value:
                return value.strip().lower().replace(" ", "_")
    return None


def _dates_period(path: Path, ctx: ImportContext) -> tuple[object, object] | None:
    """First and last day of a Dates (or Chart) file of the UI download; None for any other file."""
    try:
        src = sniff_layout(path, LAYOUT)
    except DataValidationError:
        return None
    mapping = LAYOUT.mapping(src.header)
    if "date" not in mapping or any(d in mapping for d in DIMENSIONS):
        return None
    problems = Problems(path.name)
    days = []
    for off, chunk in iter_rows(src):
        days.append(parse_date(chunk[mapping["date"]], problems, off, mapping["date"]))
    problems.check()
    found = pa.chunked_array(days, pa.date32()) if days else None
    if found is None or found.null_count == len(found):
        return None
    bounds = pc.min_max(found)
    return bounds["min"], bounds["max"]


def _text_rows(path: Path, ctx: ImportContext, siblings: dict[str, object]) -> Iterator[pa.Table]:
    if is_filters_file(path):
        return  # the search type it names is read with the download's other files
    src = sniff_layout(path, LAYOUT)
    number_hint(ctx, src, LAYOUT)
    mapping = LAYOUT.mapping(src.header)
    LAYOUT.check_header(mapping, src.header, ctx.file)
    flags = _appearance_flags(h for h in src.header if h not in mapping.values())
    period = _period(mapping, ctx, siblings)
    unique = UniqueKeys(KEY, column=_key_column(mapping))
    for off, raw in iter_rows(src):
        table = raw.select(list(mapping.values()) + flags).rename_columns(list(mapping) + flags)
        out = _rows(table, off, ctx, mapping, period, siblings.get("search_type"), flags)
        unique.check(out, ctx.problems, off, table.num_rows)
        ctx.problems.check()
        yield pa.table(out)


def _key_column(mapping: dict[str, str]) -> str:
    return next(
        (d for d in ("query", "page", "country", "device", "appearance", "date") if d in mapping), "date"
    )


def _period(mapping: dict[str, str], ctx: ImportContext, siblings: dict[str, object]):  # noqa: ANN202
    """The days a file without a date column covers: the ``from``/``to`` options, else its download's
    Dates file."""
    if "date" in mapping:
        return None
    if ctx.options.get("from") and ctx.options.get("to"):
        return pa.scalar(ctx.options["from"], pa.date32()), pa.scalar(ctx.options["to"], pa.date32())
    if "period" in siblings:
        return siblings["period"]
    raise DataValidationError(
        "holds totals over the period of a Search Console download but names no days",
        file=ctx.file,
        expected="the whole download (the .zip), or this file beside the download's Dates.csv (or "
        "Chart.csv), which gives the period; or a file with a Date column",
    )


def _zip_rows(path: Path, ctx: ImportContext) -> Iterator[pa.Table]:
    """The CSV files of a UI download, each read with the download's period and search type."""
    with tempfile.TemporaryDirectory(prefix="trueroi-gsc-") as tmp:
        folder = Path(tmp)
        members = unzip_members(path, folder)
        siblings = _sibling_context(folder, ctx)
        for member in members:
            inner = replace(
                ctx, file=f"{path.name}/{member.name}", problems=Problems(f"{path.name}/{member.name}")
            )
            yield from _text_rows(member, inner, siblings)
            ctx.problems.warnings.extend(w for w in inner.problems.warnings if w not in ctx.problems.warnings)


def _parquet_rows(path: Path, ctx: ImportContext) -> Iterator[pa.Table]:
    """A bulk export table (or API rows) as Parquet, in batches of :data:`BATCH_ROWS` rows."""
    handle = open_parquet(path)
    names = handle.schema_arrow.names
    mapping = LAYOUT.mapping(names)
    LAYOUT.check_header(mapping, names, ctx.file)
    flags = _appearance_flags(n for n in names if n not in mapping.values())
    if "date" not in mapping:
        raise DataValidationError(
            "names no days", file=ctx.file, column="data_date", expected="a data_date column"
        )
    _refuse_duplicates(parquet_duplicates(path, [mapping[k] for k in _parquet_key(mapping)] + flags), ctx)
    offset = 0
    try:
        for batch in handle.iter_batches(batch_size=BATCH_ROWS, columns=list(mapping.values()) + flags):
            table = pa.Table.from_batches([batch])
            table = table.rename_columns([_field(c, mapping) for c in table.column_names])
            out = _rows(table, offset, ctx, mapping, None, None, flags)
            ctx.problems.check()
            offset += table.num_rows
            yield pa.table(out)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise DataValidationError(
            f"cannot be read as Parquet after row {offset}: {str(exc).splitlines()[0][:200]}", file=ctx.file
        ) from exc


def _field(column: str, mapping: dict[str, str]) -> str:
    return next((f for f, c in mapping.items() if c == column), column)


def _parquet_key(mapping: dict[str, str]) -> list[str]:
    return [f for f in ("date", "site", "search_type", "is_anonymized", *DIMENSIONS) if f in mapping]


def _refuse_duplicates(found: DuplicateRows | None, ctx: ImportContext) -> None:
    if found is None:
        return
    what = "key (" + ", ".join(found.columns) + ")"
    raise DataValidationError(
        f"repeats the {what} of row {found.first} ({found.count} repeated row(s) in all)",
        file=ctx.file,
        row=found.row,
        column=found.columns[-1],
        expected=f"each {what} once in a file",
    )


def _detect(path: Path) -> bool:
    """A Search Console file: clicks, impressions and a position (average or the bulk tables' sums) with
    a dimension, or the download's ``Filters.csv``, or a download ZIP holding such files."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _zip_has_performance(path)
    if suffix in (".parquet", ".pq"):
        cols = canonical_columns(path)
        return {"impressions", "clicks"} <= cols and bool({"sum_top_position", "sum_position"} & cols)
    if is_filters_file(path):
        return True
    try:
        src = sniff_layout(path, LAYOUT)
    except DataValidationError:
        return False
    keys = {header_key(h) for h in src.header}
    has_position = bool(keys & {"position", "sumtopposition", "sumposition", "durchschnittlicheposition"})
    return has_position and {"clicks", "klicks"} & keys and bool(keys & set(ALIASES) - {"clicks", "klicks"})


def _zip_has_performance(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [Path(n).name.lower() for n in archive.namelist()]
    except (zipfile.BadZipFile, OSError):
        return False
    return "filters.csv" in names or any(n in ("queries.csv", "dates.csv", "chart.csv") for n in names)


register_table(TABLE, RowKey(KEY), PeriodReplace("date_day", scope=("aggregation", "dimensions")))
register(
    Format(
        "search-console",
        (TABLE,),
        _read,
        "Google Search Console performance: UI download (ZIP or its Queries/Pages/Countries/Devices/Dates "
        "files, English/German), bulk export tables (Parquet) or Search Analytics API rows",
        _detect,
    )
)
