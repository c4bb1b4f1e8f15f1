"""Breakdown dimensions of the KPI engine and the periods they compare against.

A dimension is either a time grain of ``date_day`` (day, week, month, quarter, year) or an attribute of
the base grain (channel, campaign, brand, funnel stage, platform).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis

from trueroi.errors import UsageError

TIME_GRAINS = {"day": None, "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
ATTRIBUTES = ("channel", "campaign", "is_brand", "funnel_stage", "platform")
ALIASES = {"brand": "is_brand", "date": "day", "date_day": "day", "stage": "funnel_stage"}
DIMENSIONS = tuple(TIME_GRAINS) + ATTRIBUTES


def parse_by(by: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Validate a breakdown: ``"channel,week"`` or a list; at most one time grain, no repeats."""
    if by is None:
        return []
    items = [b.strip().lower() for b in (by.split(",") if isinstance(by, str) else by) if b.strip()]
    dims = []
    for item in items:
        name = ALIASES.get(item, item)
        if name not in DIMENSIONS:
            raise UsageError(f"unknown breakdown dimension {item!r}; expected any of {', '.join(DIMENSIONS)}")
        if name in dims:
            raise UsageError(f"breakdown dimension {item!r} given twice")
        dims.append(name)
    if sum(d in TIME_GRAINS for d in dims) > 1:
        raise UsageError("--by takes at most one time grain (day, week, month, quarter or year)")
    return dims


def time_grain(dims: list[str]) -> str | None:
    return next((d for d in dims if d in TIME_GRAINS), None)


def bucket(day: ibis.Value, grain: str) -> ibis.Value:
    """The first day of the grain's bucket that holds ``day`` (weeks start on Monday)."""
    unit = TIME_GRAINS[grain]
    return day if unit is None else day.truncate(unit)


@dataclass(frozen=True)
class Period:
    """An inclusive range of local days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise UsageError(f"dates reversed: the first day {self.start} is after the last day {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shifted(self, compare: str, grain: str | None) -> Period:
        """The period to compare with: ``previous`` (same length right before) or ``yoy`` (a year back;
        364 days for day and week grains, so weekdays line up)."""
        if compare == "previous":
            return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))
        if compare == "yoy":
            if grain in ("day", "week"):
                return Period(self.start - timedelta(days=364), self.end - timedelta(days=364))
            return Period(_minus_year(self.start), _minus_year(self.end))
        raise UsageError(f"unknown comparison {compare!r}; expected yoy or previous")

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def parse_period(text: str) -> Period:
    """A named period: ``2026-Q3``, ``2026-07``, ``2026`` or ``2026-07-01..2026-09-30``."""
    import pandas as pd

    text = text.strip()
    try:
        if ".." in text:
            a, b = text.split("..", 1)
            return Period(date.fromisoformat(a), date.fromisoformat(b))
        p = pd.Period(text.replace("-Q", "Q"))
        return Period(p.start_time.date(), p.end_time.date())
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"period {text!r} is not understood; expected e.g. 2026-Q3, 2026-07, 2026 or "
            "2026-07-01..2026-09-30"
        ) from exc


def parse_day(value: str | date | None, what: str = "day") -> date | None:
    """``value`` as a date (ISO ``YYYY-MM-DD`` text or a date); None stays None.

    Raises
    ------
    UsageError
        Naming ``what`` (e.g. "first day") when the text is not an ISO date.
    """
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise UsageError(f"{what} {value!r} is not a date; expected YYYY-MM-DD") from exc


def resolve_range(
    date_from: str | date | None, date_to: str | date | None, period: str | None = None
) -> tuple[date | None, date | None]:
    """First and last day asked for: explicit days win over a named ``period`` (see :func:`parse_period`);
    either end may stay None (the data's range fills it in)."""
    start, end = parse_day(date_from, "first day"), parse_day(date_to, "last day")
    if period:
        named = parse_period(period)
        start, end = start or named.start, end or named.end
    if start is not None and end is not None:
        Period(start, end)  # reversed dates fail here, before any query
    return start, end


def last_full_quarter(latest: date) -> Period:
    """The last calendar quarter that ends on or before ``latest``."""
    q_start_month = 3 * ((latest.month - 1) // 3) + 1
    this_q_start = date(latest.year, q_start_month, 1)
    next_q = date(latest.year + (q_start_month + 3 > 12), (q_start_month + 2) % 12 + 1, 1)
    if latest == next_q - timedelta(days=1):
        return Period(this_q_start, latest)
    end = this_q_start - timedelta(days=1)
    return Period(date(end.year, end.month - 2, 1), end)
