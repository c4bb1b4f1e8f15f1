"""What the dashboard pages show, each computed by one library call, so a page (or an API route) only
calls one function and renders its result's ``to_dict()``.

- :func:`portfolio`: every workspace a user may see, one row each, with the KPIs of its last full quarter;
- :func:`overview`: one workspace's KPIs by channel for a period, with the periods its data covers.

The numbers come from :func:`trueroi.metrics.kpis`, the function behind ``trueroi kpis``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from trueroi.errors import TrueRoiError, UsageError
from trueroi.io import jsonable
from trueroi.metrics import KpiReport, Period, data_range, kpis, last_full_quarter
from trueroi.server.home import ServerHome
from trueroi.server.users import User, visible_workspaces
from trueroi.workspace import Workspace

PORTFOLIO_COLUMNS = ("workspace", "spend", "revenue", "media_roi", "full_roi")
COMPARE_CHOICES = ("yoy", "previous", "none")
RECENT_QUARTERS, RECENT_MONTHS = 8, 24


@dataclass(frozen=True)
class PortfolioRow:
    """One workspace's last full quarter: spend and revenue in its base currency, ROI as fractions
    (0.25 = 25%); ``error`` says why the numbers are missing (e.g. a workspace without data)."""

    workspace: str
    role: str
    currency: str | None = None
    period: Period | None = None
    spend: float | None = None
    revenue: float | None = None
    media_roi: float | None = None
    full_roi: float | None = None
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
    (attribution: the workspace's default model)."""
    if sort not in PORTFOLIO_COLUMNS:
        raise UsageError(f"cannot sort by {sort!r}; expected one of {', '.join(PORTFOLIO_COLUMNS)}")
    rows = [_portfolio_row(home, name, role) for name, role in visible_workspaces(home, user).items()]
    present = [r for r in rows if getattr(r, sort) is not None]
    missing = [r for r in rows if getattr(r, sort) is None]
    present.sort(key=lambda r: getattr(r, sort), reverse=descending)
    return Portfolio(present + missing, sort, descending)


def _portfolio_row(home: ServerHome, name: str, role: str) -> PortfolioRow:
    path = home.workspace_path(name)
    try:
        with Workspace.open(path) as ws:
            quarter = last_full_quarter(data_range(ws).end)
            report = kpis(ws, by="channel", date_from=quarter.start, date_to=quarter.end)
    except TrueRoiError as exc:
        return PortfolioRow(name, role, error=str(exc).replace(str(path), name))
    totals = jsonable(report.totals)
    return PortfolioRow(
        name,
        role,
        report.currency,
        report.period,
        totals.get("spend"),
        totals.get("revenue"),
        totals.get("media_roi"),
        totals.get("full_roi"),
    )


@dataclass(frozen=True)
class Overview:
    """KPIs of one workspace by channel for a period (``report``), the data's first and last day, and the
    quarters and months (newest first) a period picker offers."""

    report: KpiReport
    data: Period
    quarters: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_range": {"from": self.data.start.isoformat(), "to": self.data.end.isoformat()},
            "quarters": self.quarters,
            "months": self.months,
            "kpis": self.report.to_dict(),
        }


def overview(
    ws: Workspace,
    *,
    period: str | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    compare: str | None = "yoy",
) -> Overview:
    """KPIs by channel for a period (default: the last full quarter of the data) compared ``compare``
    (``yoy``, ``previous``, or ``none``/None for no comparison)."""
    if compare not in (*COMPARE_CHOICES, None):
        raise UsageError(f"unknown comparison {compare!r}; expected one of {', '.join(COMPARE_CHOICES)}")
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
    quarters = pd.period_range(covered.start, covered.end, freq="Q")[::-1][:RECENT_QUARTERS]
    months = pd.period_range(covered.start, covered.end, freq="M")[::-1][:RECENT_MONTHS]
    return Overview(
        report,
        covered,
        [f"{p.year}-Q{p.quarter}" for p in quarters],
        [f"{p.year}-{p.month:02d}" for p in months],
    )
