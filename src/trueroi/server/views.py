"""What the analysis pages of one workspace show, each from the library calls the CLI makes for the same
question, kept in :data:`trueroi.server.cache.RESULTS` while the workspace does not change.

- :func:`channel_view`: the KPI table at one level of the drill-down channel -> campaign -> day
  (:func:`trueroi.metrics.kpis`, ``trueroi kpis --by ...``) with the brand vs non-brand split
  (``--by is_brand``) and platform-claimed next to the shop's numbers (the rows' ``platform_*`` columns);
- :func:`attribution_view`: credits by every model side by side and the conversion paths
  (:func:`trueroi.attribution.credit_journeys` and :func:`trueroi.attribution.report.paths_report`,
  ``trueroi attribution`` and ``--view paths``); :func:`roi_by_model` the ROI by model
  (:func:`trueroi.metrics.by_model.compare_roi`, ``--view roi``), slow on big data so pages load it apart;
- :func:`clv_view`: CLV and lifetime ROI by acquisition channel (``trueroi kpis --by channel --value clv``).

Every function takes an open workspace or its directory (then it is opened only when the answer is not
cached) and a period as the CLI takes it (``period`` or ``date_from``/``date_to``; by default the data's
last full quarter).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from trueroi.attribution import AttributionResult, credit_journeys, load_journeys
from trueroi.attribution.report import PathsReport, paths_report
from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.metrics import KpiReport, Period, data_range, kpis, last_full_quarter
from trueroi.metrics.by_model import RoiComparison, compare_roi
from trueroi.metrics.dimensions import resolve_range
from trueroi.server.cache import RESULTS
from trueroi.workspace import Workspace

T = TypeVar("T")
WorkspaceLike = Workspace | str | os.PathLike[str]
LEVELS = ("channel", "campaign", "day")


def answer(ws: WorkspaceLike, question: str, args: tuple, compute: Callable[[Workspace], T]) -> T:
    """``compute(workspace)``, cached per workspace (see :mod:`trueroi.server.cache`); a directory is
    opened only on a miss."""

    def run() -> T:
        if isinstance(ws, Workspace):
            return compute(ws)
        with Workspace.open(ws) as opened:
            return compute(opened)

    return RESULTS.get(ws.path if isinstance(ws, Workspace) else ws, question, args, run)


def chosen_period(
    ws: Workspace, period: str | None, date_from: str | date | None, date_to: str | date | None
) -> Period:
    """The days asked for (explicit days win over ``period``); by default the data's last full quarter,
    and an open end is the data's first or last day."""
    start, end = resolve_range(date_from or None, date_to or None, period or None)
    if start is not None and end is not None:
        return Period(start, end)
    covered = data_range(ws)
    if start is None and end is None:
        return last_full_quarter(covered.end)
    return Period(start or covered.start, end or covered.end)


@dataclass(frozen=True)
class ChannelView:
    """The KPI table at one drill-down ``level`` (``channel``; ``campaign`` of ``channel``; ``day`` of
    ``campaign``) and the brand vs non-brand split of the same days (``brand``, rows keyed ``is_brand``)."""

    level: str
    channel: str | None
    campaign: str | None
    report: KpiReport
    brand: KpiReport

    def rows(self) -> list[dict[str, Any]]:
        """The rows of this level (a campaign level keeps its channel's campaigns, a day level its
        campaign's days), most spend first (days in order)."""
        rows = jsonable(self.report.rows.to_dict("records"))
        if self.level == "campaign":
            rows = [r for r in rows if r.get("channel") == self.channel]
        if self.level == "day":
            return [r for r in rows if r.get("campaign") == self.campaign]
        return sorted(rows, key=lambda r: -(r.get("spend") or 0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "channel": self.channel,
            "campaign": self.campaign,
            "rows": self.rows(),
            "kpis": self.report.to_dict(),
            "brand": self.brand.to_dict(),
        }


def channel_view(
    ws: WorkspaceLike,
    *,
    channel: str | None = None,
    campaign: str | None = None,
    period: str | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    compare: str | None = None,
    attribution: str | None = None,
) -> ChannelView:
    """KPIs by channel; of one ``channel`` by campaign; of one ``campaign`` (of that channel) by day."""
    if campaign and not channel:
        raise UsageError("a campaign is shown within its channel; name the channel too")
    level = "day" if campaign else "campaign" if channel else "channel"
    by = {"channel": "channel", "campaign": "channel,campaign", "day": "campaign,day"}[level]
    args = (channel, campaign, period, str(date_from or ""), str(date_to or ""), compare, attribution)

    def compute(opened: Workspace) -> ChannelView:
        days = chosen_period(opened, period, date_from, date_to)
        common = {"date_from": days.start, "date_to": days.end, "attribution": attribution}
        report = kpis(opened, by=by, compare=compare or None, **common)
        brand = kpis(opened, by="is_brand", **common)
        return ChannelView(level, channel, campaign, report, brand)

    return answer(ws, "channels", args, compute)


@dataclass(frozen=True)
class AttributionView:
    """Credits of every model (``credits``: conversions and value per channel and model) and the conversion
    paths (``paths``) of the conversions in ``period``."""

    period: Period
    credits: AttributionResult
    paths: PathsReport

    def wide(self, what: str) -> list[dict[str, Any]]:
        """One row per channel: ``{channel, MODEL: credited conversions or value ...}``."""
        table = self.credits.wide(what)
        return jsonable([{"channel": ch, **row} for ch, row in table.to_dict("index").items()])

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "credits": self.credits.to_dict(),
            "paths": jsonable(self.paths.to_dict()),
        }


def attribution_view(
    ws: WorkspaceLike,
    *,
    models: str = "all",
    period: str | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
) -> AttributionView:
    """Credits by ``models`` (default all) and the paths report of the period's conversions."""
    args = (models, period, str(date_from or ""), str(date_to or ""))

    def compute(opened: Workspace) -> AttributionView:
        days = chosen_period(opened, period, date_from, date_to)
        journeys = load_journeys(opened, start=days.start, end=days.end)
        return AttributionView(days, credit_journeys(journeys, models), paths_report(journeys))

    return answer(ws, "attribution", args, compute)


def roi_by_model(
    ws: WorkspaceLike,
    *,
    models: str = "all",
    period: str | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
) -> RoiComparison:
    """ROAS, media and full ROI per channel under each of ``models``, with the spread between models."""
    args = (models, period, str(date_from or ""), str(date_to or ""))

    def compute(opened: Workspace) -> RoiComparison:
        days = chosen_period(opened, period, date_from, date_to)
        return compare_roi(opened, models, start=days.start, end=days.end)

    return answer(ws, "roi_by_model", args, compute)


def clv_view(
    ws: WorkspaceLike,
    *,
    period: str | None = None,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    attribution: str | None = None,
) -> KpiReport:
    """KPIs by acquisition channel with the lifetime value of the customers acquired (CLV, CAC, CLV/CAC,
    payback, lifetime ROI)."""
    args = (period, str(date_from or ""), str(date_to or ""), attribution)

    def compute(opened: Workspace) -> KpiReport:
        days = chosen_period(opened, period, date_from, date_to)
        return kpis(
            opened,
            by="channel",
            date_from=days.start,
            date_to=days.end,
            attribution=attribution,
            value="clv",
        )

    return answer(ws, "clv", args, compute)


def data_period(ws: WorkspaceLike) -> Period:
    """The first and last day with data (:func:`trueroi.metrics.data_range`), cached."""
    return answer(ws, "data_range", (), data_range)
