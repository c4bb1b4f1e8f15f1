"""Background jobs over HTTP: a fit and a report submitted as jobs (202), run by the worker's own code
(`execute_job`, what each worker thread calls), watched at /api/v1/jobs/{job}; visible to the workspace's
readers only; a report job's file downloaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trueroi.server import entries, grant
from trueroi.server.worker import execute_job

pytestmark = pytest.mark.parametrize("server_home", ["sqlite"], indirect=True)


@pytest.fixture
def mine(web_site, web_workspaces, tmp_path) -> Path:
    path = tmp_path / "mine"
    shutil.copytree(web_workspaces.paths["acme"], path, ignore=shutil.ignore_patterns(".trueroi"))
    web_site.home.register_workspace("mine", path, actor="cli:test")
    grant(web_site.home, "analyst@example.com", "analyst", ["mine"], actor="cli:test")
    return path


def test_a_fit_job_writes_a_model_the_api_then_lists(web_site, mine) -> None:
    body = {"model": "quick", "method": "map", "seed": 1}
    submitted = web_site.call("POST", "/api/v1/workspaces/mine/mmm/fit", "analyst", json=body)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert (job["status"], job["kind"], job["params"]["method"]) == ("queued", "mmm.fit", "map")
    assert job["url"] == f"/api/v1/jobs/{job['id']}" and job["result_url"] is None
    done = execute_job(web_site.home, job["id"])
    assert done.status == "done", done.error
    shown = web_site.call("GET", job["url"], "analyst", "token").json()
    assert shown["status"] == "done" and shown["progress"] == 1.0 and shown["error"] is None
    summary = web_site.call("GET", "/api/v1/workspaces/mine/mmm/models/quick", "analyst", "token").json()
    assert shown["result"]["channels"].keys() == summary["channels"].keys()
    assert shown["result"]["diagnostics"] == summary["diagnostics"]
    assert (mine / "models" / "quick" / "config.json").is_file()
    assert ("job.submit", "analyst@example.com") in [
        (e.action, e.actor) for e in entries(web_site.home.engine)
    ]


def test_a_report_job_and_its_file(web_site) -> None:
    body = {"period": "2025-10-01..2026-09-30", "format": "json"}
    job = web_site.call("POST", "/api/v1/workspaces/acme/reports", "analyst", "token", json=body).json()
    early = web_site.call("GET", f"/api/v1/jobs/{job['id']}/result", "viewer", "token")
    assert early.status_code == 409 and "queued" in early.json()["detail"]
    execute_job(web_site.home, job["id"])
    shown = web_site.call("GET", f"/api/v1/jobs/{job['id']}", "viewer").json()
    assert shown["status"] == "done" and shown["result_file"] == "report.json"
    report = web_site.call("GET", shown["result_url"], "viewer", "token")
    assert report.status_code == 200
    assert report.headers["content-disposition"] == 'attachment; filename="acme-2025-10-01..2026-09-30.json"'
    assert (report.json()["period"]["from"], report.json()["period"]["to"]) == ("2025-10-01", "2026-09-30")


def test_jobs_are_seen_only_by_readers_of_their_workspace(web_site) -> None:
    body = {"period": "2026-Q2", "format": "html"}
    job = web_site.call("POST", "/api/v1/workspaces/acme/reports", "admin", "token", json=body).json()
    url = f"/api/v1/jobs/{job['id']}"
    assert web_site.call("GET", url, "viewer", "token").json()["id"] == job["id"]
    hidden = web_site.call("GET", url, "other", "token")  # a viewer of globex only
    missing = web_site.call("GET", "/api/v1/jobs/999999", "other", "token")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == f"job {job['id']} not found"  # the same answer as for no job at all
    assert web_site.call("GET", url).status_code == 401
    listed = web_site.call("GET", "/api/v1/workspaces/acme/jobs", "viewer", "token").json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert web_site.call("GET", "/api/v1/workspaces/globex/jobs", "other", "token").json() == {"jobs": []}
    refused = web_site.call("POST", "/api/v1/workspaces/acme/reports", "viewer", "token", json=body)
    assert refused.status_code == 403


def test_a_failed_job_says_why_in_one_line(web_site) -> None:
    body = {"period": "2026-Q5", "format": "pdf"}
    job = web_site.call("POST", "/api/v1/workspaces/acme/reports", "analyst", "token", json=body).json()
    execute_job(web_site.home, job["id"])
    shown = web_site.call("GET", f"/api/v1/jobs/{job['id']}", "analyst", "token").json()
    assert shown["status"] == "failed" and "2026-Q5" in shown["error"] and "\n" not in shown["error"]
    assert str(web_site.home.path) not in shown["error"]
