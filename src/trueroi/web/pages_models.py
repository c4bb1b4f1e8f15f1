"""Model pages of one workspace: mix-model results, the budget planner, experiments, and the progress of
background jobs (a fit runs as a job: :mod:`trueroi.server.jobkinds`; the page polls its record).

Each route declares its level and calls the library function the CLI command of the same question calls:
:func:`trueroi.server.model_views.model_view` (``trueroi mmm fit``/``report``),
:func:`trueroi.budget.planning.plan_budget` and ``compare_scenarios`` (``trueroi budget optimize`` /
``compare``), :mod:`trueroi.experiments` (``trueroi experiment ...``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from trueroi.budget.planning import compare_scenarios, plan_budget
from trueroi.errors import TrueRoiError, UsageError
from trueroi.experiments import experiment_list, plan_holdout_test, read_cro_test, read_holdout_test
from trueroi.server.jobkinds import DEFAULT_MODEL, submit_fit
from trueroi.server.jobs import JobNotFound, get_job, list_jobs
from trueroi.server.model_views import list_models, model_dir, model_view
from trueroi.web import charts
from trueroi.web.access import Caller, Level, require
from trueroi.web.render import page

router = APIRouter(include_in_schema=False)

ReadCaller = Annotated[Caller, require(Level.READ)]
WriteCaller = Annotated[Caller, require(Level.WRITE)]
FIT_METHODS = ("map", "laplace", "nuts")
OBJECTIVES = ("revenue", "margin", "profit")
EXPERIMENT_KINDS = ("plan", "lift", "cro")


def can_write(caller: Caller) -> bool:
    return caller.role in ("analyst", "admin")


def _jobs(caller: Caller, kind: str) -> list[Any]:
    return [j for j in list_jobs(caller.home, caller.workspace, limit=20) if j.kind == kind][:5]


@router.get("/w/{ws}/mmm")
def mmm_page(request: Request, caller: ReadCaller, model: str | None = None) -> Response:
    """ROI and mROI with intervals, response curves with current and optimal points, decomposition over
    time and fit diagnostics of a fitted model under ``models/`` (a fit runs as a background job)."""
    path = caller.home.workspace_path(caller.workspace)
    models = list_models(path)
    chosen = model or (DEFAULT_MODEL if DEFAULT_MODEL in models else (models[0] if models else None))
    view = model_view(path, chosen) if chosen else None
    context: dict[str, Any] = {
        "models": models,
        "chosen": chosen,
        "view": view,
        "jobs": _jobs(caller, "mmm.fit"),
        "methods": FIT_METHODS,
        "can_write": can_write(caller),
        "charts": view is not None,
    }
    if view is not None:
        kpi = view.summary.get("kpi") or "KPI"
        channels = view.summary["channels"]
        context["figures"] = {
            "roi": charts.interval_bars(
                channels, (("roas", "ROAS"), ("mroas", "marginal ROAS")), f"{kpi} per unit of spend"
            ),
            "curves": charts.response_curves(view.curves),
            "decomposition": charts.decomposition(view.decomposition, kpi),
            "fit": charts.fit_chart(view.decomposition, kpi),
        }
    return page(request, "mmm.html", context)


@router.post("/w/{ws}/mmm/fit")
def mmm_fit(
    caller: WriteCaller,
    method: Annotated[str, Form()] = "",
    model: Annotated[str, Form()] = DEFAULT_MODEL,
) -> Response:
    """Queue a fit of the workspace's weekly series (``trueroi mmm fit --out models/MODEL``) as a job."""
    if method not in FIT_METHODS:
        return RedirectResponse(f"/w/{caller.workspace}/mmm", status_code=303)
    job = submit_fit(
        caller.home,
        caller.workspace,
        model=model or DEFAULT_MODEL,
        method=method,
        actor=caller.actor,
        user_id=caller.user.id,
    )
    return RedirectResponse(f"/w/{caller.workspace}/mmm?job={job.id}", status_code=303)


@router.get("/w/{ws}/jobs")
def job_status(request: Request, caller: ReadCaller, job: int | None = None) -> Response:
    """One background job's progress (a fragment HTMX polls while it runs), or the workspace's jobs."""
    if job is None:
        return page(request, "jobs.html", {"jobs": list_jobs(caller.home, caller.workspace, limit=50)})
    found = get_job(caller.home, job)
    if found.workspace != caller.workspace:
        raise JobNotFound(f"no job {job} in this workspace")
    return page(request, "_job.html", {"job": found})


