"""The alert and monitor entry points the faces call, on a small hand-built shop.

Ten weeks of ads, 1 March - 9 May 2026: Search spends 100 EUR a day (Sunday 60), Social 50 EUR a day;
on the last day Search spends 1,000 instead (a runaway bid).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.errors import TrueRoiError, UsageError
from trueroi.monitor import (
    AlertRule,
    DeliveryError,
    add_alert,
    check_anomalies,
    list_alerts,
    make_rule,
    outbox_report,
    parse_every,
    remove_alert,
    run_monitor,
    watch,
)
from trueroi.workspace import Workspace

FIRST, LAST = date(2026, 3, 1), date(2026, 5, 9)


def _ad(day: date, channel: str, spend: float) -> dict:
    return {
        "date_day": day,
        "platform": "google_ads",
        "campaign_id": f"{channel.lower()}-1",
        "campaign_name": f"{channel.lower()}-1",
        "channel": channel,
        "currency": "EUR",
        "spend": spend,
        "clicks": 10,
        "impressions": 1000,
    }


@pytest.fixture
def shop(workspace: Workspace) -> Workspace:
    rows = []
    for i in range((LAST - FIRST).days + 1):
        day = FIRST + timedelta(days=i)
        search = 1000.0 if day == LAST else 60.0 if day.weekday() == 6 else 100.0
        rows += [_ad(day, "Search", search), _ad(day, "Social", 50.0)]
    workspace.load(
        {"ad_performance": pd.DataFrame(rows)}, source_format="test", file_name="ads.csv", sha256="ads"
    )
    return workspace


def test_a_rule_needs_exactly_one_condition() -> None:
    rule = make_rule("cap", " Spend ", above=500, severity="CRITICAL", channel=" Search ")
    assert (rule.kpi, rule.condition, rule.threshold, rule.severity) == ("spend", "above", 500, "critical")
    assert (rule.scope_text, rule.condition_text) == ("channel Search", "spend above 500")
    assert rule.receivers_text == "(none: recorded only)"
    assert make_rule("drop", "sessions", anomaly=True).condition_text == "sessions anomaly"
    for conditions in ({}, {"above": 1, "below": 2}, {"below": 1, "anomaly": True}):
        with pytest.raises(UsageError, match="exactly one condition"):
            make_rule("x", "spend", **conditions)
    with pytest.raises(UsageError, match="condition 'below' needs a threshold"):
        AlertRule(name="x", kpi="spend", condition="below")


def test_alerts_are_added_listed_and_removed(workspace: Workspace) -> None:
    add_alert(workspace, "cap", "spend", above=500, channel="Search", emails=["a@example.com"])
    add_alert(
        workspace, "cpa", "cpa", anomaly=True, campaign="Brand", webhooks=["https://chat.example.com/h"]
    )
    with pytest.raises(UsageError, match="exists"):
        add_alert(workspace, "cap", "spend", below=1)
    add_alert(workspace, "cap", "spend", below=1, replace=True)
    listed = list_alerts(workspace)
    assert [r["name"] for r in listed.to_dict()["alerts"]] == ["cap", "cpa"]
    cap, cpa = listed.rows()
    assert (cap["condition_text"], cap["scope_text"], cap["receivers"]) == (
        "spend below 1",
        "all",
        "(none: recorded only)",
    )
    assert (cpa["condition_text"], cpa["scope_text"]) == ("cpa anomaly", "campaign brand")
    assert cpa["receivers"] == "https://chat.example.com/h" and "emails" not in cpa
    assert listed.to_dict()["alerts"][1]["webhooks"] == ["https://chat.example.com/h"]
    assert remove_alert(workspace, "cap").to_dict() == {"removed": "cap"}
    assert [r.name for r in list_alerts(workspace).rules] == ["cpa"]
    with pytest.raises(UsageError, match="no alert named 'cap'"):
        remove_alert(workspace, "cap")


def test_a_monitor_pass_rows_and_the_outbox(shop: Workspace) -> None:
    add_alert(shop, "search-cap", "spend", above=500, channel="Search")
    first = run_monitor(shop, LAST)
    (row,) = first.rows()
    # the first pass judges the newest day only: Search spent 1,000 > 500 on 9 May
    assert (row["rule"], row["when"], row["status"], row["observed"]) == (
        "search-cap",
        "2026-05-09",
        "new",
        1000.0,
    )
    assert row["scope"] == {"level": "channel", "channel": "Search", "campaign": None}
    assert first.to_dict()["incidents"][0]["rule"]["name"] == "search-cap" and not first.given_up
    again = run_monitor(shop, LAST)
    assert [r["status"] for r in again.rows()] == ["already sent"]
    (queued,) = outbox_report(shop).rows()
    # a rule without receivers is recorded once, not sent
    assert (queued["incident_key"], queued["destination"], queued["status"]) == (
        "search-cap|channel:Search|2026-05-09",
        "none",
        "recorded",
    )
    assert "payload" not in queued
    assert outbox_report(shop, "pending").to_dict() == {"outbox": []}


def test_check_flags_the_runaway_day(shop: Workspace) -> None:
    report = check_anomalies(shop, LAST, LAST, "spend")
    found = {(a.scope, a.scope_value): a for a in report.anomalies}
    search, total = found[("channel", "Search")], found[("total", "(all)")]
    assert search.observed == pytest.approx(1000.0) and total.observed == pytest.approx(1050.0)
    assert search.direction == "up" and search.expected < 200 and search.where == "channel Search"
    assert report.rows() == [a.to_dict() for a in report.anomalies]
    assert report.to_dict()["anomalies"][0]["day"] == "2026-05-09"
    quiet = check_anomalies(shop, LAST - timedelta(days=1), LAST - timedelta(days=1), ["spend"])
    assert quiet.to_dict() == {"anomalies": []}


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900), ("30s", 30), ("1h", 3600), ("2d", 172800), ("45", 45)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_every(text) == seconds


def test_watch_takes_a_duration_text_and_delivery_errors_are_trueroi_errors(shop: Workspace) -> None:
    pauses: list[float] = []
    results = watch(shop, "2m", max_runs=2, sleep=pauses.append)
    assert len(results) == 2 and len(pauses) == 1 and 0 < pauses[0] <= 120
    with pytest.raises(UsageError, match="not a duration"):
        watch(shop, "soon", max_runs=1)
    assert issubclass(DeliveryError, TrueRoiError) and issubclass(DeliveryError, RuntimeError)


def test_cli_json_is_the_results_to_dict(shop: Workspace) -> None:
    add_alert(shop, "search-cap", "spend", above=500, channel="Search", emails=["a@example.com"])
    path = str(shop.path)
    shop.close()
    runner = CliRunner()
    for args, expected in (
        (["alert", "list"], list_alerts),
        (
            ["monitor", "check", "--from", "2026-05-09", "--kpi", "spend"],
            lambda ws: check_anomalies(ws, LAST, None, "spend"),
        ),
    ):
        result = runner.invoke(build_app(), [*args, "--format", "json", "-w", path])
        assert result.exit_code == 0, result.output
        with Workspace.open(path) as ws:
            assert json.loads(result.stdout) == expected(ws).to_dict()
