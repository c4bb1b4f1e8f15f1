"""Server-rendered pages: login and logout, the portfolio (``/``) and a workspace's overview (``/w/{ws}/``).

The other workspace pages live in ``pages_analysis.py`` (channels, attribution, CLV, data quality),
``pages_models.py`` (mix model, budget planner, experiments, job progress) and ``pages_data.py`` (imports,
reports, settings), each with its own router that ``create_app`` adds route by route.

A page route declares its level like an API route, calls one library function and renders a template that
extends ``base.html`` (navigation, CSRF token for HTMX, assets). Interaction uses HTMX attributes on plain
links and forms, so every page also works as ordinary links without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trueroi.server import LoginRefused, login, logout, overview, portfolio
from trueroi.web import charts
from trueroi.web.access import Caller, Level, require
from trueroi.web.auth import CSRF_COOKIE, SESSION_COOKIE, new_csrf_token, set_cookie
from trueroi.web.render import page

router = APIRouter(include_in_schema=False)

PublicCaller = Annotated[Caller, require(Level.PUBLIC)]

# (key, header, number kind) of the portfolio table; each key is a column the portfolio can sort by.
PORTFOLIO_TABLE = [
    ("workspace", "Workspace", "text"),
    ("spend", "Spend", "money"),
    ("revenue", "Revenue", "money"),
    ("media_roi", "Media ROI", "percent"),
    ("full_roi", "Full ROI", "percent"),
    ("goals_on_track", "Goals on track", "count"),
    ("pacing", "Pacing", "status"),
    ("open_alerts", "Open alerts", "count"),
    ("last_import", "Last import", "time"),
]
# (KPI, label, number kind, key of its change, kind of the change) of the overview's tiles and table.
TILES = [
    ("spend", "Spend", "money", "spend_change_pct", "change"),
    ("revenue", "Revenue", "money", "revenue_change_pct", "change"),
    ("roas", "ROAS", "ratio", "roas_change_pct", "change"),
    ("media_roi", "Media ROI", "percent", "media_roi_change", "points"),
    ("full_roi", "Full ROI", "percent", "full_roi_change", "points"),
    ("conversions", "Conversions", "count", "conversions_change_pct", "change"),
    ("cpa", "CPA", "money", "cpa_change_pct", "change"),
]
COMPARE_LABELS = [("yoy", "Year over year"), ("previous", "Previous period"), ("none", "No comparison")]
GRAIN_LABELS = [("day", "Day"), ("week", "Week"), ("month", "Month"), ("quarter", "Quarter")]


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site (no scheme, no host, no ``//``), else ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(
    request: Request, caller: PublicCaller, next_url: Annotated[str, Query(alias="next")] = "/"
) -> Response:
    if caller.user is not None:
        return RedirectResponse(safe_next(next_url), status_code=303)
    return _login_page(request, caller, next_url=next_url)


@router.post("/login")
def login_submit(
    request: Request,
    caller: PublicCaller,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    if not email.strip() or not password:
        error = "Enter e-mail and password."
        return _login_page(request, caller, next_url=next_url, email=email, error=error)
    client = request.client.host if request.client else "unknown"
    try:
        new = login(caller.home, email, password, client=client)
    except LoginRefused as exc:
        status = 429 if exc.retry_after else 200  # a wrong password is an answer, not an access error
        response = _login_page(request, caller, next_url=next_url, email=email, error=str(exc), status=status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_cookie(caller.home, request, response, SESSION_COOKIE, new.session_id)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def _login_page(
    request: Request,
    caller: Caller,
    *,
    next_url: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    context = {"login_csrf": token, "next_url": safe_next(next_url), "email": email, "error": error}
    response = page(request, "login.html", context, status=status)
    set_cookie(caller.home, request, response, CSRF_COOKIE, token)
    return response


@router.post("/logout")
def logout_submit(request: Request, caller: Annotated[Caller, require(Level.USER)]) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and caller.via == "session":
        logout(caller.home, cookie, client=request.client.host if request.client else "unknown")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def portfolio_page(
    request: Request,
    caller: Annotated[Caller, require(Level.USER)],
    sort: str = "workspace",
    order: str = "asc",
) -> Response:
    result = portfolio(caller.home, caller.user, sort=sort, descending=order == "desc")
    return page(request, "portfolio.html", {"portfolio": result, "columns": PORTFOLIO_TABLE})


@router.get("/w/{ws}/")
def overview_page(
    request: Request,
    caller: Annotated[Caller, require(Level.READ)],
    period: str | None = None,
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    compare: str = "yoy",
    grain: str = "week",
) -> Response:
    """KPI tiles with their change, the trend by ``grain`` (day, week, month, quarter), goals, pacing,
    open alerts and the channel table for a period: a named ``period`` (2026-Q3, 2026-07) or, when none is
    chosen, the days ``from`` - ``to``; by default the data's last full quarter."""
    if period:
        date_from = date_to = None
    result = overview(
        caller.home.workspace_path(caller.workspace),
        period=period,
        date_from=date_from or None,
        date_to=date_to or None,
        compare=compare,
        grain=grain,
    )
    report = result.report
    rows = result.channel_rows
    default = not (period or date_from or date_to)
    quarter = f"{report.period.start.year}-Q{(report.period.start.month - 1) // 3 + 1}"
    context = {
        "overview": result,
        "report": report,
        "totals": result.totals,
        "rows": rows,
        "tiles": TILES,
        "compare_choices": COMPARE_LABELS,
        "compare": compare,
        "grain_choices": GRAIN_LABELS,
        "grain": grain,
        "selected_period": period or (quarter if default else ""),
        "goals": result.goals.rows() if result.goals else [],
        "pacing": result.pacing.rows() if result.pacing else [],
        "charts": True,
        "trend_figure": _trend_figure(result.trend_rows, grain),
    }
    return page(request, "overview.html", context)


def _trend_figure(rows: list[dict[str, Any]], grain: str) -> dict[str, Any]:
    x = [str(r.get(grain)) for r in rows]
    return charts.figure(
        [
            {
                "type": "bar",
                "name": "Spend",
                "x": x,
                "y": [r.get("spend") for r in rows],
                "marker": {"color": charts.PALETTE[0]},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Revenue",
                "x": x,
                "y": [r.get("revenue") for r in rows],
                "line": {"color": charts.PALETTE[1]},
            },
        ],
        height=300,
        yaxis={"title": {"text": "base currency"}},
    )
