"""Fixtures of the management-report tests: a branded demo shop, its Q3 report content, a headless browser."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from trueroi.workspace import Workspace
from trueroi.workspace.config import Branding

CLIENT = "acme"
BRAND = Branding(
    name="Acme Shoes GmbH", logo="brand/acme.png", primary_color="#7a1f5c", accent_color="#2a9d8f"
)
PERIOD = "2026-Q3"

# A goal the test declares as off track: 280 of 1,000 newsletter signups with the period over.
OFF_TRACK_GOAL = {
    "name": "Newsletter push Q3",
    "kpi": "conversions",
    "scope": "all",
    "horizon": "mid",
    "from": "2026-07-01",
    "to": "2026-09-30",
    "target": 1000.0,
    "actual": 280.0,
    "progress": 0.28,
    "expected": 280.0,
    "expected_lower": 270.0,
    "expected_upper": 290.0,
    "status": "off_track",
    "direction": "up",
    "days_elapsed": 92,
    "days_total": 92,
    "forecast_method": "hand-made for the test",
}
ON_TRACK_GOAL = {
    **OFF_TRACK_GOAL,
    "name": "Revenue Q3",
    "kpi": "revenue",
    "target": 30000.0,
    "actual": 34000.0,
    "progress": 34000.0 / 30000.0,
    "expected": 34000.0,
    "expected_lower": 33000.0,
    "expected_upper": 35000.0,
    "status": "on_track",
}
ANOMALY = {
    "day": "2026-08-14",
    "scope": "channel",
    "scope_value": "Shopping",
    "kpi": "cpa",
    "observed": 30.0,
    "expected": 10.0,
    "lower": 5.0,
    "upper": 15.0,
    "direction": "up",
    "score": 6.0,
    "severity": "warning",
    "grain": "day",
    "hour": None,
    "channel": "Shopping",
    "campaign": None,
}


def write_logo(path: Path, color: str = "#2a9d8f") -> Path:
    """A small solid PNG logo drawn by matplotlib (Agg canvas of its own)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.2, 0.6), dpi=100)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor(color)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", facecolor=color)
    return path


@pytest.fixture(scope="session")
def branded_shop(tmp_path_factory):
    """The demo shop (scale 0.03, seed 7) in a workspace with a branded client ``acme`` and its logo."""
    from trueroi.demo import demo_config, generate, load_into

    root = tmp_path_factory.mktemp("branded")
    files = generate(root / "demo-data", seed=7, scale=0.03)
    config = demo_config()
    config.clients = {CLIENT: BRAND}
    ws = Workspace.init(root / "ws", config)
    write_logo(root / "ws" / BRAND.logo)
    load_into(ws, files)
    yield SimpleNamespace(ws=ws, root=root)
    ws.close()


@pytest.fixture(scope="session")
def report_content(branded_shop):
    """The Q3 2026 report content for client acme, with a declared off-track goal, pacing and an anomaly."""
    from trueroi.report.management import build_report

    # the fields of trueroi.goals.PacingStatus.to_dict(): 2,489.05 of 3,000 spent, the period over
    pacing = [
        {
            "name": "Q3 media",
            "scope": {"channel": None, "campaign": None},
            "from": "2026-07-01",
            "to": "2026-09-30",
            "amount": 3000.0,
            "spend_to_date": 2489.05,
            "expected_to_date": 3000.0,
            "projected": 2489.05,
            "projected_lower": 2489.05,
            "projected_upper": 2489.05,
            "status": "under",
            "daily_needed": None,
        }
    ]
    return build_report(
        branded_shop.ws,
        PERIOD,
        client=CLIENT,
        goals=[OFF_TRACK_GOAL, ON_TRACK_GOAL],
        pacing=pacing,
        anomalies=[ANOMALY],
    )


CHROMIUM = "/usr/bin/chromium"


def chromium_dump(page: Path, tmp: Path, budget_ms: int = 4000) -> SimpleNamespace:
    """Open ``page`` in headless Chromium; return its DOM after scripts ran, console lines and page requests.

    ``requests`` holds (initiator, url) of every network request the page started: Chromium's own
    background traffic has the initiator ``not an origin`` and is left out; a ``file:`` page's own requests
    carry the initiator ``null``.
    """
    profile, netlog = tmp / "profile", tmp / "net.json"
    shutil.rmtree(profile, ignore_errors=True)
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        f"--log-net-log={netlog}",
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = [
        (e["params"].get("initiator"), e["params"]["url"])
        for e in log["events"]
        if e["type"] == start_job and "url" in e.get("params", {})
    ]
    page_requests = [(i, u) for i, u in requests if i != "not an origin"]
    return SimpleNamespace(
        dom=done.stdout, console=console, requests=page_requests, returncode=done.returncode
    )


@pytest.fixture
def browser(tmp_path):
    """``open(page)`` -> DOM, console lines and page-initiated requests (see :func:`chromium_dump`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run 'make sysdeps' (installs chromium and poppler-utils)")
    return lambda page, budget_ms=4000: chromium_dump(page, tmp_path, budget_ms)


@pytest.fixture(scope="session")
def case():
    """The constants the report tests share (client, branding, period, declared goals and anomaly)."""
    return SimpleNamespace(
        client=CLIENT,
        brand=BRAND,
        period=PERIOD,
        off_track=OFF_TRACK_GOAL,
        on_track=ON_TRACK_GOAL,
        anomaly=ANOMALY,
        write_logo=write_logo,
    )
