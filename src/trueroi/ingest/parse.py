"""Parsing values as exports write them, and collecting every problem with its row and column.

Numbers arrive as ``"1,234.50 €"``, ``"1.234,50"``, ``"12%"`` or ``"--"``; dates as ``2025-01-31``,
``31.01.2025``, ``1/31/2025`` or ``20250131``; times with or without an offset. Each parser returns an Arrow
array with nulls where the input was empty and records every value it could not read in a
:class:`Problems` collector, which raises one :class:`ImportValidationError` listing them (up to a limit,
then a count).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError

MISSING = ("", "--", "-", "—", "n/a", "N/A", "null", "NULL", "None", "nan", "NaN", "(not set)")
CURRENCY_NOISE = "[€$£¥₹₽₺\u00a0\u202f' ]|(?i:\\b(?:eur|usd|gbp|chf|us\\$)\\b)"
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWL",
    ]
)
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%Y%m%d", "%Y/%m/%d")
TIME_FORMATS = (
    "ISO8601",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y%m%d %H%M%S",
)
FUTURE_SLACK = timedelta(days=2)  # local "today" in the farthest time zone, plus clock skew


class ImportValidationError(DataValidationError):
    """A file holds one or more bad values; ``problems`` lists (row, column, value, message) for each."""

    def __init__(
        self, problems: list[tuple[int | None, str | None, Any, str]], total: int, file: str
    ) -> None:
        self.problems = problems
        self.total = total
        row, column, value, message = problems[0]
        if total > 1:
            rest = "; ".join(_where(r, c, v, m) for r, c, v, m in problems[1:])
            more = f" (and {total - len(problems)} more)" if total > len(problems) else ""
            message = f"{message} [{total} problems in all; also: {rest}{more}]"
        super().__init__(message, file=file, row=row, column=column, value=value)


def _where(row: int | None, column: str | None, value: Any, message: str) -> str:
    parts = [
        p for p in (f"row {row}" if row is not None else None, f"column {column}" if column else None) if p
    ]
    shown = f"{value!r} " if value is not None else ""
    return f"{', '.join(parts)}: {shown}{message}"


@dataclass
class Problems:
    """Collects bad values while a file is parsed; :meth:`check` raises them all at once."""

    file: str
    limit: int = 20
    items: list[tuple[int | None, str | None, Any, str]] = field(default_factory=list)
    total: int = 0
    seen: set[tuple[int | None, str | None]] = field(default_factory=set)

    def add(
        self, message: str, *, row: int | None = None, column: str | None = None, value: Any = None
    ) -> None:
        if row is not None and (row, column) in self.seen:
            return
        self.seen.add((row, column))
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append((row, column, value, message))

    def add_mask(
        self, mask: Any, values: pa.Array, offset: int, column: str, message: str, *, header_rows: int = 0
    ) -> None:
        """Record each row where ``mask`` holds; rows are 1-based data rows after ``offset`` earlier ones."""
        mask = np.asarray(pc.fill_null(mask, False) if isinstance(mask, pa.Array | pa.ChunkedArray) else mask)
        hits = np.flatnonzero(mask)
        if not len(hits):
            return
        rows = offset + hits + 1 + header_rows
        fresh = [i for i, r in zip(hits.tolist(), rows.tolist(), strict=True) if (r, column) not in self.seen]
        self.total += len(fresh)
        room = self.limit - len(self.items)
        for i in fresh[: max(room, 0)]:
            value = values[int(i)].as_py() if values is not None else None
            self.items.append((offset + int(i) + 1 + header_rows, column, value, message))
        if len(self.seen) < 10 * self.limit:
            self.seen.update((offset + i + 1 + header_rows, column) for i in fresh[: 10 * self.limit])

    def check(self) -> None:
        if self.total:
            ordered = sorted(self.items, key=lambda item: item[0] if item[0] is not None else -1)
            raise ImportValidationError(ordered, self.total, self.file)

    def __bool__(self) -> bool:
        return self.total > 0


def as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Trimmed strings with the usual spellings of "nothing" turned into null."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.string():
        values = values.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.is_in(trimmed, value_set=pa.array(MISSING)), pa.scalar(None, pa.string()), trimmed)


def parse_number(
    values: pa.Array | pa.ChunkedArray,
    problems: Problems,
    offset: int,
    column: str,
    *,
    decimal: str = ".",
    integer: bool = False,
    non_negative: bool = False,
) -> pa.Array:
    """Numbers from export text: currency symbols and codes, thousands separators and ``%`` are removed.

    Parameters
    ----------
    decimal
        ``"."`` (English exports: ``1,234.50``) or ``","`` (German and French: ``1.234,50``).
    integer, non_negative
        Also refuse fractional or negative values.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        out = values.cast(pa.float64())
    else:
        raw = as_strings(values)
        clean = pc.replace_substring_regex(raw, CURRENCY_NOISE, "")
        clean = pc.replace_substring(clean, "%", "")
        thousands = "," if decimal == "." else "."
        clean = pc.replace_substring(clean, thousands, "")
        if decimal != ".":
            clean = pc.replace_substring(clean, decimal, ".")
        ok = pc.match_substring_regex(clean, NUMBER)
        bad = pc.and_(pc.is_valid(raw), pc.invert(pc.fill_null(ok, False)))
        problems.add_mask(bad, raw, offset, column, "is not a number", header_rows=0)
        out = pc.if_else(pc.fill_null(ok, False), clean, pa.scalar(None, pa.string())).cast(pa.float64())
    if non_negative:
        neg = pc.fill_null(pc.less(out, 0), False)
        problems.add_mask(neg, out, offset, column, "is negative; expected zero or more")
    if integer:
        frac = pc.fill_null(pc.not_equal(pc.floor(out), out), False)
        problems.add_mask(frac, out, offset, column, "is not a whole number")
        out = pc.if_else(frac, pa.scalar(None, pa.float64()), out)
        return pc.cast(out, pa.int64(), safe=False)
    return out


