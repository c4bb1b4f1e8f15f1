"""What every channel family's KPI module declares, and the helpers they share.

A :class:`FamilySpec` names a family's table, its breakdowns, the breakdowns revenue and costs can follow
(sessions and orders know channels, campaigns and days, not search queries or posts), the KPIs compared with
another period, and three functions: ``rows`` (the family's own KPIs per breakdown, from its table, as an
Ibis aggregation executed once), ``finish`` (the KPIs that combine its own figures with revenue, such as
revenue per recipient, and the column order) and ``extras`` (more answers of the family, e.g. SEO's movers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import pandas as pd

from trueroi.errors import UsageError
from trueroi.metrics.dimensions import ALIASES, TIME_GRAINS, Period, bucket, time_grain
from trueroi.workspace import Workspace
from trueroi.workspace.schema import schema

Rows = Callable[[Workspace, Period, list[str]], tuple[pd.DataFrame, list[str]]]


@dataclass(frozen=True)
class FamilySpec:
    """One channel family: its table, breakdowns and KPI functions (see the module docstring)."""

    name: str
    label: str
    table: str
    formats: str
    channel: str
    dimensions: tuple[str, ...]
    money_dims: tuple[str, ...]
    compared: tuple[str, ...]
    kpis: tuple[str, ...]
    rows: Rows
    finish: Callable[[pd.DataFrame], pd.DataFrame]
    money_note: str
    cost_hint: str
    extras: Callable[[Workspace, Period, Any], dict[str, Any]] | None = None

    def parse_by(self, by: str | list[str] | None) -> list[str]:
        """The breakdown: the family's dimensions, ``channel`` and at most one time grain, each once."""
        if by is None:
            return []
        items = [b.strip().lower() for b in (by.split(",") if isinstance(by, str) else by) if b.strip()]
        known = (*TIME_GRAINS, "channel", *self.dimensions)
        dims: list[str] = []
        for item in items:
            name = ALIASES.get(item, item)
            if name not in known:
                raise UsageError(
                    f"unknown breakdown dimension {item!r} for {self.label} KPIs; "
                    f"expected any of {', '.join(known)}"
                )
            if name in dims:
                raise UsageError(f"breakdown dimension {item!r} given twice")
            dims.append(name)
        if sum(d in TIME_GRAINS for d in dims) > 1:
            raise UsageError("a breakdown takes at most one time grain (day, week, month, quarter or year)")
        return dims


def family_table(ws: Workspace, name: str) -> ibis.Table:
    """The canonical table ``name``; an empty one of its schema where the warehouse predates it."""
    if name in ws.con.list_tables():
        return ws.table(name)
    return ibis.memtable(schema(name).to_pyarrow().empty_table())


def date_span(ws: Workspace, name: str) -> Period | None:
    """First and last day of a family table (None when empty); a range row counts to its last day."""
    t = family_table(ws, name)
    last = t.period_end if "period_end" in t.columns else t.date_day
    df = t.aggregate(lo=t.date_day.min(), hi=last.max()).execute()
    if df["lo"].isna().iloc[0]:
        return None
    return Period(_day(df["lo"].iloc[0]), _day(df["hi"].iloc[0]))


def _day(value: Any) -> date:
    return pd.Timestamp(value).date()


def channels_of(ws: Workspace, spec: FamilySpec) -> list[str]:
    """The channels a family's rows carry (its table's channel values), else its default channel."""
    t = family_table(ws, spec.table)
    found = [str(c) for c in t.select("channel").distinct().execute()["channel"].dropna()]
    return sorted(set(found) | {spec.channel}) if found else [spec.channel]


def with_grain(t: ibis.Table, dims: list[str]) -> ibis.Table:
    """``t`` with the time grain column of ``dims`` (the bucket's first day), when there is one."""
    grain = time_grain(dims)
    return t.mutate(**{grain: bucket(t.date_day, grain)}) if grain else t


def aggregate(t: ibis.Table, dims: list[str], metrics: dict[str, ibis.Value]) -> pd.DataFrame:
    """``metrics`` per row of ``dims`` (one row without dims), executed; time buckets as dates."""
    grouped = t.group_by(dims).aggregate(**metrics) if dims else t.aggregate(**metrics)
    df = grouped.execute()
    grain = time_grain(dims)
    if grain and len(df):
        df[grain] = pd.to_datetime(df[grain]).dt.date
    return df


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den (sums), null where den is 0 or null: every rate of a family is one of these."""
    den = pd.to_numeric(den, errors="coerce").astype(float)
    return pd.to_numeric(num, errors="coerce").astype(float) / den.where(den != 0)


def ordered(df: pd.DataFrame, first: list[str], kpis: tuple[str, ...]) -> pd.DataFrame:
    """``df`` with ``first`` then ``kpis`` (present ones) first, the rest after."""
    lead = [c for c in dict.fromkeys([*first, *kpis]) if c in df.columns]
    return df[lead + [c for c in df.columns if c not in lead]]
