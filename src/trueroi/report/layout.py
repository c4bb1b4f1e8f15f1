"""The building blocks of the report's layout: chart data, formatted tables and sections.

A :class:`Section` holds a heading, a line of context, :class:`Chart` data and :class:`Table` cells already
formatted as text (:func:`cell`), so the HTML (:mod:`trueroi.report.management_html`) and the PDF
(:mod:`trueroi.report.pdf`) draw the same figures the same way. :mod:`trueroi.report.charts` builds the
report's sections from these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trueroi.report.html import fmt


@dataclass
class Series:
    """One bar series: a name, one value per category (None: no bar) and optional error bar ends."""

    name: str
    values: list[float | None]
    lower: list[float | None] | None = None
    upper: list[float | None] | None = None


@dataclass
class Chart:
    """Grouped bars over categories. ``scale`` multiplies values for display (100 for percentages)."""

    key: str
    title: str
    categories: list[str]
    series: list[Series]
    y_title: str
    scale: float = 1.0
    horizontal: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class Table:
    """Formatted cells: ``header`` labels, ``align`` ("left"/"right") and ``negative`` flags per cell."""

    title: str
    header: list[str]
    align: list[str]
    cells: list[list[str]]
    negative: list[list[bool]]


@dataclass
class Section:
    """A report section: heading, a line of context, its charts and tables, and a message when empty."""

    key: str
    heading: str
    intro: str = ""
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    message: str = ""


def cell(value: Any, kind: str) -> str:
    """Plain text of one value: ``text`` as is, numbers as ``trueroi.report.html.fmt`` formats them."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, dict):  # a scope: {"channel": ..., "campaign": ...}
        return ", ".join(f"{k} {v}" for k, v in value.items() if v is not None) or "all"
    if kind == "text" or isinstance(value, str | bool):
        return str(value)
    if kind == "signed_pct":
        return f"{value * 100:+,.1f}%"
    if kind == "pts":
        return f"{value * 100:+,.1f} pts"
    return fmt(value, kind)


def table(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str, Any]]) -> Table:
    """A :class:`Table` of ``rows``; a column's kind is a string or a function of the row giving one."""
    kinds = [[k(r) if callable(k) else k for _, _, k in columns] for r in rows]
    return Table(
        title,
        [label for _, label, _ in columns],
        ["left" if k == "text" else "right" for _, _, k in columns],
        [
            [cell(r.get(key), kind) for (key, _, _), kind in zip(columns, ks, strict=True)]
            for r, ks in zip(rows, kinds, strict=True)
        ],
        [
            [_negative(r.get(key), kind) for (key, _, _), kind in zip(columns, ks, strict=True)]
            for r, ks in zip(rows, kinds, strict=True)
        ],
    )


def _negative(value: Any, kind: str) -> bool:
    """Red for a negative ROI or share; changes are not coloured (a falling CPA is good news)."""
    return isinstance(value, int | float) and value < 0 and kind == "pct"


def _guess_kind(key: str, value: Any) -> str:
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return "text"
    if any(w in key for w in ("pct", "share", "progress", "rate")):
        return "pct"
    return "count" if isinstance(value, int) else "money"


def generic_table(title: str, rows: list[dict[str, Any]], limit: int = 9) -> Table:
    """A table of dicts whose keys the report does not know in advance (pacing, anomalies)."""
    keys = [k for k in rows[0] if not isinstance(rows[0][k], dict | list)][:limit] if rows else []
    columns = [(k, k.replace("_", " ").capitalize(), _guess_kind(k, rows[0][k])) for k in keys]
    return table(title, rows, columns)
