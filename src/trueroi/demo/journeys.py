"""Orders and the customer journeys behind them, drawn as flat numpy arrays (no per-row Python loops).

Each order has a cause: a paid channel (an incremental order), the baseline (would have happened anyway),
content (organic-search lift), or a repeat purchase of an earlier customer. Its journey holds up to three
touches: the cause's own touch (absent for view-through orders), an optional poaching touch (retargeting,
affiliate coupons, brand search) and an optional closing touch (brand search, direct, organic). That is how
last-click attribution comes to over-credit brand search and retargeting, and platforms to over-claim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trueroi.demo import spec
from trueroi.demo.simulate import DayPlan

N_PAID = len(spec.PAID)
CHANNELS = tuple(c.name for c in spec.PAID) + tuple(c.name for c in spec.FREE)
CH = {name: i for i, name in enumerate(CHANNELS)}
BASELINE, CONTENT, REPEAT = N_PAID, N_PAID + 1, N_PAID + 2  # order causes beyond the paid channels


@dataclass
class Campaigns:
    """Paid campaigns: their channel, names, and daily share of the channel's spend (cumulative)."""

    channel: np.ndarray  # (K,) channel index
    name: list[str]
    cum_share: np.ndarray  # (C, max campaigns per channel, T) cumulative share within the channel
    offset: np.ndarray  # (C,) index of the channel's first campaign
    share: np.ndarray  # (K, T) share of the channel's spend

    @classmethod
    def draw(cls, rng: np.random.Generator, n_days: int) -> Campaigns:
        width = max(len(c.campaigns) for c in spec.PAID)
        cum = np.ones((N_PAID, width, n_days))
        shares, channel, names, offset = [], [], [], []
        t = np.arange(n_days)
        for i, ch in enumerate(spec.PAID):
            offset.append(len(names))
            k = len(ch.campaigns)
            logits = rng.normal(0, 0.5, (k, 1)) + 0.4 * np.sin(
                2 * np.pi * t / rng.uniform(60, 200, (k, 1)) + rng.uniform(0, 6, (k, 1))
            )
            share = np.exp(logits) / np.exp(logits).sum(axis=0)
            cum[i, :k] = np.cumsum(share, axis=0)
            shares.append(share)
            channel += [i] * k
            names += list(ch.campaigns)
        return cls(np.array(channel), names, cum, np.array(offset), np.concatenate(shares))

    def pick(self, rng: np.random.Generator, channel: np.ndarray, day: np.ndarray) -> np.ndarray:
        """A campaign index for each paid touch, drawn by the campaigns' spend shares on that day."""
        u = rng.random(len(channel))
        idx = (u[:, None] > self.cum_share[channel, :, day]).sum(axis=1)
        return self.offset[channel] + idx


@dataclass
class Orders:
    day: np.ndarray  # local day index
    minute: np.ndarray  # local minute of day
    cause: np.ndarray
    acquired_by: np.ndarray  # cause of the customer's first order
    customer: np.ndarray
    product: np.ndarray
    revenue: np.ndarray
    cogs: np.ndarray
    status: np.ndarray  # index into spec.ORDER_STATUS
    is_new: np.ndarray

    def __len__(self) -> int:
        return len(self.day)


def _product(rng: np.random.Generator, cause: np.ndarray) -> np.ndarray:
    mixes = np.array([c.product_mix for c in spec.PAID] + [(0.5, 0.3, 0.2)] * 3)
    cum = np.cumsum(mixes[cause], axis=1)
    return (rng.random(len(cause))[:, None] > cum).sum(axis=1).astype(np.int8)


