"""The web app in a real browser: Debian's headless Chromium driven by Playwright (``executable_path``; no
browser download) against a real ``uvicorn`` server on 127.0.0.1.

A tiny demo shop (scale 0.02) whose Display ad rows are held back is served with a fitted mix model (MAP),
a goal and a budget. The tests log in, open every page of the navigation without a console error or a
failed request, change the period and the attribution model and see the table change, upload the held-back
Display export and see the KPIs change, run the budget planner, and download a PDF report.

With ``TRUEROI_SCREENSHOTS=DIR`` the page tour saves screenshots of the main pages there
(the README's: ``TRUEROI_SCREENSHOTS=docs/screenshots pytest tests/web/test_browser.py``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from trueroi.demo import demo_config, generate, load_into
from trueroi.goals import add_budget, add_goal
from trueroi.mmm import fit_mix_model
from trueroi.server import ServerHome, add_user
from trueroi.web.render import WORKSPACE_PAGES
from trueroi.workspace import Workspace

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
EMAIL, PASSWORD = "ana@example.com", "correct horse battery staple"
WS = "shop"
# The pages the README shows (file name -> path).
SCREENSHOTS = {
    "portfolio": "/",
    "overview": f"/w/{WS}/",
    "channels": f"/w/{WS}/channels",
    "attribution": f"/w/{WS}/attribution",
    "mix-model": f"/w/{WS}/mmm",
    "budget-planner": f"/w/{WS}/budget?total=&weeks=13",
    "imports": f"/w/{WS}/imports",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shop(root: Path) -> tuple[Path, Path]:
    """The demo shop's workspace without its Display ad rows, and those rows as an export file."""
    files = generate(root / "data", seed=5, scale=0.02)
    held_back = root / "upload" / "display_ads.parquet"
    held_back.parent.mkdir()
    for part in files.parts("ad_performance"):
        table = pq.read_table(part)
        display = pc.equal(table["channel"], "Display")
        pq.write_table(table.filter(display), held_back)
        pq.write_table(table.filter(pc.invert(display)), part)
    directory = root / WS
    with Workspace.init(directory, demo_config(WS)) as ws:
        load_into(ws, files)
        add_goal(ws, "q3-revenue", "revenue", 60000.0, date(2026, 7, 1), date(2026, 9, 30))
        add_budget(ws, "q3-media", 9000.0, date(2026, 7, 1), date(2026, 9, 30))
    fit_mix_model(workspace=directory, method="map", out=directory / "models" / "mmm", seed=1)
    return directory, held_back


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A real uvicorn serving the shop (analyst ``ana``), and the export file held back."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run 'make sysdeps' (installs Debian's chromium)")
    root = tmp_path_factory.mktemp("browser")
    directory, held_back = _shop(root)
    with ServerHome.init(root / "home") as home:
        home.register_workspace(WS, directory, actor="cli:test")
        add_user(home, EMAIL, PASSWORD, "analyst", [WS], actor="cli:test")
    port = _free_port()
    env = {**os.environ, "TRUEROI_HOME": str(root / "home")}
    command = [sys.executable, "-m", "uvicorn", "--factory", "trueroi.web.app:app_from_environment"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, server)
        yield SimpleNamespace(url=url, upload=held_back, root=root)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"uvicorn exited with {server.returncode}")
        try:
            with socket.create_connection((url.split("//")[1].split(":")[0], int(url.rsplit(":", 1)[1])), 1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("uvicorn did not answer within 60 s")


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A signed-in page whose console errors and failed or 4xx/5xx responses are collected."""

    def __init__(self, browser, site, viewport=None) -> None:
        self.context = browser.new_context(
            viewport=viewport or {"width": 1366, "height": 900}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(120_000)
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        self.site = site

    def _failed(self, request) -> None:
        # Leaving a page closes its open event stream (the live page's): an abort, not a failure.
        if request.resource_type == "eventsource" and request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"failed: {request.method} {request.url} {request.failure}")

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.request.method} {response.url}")

    def goto(self, path: str) -> None:
        self.page.goto(self.site.url + path)
        if path.endswith("/live"):  # its event stream stays open: never idle
            self.page.wait_for_load_state("load")
            self.page.wait_for_timeout(1000)
        else:
            self.page.wait_for_load_state("networkidle")

    def login(self) -> None:
        self.goto("/login")
        self.page.fill("input[name=email]", EMAIL)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.site.url + "/")

    def row_value(self, first: str, column: int) -> str:
        """The text of cell ``column`` of the KPI table's row whose first cell is ``first``."""
        rows = self.page.locator("#kpi-table tbody tr").all_inner_texts()
        found = [r.split("\t") for r in rows if r.split("\t")[0].strip() == first]
        assert len(found) == 1, (first, rows)
        return found[0][column].strip()

    def tile(self, label: str) -> str:
        return (
            self.page.locator(".tile", has=self.page.locator(".label", has_text=re.compile(f"^{label}$")))
            .locator(".value")
            .inner_text()
        )


@pytest.fixture
def web(browser, site):
    watched = Watched(browser, site)
    watched.login()
    yield watched
    watched.context.close()


def _amount(text: str) -> float:
    return float(text.replace(",", ""))


def test_every_page_of_the_navigation_opens_cleanly(web, site) -> None:
    web.goto(f"/w/{WS}/")
    links = web.page.locator("nav.subnav a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert links == [f"/w/{WS}/{sub}" for _, sub in WORKSPACE_PAGES]
    for link in ["/", *links]:
        web.goto(link)
        assert web.page.locator("h1").count() == 1, link
    web.goto(f"/w/{WS}/attribution")
    web.page.wait_for_selector("#roi-fragment .chart[data-drawn]")  # the ROI fragment arrived and drew
    assert web.page.locator("div.chart[data-drawn]").count() == 2  # credits by model, ROI by model
    web.goto(f"/w/{WS}/mmm")
    assert web.page.locator("div.chart[data-drawn]").count() == 4  # ROI, curves, decomposition, fit
    assert not web.problems, "\n".join(web.problems)
    folder = os.environ.get("TRUEROI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for name, path in SCREENSHOTS.items():
            web.goto(path)
            web.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
        assert not web.problems, "\n".join(web.problems)


def test_period_and_attribution_model_change_the_table(web) -> None:
    web.goto(f"/w/{WS}/channels")
    table = web.page.locator("#kpi-table tbody")
    quarter = table.inner_text()
    web.page.select_option("select[name=period]", "2026-07")
    web.page.click("form.picker button[type=submit]")
    web.page.wait_for_url(re.compile(r"period=2026-07"))
    web.page.wait_for_load_state("networkidle")
    july = table.inner_text()
    assert july != quarter
    assert "2026-07-01 – 2026-07-31" in web.page.locator("#channels p.muted").first.inner_text()
    assert web.page.locator("#attribution-model").inner_text() == "last_non_direct_click"
    web.page.select_option("select[name=attribution]", "first_click")
    web.page.click("form.picker button[type=submit]")
    web.page.wait_for_url(re.compile(r"attribution=first_click"))
    web.page.wait_for_load_state("networkidle")
    assert web.page.locator("#attribution-model").inner_text() == "first_click"
    assert table.inner_text() != july  # other credits, same spend
    assert not web.problems, "\n".join(web.problems)


def test_uploading_an_export_changes_the_kpis(web, site) -> None:
    web.goto(f"/w/{WS}/")
    before = _amount(web.tile("Spend"))
    web.goto(f"/w/{WS}/channels")
    assert web.row_value("Display", 1) == "0.00"  # sessions from Display, but no ad spend yet
    web.goto(f"/w/{WS}/imports")
    web.page.set_input_files("#files", str(site.upload))
    web.page.click("#upload")
    web.page.wait_for_selector("#import-result")
    result = web.page.locator("#import-result").inner_text()
    assert "display_ads.parquet" in result and "loaded" in result
    web.goto(f"/w/{WS}/")
    assert _amount(web.tile("Spend")) > before
    web.goto(f"/w/{WS}/channels")
    assert _amount(web.row_value("Display", 1)) > 0
    assert not web.problems, "\n".join(web.problems)


def test_the_budget_planner_spends_the_total_it_is_given(web) -> None:
    web.goto(f"/w/{WS}/budget")
    web.page.fill("#total", "500")
    web.page.click("#optimize")
    web.page.wait_for_selector("#plan-table")
    rows = web.page.locator("#plan-table tbody tr").all_inner_texts()
    recommended = [_amount(r.split("\t")[2]) for r in rows]
    assert len(recommended) >= 2
    assert sum(recommended) == pytest.approx(500, abs=len(recommended))  # shown rounded to whole units
    assert "this plan" in web.page.locator("#scenarios").inner_text()
    assert not web.problems, "\n".join(web.problems)


def test_a_pdf_report_downloads(web, tmp_path) -> None:
    web.goto(f"/w/{WS}/reports")
    web.page.fill("input[name=period]", "2026-08")
    with web.page.expect_download(timeout=180_000) as download:
        web.page.click("#download")
    target = tmp_path / "report.pdf"
    download.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename == f"{WS}-2026-08.pdf"
    # Chromium ends a navigation that became a download as an aborted request: that one is no failure.
    problems = [p for p in web.problems if not ("/reports/download?" in p and p.endswith("net::ERR_ABORTED"))]
    assert not problems, "\n".join(problems)


def test_the_overview_reads_on_a_tablet(browser, site) -> None:
    tablet = Watched(browser, site, viewport={"width": 768, "height": 1024})
    try:
        tablet.login()
        tablet.goto(f"/w/{WS}/")
        width = tablet.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 768  # nothing wider than the screen: wide tables scroll inside their box
        assert tablet.page.locator(".tile").count() == 7
        folder = os.environ.get("TRUEROI_SCREENSHOTS")
        if folder:
            tablet.page.screenshot(path=str(Path(folder) / "overview-tablet.png"), full_page=True)
        assert not tablet.problems, "\n".join(tablet.problems)
    finally:
        tablet.context.close()
