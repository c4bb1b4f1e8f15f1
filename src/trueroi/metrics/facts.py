"""Additive facts at the base grain (local day x channel x campaign x brand), built as Ibis expressions.

Every source is aggregated to the base grain first and then stacked, so one ``group_by`` answers any
breakdown: ads (spend, impressions, clicks, platform claims), attributed orders (conversions, revenue,
COGS, new customers), sessions (touchpoints), leads and won deals (conversions), and non-media costs
allocated by the workspace rule. Money is converted to the base currency on the way in.
"""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd

from trueroi.metrics.credits import order_credits
from trueroi.workspace import Workspace
from trueroi.workspace.derived import materialized
from trueroi.workspace.money import check_rates, to_base
from trueroi.workspace.rules import norm_campaign, sale_orders

BASE = ("date_day", "channel", "campaign", "is_brand")
MEASURES = (
    "spend",
    "impressions",
    "clicks",
    "platform_conversions",
    "platform_value",
    "conversions",
    "revenue",
    "cogs",
    "new_customers",
    "sessions",
    "engaged_sessions",
    "leads",
    "deals",
    "deal_value",
    "other_costs",
)
UNATTRIBUTED = "(unattributed)"
UNALLOCATED = "(unallocated)"


def _shape(t: ibis.Table, **measures: ibis.Value) -> ibis.Table:
    """Base-grain columns plus every measure (absent ones as 0.0), in one fixed schema for the union."""
    cols = {
        "date_day": t.date_day.cast("date"),
        "channel": t.channel.cast("string"),
        "campaign": t.campaign.cast("string"),
        "is_brand": t.is_brand.cast("boolean"),
    }
    for m in MEASURES:
        cols[m] = (measures[m] if m in measures else ibis.literal(0.0)).cast("float64")
    return t.select(**cols)


def ad_facts(ws: Workspace, start: date, end: date) -> ibis.Table:
    ads = ws.table("ad_performance")
    ads = ads.filter(ads.date_day.between(start, end))
    check_rates(ws, ads, "ad_performance")
    ads = to_base(ws, ads, ["spend", "conversions_value"])
    ads = ads.mutate(
        channel=ads.channel.fill_null("(unknown)"),
        campaign=norm_campaign(ads.campaign_name),
        is_brand=ads.is_brand.fill_null(False),
    )
    g = ads.group_by(list(BASE)).aggregate(
        spend=ads.spend.sum(),
        impressions=ads.impressions.sum().cast("float64"),
        clicks=ads.clicks.sum().cast("float64"),
        platform_conversions=ads.conversions.sum(),
        platform_value=ads.conversions_value.sum(),
    )
    return _shape(
        g,
        spend=g.spend,
        impressions=g.impressions,
        clicks=g.clicks,
        platform_conversions=g.platform_conversions,
        platform_value=g.platform_value,
    )


def order_facts(ws: Workspace, start: date, end: date, model: str) -> ibis.Table:
    orders = sale_orders(ws, start, end)
    check_rates(ws, orders, "orders")
    orders = to_base(ws, orders, ["revenue", "cogs"])
    credits = order_credits(ws, model, start, end).rename(c_order="order_id")
    j = orders.left_join(credits, orders.order_id == credits.c_order)
    credit = j.credit.fill_null(1.0)
    j = j.mutate(
        channel=j.channel.fill_null(UNATTRIBUTED),
        campaign=j.campaign,
        is_brand=j.is_brand.fill_null(False),
        w_orders=credit,
        w_revenue=j.revenue.fill_null(0.0) * credit,
        w_cogs=j.cogs.fill_null(0.0) * credit,
        w_new=j.is_new_customer.fill_null(False).cast("float64") * credit,
    )
    g = j.group_by(list(BASE)).aggregate(
        conversions=j.w_orders.sum(),
        revenue=j.w_revenue.sum(),
        cogs=j.w_cogs.sum(),
        new_customers=j.w_new.sum(),
    )
    return _shape(g, conversions=g.conversions, revenue=g.revenue, cogs=g.cogs, new_customers=g.new_customers)


def session_facts(ws: Workspace, start: date, end: date) -> ibis.Table:
    raw = materialized(ws, "sessions_daily", lambda: _sessions_daily(ws), reads=("touchpoints",))
    raw = raw.filter(raw.date_day.between(start, end))
    raw = raw.mutate(
        channel=raw.channel.fill_null("(unknown)"),
        campaign=norm_campaign(raw.campaign),
        is_brand=raw.is_brand.fill_null(False),
    )
    g = raw.group_by(list(BASE)).aggregate(sessions=raw.sessions.sum(), engaged=raw.engaged.sum())
    return _shape(g, sessions=g.sessions, engaged_sessions=g.engaged)


