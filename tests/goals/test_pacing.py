"""Budget pacing on the hand-built March shop (Search 100 EUR a day, Social 50 EUR a day, 1-28 March 2026).

Seen on Saturday 14 March: 14 of March's 31 days are over, 17 are left.
"""

from __future__ import annotations

from datetime import date

import pytest

from trueroi.errors import UsageError
from trueroi.goals import load_budgets, make_budget, pacing_status, remove_budget, save_budget
from trueroi.workspace import Workspace

from .helpers import MARCH as MARCH_DAYS
from .helpers import ad, load, march_shop

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
AS_OF = date(2026, 3, 14)


@pytest.fixture
def shop(workspace: Workspace) -> Workspace:
    march_shop(workspace)
    return workspace


def _pacing(ws: Workspace, *budgets, as_of: date | None = AS_OF) -> dict[str, dict]:
    return {p.budget.name: p.to_dict() for p in pacing_status(ws, as_of, budgets=list(budgets))}


def test_pacing_by_hand(shop: Workspace) -> None:
    out = _pacing(
        shop,
        make_budget("search", 3500, *MARCH, channel="Search"),
        make_budget("all", 4650, *MARCH),
        make_budget("social", 500, *MARCH, campaign="social-1"),
    )
    s = out["search"]
    # spent 14 x 100 = 1,400; expected by now 3,500 x 14 / 31 = 1,580.65; pacing 1,400 / 1,580.65 = 0.886,
    # under the 0.9 band; projected 1,400 + 17 x 100 = 3,100; needed (3,500 - 1,400) / 17 = 123.53 a day.
    assert s["spend_to_date"] == pytest.approx(1400)
    assert s["expected_to_date"] == pytest.approx(1580.645, abs=1e-3)
    assert s["pacing_ratio"] == pytest.approx(0.88571, abs=1e-5)
    assert s["status"] == "under"
    assert s["projected"] == pytest.approx(3100)
    assert s["projected_lower"] == pytest.approx(3100) and s["projected_upper"] == pytest.approx(3100)
    assert s["daily_needed"] == pytest.approx(123.529, abs=1e-3)
    assert (s["days_elapsed"], s["days_remaining"], s["days_total"]) == (14, 17, 31)
    assert s["currency"] == "EUR" and s["expected_method"] == "pro_rata_days"
    # all channels: 150 a day; 4,650 x 14 / 31 = 2,100 = spent: on pace, 150 a day still needed.
    a = out["all"]
    assert a["pacing_ratio"] == pytest.approx(1.0) and a["status"] == "on_pace"
    assert a["projected"] == pytest.approx(4650) and a["daily_needed"] == pytest.approx(150)
    # Social: 700 spent of 500: over (700 / 225.81 = 3.1); nothing more is needed.
    o = out["social"]
    assert o["spend_to_date"] == pytest.approx(700) and o["status"] == "over"
    assert o["daily_needed"] == 0 and o["remaining"] == pytest.approx(-200)


def test_tolerance_band_edges(shop: Workspace) -> None:
    # Search spent 1,400 by 14 March. Budget 3,100 x 1.1 = 3,410: expected 1,540, ratio 0.909: on pace
    # at 10% tolerance, under at 5%.
    budget = make_budget("search", 3410, *MARCH, channel="Search")
    (ten,) = pacing_status(shop, AS_OF, budgets=[budget])
    (five,) = pacing_status(shop, AS_OF, budgets=[budget], tolerance=0.05)
    assert ten.pacing_ratio == pytest.approx(1400 / 1540)
    assert ten.status == "on_pace" and five.status == "under"


def test_finished_and_future_budgets(shop: Workspace) -> None:
    out = _pacing(
        shop,
        make_budget("week1", 700, date(2026, 3, 1), date(2026, 3, 7), channel="Search"),
        make_budget("april", 3000, date(2026, 4, 1), date(2026, 4, 30), channel="Search"),
    )
    # 1-7 March is over: 700 spent of 700, nothing left to plan.
    w = out["week1"]
    assert w["spend_to_date"] == pytest.approx(700) and w["projected"] == pytest.approx(700)
    assert w["status"] == "on_pace" and w["daily_needed"] is None and w["days_remaining"] == 0
    # April has not started: nothing spent, 30 x 100 = 3,000 projected, 100 a day needed.
    a = out["april"]
    assert a["spend_to_date"] == 0 and a["projected"] == pytest.approx(3000)
    assert a["daily_needed"] == pytest.approx(100) and a["status"] == "on_pace"