def _best_format(series: pd.Series, formats: tuple[str, ...], parse: Any) -> tuple[pd.Series, str]:
    """Parse with the format that reads the most values (the first that reads all wins ties), then fill the
    values it could not read from the other formats in order (a file mixing ``1/6/2025`` and
    ``2025-01-05``)."""
    target = int(series.notna().sum())
    results = []
    for fmt in formats:
        parsed = parse(series, fmt)
        results.append((int(parsed.notna().sum()), fmt, parsed))
        if results[-1][0] == target:
            return parsed, fmt
    results.sort(key=lambda r: -r[0])
    best = results[0][2]
    for _, _, parsed in results[1:]:
        best = best.fillna(parsed)
    return best, results[0][1]


def parse_date(
    values: pa.Array | pa.ChunkedArray,
    problems: Problems,
    offset: int,
    column: str,
    formats: tuple[str, ...] = DATE_FORMATS,
    *,
    today: date | None = None,
) -> pa.Array:
    """Calendar days; the first format that reads every value wins (``%d.%m.%Y`` before ``%m/%d/%Y``...).

    Days after tomorrow are refused as future dates.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_date(values.type):
        out = values.cast(pa.date32())
    elif pa.types.is_timestamp(values.type):
        out = values.cast(pa.timestamp("s")).cast(pa.date32())
    else:
        raw = as_strings(values)
        out = _arrow_dates(raw, formats)
        bad = pc.and_(pc.is_valid(raw), pc.is_null(out))
        problems.add_mask(bad, raw, offset, column, f"is not a date; expected a day like {_example(formats)}")
    _check_future(out, problems, offset, column, today)
    return out


def _arrow_dates(raw: pa.Array, formats: tuple[str, ...]) -> pa.Array:
    """Like :func:`_best_format` with Arrow's parser, which reads any year (pandas stops at 2262)."""
    target = pc.count(raw).as_py()
    results = []
    for fmt in formats:
        parsed = _strict(
            raw, pc.cast(pc.strptime(raw, format=fmt, unit="s", error_is_null=True), pa.date32()), fmt
        )
        results.append((pc.count(parsed).as_py(), parsed))
        if results[-1][0] == target:
            return parsed
    results.sort(key=lambda r: -r[0])
    return pc.coalesce(*[r[1] for r in results])


def _strict(raw: pa.Array, parsed: pa.Array, fmt: str) -> pa.Array:
    """Null where Arrow rolled an impossible day over (it reads 2025-02-30 as 2025-03-02): the parsed day,
    written back in ``fmt``, must give the input again (leading zeros aside)."""

    def unpadded(strings: pa.Array) -> pa.Array:
        return pc.replace_substring_regex(pc.utf8_trim_whitespace(strings), r"(^|\D)0+(\d)", r"\1\2")

    back = pc.strftime(pc.cast(parsed, pa.timestamp("s")), format=fmt)
    same = pc.equal(unpadded(back), unpadded(raw))
    return pc.if_else(pc.fill_null(same, False), parsed, pa.nulls(len(parsed), pa.date32()))


def _example(formats: tuple[str, ...]) -> str:
    return " or ".join(date(2025, 1, 31).strftime(f) for f in formats[:3])


def _check_future(days: pa.Array, problems: Problems, offset: int, column: str, today: date | None) -> None:
    limit = (today or date.today()) + FUTURE_SLACK
    future = pc.fill_null(pc.greater(days, pa.scalar(limit, pa.date32())), False)
    problems.add_mask(future, days, offset, column, f"is in the future; expected a day up to {limit}")


