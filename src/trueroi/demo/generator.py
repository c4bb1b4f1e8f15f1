"""Generate the demo shop: canonical tables as Parquet parts plus ``ground_truth.json``.

Memory stays bounded at any scale: orders and their converting touches are held as compact numpy arrays
(a few per cent of all rows), while the non-converting sessions, 90% of the touchpoints, are drawn and
written one month at a time. Every chunk has its own seed derived from the run's seed, so the same seed
gives the same data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trueroi.demo import spec
from trueroi.demo.journeys import CH, N_PAID, Campaigns, Orders, Touches, draw_journeys, draw_orders
from trueroi.demo.simulate import DayPlan, plan_days
from trueroi.demo.tables import (
    ads_table,
    campaign_day_counts,
    conform_all,
    costs_table,
    dates,
    fx_table,
    ids,
    orders_table,
    platform_claims,
    timestamps,
    touch_table,
    utc_offsets,
)
from trueroi.demo.truth import ground_truth
from trueroi.errors import UsageError

TABLE_NAMES = ("ad_performance", "orders", "touchpoints", "conversions", "costs", "fx_rates")
Progress = Callable[[str, float], None]


@dataclass
class DemoFiles:
    """Where a generated demo lies: one folder of Parquet parts per table and the ground truth."""

    directory: Path
    truth: dict

    def parts(self, table: str) -> list[Path]:
        return sorted((self.directory / table).glob("part-*.parquet"))


class _Writer:
    def __init__(self, directory: Path, table: str) -> None:
        self.dir = directory / table
        self.dir.mkdir(parents=True, exist_ok=True)
        self.table = table
        self.n = 0

    def write(self, data: pa.Table) -> None:
        if data.num_rows:
            pq.write_table(
                conform_all(data, self.table), self.dir / f"part-{self.n:05d}.parquet", compression="zstd"
            )
            self.n += 1


def generate(
    directory: str | Path,
    *,
    seed: int = 42,
    scale: float = 1.0,
    chunk_days: int = 31,
    progress: Progress | None = None,
) -> DemoFiles:
    """Simulate the demo shop into ``directory``.

    Parameters
    ----------
    directory
        Output folder; gets ``<table>/part-*.parquet`` for every canonical table and ``ground_truth.json``.
    seed
        Same seed, same data.
    scale
        Size multiplier: 1.0 gives about 1.3 million touchpoints and 90,000 orders over two years; 0.02 is
        a quick test set; 75 gives about 100 million touchpoints. True ROIs do not depend on it.
    """
    if scale <= 0:
        raise UsageError(f"scale must be positive, got {scale}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda _msg, _frac: None)
    seeds = np.random.SeedSequence(seed)
    rng = np.random.default_rng(seeds.spawn(1)[0])
    plan = plan_days(rng, scale)
    n_days = len(plan.days)
    campaigns = Campaigns.draw(rng, n_days)
    orders = draw_orders(rng, plan)
    touches = draw_journeys(rng, plan, orders, campaigns)
    offsets = utc_offsets(plan.days)
    usd_per_eur = spec.USD_PER_EUR * np.exp(np.cumsum(rng.normal(0, 0.003, n_days)))
    claims = platform_claims(rng, touches, orders, campaigns, n_days)
    conv_counts = campaign_day_counts(touches, orders, campaigns, n_days)
    ads, clicks = ads_table(rng, plan, campaigns, conv_counts, claims, usd_per_eur)
    report("day plan, orders and journeys drawn", 0.05)
    writers = {name: _Writer(out, name) for name in TABLE_NAMES}
    writers["ad_performance"].write(ads)
    writers["costs"].write(costs_table(plan))
    writers["fx_rates"].write(fx_table(plan, usd_per_eur))
    for start in range(0, len(orders), 2_000_000):
        part = _slice_orders(orders, slice(start, start + 2_000_000))
        writers["orders"].write(
            orders_table(part, offsets, rng).set_column(
                0, "order_id", ids("o", np.arange(start + 1, start + len(part) + 1))
            )
        )
    _write_touchpoints(writers, seeds, plan, orders, touches, campaigns, clicks, offsets, chunk_days, report)
    truth = ground_truth(plan, orders, campaigns, ads, seed=seed, scale=scale)
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=2), encoding="utf-8")
    report("done", 1.0)
    return DemoFiles(out, truth)


def _slice_orders(orders: Orders, sl: slice) -> Orders:
    return Orders(**{k: v[sl] for k, v in vars(orders).items()})


def _write_touchpoints(
    writers,
    seeds,
    plan: DayPlan,
    orders: Orders,
    touches: Touches,
    campaigns: Campaigns,
    clicks: np.ndarray,
    offsets: np.ndarray,
    chunk_days: int,
    report: Progress,
) -> None:
    n_days = len(plan.days)
    keep = touches.abs_minute >= 0  # journeys that began before the data window are cut, as in real data
    t_day = touches.abs_minute // 1440
    conv_free = np.zeros((len(spec.FREE), n_days), np.int64)
    free_idx = touches.channel >= N_PAID
    np.add.at(conv_free, (touches.channel[free_idx & keep] - N_PAID, t_day[free_idx & keep]), 1)
    conv_paid = campaign_day_counts(touches, orders, campaigns, n_days)
    user_of_touch = orders.customer[touches.order]
    touch_counter = 0
    chunk_seeds = seeds.spawn(n_days // chunk_days + 2)[1:]
    for ci, d0 in enumerate(range(0, n_days, chunk_days)):
        d1 = min(d0 + chunk_days, n_days)
        rng = np.random.default_rng(chunk_seeds[ci])
        sel = keep & (t_day >= d0) & (t_day < d1)
        # non-converting sessions: paid clicks not part of a converting journey, and free-channel visits
        paid_n = (clicks[:, d0:d1] - conv_paid[:, d0:d1]).clip(0)
        free_mu = (
            np.array([c.sessions for c in spec.FREE])[:, None]
            * plan.season[None, d0:d1]
            * (plan.spend.sum() / sum(c.spend for c in spec.PAID) / n_days)
        )
        free_n = (rng.poisson(free_mu) - conv_free[:, d0:d1]).clip(0)
        k_idx = np.repeat(np.arange(len(campaigns.name)), paid_n.sum(axis=1))
        k_day = np.concatenate([np.repeat(np.arange(d0, d1), row) for row in paid_n]) if len(paid_n) else []
        f_ch = np.repeat(np.arange(len(spec.FREE)) + N_PAID, free_n.sum(axis=1))
        f_day = np.concatenate([np.repeat(np.arange(d0, d1), row) for row in free_n])
        s_channel = np.concatenate([campaigns.channel[k_idx], f_ch]).astype(np.int16)
        s_campaign = np.concatenate([k_idx, np.full(len(f_ch), -1)])
        s_day = np.concatenate([k_day, f_day]).astype(np.int64)
        s_minute = s_day * 1440 + rng.integers(0, 1440, len(s_day))
        s_user = 10**12 + ci * 10**9 + np.arange(len(s_day))
        channel = np.concatenate([touches.channel[sel], s_channel])
        campaign = np.concatenate([touches.campaign[sel], s_campaign])
        minute = np.concatenate([touches.abs_minute[sel], s_minute])
        user = np.concatenate([user_of_touch[sel], s_user])
        converting = np.concatenate([np.ones(sel.sum(), bool), np.zeros(len(s_day), bool)])
        order = np.argsort(minute, kind="stable")
        touch_no = touch_counter + 1 + np.arange(len(order))
        touch_counter += len(order)
        table = touch_table(
            channel[order],
            campaign[order],
            minute[order],
            user[order],
            touch_no,
            converting[order],
            campaigns,
            offsets,
            rng,
        )
        writers["touchpoints"].write(table)
        writers["conversions"].write(_leads(rng, table, channel[order], converting[order], offsets, n_days))
        report(f"touchpoints up to {plan.days[d1 - 1].date()}", 0.05 + 0.9 * d1 / n_days)


def _leads(
    rng: np.random.Generator,
    touches: pa.Table,
    channel: np.ndarray,
    converting: np.ndarray,
    offsets: np.ndarray,
    n_days: int,
) -> pa.Table:
    """B2B enquiries from some non-converting search and social sessions; a share closes offline later."""
    lead_ch = np.isin(channel, [CH[c] for c in spec.LEADS["channels"]])
    idx = np.flatnonzero(lead_ch & ~converting & (rng.random(len(channel)) < spec.LEADS["rate"]))
    won = idx[rng.random(len(idx)) < spec.LEADS["close_rate"]]
    start_us = touches["ts"].cast(pa.int64()).to_numpy()
    lead_min = (start_us[idx] // 60_000_000) + 5
    won_min = (start_us[won] // 60_000_000) + rng.integers(14 * 1440, 60 * 1440, len(won))
    epoch_min = int(np.datetime64("1970-01-01T00:00", "m").astype(np.int64))
    first = int(np.datetime64(spec.START.isoformat() + "T00:00", "m").astype(np.int64)) - epoch_min
    won_keep = won_min - first < n_days * 1440
    won, won_min = won[won_keep], won_min[won_keep]
    local_lead = lead_min - first + offsets[np.clip((lead_min - first) // 1440, 0, n_days - 1)]
    local_won = won_min - first + offsets[np.clip((won_min - first) // 1440, 0, n_days - 1)]
    both = np.concatenate([idx, won])
    minute = np.concatenate([local_lead, local_won])
    n_lead = len(idx)
    values = np.concatenate(
        [np.full(n_lead, np.nan), np.round(spec.LEADS["deal_value"] * rng.lognormal(-0.1, 0.45, len(won)), 2)]
    )
    session = touches["session_id"]
    conv_ids = pa.concat_arrays([_prefixed("lead-", session.take(idx)), _prefixed("won-", session.take(won))])
    return pa.table(
        {
            "conversion_id": conv_ids,
            "user_id": touches["user_id"].take(both),
            "click_id": touches["click_id"].take(both),
            "ts": timestamps(minute, rng.integers(0, 60, len(both)), offsets),
            "date_day": dates(np.clip(minute // 1440, 0, n_days - 1)),
            "type": pa.array(["lead"] * n_lead + ["deal_won"] * len(won)),
            "value": pa.array(values, from_pandas=True),
            "currency": pa.array(["EUR"] * len(both)),
            "is_offline": pa.array([False] * n_lead + [True] * len(won)),
        }
    )


def _prefixed(prefix: str, values: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return pc.binary_join_element_wise(prefix, arr, "")
