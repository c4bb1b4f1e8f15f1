"""Turn the drawn arrays into canonical Arrow tables: ads, orders, touchpoints, conversions, costs, FX."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.demo import spec
from trueroi.demo.journeys import CHANNELS, N_PAID, Campaigns, Orders, Touches
from trueroi.demo.simulate import DayPlan
from trueroi.workspace.schema import arrow_schema

FREE_BY_INDEX = {N_PAID + i: c for i, c in enumerate(spec.FREE)}
STATUS_NAMES = [s for s, _ in spec.ORDER_STATUS]


def ids(prefix: str, values: np.ndarray) -> pa.Array:
    """String ids like 'u42' built in Arrow, without a Python loop."""
    return pc.binary_join_element_wise(prefix, pa.array(values, pa.int64()).cast(pa.string()), "")


def utc_offsets(days: pd.DatetimeIndex) -> np.ndarray:
    """Minutes to subtract from local time to get UTC, per day (taken at noon, so exact outside 0-3 am of the
    two daylight-saving nights a year)."""
    tz = zoneinfo.ZoneInfo(spec.TIMEZONE)
    return np.array(
        [datetime.combine(d.date(), time(12), tz).utcoffset().total_seconds() / 60 for d in days],
        dtype=np.int64,
    )


def timestamps(abs_minute: np.ndarray, seconds: np.ndarray, offsets: np.ndarray) -> pa.Array:
    """UTC timestamps (naive, microseconds) from local minutes since the first day's midnight."""
    day = np.clip(abs_minute // 1440, 0, len(offsets) - 1)
    start = int(pd.Timestamp(spec.START).value // 1000)
    us = start + ((abs_minute - offsets[day]) * 60 + seconds) * 1_000_000
    return pa.array(us, pa.timestamp("us"))


def dates(day_index: np.ndarray) -> pa.Array:
    epoch_day = (pd.Timestamp(spec.START) - pd.Timestamp("1970-01-01")).days
    return pa.array((day_index + epoch_day).astype(np.int32), pa.date32())


def dictionary(codes: np.ndarray, values: list[str | None]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string())).cast(
        pa.string()
    )


def orders_table(orders: Orders, offsets: np.ndarray, rng: np.random.Generator) -> pa.Table:
    n = len(orders)
    minute = orders.day.astype(np.int64) * 1440 + orders.minute
    return pa.table(
        {
            "order_id": ids("o", np.arange(1, n + 1)),
            "customer_id": ids("c", orders.customer),
            "user_id": ids("u", orders.customer),
            "ts": timestamps(minute, rng.integers(0, 60, n), offsets),
            "date_day": dates(orders.day),
            "currency": pa.array(np.full(n, "EUR")),
            "revenue": orders.revenue,
            "cogs": orders.cogs,
            "status": dictionary(orders.status, STATUS_NAMES),
            "is_new_customer": orders.is_new,
        }
    )


def campaign_day_counts(touches: Touches, orders: Orders, campaigns: Campaigns, n_days: int) -> np.ndarray:
    """Converting click touches per paid campaign and day, shape (K, T)."""
    ok = (touches.campaign >= 0) & (touches.abs_minute >= 0)
    day = touches.abs_minute[ok] // 1440
    key = touches.campaign[ok] * n_days + day
    return np.bincount(key, minlength=len(campaigns.name) * n_days).reshape(len(campaigns.name), n_days)


def platform_claims(
    rng: np.random.Generator, touches: Touches, orders: Orders, campaigns: Campaigns, n_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """What ad platforms claim per campaign and day: every order with a click in the last 7 days counts for
    every campaign clicked (so platforms together claim more orders than exist), view-through orders are
    claimed too, and modelled conversions inflate the count further."""
    t_order = orders.day.astype(np.int64)[touches.order] * 1440 + orders.minute[touches.order]
    ok = (touches.campaign >= 0) & (t_order - touches.abs_minute <= 7 * 1440)
    pair = np.unique(np.stack([touches.order[ok], touches.campaign[ok]]), axis=1)
    order_idx, campaign = pair[0], pair[1]
    view = (orders.cause < N_PAID) & (rng.random(len(orders)) < 0.8)
    view &= ~np.isin(np.arange(len(orders)), touches.order[touches.channel == orders.cause[touches.order]])
    v_idx = np.flatnonzero(view)
    v_campaign = campaigns.pick(rng, orders.cause[v_idx], orders.day[v_idx])
    order_idx = np.concatenate([order_idx, v_idx])
    campaign = np.concatenate([campaign, v_campaign])
    key = campaign * n_days + orders.day[order_idx]
    size = len(campaigns.name) * n_days
    count = np.bincount(key, minlength=size).reshape(-1, n_days).astype(float)
    value = np.bincount(key, weights=orders.revenue[order_idx], minlength=size).reshape(-1, n_days)
    inflation = np.array([spec.PAID[c].platform_inflation for c in campaigns.channel])[:, None]
    extra = rng.poisson(count * inflation)
    ratio = np.divide(value, count, out=np.zeros_like(value), where=count > 0)
    return count + extra, np.round(value + extra * ratio, 2)


def ads_table(
    rng: np.random.Generator,
    plan: DayPlan,
    campaigns: Campaigns,
    conv_counts: np.ndarray,
    claims: tuple[np.ndarray, np.ndarray],
    usd_per_eur: np.ndarray,
) -> tuple[pa.Table, np.ndarray]:
    """One row per campaign and day with spend; returns the table and the clicks per campaign-day (K, T)."""
    n_days = len(plan.days)
    spend = plan.spend[campaigns.channel] * campaigns.share  # (K, T) EUR
    chans = [spec.PAID[c] for c in campaigns.channel]
    cpc = np.array([c.cpc for c in chans])[:, None]
    cpm = np.array([c.cpm for c in chans])[:, None]
    clicks = np.maximum(rng.poisson(spend / cpc), conv_counts)
    impressions = np.maximum(rng.poisson(spend / cpm * 1000), clicks)
    reach = np.floor(impressions / rng.uniform(1.3, 2.6, impressions.shape)).astype(np.int64)
    fx = np.where(np.array([c.currency == "USD" for c in chans])[:, None], usd_per_eur[None, :], 1.0)
    k_idx, d_idx = np.nonzero(spend > 0.005)
    name = np.array(campaigns.name)
    frame = {
        "date_day": dates(d_idx),
        "platform": pa.array([chans[k].platform for k in k_idx]).dictionary_encode().cast(pa.string()),
        "account_id": pa.array([chans[k].account for k in k_idx]),
        "account_name": pa.array([chans[k].account.replace("-", " ").title() for k in k_idx]),
        "campaign_id": ids("cmp-", k_idx + 1001),
        "campaign_name": pa.array(name[k_idx]),
        "channel": pa.array([chans[k].name for k in k_idx]),
        "is_brand": pa.array([chans[k].is_brand for k in k_idx]),
        "funnel_stage": pa.array([chans[k].funnel_stage for k in k_idx]),
        "currency": pa.array([chans[k].currency for k in k_idx]),
        "spend": np.round(spend * fx, 2)[k_idx, d_idx],
        "impressions": impressions[k_idx, d_idx],
        "reach": reach[k_idx, d_idx],
        "clicks": clicks[k_idx, d_idx],
        "conversions": claims[0][k_idx, d_idx],
        "conversions_value": np.round(claims[1] * fx, 2)[k_idx, d_idx],
    }
    del n_days
    return pa.table(frame), clicks


def touch_table(
    channel: np.ndarray,
    campaign: np.ndarray,
    minute: np.ndarray,
    user: np.ndarray,
    touch_no: np.ndarray,
    converting: np.ndarray,
    campaigns: Campaigns,
    offsets: np.ndarray,
    rng: np.random.Generator,
) -> pa.Table:
    """Touchpoint rows with UTM fields, click ids, engagement; ``touch_no`` numbers touches globally."""
    n = len(channel)
    src = [c.source for c in spec.PAID] + [c.source for c in spec.FREE]
    med = [c.medium for c in spec.PAID] + [c.medium for c in spec.FREE]
    camp_names = campaigns.name + [c.campaign or None for c in spec.FREE]
    camp_code = np.where(campaign >= 0, campaign, len(campaigns.name) + channel - N_PAID)
    terms = [None]
    term_code = np.zeros(n, np.int32)
    for i, ch in enumerate(spec.PAID):
        if ch.terms:
            sel = channel == i
            term_code[sel] = len(terms) + rng.integers(0, len(ch.terms), sel.sum())
            terms += list(ch.terms)
    organic = channel == N_PAID  # a share of organic searches are for the brand name
    brand_org = organic & (rng.random(n) < 0.3)
    term_code[brand_org] = 1
    is_brand = np.array([c.is_brand for c in spec.PAID] + [False] * len(spec.FREE))[channel] | brand_org
    param = [c.click_param for c in spec.PAID]
    click_id = pc.if_else(
        pa.array(channel < N_PAID),
        pc.binary_join_element_wise(
            dictionary(np.minimum(channel, N_PAID - 1), param), ids("", touch_no), "-"
        ),
        pa.nulls(n, pa.string()),
    )
    engaged_p = np.array([spec.ENGAGED_PAID[c.name] for c in spec.PAID] + [c.engaged for c in spec.FREE])
    engaged = converting | (rng.random(n) < engaged_p[channel])
    pages = ["/", "/apparel", "/home", "/electronics", "/sale"]
    return pa.table(
        {
            "touch_id": ids("t", touch_no),
            "user_id": ids("u", user),
            "ts": timestamps(minute, rng.integers(0, 60, n), offsets),
            "date_day": dates(minute // 1440),
            "session_id": ids("s", touch_no),
            "source": dictionary(channel, src),
            "medium": dictionary(channel, med),
            "campaign": dictionary(camp_code, camp_names),
            "term": dictionary(term_code, terms),
            "content": pa.nulls(n, pa.string()),
            "click_id": click_id,
            "channel": dictionary(channel, list(CHANNELS)),
            "is_brand": is_brand,
            "landing_page": dictionary(rng.integers(0, len(pages), n), [spec.SHOP_DOMAIN + p for p in pages]),
            "engaged": engaged,
            "pageviews": np.where(engaged, 2 + rng.poisson(3.0, n), 1).astype(np.int32),
        }
    )


def costs_table(plan: DayPlan) -> pa.Table:
    """Monthly non-media cost rows: agency fee (share of media), salaries, tools, production."""
    month = plan.days.to_period("M")
    rows = []
    paid_by_month = pd.Series(plan.spend.sum(axis=0), index=month).groupby(level=0).sum()
    content_by_month = pd.Series(plan.content_cost, index=month).groupby(level=0).sum()
    scale = plan.spend.sum() / sum(c.spend for c in spec.PAID) / len(plan.days)
    for m in paid_by_month.index:
        start, end = m.start_time.date(), m.end_time.date()
        for category, amount, channel in spec.NON_MEDIA_MONTHLY:
            value = amount * paid_by_month[m] if category == "agency_fee" else amount * scale
            rows.append((start, end, category, round(value, 2), channel or None))
        rows.append((start, end, "production", round(content_by_month[m], 2), spec.CONTENT["channel"]))
    frame = pd.DataFrame(rows, columns=["period_start", "period_end", "category", "amount", "channel"])
    frame["currency"] = "EUR"
    return pa.Table.from_pandas(frame, preserve_index=False)


def fx_table(plan: DayPlan, usd_per_eur: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "date_day": dates(np.arange(len(plan.days))),
            "currency": pa.array(["USD"] * len(plan.days)),
            "rate_to_base": np.round(1.0 / usd_per_eur, 6),
        }
    )


def conform_all(table: pa.Table, name: str) -> pa.Table:
    """Add the canonical columns the demo leaves empty, in canonical order (import_id set at load)."""
    target = arrow_schema(name)
    cols = [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in target
    ]
    return pa.Table.from_arrays(cols, schema=target)
