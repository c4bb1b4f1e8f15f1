"""What the dashboard pages show, each computed by library calls, so a page (or an API route) only calls one
function and renders its result's ``to_dict()``.

- :func:`portfolio`: every workspace a user may see, one row each: spend, revenue, media and full ROI of its
  last full quarter (:func:`trueroi.metrics.kpis`, the function behind ``trueroi kpis``), its ROI goal and
  the goals on track (:func:`trueroi.goals.goal_report`, ``trueroi goal status``), budget pacing
  (:func:`trueroi.goals.pacing_report`, ``trueroi budget pacing``), open alerts
  (:func:`trueroi.monitor.outbox_report`, ``trueroi alert outbox``) and data freshness (the newest import,
  ``trueroi import list``);
- :func:`overview`: one workspace's KPIs by channel for a period, with the periods its data covers, its
  goals, budget pacing and open alerts.

Results are kept in :data:`trueroi.server.cache.RESULTS` while the workspace does not change (a page asked
again is served without a query); the numbers are the library's either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

import pandas as pd

from trueroi.errors import TrueRoiError, UsageError
from trueroi.goals import GoalReport, PacingReport, goal_report, pacing_report
from trueroi.io import jsonable
from trueroi.metrics import KpiReport, Period, data_range, kpis, last_full_quarter
from trueroi.monitor import outbox_report
from trueroi.server.cache import RESULTS
from trueroi.server.home import ServerHome
from trueroi.server.users import User, visible_workspaces
from trueroi.workspace import Workspace

PORTFOLIO_COLUMNS = (
    "workspace",
    "spend",
    "revenue",
    "media_roi",
    "full_roi",
    "goals_on_track",
    "pacing",
    "open_alerts",
    "last_import",
)
COMPARE_CHOICES = ("yoy", "previous", "none")
GRAINS = ("day", "week", "month", "quarter")
RECENT_QUARTERS, RECENT_MONTHS = 8, 24
ROI_GOAL_KPIS = ("full_roi", "media_roi")  # the goal a portfolio row holds ROI against, first found
ALERT_DAYS = 7  # an alert is open while its day lies in the last ALERT_DAYS days of the data
PACING_ORDER = ("over", "under", "on_pace")  # the worst status first


@dataclass(frozen=True)
class PortfolioRow:
    """One workspace's last full quarter: spend and revenue in its base currency, ROI as fractions
    (0.25 = 25%); ``roi_goal`` the workspace-wide goal on full (else media) ROI with its target and status;
    ``goals_on_track``/``goals_total`` of every declared goal; ``pacing`` the worst pacing status of its
    budgets (``over``, ``under``, ``on_pace``; None without budgets) and ``budgets`` how many; ``open_alerts``
    the alerts of the data's last seven days not dropped; ``last_import`` when data was last loaded (UTC);
    ``error`` says why the numbers are missing (e.g. a workspace without data)."""

    workspace: str
    role: str
    currency: str | None = None
    period: Period | None = None
    spend: float | None = None
    revenue: float | None = None
    media_roi: float | None = None
    full_roi: float | None = None
    roi_goal: dict[str, Any] | None = None
    goals_on_track: int | None = None
    goals_total: int = 0
    pacing: str | None = None
    budgets: int = 0
    open_alerts: int = 0
    last_import: datetime | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        period = None if self.period is None else {"from": self.period.start, "to": self.period.end}
        return jsonable({**self.__dict__, "period": period})


@dataclass(frozen=True)
class Portfolio:
    """Portfolio rows sorted by ``sort`` (None values last in either order)."""

    rows: list[PortfolioRow]
    sort: str = "workspace"
    descending: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"sort": self.sort, "descending": self.descending, "rows": [r.to_dict() for r in self.rows]}


def portfolio(
    home: ServerHome, user: User, *, sort: str = "workspace", descending: bool = False
) -> Portfolio:
    """Every workspace ``user`` may see with spend, revenue, media and full ROI of its last full quarter
    (attribution: the workspace's default model), goals, pacing, open alerts and its last import."""
    if sort not in PORTFOLIO_COLUMNS:
        raise UsageError(f"cannot sort by {sort!r}; expected one of {', '.join(PORTFOLIO_COLUMNS)}")
    rows = [_portfolio_row(home, name, role) for name, role in visible_workspaces(home, user).items()]
    present = [r for r in rows if getattr(r, sort) is not None]
    missing = [r for r in rows if getattr(r, sort) is None]
    order = PACING_ORDER if sort == "pacing" else None
    present.sort(key=lambda r: order.index(r.pacing) if order else getattr(r, sort), reverse=descending)
    return Portfolio(present + missing, sort, descending)


def _portfolio_row(home: ServerHome, name: str, role: str) -> PortfolioRow:
    path = home.workspace_path(name)
    try:
        facts = RESULTS.get(path, "portfolio", (), lambda: _workspace_facts(path))
    except TrueRoiError as exc:
        return PortfolioRow(name, role, error=str(exc).replace(str(path), name))
    report, goals, pacing, alerts, last_import = facts
    totals = jsonable(report.totals)
    statuses = [s.to_dict() for s in goals.statuses]
    return PortfolioRow(
        name,
        role,
        report.currency,
        report.period,
        totals.get("spend"),
        totals.get("revenue"),
        totals.get("media_roi"),
        totals.get("full_roi"),
        roi_goal=roi_goal(goals),
        goals_on_track=sum(s["status"] == "on_track" for s in statuses) if statuses else None,
        goals_total=len(statuses),
        pacing=worst_pacing(pacing),
        budgets=len(pacing.statuses),
        open_alerts=len(alerts),
        last_import=last_import,
    )


def _workspace_facts(path: Any) -> tuple[KpiReport, GoalReport, PacingReport, list[dict], datetime | None]:
    with Workspace.open(path) as ws:
        covered = data_range(ws)
        quarter = last_full_quarter(covered.end)
        report = kpis(ws, by="channel", date_from=quarter.start, date_to=quarter.end)
        return report, goal_report(ws), pacing_report(ws), open_alerts(ws, covered.end), last_import(ws)


def roi_goal(goals: GoalReport) -> dict[str, Any] | None:
    """The workspace-wide goal on full ROI (else media ROI): ``{name, kpi, target, actual, status}``."""
    for kpi in ROI_GOAL_KPIS:
        for status in goals.statuses:
            row = status.to_dict()
            if row["kpi"] == kpi and not any(row["scope"].values()):
                return {k: row[k] for k in ("name", "kpi", "target", "actual", "status", "from", "to")}
    return None


def worst_pacing(pacing: PacingReport) -> str | None:
    """The worst pacing status of the budgets (over, under, on_pace), None without budgets."""
    found = {p.status for p in pacing.statuses}
    return next((s for s in PACING_ORDER if s in found), None)


def open_alerts(ws: Workspace, last_day: date) -> list[dict[str, Any]]:
    """One row per alert (incident) of the ``ALERT_DAYS`` days up to ``last_day`` that was not dropped,
    newest first: ``{incident_key, rule, severity, day, status}`` (the outbox of ``trueroi alert outbox``
    holds a row per receiver; an alert counts once)."""
    first = (last_day - timedelta(days=ALERT_DAYS - 1)).isoformat()
    seen: dict[str, dict[str, Any]] = {}
    for row in outbox_report(ws).rows():
        day = str(row.get("day") or "")[:10]
        if row.get("status") == "dropped" or not first <= day <= last_day.isoformat():
            continue
        seen.setdefault(row["incident_key"], {k: row.get(k) for k in ("incident_key", "rule", "severity")})
        seen[row["incident_key"]].update(day=day, status=row.get("status"))
    return sorted(seen.values(), key=lambda r: r["day"], reverse=True)


def last_import(ws: Workspace) -> datetime | None:
    """When the newest import still loaded was loaded (UTC), None before the first."""
    loaded = [r.loaded_at for r in ws.imports().imports if r.status == "loaded"]
    return max(loaded) if loaded else None


@dataclass(frozen=True)
class Overview:
    """KPIs of one workspace by channel for a period (``report``), the data's first and last day, the
    quarters and months (newest first) a period picker offers, the goals, budget pacing and open
    alerts on the data's last day, and the same days' totals by a time grain (``trend``)."""

    report: KpiReport
    data: Period
    quarters: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    goals: GoalReport | None = None
    pacing: PacingReport | None = None
    alerts: list[dict[str, Any]] = field(default_factory=list)
    trend: KpiReport | None = None

    @cached_property
    def channel_rows(self) -> list[dict[str, Any]]:
        """The channel rows as plain values (JSON types; missing as None), most spend first (kept with the
        result: a page asked again by many viewers converts them once)."""
        return sorted(jsonable(self.report.rows.to_dict("records")), key=lambda r: -(r.get("spend") or 0))

    @cached_property
    def totals(self) -> dict[str, Any]:
        """The report's totals as plain values."""
        return jsonable(self.report.totals)

    @cached_property
    def trend_rows(self) -> list[dict[str, Any]]:
        """The rows of ``trend`` (one per day, week, month or quarter) as plain values, in time order."""
        return [] if self.trend is None else jsonable(self.trend.rows.to_dict("records"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_range": {"from": self.data.start.isoformat(), "to": self.data.end.isoformat()},
            "quarters": self.quarters,
            "months": self.months,
            "kpis": self.report.to_dict(),
            "trend": self.trend.to_dict() if self.trend else None,
            "goals": self.goals.to_dict() if self.goals else [],
            "pacing": self.pacing.to_dict() if self.pacing else [],
            "alerts": jsonable(self.alerts),
        }


def overview(
    ws: Workspace | str | os.PathLike[str],
    *,
    period: str | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    compare: str | None = "yoy",
    grain: str = "week",
) -> Overview:
    """KPIs by channel for a period (default: the last full quarter of the data) compared ``compare``
    (``yoy``, ``previous``, or ``none``/None), the same days by ``grain`` (day, week, month, quarter), and
    the workspace's goals, pacing and open alerts.

    ``ws`` is an open workspace or its directory; given the directory, the workspace is opened only when
    the answer is not cached yet (a dashboard asked again opens nothing)."""
    if compare not in (*COMPARE_CHOICES, None):
        raise UsageError(f"unknown comparison {compare!r}; expected one of {', '.join(COMPARE_CHOICES)}")
    if grain not in GRAINS:
        raise UsageError(f"unknown grain {grain!r}; expected one of {', '.join(GRAINS)}")
    args = (period, str(date_from or ""), str(date_to or ""), compare, grain)

    def compute() -> Overview:
        if isinstance(ws, Workspace):
            return _overview(ws, period, date_from, date_to, compare, grain)
        with Workspace.open(ws) as opened:
            return _overview(opened, period, date_from, date_to, compare, grain)

    return RESULTS.get(ws.path if isinstance(ws, Workspace) else ws, "overview", args, compute)


def _overview(
    ws: Workspace,
    period: str | None,
    date_from: str | date | None,
    date_to: str | date | None,
    compare: str | None,
    grain: str,
) -> Overview:
    covered = data_range(ws)
    if not (period or date_from or date_to):
        quarter = last_full_quarter(covered.end)
        date_from, date_to = quarter.start, quarter.end
    report = kpis(
        ws,
        by="channel",
        date_from=date_from,
        date_to=date_to,
        period=period,
        compare=None if compare == "none" else compare,
    )
    days = report.period
    trend = kpis(ws, by=grain, date_from=days.start, date_to=days.end)
    choices = period_choices(covered)
    return Overview(
        report,
        covered,
        choices["quarters"],
        choices["months"],
        goal_report(ws),
        pacing_report(ws),
        open_alerts(ws, covered.end),
        trend,
    )


def period_choices(covered: Period) -> dict[str, list[str]]:
    """The quarters and months (newest first, the last eight and 24) a period picker offers for data
    covering ``covered``: ``{"quarters": ["2026-Q3", ...], "months": ["2026-09", ...]}``."""
    quarters = pd.period_range(covered.start, covered.end, freq="Q")[::-1][:RECENT_QUARTERS]
    months = pd.period_range(covered.start, covered.end, freq="M")[::-1][:RECENT_MONTHS]
    return {
        "quarters": [f"{p.year}-Q{p.quarter}" for p in quarters],
        "months": [f"{p.year}-{p.month:02d}" for p in months],
    }
