"""Numbers as exports and spreadsheets write them, with the decimal separator decided per column.

``1.234,56`` (German, Austrian ``1 234,56``), ``1'234.56`` / ``1’234.56`` (Swiss) and ``1,234.56``
(English) are all 1234.56; ``12%`` is 12; currency signs and codes are dropped. A value such as ``1.234``
reads as 1.234 with a decimal point or as 1234 with a thousands point, so the separator is never guessed per
value. Each numeric column is decided once per file, from:

1. its own numbers: one that reads only one way (``12,50``, ``1.234,56``, ``0.125``, and for counts
   ``1.204`` impressions, which cannot be 1.204) decides the column; later chunks must agree, and a row that
   does not is an error naming it;
2. the rest of the file: the separator every other decided column of the file writes;
3. a hint from the file (:meth:`~trueroi.ingest.problems.NumberStyle.set_hint`): German column names, a
   ``;`` delimiter (what spreadsheets write where the comma is the decimal separator), an API's fixed format.

A column whose numbers are all ambiguous and that nothing else decides is refused, row by row. Every number
must be finite and within :data:`MAX_NUMBER` in absolute value (beyond it float64 no longer holds cents, and
counts would wrap): ``1e400``, ``NaN`` and 99999999999999999999999 impressions are refused with their row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.ingest.parse import as_strings
from trueroi.ingest.problems import NumberStyle, Problems
from trueroi.ingest.read import norm_header

POINT, COMMA = ".", ","
SEPARATOR_WORDS = {POINT: "a decimal point", COMMA: "a decimal comma"}
SEPARATOR_PLURAL = {POINT: "decimal points", COMMA: "decimal commas"}
MAX_NUMBER = 1e15
NOISE = "[€$£¥₹₽₺%'’ \\t\\x{00a0}\\x{202f}\\x{2009}]|(?i:\\b(?:eur|usd|gbp|chf|us\\$)\\b)"
_GROUPS = {
    POINT: "(?:[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)",
    COMMA: "(?:[0-9]+|[1-9][0-9]{0,2}(?:\\.[0-9]{3})+)",
}
_EXP = "(?:[eE][+-]?[0-9]+)?"
# a value is a number under a reading when it matches READS[reading]
READS = {
    POINT: f"^[+-]?(?:{_GROUPS[POINT]}(?:\\.[0-9]*)?|\\.[0-9]+){_EXP}$",
    COMMA: f"^[+-]?(?:{_GROUPS[COMMA]}(?:,[0-9]*)?|,[0-9]+){_EXP}$",
}
# ... and a whole number under it when it matches WHOLE[reading] (decides count columns: 1.204 impressions)
WHOLE = {
    POINT: f"^[+-]?{_GROUPS[POINT]}(?:\\.0*)?{_EXP}$",
    COMMA: f"^[+-]?{_GROUPS[COMMA]}(?:,0*)?{_EXP}$",
}
NON_FINITE = "(?i)^[+-]?(?:nan|inf|infinity)$"
NAN_WORDS = ("nan", "NaN", "NAN")
_GERMAN = (
    "tag datum kampagne kampagnenname kampagnen-id kosten klicks link-klicks impressionen reichweite "
    "währung währungscode konto kontoname betrag ausgegebener umsatz käufe kategorie menge preis gesamt "
    "steuern versand wert konv. konv.-wert berichtsbeginn anzeigengruppe bestellnummer"
)
GERMAN_WORDS = frozenset(_GERMAN.split())


def other(reading: str) -> str:
    return COMMA if reading == POINT else POINT


def hint_from_file(style: NumberStyle, delimiter: str | None, header: Iterable[str]) -> None:
    """Set the file's hint: decimal commas for German column names or a ``;`` delimiter."""
    words = {norm_header(h).split(" ")[0] for h in header if h and h.strip()}
    if words & GERMAN_WORDS:
        style.set_hint(COMMA, "the file's German column names")
    elif delimiter == ";":
        style.set_hint(COMMA, "the file's ; delimiter")


