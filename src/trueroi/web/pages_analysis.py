"""Analysis pages of one workspace: channels and campaigns, attribution, CLV and data quality.

Each route declares its level, calls one library function (through :mod:`trueroi.server.views`, which
keeps the answer while the workspace does not change) and renders a template. Slow parts (ROI under every
attribution model) load as a fragment of their own with HTMX, so the page answers at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from trueroi.attribution import model_names
from trueroi.metrics import Period
from trueroi.quality import quality_report
from trueroi.server.cache import RESULTS
from trueroi.server.dashboards import period_choices
from trueroi.server.views import (
    attribution_view,
    channel_view,
    clv_view,
    data_period,
    roi_by_model,
)
from trueroi.web import charts
from trueroi.web.access import Caller, Level, require
from trueroi.web.render import page

router = APIRouter(include_in_schema=False)

ReadCaller = Annotated[Caller, require(Level.READ)]
From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]
COMPARE = [("none", "No comparison"), ("yoy", "Year over year"), ("previous", "Previous period")]
# (key, header, kind) of the channel table; platform-claimed columns sit beside the shop's.
CHANNEL_COLUMNS = [
    ("spend", "Spend", "money"),
    ("impressions", "Impr.", "count"),
    ("clicks", "Clicks", "count"),
    ("conversions", "Conv.", "count"),
    ("revenue", "Revenue", "money"),
    ("roas", "ROAS", "ratio"),
    ("media_roi", "Media ROI", "percent"),
    ("full_roi", "Full ROI", "percent"),
    ("cpa", "CPA", "money"),
    ("platform_conversions", "Conv. (platform)", "count"),
    ("platform_value", "Revenue (platform)", "money"),
    ("platform_roas", "ROAS (platform)", "ratio"),
]
CLV_COLUMNS = [
    ("spend", "Spend", "money"),
    ("customers", "New customers", "count"),
    ("cac", "CAC", "money"),
    ("avg_clv", "Avg CLV", "money"),
    ("avg_clv_lower", "CLV low", "money"),
    ("avg_clv_upper", "CLV high", "money"),
    ("clv_cac", "CLV / CAC", "ratio"),
    ("payback_months", "Payback (months)", "ratio"),
    ("lifetime_roi", "Lifetime ROI", "percent"),
    ("media_roi", "Media ROI", "percent"),
]


def period_context(
    caller: Caller, shown: Period, period: str | None, date_from: str | None, date_to: str | None
) -> dict[str, Any]:
    """What the period picker needs: the quarters and months on offer, the one chosen, the days shown."""
    covered = data_period(caller.home.workspace_path(caller.workspace))
    default = not (period or date_from or date_to)  # the data's last full quarter
    quarter = f"{shown.start.year}-Q{(shown.start.month - 1) // 3 + 1}"
    return {
        "choices": period_choices(covered),
        "covered": covered,
        "shown": shown,
        "selected_period": period or (quarter if default else ""),
        "query": {"period": period or "", "from": date_from or "", "to": date_to or ""},
    }


def _days(period: str | None, date_from: str | None, date_to: str | None) -> dict[str, Any]:
    """A named period wins over days typed beside it (the picker sends both)."""
    if period:
        return {"period": period, "date_from": None, "date_to": None}
    return {"period": None, "date_from": date_from or None, "date_to": date_to or None}


@router.get("/w/{ws}/channels")
def channels_page(
    request: Request,
    caller: ReadCaller,
    channel: str | None = None,
    campaign: str | None = None,
    period: str | None = None,
    date_from: From = None,
    date_to: To = None,
    compare: str = "none",
    attribution: str | None = None,
) -> Response:
    """KPIs by channel, drilled down to a channel's campaigns and a campaign's days; brand vs non-brand;
    platform-claimed next to the shop (``trueroi kpis --by channel|channel,campaign|campaign,day``)."""
    days = _days(period, date_from, date_to)
    view = channel_view(
        caller.home.workspace_path(caller.workspace),
        channel=channel or None,
        campaign=campaign or None,
        compare=None if compare == "none" else compare,
        attribution=attribution or None,
        **days,
    )
    rows = view.rows()
    context = {
        "view": view,
        "report": view.report,
        "rows": rows,
        "brand_rows": sorted(view.brand.rows.to_dict("records"), key=lambda r: str(r.get("is_brand"))),
        "columns": CHANNEL_COLUMNS,
        "models": model_names(),
        "attribution": view.report.attribution_model,
        "compare": compare,
        "compare_choices": COMPARE,
        "charts": True,
        "figure": _channel_figure(view.level, rows),
        **period_context(caller, view.report.period, period, date_from, date_to),
    }
    return page(request, "channels.html", context)


def _channel_figure(level: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    key = {"channel": "channel", "campaign": "campaign", "day": "day"}[level]
    names = [str(r.get(key)) for r in rows]
    series = {
        "Spend": [r.get("spend") for r in rows],
        "Revenue (shop, attributed)": [r.get("revenue") for r in rows],
        "Revenue (platform-claimed)": [r.get("platform_value") for r in rows],
    }
    return charts.grouped_bars(names, series, "base currency")


@router.get("/w/{ws}/attribution")
def attribution_page(
    request: Request,
    caller: ReadCaller,
    period: str | None = None,
    date_from: From = None,
    date_to: To = None,
) -> Response:
    """Credits of every attribution model side by side and the conversion paths (``trueroi attribution``
    and ``--view paths``); ROI by model loads as its own fragment."""
    days = _days(period, date_from, date_to)
    view = attribution_view(caller.home.workspace_path(caller.workspace), **days)
    conversions, value = view.wide("conversions"), view.wide("value")
    models = [m for m in model_names() if conversions and m in conversions[0]]
    figure = charts.grouped_bars(
        [r["channel"] for r in value], {m: [r.get(m) for r in value] for m in models}, "attributed revenue"
    )
    context = {
        "view": view,
        "conversions": conversions,
        "value": value,
        "models": models,
        "paths": view.paths,
        "charts": True,
        "figure": figure,
        **period_context(caller, view.period, period, date_from, date_to),
    }
    return page(request, "attribution.html", context)


@router.get("/w/{ws}/attribution/roi")
def attribution_roi_fragment(
    request: Request,
    caller: ReadCaller,
    period: str | None = None,
    date_from: From = None,
    date_to: To = None,
) -> Response:
    """ROAS, media and full ROI per channel under each model, with the spread (``--view roi``)."""
    days = _days(period, date_from, date_to)
    comparison = roi_by_model(caller.home.workspace_path(caller.workspace), **days)
    roi = comparison.roi.to_dict("records")
    channels = list(dict.fromkeys(r["channel"] for r in roi))
    models = list(dict.fromkeys(r["model"] for r in roi))
    by = {(r["model"], r["channel"]): r.get("media_roi") for r in roi}
    figure = charts.grouped_bars(
        channels, {m: [by.get((m, c)) for c in channels] for m in models}, "media ROI (fraction)"
    )
    context = {
        "roi": roi,
        "spread": comparison.spread.to_dict("records"),
        "decisive": comparison.decisive_channels,
        "figure": figure,
        "charts": True,
    }
    fragment = bool(request.headers.get("hx-request"))
    return page(request, "_roi_fragment.html" if fragment else "attribution_roi.html", context)


@router.get("/w/{ws}/clv")
def clv_page(
    request: Request,
    caller: ReadCaller,
    period: str | None = None,
    date_from: From = None,
    date_to: To = None,
) -> Response:
    """CLV, CAC, payback and lifetime ROI by acquisition channel (``trueroi kpis --value clv``)."""
    days = _days(period, date_from, date_to)
    report = clv_view(caller.home.workspace_path(caller.workspace), **days)
    rows = sorted(report.rows.to_dict("records"), key=lambda r: -(r.get("spend") or 0))
    figure = charts.grouped_bars(
        [r["channel"] for r in rows],
        {"Avg CLV": [r.get("avg_clv") for r in rows], "CAC": [r.get("cac") for r in rows]},
        "base currency per customer",
    )
    context = {
        "report": report,
        "rows": rows,
        "columns": CLV_COLUMNS,
        "charts": True,
        "figure": figure,
        **period_context(caller, report.period, period, date_from, date_to),
    }
    return page(request, "clv.html", context)


@router.get("/w/{ws}/quality")
def quality_page(request: Request, caller: ReadCaller) -> Response:
    """Where the workspace's data disagrees with itself (``trueroi quality``)."""
    path = caller.home.workspace_path(caller.workspace)
    with caller.open_workspace() as ws:
        report = RESULTS.get(path, "quality", (), lambda: quality_report(ws))
    return page(request, "quality.html", {"findings": report.rows()})
