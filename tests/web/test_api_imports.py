"""Uploads: the same atomic, idempotent load as `trueroi import`, the same one-line error naming file, row
and column, checks of size and type before parsing, background imports as jobs; report files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trueroi.server import grant
from trueroi.server.jobs import get_job, job_dir
from trueroi.server.worker import execute_job

pytestmark = pytest.mark.parametrize("server_home", ["sqlite"], indirect=True)

HEADER = (
    "date_day,platform,campaign_id,campaign_name,currency,spend,impressions,clicks,conversions,"
    "conversions_value\n"
)
# two ad days in June 2026 (acme's data runs to 2026-09-30): 1000.25 + 234.25 = 1234.50 EUR of spend
EXTRA_ADS = HEADER + (
    "2026-06-10,google_ads,up1,Upload Test One,EUR,1000.25,10000,300,4,400.00\n"
    "2026-06-11,google_ads,up1,Upload Test One,EUR,234.25,2000,60,1,80.00\n"
)


@pytest.fixture
def mine(web_site, web_workspaces, tmp_path) -> Path:
    path = tmp_path / "mine"
    shutil.copytree(web_workspaces.paths["acme"], path, ignore=shutil.ignore_patterns(".trueroi"))
    web_site.home.register_workspace("mine", path, actor="cli:test")
    grant(web_site.home, "analyst@example.com", "analyst", ["mine"], actor="cli:test")
    return path


def june_spend(site) -> float:
    kpis = site.call("GET", "/api/v1/workspaces/mine/kpis?by=channel&period=2026-06", "admin", "token")
    assert kpis.status_code == 200, kpis.text
    return kpis.json()["totals"]["spend"]


def upload(site, caller: str, *files: tuple[str, bytes], query: str = "", via: str = "session"):
    parts = [("files", (name, content, "text/csv")) for name, content in files]
    return site.call("POST", f"/api/v1/workspaces/mine/imports{query}", caller, via, files=parts)


def test_an_upload_changes_the_kpis_once(web_site, mine) -> None:
    before = june_spend(web_site)
    response = upload(web_site, "analyst", ("extra_ads.csv", EXTRA_ADS.encode()))
    assert response.status_code == 200, response.text
    (row,) = response.json()["imports"]
    assert (row["file"], row["format"], row["rows"], row["skipped"]) == (
        "extra_ads.csv",
        "ad-performance",
        2,
        False,
    )
    assert june_spend(web_site) == pytest.approx(before + 1234.50, abs=1e-6)
    again = upload(web_site, "analyst", ("extra_ads.csv", EXTRA_ADS.encode()), via="token")
    assert again.json()["imports"][0]["skipped"] is True  # the same file is loaded once
    assert june_spend(web_site) == pytest.approx(before + 1234.50, abs=1e-6)
    history = web_site.call("GET", "/api/v1/workspaces/mine/imports", "analyst", "token").json()["imports"]
    assert [i["file"] for i in history].count("extra_ads.csv") == 1


def test_a_broken_file_is_one_line_naming_file_row_and_column(web_site, mine) -> None:
    before = june_spend(web_site)
    broken = EXTRA_ADS.replace("234.25", "23x.25")
    response = upload(web_site, "admin", ("broken_ads.csv", broken.encode()), via="token")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("broken_ads.csv") and "row 2" in detail and "column spend" in detail
    assert "23x.25" in detail and "\n" not in detail and "trueroi-upload" not in response.text
    assert june_spend(web_site) == pytest.approx(before, abs=1e-6)  # nothing half-loaded


def test_uploads_are_checked_for_size_and_type_before_parsing(web_site, mine) -> None:
    web_site.home.config.upload_max_mb = 0.001  # 1,000 bytes
    large = upload(web_site, "admin", ("big.csv", (HEADER + "x" * 2000).encode()), via="token")
    assert large.status_code == 413 and large.json()["error"] == "UploadTooLarge"
    web_site.home.config.upload_max_mb = 200.0
    for name, content in (
        ("tool.exe", b"MZ\x90\x00"),
        ("ads.csv", b"date_day\x00,spend\n"),
        ("x.parquet", b"id\n1\n"),
    ):
        refused = upload(web_site, "admin", (name, content), via="token")
        assert refused.status_code == 415 and name in refused.json()["detail"], refused.text
    assert web_site.call("GET", "/api/v1/workspaces/mine/imports", "admin", "token").json()["imports"][-1][
        "file"
    ] not in ("big.csv", "tool.exe", "ads.csv", "x.parquet")


def test_nothing_to_upload_and_viewers_are_refused(web_site, mine) -> None:
    empty = web_site.call("POST", "/api/v1/workspaces/mine/imports", "admin", "token")
    assert empty.status_code == 400 and "no file" in empty.json()["detail"]
    viewer = web_site.call("POST", "/api/v1/workspaces/acme/imports", "viewer", "token", files=[])
    assert viewer.status_code == 403


def test_a_background_upload_is_a_job_that_loads(web_site, mine) -> None:
    before = june_spend(web_site)
    response = upload(web_site, "analyst", ("extra_ads.csv", EXTRA_ADS.encode()), query="?background=true")
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["status"], job["kind"], job["actor"]) == ("queued", "import", "analyst@example.com")
    assert june_spend(web_site) == pytest.approx(before, abs=1e-6)  # nothing loaded in the request
    done = execute_job(web_site.home, job["id"])  # what a worker does with it
    assert done.status == "done", done.error
    assert june_spend(web_site) == pytest.approx(before + 1234.50, abs=1e-6)
    shown = web_site.call("GET", f"/api/v1/jobs/{job['id']}", "analyst", "token").json()
    assert shown["result"]["imports"][0]["file"] == "extra_ads.csv" and shown["progress"] == 1.0
    assert not (job_dir(web_site.home, job["id"]) / "upload").exists()  # the upload is removed after


def test_a_failed_background_import_says_why(web_site, mine) -> None:
    broken = EXTRA_ADS.replace("234.25", "23x.25")
    job = upload(web_site, "admin", ("broken_ads.csv", broken.encode()), query="?background=true").json()
    execute_job(web_site.home, job["id"])
    failed = get_job(web_site.home, job["id"])
    assert failed.status == "failed"
    assert failed.error.startswith("broken_ads.csv") and "column spend" in failed.error
    assert str(web_site.home.path) not in failed.error


def test_the_report_file_of_a_period(web_site) -> None:
    response = web_site.call("GET", "/api/v1/workspaces/acme/reports?period=2026-Q2&format=json", "viewer")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="acme-2026-Q2.json"'
    assert response.json()["title"] == "Marketing performance 2026-Q2"
    html = web_site.call(
        "GET", "/api/v1/workspaces/acme/reports?period=2026-Q2&format=html", "viewer", "token"
    )
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text.lower()
    bad = web_site.call(
        "GET", "/api/v1/workspaces/acme/reports?period=2026-Q2&format=docx", "viewer", "token"
    )
    assert bad.status_code == 400 and "docx" in bad.json()["detail"]