class _Column:
    """One text column of a chunk. Its regular expressions run only as far as the decision needs them (a
    decided column tests one reading; the other only for the rows that fail it), and currency signs,
    spaces and percent signs are removed only when some value does not read as a plain number."""

    def __init__(self, values: pa.Array, integer: bool) -> None:
        self.raw = as_strings(values)
        self.clean = self.raw
        self.integer = integer
        self.valid = np.asarray(pc.is_valid(self.raw))
        self._found: dict[str, np.ndarray] = {}

    def match(self, pattern: str) -> np.ndarray:
        if pattern not in self._found:
            self._found[pattern] = np.asarray(
                pc.fill_null(pc.match_substring_regex(self.clean, pattern), False)
            )
        return self._found[pattern]

    def reads(self, reading: str) -> np.ndarray:
        """A number when read with ``reading`` as the decimal separator."""
        return self.match(READS[reading])

    def fits(self, reading: str) -> np.ndarray:
        """A number (a whole one in a count column) when read with ``reading``."""
        return self.match(WHOLE[reading] if self.integer else READS[reading])

    def unclean(self, *patterns: str) -> None:
        """Remove the noise when a value matches none of ``patterns`` as it stands."""
        if self.clean is not self.raw:
            return
        matched = np.zeros(len(self.valid), dtype=bool)
        for pattern in patterns:
            matched |= self.match(pattern)
        if (self.valid & ~matched).any():
            self.clean = pc.replace_substring_regex(self.raw, NOISE, "")
            self._found.clear()

    def decides(self) -> dict[str, np.ndarray]:
        """Values that are numbers (whole ones for counts) under one reading only."""
        self.unclean(*(WHOLE[r] if self.integer else READS[r] for r in (POINT, COMMA)))
        p, c = self.fits(POINT), self.fits(COMMA)
        return {POINT: p & ~c, COMMA: c & ~p}

    def ambiguous(self) -> np.ndarray:
        """Values that are numbers under both readings and hold a separator (so the readings differ)."""
        both = self.fits(POINT) & self.fits(COMMA)
        if not both.any():
            return both
        sep = pc.or_(pc.match_substring(self.clean, "."), pc.match_substring(self.clean, ","))
        return both & np.asarray(pc.fill_null(sep, False))


def _first(mask: np.ndarray, col: _Column, offset: int) -> str:
    i = int(np.flatnonzero(mask)[0])
    return f"row {offset + i + 1}: {col.raw[i].as_py()!r}"


def _decide_own(name: str, col: _Column, style: NumberStyle, offset: int) -> str | None:
    """The column's separator from an earlier chunk or its own numbers (recorded for later chunks)."""
    if name in style.columns:
        return style.columns[name][0]
    decides = col.decides()
    n_point, n_comma = int(decides[POINT].sum()), int(decides[COMMA].sum())
    if not n_point and not n_comma:
        return None
    if n_point and n_comma:  # mixed: the file's evidence, else the majority; the others are errors
        found = style.evidence()
        reading = found[0] if found else (POINT if n_point >= n_comma else COMMA)
    else:
        reading = POINT if n_point else COMMA
    style.columns[name] = (reading, _first(decides[reading], col, offset))
    return reading


def _decide_by_file(name: str, col: _Column, style: NumberStyle) -> str | None:
    """The separator of a column of only ambiguous numbers, from the rest of the file (or None)."""
    found = style.evidence()
    if found is None:
        return None
    style.columns[name] = found
    return found[0]


def _convert(col: _Column, reading: str) -> pa.Array:
    if reading == POINT:
        text = pc.replace_substring(col.clean, ",", "")
    else:
        text = pc.replace_substring(pc.replace_substring(col.clean, ".", ""), ",", ".")
    text = pc.if_else(pa.array(col.reads(reading)), text, pa.scalar(None, pa.string()))
    return text.cast(pa.float64())


AMBIGUOUS = (
    "is ambiguous: its separator may be a decimal or a thousands separator, and no other number in this "
    "column or file shows which; expected numbers with their decimals (1.234,00 or 1,234.00) or without "
    "thousands separators"
)


def _report_text(
    name: str, col: _Column, reading: str | None, style: NumberStyle, problems: Problems, offset: int
) -> None:
    """Record values that are no number, contradict the column's separator, or stay ambiguous
    (``reading`` None: the column is ambiguous and nothing decides it)."""
    if reading is None:
        problems.add_mask(col.ambiguous(), col.raw, offset, name, AMBIGUOUS)
        reading = POINT
    col.unclean(READS[reading])
    failed = col.valid & ~col.reads(reading)
    if not failed.any():
        return
    contra = failed & col.reads(other(reading))
    bad = failed & ~contra
    if bad.any():
        non_finite = np.asarray(pc.fill_null(pc.match_substring_regex(col.raw, NON_FINITE), False))
        problems.add_mask(bad & non_finite, col.raw, offset, name, "is not a finite number")
        problems.add_mask(bad & ~non_finite, col.raw, offset, name, "is not a number")
    if not contra.any():
        return
    if name not in style.columns:  # undecided: only a count's fraction (1,5 clicks) reads the other way
        problems.add_mask(contra, col.raw, offset, name, "is not a whole number")
        return
    message = (
        f"is written with {SEPARATOR_WORDS[other(reading)]}, but this column writes "
        f"{SEPARATOR_PLURAL[reading]} ({style.columns[name][1]})"
    )
    problems.add_mask(contra, col.raw, offset, name, message)


