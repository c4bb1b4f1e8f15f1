"""The non-media cost ledger: category names as bookkeepers write them, and one-day costs.

A ledger row needs a period (``period_start`` and ``period_end``, or one ``date`` for a one-day cost), a
category, an amount and a currency. Categories are trueroi's six codes (``agency_fee``, ``salaries``,
``tools``, ``production``, ``server``, ``other``) or a common English or German name for one of them
(``Agenturgebühr``, ``Gehälter``, ``Software``, ``Produktion``, ``Hosting``, ``Sonstiges``, ...; see
:data:`CATEGORY_NAMES`); a combined name such as ``Server/Hosting`` maps when all its parts name the same
category.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.ingest.parse import Problems
from trueroi.workspace.config import COST_CATEGORIES

CATEGORY_NAMES: dict[str, tuple[str, ...]] = {
    "agency_fee": (
        "agency",
        "agency fee",
        "agency fees",
        "agencyfee",
        "retainer",
        "agentur",
        "agenturen",
        "agenturgebühr",
        "agenturgebühren",
        "agenturgebuehr",
        "agenturgebuehren",
        "agenturkosten",
        "agenturhonorar",
        "honorar",
        "honorare",
    ),
    "salaries": (
        "salary",
        "salaries",
        "staff",
        "payroll",
        "personnel",
        "gehalt",
        "gehälter",
        "gehaelter",
        "personal",
        "personalkosten",
        "lohn",
        "löhne",
        "loehne",
        "lohnkosten",
    ),
    "tools": ("tool", "tools", "software", "saas", "licences", "licenses", "lizenz", "lizenzen"),
    "production": (
        "production",
        "creative",
        "creatives",
        "content",
        "produktion",
        "produktionskosten",
        "kreation",
        "contentproduktion",
    ),
    "server": ("server", "servers", "hosting", "cloud", "infrastructure", "infrastruktur", "webhosting"),
    "other": ("other", "others", "misc", "miscellaneous", "sonstiges", "sonstige", "diverses", "andere"),
}
_BY_NAME = {name: code for code, names in CATEGORY_NAMES.items() for name in names} | {
    code: code for code in COST_CATEGORIES
}
_PARTS = re.compile(r"\s*(?:/|&|\+|,|\bund\b|\band\b)\s*")
DATE_NAMES = ("date", "day", "datum", "date_day")


def category_code(name: str) -> str | None:
    """The cost category code a ledger's category name stands for, or None."""
    key = re.sub(r"[\s_-]+", " ", name.strip().lower())
    if key in _BY_NAME:
        return _BY_NAME[key]
    if key.replace(" ", "_") in _BY_NAME:
        return _BY_NAME[key.replace(" ", "_")]
    parts = {_BY_NAME.get(p) for p in _PARTS.split(key) if p}
    return parts.pop() if len(parts) == 1 and None not in parts else None


def cost_categories(values: pa.Array, problems: Problems, offset: int, column: str = "category") -> pa.Array:
    """Category codes of a ledger's category column; names that map to none are recorded as problems."""
    uniques = pc.unique(values)
    codes = pa.array([None if v is None else category_code(v) for v in uniques.to_pylist()], pa.string())
    mapped = pc.take(codes, pc.index_in(values, value_set=uniques))
    bad = pc.and_(pc.is_valid(values), pc.is_null(mapped))
    problems.add_mask(
        bad,
        values,
        offset,
        column,
        "is not a cost category; expected one of " + ", ".join(COST_CATEGORIES) + " or a name for one "
        "(Agenturgebühr, Gehälter, Software, Produktion, Hosting, Sonstiges, ...)",
    )
    return mapped


def one_day_periods(table: pa.Table) -> pa.Table:
    """A ledger with a single date column gets ``period_start`` and ``period_end`` from it."""
    names = table.column_names
    if "period_start" in names or "period_end" in names:
        return table
    day = next((n for n in DATE_NAMES if n in names), None)
    if day is None:
        return table
    return table.append_column("period_start", table[day]).append_column("period_end", table[day])