def test_status_day_defaults_to_the_last_data_day(shop: Workspace) -> None:
    # Data ends on 28 March: 2,800 spent, 3,500 x 28 / 31 = 3,161.29 expected, ratio 0.886: under.
    (p,) = pacing_status(shop, budgets=[make_budget("search", 3500, *MARCH, channel="Search")])
    assert p.as_of == date(2026, 3, 28)
    assert p.spend_to_date == pytest.approx(2800) and p.pacing_ratio == pytest.approx(0.88571, abs=1e-5)


def test_budgets_are_stored_and_validated(shop: Workspace) -> None:
    save_budget(shop, make_budget("search", 3500, *MARCH, channel="Search"))
    save_budget(shop, make_budget("search", 3600, *MARCH, channel="Search"))
    assert [(b.name, b.amount) for b in load_budgets(shop)] == [("search", 3600.0)]
    assert [p.budget.name for p in pacing_status(shop)] == ["search"]
    remove_budget(shop, "search")
    assert load_budgets(shop) == []
    with pytest.raises(UsageError, match="no budget named 'search'"):
        remove_budget(shop, "search")
    with pytest.raises(UsageError, match="positive"):
        make_budget("x", -5, *MARCH)
    with pytest.raises(UsageError, match="dates reversed"):
        make_budget("x", 5, MARCH[1], MARCH[0])
    with pytest.raises(UsageError, match="known channels: Search, Social"):
        save_budget(shop, make_budget("x", 5, *MARCH, channel="TV"))


def test_weekday_schedule_expects_less_on_weekends(workspace: Workspace) -> None:
    # Display spends 120 on weekdays and 50 on weekends, 1-28 March 2026: a week costs 5 x 120 + 2 x 50 =
    # 700, 100 a day, so the weekday index is 1.2 (Mon-Fri) and 0.5 (Sat, Sun). March 2026 has 22 weekdays
    # and 9 weekend days: weights 22 x 1.2 + 9 x 0.5 = 30.9. By Sat 14 March (two whole weeks, weight 14)
    # a budget of 3,090 expects 3,090 x 14 / 30.9 = 1,400 = what was spent: on pace. By Mon 16 March
    # (weight 14 + 0.5 + 1.2 = 15.7) it expects 1,570; spent 1,570: on pace again, while pro rata expects
    # 3,090 x 16 / 31 = 1,594.84 (ratio 0.984).
    rows = []
    for day in MARCH_DAYS:
        rows.append(ad(day, "display-1", 120.0 if day.weekday() < 5 else 50.0, "Display"))
    load(workspace, "ad_performance", rows)
    budget = make_budget("display", 3090, *MARCH, channel="Display")
    (sat,) = pacing_status(workspace, date(2026, 3, 14), schedule="weekday", budgets=[budget])
    assert sat.expected_to_date == pytest.approx(1400) and sat.spend_to_date == pytest.approx(1400)
    assert sat.to_dict()["expected_method"] == "weekday_pattern" and sat.status == "on_pace"
    (mon,) = pacing_status(workspace, date(2026, 3, 16), schedule="weekday", budgets=[budget])
    assert mon.expected_to_date == pytest.approx(3090 * 15.7 / 30.9) == pytest.approx(1570)
    assert mon.pacing_ratio == pytest.approx(1.0)
    (flat,) = pacing_status(workspace, date(2026, 3, 16), budgets=[budget])
    assert flat.expected_to_date == pytest.approx(3090 * 16 / 31)
    assert flat.to_dict()["expected_method"] == "pro_rata_days"
    with pytest.raises(UsageError, match="pro_rata, weekday"):
        pacing_status(workspace, schedule="monthly", budgets=[budget])