def check_numbers(
    out: pa.Array,
    shown: pa.Array,
    problems: Problems,
    offset: int,
    column: str,
    *,
    integer: bool = False,
    non_negative: bool = False,
) -> pa.Array:
    """Refuse non-finite values, values beyond :data:`MAX_NUMBER`, and (as asked) negative or fractional
    ones; returns ``out`` as int64 for ``integer`` columns. ``shown`` is what a message shows per row."""
    finite = pc.fill_null(pc.is_finite(out), True)
    problems.add_mask(pc.invert(finite), shown, offset, column, "is not a finite number")
    huge = pc.fill_null(pc.greater(pc.abs(out), MAX_NUMBER), False)
    problems.add_mask(
        pc.and_(finite, huge),
        shown,
        offset,
        column,
        f"is out of range; expected at most {MAX_NUMBER:.0e} in size",
    )
    out = pc.if_else(pc.and_(finite, pc.invert(huge)), out, pa.scalar(None, pa.float64()))
    if non_negative:
        neg = pc.fill_null(pc.less(out, 0), False)
        problems.add_mask(neg, out, offset, column, "is negative; expected zero or more")
    if integer:
        frac = pc.fill_null(pc.not_equal(pc.floor(out), out), False)
        problems.add_mask(frac, out, offset, column, "is not a whole number")
        out = pc.if_else(frac, pa.scalar(None, pa.float64()), out)
        return pc.cast(out, pa.int64())
    return out


def parse_numbers(
    columns: Mapping[str, pa.Array | pa.ChunkedArray],
    problems: Problems,
    offset: int,
    *,
    integer: Collection[str] = (),
    signed: Collection[str] = (),
    decimal: str | None = None,
) -> dict[str, pa.Array]:
    """Parse the numeric columns of one chunk together, so one column's separator can decide another's.

    Parameters
    ----------
    columns
        Column name -> values (text as exported, or numbers from Parquet/JSON).
    integer
        Columns that hold counts (returned as int64).
    signed
        Columns that may be negative (every other one must be zero or more).
    decimal
        ``"."`` or ``","`` when the format fixes the separator (an API), else decided per column.

    Returns
    -------
    dict
        Column name -> float64 (int64 for ``integer``) array with nulls for empty and bad cells; every bad
        cell is recorded in ``problems`` with its row and column.
    """
    style = problems.numbers
    scanned: dict[str, _Column] = {}
    numeric: dict[str, pa.Array] = {}
    for name, values in columns.items():
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        typ = values.type
        if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
            numeric[name] = values.cast(pa.float64(), safe=False)  # exact up to MAX_NUMBER
        else:
            scanned[name] = _Column(values, name in integer)
    readings = {n: decimal or _decide_own(n, c, style, offset) for n, c in scanned.items()}
    unreadable = set()
    for name, col in scanned.items():  # columns of only ambiguous values: the rest of the file decides
        if readings[name] is None and col.ambiguous().any():
            readings[name] = _decide_by_file(name, col, style)
            if readings[name] is None:
                unreadable.add(name)
    out: dict[str, pa.Array] = {}
    for name, col in scanned.items():
        _report_text(
            name, col, readings[name] or (None if name in unreadable else POINT), style, problems, offset
        )
        _report_nan_words(columns[name], col, problems, offset, name)
        parsed = _convert(col, readings[name] or POINT)
        if name in unreadable:
            parsed = pc.if_else(pa.array(col.ambiguous()), pa.scalar(None, pa.float64()), parsed)
        out[name] = check_numbers(
            parsed, col.raw, problems, offset, name, integer=name in integer, non_negative=name not in signed
        )
    for name, values in numeric.items():
        out[name] = check_numbers(
            values, values, problems, offset, name, integer=name in integer, non_negative=name not in signed
        )
    return {name: out[name] for name in columns}


def _report_nan_words(
    values: pa.Array | pa.ChunkedArray, col: _Column, problems: Problems, offset: int, name: str
) -> None:
    """``NaN`` is a missing word for text but no number: refuse it in a numeric column."""
    if not col.raw.null_count:
        return
    given = pc.utf8_trim_whitespace(_as_text(values))
    nan = pc.fill_null(pc.is_in(given, value_set=pa.array(NAN_WORDS)), False)
    problems.add_mask(nan, given, offset, name, "is not a finite number")


def _as_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return values if values.type == pa.string() else values.cast(pa.string())


def parse_number(
    values: pa.Array | pa.ChunkedArray,
    problems: Problems,
    offset: int,
    column: str,
    *,
    decimal: str | None = None,
    integer: bool = False,
    non_negative: bool = False,
) -> pa.Array:
    """One numeric column (see :func:`parse_numbers`): float64, or int64 with ``integer``."""
    return parse_numbers(
        {column: values},
        problems,
        offset,
        integer={column} if integer else (),
        signed=() if non_negative else {column},
        decimal=decimal,
    )[column]
