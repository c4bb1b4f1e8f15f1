"""Data-quality findings on a workspace built by hand, where every count is known by construction."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from trueroi.quality import Finding, findings, worst


def _load(ws, table: str, rows: list[dict], sha: str) -> None:
    ws.load({table: pd.DataFrame(rows)}, source_format="test", file_name=f"{sha}.csv", sha256=sha)


def _ts(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 1, day, hour)


@pytest.fixture
def messy(workspace):
    # shop: 4 sale orders (o1..o4) on Jan 1-2, o2 twice (duplicate), 1 refunded, 1 cancelled; o4 has no user
    orders = [
        {
            "order_id": "o1",
            "user_id": "u1",
            "ts": _ts(1),
            "date_day": date(2025, 1, 1),
            "currency": "EUR",
            "revenue": 100.0,
            "status": "paid",
        },
        {
            "order_id": "o2",
            "user_id": "u2",
            "ts": _ts(1),
            "date_day": date(2025, 1, 1),
            "currency": "EUR",
            "revenue": 50.0,
            "status": "paid",
        },
        {
            "order_id": "o2",
            "user_id": "u2",
            "ts": _ts(1),
            "date_day": date(2025, 1, 1),
            "currency": "EUR",
            "revenue": 50.0,
            "status": "paid",
        },
        {
            "order_id": "o3",
            "user_id": "u9",
            "ts": _ts(2),
            "date_day": date(2025, 1, 2),
            "currency": "EUR",
            "revenue": 70.0,
            "status": "paid",
        },
        {
            "order_id": "o4",
            "user_id": None,
            "ts": _ts(3),
            "date_day": date(2025, 1, 3),
            "currency": "EUR",
            "revenue": 30.0,
            "status": "paid",
        },
        {
            "order_id": "o5",
            "user_id": "u1",
            "ts": _ts(2),
            "date_day": date(2025, 1, 2),
            "currency": "EUR",
            "revenue": 40.0,
            "status": "refunded",
        },
        {
            "order_id": "o6",
            "user_id": "u1",
            "ts": _ts(2),
            "date_day": date(2025, 1, 2),
            "currency": "EUR",
            "revenue": 20.0,
            "status": "cancelled",
        },
    ]
    _load(workspace, "orders", orders, "o")
    # touchpoints on Jan 1-2 only (Jan 3 has an order but no tracking); u9 never tracked
    tps = [
        {
            "touch_id": "t1",
            "user_id": "u1",
            "ts": _ts(1, 9),
            "date_day": date(2025, 1, 1),
            "source": "google",
            "medium": "cpc",
            "campaign": "Brand",
            "channel": "Paid Search",
            "click_id": "g1",
        },
        {
            "touch_id": "t2",
            "user_id": "u2",
            "ts": _ts(1, 9),
            "date_day": date(2025, 1, 1),
            "source": "Facebook",
            "medium": "paid_social",
            "campaign": "brand",
            "channel": "Paid Social",
        },
        {
            "touch_id": "t3",
            "user_id": "u2",
            "ts": _ts(2, 9),
            "date_day": date(2025, 1, 2),
            "source": "facebook",
            "medium": "paid_social",
            "campaign": "x",
            "channel": "Paid Social",
        },
        {
            "touch_id": "t4",
            "user_id": "u3",
            "ts": _ts(2, 9),
            "date_day": date(2025, 1, 2),
            "source": None,
            "medium": None,
            "channel": "Unassigned",
        },
    ]
    _load(workspace, "touchpoints", tps, "t")
    # platforms claim 6 + 3 = 9 conversions against 5 distinct sale-order rows ... see test
    ads = [
        {
            "date_day": date(2025, 1, 1),
            "platform": "google_ads",
            "campaign_id": "c1",
            "currency": "EUR",
            "spend": 10.0,
            "impressions": 100,
            "clicks": 5,
            "conversions": 4.0,
            "conversions_value": 300.0,
        },
        {
            "date_day": date(2025, 1, 2),
            "platform": "google_ads",
            "campaign_id": "c1",
            "currency": "EUR",
            "spend": 12.0,
            "impressions": 100,
            "clicks": 0,
            "conversions": 2.0,
            "conversions_value": 150.0,
        },
        {
            "date_day": date(2025, 1, 2),
            "platform": "meta_ads",
            "campaign_id": "m1",
            "currency": "EUR",
            "spend": 8.0,
            "impressions": 300,
            "clicks": 4,
            "conversions": 3.0,
            "conversions_value": 90.0,
        },
    ]
    _load(workspace, "ad_performance", ads, "a")
    conv = [
        {
            "conversion_id": "k1",
            "click_id": "g1",
            "ts": _ts(3),
            "date_day": date(2025, 1, 3),
            "type": "deal_won",
            "is_offline": True,
        },
        {
            "conversion_id": "k2",
            "click_id": "zz",
            "ts": _ts(3),
            "date_day": date(2025, 1, 3),
            "type": "deal_won",
            "is_offline": True,
        },
        {
            "conversion_id": "k3",
            "click_id": "yy",
            "ts": _ts(3),
            "date_day": date(2025, 1, 3),
            "type": "lead",
            "is_offline": True,
        },
    ]
    _load(workspace, "conversions", conv, "c")
    return workspace


def _by_code(found: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in found}


def test_every_check_fires_with_hand_counted_numbers(messy) -> None:
    found = _by_code(findings(messy))
    # sale-order rows: o1, o2, o2, o3, o4 = 5; platforms claim 4 + 2 + 3 = 9 -> 1.80x
    over = found["platform_overclaim"]
    assert over.severity == "high" and "1.80x" in over.title
    # Jan 1: claims 4 vs 3 orders; Jan 2: claims 5 vs 1 order -> 2 days over
    assert over.count == 2
    # sale orders without a tracked user: o3 (u9) and o4 (no user) = 2 of 5
    lost = found["orders_without_touch"]
    assert lost.count == 2 and lost.severity == "high" and set(lost.examples) == {"order o3", "order o4"}
    assert found["utm_unassigned"].count == 1  # t4
    mixed = found["utm_mixed_case"]
    assert set(mixed.examples) == {"source: Facebook / facebook", "campaign: Brand / brand"}
    assert found["days_without_tracking"].examples == ["2025-01-03"]
    assert found["duplicate_order_ids"].examples == ["order o2: 2 rows"]
    off = found["offline_unmatched"]
    assert off.count == 2 and "33%" in off.title and off.severity == "high"  # 1 of 3 matched
    refunds = found["refunds_cancellations"]
    assert refunds.count == 2 and "29%" in refunds.title  # 2 of 7 order rows
    assert sorted(refunds.examples) == ["cancelled: 1 orders, 20.00 EUR", "refunded: 1 orders, 40.00 EUR"]
    assert found["spend_without_clicks"].count == 1  # google_ads Jan 2


def test_findings_are_sorted_worst_first(messy) -> None:
    found = findings(messy)
    ranks = [("high", "medium", "low").index(f.severity) for f in found]
    assert ranks == sorted(ranks)
    assert worst(found, 2) == found[:2]


def test_clean_workspace_has_no_findings(workspace) -> None:
    assert findings(workspace) == []


def test_finding_refuses_unknown_severity() -> None:
    with pytest.raises(ValueError, match="severity"):
        Finding("x", "critical", "t", 1)
