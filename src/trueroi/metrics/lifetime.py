"""KPIs on lifetime value: what the customers a channel acquired in a period are predicted to be worth.

Joins the KPI rows of a period (by channel) with :mod:`trueroi.clv`: each customer's acquisition channel
(last non-direct touch before the first order), the predicted discounted margin of their next months
(BG/NBD + Gamma-Gamma), CAC, CLV/CAC and payback.
"""

from __future__ import annotations

import pandas as pd

from trueroi.clv.roi import (
    NO_TOUCH,
    acquisition_channels,
    channel_clv_intervals,
    clv_by_channel,
    customer_values,
)
from trueroi.errors import ConvergenceError, UsageError
from trueroi.metrics.engine import KpiReport
from trueroi.metrics.facts import UNATTRIBUTED
from trueroi.workspace import Workspace
from trueroi.workspace.rules import is_sale

CLV_COLUMNS = ("customers", "avg_clv", "total_clv", "cac", "clv_cac", "payback_months", "lifetime_roi")


def with_lifetime_value(
    ws: Workspace,
    report: KpiReport,
    *,
    months: int = 12,
    model: str = "mbgnbd",
    interval: float | None = None,
    n_draws: int = 200,
    seed: int = 0,
) -> KpiReport:
    """Add CLV columns to a by-channel KPI report.

    ``customers`` are the customers whose first order falls in the report's period, by acquisition channel;
    ``total_clv`` their predicted discounted margin over the next ``months``; ``cac`` = spend / customers;
    ``lifetime_roi`` = (attributed margin + total_clv - spend) / spend. With ``interval`` (e.g. 0.9),
    ``total_clv_lower/upper`` and ``avg_clv_lower/upper`` give that interval from the parameter uncertainty
    of both models (``n_draws`` parameter draws, :func:`trueroi.clv.roi.channel_clv_intervals`).
    """

    if report.dims != ["channel"]:
        raise UsageError("--value clv needs --by channel (customers are counted by acquisition channel)")
    values, curve = customer_values(ws, months=months, model=model)
    if values["clv"].isna().any():
        raise ConvergenceError(
            f"the {model} lifetime-value prediction is undefined for "
            f"{int(values['clv'].isna().sum())} customers; try another --clv-model"
        )
    orders = ws.table("orders")
    sales = orders.filter(is_sale(orders.status), orders.customer_id.notnull())
    first = sales.group_by("customer_id").aggregate(first_day=sales.date_day.min()).execute()
    first_day = pd.to_datetime(first["first_day"]).dt.date
    acquired = first.loc[(first_day >= report.period.start) & (first_day <= report.period.end), "customer_id"]
    channels = acquisition_channels(ws).replace({"channel": {NO_TOUCH: UNATTRIBUTED}})
    channels = channels[channels["customer_id"].isin(set(acquired))]
    spend = report.rows.set_index("channel")["spend"]
    clv = clv_by_channel(values[["customer_id", "clv"]], channels, spend, value_curve=curve)
    # cac here is spend per customer the channel acquired (first orders in the period), replacing the
    # engine's spend per attributed new-customer order
    rows = report.rows.drop(columns=["cac"]).merge(clv, on="channel", how="left")
    paid = rows["spend"].where(rows["spend"] > 0)
    rows["lifetime_roi"] = (rows["margin"] + rows["total_clv"].fillna(0.0) - rows["spend"]) / paid
    if interval is not None:  # customers not acquired in the period form the NO_TOUCH group: dropped
        bands = channel_clv_intervals(
            ws, channels, level=interval, n_draws=n_draws, seed=seed, model=model, months=months
        )
        rows = rows.merge(bands, on="channel", how="left")
        acquired_n = rows["customers"].where(rows["customers"] > 0)
        rows["avg_clv_lower"] = rows["total_clv_lower"] / acquired_n
        rows["avg_clv_upper"] = rows["total_clv_upper"] / acquired_n
    report.rows = rows
    report.notes.append(
        f"CLV: predicted discounted margin of the next {months} months ({model} + Gamma-Gamma) "
        "of the customers first acquired in the period, by last non-direct touch"
    )
    if interval is not None:
        report.notes.append(
            f"CLV low/high: {interval:.0%} interval of the average CLV from the parameter uncertainty of "
            f"both models ({n_draws} draws; not the spread between customers)"
        )
    return report
