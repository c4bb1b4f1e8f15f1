"""What each kind of background job does, and the typed function that submits it.

=========  ==========================================  =================================================
kind       submit                                      runs (the library call the CLI command makes)
=========  ==========================================  =================================================
import     :func:`submit_import` (files moved in)      ``trueroi.ingest.import_files`` (``trueroi import``)
mmm.fit    :func:`submit_fit`                          ``trueroi.mmm.fit_mix_model`` (``trueroi mmm fit``)
report     :func:`submit_report`                       ``trueroi.report.writers.create_report``
=========  ==========================================  =================================================

A job's result is the library result's ``to_dict()`` (the CLI's ``--format json``), except a report job,
whose result names its file (``{"file": "report.pdf", "format": "pdf", "period": ...}``). Messages and
errors never name server paths: the workspace's directory reads as its name, a job's folder not at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trueroi import ingest
from trueroi.errors import UsageError
from trueroi.report.writers import create_report
from trueroi.server import jobs
from trueroi.server.home import ServerHome, check_workspace_name
from trueroi.workspace import Workspace

MODELS_DIR = "models"  # fitted mix models of a workspace: <workspace>/models/NAME
DEFAULT_MODEL = "mmm"
REPORT_FORMATS = ("pdf", "html", "json")
LOAD_LOCK = ".trueroi/jobs-load.lock"  # inside the workspace directory
UPLOAD_DIR = "upload"


@dataclass
class JobContext:
    """What a running job may use: its record, its home and workspace, a progress reporter."""

    home: ServerHome
    job: jobs.Job
    worker: str

    @property
    def workspace_path(self) -> Path:
        return self.home.workspace_path(self.job.workspace)

    @property
    def folder(self) -> Path:
        return jobs.job_dir(self.home, self.job.id)

    def progress(self, fraction: float | None, message: str) -> None:
        """Record progress (0..1, or None to keep the fraction) and what the job does now."""
        jobs.report_progress(self.home, self.job.id, self.worker, fraction, self.clean(message))

    def clean(self, text: str) -> str:
        """``text`` without server paths: the job's folder dropped, the workspace named by its name."""
        text = text.replace(str(self.folder / UPLOAD_DIR) + os.sep, "")
        text = text.replace(str(self.folder) + os.sep, "")
        text = text.replace(str(self.workspace_path), self.job.workspace)
        return text.replace(str(self.home.path), "the server home")


Runner = Callable[[JobContext], dict[str, Any]]


# -- imports ------------------------------------------------------------------------------------------
def submit_import(
    home: ServerHome,
    workspace: str,
    files: Sequence[Path],
    *,
    fmt: str = ingest.AUTO,
    replace: bool = False,
    currency: str | None = None,
    actor: str,
    user_id: int | None = None,
) -> jobs.Job:
    """Queue an import of ``files`` (moved into the job's folder; their names are kept) into
    ``workspace``. ``fmt``, ``replace`` and ``currency`` are those of ``trueroi import``."""
    if not files:
        raise UsageError("no file given to import")
    if fmt != ingest.AUTO and fmt not in ingest.format_names():
        raise UsageError(f"unknown import format {fmt!r}; expected auto or one of the import formats")
    params = {
        "format": fmt,
        "files": [Path(f).name for f in files],
        "replace": replace,
        "currency": currency and currency.upper(),
    }
    job = jobs.create_job(home, "import", workspace, params, actor=actor, user_id=user_id)
    target = jobs.job_dir(home, job.id) / UPLOAD_DIR
    target.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.move(str(path), target / Path(path).name)
    return jobs.enqueue(home, job)


