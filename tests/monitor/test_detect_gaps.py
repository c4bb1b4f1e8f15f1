"""What is not an anomaly: new series, gaps in the exports, a source that ends early, an incomplete last day.

The shop is built by hand: ten weeks from Monday 2 March 2026 (day 0) to Sunday 10 May 2026 (day 69), all
in Europe/Berlin. Every day Search (campaign search-1) spends 100 EUR for 20 clicks and 1,000 impressions,
brings 20 sessions (one every 45 minutes from 06:00 to 20:15 local time) and 2 orders of 100 EUR. The
series are flat, so any anomaly found below comes from how the data is read, not from the data.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from trueroi.monitor import check_anomalies, detect_anomalies, make_rule
from trueroi.monitor.detect import scored_days
from trueroi.monitor.series import last_complete_day
from trueroi.workspace import Workspace

FIRST = date(2026, 3, 2)
DAYS = 70
LAST = FIRST + timedelta(days=DAYS - 1)  # Sunday 10 May 2026


def _utc(day: date, hour: int, minute: int = 0) -> datetime:
    """UTC time of a local (Europe/Berlin) time on ``day``: UTC+1 until 29 March 2026, UTC+2 after."""
    offset = 1 if day < date(2026, 3, 29) else 2
    return datetime(day.year, day.month, day.day, hour, minute) - timedelta(hours=offset)


def _shop(
    ws: Workspace,
    *,
    skip: range = range(0),
    ads_until: int = DAYS - 1,
    last_day_until: float = 24.0,
    email_from: int | None = None,
    last_clicks: int = 20,
    last_order_value: float = 100.0,
) -> None:
    """Load the shop; ``skip``: days with no row in any table; ``ads_until``: last day of the ad export;
    ``last_day_until``: local hour at which the last day's sessions and orders stop (an export taken
    then, with the day's spend so far); ``email_from``: from that day on, 40 e-mail sessions a day, each
    day under a new campaign (utm_campaign ``nl-<day>``, as a daily newsletter is often tagged);
    ``last_clicks`` and ``last_order_value``: the last day's Search clicks and revenue per order."""
    ads, touches, orders = [], [], []
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        if i in skip:
            continue
        share = last_day_until / 24 if i == DAYS - 1 else 1.0
        if i <= ads_until:
            ads.append(
                {
                    "date_day": day,
                    "platform": "google_ads",
                    "campaign_id": "search-1",
                    "campaign_name": "search-1",
                    "channel": "Search",
                    "currency": "EUR",
                    "spend": 100.0 * share,
                    "clicks": round(last_clicks * share) if i == DAYS - 1 else 20,
                    "impressions": round(1000 * share),
                }
            )
        for k in range(20):
            minutes = 6 * 60 + 45 * k
            if i == DAYS - 1 and minutes >= last_day_until * 60:
                continue
            touches.append(
                {
                    "touch_id": f"t{i}-{k}",
                    "user_id": f"u{i}-{k}",
                    "ts": _utc(day, minutes // 60, minutes % 60),
                    "date_day": day,
                    "channel": "Search",
                    "campaign": "search-1",
                    "source": "google",
                    "medium": "cpc",
                }
            )
            if k < 2:
                orders.append(
                    {
                        "order_id": f"o{i}-{k}",
                        "user_id": f"u{i}-{k}",
                        "customer_id": f"u{i}-{k}",
                        "ts": _utc(day, minutes // 60, minutes % 60) + timedelta(minutes=5),
                        "date_day": day,
                        "currency": "EUR",
                        "revenue": last_order_value if i == DAYS - 1 else 100.0,
                        "status": "paid",
                    }
                )
        if email_from is not None and i >= email_from:
            touches += [
                {
                    "touch_id": f"e{i}-{k}",
                    "user_id": f"e{i}-{k}",
                    "ts": _utc(day, 9, k),
                    "date_day": day,
                    "channel": "Email",
                    "campaign": f"nl-{i}",
                    "source": "newsletter",
                    "medium": "email",
                }
                for k in range(40)
            ]
    for name, rows in (("ad_performance", ads), ("touchpoints", touches), ("orders", orders)):
        ws.load({name: pd.DataFrame(rows)}, source_format="test", file_name=f"{name}.csv", sha256=name)


def _found(ws: Workspace, start: date, end: date, kpis=None) -> list:  # noqa: ANN001
    return detect_anomalies(ws, start=start, end=end, kpis=kpis)


def test_the_flat_shop_has_no_anomaly(workspace: Workspace) -> None:
    _shop(workspace)
    assert _found(workspace, LAST - timedelta(days=13), LAST) == []


def test_a_new_series_is_not_judged_against_the_days_before_it_existed(workspace: Workspace) -> None:
    # E-mail sessions from day 35 on, 40 a day, each day under a new campaign: every e-mail campaign is
    # one day old, and nothing says how many sessions it should bring. Neither the e-mail channel nor the
    # whole shop is anomalous on days 42-69 (40 + 20 sessions are 40 + 20, not "60 against 20" or "40
    # against an expected 0").
    _shop(workspace, email_from=35)
    found = _found(workspace, FIRST + timedelta(days=42), LAST, ["sessions"])
    assert [a.describe() for a in found] == []


def test_days_without_any_data_are_a_note_not_anomalies(workspace: Workspace) -> None:
    # Days 55-59 (Sun 26 - Thu 30 April) hold no row in any table: a gap in the exports, not five days of
    # zero spend, and day 60 is not "spend up against an expected 0.00" either.
    _shop(workspace, skip=range(55, 60))
    gap = [FIRST + timedelta(days=i) for i in range(55, 60)]
    found = _found(workspace, gap[0], LAST)
    assert [a.describe() for a in found] == []
    hours = detect_anomalies(workspace, start=gap[0], end=LAST, kpis=["sessions", "orders"], hourly=True)
    assert [a.describe() for a in hours] == []
    scored = scored_days(workspace, gap[0], gap[-1], [], 4.0)
    assert scored.empty
    notes = check_anomalies(workspace, gap[0], LAST).notes
    assert any("2026-04-26" in n and "2026-04-30" in n and "no data" in n for n in notes), notes


def test_a_source_that_ends_early_is_not_a_drop_to_zero(workspace: Workspace) -> None:
    # The ad export ends on day 67 (Fri 8 May), the shop and tracking data on day 69: spend, clicks and
    # impressions of 9 and 10 May are unknown, not 0 (no "spend down", no CPA of nothing).
    _shop(workspace, ads_until=67)
    found = _found(workspace, LAST - timedelta(days=1), LAST)
    assert [a.describe() for a in found] == []
    notes = check_anomalies(workspace, LAST - timedelta(days=1), LAST).notes
    assert any("ad_performance" in n and "2026-05-08" in n for n in notes), notes


def test_the_incomplete_last_day_is_ignored(workspace: Workspace) -> None:
    # The export was taken at 09:00 on the last day: 5 of its 20 sessions (06:00-09:00), 2 orders, and
    # 9/24 of its spend. That is not "sessions observed 5 against 20": the day is incomplete (every other
    # day runs to 20:15), so it is not judged, and the newest complete day, 9 May, is the default.
    _shop(workspace, last_day_until=9.0)
    assert last_complete_day(workspace) == LAST - timedelta(days=1)
    assert _found(workspace, LAST, LAST) == []
    report = check_anomalies(workspace)
    assert report.anomalies == []
    assert any("2026-05-10" in n and "incomplete" in n for n in report.notes), report.notes


def test_the_day_of_the_last_import_is_incomplete(workspace: Workspace) -> None:
    # Ads only (daily rows, no time of day), ending today in the workspace's time zone: a day imported
    # while it runs is not over, whatever its rows say.
    today = pd.Timestamp.now(tz="Europe/Berlin").date()
    rows = [
        {
            "date_day": today - timedelta(days=i),
            "campaign_id": "s",
            "campaign_name": "s",
            "channel": "Search",
            "currency": "EUR",
            "spend": 20.0 if i == 0 else 100.0,
            "clicks": 20,
            "impressions": 1000,
        }
        for i in range(60)
    ]
    workspace.load(
        {"ad_performance": pd.DataFrame(rows)}, source_format="test", file_name="a.csv", sha256="a"
    )
    assert last_complete_day(workspace) == today - timedelta(days=1)
    assert _found(workspace, today, today, ["spend"]) == []


def test_revenue_and_cpc_are_watchable(workspace: Workspace) -> None:
    # On the last day Search's clicks fall from 20 to 5 for the same 100 EUR: CPC 5 -> 20 EUR, and its two
    # orders bring 1,000 EUR each instead of 100 (revenue 200 -> 2,000).
    _shop(workspace, last_clicks=5, last_order_value=1000.0)
    assert make_rule("rev", "revenue", anomaly=True).kpi == "revenue"
    assert make_rule("cpc", "cpc", above=10.0, channel="Search").kpi == "cpc"
    found = {(a.kpi, a.scope): a for a in _found(workspace, LAST, LAST, ["revenue", "cpc"])}
    cpc = found[("cpc", "total")]
    assert (
        cpc.observed == pytest.approx(20.0) and cpc.expected == pytest.approx(5.0) and cpc.direction == "up"
    )
    rev = found[("revenue", "total")]
    assert rev.observed == pytest.approx(2000.0) and rev.direction == "up"


def test_monitor_run_leaves_the_incomplete_last_day_for_a_later_pass(workspace: Workspace) -> None:
    # The same export taken at 09:00 on the last day: a scheduled pass judges up to 9 May only, so
    # 10 May is judged once complete instead of being marked checked while it is still arriving.
    from trueroi.monitor import run_monitor

    _shop(workspace, last_day_until=9.0)
    result = run_monitor(workspace, tries_per_run=1, backoff_s=0.0)
    assert result.to_dict()["as_of"] == str(LAST - timedelta(days=1))
