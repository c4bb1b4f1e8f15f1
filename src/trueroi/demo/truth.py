"""The demo's ground truth: what each channel really caused, written next to the data.

Incremental figures count the orders a channel caused (drawn from its true response) that were paid, not
cancelled or refunded. ``short_term`` is the first order only; ``long_term`` adds the later repeat orders
of the customers the channel acquired, which is what lifetime-value ROI tries to see.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from trueroi.demo import spec
from trueroi.demo.journeys import CONTENT, Campaigns, Orders
from trueroi.demo.simulate import DayPlan, mix_aov


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def _sums(mask: np.ndarray, orders: Orders) -> dict[str, float]:
    revenue = float(orders.revenue[mask].sum())
    return {
        "orders": int(mask.sum()),
        "revenue": round(revenue, 2),
        "margin": round(revenue - float(orders.cogs[mask].sum()), 2),
    }


def ground_truth(
    plan: DayPlan, orders: Orders, campaigns: Campaigns, ads: pa.Table, *, seed: int, scale: float
) -> dict:
    """Per paid channel: spend, true incremental orders/revenue/margin, ROAS, media ROI, parameters."""
    sale = orders.status == 0
    quarter = plan.days.to_period("Q").astype(str).to_numpy()
    order_q = quarter[orders.day]
    channels = {}
    for i, ch in enumerate(spec.PAID):
        spend = float(plan.spend[i].sum())
        first = sale & (orders.cause == i)
        short = _sums(first, orders)
        long = _sums(sale & (orders.acquired_by == i), orders)
        by_quarter = {}
        for q in np.unique(quarter):
            q_spend = float(plan.spend[i, quarter == q].sum())
            q_sums = _sums(first & (order_q == q), orders)
            by_quarter[q] = {
                "spend": round(q_spend, 2),
                **{f"incremental_{k}": v for k, v in q_sums.items()},
                "roas": _ratio(q_sums["revenue"], q_spend),
                "media_roi": _ratio(q_sums["margin"] - q_spend, q_spend),
            }
        channels[ch.name] = {
            "platform": ch.platform,
            "spend": round(spend, 2),
            "incremental_orders": short["orders"],
            "incremental_revenue": short["revenue"],
            "incremental_margin": short["margin"],
            "expected_incremental_revenue": round(float(plan.expected[i].sum()) * mix_aov(ch.product_mix), 2),
            "roas": _ratio(short["revenue"], spend),
            "media_roi": _ratio(short["margin"] - spend, spend),
            "long_term_revenue": long["revenue"],
            "long_term_margin": long["margin"],
            "long_term_media_roi": _ratio(long["margin"] - spend, spend),
            "params": {
                "adstock": {"type": "geometric", "decay_per_day": ch.decay, "normalised": True},
                "saturation": {
                    "type": "hill",
                    "half_saturation_per_day": round(float(plan.half[i]) * scale, 4),
                    "shape": ch.shape,
                },
                "beta_orders_per_day": round(float(plan.beta[i]) * scale, 6),
                "average_order_value": round(mix_aov(ch.product_mix), 2),
            },
            "by_quarter": by_quarter,
        }
    content = _sums(sale & (orders.cause == CONTENT), orders)
    total = _sums(sale, orders)
    return {
        "seed": seed,
        "scale": scale,
        "start": spec.START.isoformat(),
        "end": spec.END.isoformat(),
        "currency": "EUR",
        "timezone": spec.TIMEZONE,
        "description": (
            "True incremental effect of every paid channel in the demo shop. orders_c(t) ~ Poisson(beta_c * "
            "season(t) * hill(adstock_c(spend_c)(t))) with a normalised daily geometric adstock and Hill "
            "saturation on spend per unit of scale; incremental figures count paid (not cancelled or "
            "refunded) first orders caused by the channel; long_term adds those customers' repeat orders. "
            "ROAS = incremental revenue / spend; media ROI = (incremental margin - spend) / spend."
        ),
        "channels": channels,
        "content": {
            "channel": spec.CONTENT["channel"],
            "cost": round(float(plan.content_cost.sum()), 2),
            "incremental_revenue": content["revenue"],
            "incremental_margin": content["margin"],
            "adstock_decay_per_day": spec.CONTENT["decay"],
        },
        "totals": {
            "orders": total["orders"],
            "revenue": total["revenue"],
            "margin": total["margin"],
            "media_spend": round(float(plan.spend.sum()), 2),
            "revenue_of_customers_not_acquired_by_paid_media": _sums(
                sale & (orders.acquired_by >= len(spec.PAID)), orders
            )["revenue"],
        },
    }
