"""KPIs on lifetime value: what the customers a channel acquired in a period are predicted to be worth.

Joins the KPI rows of a period (by channel) with :mod:`trueroi.clv`: each customer's acquisition channel
(last non-direct touch before the first order), the predicted discounted margin of their next months
(BG/NBD + Gamma-Gamma), CAC, CLV/CAC and payback. The models are fitted once
(:func:`trueroi.clv.roi.fit_workspace`) for the values and their intervals. On a shop too small for the
models (no finite maximum, too few repeat customers, no finite standard errors) the CLV columns stay empty
and a note says why, instead of an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trueroi.clv.roi import (
    NO_TOUCH,
    WorkspaceFit,
    acquisition_channels,
    channel_clv_intervals,
    clv_by_channel,
    customer_values,
    fit_workspace,
)
from trueroi.clv.uncertainty import drawable
from trueroi.errors import ConvergenceError, UsageError
from trueroi.metrics.engine import KpiReport
from trueroi.metrics.facts import UNATTRIBUTED
from trueroi.workspace import Workspace
from trueroi.workspace.rules import is_sale

CLV_COLUMNS = ("customers", "avg_clv", "total_clv", "cac", "clv_cac", "payback_months", "lifetime_roi")
INTERVAL_COLUMNS = ("total_clv_lower", "total_clv_upper")
UNKNOWN_CLV = ("avg_clv", "total_clv", "clv_cac", "payback_months")


def with_lifetime_value(
    ws: Workspace,
    report: KpiReport,
    *,
    months: int = 12,
    model: str = "mbgnbd",
    interval: float | None = None,
    n_draws: int = 200,
    seed: int = 0,
    fitted: WorkspaceFit | None = None,
) -> KpiReport:
    """Add CLV columns to a by-channel KPI report.

    ``customers`` are the customers whose first order falls in the report's period, by acquisition channel;
    ``total_clv`` their predicted discounted margin over the next ``months``; ``cac`` = spend / customers;
    ``lifetime_roi`` = (attributed margin + total_clv - spend) / spend. With ``interval`` (e.g. 0.9),
    ``total_clv_lower/upper`` and ``avg_clv_lower/upper`` give that interval from the parameter uncertainty
    of both models (``n_draws`` parameter draws, :func:`trueroi.clv.roi.channel_clv_intervals`).

    ``fitted`` reuses models already fitted on ``ws`` (:func:`trueroi.clv.roi.fit_workspace`); otherwise
    ``model`` is fitted here, once. When the models cannot be fitted or predict no finite value,
    ``customers`` and ``cac`` are still given, the other CLV columns are null, and a note in
    ``report.notes`` says why; intervals that cannot be drawn are null with a note as well.
    """
    if report.dims != ["channel"]:
        raise UsageError("--value clv needs --by channel (customers are counted by acquisition channel)")
    channels = _acquired_channels(ws, report)
    spend = report.rows.set_index("channel")["spend"]
    name = fitted.model_name if fitted is not None else model
    try:
        fitted = fitted or fit_workspace(ws, model=model)
        clv = _clv_per_channel(fitted, channels, spend, months)
    except ConvergenceError as exc:
        fitted, clv = None, _unknown_clv(channels, spend)
        report.notes.append(
            f"CLV not estimated: {exc} (too few customers or too little variation between them); new "
            "customers and CAC are shown, CLV, CLV/CAC, payback and lifetime ROI are left empty"
        )
    else:
        report.notes.append(
            f"CLV: predicted discounted margin of the next {months} months ({name} + Gamma-Gamma) "
            "of the customers first acquired in the period, by last non-direct touch"
        )
    # cac here is spend per customer the channel acquired (first orders in the period), replacing the
    # engine's spend per attributed new-customer order
    rows = report.rows.drop(columns=["cac"]).merge(clv, on="channel", how="left")
    paid = rows["spend"].where(rows["spend"] > 0)
    no_clv = 0.0 if fitted is not None else np.nan  # a channel that acquired nobody adds 0
    rows["lifetime_roi"] = (rows["margin"] + rows["total_clv"].fillna(no_clv) - rows["spend"]) / paid
    if interval is not None:  # customers not acquired in the period form the NO_TOUCH group: dropped
        bands = _bands(ws, report, fitted, channels, interval, n_draws, seed, months)
        rows = rows.merge(bands, on="channel", how="left")
        acquired_n = rows["customers"].where(rows["customers"] > 0)
        rows["avg_clv_lower"] = rows["total_clv_lower"] / acquired_n
        rows["avg_clv_upper"] = rows["total_clv_upper"] / acquired_n
    report.rows = rows
    return report


def _acquired_channels(ws: Workspace, report: KpiReport) -> pd.DataFrame:
    """``customer_id, channel`` of the customers whose first sale falls in the report's period."""
    orders = ws.table("orders")
    sales = orders.filter(is_sale(orders.status), orders.customer_id.notnull())
    first = sales.group_by("customer_id").aggregate(first_day=sales.date_day.min()).execute()
    first_day = pd.to_datetime(first["first_day"]).dt.date
    acquired = first.loc[(first_day >= report.period.start) & (first_day <= report.period.end), "customer_id"]
    channels = acquisition_channels(ws).replace({"channel": {NO_TOUCH: UNATTRIBUTED}})
    return channels[channels["customer_id"].isin(set(acquired))]


def _clv_per_channel(
    fitted: WorkspaceFit, channels: pd.DataFrame, spend: pd.Series, months: int
) -> pd.DataFrame:
    values, curve = customer_values(fitted=fitted, months=months)
    undefined = int(values["clv"].isna().sum())
    if undefined:
        raise ConvergenceError(
            f"the {fitted.model_name} lifetime-value prediction is undefined for {undefined} customers"
        )
    return clv_by_channel(values[["customer_id", "clv"]], channels, spend, value_curve=curve)


def _unknown_clv(channels: pd.DataFrame, spend: pd.Series) -> pd.DataFrame:
    """Customers and CAC per channel with the model-based columns null."""
    out = clv_by_channel(pd.Series(dtype=float), channels, spend, horizon_months=1)
    out[list(UNKNOWN_CLV)] = np.nan
    return out


def _bands(
    ws: Workspace,
    report: KpiReport,
    fitted: WorkspaceFit | None,
    channels: pd.DataFrame,
    level: float,
    n_draws: int,
    seed: int,
    months: int,
) -> pd.DataFrame:
    """The interval of each channel's total CLV, or an empty frame (null intervals) when the models
    cannot be fitted or have no finite standard errors to draw from (noted in the report)."""
    if fitted is None:
        return _no_bands()
    if not (drawable(fitted.model) and drawable(fitted.spend)):
        report.notes.append(
            "CLV low/high not available: the lifetime-value models have no finite standard errors on this "
            "shop's customers (too few for the parameter uncertainty to be estimated)"
        )
        return _no_bands()
    bands = channel_clv_intervals(
        ws, channels, level=level, n_draws=n_draws, seed=seed, months=months, fitted=fitted
    )
    report.notes.append(
        f"CLV low/high: {level:.0%} interval of the average CLV from the parameter uncertainty of "
        f"both models ({n_draws} draws; not the spread between customers)"
    )
    return bands


def _no_bands() -> pd.DataFrame:
    return pd.DataFrame(
        {"channel": pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in INTERVAL_COLUMNS}}
    )