def _sessions_daily(ws: Workspace) -> ibis.Table:
    """Sessions and engaged sessions per day on the raw keys (campaign names are normalised afterwards, on
    the few aggregated rows rather than on every session)."""
    tp = ws.table("touchpoints")
    return tp.group_by(["date_day", "channel", "campaign", "is_brand"]).aggregate(
        sessions=tp.count(), engaged=tp.engaged.fill_null(False).cast("int64").sum()
    )


def lead_facts(ws: Workspace, start: date, end: date) -> ibis.Table:
    """Leads and won deals of the period, credited to the touch that carries their click id.

    Computed once over all days and kept in the warehouse until conversions, touchpoints or rates are loaded
    again; a missing exchange rate is checked for the period's rows each time.
    """
    cv = ws.table("conversions")
    check_rates(
        ws, cv.filter(cv.date_day.between(start, end), cv.type.lower().isin(LEAD_TYPES)), "conversions"
    )
    stored = materialized(
        ws,
        "leads_daily",
        lambda: _leads_daily(ws),
        reads=("conversions", "touchpoints", "fx_rates"),
        settings={"base_currency": ws.config.base_currency},
    )
    cut = stored.filter(stored.date_day.between(start, end))
    return _shape(cut, **{m: cut[m] for m in ("leads", "deals", "deal_value")})


LEAD_TYPES = ("lead", "deal_won")


def _leads_daily(ws: Workspace) -> ibis.Table:
    cv = ws.table("conversions")
    cv = cv.filter(cv.type.lower().isin(LEAD_TYPES))
    cv = to_base(ws, cv, ["value"])
    tp = ws.table("touchpoints")
    wanted = cv.filter(cv.click_id.notnull()).select(s_click="click_id")
    tp = tp.semi_join(wanted, tp.click_id == wanted.s_click)
    clicks = tp.group_by(tp.click_id.name("k_click")).aggregate(
        k_channel=tp.channel.arbitrary(), k_campaign=tp.campaign.arbitrary(), k_brand=tp.is_brand.arbitrary()
    )
    j = cv.left_join(clicks, cv.click_id == clicks.k_click)
    j = j.mutate(
        channel=j.k_channel.fill_null(UNATTRIBUTED),
        campaign=norm_campaign(j.k_campaign),
        is_brand=j.k_brand.fill_null(False),
        is_lead=(j.type.lower() == "lead").cast("float64"),
        is_deal=(j.type.lower() == "deal_won").cast("float64"),
    )
    return j.group_by(list(BASE)).aggregate(
        leads=j.is_lead.sum(), deals=j.is_deal.sum(), deal_value=(j.value.fill_null(0.0) * j.is_deal).sum()
    )


def campaign_names(ws: Workspace) -> dict[str, str]:
    """The name to show for each campaign key: the (trimmed) spelling the ad platforms use on most rows.

    Facts join campaigns on :func:`~trueroi.workspace.rules.norm_campaign` (``"Marke | Nordlicht"`` and
    ``"marke | nordlicht "`` are one campaign); reports show this spelling instead of the lower-cased key.
    Ties go to the spelling that sorts first. Keys no ad row names are shown as they are.
    """
    ads = ws.table("ad_performance")
    named = ads.filter(ads.campaign_name.notnull())
    spelled = named.group_by(
        [norm_campaign(named.campaign_name).name("key"), named.campaign_name.strip().name("name")]
    ).aggregate(n=named.count())
    df = spelled.execute().sort_values(["key", "n", "name"], ascending=[True, False, True])
    best = df.drop_duplicates("key", keep="first")
    return dict(zip(best["key"], best["name"], strict=True))


def shown_campaigns(ws: Workspace, keys: pd.Series) -> pd.Series:
    """Campaign keys (a report's ``campaign`` column) as :func:`campaign_names` spells them."""
    names = campaign_names(ws)
    return keys.map(lambda key: names.get(key, key) if isinstance(key, str) else key)


def _calendar(start: date, end: date) -> ibis.Table:
    return ibis.memtable({"cal_day": pd.date_range(start, end, freq="D").date}, schema={"cal_day": "date"})


