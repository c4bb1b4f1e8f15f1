"""Parsing values as exports write them, and collecting every problem with its row and column.

Dates arrive as ``2025-01-31``, ``31.01.2025``, ``1/31/2025`` or ``20250131``; times with or without an
offset; text of any length. Each parser returns an Arrow array with nulls where the input was empty and
records every value it could not read in a :class:`~trueroi.ingest.problems.Problems` collector, which raises
one :class:`~trueroi.ingest.problems.ImportValidationError` listing them. Days outside the workspace's import
window (``[import]`` in ``trueroi.toml``: nothing before ``earliest``, nothing after today plus
``future_days``) are refused, and so is text longer than a name or a URL can sensibly be. Numbers are read
by :mod:`trueroi.ingest.numbers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.ingest.problems import ImportValidationError, NumberStyle, Problems
from trueroi.workspace.config import ImportWindow, WorkspaceConfig

__all__ = ["ImportValidationError", "NumberStyle", "Problems"]

MISSING = ("", "--", "-", "—", "n/a", "N/A", "null", "NULL", "None", "nan", "NaN", "(not set)")
_ISO_CODES = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW "
    "KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD "
    "NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD "
    "SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES "
    "VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"
)
ISO_4217 = frozenset(_ISO_CODES.split())
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%Y%m%d", "%Y/%m/%d", "%d %B %Y")
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
NAME_CHARS = 1_000  # names, ids, codes, statuses: longer text is a broken export
URL_CHARS = 8_192  # landing pages and referrers (GA4 keeps 1,000 characters of page_location)
URL_COLUMNS = frozenset({"landing_page", "referrer", "page_location", "page_referrer", "url"})


@dataclass(frozen=True)
class DateWindow:
    """The days a column may hold: from ``earliest`` to ``latest``, both included."""

    earliest: date
    latest: date
    setting: str = "future_days"  # the [import] setting that sets ``latest``

    def check(self, days: pa.Array, problems: Problems, offset: int, column: str) -> None:
        """Record every day before ``earliest`` or after ``latest`` (dates shown as ISO text)."""
        early = pc.fill_null(pc.less(days, pa.scalar(self.earliest, pa.date32())), False)
        problems.add_mask(
            early,
            days,
            offset,
            column,
            f"is before {self.earliest}; expected a day from {self.earliest} on "
            "(the import window's earliest day, [import] earliest in trueroi.toml)",
        )
        late = pc.fill_null(pc.greater(days, pa.scalar(self.latest, pa.date32())), False)
        problems.add_mask(late, days, offset, column, f"is in the future; expected a day up to {self.latest}")


def event_window(config: WorkspaceConfig | None = None, today: date | None = None) -> DateWindow:
    """Days something happened on (orders, sessions, ad days, conversions): up to today + ``future_days``."""
    window = config.import_window if config is not None else ImportWindow()
    day = today or date.today()
    return DateWindow(window.earliest, day + timedelta(days=window.future_days))


def ahead_window(config: WorkspaceConfig | None = None, today: date | None = None) -> DateWindow:
    """Days booked or forecast ahead (cost periods, a deal's close date): up to today + ``ahead_days``."""
    window = config.import_window if config is not None else ImportWindow()
    day = today or date.today()
    return DateWindow(window.earliest, day + timedelta(days=window.ahead_days), "ahead_days")


def as_strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Trimmed strings with the usual spellings of "nothing" turned into null."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.string():
        values = values.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.is_in(trimmed, value_set=pa.array(MISSING)), pa.scalar(None, pa.string()), trimmed)


def text(
    values: pa.Array | pa.ChunkedArray,
    problems: Problems,
    offset: int,
    column: str,
    *,
    limit: int | None = None,
) -> pa.Array:
    """:func:`as_strings`, refusing cells longer than ``limit`` characters (default :data:`NAME_CHARS`, or
    :data:`URL_CHARS` for URL columns such as ``landing_page``)."""
    strings = as_strings(values)
    check_length(strings, problems, offset, column, limit=limit)
    return strings


def check_length(
    strings: pa.Array, problems: Problems, offset: int, column: str, *, limit: int | None = None
) -> None:
    """Record every cell of ``strings`` longer than ``limit`` characters (see :func:`text`)."""
    limit = limit or (URL_CHARS if column in URL_COLUMNS else NAME_CHARS)
    lengths = pc.utf8_length(strings)
    long = pc.fill_null(pc.greater(lengths, limit), False)
    if not pc.any(long).as_py():
        return
    head = pc.binary_join_element_wise(pc.utf8_slice_codeunits(strings, 0, 40), pa.scalar("..."), "")
    problems.add_mask(
        long, head, offset, column, f"is longer than {limit:,} characters; expected a shorter text"
    )


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
    window: DateWindow | None = None,
) -> pa.Array:
    """Calendar days; the first format that reads every value wins (``%d.%m.%Y`` before ``%m/%d/%Y``...).

    Days outside ``window`` are refused (default: :func:`event_window` of the default settings and
    ``today``); ``window=None`` with ``today`` keeps the default window.
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
    (window or event_window(None, today)).check(out, problems, offset, column)
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


def parse_timestamp(
    values: pa.Array | pa.ChunkedArray,
    problems: Problems,
    offset: int,
    column: str,
    *,
    tz: str,
    formats: tuple[str, ...] = TIME_FORMATS,
    today: date | None = None,
    window: DateWindow | None = None,
    check_days: bool = True,
) -> pa.Array:
    """UTC instants (naive ``timestamp[us]``); times without an offset are local times in ``tz``.

    Times that fall in a daylight-saving gap are moved forward; repeated times take the first occurrence.
    Days outside ``window`` are refused as in :func:`parse_date`, unless ``check_days`` is false (the caller
    checks them itself, e.g. only on some rows).
    """
    window = window or event_window(None, today)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_timestamp(values.type):
        series = pd.Series(values.to_pandas())
        if values.type.tz is None:
            series = series.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        out = series.dt.tz_convert("UTC").dt.tz_localize(None)
    elif (fast := _arrow_local_times(as_strings(values), tz)) is not None:
        if check_days:
            window.check(pc.cast(fast, pa.date32()), problems, offset, column)
        return fast
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
    if check_days:
        window.check(pc.cast(arrow, pa.date32()), problems, offset, column)
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
