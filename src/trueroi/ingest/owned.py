"""What the importers of the channels' own KPIs share (e-mail, SEO, organic social; issue 21).

Each of those exports is a table whose header names its columns in the tool's words, in English or German:
a :class:`Layout` maps them (compared loosely, :func:`header_key`) to the fields of a canonical table, and
:func:`read_layout` streams the file in chunks, parses every field by its kind (:func:`parse_fields`: counts
and numbers with the column's decimal separator decided as everywhere, days or send times, text, URLs, flags)
and hands the parsed chunk to the format's ``build`` function. Every bad value is recorded with its row and
the column as the file names it, and raised at the end of the chunk; a key twice in one file is refused.

The new tables' row keys (a later export replaces the rows it repeats) and period replacements are declared
here with :func:`register_table`, beside the other tables' in :mod:`trueroi.ingest.base`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trueroi.errors import DataValidationError
from trueroi.ingest.base import REPLACE_DAYS, REPLACE_KEYS, ImportContext
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.numbers import COMMA, hint_from_file, parse_numbers
from trueroi.ingest.parse import (
    DATE_FORMATS,
    TIME_FORMATS,
    URL_CHARS,
    as_strings,
    event_window,
    local_day,
    parse_timestamp,
    require_values,
    text,
)
from trueroi.ingest.read import TextSource, iter_rows, norm_header, sniff
from trueroi.workspace.load import PeriodReplace, RowKey

# Send and publish times as the tools write them: Mailchimp "Jan 15, 2025 10:00 am", Meta "01/15/2025 10:00",
# German "15.01.2025 10:00"; days alone too.
DAY_TIME_FORMATS = (
    *TIME_FORMATS,
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%B %d, %Y %I:%M %p",
    "%b %d, %Y",
    "%d.%m.%Y",
    *DATE_FORMATS[2:],
)
KINDS = ("text", "lower", "url", "body", "day", "count", "number", "bool")
TRUE_WORDS = ("true", "1", "yes", "y", "ja", "wahr", "x")
FALSE_WORDS = ("false", "0", "no", "n", "nein", "falsch")


def header_key(name: str) -> str:
    """A header cell compared loosely: lower case, without spaces, punctuation or underscores
    (``Unique Opens``, ``unique_opens`` and ``opens.unique_opens``' last part compare alike)."""
    return re.sub(r"[^0-9a-zäöüß]", "", norm_header(name))


def register_table(table: str, key: RowKey, days: PeriodReplace) -> None:
    """Declare a canonical table's row key and its period replacement (as
    :data:`~trueroi.ingest.base.REPLACE_KEYS` and :data:`~trueroi.ingest.base.REPLACE_DAYS` hold them for the
    first tables), so every load of the table replaces the rows a later export repeats."""
    REPLACE_KEYS[table] = key
    REPLACE_DAYS[table] = days


@dataclass(frozen=True)
class Layout:
    """How one tool writes one export: header names, the kind of each field and what must be there.

    Parameters
    ----------
    name
        The import format's name (used in messages).
    table
        The canonical table it fills.
    aliases
        :func:`header_key` of a header cell -> the field it holds; a field is taken from its first column.
    kinds
        Field -> kind (one of :data:`KINDS`); fields without a kind are not read.
    required
        Fields the header must give (one list of alternatives per entry, any one of them suffices).
    german
        Header keys only German exports use: their numbers are read with decimal commas when they do not
        show their separator themselves.
    keys
        Fields that identify a row within one file (checked after ``build``).
    """

    name: str
    table: str
    aliases: Mapping[str, str]
    kinds: Mapping[str, str]
    required: tuple[tuple[str, ...], ...] = ()
    german: frozenset[str] = frozenset()
    keys: tuple[str, ...] = ()
    min_header: int = 3

    def is_header(self, cells: list[str]) -> bool:
        """Whether a line's cells (normalised) are this export's header: enough of them are known names."""
        known = sum(header_key(c) in self.aliases for c in cells)
        return known >= self.min_header

    def mapping(self, header: Iterable[str]) -> dict[str, str]:
        """Field -> the header cell that holds it (the first such cell)."""
        found: dict[str, str] = {}
        for cell in header:
            target = self.aliases.get(header_key(cell))
            if target is not None and target not in found:
                found[target] = cell
        return found

    def check_header(self, mapping: Mapping[str, str], header: Iterable[str], file: str) -> None:
        """Raise when a required field is missing, naming it and the header's columns."""
        missing = [" or ".join(alts) for alts in self.required if not any(a in mapping for a in alts)]
        if missing:
            raise DataValidationError(
                f"missing required column(s) {'; '.join(missing)} for {self.name}",
                file=file,
                expected=f"the column names of a {self.name} export (found: {', '.join(header) or 'none'})",
            )


def sniff_layout(path: Path, layout: Layout) -> TextSource:
    """The file's header line and encoding, found by ``layout``'s names (a title or description above it is
    skipped)."""
    return sniff(path, layout.is_header)


def number_hint(ctx: ImportContext, src: TextSource, layout: Layout) -> None:
    """Decimal commas for a German header (the tool's German names or the usual German words) or a ``;``
    delimiter."""
    if any(header_key(h) in layout.german for h in src.header):
        ctx.problems.numbers.set_hint(COMMA, "the file's German column names")
    hint_from_file(ctx.problems.numbers, src.delimiter, src.header)


def mapped_chunks(
    path: Path, ctx: ImportContext, layout: Layout
) -> Iterator[tuple[int, pa.Table, dict[str, str]]]:
    """``(offset, table, shown)`` per chunk: the columns ``layout`` knows renamed to their fields, and
    field -> the header cell messages name."""
    src = sniff_layout(path, layout)
    number_hint(ctx, src, layout)
    mapping = layout.mapping(src.header)
    layout.check_header(mapping, src.header, ctx.file)
    for off, raw in iter_rows(src):
        table = raw.select(list(mapping.values())).rename_columns(list(mapping))
        yield off, table, mapping


def parse_fields(
    table: pa.Table, off: int, ctx: ImportContext, kinds: Mapping[str, str], shown: Mapping[str, str]
) -> dict[str, pa.Array]:
    """Parse the fields of ``table`` that ``kinds`` names, by kind (see :data:`KINDS`).

    Counts must be whole numbers of zero or more, numbers zero or more; days may be written as days or as
    times (a send or publish time: its local day in the workspace time zone) and must lie in the import
    window. Problems name the column as the file does (``shown``).
    """
    p = ctx.problems
    present = {f: k for f, k in kinds.items() if f in table.column_names}
    numeric = [f for f, k in present.items() if k in ("count", "number")]
    parsed = parse_numbers(
        {shown.get(f, f): table[f] for f in numeric},
        p,
        off,
        integer=[shown.get(f, f) for f in numeric if present[f] == "count"],
    )
    out = {f: parsed[shown.get(f, f)] for f in numeric}
    for name, kind in present.items():
        column = shown.get(name, name)
        values = table[name]
        if kind == "text":
            out[name] = text(values, p, off, column)
        elif kind == "lower":
            out[name] = pc.utf8_lower(text(values, p, off, column))
        elif kind == "url":
            out[name] = text(values, p, off, column, limit=URL_CHARS)
        elif kind == "body":  # a post's text: any length, only ever shortened by the importer
            out[name] = as_strings(values)
        elif kind == "day":
            out[name] = parse_day(values, ctx, off, column)
        elif kind == "bool":
            out[name] = parse_flag(values, ctx, off, column)
    return out


def parse_day(values: pa.Array | pa.ChunkedArray, ctx: ImportContext, off: int, column: str) -> pa.Array:
    """Local calendar days of values written as days or as local times (``Jan 15, 2025 10:00 am``)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_date(values.type):
        event_window(ctx.config, ctx.today).check(values.cast(pa.date32()), ctx.problems, off, column)
        return values.cast(pa.date32())
    window = event_window(ctx.config, ctx.today)
    ts = parse_timestamp(
        values,
        ctx.problems,
        off,
        column,
        tz=ctx.tz,
        formats=DAY_TIME_FORMATS,
        window=window,
        check_days=False,
    )
    days = local_day(ts, ctx.tz)
    window.check(days, ctx.problems, off, column)
    return days


def parse_flag(values: pa.Array | pa.ChunkedArray, ctx: ImportContext, off: int, column: str) -> pa.Array:
    """True/false written as words (true, yes, ja, 1 ...); anything else is a problem."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_boolean(values.type):
        return values
    raw = pc.utf8_lower(as_strings(values))
    yes, no = pc.is_in(raw, value_set=pa.array(TRUE_WORDS)), pc.is_in(raw, value_set=pa.array(FALSE_WORDS))
    bad = pc.and_(pc.is_valid(raw), pc.invert(pc.or_(yes, no)))
    ctx.problems.add_mask(bad, raw, off, column, "is not true/false; expected true, false, yes, no, 1 or 0")
    return pc.if_else(yes, True, pc.if_else(no, False, pa.scalar(None, pa.bool_())))


def require(
    cols: Mapping[str, pa.Array], ctx: ImportContext, off: int, shown: Mapping[str, str], *names: str
) -> None:
    """Record every row where a required field is empty."""
    for name in names:
        if name in cols:
            require_values(cols[name], ctx.problems, off, shown.get(name, name))


def at_most(
    cols: Mapping[str, pa.Array],
    part: str,
    whole: str,
    ctx: ImportContext,
    off: int,
    shown: Mapping[str, str],
    what: str,
) -> None:
    """Record rows where ``part`` exceeds ``whole`` (more unique opens than delivered e-mails ...)."""
    if part not in cols or whole not in cols:
        return
    over = pc.fill_null(pc.greater(cols[part], cols[whole]), False)
    message = f"is more than the row's {shown.get(whole, whole)}; {what}"
    ctx.problems.add_mask(over, cols[part], off, shown.get(part, part), message)


def constant(value: object, n: int, typ: pa.DataType = pa.string()) -> pa.Array:
    """``value`` repeated ``n`` times (built in Arrow: a Python list of 200,000 items took 50 ms a column)."""
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    return pa.repeat(pa.scalar(value, typ), n)


def first_of(cols: Mapping[str, pa.Array], *names: str) -> pa.Array | None:
    """The first of ``names`` present in ``cols``, filled from the next ones where empty."""
    found = [cols[n] for n in names if n in cols]
    if not found:
        return None
    return found[0] if len(found) == 1 else pc.coalesce(*found)


def add(*arrays: pa.Array | None) -> pa.Array | None:
    """Row sums of the given count columns; a row is null only where every one of them is."""
    given = [a for a in arrays if a is not None]
    if not given:
        return None
    total = pc.fill_null(given[0], 0)
    for a in given[1:]:
        total = pc.add(total, pc.fill_null(a, 0))
    known = pc.is_valid(given[0])
    for a in given[1:]:
        known = pc.or_(known, pc.is_valid(a))
    return pc.if_else(known, total, pa.scalar(None, total.type))


Build = Callable[[dict[str, pa.Array], int, int, ImportContext, dict[str, str]], dict[str, pa.Array]]


def read_layout(
    path: Path,
    ctx: ImportContext,
    layout: Layout,
    build: Build,
    chunks: Iterable[tuple[int, pa.Table, dict[str, str]]] | None = None,
) -> Iterator[pa.Table]:
    """Stream ``path`` as ``layout`` describes it: per chunk, :func:`parse_fields`, then ``build(cols, n,
    off, ctx, shown)`` (derived fields and checks), the within-file key check and the chunk's problems."""
    unique = UniqueKeys(layout.keys, column=layout.keys[-1]) if layout.keys else None
    for off, table, shown in chunks if chunks is not None else mapped_chunks(path, ctx, layout):
        cols = parse_fields(table, off, ctx, layout.kinds, shown)
        out = build(cols, table.num_rows, off, ctx, shown)
        if unique is not None:
            unique.check({k: out[k] for k in layout.keys if k in out}, ctx.problems, off, table.num_rows)
        ctx.problems.check()
        if ctx.on_rows:
            ctx.on_rows(table.num_rows)
        yield pa.table(out)


def detector(layout: Layout, any_of: Iterable[str]) -> Callable[[Path], bool]:
    """A detection function: the file's header is ``layout``'s and holds one of the header keys ``any_of``
    (names only this tool writes)."""
    wanted = set(any_of)

    def detect(path: Path) -> bool:
        if path.suffix.lower() in (".parquet", ".pq"):
            return False
        try:
            src = sniff_layout(path, layout)
        except DataValidationError:
            return False
        return bool(wanted & {header_key(h) for h in src.header})

    return detect


def canonical_detector(all_of: Iterable[str], any_of: Iterable[str] = ()) -> Callable[[Path], bool]:
    """A detection function for a generic format: its header (CSV or Parquet) holds every canonical column of
    ``all_of`` and one of ``any_of``, written as the canonical names (``unique_opens``)."""
    needed, some = set(all_of), set(any_of)

    def detect(path: Path) -> bool:
        columns = canonical_columns(path)
        return needed <= columns and (not some or bool(some & columns))

    return detect


def canonical_columns(path: Path) -> set[str]:
    """The file's column names, lower-cased with spaces as underscores (empty when unreadable)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            names = pq.read_schema(path).names
        except (pa.ArrowInvalid, OSError):
            return set()
    else:
        try:
            names = sniff(path).header
        except DataValidationError:
            return set()
    return {norm_header(c).replace(" ", "_") for c in names}
