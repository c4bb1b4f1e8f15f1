"""Background jobs: long work (a mix-model fit, a large import, a report over two years) outside the request.

How a face uses them
--------------------
Submit with the typed function of the job's kind (:mod:`trueroi.server.jobkinds`), which checks the
arguments, stores the job's record (``queued``) in the metadata database, writes the audit log and puts the
job's id on the queue (:mod:`trueroi.server.jobqueue`, huey)::

    from trueroi.server.jobkinds import submit_fit, submit_import, submit_report
    job = submit_fit(home, "acme", actor=user.email, user_id=user.id, method="map")  # -> Job
    job = submit_import(home, "acme", [path, ...], fmt="auto", actor=...)  # files are moved into the job
    job = submit_report(home, "acme", period="2025-01..2026-12", fmt="pdf", actor=...)

then read it back, as often as the page likes (a reload loses nothing, the record is in the database)::

    get_job(home, job.id)               # -> Job; JobNotFound when there is none
    list_jobs(home, "acme", limit=50)   # newest first
    job.to_dict()                       # the JSON of GET /api/v1/jobs/{id}
    result_file(home, job)              # a report job's file (Path), else None

``Job.to_dict()``::

    {"id": 7, "kind": "mmm.fit" | "import" | "report", "workspace": "acme",
     "status": "queued" | "running" | "done" | "failed",
     "progress": 0.0..1.0, "message": "fitting (map)",     # what it does now, one line
     "result": {...} | null,    # done: the library result's to_dict() (= the CLI's --format json)
     "result_file": "report.pdf" | null,  # a file to download (GET /api/v1/jobs/{id}/result)
     "error": "orders.csv, row 3, column revenue: ..." | null,   # failed: one line, the library's words
     "actor": "ana@example.com", "params": {...}, "attempts": 1,
     "created_at", "started_at", "finished_at", "heartbeat_at": ISO times in UTC or null}

REST: ``GET /api/v1/jobs/{id}``, ``GET /api/v1/jobs/{id}/result``, ``GET /api/v1/workspaces/{ws}/jobs``;
submit with ``POST /api/v1/workspaces/{ws}/mmm/fit``, ``POST .../imports?background=true`` (multipart),
``POST .../reports`` (each answers 202 with the job's JSON).

Who runs them
-------------
A worker (:mod:`trueroi.server.worker`): ``trueroi serve`` starts one as a child process (``--job-workers
N`` threads, 0 for none) and ``trueroi server worker`` runs one alone (on another machine with a
PostgreSQL home). A worker claims a job (``queued`` -> ``running``, once: a second delivery is ignored),
refreshes its heartbeat every ``job_heartbeat_seconds`` while it runs, and records ``done`` with the result
or ``failed`` with the error. A job whose heartbeat is older than ``job_stale_seconds`` (its worker was
killed, even with kill -9) is marked ``failed`` with that reason by the reaper, which every worker runs and
every read of a job runs too (:func:`reap_stale`): no job shows ``running`` for ever. A queued job whose
message was lost (the web process died between the record and the queue) is put on the queue again.
Two loads into one workspace never run at once: an import job holds the workspace's load lock while it
loads, and a second one waits with the message "waiting for job N ...".
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from trueroi.errors import TrueRoiError, UsageError
from trueroi.io import jsonable
from trueroi.server import audit
from trueroi.server.home import ServerHome
from trueroi.server.jobqueue import JOBS_DIR, JobQueue, open_queue
from trueroi.server.schema import jobs, utcnow

KINDS = ("import", "mmm.fit", "report")
MESSAGE_LENGTH = 500


class JobNotFound(TrueRoiError, LookupError):
    """No job of that id (or none the caller may see)."""


@dataclass(frozen=True)
class Job:
    """One background job's record (times in UTC)."""

    id: int
    kind: str
    workspace: str
    status: str
    progress: float
    message: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    actor: str
    user_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    attempts: int

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def result_file(self) -> str | None:
        """The name of the file the job produced (a report), if any."""
        return (self.result or {}).get("file") if self.kind == "report" else None

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON (see the module docstring)."""
        return jsonable(
            {
                "id": self.id,
                "kind": self.kind,
                "workspace": self.workspace,
                "status": self.status,
                "progress": self.progress,
                "message": self.message,
                "result": self.result,
                "result_file": self.result_file,
                "error": self.error,
                "actor": self.actor,
                "params": self.params,
                "attempts": self.attempts,
                "created_at": self.created_at,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "heartbeat_at": self.heartbeat_at,
            }
        )


def _job(row: Any) -> Job:
    return Job(**{name: row[name] for name in Job.__dataclass_fields__})


_QUEUES: dict[tuple[str, str], JobQueue] = {}  # (home path, database URL) -> its queue, opened once
_QUEUES_LOCK = threading.Lock()


def job_queue(home: ServerHome) -> JobQueue:
    """The queue of ``home`` (opened on first use, one per home and process)."""
    url = home.config.resolved_database_url(home.path)
    with _QUEUES_LOCK:
        key = (str(home.path), url)
        if key not in _QUEUES:
            _QUEUES[key] = open_queue(home.path, url)
        return _QUEUES[key]


def close_queue(home: ServerHome) -> None:
    """Close the queue :func:`job_queue` opened for ``home``, if any."""
    with _QUEUES_LOCK:
        queue = _QUEUES.pop((str(home.path), home.config.resolved_database_url(home.path)), None)
    if queue is not None:
        queue.close()


def job_dir(home: ServerHome, job_id: int) -> Path:
    """``HOME/jobs/<id>/``: the job's files (uploads while it waits, a report it wrote)."""
    return home.path / JOBS_DIR / str(job_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# -- submitting and reading ---------------------------------------------------------------------------
def create_job(
    home: ServerHome,
    kind: str,
    workspace: str,
    params: dict[str, Any],
    *,
    actor: str,
    user_id: int | None = None,
) -> Job:
    """Store a ``queued`` job record (audited as ``job.submit``) without queueing it; :func:`submit` does
    both. Used by submitters that must place files in :func:`job_dir` before the job may start."""
    if kind not in KINDS:
        raise UsageError(f"unknown job kind {kind!r}; expected one of {', '.join(KINDS)}")
    home.workspace_path(workspace)  # NoWorkspaceError for an unknown workspace
    values = dict(
        kind=kind,
        workspace=workspace,
        params=jsonable(params),
        status="queued",
        progress=0.0,
        message="waiting for a worker",
        actor=actor,
        user_id=user_id,
        created_at=utcnow(),
        attempts=0,
    )
    with home.engine.begin() as conn:
        job_id = conn.execute(jobs.insert().values(**values).returning(jobs.c.id)).scalar_one()
        audit.record(
            conn,
            "job.submit",
            actor=actor,
            user_id=user_id,
            workspace=workspace,
            detail={"job": job_id, "kind": kind},
        )
    return get_job(home, job_id, reap=False)


def enqueue(home: ServerHome, job: Job) -> Job:
    """Put a stored job on the queue; if that fails the job is marked failed with the reason."""
    try:
        job_queue(home).enqueue(job.id)
    except Exception as exc:
        fail(home, job.id, f"the job could not be queued: {exc}", worker=None)
        raise
    return job


def submit(
    home: ServerHome,
    kind: str,
    workspace: str,
    params: dict[str, Any],
    *,
    actor: str,
    user_id: int | None = None,
) -> Job:
    """Store a job of ``kind`` on ``workspace`` and queue it; returns the queued job."""
    return enqueue(home, create_job(home, kind, workspace, params, actor=actor, user_id=user_id))


def get_job(home: ServerHome, job_id: int, *, reap: bool = True) -> Job:
    """The job ``job_id`` (stale running jobs are reaped first, so a dead job never reads as running).

    Raises
    ------
    JobNotFound
        When there is no such job.
    """
    if reap:
        reap_stale(home)
    with home.engine.connect() as conn:
        row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise JobNotFound(f"job {job_id} not found")
    return _job(row)


def list_jobs(home: ServerHome, workspace: str | None = None, *, limit: int = 50) -> list[Job]:
    """The newest ``limit`` jobs, of one workspace or all, newest first (stale ones reaped first)."""
    reap_stale(home)
    query = sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if workspace is not None:
        query = query.where(jobs.c.workspace == workspace)
    with home.engine.connect() as conn:
        return [_job(row) for row in conn.execute(query).mappings()]


def result_file(home: ServerHome, job: Job) -> Path | None:
    """The file a finished job produced (a report), when it is still there."""
    name = job.result_file
    if job.status != "done" or not name:
        return None
    path = job_dir(home, job.id) / Path(name).name
    return path if path.is_file() else None


# -- what a worker writes -----------------------------------------------------------------------------
def claim(home: ServerHome, job_id: int, worker: str) -> Job | None:
    """Mark a queued job running on ``worker``; None when it is not queued (already taken, or finished)."""
    now = utcnow()
    with home.engine.begin() as conn:
        done = conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.status == "queued")
            .values(
                status="running",
                started_at=now,
                heartbeat_at=now,
                worker=worker,
                attempts=jobs.c.attempts + 1,
                message="started",
            )
        )
    return get_job(home, job_id, reap=False) if done.rowcount == 1 else None