def daily_costs(ws: Workspace, start: date, end: date) -> ibis.Table:
    """Non-media costs spread evenly over the days of their period, in the base currency."""
    c = ws.table("costs")
    c = c.filter(c.period_end >= start, c.period_start <= end)
    cal = _calendar(start, end)
    d = c.inner_join(cal, [cal.cal_day >= c.period_start, cal.cal_day <= c.period_end])
    n_days = (d.period_end.delta(d.period_start, unit="day") + 1).cast("float64")
    d = d.select(
        date_day=d.cal_day,
        currency=d.currency,
        amount=d.amount / n_days,
        channel=d.channel,
        campaign_id=d.campaign_id,
    )
    check_rates(ws, d, "costs")
    return to_base(ws, d, ["amount"])


def _shares(base: ibis.Table, measure: str, within: list[str]) -> ibis.Table:
    positive = base.filter(base[measure] > 0)
    total = positive[measure].sum().over(group_by=[positive[w] for w in within])
    return positive.select(*[positive[c].name(f"s_{c}") for c in BASE], share=positive[measure] / total)


def cost_facts(ws: Workspace, start: date, end: date, ads: ibis.Table, orders: ibis.Table) -> ibis.Table:
    """Allocate non-media costs to the base grain.

    A cost with a campaign id goes to that campaign; with a channel, to the channel's campaigns by their
    share of its spend that day (or to the channel itself when it has no spend); without either, by the
    workspace rule: ``spend_share`` / ``revenue_share`` over all rows of the day, or ``fixed`` to one channel.
    """
    costs = daily_costs(ws, start, end)
    raw_ads = ws.table("ad_performance")
    lookup = raw_ads.select(
        l_id=raw_ads.campaign_id,
        l_channel=raw_ads.channel,
        l_campaign=norm_campaign(raw_ads.campaign_name),
        l_brand=raw_ads.is_brand.fill_null(False),
    ).distinct(on="l_id", keep="first")
    costs = costs.left_join(lookup, costs.campaign_id == lookup.l_id)
    by_campaign = costs.filter(costs.l_id.notnull())
    campaign_rows = by_campaign.select(
        date_day="date_day", channel="l_channel", campaign="l_campaign", is_brand="l_brand", amount="amount"
    )
    part_campaign = _shape(campaign_rows, other_costs=campaign_rows.amount)
    rest = costs.filter(costs.l_id.isnull())
    by_channel = (
        rest.filter(rest.channel.notnull())
        .group_by(["date_day", "channel"])
        .aggregate(amount=rest.amount.sum())
    )
    spend_share = _shares(ads, "spend", ["date_day", "channel"])
    j = by_channel.left_join(
        spend_share,
        [by_channel.date_day == spend_share.s_date_day, by_channel.channel == spend_share.s_channel],
    )
    channel_rows = j.select(
        "date_day",
        "channel",
        campaign=j.s_campaign,
        is_brand=j.s_is_brand.fill_null(False),
        amount=j.amount * j.share.fill_null(1.0),
    )
    part_channel = _shape(channel_rows, other_costs=channel_rows.amount)
    loose = rest.filter(rest.channel.isnull()).group_by("date_day").aggregate(amount=rest.amount.sum())
    alloc = ws.config.cost_allocation
    if alloc.rule == "fixed":
        loose_rows = loose.select(
            "date_day",
            "amount",
            channel=ibis.literal(alloc.channel),
            campaign=ibis.null().cast("string"),
            is_brand=ibis.literal(False),
        )
    else:
        source, measure = (ads, "spend") if alloc.rule == "spend_share" else (orders, "revenue")
        share = _shares(source, measure, ["date_day"])
        k = loose.left_join(share, loose.date_day == share.s_date_day)
        loose_rows = k.select(
            "date_day",
            channel=k.s_channel.fill_null(UNALLOCATED),
            campaign=k.s_campaign,
            is_brand=k.s_is_brand.fill_null(False),
            amount=k.amount * k.share.fill_null(1.0),
        )
    part_loose = _shape(loose_rows, other_costs=loose_rows.amount)
    return part_campaign.union(part_channel).union(part_loose)


def facts(ws: Workspace, start: date, end: date, model: str, leads: ibis.Table | None = None) -> ibis.Table:
    """All additive facts of [start, end] at the base grain (one row per source and grain key).

    ``leads`` may pass lead facts already computed over a longer history; they are cut to the period.
    """
    ads = ad_facts(ws, start, end)
    orders = order_facts(ws, start, end, model)
    if leads is None:
        lead_part = lead_facts(ws, start, end)
    else:  # re-typed: a cached table may come back with backend types (Spark reads 0.0 as decimal(1,1))
        cut = leads.filter(leads.date_day.between(start, end))
        lead_part = _shape(cut, **{m: cut[m] for m in MEASURES})
    parts = [ads, orders, session_facts(ws, start, end), lead_part, cost_facts(ws, start, end, ads, orders)]
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out
