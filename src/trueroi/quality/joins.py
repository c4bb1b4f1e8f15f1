"""Checks of how sources meet: shop orders and tracked purchases, ad spend and sessions under channel rules.

``orders_unlinked``      when tracked purchases exist: sale orders that still have no user (no purchase with
                         their transaction id), with their share of sale revenue, and tracked purchases whose
                         transaction id no order carries
``channel_rule_split``   a channel with spend but no sessions beside a channel with sessions but no spend that
                         are one GA4 channel group without the workspace's channel rules, where a rule names
                         one of them (the rule matched one source's rows but not the other's)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trueroi.ingest.channels import ga4_group
from trueroi.ingest.rechannel import ad_source
from trueroi.quality.base import EXAMPLES, Finding, in_base, scalar, severity
from trueroi.workspace.links import order_links
from trueroi.workspace.rules import is_sale

if TYPE_CHECKING:
    import pandas as pd

    from trueroi.workspace import ChannelRule, Workspace


def check_orders_unlinked(ws: Workspace) -> list[Finding]:
    """Sale orders without a user while tracked purchases exist: their revenue cannot be attributed."""
    links = order_links(ws)
    if not links.purchases or not links.orders:
        return []
    orders = ws.table("orders")
    lost = orders.filter(is_sale(orders.status) & orders.user_id.isnull())
    n = int(scalar(lost.count()) or 0)
    share = links.unlinked_revenue_share or 0.0
    if not n and not links.purchases_unmatched:
        return []
    ids = lost.order_by("ts").select("order_id").limit(EXAMPLES).execute()["order_id"].tolist()
    detail = (
        f"{n:,} sale order(s) match no tracked purchase ({share:.1%} of sale revenue stays unattributed); "
        f"{links.linked:,} of {links.orders:,} orders took the user of the purchase with their id. A "
        "purchase's transaction id must equal the order's id (Shopify: Name, with or without '#', or Id)."
    )
    if links.purchases_unmatched:
        detail += (
            f" {links.purchases_unmatched:,} of {links.purchases:,} tracked purchases carry an id no order "
            "has: orders not exported yet, or ids in another style."
        )
    return [
        Finding(
            "orders_unlinked",
            severity(share, 0.3, 0.1) if n else "low",
            f"{share:.0%} of sale revenue is in orders without a tracked purchase",
            n,
            [f"order {i}" for i in ids],
            detail,
        )
    ]


def check_channel_rule_split(ws: Workspace) -> list[Finding]:
    """Spend and sessions of one GA4 channel group on two channel names because a rule took only one side."""
    rules = list(ws.config.channel_rules)
    if not rules:
        return []
    spend, sessions = _spend_groups(ws), _session_groups(ws)
    if spend.empty or sessions.empty:
        return []
    spend_only = set(spend["channel"]) - set(sessions["channel"])
    session_only = set(sessions["channel"]) - set(spend["channel"])
    named = {r.channel for r in rules}
    examples = []
    for paid in sorted(spend_only):
        rows = spend[spend["channel"] == paid]
        for tracked in sorted(session_only):
            if paid not in named and tracked not in named:
                continue
            seen = sessions[sessions["channel"] == tracked]
            common = set(rows["group"]) & set(seen["group"])
            if common:
                examples.append(_split_line(ws, paid, rows, tracked, seen, sorted(common)[0], rules))
    if not examples:
        return []
    return [
        Finding(
            "channel_rule_split",
            "high",
            f"{len(examples)} channel(s) with spend but no sessions beside sessions without spend",
            len(examples),
            examples[:EXAMPLES],
            "A channel rule matched one source's rows but not the other's, so spend and the sessions (and "
            "revenue) it bought sit on different channel names and both show a false ROI. Widen the rule to "
            "the ad platform's source (google, facebook, bing, ...) or the sessions' UTM values, then "
            "re-apply the channel rules to the rows already loaded.",
        )
    ]


def _spend_groups(ws: Workspace) -> pd.DataFrame:
    """Spend (base currency) per channel and GA4 default group of its ad rows (without the rules)."""
    ads = ws.table("ad_performance")
    ads = in_base(ws, ads.filter(ads.spend > 0), ["spend"])
    by = ads.group_by(["channel", "platform", "campaign_name"]).aggregate(spend=ads.spend.sum()).execute()
    by = by[by["channel"].notna()]
    by["group"] = [
        ga4_group(*ad_source(p), c if isinstance(c, str) else None)
        for p, c in zip(by["platform"], by["campaign_name"], strict=True)
    ]
    return by


def _session_groups(ws: Workspace) -> pd.DataFrame:
    """Sessions per channel and GA4 default group of their source, medium and campaign (without the rules)."""
    tp = ws.table("touchpoints")
    by = tp.group_by(["channel", "source", "medium", "campaign"]).aggregate(n=tp.count()).execute()
    by = by[by["channel"].notna()]
    by["group"] = [
        ga4_group(*(v if isinstance(v, str) else None for v in row))
        for row in zip(by["source"], by["medium"], by["campaign"], strict=True)
    ]
    return by


def _split_line(
    ws: Workspace,
    paid: str,
    spend: pd.DataFrame,
    tracked: str,
    sessions: pd.DataFrame,
    group: str,
    rules: list[ChannelRule],
) -> str:
    amount = float(spend.loc[spend["group"] == group, "spend"].sum())
    n = int(sessions.loc[sessions["group"] == group, "n"].sum())
    index, rule = next((i, r) for i, r in enumerate(rules, start=1) if r.channel in (paid, tracked))
    patterns = ", ".join(
        f"{k} {v!r}"
        for k, v in (("source", rule.source), ("medium", rule.medium), ("campaign", rule.campaign))
        if v
    )
    side = "sessions" if rule.channel == tracked else "spend"
    return (
        f"spend on {paid!r} ({amount:,.2f} {ws.config.base_currency}) meets no session and {n:,} sessions "
        f"on {tracked!r} meet no spend; both are GA4's {group!r} without the rules: channel rule {index} "
        f"({patterns or 'no pattern'}) puts the {side} into {rule.channel!r}"
    )
