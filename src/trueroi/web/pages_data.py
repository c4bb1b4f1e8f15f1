"""Data pages of one workspace: imports (upload and history), reports (download a period's management
report) and settings (brand terms, channel rules, cost allocation, goals, budgets, alert rules).

Uploads are checked for size and type before any parsing (:func:`trueroi.web.api_files.store_uploads`,
the same checks as the API), then loaded as ``trueroi import auto FILE...`` loads them (atomic per file, a
file loaded before is skipped) under the workspace's load lock; uploads larger than
:data:`BACKGROUND_BYTES` load as a background job whose progress the page shows. Every change needs
``Level.WRITE`` and the session's CSRF token, and is written in the audit log.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from trueroi import ingest
from trueroi.errors import TrueRoiError, UsageError
from trueroi.goals import add_budget, add_goal, remove_budget, remove_goal
from trueroi.metrics import last_full_quarter
from trueroi.metrics.dimensions import parse_day
from trueroi.monitor import add_alert, remove_alert
from trueroi.server.jobkinds import REPORT_FORMATS, load_lock, submit_import, submit_report, write_report
from trueroi.server.jobs import list_jobs
from trueroi.server.settings import change_config, change_workspace, workspace_settings
from trueroi.server.views import data_period
from trueroi.web.access import Caller, Level, require
from trueroi.web.api_files import MEDIA_TYPES, UploadRefused, store_uploads, upload_folder
from trueroi.web.render import page

router = APIRouter(include_in_schema=False)

ReadCaller = Annotated[Caller, require(Level.READ)]
WriteCaller = Annotated[Caller, require(Level.WRITE)]
BACKGROUND_BYTES = 20_000_000  # larger uploads load as a background job
TextField = Annotated[str, Form()]


def _imports_context(caller: Caller, **extra: Any) -> dict[str, Any]:
    with caller.open_workspace() as ws:
        history = list(reversed(ws.imports().imports))
    jobs = [j for j in list_jobs(caller.home, caller.workspace, limit=20) if j.kind == "import"][:5]
    return {"history": history, "jobs": jobs, "result": None, "error": None, **extra}


@router.get("/w/{ws}/imports")
def imports_page(request: Request, caller: ReadCaller) -> Response:
    """The import history (``trueroi import list``) and, for analysts, the upload form."""
    context = _imports_context(caller, can_write=caller.role in ("analyst", "admin"))
    return page(request, "imports.html", context)


@router.post("/w/{ws}/imports")
async def upload_page(
    request: Request,
    caller: WriteCaller,
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Upload one or several export files (format detected per file) and load them."""
    chosen = [f for f in files or [] if f.filename]
    if not chosen:  # the form again, as a failed login answers (nothing was sent to refuse)
        context = _imports_context(caller, can_write=True, error="Choose one or more export files to import.")
        return page(request, "imports.html", context)
    with upload_folder() as folder:
        try:
            paths = await store_uploads(chosen, folder, int(caller.home.config.upload_max_mb * 1e6))
        except UploadRefused as exc:
            return _imports_answer(request, caller, error=exc.message)
        if sum(p.stat().st_size for p in paths) > BACKGROUND_BYTES:
            job = submit_import(
                caller.home, caller.workspace, paths, actor=caller.actor, user_id=caller.user.id
            )
            return _imports_answer(request, caller, job=job)
        try:
            batch = await run_in_threadpool(_load, caller, paths)
        except TrueRoiError as exc:
            return _imports_answer(
                request, caller, error=str(exc).replace(f"{folder}/", "").replace("0/", "")
            )
    rows = batch.to_dict()["imports"]
    for row in rows:
        row["file"] = Path(row["file"]).name
    return _imports_answer(request, caller, result=rows)


def _load(caller: Caller, paths: list[Path]) -> ingest.ImportBatch:
    """``trueroi import auto FILE...`` under the workspace's load lock, audited as ``import``."""
    path = caller.home.workspace_path(caller.workspace)
    names = [p.name for p in paths]
    with load_lock(path, f"an upload by {caller.actor}", lambda _message: None):
        return change_workspace(
            caller.home,
            caller.workspace,
            "import",
            lambda ws: ingest.import_files(ws, ingest.AUTO, paths),
            actor=caller.actor,
            user_id=caller.user.id,
            detail={"files": names},
        )


def _imports_answer(request: Request, caller: Caller, **extra: Any) -> Response:
    status = 422 if extra.get("error") else 200
    context = _imports_context(caller, can_write=True, **extra)
    return page(request, "imports.html", context, status=status)


@router.get("/w/{ws}/reports")
def reports_page(request: Request, caller: ReadCaller) -> Response:
    """The form for a period's management/client report (PDF or HTML, branded per client)."""
    with caller.open_workspace() as ws:
        clients = sorted(ws.config.clients)
    covered = data_period(caller.home.workspace_path(caller.workspace))
    quarter = last_full_quarter(covered.end)
    jobs = [j for j in list_jobs(caller.home, caller.workspace, limit=20) if j.kind == "report"][:5]
    context = {
        "clients": clients,
        "formats": [f for f in REPORT_FORMATS if f != "json"],
        "default_period": f"{quarter.start.year}-Q{(quarter.start.month - 1) // 3 + 1}",
        "covered": covered,
        "jobs": jobs,
        "can_write": caller.role in ("analyst", "admin"),
    }
    return page(request, "reports.html", context)