def report_progress(home: ServerHome, job_id: int, worker: str, fraction: float | None, message: str) -> None:
    """Record progress (0..1, None keeps the last fraction) and a one-line message; also a heartbeat."""
    values: dict[str, Any] = {"message": message[:MESSAGE_LENGTH], "heartbeat_at": utcnow()}
    if fraction is not None:
        values["progress"] = min(max(float(fraction), 0.0), 1.0)
    with home.engine.begin() as conn:
        conn.execute(
            jobs.update().where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.status == "running"),
            values,
        )


def heartbeat(home: ServerHome, job_id: int, worker: str) -> None:
    with home.engine.begin() as conn:
        conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.status == "running")
            .values(heartbeat_at=utcnow())
        )


def finish(home: ServerHome, job_id: int, result: dict[str, Any], *, worker: str) -> None:
    """Record a job done with its result (also after a reaper took it for dead: the work was done)."""
    with home.engine.begin() as conn:
        conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.worker == worker)
            .values(
                status="done",
                progress=1.0,
                message="done",
                result=jsonable(result),
                error=None,
                finished_at=utcnow(),
            )
        )


def fail(home: ServerHome, job_id: int, error: str, *, worker: str | None) -> None:
    """Record a job failed with a one-line ``error`` (only the worker that runs it, if named, may)."""
    line = " ".join(error.split())
    query = jobs.update().where(jobs.c.id == job_id)
    if worker is not None:
        query = query.where(jobs.c.worker == worker)
    with home.engine.begin() as conn:
        conn.execute(query.values(status="failed", message="failed", error=line, finished_at=utcnow()))