@router.get("/w/{ws}/budget")
def budget_page(request: Request, caller: ReadCaller, model: str | None = None) -> Response:
    """Edit the weekly total and per-channel bounds, run the optimizer (``trueroi budget optimize``) and
    compare the plan with today's and a grown budget (``trueroi budget compare``)."""
    path = caller.home.workspace_path(caller.workspace)
    models = list_models(path)
    chosen = model or (DEFAULT_MODEL if DEFAULT_MODEL in models else (models[0] if models else None))
    context: dict[str, Any] = {"models": models, "chosen": chosen, "objectives": OBJECTIVES, "error": None}
    if chosen is None:
        return page(request, "budget.html", context)
    view = model_view(path, chosen)
    form = _budget_form(request, view)
    context.update(view=view, form=form)
    if "total" in request.query_params:
        try:
            context.update(_plan(model_dir(path, chosen), path, form))
        except TrueRoiError as exc:
            context["error"] = str(exc)
    context["charts"] = "plan" in context
    return page(request, "budget.html", context)


def _budget_form(request: Request, view: Any) -> dict[str, Any]:
    """The planner's inputs from the query: total, weeks, objective, min/max per channel, locked ones."""
    q = request.query_params
    current = {c: v["current"][0] for c, v in view.curves.items() if v.get("current")}
    return {
        "total": q.get("total") or f"{sum(current.values()):.0f}",
        "weeks": q.get("weeks") or "13",
        "objective": q.get("objective") if q.get("objective") in OBJECTIVES else "revenue",
        "minimum": {c: q.get(f"min:{c}", "") for c in view.curves},
        "maximum": {c: q.get(f"max:{c}", "") for c in view.curves},
        "locked": [c for c in q.getlist("lock") if c in view.curves],
        "current": current,
    }


def _plan(directory: Any, workspace: Any, form: dict[str, Any]) -> dict[str, Any]:
    common = {"weeks": _int(form["weeks"], "weeks"), "objective": form["objective"], "workspace": workspace}
    plan = plan_budget(
        directory,
        _float(form["total"], "total"),
        minimum={c: v for c, v in form["minimum"].items() if v.strip()},
        maximum={c: v for c, v in form["maximum"].items() if v.strip()},
        locked=form["locked"],
        **common,
    ).to_dict()
    recommended = {row["channel"]: row["recommended"] for row in plan["explanation"]}
    scenarios = compare_scenarios(directory, {"this plan": recommended}, **common)
    rows = plan["explanation"]
    figure = charts.grouped_bars(
        [r["channel"] for r in rows],
        {"Current": [r["current"] for r in rows], "Recommended": [r["recommended"] for r in rows]},
        "weekly spend",
    )
    return {"plan": plan, "scenarios": scenarios.rows(), "figure": figure}


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise UsageError(f"{name} {text!r} is not a number") from exc


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise UsageError(f"{name} {text!r} is not a whole number") from exc


@router.get("/w/{ws}/experiments")
def experiments_page(
    request: Request, caller: ReadCaller, kind: Annotated[str | None, Query()] = None
) -> Response:
    """Stored experiments (``trueroi experiment list``); plan a holdout test (``experiment plan``), read a
    holdout lift test (``experiment lift``) or a site A/B test (``experiment cro``) from the form."""
    q = request.query_params
    context: dict[str, Any] = {"kind": kind, "q": q, "result": None, "error": None}
    context["stored"] = experiment_list(caller.home.workspace_path(caller.workspace)).rows()
    if kind in EXPERIMENT_KINDS:
        try:
            context["result"] = _experiment(kind, q)
        except (TrueRoiError, ValueError) as exc:
            context["error"] = str(exc)
    return page(request, "experiments.html", context)


def _experiment(kind: str, q: Any) -> Any:
    def num(name: str, cast: type = float) -> Any:
        value = (q.get(name) or "").strip()
        return cast(value) if value else None

    if kind == "plan":
        return plan_holdout_test(num("baseline_rate"), lift=num("lift"), test_users=num("test_users", int))
    if kind == "lift":
        return read_holdout_test(
            num("test_users", int),
            num("test_conversions", int),
            num("control_users", int),
            num("control_conversions", int),
            spend=num("spend"),
        )
    return read_cro_test(
        num("control_visitors", int),
        num("control_conversions", int),
        num("variant_visitors", int),
        num("variant_conversions", int),
    )
