"""KPIs per channel family: e-mail, SEO, organic social, and paid media.

Each family has its specialists' KPIs from its own tables (:mod:`trueroi.metrics.family_email`,
:mod:`~trueroi.metrics.family_seo`, :mod:`~trueroi.metrics.family_social`), weighted as everywhere (sums of
numerators and denominators, then one division; a zero denominator gives null), next to what trueroi computes
for every channel: sessions, attributed orders, revenue and margin, media spend, the costs booked to the
channel (tool subscriptions, content production, agency hours, imported as ``costs`` with the channel), and
media and full ROI. Those come from the KPI engine (:func:`~trueroi.metrics.engine.kpi_report`) for the
family's channels (the channels its tables name: "Email", "Organic Search", "Organic Social" by default), so
a full ROI is null wherever the engine leaves it null: no cost known (an e-mail "ROI" against zero cost is
never shown) or only a share of unbooked costs. ``paid`` is the KPI report itself.

:func:`family_kpis` answers ``trueroi kpis --family FAMILY`` and the web API alike; its result's
``to_dict()`` is ``{"family", "attribution_model", "currency", "period", "compare", "dimensions", "rows",
"totals", "notes"}`` plus the family's extras (SEO: ``movers``, ``pages``, ``visibility``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import UsageError, WorkspaceError
from trueroi.io import jsonable
from trueroi.metrics import family_email, family_seo, family_social
from trueroi.metrics.dimensions import TIME_GRAINS, Period, resolve_range, time_grain
from trueroi.metrics.engine import KpiReport, data_range, kpi_report
from trueroi.metrics.family_base import FamilySpec, channels_of, date_span, family_table, ordered
from trueroi.metrics.kpis import kpis
from trueroi.workspace import Workspace

FAMILIES = ("email", "seo", "social", "paid")
SPECS: dict[str, FamilySpec] = {
    "email": family_email.SPEC,
    "seo": family_seo.SPEC,
    "social": family_social.SPEC,
}
HEADLINE: dict[str, tuple[tuple[str, str, str], ...]] = {
    "email": (
        ("recipients", "Recipients", "count"),
        ("delivery_rate", "Delivered", "percent"),
        ("open_rate", "Open rate", "percent"),
        ("ctr", "CTR", "percent"),
        ("ctor", "CTOR", "percent"),
        ("unsubscribe_rate", "Unsub.", "percent"),
        ("revenue", "Revenue", "money"),
        ("revenue_per_recipient", "Rev./recipient", "money"),
        ("full_roi", "Full ROI", "percent"),
    ),
    "seo": (
        ("clicks", "Clicks", "count"),
        ("impressions", "Impr.", "count"),
        ("ctr", "CTR", "percent"),
        ("position", "Position", "ratio"),
        ("revenue", "Revenue", "money"),
        ("full_roi", "Full ROI", "percent"),
    ),
    "social": (
        ("impressions", "Impr.", "count"),
        ("engagements", "Engagements", "count"),
        ("engagement_rate", "Eng. rate", "percent"),
        ("followers", "Followers", "count"),
        ("follower_growth", "Growth", "count"),
        ("clicks", "Clicks", "count"),
        ("revenue", "Revenue", "money"),
        ("full_roi", "Full ROI", "percent"),
    ),
}
"""The KPIs a family's table shows: (key, label, kind), kind count, percent, ratio or money."""
MONEY = ("sessions", "conversions", "revenue", "margin", "spend", "other_costs", "full_cost")
MONEY_KPIS = (*MONEY, "media_roi", "full_roi")


