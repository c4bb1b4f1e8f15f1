"""Definitions that must hold everywhere (DESIGN.md), each on a hand-built workspace."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from trueroi.errors import DataValidationError
from trueroi.metrics import kpi_report
from trueroi.workspace import Workspace
from trueroi.workspace.config import CostAllocation

from .helpers import ad, load, order, touch

D1, D2 = date(2025, 7, 1), date(2025, 7, 2)
RANGE = {"start": D1, "end": D2}


def test_ratios_are_weighted_not_averaged(workspace: Workspace) -> None:
    # campaign A: 100 spend / 50 clicks (CPC 2); B: 900 / 10 (CPC 90). Weighted CPC = 1000 / 60 = 16.67,
    # where the average of the two CPCs would be 46.
    load(
        workspace,
        "ad_performance",
        [ad(D1, "a", 100.0, clicks=50, impressions=1000), ad(D1, "b", 900.0, clicks=10, impressions=4000)],
    )
    totals = kpi_report(workspace, **RANGE).totals
    assert totals["cpc"] == pytest.approx(1000 / 60)
    assert totals["ctr"] == pytest.approx(60 / 5000)
    assert totals["cpm"] == pytest.approx(1000 / 5000 * 1000)


def test_zero_denominators_give_null(workspace: Workspace) -> None:
    load(workspace, "ad_performance", [ad(D1, "a", 0.0, clicks=0, impressions=0)])
    load(workspace, "touchpoints", [touch("u1", datetime(2025, 7, 1, 8), "Organic Search")])
    load(workspace, "orders", [order("o1", "u1", datetime(2025, 7, 1, 9), 50.0, 20.0)])
    rows = kpi_report(workspace, by="channel", **RANGE).rows.set_index("channel")
    for kpi in ("roas", "media_roi", "full_roi", "cpc", "ctr", "cpm"):
        assert (
            rows.loc["Organic Search", kpi] is None
            or rows.loc["Organic Search", kpi] != rows.loc["Organic Search", kpi]
        )  # None or NaN, never inf
    assert rows.loc["Organic Search", "revenue"] == pytest.approx(50.0)
    assert rows.loc["Paid Search", "cpc"] != rows.loc["Paid Search", "cpc"]  # 0 spend / 0 clicks -> null


def test_reach_and_users_are_never_summed(workspace: Workspace) -> None:
    load(workspace, "ad_performance", [ad(D1, "a", 10.0, reach=100), ad(D2, "a", 10.0, reach=120)])
    load(
        workspace,
        "touchpoints",
        [
            touch("u1", datetime(2025, 7, 1, 8), "Paid Search", "a"),
            touch("u1", datetime(2025, 7, 2, 8), "Paid Search", "a"),
            touch("u2", datetime(2025, 7, 2, 9), "Paid Search", "a"),
        ],
    )
    by_day = kpi_report(workspace, by="day,campaign", **RANGE).rows
    assert sorted(by_day["reach"]) == [100, 120]
    assert sorted(by_day["users"]) == [1, 2]
    by_campaign = kpi_report(workspace, by="campaign", **RANGE).rows
    assert by_campaign["reach"].isna().all()  # reach of two days is unknown, not 220
    assert by_campaign["users"].tolist() == [2]  # u1 counted once, not twice


def test_money_is_converted_before_it_is_summed(workspace: Workspace) -> None:
    load(
        workspace,
        "fx_rates",
        [
            {"date_day": D1, "currency": "USD", "rate_to_base": 0.9},
            {"date_day": D2, "currency": "USD", "rate_to_base": 0.8},
        ],
    )
    load(
        workspace,
        "ad_performance",
        [ad(D1, "us", 100.0, currency="USD"), ad(D2, "us", 100.0, currency="USD"), ad(D1, "de", 50.0)],
    )
    totals = kpi_report(workspace, **RANGE).totals
    assert totals["spend"] == pytest.approx(100 * 0.9 + 100 * 0.8 + 50)  # 220 EUR, not 250 "mixed"


def test_missing_exchange_rate_is_an_error_never_one(workspace: Workspace) -> None:
    load(workspace, "fx_rates", [{"date_day": D1, "currency": "USD", "rate_to_base": 0.9}])
    load(
        workspace,
        "ad_performance",
        [ad(D1, "us", 100.0, currency="USD"), ad(D2, "us", 100.0, currency="USD")],
    )
    with pytest.raises(DataValidationError, match="USD.*2025-07-02"):
        kpi_report(workspace, **RANGE)


def test_last_non_direct_click_and_lookback(workspace: Workspace) -> None:
    load(
        workspace,
        "touchpoints",
        [
            touch("u1", datetime(2025, 7, 1, 8), "Paid Social", "p"),  # opens
            touch("u1", datetime(2025, 7, 1, 20), "Direct"),  # direct close: skipped
            touch("u2", datetime(2025, 7, 1, 8), "Direct"),  # only direct: credited to Direct
            touch("u3", datetime(2025, 5, 1, 8), "Email"),  # older than 30 days: not credited
        ],
    )
    load(
        workspace,
        "orders",
        [
            order("o1", "u1", datetime(2025, 7, 1, 21), 100.0, 60.0),
            order("o2", "u2", datetime(2025, 7, 1, 9), 40.0, 20.0),
            order("o3", "u3", datetime(2025, 7, 2, 9), 10.0, 5.0),
            order("o4", "u1", datetime(2025, 7, 2, 9), 7.0, 5.0, status="cancelled"),
        ],
    )
    rows = kpi_report(workspace, by="channel", **RANGE).rows.set_index("channel")
    assert rows.loc["Paid Social", "revenue"] == pytest.approx(100.0)
    assert rows.loc["Direct", "revenue"] == pytest.approx(40.0)
    assert rows.loc["(unattributed)", "revenue"] == pytest.approx(10.0)
    assert rows["conversions"].sum() == pytest.approx(3)  # the cancelled order is no sale
    last_click = kpi_report(workspace, by="channel", attribution="last_click", **RANGE).rows.set_index(
        "channel"
    )
    assert last_click.loc["Direct", "revenue"] == pytest.approx(140.0)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("spend_share", {"A": 30.0, "B": 10.0}),  # spend 300 vs 100
        ("revenue_share", {"A": 10.0, "B": 30.0}),  # attributed revenue 1,000 vs 3,000
        ("fixed", {"A": 0.0, "B": 40.0}),
    ],
)
def test_cost_allocation_rules(tmp_path, rule: str, expected: dict[str, float]) -> None:
    from trueroi.workspace import WorkspaceConfig

    config = WorkspaceConfig(
        cost_allocation=CostAllocation(rule=rule, channel="B" if rule == "fixed" else "")
    )
    with Workspace.init(tmp_path / "ws", config) as ws:
        load(ws, "ad_performance", [ad(D1, "a", 300.0, channel="A"), ad(D1, "b", 100.0, channel="B")])
        load(
            ws,
            "touchpoints",
            [touch("u1", datetime(2025, 7, 1, 8), "A", "a"), touch("u2", datetime(2025, 7, 1, 8), "B", "b")],
        )
        load(
            ws,
            "orders",
            [
                order("o1", "u1", datetime(2025, 7, 1, 9), 1000.0, 500.0),
                order("o2", "u2", datetime(2025, 7, 1, 9), 3000.0, 1500.0),
            ],
        )
        load(
            ws,
            "costs",
            [
                {
                    "period_start": D1,
                    "period_end": D1,
                    "category": "agency_fee",
                    "amount": 40.0,
                    "currency": "EUR",
                }
            ],
        )
        rows = kpi_report(ws, by="channel", start=D1, end=D1).rows.set_index("channel")
    for channel, value in expected.items():
        assert rows.loc[channel, "other_costs"] == pytest.approx(value)


def test_channel_costs_stay_with_their_channel(workspace: Workspace) -> None:
    # production cost for a channel without spend (content for organic search) stays with that channel
    load(workspace, "ad_performance", [ad(D1, "a", 100.0, channel="A")])
    load(
        workspace,
        "costs",
        [
            {
                "period_start": D1,
                "period_end": D2,
                "category": "production",
                "amount": 50.0,
                "currency": "EUR",
                "channel": "Organic Search",
            }
        ],
    )
    rows = kpi_report(workspace, by="channel", start=D1, end=D1).rows.set_index("channel")
    assert rows.loc["Organic Search", "other_costs"] == pytest.approx(25.0)  # one of two days
    assert rows.loc["A", "other_costs"] == pytest.approx(0.0)


def test_bounce_rate_new_customers_and_lead_value(workspace: Workspace) -> None:
    load(
        workspace,
        "touchpoints",
        [
            touch(f"u{i}", datetime(2025, 7, 1, 8 + i), "Email", click_id=f"k{i}", engaged=(i == 0))
            for i in range(4)
        ],
    )
    load(
        workspace,
        "orders",
        [
            order("o1", "u0", datetime(2025, 7, 1, 12), 10.0, 5.0, is_new_customer=True),
            order("o2", "u1", datetime(2025, 7, 1, 12), 10.0, 5.0, is_new_customer=False),
        ],
    )
    leads = [
        {"conversion_id": f"l{i}", "click_id": f"k{i % 4}", "ts": datetime(2025, 7, 1, 12), "type": "lead"}
        for i in range(10)
    ]
    deals = [
        {
            "conversion_id": "w1",
            "click_id": "k0",
            "ts": datetime(2025, 7, 2, 12),
            "type": "deal_won",
            "value": 1000.0,
            "is_offline": True,
        },
        {
            "conversion_id": "w2",
            "click_id": "k1",
            "ts": datetime(2025, 7, 2, 12),
            "type": "deal_won",
            "value": 3000.0,
            "is_offline": True,
        },
    ]
    load(workspace, "conversions", leads + deals)
    row = kpi_report(workspace, by="channel", **RANGE).rows.set_index("channel").loc["Email"]
    assert row["bounce_rate"] == pytest.approx(0.75)  # 1 of 4 sessions engaged
    assert row["new_customer_share"] == pytest.approx(0.5)
    assert row["leads"] == 10 and row["deals"] == 2
    assert row["lead_value"] == pytest.approx(2 / 10 * (1000 + 3000) / 2)  # close rate x average deal


def test_year_over_year_change(workspace: Workspace) -> None:
    load(workspace, "ad_performance", [ad(date(2024, 7, 1), "a", 200.0), ad(date(2025, 7, 1), "a", 300.0)])
    report = kpi_report(workspace, by="channel", start=date(2025, 7, 1), end=date(2025, 9, 30), compare="yoy")
    row = report.rows.iloc[0]
    assert report.compare_period.start == date(2024, 7, 1)
    assert row["spend_prev"] == pytest.approx(200.0)
    assert row["spend_change"] == pytest.approx(100.0)
    assert row["spend_change_pct"] == pytest.approx(0.5)
    weekly = kpi_report(
        workspace, by="week", start=date(2025, 6, 30), end=date(2025, 7, 13), compare="previous"
    )
    assert weekly.compare_period.start == date(2025, 6, 16)
    assert weekly.rows["week"].tolist() == [date(2025, 6, 30)]  # weeks without data have no row
    assert weekly.rows["spend_prev"].isna().all()  # nothing in the previous two weeks


def test_paid_roas_paid_cpa_and_mer_by_hand(workspace: Workspace) -> None:
    # Paid Search spends 200 and closes o1 (600). Organic Search closes o2 (400), Email o3 (50); o4 (100) has
    # no touch at all. By hand: paid-attributed revenue 600 on 200 spend -> paid ROAS 3.0; paid CPA 200 / 1
    # order = 200; MER = all revenue 1,150 / all media spend 200 = 5.75, which is the old blended ROAS; the
    # blended CPA stays 200 / 4 orders = 50.
    load(workspace, "ad_performance", [ad(D1, "a", 200.0)])
    load(
        workspace,
        "touchpoints",
        [
            touch("u1", datetime(2025, 7, 1, 8), "Paid Search", "a"),
            touch("u2", datetime(2025, 7, 1, 8), "Organic Search"),
            touch("u3", datetime(2025, 7, 1, 8), "Email"),
        ],
    )
    load(
        workspace,
        "orders",
        [
            order("o1", "u1", datetime(2025, 7, 1, 9), 600.0, 300.0),
            order("o2", "u2", datetime(2025, 7, 1, 9), 400.0, 200.0),
            order("o3", "u3", datetime(2025, 7, 1, 9), 50.0, 20.0),
            order("o4", "u4", datetime(2025, 7, 1, 9), 100.0, 50.0),
        ],
    )
    totals = kpi_report(workspace, by="channel", **RANGE).totals
    assert totals["paid_roas"] == pytest.approx(600 / 200)
    assert totals["paid_cpa"] == pytest.approx(200 / 1)
    assert totals["mer"] == pytest.approx(1150 / 200)
    assert totals["roas"] == pytest.approx(1150 / 200)  # existing key, same meaning as before
    assert totals["cpa"] == pytest.approx(200 / 4)
    # the same figures without a breakdown, and year-over-year fields like every compared KPI
    plain = kpi_report(workspace, compare="yoy", **RANGE).totals
    assert plain["paid_roas"] == pytest.approx(3.0) and plain["mer"] == pytest.approx(5.75)
    assert plain["paid_roas_prev"] is None or plain["paid_roas_prev"] != plain["paid_roas_prev"]


def test_paid_figures_with_zero_denominators_are_null(workspace: Workspace) -> None:
    # no media spend at all: paid ROAS, paid CPA and MER have a zero denominator (spend or paid orders)
    load(workspace, "touchpoints", [touch("u1", datetime(2025, 7, 1, 8), "Organic Search")])
    load(workspace, "orders", [order("o1", "u1", datetime(2025, 7, 1, 9), 50.0, 20.0)])
    totals = kpi_report(workspace, **RANGE).totals
    for key in ("paid_roas", "mer"):
        assert totals[key] is None or totals[key] != totals[key], key
    # spend without any order: paid CPA = 100 / 0 paid orders -> null, paid ROAS = 0 / 100 = 0
    load(workspace, "ad_performance", [ad(D1, "a", 100.0)])
    totals = kpi_report(workspace, **RANGE).totals
    assert totals["paid_cpa"] is None or totals["paid_cpa"] != totals["paid_cpa"]
    assert totals["paid_roas"] == pytest.approx(0.0) and totals["mer"] == pytest.approx(50 / 100)


def _null(value) -> bool:
    return value is None or value != value


def test_full_roi_only_where_the_channel_has_costs_of_its_own(tmp_path) -> None:
    # One day. Paid Search: spend 100, order 400 (COGS 200). Email: no spend, order 300 (COGS 100).
    # Organic Search: no spend, a production cost of 50 booked to it, order 200 (COGS 120).
    # An agency fee of 60 without a channel, allocated by revenue share 400 : 300 : 200 of 900.
    # By hand: Paid Search full ROI = (200 - 100 - 60 * 4/9) / (100 + 60 * 4/9);
    # Organic Search = (80 - 50 - 60 * 2/9) / (50 + 60 * 2/9); Email: its only cost is its 20 share of the
    # fee, so its own costs are unknown and its full ROI is null (it was (200 - 20) / 20 = 900% before).
    from trueroi.workspace import WorkspaceConfig

    config = WorkspaceConfig(cost_allocation=CostAllocation(rule="revenue_share"))
    with Workspace.init(tmp_path / "ws", config) as ws:
        load(ws, "ad_performance", [ad(D1, "a", 100.0)])
        load(
            ws,
            "touchpoints",
            [
                touch("u1", datetime(2025, 7, 1, 8), "Paid Search", "a"),
                touch("u2", datetime(2025, 7, 1, 8), "Email"),
                touch("u3", datetime(2025, 7, 1, 8), "Organic Search"),
            ],
        )
        load(
            ws,
            "orders",
            [
                order("o1", "u1", datetime(2025, 7, 1, 9), 400.0, 200.0),
                order("o2", "u2", datetime(2025, 7, 1, 9), 300.0, 100.0),
                order("o3", "u3", datetime(2025, 7, 1, 9), 200.0, 120.0),
            ],
        )
        cost = {"period_start": D1, "period_end": D1, "currency": "EUR"}
        load(
            ws,
            "costs",
            [
                {**cost, "category": "agency_fee", "amount": 60.0},
                {**cost, "category": "production", "amount": 50.0, "channel": "Organic Search"},
            ],
        )
        report = kpi_report(ws, by="channel", start=D1, end=D1)
        weekly = kpi_report(ws, by="week", start=D1, end=D1)
    rows = report.rows.set_index("channel")
    fee = 60.0
    paid_cost = 100 + fee * 4 / 9
    assert rows.loc["Paid Search", "full_roi"] == pytest.approx((200 - paid_cost) / paid_cost)
    organic_cost = 50 + fee * 2 / 9
    assert rows.loc["Organic Search", "full_roi"] == pytest.approx((80 - organic_cost) / organic_cost)
    assert _null(rows.loc["Email", "full_roi"])
    assert rows.loc["Email", "other_costs"] == pytest.approx(fee * 3 / 9)  # the allocated share is shown
    assert any("Email" in n and "full ROI" in n for n in report.notes)
    # totals and rows without a channel split carry every cost: their full ROI is known
    total_cost = 100 + 50 + fee
    expected_total = (200 + 200 + 80 - total_cost) / total_cost
    assert report.totals["full_roi"] == pytest.approx(expected_total)
    assert weekly.rows["full_roi"].tolist() == pytest.approx([expected_total])
