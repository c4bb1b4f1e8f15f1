"""The customer-lifetime-value analyses as library calls: :func:`fit`, :func:`predict` and :func:`holdout`.

Each takes plain arguments (a CSV file or a DataFrame, column names, model name, time unit, horizon, ...)
and returns a result whose ``to_dict()`` is the JSON the ``trueroi clv`` command prints with
``--format json`` and whose ``rows()`` are the rows of its table and CSV output. The CLI and the web app
call these functions with the same arguments and only render the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trueroi.clv.data import calibration_holdout, holdout_check, tracking, unit_days
from trueroi.clv.inputs import CustomerTable, DataSource, in_file, load_customers, read_transactions
from trueroi.clv.likelihoods import RFMData
from trueroi.clv.models import GammaGammaFitter, get_model
from trueroi.clv.uncertainty import intervals
from trueroi.errors import ConvergenceError, DataValidationError, UsageError
from trueroi.io import jsonable, save_csv

LIMIT_PARAMS = ("lambda", "p")  # the reduced model's own parameters (the others are the full model's)


@dataclass
class FitResult:
    """A fitted transaction model and, when transaction values are known, the Gamma-Gamma spend model.

    Attributes
    ----------
    model_name
        ``bgnbd``, ``pareto`` or ``mbgnbd``.
    model
        The fitted transaction model (``params_``, ``standard_errors_``, ``diagnostics_``, ...).
    spend
        The fitted Gamma-Gamma model, or None (no values, fewer than 2 repeat customers with spend, or no
        convergence).
    n_customers
        Customers fitted.
    """

    model_name: str
    model: Any
    spend: GammaGammaFitter | None
    n_customers: int

    @property
    def warnings(self) -> list[str]:
        """What the fit says about itself (limits, flat ridges), in words."""
        return list(self.model.warnings_)

    @property
    def log_likelihood(self) -> float:
        return float(self.model.log_likelihood_)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi clv fit --format json``."""
        m, s = self.model, self.spend
        return jsonable(
            {
                "model": self.model_name,
                "params": m.params_,
                "log_likelihood": m.log_likelihood_,
                "gamma_gamma": None if s is None else {k: s.params_[k] for k in ("p", "q", "v")},
                "standard_errors": m.standard_errors_,
                "gamma_gamma_standard_errors": None if s is None else s.standard_errors_,
                "reduced_params": getattr(m, "reduced_params_", None),
                "diagnostics": m.diagnostics_,
                "warnings": m.warnings_,
            }
        )

    def rows(self) -> list[dict[str, Any]]:
        """One row per parameter: ``model, parameter, estimate, std_error``; in a no-heterogeneity limit
        also the reduced model's ``lambda`` / ``p`` (model ``"<name> (limit)"``), then Gamma-Gamma's."""
        m = self.model
        rows = [
            {"model": self.model_name, "parameter": k, "estimate": v, "std_error": m.standard_errors_[k]}
            for k, v in m.params_.items()
        ]
        reduced = getattr(m, "reduced_params_", None) or {}
        reduced_se = getattr(m, "reduced_standard_errors_", None) or {}
        rows += [
            {
                "model": f"{self.model_name} (limit)",
                "parameter": k,
                "estimate": v,
                "std_error": reduced_se.get(k),
            }
            for k, v in reduced.items()
            if k in LIMIT_PARAMS
        ]
        if self.spend is not None:
            se = self.spend.standard_errors_
            rows += [
                {"model": "gamma_gamma", "parameter": k, "estimate": v, "std_error": se[k]}
                for k, v in self.spend.params_.items()
            ]
        return rows


def fit_models(customers: CustomerTable, model: str = "bgnbd") -> FitResult:
    """Fit the transaction model ``model`` on ``customers`` and, when ``monetary_value`` is known for at
    least 2 repeat customers with spend > 0, the Gamma-Gamma spend model (left out if it does not
    converge)."""
    table = customers.summary
    fitter = get_model(model)
    try:  # validates with the customer's row
        RFMData.from_arrays(table["frequency"], table["recency"], table["T"])
    except DataValidationError as exc:
        raise (in_file(exc, customers.source) if customers.transactions is None else exc) from exc
    fitter.fit(table["frequency"], table["recency"], table["T"])
    spend = None
    if (
        "monetary_value" in table.columns
        and ((table["frequency"] > 0) & (table["monetary_value"] > 0)).sum() >= 2
    ):
        try:
            spend = GammaGammaFitter().fit(table["frequency"], table["monetary_value"])
        except ConvergenceError:
            spend = None
    return FitResult(model, fitter, spend, len(table))


