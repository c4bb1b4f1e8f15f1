"""The queue that carries background jobs from the web process to a worker: huey.

Only a job's id travels through the queue; the job's record (status, progress, result, error, who started
it) lives in the metadata database (:mod:`trueroi.server.jobs`). The storage follows the home's metadata
database, so one setting decides both:

- SQLite home (the embedded default): ``huey.SqliteHuey`` on ``HOME/jobs/queue.db`` (WAL, one file);
- PostgreSQL home: ``huey.PostgresHuey`` (psycopg 3) on the same PostgreSQL database: ``FOR UPDATE SKIP
  LOCKED`` dequeues and LISTEN/NOTIFY wake-ups, so several workers on several machines share it. Its tables
  are ``trueroi_queue_kv``, ``_schedule``, ``_task`` and ``_counter``.

Messages survive a restart of the web process and of the worker: they sit in the storage until a worker
takes one. A worker killed after taking a message loses it; its job's record then goes stale and is marked
failed by the reaper (:func:`trueroi.server.worker.housekeeping`), never left "running".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from huey import Huey, PostgresHuey, SqliteHuey

from trueroi.errors import ConfigError

QUEUE_NAME = "trueroi-jobs"
JOBS_DIR = "jobs"  # HOME/jobs/: the SQLite queue and each job's files (uploads, reports)
QUEUE_FILE = "queue.db"

Handler = Callable[[int], None]


def _refuse(job_id: int) -> None:
    raise ConfigError(f"job {job_id} reached a queue that only submits; run it with a worker")


class JobQueue:
    """One home's huey queue with its single task, ``run_job(job_id)``.

    The web process only calls :meth:`enqueue`; a worker sets :attr:`handler` (what running a job means)
    and runs :meth:`consumer`. Both build the queue the same way, so the task's name matches.
    """

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self.handler: Handler = _refuse

        def run_job(job_id: int) -> None:
            self.handler(job_id)

        run_job.__module__ = __name__  # the task's name in the queue: trueroi.server.jobqueue.run_job
        self._task = huey.task(name="run_job")(run_job)

    def enqueue(self, job_id: int) -> None:
        """Put job ``job_id`` on the queue (the connection is closed after: the web process enqueues
        rarely, and an idle connection must not outlive the request's home)."""
        try:
            self._task(job_id)
        finally:
            self.huey.storage.close()

    def pending_ids(self) -> set[int]:
        """The job ids waiting in the queue (taken ones are not listed)."""
        try:
            return {int(task.args[0]) for task in self.huey.pending() if task.args}
        finally:
            self.huey.storage.close()

    def consumer(self, threads: int):  # noqa: ANN201 - huey.consumer.Consumer
        """A huey consumer with ``threads`` worker threads (no periodic tasks)."""
        return self.huey.create_consumer(
            workers=threads, worker_type="thread", periodic=False, initial_delay=0.1, max_delay=1.0
        )

    def close(self) -> None:
        self.huey.storage.close()


def open_queue(home_path: Path, database_url: str) -> JobQueue:
    """The job queue of the home at ``home_path`` whose metadata database is ``database_url``.

    Raises
    ------
    ConfigError
        When the metadata database is neither SQLite nor PostgreSQL.
    """
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        folder = home_path / JOBS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(QUEUE_NAME, filename=str(folder / QUEUE_FILE), results=False, timeout=30)
        return JobQueue(huey)
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return JobQueue(PostgresHuey(QUEUE_NAME, dsn=dsn, results=False, table_prefix="trueroi_queue"))
    raise ConfigError(
        f"background jobs need a SQLite or PostgreSQL metadata database, not {url.get_backend_name()}"
    )
