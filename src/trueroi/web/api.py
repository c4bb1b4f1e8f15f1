"""The REST API under ``/api/v1``: each analysis route calls the library function behind the CLI command of
the same name with the same arguments and returns its ``to_dict()`` (:func:`trueroi.web.render.json_result`),
so ``GET /api/v1/workspaces/{ws}/kpis?by=channel&compare=yoy`` equals
``trueroi kpis --by channel --compare yoy --format json``.

Authentication: the session cookie of the browser, or ``Authorization: Bearer TOKEN`` for scripts.

The API is split by domain; this module's :data:`router` gathers every part's routes (the app adds them
route by route, see :func:`trueroi.web.app.add_routes`):

- here: ``/me``, ``/workspaces``, ``/portfolio``, ``/users``, ``kpis``, ``quality``;
- :mod:`~trueroi.web.api_analysis`: attribution, goals, pacing, budgets, alerts, anomalies, experiments,
  clv, fitted mix models;
- :mod:`~trueroi.web.api_plans`: budget optimize / compare / target (POST, JSON body);
- :mod:`~trueroi.web.api_settings`: goals, budgets and alerts added (POST) and removed (DELETE), audited;
- :mod:`~trueroi.web.api_files`: uploads (``imports``) and the management report file (``reports``);
- :mod:`~trueroi.web.api_jobs`: background jobs (``/jobs/{job}``, fits and reports submitted).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from trueroi.metrics import family_kpis
from trueroi.metrics import kpis as kpi_query
from trueroi.quality import quality_report
from trueroi.server import list_users, portfolio, visible_workspaces
from trueroi.server.views import answer
from trueroi.web import api_analysis, api_files, api_jobs, api_plans, api_settings
from trueroi.web.access import Caller, Level, require
from trueroi.web.api_common import API_PREFIX, ReadCaller, UserCaller, new_router
from trueroi.web.render import json_result

__all__ = ["API_PREFIX", "router"]
router = new_router()


@router.get("/me", summary="The signed-in user and its workspaces")
def me(caller: UserCaller) -> Response:
    user = caller.user
    roles = visible_workspaces(caller.home, user)
    return json_result({"email": user.email, "is_admin": user.is_admin, "workspaces": roles})


@router.get("/workspaces", summary="The workspaces the caller may open, with its role in each")
def workspaces(caller: UserCaller) -> Response:
    roles = visible_workspaces(caller.home, caller.user)
    return json_result({"workspaces": [{"name": name, "role": role} for name, role in roles.items()]})


@router.get("/portfolio", summary="Every workspace of the caller with the KPIs of its last full quarter")
def portfolio_api(caller: UserCaller, sort: str = "workspace", descending: bool = False) -> Response:
    return json_result(portfolio(caller.home, caller.user, sort=sort, descending=descending))


@router.get("/users", summary="Every user with its roles (admins only)")
def users(caller: Annotated[Caller, require(Level.ADMIN)]) -> Response:
    return json_result({"users": [u.to_dict() for u in list_users(caller.home)]})


@router.get("/workspaces/{ws}/kpis", summary="KPIs and ROI by a breakdown (= trueroi kpis --format json)")
def kpis(
    caller: ReadCaller,
    by: Annotated[str, Query(description="Breakdown, e.g. channel,week.")] = "channel",
    date_from: Annotated[str | None, Query(alias="from", description="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="Last day, YYYY-MM-DD.")] = None,
    period: Annotated[str | None, Query(description="Named period: 2026-Q3, 2026-07.")] = None,
    compare: Annotated[str | None, Query(description="yoy or previous.")] = None,
    attribution: Annotated[str | None, Query(description="Attribution model.")] = None,
    value: Annotated[str, Query(description="revenue, or clv (with by=channel).")] = "revenue",
    family: Annotated[
        str | None, Query(description="A channel family's own KPIs: email, seo, social or paid.")
    ] = None,
) -> Response:
    # The answer is kept per workspace version (trueroi.server.cache): fifty viewers asking the same
    # question cost one query, and a changed workspace is asked again.
    args = (by, date_from, date_to, period, compare, attribution, value)
    options = dict(
        zip(("by", "date_from", "date_to", "period", "compare", "attribution", "value"), args, strict=True)
    )
    if family is not None:  # = trueroi kpis --family FAMILY --format json
        report = answer(
            caller.home.workspace_path(caller.workspace),
            "kpis-family",
            (family, *args),
            lambda ws: family_kpis(ws, family, **options),
        )
        return json_result(report)
    report = answer(
        caller.home.workspace_path(caller.workspace), "kpis-api", args, lambda ws: kpi_query(ws, **options)
    )
    return json_result(report)


@router.get("/workspaces/{ws}/quality", summary="Data-quality findings (= trueroi quality --format json)")
def quality(caller: ReadCaller) -> Response:
    with caller.open_workspace() as ws:
        report = quality_report(ws)
    return json_result(report)


for _part in (api_analysis, api_plans, api_settings, api_files, api_jobs):
    router.routes.extend(_part.router.routes)