def fit(
    data: DataSource | CustomerTable,
    *,
    summary: bool = False,
    customer: str | None = None,
    date: str = "date",
    amount: str | None = None,
    model: str = "bgnbd",
    calibration_end: str | None = None,
    unit: str = "W",
    order: str | None = None,
) -> FitResult:
    """Fit a transaction model (and Gamma-Gamma spend when values are given) by maximum likelihood.

    ``data`` and the reading keywords are those of :func:`~trueroi.clv.inputs.load_customers`, or ``data``
    is a :class:`~trueroi.clv.inputs.CustomerTable` already loaded (then the reading keywords are not
    used); ``model`` is ``bgnbd``, ``pareto`` or ``mbgnbd``.
    """
    customers = _customers(data, summary, customer, date, amount, calibration_end, unit, order)
    return fit_models(customers, model)


@dataclass
class PredictResult:
    """Predictions per customer (or totals per group), from :func:`predict`.

    Attributes
    ----------
    table
        Per customer: ``customer_id, frequency, recency, T, p_alive, expected_purchases`` (``_lower`` /
        ``_upper`` with an interval), and with spend ``expected_spend, clv`` (and its interval). Per group:
        ``group, customers, expected_purchases`` with its interval, and with spend ``clv`` with its
        interval. Purchases are counts over the horizon; spend and CLV are in the data's money.
    grouped
        Whether :attr:`table` holds groups.
    interval, draws
        Level and parameter draws of the intervals (None: no intervals).
    fitted
        The fitted models.
    """

    table: pd.DataFrame
    grouped: bool
    interval: float | None
    draws: int
    fitted: FitResult = field(repr=False)

    @property
    def with_spend(self) -> bool:
        return self.fitted.spend is not None

    @property
    def warnings(self) -> list[str]:
        return self.fitted.warnings

    def to_dict(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The JSON of ``trueroi clv predict --format json``: the list of customers, or with groups
        ``{"interval", "draws", "groups"}``."""
        rows = jsonable(self.table)
        if self.grouped:
            return {"interval": self.interval, "draws": self.draws, "groups": rows}
        return rows

    def rows(self) -> list[dict[str, Any]]:
        """The rows of :attr:`table` (CSV and table output)."""
        return self.table.to_dict("records")

    def save_csv(self, out: str | os.PathLike[str]) -> Path:
        """Write :attr:`table` as CSV to ``out`` atomically (formulas neutralised)."""
        return save_csv(self.table, out)


@dataclass
class _Forecast:
    """Expected purchases over ``horizon`` and CLV of the customers of an RFM summary, for any models."""

    f: np.ndarray
    r: np.ndarray
    age: np.ndarray
    mv: np.ndarray | None
    horizon: float
    value_kw: dict[str, float]

    def purchases(self, models, rows) -> np.ndarray:
        return models[0].predict_purchases(self.horizon, self.f[rows], self.r[rows], self.age[rows])

    def clv(self, models, rows) -> np.ndarray:
        per_purchase = models[1].expected_spend(self.f[rows], self.mv[rows])
        return models[0].customer_lifetime_value(
            self.f[rows], self.r[rows], self.age[rows], per_purchase, **self.value_kw
        )


def predict(
    data: DataSource | CustomerTable,
    *,
    summary: bool = False,
    customer: str | None = None,
    date: str = "date",
    amount: str | None = None,
    model: str = "bgnbd",
    calibration_end: str | None = None,
    unit: str = "W",
    order: str | None = None,
    horizon: float = 52.0,
    months: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    interval: float | None = None,
    draws: int = 300,
    seed: int = 0,
    group_by: str | None = None,
) -> PredictResult:
    """Per-customer predictions: probability alive, expected purchases, expected spend and CLV.

    Parameters
    ----------
    data, summary, customer, date, amount, calibration_end, unit, order
        As for :func:`fit`.
    horizon
        Horizon of the expected purchases, in ``unit``.
    months, discount_rate, margin
        CLV horizon in months, monthly discount rate and contribution-margin share of spend.
    interval, draws, seed
        Level (e.g. 0.9) of intervals from the parameter uncertainty, parameter draws and their seed.
    group_by
        Totals with intervals per group instead of customers: a column (for a log, its value on the
        customer's first transaction) or ``"cohort"`` (month of the first purchase); the interval level
        defaults to 0.9 there.
    """
    if horizon <= 0 or months <= 0 or discount_rate < 0 or margin < 0:
        raise UsageError("horizon and months must be positive, discount_rate and margin non-negative")
    customers = _customers(data, summary, customer, date, amount, calibration_end, unit, order)
    groups = None if group_by is None else customers.groups(group_by)
    fitted = fit_models(customers, model)
    table = customers.summary
    forecast = _Forecast(
        *(table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")),
        table["monetary_value"].to_numpy(dtype=float) if fitted.spend is not None else None,
        horizon,
        {
            "months": months,
            "discount_rate": discount_rate,
            "margin": margin,
            "time_unit_days": unit_days(customers.unit),
        },
    )
    if groups is not None:
        level = interval or 0.9
        out = _group_totals(forecast, fitted, groups, level, draws, seed)
        return PredictResult(out, True, level, draws, fitted)
    out = _customer_predictions(table, forecast, fitted, interval, draws, seed)
    return PredictResult(out, False, interval, draws, fitted)


def _customer_predictions(
    table: pd.DataFrame, forecast: _Forecast, fitted: FitResult, level: float | None, draws: int, seed: int
) -> pd.DataFrame:
    model, spend = fitted.model, fitted.spend
    out = table[["frequency", "recency", "T"]].copy()
    out["p_alive"] = model.probability_alive(forecast.f, forecast.r, forecast.age)
    out["expected_purchases"] = forecast.purchases((model,), slice(None))
    if level is not None:
        _add_interval(out, "expected_purchases", forecast.purchases, (model,), level, draws, seed)
    if spend is not None:
        out["expected_spend"] = spend.expected_spend(forecast.f, forecast.mv)
        out["clv"] = forecast.clv((model, spend), slice(None))
        if level is not None:
            _add_interval(out, "clv", forecast.clv, (model, spend), level, draws, seed)
    return out.reset_index().rename(columns={out.index.name or "index": "customer_id"})


def _add_interval(out: pd.DataFrame, column: str, fn, models, level: float, draws: int, seed: int) -> None:
    per_customer, _ = intervals(fn, models, len(out), level=level, n_draws=draws, seed=seed)
    out[f"{column}_lower"] = per_customer["lower"].to_numpy()
    out[f"{column}_upper"] = per_customer["upper"].to_numpy()


def _group_totals(
    forecast: _Forecast, fitted: FitResult, groups: np.ndarray, level: float, draws: int, seed: int
) -> pd.DataFrame:
    """Totals per group with intervals: expected purchases, and CLV when spend is modelled."""
    n = len(groups)
    models = (fitted.model, fitted.spend)
    _, pg = intervals(forecast.purchases, models[:1], n, level=level, n_draws=draws, seed=seed, groups=groups)
    out = pg.rename(
        columns={
            "estimate": "expected_purchases",
            "lower": "expected_purchases_lower",
            "upper": "expected_purchases_upper",
        }
    )
    if fitted.spend is not None:
        _, cg = intervals(forecast.clv, models, n, level=level, n_draws=draws, seed=seed, groups=groups)
        out["clv"], out["clv_lower"], out["clv_upper"] = cg["estimate"], cg["lower"], cg["upper"]
    return out


@dataclass
class HoldoutResult:
    """A model fitted on the calibration period against the holdout, from :func:`holdout`.

    Attributes
    ----------
    table
        By calibration frequency: ``frequency_cal, customers, actual, predicted`` (mean holdout purchases
        per customer); over time: ``period_end, actual, predicted`` (cumulative repeat purchases).
    over_time
        Which of the two :attr:`table` holds.
    """

    model_name: str
    model: Any
    table: pd.DataFrame
    over_time: bool = False

    @property
    def warnings(self) -> list[str]:
        return list(self.model.warnings_)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi clv holdout --format json``."""
        key = "over_time" if self.over_time else "groups"
        return jsonable({"model": self.model_name, "params": self.model.params_, key: self.table})

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_dict("records")


def holdout(
    data: DataSource,
    *,
    calibration_end: str,
    observation_end: str | None = None,
    customer: str | None = None,
    date: str = "date",
    model: str = "bgnbd",
    unit: str = "W",
    over_time: bool = False,
    order: str | None = None,
) -> HoldoutResult:
    """Fit on the calibration period and compare predicted with actual holdout purchases by frequency
    (FHL 2005a fig. 4) or, with ``over_time``, cumulative repeat purchases over calibration and holdout
    (fig. 2).

    ``data`` is a transaction log (CSV file or DataFrame); ``observation_end`` defaults to its last day.
    """
    log, source = read_transactions(data, customer=customer, date=date, order=order)
    key = customer or "customer_id"
    try:
        split = calibration_holdout(
            log, calibration_end, observation_end=observation_end, customer_col=key, date_col=date, unit=unit
        )
    except DataValidationError as exc:
        raise in_file(exc, source) from exc
    fitted = get_model(model).fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    if over_time:
        curve = tracking(
            fitted,
            log,
            customer_col=key,
            date_col=date,
            calibration_end=calibration_end,
            observation_end=observation_end,
            unit=unit,
        )
        return HoldoutResult(model, fitted, curve, over_time=True)
    return HoldoutResult(model, fitted, holdout_check(fitted, split))


def _customers(
    data: DataSource | CustomerTable,
    summary: bool,
    customer: str | None,
    date: str,
    amount: str | None,
    calibration_end: str | None,
    unit: str,
    order: str | None,
) -> CustomerTable:
    if isinstance(data, CustomerTable):
        return data
    return load_customers(
        data,
        summary=summary,
        customer=customer,
        date=date,
        amount=amount,
        calibration_end=calibration_end,
        unit=unit,
        order=order,
    )