@router.get("/w/{ws}/reports/download")
def report_download(
    caller: ReadCaller,
    period: str | None = None,
    format: str = "pdf",  # noqa: A002 - the query parameter's name
    client: str | None = None,
) -> Response:
    """The report of ``period`` as a file (``trueroi report --period P --out report.FORMAT``)."""
    if not period:
        return RedirectResponse(f"/w/{caller.workspace}/reports", status_code=303)
    if format not in REPORT_FORMATS:
        raise UsageError(f"unknown report format {format!r}; expected one of {', '.join(REPORT_FORMATS)}")
    folder = Path(tempfile.mkdtemp(prefix="trueroi-report-"))
    try:
        with caller.open_workspace() as ws:
            path = write_report(ws, folder / f"report.{format}", period=period, client=client or None)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[format],
        filename=f"{caller.workspace}-{period}.{format}",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.post("/w/{ws}/reports/job")
def report_job(
    caller: WriteCaller,
    period: TextField = "",
    format: TextField = "pdf",
    client: TextField = "",  # noqa: A002
) -> Response:
    """Prepare a long report (two years, say) as a background job; the reports page shows its progress."""
    if period:
        submit_report(
            caller.home,
            caller.workspace,
            period=period,
            fmt=format,
            client=client or None,
            actor=caller.actor,
            user_id=caller.user.id,
        )
    return RedirectResponse(f"/w/{caller.workspace}/reports", status_code=303)


@router.get("/w/{ws}/settings")
def settings_page(request: Request, caller: ReadCaller, saved: str | None = None) -> Response:
    """Brand terms, channel rules, cost allocation, goals, budgets and alert rules."""
    return _settings_answer(request, caller, notice=f"Saved: {saved}." if saved else None)


def _settings_answer(request: Request, caller: Caller, **extra: Any) -> Response:
    with caller.open_workspace() as ws:
        settings = workspace_settings(ws)
    context = {
        "settings": settings,
        "rules_text": "\n".join(
            " | ".join(r[k] for k in ("channel", "source", "medium", "campaign"))
            for r in settings.channel_rules
        ),
        "can_write": caller.role in ("analyst", "admin"),
        "error": None,
        "notice": None,
        **extra,
    }
    return page(request, "settings.html", context, status=422 if extra.get("error") else 200)


def _saved(caller: Caller, what: str) -> Response:
    return RedirectResponse(f"/w/{caller.workspace}/settings?saved={what}", status_code=303)


@router.post("/w/{ws}/settings/config")
def settings_config(
    request: Request,
    caller: WriteCaller,
    section: TextField = "",
    brand_terms: TextField = "",
    channel_rules: TextField = "",
    cost_rule: TextField = "",
    cost_channel: TextField = "",
) -> Response:
    """Change brand terms, channel rules or cost allocation (the ``section`` the form names)."""
    changes: dict[str, Any] = {}
    try:
        if section == "brand":
            changes["brand_terms"] = [t.strip() for t in brand_terms.splitlines() if t.strip()]
        elif section == "channels":
            changes["channel_rules"] = [_rule(line) for line in channel_rules.splitlines() if line.strip()]
        elif section == "costs":
            changes["cost_allocation"] = {"rule": cost_rule, "channel": cost_channel.strip()}
        else:
            return RedirectResponse(f"/w/{caller.workspace}/settings", status_code=303)
        change_config(caller.home, caller.workspace, actor=caller.actor, user_id=caller.user.id, **changes)
    except TrueRoiError as exc:
        return _settings_answer(request, caller, error=str(exc))
    return _saved(caller, section)


def _rule(line: str) -> dict[str, str]:
    parts = [p.strip() for p in line.split("|")]
    if not parts[0] or len(parts) > 4:
        raise UsageError(f"channel rule {line.strip()!r}: expected 'channel | source | medium | campaign'")
    parts += [""] * (4 - len(parts))
    return dict(zip(("channel", "source", "medium", "campaign"), parts, strict=True))


@router.post("/w/{ws}/settings/declared")
async def settings_declared(request: Request, caller: WriteCaller) -> Response:
    """Add or remove a goal, a budget or an alert rule (``trueroi goal add|remove``, ``budget
    set|remove``, ``alert add|remove``); the form names ``what`` and ``action``."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return await run_in_threadpool(_declared, request, caller, form)


def _declared(request: Request, caller: Caller, form: dict[str, str]) -> Response:
    what, action, name = form.get("what", ""), form.get("action", ""), form.get("name", "").strip()
    if what not in ("goal", "budget", "alert") or action not in ("add", "remove") or not name:
        return RedirectResponse(f"/w/{caller.workspace}/settings", status_code=303)
    try:
        change = _declared_change(what, action, name, form)
        change_workspace(
            caller.home,
            caller.workspace,
            f"{what}.{action}",
            change,
            actor=caller.actor,
            user_id=caller.user.id,
            detail={"name": name},
        )
    except TrueRoiError as exc:
        return _settings_answer(request, caller, error=str(exc))
    return _saved(caller, f"{what} {name}")


def _declared_change(what: str, action: str, name: str, form: dict[str, str]) -> Any:
    scope = {"channel": form.get("channel") or None, "campaign": form.get("campaign") or None}
    if action == "remove":
        return {"goal": lambda ws: remove_goal(ws, name), "budget": lambda ws: remove_budget(ws, name)}.get(
            what, lambda ws: remove_alert(ws, name)
        )
    number = _number(form.get("target") or form.get("amount") or form.get("threshold") or "", what)
    if what == "alert":
        side = "above" if form.get("condition") != "below" else "below"
        return lambda ws: add_alert(ws, name, form.get("kpi", ""), **{side: number}, replace=True, **scope)
    start, end = parse_day(form.get("from"), "first day"), parse_day(form.get("to"), "last day")
    if what == "goal":
        return lambda ws: add_goal(ws, name, form.get("kpi", ""), number, start, end, **scope)
    return lambda ws: add_budget(ws, name, number, start, end, **scope)


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise UsageError(f"the {what}'s value {text!r} is not a number") from exc
