"""The goal and budget entry points the faces call, on the hand-built March shop (see helpers.march_shop).

Search spends 100 EUR a day, Social 50 EUR; one Search order a day (revenue 300); 10 signups on weekdays
and 3 on weekend days, 1-28 March 2026.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.errors import UsageError
from trueroi.goals import (
    add_budget,
    add_goal,
    goal_report,
    list_budgets,
    list_goals,
    pacing_report,
    remove_budget,
)
from trueroi.workspace import Workspace

from .helpers import march_shop

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def shop(workspace: Workspace) -> Workspace:
    march_shop(workspace)
    return workspace


def test_goals_are_added_listed_and_reported_with_flat_rows(shop: Workspace) -> None:
    goal = add_goal(shop, "newsletter", "Conversions", 250, *MARCH, conv_type=" Signup ")
    assert (goal.kpi, goal.conv_type) == ("conversions", "signup")
    assert (goal.direction, goal.horizon) == ("up", "short")  # defaults for a count over a month
    assert goal.to_dict()["from"] == "2026-03-01" and goal.to_dict()["to"] == "2026-03-31"
    add_goal(shop, "search-roas", "roas", 2.5, *MARCH, channel="Search", horizon="mid")
    listed = list_goals(shop)
    assert [g["name"] for g in listed.to_dict()] == ["newsletter", "search-roas"]
    assert listed.rows() == listed.to_dict()

    report = goal_report(shop, date(2026, 3, 14))
    rows = {r["name"]: r for r in report.rows()}
    news = rows["newsletter"]
    # 1-14 March 2026: 10 weekdays x 10 + 4 weekend days x 3 = 112 signups
    assert news["actual"] == pytest.approx(112) and news["progress"] == pytest.approx(112 / 250)
    assert news["period"] == "2026-03-01..2026-03-31" and news["scope_text"] == "all"
    assert news["kpi_label"].endswith("(signup) ≥")
    assert (news["channel"], news["campaign"]) == (None, None)
    assert "scope" not in news and "notes" not in news
    lo, hi = news["expected_lower"], news["expected_upper"]
    assert news["interval_text"] == f"{lo:,.2f} – {hi:,.2f}"
    roas = rows["search-roas"]
    # 14 orders of 300 against 14 days of 100 spend: ROAS 3.0
    assert roas["actual"] == pytest.approx(3.0) and roas["scope_text"] == "channel=Search"
    assert [r["name"] for r in report.to_dict()] == ["newsletter", "search-roas"]
    assert {"scope", "notes"} <= set(report.to_dict()[0])


def test_goal_report_without_goals_is_empty(shop: Workspace) -> None:
    report = goal_report(shop)
    assert report.statuses == [] and report.to_dict() == [] and report.rows() == []


def test_budgets_are_added_listed_and_paced(shop: Workspace) -> None:
    budget = add_budget(shop, "search-march", 3500, *MARCH, channel="Search")
    assert budget.to_dict() == {
        "name": "search-march",
        "amount": 3500.0,
        "channel": "Search",
        "campaign": None,
        "from": "2026-03-01",
        "to": "2026-03-31",
    }
    add_budget(shop, "all", 4650, *MARCH)
    assert [b["name"] for b in list_budgets(shop).rows()] == ["all", "search-march"]
    report = pacing_report(shop, date(2026, 3, 14), tolerance=0.2)
    rows = {r["name"]: r for r in report.rows()}
    search = rows["search-march"]
    # 1,400 spent against 3,500 x 14 / 31 = 1,580.65 expected: ratio 0.886, on pace within ±20%
    assert search["spend_to_date"] == pytest.approx(1400)
    assert search["pacing_ratio"] == pytest.approx(1400 / (3500 * 14 / 31))
    assert search["status"] == "on_pace" and search["tolerance"] == 0.2
    assert search["scope_text"] == "channel=Search" and search["period"] == "2026-03-01..2026-03-31"
    assert (search["channel"], search["campaign"]) == ("Search", None) and "scope" not in search
    assert rows["all"]["scope_text"] == "all"
    assert report.to_dict()[0]["scope"] == {"channel": None, "campaign": None}
    remove_budget(shop, "all")
    assert [b.name for b in list_budgets(shop).items] == ["search-march"]


@pytest.mark.parametrize("tolerance", [-0.1, 1.0, 2.0])
def test_pacing_tolerance_outside_zero_one_is_refused(shop: Workspace, tolerance: float) -> None:
    with pytest.raises(UsageError, match=r"tolerance .* must lie in \[0, 1\)"):
        pacing_report(shop, tolerance=tolerance)


def test_cli_json_is_the_reports_to_dict(shop: Workspace) -> None:
    add_goal(shop, "revenue", "revenue", 9000, *MARCH)
    add_budget(shop, "social", 1500, *MARCH, channel="Social")
    path = str(shop.path)
    shop.close()
    runner = CliRunner()
    for args, expected in (
        (["goal", "status", "--as-of", "2026-03-20"], lambda ws: goal_report(ws, date(2026, 3, 20))),
        (["budget", "pacing", "--as-of", "2026-03-20"], lambda ws: pacing_report(ws, date(2026, 3, 20))),
        (["goal", "list"], list_goals),
    ):
        result = runner.invoke(build_app(), [*args, "--format", "json", "-w", path])
        assert result.exit_code == 0, result.output
        with Workspace.open(path) as ws:
            assert json.loads(result.stdout) == expected(ws).to_dict()
