"""Background jobs over HTTP (:mod:`trueroi.server.jobs`): submit a fit or a report, watch any job.

- ``POST /api/v1/workspaces/{ws}/mmm/fit`` (WRITE, JSON body of ``trueroi mmm fit``'s settings) and
  ``POST /api/v1/workspaces/{ws}/reports`` (WRITE, JSON body: period, format, client, model) answer 202
  with the job; ``POST .../imports?background=true`` does the same for uploads (:mod:`api_files`).
- ``GET /api/v1/jobs/{job}`` (USER): the job's JSON (:meth:`~trueroi.server.jobs.Job.to_dict` plus
  ``result_url`` when it produced a file); 404 when there is none or its workspace is not the caller's.
- ``GET /api/v1/jobs/{job}/result`` (USER): the file a report job wrote, or the result JSON of another job.
- ``GET /api/v1/workspaces/{ws}/jobs`` (READ): the workspace's newest jobs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import FileResponse, Response

from trueroi.server.jobkinds import DEFAULT_MODEL, submit_fit, submit_report
from trueroi.server.jobs import Job, JobNotFound, get_job, list_jobs, result_file
from trueroi.web.access import Caller
from trueroi.web.api_common import API_PREFIX, ReadCaller, UserCaller, WriteCaller, new_router, refusal
from trueroi.web.api_files import MEDIA_TYPES
from trueroi.web.render import json_result

router = new_router()


class FitBody(BaseModel):
    """``trueroi mmm fit`` on the workspace's weekly series, written to ``models/MODEL``."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(DEFAULT_MODEL, description="Name of the model folder under models/.")
    method: Literal["nuts", "laplace", "map"] = "nuts"
    adstock: str = "geometric"
    saturation: str = "hill"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 0
    kpi: Literal["revenue", "conversions"] = "revenue"
    holdout_weeks: int = 0


class ReportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(description="2026-Q3, 2026-07, 2026 or 2025-01-01..2026-12-31.")
    format: Literal["pdf", "html", "json"] = "pdf"
    client: str | None = None
    model: str | None = Field(None, description="Fitted model under models/ (default: mmm when present).")
    attribution_models: str = "all"


def job_json(job: Job, status: int = 200) -> Response:
    payload: dict[str, Any] = job.to_dict()
    payload["url"] = f"{API_PREFIX}/jobs/{job.id}"
    payload["result_url"] = f"{API_PREFIX}/jobs/{job.id}/result" if job.status == "done" else None
    response = json_result(payload)
    response.status_code = status
    return response


def visible_job(caller: Caller, job_id: int) -> Job | Response:
    """The job when the caller may read its workspace, else a 404 that tells nothing."""
    try:
        job = get_job(caller.home, job_id)
    except JobNotFound:
        job = None
    if job is None or caller.user.role_in(job.workspace) is None:
        return refusal(404, "JobNotFound", f"job {job_id} not found")
    return job


@router.post(
    "/workspaces/{ws}/mmm/fit",
    summary="Fit a mix model in the background (= trueroi mmm fit --out <workspace>/models/MODEL); 202",
    status_code=202,
)
def mmm_fit(caller: WriteCaller, body: FitBody | None = None) -> Response:
    body = body or FitBody()
    settings = body.model_dump(exclude={"model"})
    job = submit_fit(
        caller.home,
        caller.workspace,
        model=body.model,
        actor=caller.actor,
        user_id=caller.user.id,
        **settings,
    )
    return job_json(job, 202)


@router.post(
    "/workspaces/{ws}/reports",
    summary="Write the management report of a period in the background (= trueroi report); 202",
    status_code=202,
)
def report_job(caller: WriteCaller, body: ReportBody) -> Response:
    job = submit_report(
        caller.home,
        caller.workspace,
        period=body.period,
        fmt=body.format,
        client=body.client,
        model=body.model,
        attribution_models=body.attribution_models,
        actor=caller.actor,
        user_id=caller.user.id,
    )
    return job_json(job, 202)


@router.get("/workspaces/{ws}/jobs", summary="The workspace's newest background jobs, newest first")
def workspace_jobs(
    caller: ReadCaller, limit: Annotated[int, Query(ge=1, le=500, description="How many.")] = 50
) -> Response:
    found = list_jobs(caller.home, caller.workspace, limit=limit)
    return json_result({"jobs": [job.to_dict() for job in found]})


@router.get("/jobs/{job}", summary="A background job: status, progress, result or error, who, when")
def job_status(caller: UserCaller, job: int) -> Response:
    found = visible_job(caller, job)
    return found if isinstance(found, Response) else job_json(found)


@router.get("/jobs/{job}/result", summary="What a finished job produced: a report file, or its result JSON")
def job_result(caller: UserCaller, job: int) -> Response:
    found = visible_job(caller, job)
    if isinstance(found, Response):
        return found
    if found.status != "done":
        return refusal(409, "JobNotDone", f"job {job} is {found.status}; its result comes when it is done")
    path = result_file(caller.home, found)
    if path is None:
        return json_result(found.result or {})
    fmt = path.suffix.lstrip(".")
    name = f"{found.workspace}-{found.params.get('period', 'report')}.{fmt}"
    return FileResponse(path, media_type=MEDIA_TYPES.get(fmt), filename=name)
