"""Background jobs with real worker processes (`python -m trueroi.server.worker`, what `trueroi serve`
starts), on a SQLite home and (slow) a PostgreSQL one: a job runs to done with its progress recorded; a
worker killed with SIGKILL mid-job leaves its job failed within a bounded time, never running; queued jobs
survive a restart; two loads into one workspace run one after the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from trueroi.server import ServerHome
from trueroi.server.jobkinds import submit_import
from trueroi.server.jobs import close_queue, create_job, get_job, job_queue, requeue_lost
from trueroi.workspace import Workspace, WorkspaceConfig

HEARTBEAT, STALE = 0.5, 3.0
ADS = (
    "date_day,platform,campaign_id,campaign_name,currency,spend,impressions,clicks,conversions,"
    "conversions_value\n"
)


def ads_file(folder: Path, name: str, day: str, spend: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(ADS + f"{day},google_ads,c1,Brand One,EUR,{spend},1000,50,2,120.00\n", encoding="utf-8")
    return path


@pytest.fixture
def home(server_home: ServerHome) -> Iterator[ServerHome]:
    """The home with short job timings (written to server.toml for the workers) and an empty workspace."""
    server_home.config.job_heartbeat_seconds = HEARTBEAT
    server_home.config.job_stale_seconds = STALE
    server_home.config.save(server_home.path)
    Workspace.init(server_home.workspaces_dir / "shop", WorkspaceConfig(name="shop")).close()
    yield server_home
    close_queue(server_home)


@contextmanager
def worker(home: ServerHome, threads: int = 1) -> Iterator[subprocess.Popen]:
    log = open(home.path / f"worker-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 - closed below
    command = [sys.executable, "-m", "trueroi.server.worker", str(home.path), "--threads", str(threads)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def wait_for(what: Callable[[], bool], timeout: float, label: str) -> float:
    """Seconds until ``what()`` holds (polling); fails the test after ``timeout``."""
    start = time.monotonic()
    while not what():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{label}: not within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - start


def rows(home: ServerHome) -> int:
    with Workspace.open(home.workspace_path("shop")) as ws:
        return ws.row_count("ad_performance")


def test_a_job_runs_to_done_with_its_progress(home, tmp_path) -> None:
    job = submit_import(
        home, "shop", [ads_file(tmp_path, "a.csv", "2026-03-02", 10.5)], actor="ana@example.com"
    )
    assert (job.status, job.progress, job.message) == ("queued", 0.0, "waiting for a worker")
    with worker(home):
        wait_for(lambda: get_job(home, job.id).finished, 120, "the import job")
    done = get_job(home, job.id)
    assert done.status == "done", done.error
    assert done.progress == 1.0 and done.attempts == 1 and done.actor == "ana@example.com"
    assert done.created_at <= done.started_at <= done.heartbeat_at <= done.finished_at
    assert done.result["imports"][0]["rows"] == 1 and done.result["imports"][0]["file"] == "a.csv"
    assert rows(home) == 1


def test_a_worker_killed_mid_job_leaves_it_failed_not_running(home, tmp_path) -> None:
    holder = Workspace.open(home.workspace_path("shop"))
    with holder.writing("a test holding the workspace"):  # the job stages its rows, then waits here
        job = submit_import(home, "shop", [ads_file(tmp_path, "a.csv", "2026-03-02", 10.5)], actor="t")
        with worker(home) as process:

            def waiting() -> bool:
                found = get_job(home, job.id)
                return found.status == "running" and "a test holding the workspace" in found.message

            wait_for(waiting, 120, "the job waiting for the workspace")
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        assert get_job(home, job.id).status == "running"  # until its heartbeat is stale
        took = wait_for(lambda: get_job(home, job.id).status == "failed", STALE + 5, "the reaper")
    holder.close()
    failed = get_job(home, job.id)
    assert took <= STALE + 5
    assert "stopped" in failed.error and "Submit the job again" in failed.error
    assert rows(home) == 0  # nothing of the killed load was committed
    again = submit_import(home, "shop", [ads_file(tmp_path, "a.csv", "2026-03-02", 10.5)], actor="t")
    with worker(home):
        wait_for(lambda: get_job(home, again.id).finished, 120, "the job run again")
    assert get_job(home, again.id).status == "done" and rows(home) == 1


def test_queued_jobs_survive_a_restart_of_the_web_process(home, tmp_path) -> None:
    job = submit_import(home, "shop", [ads_file(tmp_path, "a.csv", "2026-03-02", 10.5)], actor="t")
    path = home.path
    close_queue(home)
    home.close()  # the web process stops with the job queued and no worker
    with ServerHome.open(path) as reopened:
        assert get_job(reopened, job.id).status == "queued"
        with worker(reopened):
            wait_for(lambda: get_job(reopened, job.id).finished, 120, "the job after the restart")
        assert get_job(reopened, job.id).status == "done"
        close_queue(reopened)


def test_two_loads_into_one_workspace_run_one_after_the_other(home, tmp_path) -> None:
    holder, held = Workspace.open(home.workspace_path("shop")), ExitStack()
    held.enter_context(holder.writing("a test holding the workspace"))
    with worker(home, threads=2):
        first = submit_import(
            home, "shop", [ads_file(tmp_path / "1", "a.csv", "2026-03-02", 10.5)], actor="t"
        )
        second = submit_import(
            home, "shop", [ads_file(tmp_path / "2", "b.csv", "2026-03-03", 7.25)], actor="t"
        )

        def one_waits_for_the_other() -> bool:
            a, b = get_job(home, first.id), get_job(home, second.id)
            return a.status == b.status == "running" and any("to finish loading" in j.message for j in (a, b))

        wait_for(one_waits_for_the_other, 120, "the second load waiting for the first")
        a, b = get_job(home, first.id), get_job(home, second.id)
        waiting, loading = (a, b) if "to finish loading" in a.message else (b, a)
        assert f"job {loading.id} (import)" in waiting.message
        held.close()  # the test lets go of the workspace: the loads commit, one after the other
        wait_for(lambda: all(get_job(home, j.id).finished for j in (a, b)), 120, "both loads")
    holder.close()
    waiting, loading = get_job(home, waiting.id), get_job(home, loading.id)
    assert waiting.status == loading.status == "done"
    assert waiting.finished_at >= loading.finished_at
    assert rows(home) == 2


def test_a_job_whose_message_was_lost_is_queued_again(home) -> None:
    job = create_job(home, "report", "shop", {"period": "2026-Q1", "format": "json"}, actor="t")
    assert job.id not in job_queue(home).pending_ids()  # stored, but never put on the queue
    assert requeue_lost(home, older_than=0) == [job.id]
    assert job.id in job_queue(home).pending_ids()
    assert requeue_lost(home, older_than=0) == []  # on the queue now: not twice