def reap_stale(home: ServerHome) -> list[int]:
    """Mark failed every running job whose worker gave no sign of life for ``job_stale_seconds``.

    Returns the ids of the jobs it marked.
    """
    cutoff = utcnow() - timedelta(seconds=home.config.job_stale_seconds)
    stale = (jobs.c.status == "running") & (jobs.c.heartbeat_at < cutoff)
    with home.engine.begin() as conn:
        found = conn.execute(sa.select(jobs.c.id, jobs.c.heartbeat_at, jobs.c.worker).where(stale)).all()
        for job_id, last, worker in found:
            error = (
                f"the worker running this job ({worker}) stopped: no sign of life since "
                f"{last:%Y-%m-%d %H:%M:%S} UTC; nothing it was writing was committed half-way. "
                "Submit the job again."
            )
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, stale)
                .values(status="failed", message="failed", error=error, finished_at=utcnow())
            )
    return [row[0] for row in found]


def requeue_lost(home: ServerHome, *, older_than: float | None = None) -> list[int]:
    """Queue again every job still ``queued`` after ``older_than`` seconds (default: ``job_stale_seconds``)
    whose message is not on the queue (lost between the record and the queue). Returns their ids.

    A job queued twice runs once: :func:`claim` takes a job only while it is queued.
    """
    wait = home.config.job_stale_seconds if older_than is None else older_than
    cutoff = utcnow() - timedelta(seconds=wait)
    with home.engine.connect() as conn:
        query = sa.select(jobs.c.id).where(jobs.c.status == "queued", jobs.c.created_at < cutoff)
        waiting = list(conn.execute(query).scalars())
    if not waiting:
        return []
    queue = job_queue(home)
    lost = sorted(set(waiting) - queue.pending_ids())
    for job_id in lost:
        queue.enqueue(job_id)
    return lost
