"""KPI definitions: each KPI is a formula over summed measures, declared once and found by name.

Ratios are weighted (sum numerators and denominators, then divide) and a zero denominator gives null.
ROI figures are ratios: 3.0 means 300%.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis


@dataclass(frozen=True)
class Kpi:
    """A KPI: its key, label for people, kind (money, count, ratio, percent, roi) and formula over sums."""

    name: str
    label: str
    kind: str
    formula: Callable[[ibis.Table], ibis.Value]
    description: str


def ratio(num: ibis.Value, den: ibis.Value) -> ibis.Value:
    """num / den as float64, null when den is 0 or null."""
    den = den.cast("float64")
    return ibis.cases((den == 0, ibis.null("float64")), else_=num.cast("float64") / den)


def _margin(t: ibis.Table) -> ibis.Value:
    return t.revenue - t.cogs


def _total_cost(t: ibis.Table) -> ibis.Value:
    return t.spend + t.other_costs


KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        Kpi("spend", "Spend", "money", lambda t: t.spend, "Media spend (ad platforms), base currency."),
        Kpi("impressions", "Impr.", "count", lambda t: t.impressions, "Ad impressions."),
        Kpi("clicks", "Clicks", "count", lambda t: t.clicks, "Ad clicks reported by the platforms."),
        Kpi("ctr", "CTR", "percent", lambda t: ratio(t.clicks, t.impressions), "Clicks / impressions."),
        Kpi("cpc", "CPC", "money", lambda t: ratio(t.spend, t.clicks), "Spend / clicks."),
        Kpi(
            "cpm",
            "CPM",
            "money",
            lambda t: ratio(t.spend * 1000, t.impressions),
            "Spend per 1,000 impressions.",
        ),
        Kpi("sessions", "Sessions", "count", lambda t: t.sessions, "Tracked sessions (touchpoints)."),
        Kpi(
            "bounce_rate",
            "Bounce",
            "percent",
            lambda t: 1 - ratio(t.engaged_sessions, t.sessions),
            "1 - engaged sessions / sessions.",
        ),
        Kpi(
            "conversions",
            "Conv.",
            "count",
            lambda t: t.conversions,
            "Orders credited by the attribution model (fractional for multi-touch models).",
        ),
        Kpi("cvr", "CVR", "percent", lambda t: ratio(t.conversions, t.sessions), "Conversions / sessions."),
        Kpi(
            "cpa",
            "CPA",
            "money",
            lambda t: ratio(t.spend, t.conversions),
            "Spend / conversions (orders are the conversions, so CPA = CPO).",
        ),
        Kpi("cpo", "CPO", "money", lambda t: ratio(t.spend, t.conversions), "Spend / orders."),
        Kpi("revenue", "Revenue", "money", lambda t: t.revenue, "Attributed net revenue of paid orders."),
        Kpi("aov", "AOV", "money", lambda t: ratio(t.revenue, t.conversions), "Revenue / orders."),
        Kpi("margin", "Margin", "money", _margin, "Attributed contribution margin: revenue - COGS."),
        Kpi(
            "roas", "ROAS", "ratio", lambda t: ratio(t.revenue, t.spend), "Attributed revenue / media spend."
        ),
        Kpi(
            "media_roi",
            "Media ROI",
            "roi",
            lambda t: ratio(_margin(t) - t.spend, t.spend),
            "(Attributed margin - media spend) / media spend.",
        ),
        Kpi(
            "other_costs",
            "Other costs",
            "money",
            lambda t: t.other_costs,
            "Allocated non-media costs (agency, salaries, tools, production).",
        ),
        Kpi("full_cost", "Full cost", "money", _total_cost, "Media spend + allocated non-media costs."),
        Kpi(
            "full_roi",
            "Full ROI",
            "roi",
            lambda t: ratio(_margin(t) - _total_cost(t), _total_cost(t)),
            "(Attributed margin - all marketing costs) / all marketing costs.",
        ),
        Kpi("new_customers", "New cust.", "count", lambda t: t.new_customers, "Attributed first orders."),
        Kpi(
            "new_customer_share",
            "New %",
            "percent",
            lambda t: ratio(t.new_customers, t.conversions),
            "New customers / orders.",
        ),
        Kpi("cac", "CAC", "money", lambda t: ratio(t.spend, t.new_customers), "Spend / new customers."),
        Kpi("leads", "Leads", "count", lambda t: t.leads, "Lead conversions, credited by click id."),
        Kpi("cpl", "CPL", "money", lambda t: ratio(t.spend, t.leads), "Spend / leads."),
        Kpi("deals", "Deals", "count", lambda t: t.deals, "Deals won offline in the period."),
        Kpi("deal_value", "Deal value", "money", lambda t: t.deal_value, "Value of deals won in the period."),
        Kpi(
            "platform_conversions",
            "Conv. (platform)",
            "count",
            lambda t: t.platform_conversions,
            "Conversions the ad platforms claim (platform-reported, over-counts).",
        ),
        Kpi(
            "platform_value",
            "Value (platform)",
            "money",
            lambda t: t.platform_value,
            "Conversion value the ad platforms claim (platform-reported).",
        ),
        Kpi(
            "platform_roas",
            "ROAS (platform)",
            "ratio",
            lambda t: ratio(t.platform_value, t.spend),
            "Platform-claimed value / spend (platform-reported).",
        ),
    )
}

# Computed outside the sums: not additive, or over a longer history than the period.
EXTRA_KPIS = {
    "users": Kpi(
        "users",
        "Users",
        "count",
        lambda t: t.users,
        "Distinct users with a session (never summed across days or campaigns).",
    ),
    "reach": Kpi(
        "reach",
        "Reach",
        "count",
        lambda t: t.reach,
        "Platform reach, only at the grain the platform reported it (one campaign on one day).",
    ),
    "lead_value": Kpi(
        "lead_value",
        "Lead value",
        "money",
        lambda t: t.lead_value,
        "Historical close rate x average deal value, per lead.",
    ),
}
ALL_KPIS = {**KPIS, **EXTRA_KPIS}

PAID_MEASURES = ("paid_revenue", "paid_conversions")
"""Sums over the channels with media spend in the period only (see :data:`TOTAL_KPIS`)."""

# Of the totals only: one figure over every channel, paid-attributed against blended.
TOTAL_KPIS = {
    k.name: k
    for k in (
        Kpi(
            "paid_roas",
            "Paid-media ROAS",
            "ratio",
            lambda t: ratio(t.paid_revenue, t.spend),
            "Revenue attributed to channels with media spend / media spend (organic, direct, e-mail and "
            "unattributed revenue left out).",
        ),
        Kpi(
            "paid_cpa",
            "Paid-media CPA",
            "money",
            lambda t: ratio(t.spend, t.paid_conversions),
            "Media spend / conversions attributed to channels with media spend.",
        ),
        Kpi(
            "mer",
            "MER (blended)",
            "ratio",
            lambda t: ratio(t.revenue, t.spend),
            "Marketing efficiency ratio: all revenue (every channel, unattributed too) / all media spend; "
            "the blended figure the totals' ROAS has always shown.",
        ),
    )
}