def _money(rng: np.random.Generator, product: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    aov = np.array([p.aov for p in spec.PRODUCTS])[product]
    margin = np.array([p.margin for p in spec.PRODUCTS])[product]
    revenue = np.round(aov * rng.lognormal(-0.08, 0.4, len(product)), 2)  # E[lognormal] ~ 1.0
    cogs = np.round(revenue * np.clip(1 - margin + rng.normal(0, 0.04, len(product)), 0.05, 0.98), 2)
    return revenue, cogs


def _minute_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    hour_w = np.array(
        [
            1,
            0.5,
            0.3,
            0.2,
            0.2,
            0.3,
            0.8,
            1.5,
            2.5,
            3,
            3.2,
            3.4,
            3.6,
            3.4,
            3.2,
            3.2,
            3.4,
            3.8,
            4.4,
            5,
            5.2,
            4.6,
            3.4,
            2,
        ]
    )
    hour = rng.choice(24, n, p=hour_w / hour_w.sum())
    return hour * 60 + rng.integers(0, 60, n)


def draw_orders(rng: np.random.Generator, plan: DayPlan) -> Orders:
    """All orders of the two years: first orders by cause, then the repeat orders of those customers."""
    n_days = len(plan.days)
    counts = np.vstack([plan.caused, plan.baseline[None], plan.content[None]])  # (C + 2, T)
    cause = np.repeat(np.repeat(np.arange(counts.shape[0]), n_days), counts.ravel()).astype(np.int16)
    day = np.repeat(np.tile(np.arange(n_days), counts.shape[0]), counts.ravel())
    n_first = len(day)
    customer = np.arange(n_first, dtype=np.int64)
    repeat_rate = np.array([c.repeat_rate for c in spec.PAID] + [0.9, 0.9])[cause]
    # customers acquired in the year before the data (their first orders are not in it) keep buying: without
    # them the repeat business would ramp up from zero, which no real shop's export shows
    n_legacy = rng.poisson(n_first / n_days * 365)
    legacy_day = -rng.integers(1, 366, n_legacy)
    legacy = np.arange(n_first, n_first + n_legacy, dtype=np.int64)
    owner_day = np.concatenate([day, legacy_day])
    owner_cause = np.concatenate([cause, np.full(n_legacy, BASELINE, np.int16)])
    n_rep = rng.poisson(np.concatenate([repeat_rate, np.full(n_legacy, 0.9)]))
    customer_all = np.concatenate([customer, legacy])
    rep_owner = np.repeat(customer_all, n_rep)
    rep_gap = rng.exponential(80.0, len(rep_owner)) + 7
    rep_rank = np.arange(len(rep_owner)) - np.repeat(np.cumsum(n_rep) - n_rep, n_rep)
    rep_day = owner_day[rep_owner] + np.ceil(rep_gap * (1 + rep_rank)).astype(np.int64)
    keep = (rep_day >= 0) & (rep_day < n_days)
    rep_owner, rep_day = rep_owner[keep], rep_day[keep]
    all_day = np.concatenate([day, rep_day])
    all_cause = np.concatenate([cause, np.full(len(rep_day), REPEAT, np.int16)])
    all_customer = np.concatenate([customer, rep_owner])
    acquired_by = np.concatenate([cause, owner_cause[rep_owner]])
    order = np.lexsort((rng.random(len(all_day)), all_day))
    all_day, all_cause, all_customer, acquired_by = (
        a[order] for a in (all_day, all_cause, all_customer, acquired_by)
    )
    product = _product(rng, np.where(all_cause == REPEAT, acquired_by, all_cause))
    revenue, cogs = _money(rng, product)
    p_status = np.array([p for _, p in spec.ORDER_STATUS])
    status = rng.choice(len(p_status), len(all_day), p=p_status / p_status.sum()).astype(np.int8)
    return Orders(
        all_day,
        _minute_of_day(rng, len(all_day)),
        all_cause,
        acquired_by,
        all_customer,
        product,
        revenue,
        cogs,
        status,
        all_cause != REPEAT,
    )


@dataclass
class Touches:
    """Converting-journey touches: channel, campaign (-1 for free channels), order, time in local minutes."""

    order: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray
    abs_minute: np.ndarray  # minutes since the first day's local midnight (may be negative)

    def __len__(self) -> int:
        return len(self.order)


def _choose(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    names = list(weights)
    p = np.array([weights[k] for k in names], dtype=float)
    return np.array([CH[k] for k in names])[rng.choice(len(names), n, p=p / p.sum())]


def draw_journeys(rng: np.random.Generator, plan: DayPlan, orders: Orders, campaigns: Campaigns) -> Touches:
    """Up to three touches per order (cause, poacher, closer); 5% of orders stay untracked (no consent)."""
    n = len(orders)
    t_order = orders.day.astype(np.int64) * 1440 + orders.minute
    cause = orders.cause
    paid = cause < N_PAID
    decay = np.array([c.decay for c in spec.PAID] + [0.3, 0.3, 0.3])[np.minimum(cause, N_PAID + 2)]
    view_only = np.array([c.view_only for c in spec.PAID] + [0.0] * 3)[cause]
    # slot A: the cause's own touch
    a_channel = np.where(paid, cause, 0)
    a_channel = np.where(cause == CONTENT, CH["Organic Search"], a_channel)
    base_first = _choose(
        rng,
        {"Organic Search": 0.40, "Direct": 0.30, "Referral": 0.12, "Email": 0.08, "Non-Brand Search": 0.10},
        n,
    )
    repeat_first = _choose(
        rng, {"Email": 0.45, "Direct": 0.30, "Brand Search": 0.15, "Organic Search": 0.10}, n
    )
    a_channel = np.where(cause == BASELINE, base_first, a_channel)
    a_channel = np.where(cause == REPEAT, repeat_first, a_channel)
    a_present = rng.random(n) >= view_only
    a_present &= ~((cause == BASELINE) & (rng.random(n) < 0.25))
    lag_days = np.minimum(rng.geometric(1.0 - np.minimum(decay, 0.97)) - 1, 44)
    a_off = lag_days * 1440 + rng.integers(30, 1440, n)
    # slot B: touches that poach credit from orders they did not cause
    b_channel = _choose(rng, {k: v for k, v in spec.BASELINE_POACHERS.items()}, n)
    b_present = rng.random(n) < np.where(paid, 0.12, 0.22)
    b_present &= b_channel != a_channel
    b_off = rng.integers(20, 2880, n)
    # slot C: the closing session
    c_channel = _choose(rng, {"Brand Search": 0.38, "Direct": 0.42, "Organic Search": 0.20}, n)
    c_present = rng.random(n) < np.where(paid & (cause != CH["Brand Search"]), 0.55, 0.35)
    c_present |= ~(a_present | b_present)
    c_off = rng.integers(1, 25, n)
    tracked = rng.random(n) >= 0.05
    a_off = np.maximum(a_off, b_off + 1)
    parts = []
    for channel, present, off in (
        (a_channel, a_present, a_off),
        (b_channel, b_present, b_off),
        (c_channel, c_present, c_off),
    ):
        keep = present & tracked
        parts.append((np.flatnonzero(keep), channel[keep], t_order[keep] - off[keep]))
    order_idx = np.concatenate([p[0] for p in parts])
    channel = np.concatenate([p[1] for p in parts]).astype(np.int16)
    minute = np.concatenate([p[2] for p in parts])
    day = np.clip(np.floor_divide(minute, 1440), 0, len(plan.days) - 1)
    campaign = np.full(len(channel), -1, np.int64)
    is_paid = channel < N_PAID
    campaign[is_paid] = campaigns.pick(rng, channel[is_paid], day[is_paid])
    return Touches(order_idx, channel, campaign, minute)
