"""Goal status on hand-built shops: progress of cost goals, count intervals, last year's season.

See ``helpers.march_shop`` for the March shop (1-28 March 2026: spend 150 a day, one order a day of revenue
300, signups 10 on weekdays and 3 on weekend days).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trueroi.goals import goal_status, make_goal
from trueroi.workspace import Workspace

from .helpers import at, load, march_shop

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def shop(workspace: Workspace) -> Workspace:
    march_shop(workspace)
    return workspace


def _status(ws: Workspace, *goals, as_of: date | None = None) -> dict[str, dict]:
    return {s.goal.name: s.to_dict() for s in goal_status(ws, as_of, goals=list(goals))}


def test_cost_goal_over_its_target_reads_as_off_track_progress(shop: Workspace) -> None:
    # CPA so far 4,200 / 28 = 150 against a target of 20: 20 / 150 = 13.3% of the way, not 750%. Under a
    # looser target of 200 it stays at or under 4,650 / 28 = 166 even with no more orders: 200 / 150 =
    # 133% (better than the target). A spend cap is the share used so far: 4,200 / 5,000 = 84%.
    out = _status(
        shop,
        make_goal("cpa-20", "cpa", 20, *MARCH),
        make_goal("cpa-200", "cpa", 200, *MARCH),
        make_goal("cap", "spend", 5000, *MARCH),
    )
    tight = out["cpa-20"]
    assert tight["status"] == "off_track" and tight["direction"] == "down"
    assert tight["progress"] == pytest.approx(20 / 150)
    assert out["cpa-200"]["status"] == "on_track"
    assert out["cpa-200"]["progress"] == pytest.approx(200 / 150)
    assert out["cap"]["progress"] == pytest.approx(4200 / 5000)


def test_a_count_goal_with_days_left_has_an_interval(shop: Workspace) -> None:
    # Orders: exactly one a day so far, 3 days left: 28 + 3 = 31 expected, but 3 orders in 3 days are
    # Poisson (P(0) = 5%, P(<= 5) = 92%): the interval is about 29-34, never 31-31.
    s = _status(shop, make_goal("orders", "conversions", 30, *MARCH))["orders"]
    assert s["expected"] == pytest.approx(31)
    assert 28 <= s["expected_lower"] < 31 < s["expected_upper"] <= 36
    # a goal whose period is over has its actual as the interval: 1-7 March holds 7 orders
    week = _status(shop, make_goal("week", "conversions", 7, date(2026, 3, 1), date(2026, 3, 7)))["week"]
    assert week["expected_lower"] == week["expected_upper"] == pytest.approx(7)


def test_sparse_deals_tracked_from_late_in_the_history_have_an_interval(shop: Workspace) -> None:
    # The shop's ads and orders run all of March; CRM deals arrive only from 15 March, one every other day
    # (15, 17, ..., 27 March: 7 deals). The deal rate is 7 in 14 days = 0.5 a day, not 7 in 28: a goal on
    # deals over March expects 7 + 0.5 x 3 = 8.5 (the days before 15 March are not days without deals), and
    # 1.5 deals in 3 days are Poisson: P(0) = 22%, P(<= 3) = 93%, so the interval spans at least 7-10.
    deals = [
        {
            "conversion_id": f"d{k}",
            "user_id": f"lead{k}",
            "ts": at(date(2026, 3, 15) + timedelta(days=2 * k), 11),
            "type": "deal_won",
            "value": 1000.0,
            "currency": "EUR",
            "is_offline": True,
        }
        for k in range(7)
    ]
    load(shop, "conversions", deals)
    s = _status(shop, make_goal("deals", "conversions", 9, *MARCH, conv_type="deal_won"))["deals"]
    assert s["actual"] == pytest.approx(7)
    assert s["expected"] == pytest.approx(8.5, abs=0.3)
    assert s["expected_lower"] <= 7 and s["expected_upper"] >= 10
    assert s["status"] == "at_risk"


def test_a_year_of_history_gives_the_forecast_last_years_shape(workspace: Workspace) -> None:
    # 424 days from Mon 2 January 2023 (to Sat 29 February 2024) of orders at revenue 100 each: 20 a day,
    # except that each year from day 60 (3 March 2023) to day 85 the daily orders climb linearly to 50,
    # and stay there to day 120. This year has 30 a day (+50%) up to 29 February 2024 = day 423.
    # A March 2024 revenue goal seen on 29 February: last year the 31 days from day 60 averaged
    # (26 days of the ramp 20 -> 50, mean 35, + 5 days at 50) = (26 x 35 + 5 x 50) / 31 = 37.4 orders a
    # day, against 20 in the weeks before: x1.87. Scaled to this year's 30 a day: 30 x 1.87 x 31 x 100 =
    # 174,000. The plain level forecast says 30 x 31 x 100 = 93,000.
    first = date(2023, 1, 2)
    orders = []
    for i in range(424):
        t = i % 364
        base = 30 if i >= 364 else 20
        ramp = 20 + 30 * min(max((t - 60) / 25, 0), 1) if 60 <= t <= 120 else 20
        n = round(base * ramp / 20)
        day = first + timedelta(days=i)
        orders += [
            {
                "order_id": f"o{i}-{k}",
                "user_id": f"u{i}-{k}",
                "customer_id": f"u{i}-{k}",
                "ts": at(day, 12),
                "currency": "EUR",
                "revenue": 100.0,
                "status": "paid",
            }
            for k in range(n)
        ]
    load(workspace, "orders", orders)
    march = (date(2024, 3, 1), date(2024, 3, 31))
    s = _status(workspace, make_goal("march", "revenue", 150_000, *march))["march"]
    assert s["as_of"] == "2024-02-29" and "yoy" in s["forecast_method"]
    assert s["expected"] == pytest.approx(174_000, rel=0.05)
    assert s["expected_lower"] <= 174_000 <= s["expected_upper"]