@dataclass
class FamilyReport:
    """A family's KPI rows for a breakdown, their totals, the comparison when asked for, and extras."""

    family: str
    attribution_model: str
    currency: str
    period: Period
    dims: list[str]
    rows: pd.DataFrame
    totals: dict[str, Any]
    compare: str | None = None
    compare_period: Period | None = None
    notes: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    paid: KpiReport | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi kpis --family``; for ``paid`` the KPI report's own, with ``family``."""
        if self.paid is not None:
            return {"family": self.family, **self.paid.to_dict()}
        compare = None
        if self.compare is not None and self.compare_period is not None:
            compare = {
                "mode": self.compare,
                "from": self.compare_period.start.isoformat(),
                "to": self.compare_period.end.isoformat(),
            }
        return jsonable(
            {
                "family": self.family,
                "attribution_model": self.attribution_model,
                "currency": self.currency,
                "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
                "compare": compare,
                "dimensions": self.dims,
                "rows": self.rows,
                "totals": self.totals,
                "notes": self.notes,
                **self.extras,
            }
        )


class MoneySource:
    """Revenue, margin, costs and ROI of channels from the KPI engine, computed once per period and
    breakdown (a report asks for the same channel rows for several families)."""

    def __init__(self, ws: Workspace, attribution: str | None = None) -> None:
        self.ws = ws
        self.model = attribution or ws.config.attribution_model
        self._done: dict[tuple[date, date, tuple[str, ...]], pd.DataFrame] = {}
        self.available = not ws.is_empty()

    def rows(self, period: Period, dims: list[str]) -> pd.DataFrame:
        """KPI rows by ``dims`` plus channel (the engine's columns; campaigns as their join key)."""
        by = tuple(dict.fromkeys([*dims, "channel"]))
        key = (period.start, period.end, by)
        if key not in self._done:
            report = kpi_report(
                self.ws, by=list(by), start=period.start, end=period.end, attribution=self.model, extras=False
            )
            rows = report.rows
            if "campaign" in rows:  # the engine shows the ad platforms' spelling; join on the key
                rows = rows.assign(campaign=rows["campaign"].str.strip().str.lower())
            self._done[key] = rows
        return self._done[key]


def family_kpis(
    ws: Workspace,
    family: str,
    *,
    by: str = "channel",
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    period: str | None = None,
    compare: str | None = None,
    attribution: str | None = None,
    value: str = "revenue",
    money: MoneySource | None = None,
) -> FamilyReport:
    """The KPIs of one channel family by ``by`` over the days asked for (see the module docstring).

    Parameters
    ----------
    family
        ``email``, ``seo``, ``social`` or ``paid``.
    by, date_from, date_to, period, compare, attribution
        As for :func:`~trueroi.metrics.kpis.kpis`; the breakdowns each family offers are its spec's
        ``dimensions`` (e-mail: campaign; SEO: query, page, country, device, is_brand, search_type, site;
        social: platform, account, post, post_type; all: channel and the time grains).
    value
        The value basis of ``paid`` (see :func:`~trueroi.metrics.kpis.kpis`); the other families take
        ``revenue`` only.
    money
        A :class:`MoneySource` to share between several calls (the management report); None makes one.

    Raises
    ------
    UsageError
        For an unknown family, breakdown or comparison.
    WorkspaceError
        When the workspace holds nothing for the family and no other data to give it a period.
    """
    if family not in FAMILIES:
        raise UsageError(f"unknown channel family {family!r}; expected one of {', '.join(FAMILIES)}")
    if family == "paid":
        report = kpis(
            ws,
            by=by,
            date_from=date_from,
            date_to=date_to,
            period=period,
            compare=compare,
            attribution=attribution,
            value=value,
        )
        return _paid(report)
    if value != "revenue":
        raise UsageError(f"value basis {value!r} applies to paid media only; {family} KPIs use revenue")
    if compare not in (None, "yoy", "previous"):
        raise UsageError(f"unknown comparison {compare!r}; expected yoy or previous")
    spec = SPECS[family]
    dims = spec.parse_by(by)
    money = money or MoneySource(ws, attribution)
    start, end = resolve_range(date_from, date_to, period)
    span = _default_span(ws, spec, money)
    days = Period(start or span.start, end or span.end)
    rows, totals, notes = _frames(ws, spec, days, dims, money)
    prev_period = None
    if compare:
        prev_period = days.shifted(compare, time_grain(dims))
        prev_rows, prev_totals, _ = _frames(ws, spec, prev_period, dims, money)
        rows = compare_frames(rows, prev_rows, dims, spec.compared)
        totals = compare_frames(totals, prev_totals, [], spec.compared)
        if prev_period.start < span.start:
            notes.append(f"the comparison period {prev_period} starts before the data ({span.start})")
    extras = spec.extras(ws, days, money) if spec.extras is not None else {}
    notes += extras.pop("notes", [])
    totals_row = {k: v for k, v in totals.iloc[0].to_dict().items() if k not in dims} if len(totals) else {}
    return FamilyReport(
        family,
        money.model,
        ws.config.base_currency,
        days,
        dims,
        rows,
        totals_row,
        compare,
        prev_period,
        list(dict.fromkeys(notes)),
        extras,
    )


