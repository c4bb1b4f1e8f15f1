"""The worked examples of the field, computed by hand, run through the whole engine."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from trueroi.metrics import kpi_report
from trueroi.workspace import Workspace

from .helpers import ad, load, order, touch

Q3 = {"start": date(2025, 7, 1), "end": date(2025, 9, 30)}


def _one_channel_shop(ws: Workspace, spend: float, revenue: float, cogs: float) -> None:
    load(ws, "ad_performance", [ad(date(2025, 7, 1), "c1", spend)])
    load(ws, "touchpoints", [touch("u1", datetime(2025, 7, 1, 9), "Paid Search", "c1")])
    load(ws, "orders", [order("o1", "u1", datetime(2025, 7, 1, 10), revenue, cogs)])


def test_roi_300_percent_from_50k_cost_and_200k_margin(workspace: Workspace) -> None:
    # Marketing cost 50,000; contribution margin 200,000: ROI = (200,000 - 50,000) / 50,000 = 3.0 (300%)
    _one_channel_shop(workspace, spend=50_000, revenue=400_000, cogs=200_000)
    report = kpi_report(workspace, by="channel", **Q3)
    row = report.rows.set_index("channel").loc["Paid Search"]
    assert row["margin"] == pytest.approx(200_000)
    assert row["media_roi"] == pytest.approx(3.0)
    assert row["full_roi"] == pytest.approx(3.0)  # no other costs


def test_roas_5_can_lose_money_at_15_percent_margin(workspace: Workspace) -> None:
    # 100,000 revenue on 20,000 spend: ROAS 5.0; margin 15% = 15,000: ROI = (15,000 - 20,000) / 20,000 = -25%
    _one_channel_shop(workspace, spend=20_000, revenue=100_000, cogs=85_000)
    totals = kpi_report(workspace, **Q3).totals
    assert totals["roas"] == pytest.approx(5.0)
    assert totals["media_roi"] == pytest.approx(-0.25)


def test_non_media_costs_lower_full_roi_by_the_formula(workspace: Workspace) -> None:
    # spend 10,000, margin 60,000: media ROI (60,000 - 10,000) / 10,000 = 5.0 (500%).
    # Agency fee 3,100 for July (31 days) and salaries 1,900 for July, no channel, allocated by spend share
    # to the only spending channel: other costs 5,000; full ROI = (60,000 - 15,000) / 15,000 = 3.0.
    _one_channel_shop(workspace, spend=10_000, revenue=100_000, cogs=40_000)
    load(
        workspace,
        "costs",
        [
            {
                "period_start": date(2025, 7, 1),
                "period_end": date(2025, 7, 31),
                "category": "agency_fee",
                "amount": 3100.0,
                "currency": "EUR",
            },
            {
                "period_start": date(2025, 7, 1),
                "period_end": date(2025, 7, 31),
                "category": "salaries",
                "amount": 1900.0,
                "currency": "EUR",
            },
        ],
    )
    # only 1 July has spend, so the whole month's costs are spread over July's days: 1 July gets 1/31,
    # the other 30 days have no spend and go to "(unallocated)"; the channel total is 5,000 / 31.
    row = kpi_report(workspace, by="channel", **Q3).rows.set_index("channel")
    assert row.loc["Paid Search", "media_roi"] == pytest.approx(5.0)
    other = 5000.0 / 31
    assert row.loc["Paid Search", "other_costs"] == pytest.approx(other)
    assert row.loc["Paid Search", "full_roi"] == pytest.approx((60_000 - 10_000 - other) / (10_000 + other))
    assert row.loc["(unallocated)", "other_costs"] == pytest.approx(5000.0 * 30 / 31)
    totals = kpi_report(workspace, **Q3).totals
    assert totals["other_costs"] == pytest.approx(5000.0)
    assert totals["full_roi"] == pytest.approx((60_000 - 15_000) / 15_000)
