"""Lifetime-value ROI: acquisition channel per customer, CLV and CAC per channel, cohort retention.

The acquisition channel of a customer is the channel of the last non-direct touch within the workspace's
``lookback_days`` before (or at) the customer's first order, the last-non-direct-click rule; customers with
only direct touches get ``"Direct"``, customers without any touch in the window ``"(none)"``. Data-heavy
steps are Ibis expressions run on the workspace backend; the per-channel roll-up runs in pandas on one row
per customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from trueroi.clv.data import rfm_summary, unit_days
from trueroi.clv.models import GammaGammaFitter, get_model
from trueroi.clv.uncertainty import intervals
from trueroi.errors import ConvergenceError, DataValidationError, UsageError
from trueroi.workspace.money import check_rates, to_base
from trueroi.workspace.rules import is_direct, is_sale, last_touch

if TYPE_CHECKING:
    from trueroi.workspace import Workspace

DIRECT = "Direct"
NO_TOUCH = "(none)"


def _sales(orders: ibis.Table) -> ibis.Table:
    """Orders that count as sales (status among SALE_STATUSES or missing) with a customer key.

    The key is ``customer_id``, falling back to ``user_id`` for guest orders.
    """
    sales = orders.filter(is_sale(orders.status))
    return sales.mutate(customer_key=sales.customer_id.fill_null(sales.user_id))


def first_orders_expr(orders: ibis.Table) -> ibis.Table:
    """One row per customer: the first sale (``customer_id, user_id, first_ts``), ties broken by order id."""
    sales = _sales(orders).filter(lambda t: t.customer_key.notnull())
    ranked = sales.mutate(
        _rank=ibis.row_number().over(group_by=sales.customer_key, order_by=[sales.ts, sales.order_id])
    )
    first = ranked.filter(ranked._rank == 0)
    return first.select(customer_id=first.customer_key, user_id=first.user_id, first_ts=first.ts)


def acquisition_channels_expr(
    orders: ibis.Table, touchpoints: ibis.Table, lookback_days: int = 30
) -> ibis.Table:
    """Ibis expression: ``customer_id, channel`` by last non-direct touch before the first order.

    A touch qualifies when it belongs to the first order's ``user_id``, happened at most ``lookback_days``
    days before the order (and not after it), and its channel is not "Direct" (case-insensitive).
    """
    first = first_orders_expr(orders)
    events = first.select(event_key="customer_id", user_id="user_id", event_ts="first_ts")
    touched = last_touch(events, touchpoints, lookback_days=lookback_days, skip_direct=True)
    direct = is_direct(touched.channel)
    best = touched.select(
        b_customer=touched.event_key, b_channel=ibis.ifelse(direct, ibis.literal(DIRECT), touched.channel)
    )
    out = first.left_join(best, first.customer_id == best.b_customer)
    return out.select(customer_id=out.customer_id, channel=out.b_channel.fill_null(NO_TOUCH))


def acquisition_channels(workspace: Workspace) -> pd.DataFrame:
    """Acquisition channel of every customer in the workspace: DataFrame ``customer_id, channel``.

    Built on the canonical ``orders`` and ``touchpoints`` tables with the workspace's ``lookback_days``
    (see :func:`acquisition_channels_expr`).
    """
    expr = acquisition_channels_expr(
        workspace.table("orders"), workspace.table("touchpoints"), workspace.config.lookback_days
    )
    return expr.order_by("customer_id").execute().reset_index(drop=True)


def cohort_retention_expr(orders: ibis.Table) -> ibis.Table:
    """Ibis expression: ``_cohort`` (month index of the first sale), ``period`` (months since) and
    ``active`` (distinct customers with a sale in that month)."""
    sales = _sales(orders).filter(lambda t: t.customer_key.notnull())
    day = sales.date_day.fill_null(sales.ts.date())
    month = day.year() * 12 + day.month() - 1
    sales = sales.mutate(_month=month)
    first = sales.group_by("customer_key").aggregate(_cohort=sales._month.min())
    joined = sales.join(first, "customer_key")
    joined = joined.mutate(period=joined._month - joined._cohort)
    return joined.group_by([joined._cohort, joined.period]).aggregate(active=joined.customer_key.nunique())


def cohort_retention(workspace_or_orders) -> pd.DataFrame:
    """Monthly cohort retention curves.

    Parameters
    ----------
    workspace_or_orders
        A :class:`~trueroi.workspace.Workspace` or an Ibis ``orders`` table (needs ``date_day``).

    Returns
    -------
    DataFrame ``cohort`` (first day of the acquisition month), ``period`` (months since acquisition, 0 =
    acquisition month), ``customers`` (cohort size), ``active`` (customers with a sale in that month) and
    ``retention = active / customers``.
    """
    orders = (
        workspace_or_orders.table("orders") if hasattr(workspace_or_orders, "table") else workspace_or_orders
    )
    frame = cohort_retention_expr(orders).execute()
    if frame.empty:
        return pd.DataFrame(columns=["cohort", "period", "customers", "active", "retention"])
    size = frame[frame["period"] == 0].set_index("_cohort")["active"]
    frame["customers"] = frame["_cohort"].map(size).astype(np.int64)
    frame["retention"] = frame["active"] / frame["customers"]
    years, months = np.divmod(frame["_cohort"].astype(int), 12)
    frame["cohort"] = pd.to_datetime({"year": years, "month": months + 1, "day": 1}).dt.date
    frame = frame.sort_values(["_cohort", "period"]).reset_index(drop=True)
    return frame[["cohort", "period", "customers", "active", "retention"]].astype(
        {"period": np.int64, "active": np.int64}
    )


def _per_customer(values, name: str) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        if not {"customer_id", name} <= set(values.columns):
            raise DataValidationError(f"needs columns customer_id and {name}", column=name)
        return values.set_index("customer_id")[name]
    return pd.Series(values)


def clv_by_channel(
    clv, channels: pd.DataFrame, spend, *, value_curve: pd.DataFrame | None = None, horizon_months: int = 12
) -> pd.DataFrame:
    """Average and total predicted CLV, CAC, CLV/CAC and payback period per acquisition channel.

    Parameters
    ----------
    clv
        Predicted (discounted, margin) CLV per customer: a Series indexed by customer id or a DataFrame
        with ``customer_id, clv``.
    channels
        ``customer_id, channel`` (e.g. :func:`acquisition_channels`); these customers are the ones counted.
    spend
        Acquisition spend per channel (base currency): a mapping, a Series indexed by channel or a
        DataFrame with ``channel, spend``.
    value_curve
        Optional cumulative discounted value per customer at the end of each month (index customer id,
        columns months 1..H), e.g. from ``value_curve`` of a fitted model. Without it, value is assumed to
        accrue evenly over ``horizon_months``.
    horizon_months
        Horizon of ``clv`` in months (used without ``value_curve``).

    Returns
    -------
    DataFrame ``channel, customers, avg_clv, total_clv, cac, clv_cac, payback_months`` sorted by
    ``total_clv``. ``cac = spend / customers``; ``clv_cac = avg_clv / cac``; ``payback_months`` is the
    first (interpolated) month at which the channel's average cumulative value reaches its CAC, null if it
    never does within the horizon or no spend is known. Zero denominators give null.
    """
    values = _per_customer(clv, "clv").astype(float)
    if isinstance(spend, pd.DataFrame):
        spend = spend.groupby("channel")["spend"].sum()
    spend = pd.Series(spend, dtype=float)
    frame = channels[["customer_id", "channel"]].copy()
    frame["clv"] = frame["customer_id"].map(values).fillna(0.0).to_numpy()
    out = frame.groupby("channel").agg(customers=("clv", "size"), total_clv=("clv", "sum")).reset_index()
    out["avg_clv"] = out["total_clv"] / out["customers"]
    out["cac"] = out["channel"].map(spend) / out["customers"]
    out["clv_cac"] = np.where(out["cac"] > 0, out["avg_clv"] / out["cac"].where(out["cac"] > 0), np.nan)
    if value_curve is None:
        months = np.arange(1, horizon_months + 1)
        curves = {
            ch: avg * months / horizon_months for ch, avg in zip(out["channel"], out["avg_clv"], strict=True)
        }
    else:
        joined = value_curve.reindex(frame["customer_id"]).fillna(0.0).to_numpy()
        curves = {ch: joined[(frame["channel"] == ch).to_numpy()].mean(axis=0) for ch in out["channel"]}
    out["payback_months"] = [
        _payback(curves[ch], cac) for ch, cac in zip(out["channel"], out["cac"], strict=True)
    ]
    out = out.sort_values("total_clv", ascending=False).reset_index(drop=True)
    return out[["channel", "customers", "avg_clv", "total_clv", "cac", "clv_cac", "payback_months"]]


def _payback(curve: np.ndarray, cac: float) -> float:
    """First month (linear interpolation, month 0 holds value 0) where ``curve`` reaches ``cac``."""
    if not np.isfinite(cac) or cac <= 0:
        return float("nan") if not np.isfinite(cac) else 0.0
    full = np.concatenate([[0.0], np.asarray(curve, dtype=float)])
    hit = np.nonzero(full >= cac)[0]
    if len(hit) == 0:
        return float("nan")
    m = int(hit[0])
    return m - 1 + (cac - full[m - 1]) / (full[m] - full[m - 1])


def order_margins(workspace: Workspace) -> pd.DataFrame:
    """Every sale as ``customer_id, date_day, margin`` in the base currency (revenue - cogs).

    Orders without ``cogs`` take the workspace's ``default_margin`` share of revenue; without one they
    raise, since lifetime value on revenue would overstate ROI.
    """
    sales = _sales(workspace.table("orders")).filter(lambda t: t.customer_key.notnull())
    sales = sales.mutate(date_day=sales.date_day.fill_null(sales.ts.date()))
    check_rates(workspace, sales, "orders")
    conv = to_base(workspace, sales, ["revenue", "cogs"])
    share = workspace.config.default_margin
    missing_cogs = int(conv.filter(conv.cogs.isnull()).count().execute())
    if missing_cogs and share is None:
        raise DataValidationError(
            f"{missing_cogs} sale(s) have no cogs, so their contribution margin is unknown",
            column="cogs",
            expected="cogs on every order, or default_margin (e.g. 0.4) in trueroi.toml",
        )
    margin = conv.revenue - conv.cogs.fill_null(conv.revenue * (1 - (share or 0.0)))
    out = conv.select(customer_id=conv.customer_key, date_day=conv.date_day, margin=margin)
    return out.execute()


@dataclass
class WorkspaceFit:
    """The CLV models fitted once on a workspace's sales, shared by values, curves and intervals.

    Attributes
    ----------
    summary
        RFM summary on contribution margin (index ``customer_id``; ``frequency, recency, T`` in ``unit``,
        ``monetary_value`` in the base currency).
    model, spend
        The fitted transaction model and Gamma-Gamma spend model.
    model_name, unit
        The transaction model's name and the time unit (``"W"`` or ``"D"``).
    """

    summary: pd.DataFrame
    model: Any
    spend: GammaGammaFitter
    model_name: str
    unit: str

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``frequency, recency, T`` and the (non-negative) mean repeat margin per customer."""
        f, r, age = (self.summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        return f, r, age, self.summary["monetary_value"].clip(lower=0).to_numpy()


def fit_workspace(
    workspace: Workspace, *, model: str = "bgnbd", unit: str = "W", observation_end=None
) -> WorkspaceFit:
    """Fit the transaction model ``model`` and the Gamma-Gamma spend model on the margin of every
    customer's purchase days (:func:`order_margins`).

    Raises
    ------
    ConvergenceError
        When either model cannot be fitted (no finite maximum of its likelihood, or fewer than 2 repeat
        customers with a positive margin for the spend model), as happens on small shops; the optimiser's
        own message is the exception's ``__cause__``.
    """
    tx = order_margins(workspace)
    if tx.empty:
        raise DataValidationError("no sales in orders", expected="orders with a paid/fulfilled status")
    if observation_end is None:  # the end of the last day, so a customer first seen that day has T > 0
        observation_end = pd.Timestamp(pd.to_datetime(tx["date_day"]).max()) + pd.Timedelta(days=1)
    summary = rfm_summary(
        tx,
        customer_col="customer_id",
        date_col="date_day",
        amount_col="margin",
        observation_end=observation_end,
        unit=unit,
    )
    f, r, age = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    try:
        fitted = get_model(model).fit(f, r, age)
    except ConvergenceError as exc:
        raise ConvergenceError(
            f"the {model} purchase model has no finite maximum likelihood on {len(f):,} customers"
        ) from exc
    mv = summary["monetary_value"].to_numpy()
    repeat = int(((f > 0) & (mv > 0)).sum())
    try:
        spend = GammaGammaFitter().fit(f, mv)
    except (ConvergenceError, DataValidationError) as exc:  # e.g. too few repeat customers
        raise ConvergenceError(
            f"the Gamma-Gamma spend model has no finite maximum likelihood on {repeat:,} repeat customers"
        ) from exc
    return WorkspaceFit(summary, fitted, spend, model, unit)


def _fit_or_refuse(workspace: Workspace | None, model: str, unit: str, observation_end) -> WorkspaceFit:
    if workspace is None:
        raise UsageError("a workspace or a fitted WorkspaceFit is needed to value customers")
    return fit_workspace(workspace, model=model, unit=unit, observation_end=observation_end)


def customer_values(
    workspace: Workspace | None = None,
    *,
    model: str = "bgnbd",
    months: int = 12,
    discount_rate: float = 0.01,
    unit: str = "W",
    observation_end=None,
    fitted: WorkspaceFit | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predicted lifetime value (discounted contribution margin) of every customer in the workspace.

    Fits the transaction model ``model`` and the Gamma-Gamma spend model on the margin of each purchase
    day (:func:`fit_workspace`; or takes them from ``fitted``, whose model, unit and observation end then
    apply), then values the next ``months`` months at the monthly ``discount_rate``.

    Returns
    -------
    (values, curve)
        ``values``: ``customer_id, frequency, recency, T, p_alive, clv``; ``curve``: cumulative discounted
        value per customer (index ``customer_id``) at the end of months ``1..months``, for payback periods.
    """
    fitted = fitted or _fit_or_refuse(workspace, model, unit, observation_end)
    summary, model_fit = fitted.summary, fitted.model
    f, r, age, mv = fitted.arrays()
    per_purchase = fitted.spend.expected_spend(f, mv)
    curve = model_fit.value_curve(
        f,
        r,
        age,
        per_purchase,
        months=months,
        discount_rate=discount_rate,
        time_unit_days=unit_days(fitted.unit),
    )
    values = summary[["frequency", "recency", "T"]].copy()
    values["p_alive"] = model_fit.probability_alive(f, r, age)
    values["clv"] = curve[:, -1]
    curve_frame = pd.DataFrame(curve, index=summary.index, columns=list(range(1, months + 1)))
    return values.reset_index(), curve_frame


def clv_roi(
    workspace: Workspace,
    spend,
    *,
    interval: float | None = None,
    n_draws: int = 200,
    seed: int = 0,
    model: str = "bgnbd",
    months: int = 12,
    discount_rate: float = 0.01,
    unit: str = "W",
    observation_end=None,
) -> pd.DataFrame:
    """:func:`clv_by_channel` straight from a workspace: customer values, acquisition channels, ``spend``.

    ``spend`` is the acquisition spend per channel in the base currency (mapping, Series or DataFrame
    ``channel, spend``); the other keywords are those of :func:`customer_values`. With ``interval`` (e.g.
    0.9), the columns ``total_clv_lower, total_clv_upper, avg_clv_lower, avg_clv_upper`` give that interval
    of each channel's predicted CLV from the parameter uncertainty of both models
    (:mod:`trueroi.clv.uncertainty`). The models are fitted once for both.
    """
    fitted = fit_workspace(workspace, model=model, unit=unit, observation_end=observation_end)
    values, curve = customer_values(fitted=fitted, months=months, discount_rate=discount_rate)
    channels = acquisition_channels(workspace)
    out = clv_by_channel(values[["customer_id", "clv"]], channels, spend, value_curve=curve)
    if interval is None:
        return out
    bands = channel_clv_intervals(
        workspace,
        channels,
        fitted=fitted,
        level=interval,
        n_draws=n_draws,
        seed=seed,
        months=months,
        discount_rate=discount_rate,
    )
    out = out.merge(bands, on="channel", how="left")
    out["avg_clv_lower"] = out["total_clv_lower"] / out["customers"]
    out["avg_clv_upper"] = out["total_clv_upper"] / out["customers"]
    return out


def channel_clv_intervals(
    workspace: Workspace | None,
    channels: pd.DataFrame,
    *,
    level: float = 0.9,
    n_draws: int = 200,
    seed: int = 0,
    model: str = "bgnbd",
    months: int = 12,
    discount_rate: float = 0.01,
    unit: str = "W",
    observation_end=None,
    fitted: WorkspaceFit | None = None,
) -> pd.DataFrame:
    """Interval of the total predicted CLV per acquisition channel: ``channel, total_clv_lower,
    total_clv_upper`` (parameter draws of the transaction and spend models; same keywords as
    :func:`customer_values`, ``fitted`` included). ``channels`` is ``customer_id, channel``; customers
    not in it form the ``"(none)"`` group."""
    fitted = fitted or _fit_or_refuse(workspace, model, unit, observation_end)
    f, r, age, mv = fitted.arrays()
    labels = fitted.summary.index.map(channels.set_index("customer_id")["channel"]).fillna(NO_TOUCH)
    kw = {"months": months, "discount_rate": discount_rate, "time_unit_days": unit_days(fitted.unit)}

    def clv(models, rows):
        per_purchase = models[1].expected_spend(f[rows], mv[rows])
        return models[0].customer_lifetime_value(f[rows], r[rows], age[rows], per_purchase, **kw)

    _, groups = intervals(
        clv,
        (fitted.model, fitted.spend),
        len(f),
        level=level,
        n_draws=n_draws,
        seed=seed,
        groups=labels.to_numpy(),
    )
    return groups.rename(
        columns={"group": "channel", "lower": "total_clv_lower", "upper": "total_clv_upper"}
    )[["channel", "total_clv_lower", "total_clv_upper"]]