def families_with_data(ws: Workspace, period: Period) -> list[str]:
    """The families (of e-mail, SEO, social) whose own table has rows dated in ``period``."""
    found = []
    for name, spec in SPECS.items():
        t = family_table(ws, spec.table)
        if int(t.filter(t.date_day.between(period.start, period.end)).count().execute()):
            found.append(name)
    return found


def _paid(report: KpiReport) -> FamilyReport:
    return FamilyReport(
        "paid",
        report.attribution_model,
        report.currency,
        report.period,
        report.dims,
        report.rows,
        report.totals,
        report.compare,
        report.compare_period,
        list(report.notes),
        paid=report,
    )


def _default_span(ws: Workspace, spec: FamilySpec, money: MoneySource) -> Period:
    """The family table's days, else the workspace's data range."""
    span = date_span(ws, spec.table)
    if span is not None:
        return span
    if money.available:
        return data_range(ws)
    raise WorkspaceError(
        f"workspace {ws.path} holds no {spec.label} data ({spec.table} is empty) and no ads, orders or "
        f"sessions; import {spec.formats} exports first"
    )


def _frames(
    ws: Workspace, spec: FamilySpec, period: Period, dims: list[str], money: MoneySource
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The family's rows for ``dims`` and its one-row totals, each with the money KPIs where the breakdown
    allows them; and the notes."""
    own, notes = spec.rows(ws, period, dims)
    own_totals, _ = spec.rows(ws, period, [])
    channels = channels_of(ws, spec)
    out = []
    for frame, d in ((own, dims), (own_totals, [])):
        if money.available and all(x in spec.money_dims for x in d):
            frame = _with_money(frame, _family_money(money.rows(period, d), channels, d), d)
        else:
            frame = frame.assign(**{k: np.nan for k in MONEY_KPIS if k not in frame})
            if d and money.available:
                notes.append(spec.money_note)
        out.append(ordered(spec.finish(frame), d, (*spec.kpis, *MONEY_KPIS)))
    if not money.available:
        notes.append("the workspace holds no orders or sessions: revenue, margin and ROI are not known")
    rows = out[0].sort_values(dims, kind="stable").reset_index(drop=True) if dims else out[0]
    notes += _unknown_cost_notes(out[1], [], spec)
    if dims and all(x in spec.money_dims for x in dims):
        notes += _unknown_cost_notes(rows, dims, spec)
    return rows, out[1], notes


def _family_money(cash: pd.DataFrame, channels: list[str], dims: list[str]) -> pd.DataFrame:
    """The engine's rows of the family's channels, summed over channels when ``dims`` has no channel.

    A full ROI of a sum is kept only where every channel in it with margin or costs has a full ROI of its own
    (the engine leaves it null without any known cost), so one channel's costs never stand in for
    another's."""
    rows = cash[cash["channel"].isin(channels)].copy()
    if "channel" in dims or rows.empty:
        return rows[[*dims, *MONEY_KPIS]] if not rows.empty else pd.DataFrame(columns=[*dims, *MONEY_KPIS])
    active = (rows["margin"].fillna(0) != 0) | (rows["full_cost"].fillna(0) > 0)
    rows["_unknown"] = rows["full_roi"].isna() & active
    grouped = rows.groupby(dims, dropna=False) if dims else rows.assign(_all=0).groupby("_all")
    summed = grouped[[*MONEY, "_unknown"]].sum(min_count=1).reset_index()
    summed = summed.drop(columns=["_all"], errors="ignore")
    summed["media_roi"] = _ratio(summed["margin"] - summed["spend"], summed["spend"])
    summed["full_roi"] = _ratio(summed["margin"] - summed["full_cost"], summed["full_cost"])
    summed.loc[summed["_unknown"].fillna(0) > 0, "full_roi"] = np.nan
    return summed.drop(columns=["_unknown"])


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return num.astype(float) / den.where(den != 0)


def _with_money(frame: pd.DataFrame, cash: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """The family's own rows beside the money rows: an outer join on ``dims`` (a campaign with revenue but no
    report row, or costs booked to no campaign, stay visible)."""
    if not dims:
        values = cash.iloc[0].to_dict() if len(cash) else dict.fromkeys(MONEY_KPIS, np.nan)
        return frame.assign(**{k: values.get(k, np.nan) for k in MONEY_KPIS})
    for df in (frame, cash):
        grain = time_grain(dims)
        if grain and len(df):
            df[grain] = pd.to_datetime(df[grain]).dt.date
    return frame.merge(cash, on=dims, how="outer")


def _unknown_cost_notes(rows: pd.DataFrame, dims: list[str], spec: FamilySpec) -> list[str]:
    """A note naming the rows (the family as a whole without ``dims``) with margin but no full ROI: no cost
    booked to them is known, and an ROI against zero cost is never shown."""
    if "full_roi" not in rows or rows.empty:
        return []
    unknown = rows["full_roi"].isna() & rows["margin"].notna() & (rows["margin"].fillna(0) != 0)
    if not unknown.any():
        return []
    if dims:
        keys = [d for d in dims if d not in TIME_GRAINS] or dims
        labels = list(
            dict.fromkeys(" / ".join(map(str, r)) for r in rows.loc[unknown, keys].itertuples(index=False))
        )
        shown = ", ".join(labels[:5]) + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")
    else:
        shown = f"{spec.label} as a whole"
    return [
        f"full ROI is left empty for {shown}: no cost booked to it is known ({spec.cost_hint}); an ROI "
        "against zero cost is never shown"
    ]


def compare_frames(
    cur: pd.DataFrame, prev: pd.DataFrame, dims: list[str], compared: tuple[str, ...]
) -> pd.DataFrame:
    """``cur`` with ``<kpi>_prev``, ``<kpi>_change`` and ``<kpi>_change_pct`` for ``compared`` KPIs; time
    buckets are matched by rank (the i-th week of one period with the i-th of the other)."""
    compared = tuple(k for k in compared if k in cur.columns)
    grain = time_grain(dims)
    keys = list(dims)
    cur, prev = cur.copy(), prev.copy()
    if grain:
        for df in (cur, prev):
            df["_bucket"] = (
                df[grain].rank(method="dense").astype("Int64") if len(df) else pd.Series(dtype="Int64")
            )
        keys = [d for d in dims if d != grain] + ["_bucket"]
    prev = prev.reindex(columns=keys + list(compared)).rename(columns={k: f"{k}_prev" for k in compared})
    out = cur.merge(prev, on=keys, how="left") if keys else pd.concat([cur, prev], axis=1)
    for k in compared:
        out[f"{k}_change"] = out[k].astype(float) - out[f"{k}_prev"].astype(float)
        base = out[f"{k}_prev"].astype(float).abs()
        out[f"{k}_change_pct"] = out[f"{k}_change"] / base.where(base > 0)
    return out.drop(columns=["_bucket"], errors="ignore")
