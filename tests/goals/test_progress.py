"""Goal progress and the period-end value on a hand-built shop, every expectation worked out by hand.

The shop (``helpers.march_shop``): 1-28 March 2026 (four whole weeks, Sunday to Saturday); Search spends 100 a
day and brings one order a day (revenue 300, COGS 120); Social spends 50 a day and brings nothing; 10
signups on Monday-Friday, 3 on Saturday-Sunday. The series repeat exactly every week, so the level x weekday
forecast is exact: each expected value below is a count of days. Spend has no uncertainty (a planned 100 a
day), but counts do: however regular their past, the remaining days' orders and signups are Poisson at
least, so targets below are set where the verdict holds even with that noise (worked out in each test).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from trueroi.errors import UsageError
from trueroi.goals import goal_status, load_goals, make_goal, remove_goal, save_goal, verdict
from trueroi.workspace import Workspace

from .helpers import load, march_shop

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def _goal(name: str, kpi: str, target: float, **kw):  # noqa: ANN202
    return make_goal(name, kpi, target, *kw.pop("period", MARCH), **kw)


def _status(ws: Workspace, *goals, as_of: date | None = None) -> dict[str, dict]:
    """Status of goals built with ``_goal`` (one data load for all), by name."""
    return {s.goal.name: s.to_dict() for s in goal_status(ws, as_of, goals=list(goals))}


@pytest.fixture
def shop(workspace: Workspace) -> Workspace:
    march_shop(workspace)
    return workspace


def test_signups_goal_counts_the_type_and_forecasts_the_weekday_pattern(shop: Workspace) -> None:
    # As of Sat 28 March: 4 weeks x (5 x 10 + 2 x 3) = 224 signups. Left: Sun 29 (3), Mon 30 (10),
    # Tue 31 (10) = 23, so 247 at the end of March. "1,000 signups in March" is off track. The 23 are
    # counts: Poisson sd sqrt(23) = 4.8, and the rate is known to 1/sqrt(224) = 7% (1.5 signups), so the
    # 80% interval is about 247 +- 1.28 x 5.0 = 247 +- 6.4. A target of 230 needs only 6 of the 23
    # expected (P < 0.1%): on track.
    out = _status(
        shop,
        _goal("big", "conversions", 1000, conv_type="signup"),
        _goal("small", "conversions", 230, conv_type="signup"),
    )
    s = out["big"]
    assert s["actual"] == pytest.approx(224)
    assert s["progress"] == pytest.approx(0.224)
    assert s["expected"] == pytest.approx(247)
    assert 238 <= s["expected_lower"] < 247 < s["expected_upper"] <= 256
    assert (s["days_elapsed"], s["days_total"], s["status"]) == (28, 31, "off_track")
    assert s["direction"] == "up" and s["horizon"] == "short"
    assert out["small"]["status"] == "on_track"


def test_earlier_status_day_forecasts_the_same_month_end(shop: Workspace) -> None:
    # As of Sat 14 March: 2 weeks = 112 signups. Left 15-31 March: 12 weekdays x 10 + 5 weekend days x 3
    # = 135, again 247 in all.
    s = _status(shop, _goal("g", "conversions", 1000, conv_type="signup"), as_of=date(2026, 3, 14))["g"]
    assert s["actual"] == pytest.approx(112)
    assert s["expected"] == pytest.approx(247)
    assert s["days_elapsed"] == 14 and s["as_of"] == "2026-03-14"


def test_revenue_roas_and_roi_of_one_channel(shop: Workspace) -> None:
    # Search: revenue 28 x 300 = 8,400 so far, + 3 x 300 = 9,300 at month end. Revenue comes per order:
    # 3 orders are expected in the last 3 days, and a target of 8,500 needs one of them (no order at all
    # has probability e^-3 = 5%, under the interval's 10% tail): on track.
    out = _status(
        shop,
        _goal("rev", "revenue", 8500, channel="Search"),
        _goal("roas", "roas", 3.5, channel="Search"),
        _goal("roi", "media_roi", 0.5, campaign="search-1"),
    )
    rev = out["rev"]
    assert rev["actual"] == pytest.approx(8400) and rev["expected"] == pytest.approx(9300)
    assert rev["status"] == "on_track" and rev["scope"] == {"channel": "Search", "campaign": None}
    # ROAS = 8,400 / 2,800 = 3.0, and 9,300 / 3,100 = 3.0 at the end: the ratio of the sums.
    roas = out["roas"]
    assert roas["actual"] == pytest.approx(3.0) and roas["expected"] == pytest.approx(3.0)
    assert roas["status"] == "off_track"
    # media ROI = (margin 180 - spend 100) / 100 = 0.8 a day, so 0.8 for any number of days.
    roi = out["roi"]
    assert roi["expected"] == pytest.approx(0.8) and roi["status"] == "on_track"


def test_ratio_over_all_channels_is_weighted_not_averaged(shop: Workspace) -> None:
    # All channels: spend 150 a day, 1 order a day: CPA = 4,200 / 28 = 150 (the mean of the channels'
    # CPAs, 100 and undefined, would be 100). Cost KPI: lower is better. March ends at 4,650 / (28 + the
    # orders of the last 3 days, Poisson around 3): even with none, 4,650 / 28 = 166.1 stays under 170
    # (on track); 130 would need 8 or more orders (P about 1%): off track.
    out = _status(
        shop,
        _goal("loose", "cpa", 170),
        _goal("tight", "cpa", 130),
        _goal("per-signup", "cpa", 20, conv_type="signup"),
    )
    s = out["loose"]
    assert s["actual"] == pytest.approx(150) and s["expected"] == pytest.approx(150)
    assert s["direction"] == "down" and s["status"] == "on_track"
    assert out["tight"]["status"] == "off_track"
    # cost per signup: 4,200 / 224 = 18.75 so far; 4,650 / 247 = 18.826 at month end, under 20
    signup = out["per-signup"]
    assert signup["actual"] == pytest.approx(18.75) and signup["expected"] == pytest.approx(4650 / 247)
    assert signup["status"] == "on_track" and signup["label"] == "CPA (signup)"


def test_spend_goal_is_a_cap_by_default(shop: Workspace) -> None:
    # Spend 150 a day: 4,200 so far, 4,650 in March. A cap of 5,000 holds; of 4,500 breaks.
    out = _status(
        shop,
        _goal("cap", "spend", 5000),
        _goal("low", "spend", 4500),
        _goal("floor", "spend", 4500, direction="up"),
    )
    assert out["cap"]["status"] == "on_track"
    assert out["low"]["expected"] == pytest.approx(4650) and out["low"]["status"] == "off_track"
    assert out["floor"]["status"] == "on_track"


def test_goal_in_the_future_is_all_forecast(shop: Workspace) -> None:
    # April 2026 starts on a Wednesday: 22 weekdays x 10 + 8 weekend days x 3 = 244 signups.
    april = (date(2026, 4, 1), date(2026, 4, 30))
    # asked as of 15 April, the status is as of the last data day (28 March), and says so
    s = _status(
        shop, _goal("g", "conversions", 300, conv_type="signup", period=april), as_of=date(2026, 4, 15)
    )["g"]
    assert s["as_of"] == "2026-03-28" and any("data ends on 2026-03-28" in n for n in s["notes"])
    assert s["actual"] == 0 and s["days_elapsed"] == 0
    assert s["expected"] == pytest.approx(244)
    assert s["status"] == "off_track" and s["notes"]


def test_finished_goal_is_met_or_missed(shop: Workspace) -> None:
    # 1-7 March: Sun 3 + 5 x 10 + Sat 3 = 56 signups, all of them actual.
    week = (date(2026, 3, 1), date(2026, 3, 7))
    out = _status(
        shop,
        _goal("met", "conversions", 56, conv_type="signup", period=week),
        _goal("missed", "conversions", 57, conv_type="signup", period=week),
    )
    s = out["met"]
    assert s["actual"] == s["expected"] == s["expected_lower"] == pytest.approx(56)
    assert s["status"] == "on_track" and out["missed"]["status"] == "off_track"


def test_noisy_signups_clearly_ahead_behind_and_on_the_edge(workspace: Workspace) -> None:
    # 10 weeks of Poisson signups at 10 a weekday and 3 a weekend day (mean 8 a day); a 30-day goal
    # (2-31 March 2026) seen on 21 March: about 8 x 30 = 240 are expected.
    rng = np.random.default_rng(3)
    first = date(2026, 1, 11)
    rows = []
    for i in range(70):
        day = first + timedelta(days=i)
        for k in range(rng.poisson(10 if day.weekday() < 5 else 3)):
            rows.append(
                {
                    "conversion_id": f"c{i}-{k}",
                    "user_id": f"u{i}-{k}",
                    "type": "signup",
                    "ts": f"{day.isoformat()} 12:00:00",
                    "currency": "EUR",
                }
            )
    load(workspace, "conversions", rows)
    load(
        workspace,
        "ad_performance",
        [
            {
                "date_day": first + timedelta(days=i),
                "campaign_name": "c",
                "channel": "Search",
                "currency": "EUR",
                "spend": 1.0,
            }
            for i in range(70)
        ],
    )
    period, as_of = (date(2026, 3, 2), date(2026, 3, 31)), date(2026, 3, 21)
    out = _status(
        workspace,
        _goal("ahead", "conversions", 150, conv_type="signup", period=period),
        _goal("behind", "conversions", 400, conv_type="signup", period=period),
        as_of=as_of,
    )
    ahead, behind = out["ahead"], out["behind"]
    assert ahead["status"] == "on_track" and behind["status"] == "off_track"
    assert 200 < ahead["expected"] < 280
    assert ahead["expected_lower"] < ahead["expected"] < ahead["expected_upper"]
    # a target at the expected value itself lies inside the interval: at risk
    edge = _goal("edge", "conversions", ahead["expected"], conv_type="signup", period=period)
    assert _status(workspace, edge, as_of=as_of)["edge"]["status"] == "at_risk"


@pytest.mark.parametrize(
    ("direction", "lower", "upper", "expected"),
    [
        ("up", 110, 130, "on_track"),  # even the low end reaches 100
        ("up", 90, 130, "at_risk"),
        ("up", 60, 90, "off_track"),  # even the high end misses 100
        ("down", 60, 90, "on_track"),  # a cost cap of 100: even the high end stays under
        ("down", 90, 130, "at_risk"),
        ("down", 110, 130, "off_track"),
    ],
)
def test_verdict_rule(direction: str, lower: float, upper: float, expected: str) -> None:
    assert verdict(direction, 100.0, lower, upper) == expected


def test_goals_are_stored_replaced_and_removed(shop: Workspace) -> None:
    save_goal(shop, make_goal("news", "conversions", 1000, *MARCH, conv_type="Signup"))
    save_goal(shop, make_goal("news", "conversions", 900, *MARCH, conv_type="signup"))
    save_goal(shop, make_goal("roas", "roas", 3, *MARCH, channel="search"))
    assert [(g.name, g.target, g.conv_type) for g in load_goals(shop)] == [
        ("news", 900.0, "signup"),
        ("roas", 3.0, None),
    ]
    assert [s.goal.name for s in goal_status(shop)] == ["news", "roas"]
    remove_goal(shop, "news")
    assert [g.name for g in load_goals(shop)] == ["roas"]
    with pytest.raises(UsageError, match="known goals: roas"):
        remove_goal(shop, "news")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"kpi": "colour"}, ["unknown KPI 'colour'", "roas"]),
        ({"kpi": "users"}, ["not additive"]),
        ({"kpi": "revenue", "conv_type": "signup"}, ["a conversion type works with"]),
        ({"horizon": "forever"}, ["short, mid, long"]),
        ({"date_from": date(2026, 4, 1)}, ["dates reversed"]),
    ],
)
def test_bad_goal_settings(kwargs: dict, words: list[str]) -> None:
    settings = {"kpi": "revenue", "target": 1.0, "date_from": MARCH[0], "date_to": MARCH[1], **kwargs}
    with pytest.raises(UsageError) as err:
        make_goal("g", **settings)
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"channel": "TikTok"}, ["unknown channel 'TikTok'", "Search, Social"]),
        ({"campaign": "summer"}, ["unknown campaign 'summer'", "search-1, social-1"]),
        ({"kpi": "conversions", "conv_type": "call"}, ["unknown conversion type 'call'", "signup"]),
    ],
)
def test_unknown_scope_names_what_is_known(shop: Workspace, kwargs: dict, words: list[str]) -> None:
    goal = make_goal("g", kwargs.pop("kpi", "revenue"), 1.0, *MARCH, **kwargs)
    with pytest.raises(UsageError) as err:
        save_goal(shop, goal)
    for word in words:
        assert word in str(err.value)
    assert load_goals(shop) == []


def test_too_little_history_gives_no_interval_and_undefined_ratios_say_so(shop: Workspace) -> None:
    # As of Tue 3 March only 3 days are known: Sun 3 + Mon 10 + Tue 10 = 23 signups, level 23 / 3 a day
    # over the 31 days = 237.67 expected, with no interval (under 7 days) and so no verdict beyond at_risk.
    # Social has spend but no orders: its CPA is undefined.
    out = _status(
        shop,
        _goal("s", "conversions", 100, conv_type="signup"),
        _goal("cpa", "cpa", 50, channel="Social"),
        as_of=date(2026, 3, 3),
    )
    s = out["s"]
    assert s["actual"] == pytest.approx(23) and s["expected"] == pytest.approx(23 / 3 * 31)
    assert s["expected_lower"] is None and s["expected_upper"] is None
    assert s["status"] == "at_risk" and "no interval" in s["forecast_method"]
    assert out["cpa"]["actual"] is None and out["cpa"]["status"] == "at_risk"
    assert any("undefined" in n for n in out["cpa"]["notes"])
