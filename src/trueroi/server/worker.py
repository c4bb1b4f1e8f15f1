"""The job worker: a huey consumer that runs the home's background jobs (:mod:`trueroi.server.jobs`).

``trueroi server worker [--home HOME] [--threads N]`` runs :func:`run_worker` in the foreground (SIGINT or
SIGTERM stop it); ``trueroi serve`` starts the same as a child process (:func:`start_worker_process`),
which stops when its parent goes. Each job runs in one of the consumer's threads: claimed once, a heartbeat
thread keeps its record alive, and the outcome (result or one-line error) is recorded. Beside the consumer a
housekeeping thread reaps jobs of dead workers and queues again jobs whose message was lost.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path

from trueroi.errors import TrueRoiError
from trueroi.server import jobs
from trueroi.server.home import ServerHome
from trueroi.server.jobkinds import RUNNERS, JobContext

log = logging.getLogger("trueroi.jobs")


class Heartbeat:
    """A thread refreshing a running job's heartbeat every ``interval`` seconds until stopped."""

    def __init__(self, home: ServerHome, job_id: int, worker: str) -> None:
        self.home, self.job_id, self.worker = home, job_id, worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.home.config.job_heartbeat_seconds):
            try:
                jobs.heartbeat(self.home, self.job_id, self.worker)
            except Exception:  # a database hiccup: the next beat tries again
                log.exception("heartbeat of job %s failed", self.job_id)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def execute_job(home: ServerHome, job_id: int, worker: str | None = None) -> jobs.Job | None:
    """Claim and run job ``job_id``, recording its outcome; None when it was not queued (taken already).

    A library error fails the job with its one-line message; any other exception fails it with its type and
    message (the traceback goes to the worker's log).
    """
    worker = worker or f"{jobs.worker_name()}/{threading.get_ident()}"
    job = jobs.claim(home, job_id, worker)
    if job is None:
        return None
    ctx = JobContext(home, job, worker)
    with Heartbeat(home, job_id, worker):
        try:
            result = RUNNERS[job.kind](ctx)
        except TrueRoiError as exc:
            jobs.fail(home, job_id, ctx.clean(str(exc)), worker=worker)
        except Exception as exc:
            log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            jobs.fail(home, job_id, ctx.clean(f"internal error ({type(exc).__name__}): {exc}"), worker=worker)
        else:
            jobs.finish(home, job_id, result, worker=worker)
    return jobs.get_job(home, job_id, reap=False)


def housekeeping(home: ServerHome) -> tuple[list[int], list[int]]:
    """One round: reap stale running jobs and queue lost queued ones; returns (reaped ids, queued ids)."""
    return jobs.reap_stale(home), jobs.requeue_lost(home)


def _housekeep(home: ServerHome, stop: threading.Event, parent: int | None, consumer) -> None:  # noqa: ANN001
    while not stop.wait(home.config.job_heartbeat_seconds):
        if parent is not None and os.getppid() != parent:  # the web process is gone: stop with it
            log.warning("the parent process %s is gone; the job worker stops", parent)
            consumer.stop(graceful=False)
            return
        try:
            reaped, queued = housekeeping(home)
        except Exception:
            log.exception("job housekeeping failed")
            continue
        for job_id in reaped:
            log.warning("job %s: its worker stopped; marked failed", job_id)
        for job_id in queued:
            log.warning("job %s was queued but not on the queue; queued again", job_id)


def run_worker(home: ServerHome, *, threads: int = 2, parent: int | None = None) -> None:
    """Run the home's jobs with ``threads`` worker threads until SIGINT/SIGTERM (or, with ``parent``, until
    that process is gone). Blocks; must run in the main thread (signal handlers)."""
    queue = jobs.job_queue(home)
    queue.handler = lambda job_id: execute_job(home, job_id)
    consumer = queue.consumer(threads)
    housekeeping(home)
    stop = threading.Event()
    keeper = threading.Thread(
        target=_housekeep, args=(home, stop, parent, consumer), name="job-housekeeping", daemon=True
    )
    keeper.start()
    try:
        consumer.run()
    finally:
        stop.set()


def start_worker_process(home: Path, *, threads: int = 2) -> subprocess.Popen:
    """Start a worker for the home at ``home`` as a child process that stops when this process goes."""
    command = [sys.executable, "-m", "trueroi.server.worker", str(home), "--threads", str(threads)]
    return subprocess.Popen([*command, "--parent", str(os.getpid())])


def stop_worker_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Ask a worker started by :func:`start_worker_process` to stop (running jobs finish), then wait."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # huey's graceful stop: running jobs finish
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m trueroi.server.worker HOME [--threads N] [--parent PID]`` (what ``trueroi serve`` runs)."""
    parser = argparse.ArgumentParser(prog="trueroi-worker")
    parser.add_argument("home")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parent", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with ServerHome.open(args.home) as home:
        run_worker(home, threads=args.threads, parent=args.parent)


if __name__ == "__main__":
    main()
