"""Quality checks of how sources meet (issue 24, items 1 and 11): sale orders no tracked purchase names, and
spend and sessions of one GA4 channel group split onto two channel names by a channel rule. Hand-made
workspaces; expected figures are worked out in the comments."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from trueroi.quality import findings
from trueroi.workspace import ChannelRule, Workspace, WorkspaceConfig


def _load(ws: Workspace, table: str, rows: list[dict], name: str, fmt: str = "test") -> None:
    ws.load({table: pd.DataFrame(rows)}, source_format=fmt, file_name=f"{name}.csv", sha256=name)


def _order(oid: str, revenue: float) -> dict:
    ts = datetime(2025, 3, 4, 10)
    return {"order_id": oid, "ts": ts, "date_day": ts.date(), "currency": "EUR", "revenue": revenue}


def _purchase(tid: str, user: str) -> dict:
    ts = datetime(2025, 3, 4, 10)
    return {
        "conversion_id": f"ga4:{tid}",
        "user_id": user,
        "ts": ts,
        "date_day": ts.date(),
        "type": "purchase",
        "order_id": tid,
    }


def _found(ws: Workspace, code: str) -> list:
    return [f for f in findings(ws) if f.code == code]


def test_orders_unlinked_names_the_revenue_share(workspace: Workspace) -> None:
    _load(workspace, "orders", [_order("#1", 100.0), _order("#2", 200.0), _order("#3", 300.0)], "orders")
    assert _found(workspace, "orders_unlinked") == []  # no tracked purchase: nothing to link to
    _load(
        workspace, "conversions", [_purchase("1", "u1"), _purchase("#2", "u2"), _purchase("X9", "u9")], "ga4"
    )
    (found,) = _found(workspace, "orders_unlinked")
    # #3 (300 of 100 + 200 + 300 = 600 EUR of sale revenue) has no purchase: 50% -> high; X9 matches no order
    assert (found.severity, found.count, found.examples) == ("high", 1, ["order #3"])
    assert found.title == "50% of sale revenue is in orders without a tracked purchase"
    assert "2 of 3 orders took the user" in found.detail
    assert "1 of 3 tracked purchases carry an id no order has" in found.detail


def test_every_order_linked_gives_no_finding(workspace: Workspace) -> None:
    _load(workspace, "orders", [_order("#1", 100.0)], "orders")
    _load(workspace, "conversions", [_purchase("#1", "u1")], "ga4")
    assert _found(workspace, "orders_unlinked") == []


def _ad(channel: str, platform: str, campaign: str, spend: float) -> dict:
    return {
        "date_day": date(2025, 3, 3),
        "platform": platform,
        "campaign_id": campaign,
        "campaign_name": campaign,
        "channel": channel,
        "currency": "EUR",
        "spend": spend,
        "impressions": 1000,
        "clicks": 20,
    }


def _touch(i: int, channel: str, source: str, medium: str) -> dict:
    ts = datetime(2025, 3, 3, 9, i)
    return {
        "touch_id": f"t{i}",
        "user_id": f"u{i}",
        "ts": ts,
        "date_day": ts.date(),
        "channel": channel,
        "source": source,
        "medium": medium,
    }


@pytest.fixture
def split(tmp_path) -> Workspace:
    """A rule took Meta's ad rows (facebook / cpc) into "Meta"; GA4's sessions tagged fb / paid stayed in
    GA4's "Paid Social". Google spend and sessions meet on "Paid Search"; organic and e-mail sessions have no
    spend."""
    config = WorkspaceConfig(name="split", channel_rules=[ChannelRule(channel="Meta", source="^facebook$")])
    ws = Workspace.init(tmp_path / "ws", config)
    _load(
        ws,
        "ad_performance",
        [_ad("Meta", "meta_ads", "Spring", 50.0), _ad("Paid Search", "google_ads", "Generic", 80.0)],
        "ads",
    )
    _load(
        ws,
        "touchpoints",
        [
            _touch(1, "Paid Social", "fb", "paid"),
            _touch(2, "Paid Social", "ig", "paid"),
            _touch(3, "Paid Search", "google", "cpc"),
            _touch(4, "Organic Search", "google", "organic"),
            _touch(5, "Email", "newsletter", "email"),
        ],
        "ga4",
    )
    yield ws
    ws.close()


def test_channel_rule_split_is_found(split: Workspace) -> None:
    (found,) = _found(split, "channel_rule_split")
    assert (found.severity, found.count) == ("high", 1)
    assert found.examples == [
        "spend on 'Meta' (50.00 EUR) meets no session and 2 sessions on 'Paid Social' meet no spend; "
        "both are GA4's 'Paid Social' without the rules: channel rule 1 (source '^facebook$') puts the "
        "spend into 'Meta'"
    ]


def test_no_split_without_a_rule_or_a_common_group(tmp_path) -> None:
    # the same rows without the rule: "Meta" spend beside "Paid Social" sessions is no rule's doing
    ws = Workspace.init(tmp_path / "ws", WorkspaceConfig(name="plain"))
    _load(ws, "ad_performance", [_ad("Meta", "meta_ads", "Spring", 50.0)], "ads")
    _load(ws, "touchpoints", [_touch(1, "Paid Social", "fb", "paid")], "ga4")
    assert _found(ws, "channel_rule_split") == []
    ws.close()
    # a rule naming the sessions' channel, but spend of another group (Google search) beside e-mail sessions
    config = WorkspaceConfig(
        name="other", channel_rules=[ChannelRule(channel="Newsletter", medium="^email$")]
    )
    ws = Workspace.init(tmp_path / "ws2", config)
    _load(ws, "ad_performance", [_ad("Search", "google_ads", "Generic", 80.0)], "ads")
    _load(ws, "touchpoints", [_touch(1, "Newsletter", "newsletter", "email")], "ga4")
    assert _found(ws, "channel_rule_split") == []
    ws.close()