def parse_timestamp(
    values: pa.Array | pa.ChunkedArray,
    problems: Problems,
    offset: int,
    column: str,
    *,
    tz: str,
    formats: tuple[str, ...] = TIME_FORMATS,
    today: date | None = None,
) -> pa.Array:
    """UTC instants (naive ``timestamp[us]``); times without an offset are local times in ``tz``.

    Times that fall in a daylight-saving gap are moved forward; repeated times take the first occurrence.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_timestamp(values.type):
        series = pd.Series(values.to_pandas())
        if values.type.tz is None:
            series = series.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        out = series.dt.tz_convert("UTC").dt.tz_localize(None)
    elif (fast := _arrow_local_times(as_strings(values), tz)) is not None:
        arrow = fast
        _check_future(pc.cast(arrow, pa.date32()), problems, offset, column, today)
        return arrow
    else:
        raw = as_strings(values)
        series = raw.to_pandas()
        aware = series.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True, na=False)
        out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
        if aware.any():
            parsed = pd.to_datetime(series[aware], format="ISO8601", errors="coerce", utc=True)
            if parsed.isna().any():
                parsed = parsed.fillna(
                    pd.to_datetime(series[aware], format="%Y-%m-%d %H:%M:%S %z", errors="coerce", utc=True)
                )
            out[aware] = parsed.dt.tz_localize(None).astype("datetime64[us]")
        naive = ~aware & series.notna()
        if naive.any():
            local, _ = _best_format(
                series[naive], formats, lambda s, f: pd.to_datetime(s, format=f, errors="coerce")
            )
            try:
                first = np.ones(len(local), dtype=bool)  # a repeated hour counts as its first occurrence
                utc = local.dt.tz_localize(tz, ambiguous=first, nonexistent="shift_forward").dt.tz_convert(
                    "UTC"
                )
            except Exception:  # noqa: BLE001 - pandas raises several types for odd inputs
                utc = pd.Series(pd.NaT, index=local.index)
            out[naive] = utc.dt.tz_localize(None).astype("datetime64[us]") if len(utc) else utc
        bad = series.notna() & out.isna()
        problems.add_mask(
            bad.to_numpy(), raw, offset, column, "is not a date and time; expected e.g. 2025-01-31 14:05:00"
        )
    arrow = pa.array(out.astype("datetime64[us]"), pa.timestamp("us"), from_pandas=True)
    days = pc.cast(arrow, pa.date32())
    _check_future(days, problems, offset, column, today)
    return arrow


FAST_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


def _arrow_local_times(raw: pa.Array, tz: str) -> pa.Array | None:
    """UTC instants when every value is a plain local ``YYYY-MM-DD HH:MM[:SS]`` (the common case, parsed
    in Arrow without pandas); None when any value needs the general parser."""
    n_valid = pc.count(raw).as_py()
    if n_valid == 0:
        return None
    for fmt in FAST_TIME_FORMATS:
        parsed = pc.strptime(raw, format=fmt, unit="us", error_is_null=True)
        if pc.count(parsed).as_py() == n_valid:
            aware = pc.assume_timezone(parsed, timezone=tz, ambiguous="earliest", nonexistent="latest")
            return aware.cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))
    return None


def local_day(ts_utc: pa.Array, tz: str) -> pa.Array:
    """The calendar day in ``tz`` of naive UTC instants (``date_day`` of orders, touchpoints, conversions)."""
    aware = pc.assume_timezone(ts_utc, "UTC") if ts_utc.type.tz is None else ts_utc
    local = pc.local_timestamp(aware.cast(pa.timestamp(aware.type.unit, tz)))
    return pc.cast(local, pa.date32())


def parse_currency(
    values: pa.Array | pa.ChunkedArray, problems: Problems, offset: int, column: str
) -> pa.Array:
    """ISO 4217 codes, upper-cased; anything else (``EURO``, ``€``, ``XYZ``) is a problem."""
    raw = as_strings(values)
    upper = pc.utf8_upper(raw)
    known = pc.is_in(upper, value_set=pa.array(sorted(ISO_4217)))
    bad = pc.and_(pc.is_valid(upper), pc.invert(known))
    problems.add_mask(
        bad, raw, offset, column, "is not an ISO 4217 currency code; expected e.g. EUR, USD, GBP"
    )
    return upper


def require_values(values: pa.Array, problems: Problems, offset: int, column: str) -> None:
    """Record every row where a required value is empty."""
    problems.add_mask(pc.is_null(values), values, offset, column, "is empty; a value is required")


def currency_from_header(header: str) -> str | None:
    """The ISO code in a header such as ``Amount spent (EUR)`` or ``Betrag ausgegeben (EUR)``."""
    match = re.search(r"\(([A-Z]{3})\)", header)
    return match.group(1) if match and match.group(1) in ISO_4217 else None