@contextlib.contextmanager
def load_lock(workspace_path: Path, holder: str, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the workspace's load lock (one background load per workspace at a time; a killed holder
    drops it with its process). ``on_wait`` is told once, with who holds it, when it is taken."""
    path = workspace_path / LOAD_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    who = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another load"
                    on_wait(f"waiting for {who} to finish loading into this workspace")
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode("utf-8"), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the lock


def run_import(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    folder = ctx.folder / UPLOAD_DIR
    files = [folder / name for name in params["files"]]
    options = {"currency": params["currency"]} if params.get("currency") else {}
    total = len(files)
    try:
        with load_lock(ctx.workspace_path, f"job {ctx.job.id} (import)", lambda m: ctx.progress(0.0, m)):
            ctx.progress(0.0, f"importing {total} file(s)")
            done: list[Path] = []

            def on_rows(path: Path, rows: int) -> None:
                if path not in done:
                    done.append(path)
                ctx.progress((len(done) - 1) / total, f"{path.name}: importing")

            with Workspace.open(ctx.workspace_path, on_wait=lambda m: ctx.progress(None, m)) as ws:
                batch = ingest.import_files(
                    ws, params["format"], files, options=options, on_rows=on_rows, replace=params["replace"]
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    payload = batch.to_dict()
    for row in payload["imports"]:
        row["file"] = Path(row["file"]).name
    return payload


# -- mix-model fits -----------------------------------------------------------------------------------
FIT_SETTINGS = ("adstock", "saturation", "method", "draws", "tune", "chains", "seed", "kpi", "holdout_weeks")


def submit_fit(
    home: ServerHome,
    workspace: str,
    *,
    model: str = DEFAULT_MODEL,
    actor: str,
    user_id: int | None = None,
    **settings: Any,
) -> jobs.Job:
    """Queue a mix-model fit on the workspace's weekly series, written to ``<workspace>/models/MODEL``.

    ``settings`` are those of ``trueroi mmm fit`` (:data:`FIT_SETTINGS`: adstock, saturation, method,
    draws, tune, chains, seed, kpi, holdout_weeks)."""
    check_workspace_name(model)
    unknown = sorted(set(settings) - set(FIT_SETTINGS))
    if unknown:
        raise UsageError(f"unknown fit setting(s) {', '.join(unknown)}; known: {', '.join(FIT_SETTINGS)}")
    params = {"model": model, **{k: v for k, v in settings.items() if v is not None}}
    return jobs.submit(home, "mmm.fit", workspace, params, actor=actor, user_id=user_id)


def run_fit(ctx: JobContext) -> dict[str, Any]:
    # imported here: JAX and NumPyro load with the fit, and the web process never needs them
    from trueroi.mmm import fit_mix_model
    from trueroi.mmm.nuts import reporting

    params = dict(ctx.job.params)
    out = ctx.workspace_path / MODELS_DIR / params.pop("model")
    ctx.progress(0.0, f"fitting ({params.get('method', 'nuts')})")

    def sampled(done: int, total: int) -> None:
        ctx.progress(done / total if total else None, f"sampling: {done:,} of {total:,} chain iterations")

    with reporting(sampled):
        result = fit_mix_model(workspace=ctx.workspace_path, out=out, **params)
    return result.to_dict()


# -- reports ------------------------------------------------------------------------------------------
def submit_report(
    home: ServerHome,
    workspace: str,
    *,
    period: str,
    fmt: str = "pdf",
    client: str | None = None,
    model: str | None = None,
    attribution_models: str = "all",
    actor: str,
    user_id: int | None = None,
) -> jobs.Job:
    """Queue the management report of ``period`` (``trueroi report``) as a ``fmt`` file (pdf, html, json);
    ``model`` names a fitted model under ``<workspace>/models/`` (default: ``mmm`` when present)."""
    if fmt not in REPORT_FORMATS:
        raise UsageError(f"unknown report format {fmt!r}; expected one of {', '.join(REPORT_FORMATS)}")
    if model is not None:
        check_workspace_name(model)
    params = {
        "period": period,
        "format": fmt,
        "client": client,
        "model": model,
        "attribution_models": attribution_models,
    }
    return jobs.submit(home, "report", workspace, params, actor=actor, user_id=user_id)


def write_report(
    ws: Workspace,
    out: Path,
    *,
    period: str,
    client: str | None = None,
    model: str | None = None,
    attribution_models: str = "all",
) -> Path:
    """The management report of ``period`` written to ``out`` (its extension names the format), with the
    fitted model ``<workspace>/models/MODEL`` when named."""
    model_dir = ws.path / MODELS_DIR / model if model else None
    return create_report(
        ws, period, out, client=client, model_dir=model_dir, attribution_models=attribution_models
    )


def run_report(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    name = f"report.{params['format']}"
    ctx.folder.mkdir(parents=True, exist_ok=True)
    ctx.progress(0.1, f"writing the {params['format']} report of {params['period']}")
    with Workspace.open(ctx.workspace_path, on_wait=lambda m: ctx.progress(None, m)) as ws:
        write_report(
            ws,
            ctx.folder / name,
            period=params["period"],
            client=params["client"],
            model=params["model"],
            attribution_models=params["attribution_models"],
        )
    return {"file": name, "format": params["format"], "period": params["period"]}


RUNNERS: dict[str, Runner] = {"import": run_import, "mmm.fit": run_fit, "report": run_report}
