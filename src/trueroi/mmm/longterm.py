"""Cumulative ROI by months since spend: how fast a channel's return arrives, from the fitted carry-over.

A mix model's adstock spreads the effect of one unit of spend over the ``l_max`` periods that follow it with
normalised lag weights ``w_0 .. w_{L-1}`` (Jin et al. 2017, "Bayesian Methods for Media Mix Modeling with
Carryover and Shape Effects", eq. 1-3). The share of the unit's total effect realised within the first ``k``
periods is the cumulative weight

    S(k) = sum_{l < k} w_l / sum_{l < L} w_l,      e.g. geometric: S(k) = (1 - alpha**k) / (1 - alpha**L),

and the channel's cumulative return after ``k`` periods is ``S(k)`` times its ROAS (incremental revenue per
unit of spend over the training window, the summary's ``roas``). A horizon in months becomes
``months x 365.25 / 12 / period_days`` periods (4.35 weeks or 30.44 days a month); the part of a period is
taken pro rata (the period's effect spread evenly over it), so ``S`` is linear between whole periods.

What the curve shows follows the summary's ROI basis (:func:`trueroi.mmm.results.roi_basis`):

- ``"margin"``: cumulative ROI on contribution margin, ``margin_rate x ROAS x S(k) - 1``; the payback month
  is the first horizon where its posterior mean is at least 0 (the margin earned has paid the spend back).
- ``"roas"`` (a revenue KPI without a margin rate): cumulative ROAS, ``ROAS x S(k)``; payback is the first
  horizon where it reaches 1 (revenue, not margin, has paid the spend back: an optimistic payback).
- ``"per_spend"`` (a conversions KPI): cumulative conversions per unit of spend; no payback (null).

Every value is computed per posterior draw (the carry-over and the ROI of the same draw), so the mean and
the 90% interval (:func:`trueroi.mmm.results.interval`) carry the joint uncertainty. The curve converges to
the model's ROI: it reaches it at ``l_max`` periods and is flat after, because the adstock is truncated at
``l_max`` lags; a horizon beyond ``l_max`` adds nothing, and an effect that truly lasts longer than ``l_max``
periods is not in the model (fit with a longer ``l_max`` to see it). Saturation acts on the adstocked
spend, so ``S`` is the timing of the effect in the model's linear regime (exact for a small unit of spend at
a steady level of spend).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trueroi.errors import UsageError
from trueroi.mmm import results as R
from trueroi.mmm.base import MixModel

MONTHS = (1, 3, 6, 12, 24, 36)
DAYS_PER_MONTH = 365.25 / 12
BASES = ("margin", "roas", "per_spend")
LAGGED_SHARE = 0.5
"""A channel is lagged when less than this share of its long-run return arrives within its first month."""


def periods_per_month(period_days: int) -> float:
    """Periods of ``period_days`` days in an average month (365.25 / 12 days): 4.35 weeks, 30.44 days."""
    return DAYS_PER_MONTH / period_days


def carryover_share(weights: np.ndarray, periods: Sequence[float] | np.ndarray) -> np.ndarray:
    """Share of a unit of spend's total effect realised within the first ``periods`` periods.

    Parameters
    ----------
    weights
        Adstock lag weights, shape ``(L, ...)`` (normalised here: only their ratios matter).
    periods
        Horizons in periods (non-negative floats); a fraction of a period counts its lag weight pro rata.

    Returns
    -------
    numpy.ndarray
        Shape ``(K, ...)``: ``S(k) = sum_{l < floor k} w_l + (k - floor k) w_{floor k}``, over the sum of
        the weights; 1 from ``k = L`` on.
    """
    w = np.asarray(weights, dtype=float)
    w = w / w.sum(axis=0, keepdims=True)
    cum = np.concatenate([np.zeros((1,) + w.shape[1:]), np.cumsum(w, axis=0)], axis=0)  # (L + 1, ...)
    k = np.asarray(periods, dtype=float)
    if k.ndim != 1 or (k < 0).any():
        raise UsageError(f"horizons must be non-negative numbers of periods, got {periods!r}")
    n_lags = w.shape[0]
    whole = np.minimum(np.floor(k).astype(int), n_lags)
    frac = np.where(whole < n_lags, k - np.floor(k), 0.0)
    nxt = np.minimum(whole, n_lags - 1)
    frac = frac.reshape((-1,) + (1,) * (w.ndim - 1))
    return cum[whole] + frac * w[nxt]


def cumulative_curve(
    share: np.ndarray, roas: np.ndarray, basis: str, margin_rate: float | None = None
) -> np.ndarray:
    """Cumulative ROI per horizon and draw from carry-over shares ``(K, D)`` and ROAS draws ``(D,)``.

    ``basis`` is one of :data:`BASES`; ``"margin"`` needs ``margin_rate`` (see the module docstring).
    """
    if basis not in BASES:
        raise UsageError(f"unknown ROI basis {basis!r}; expected one of: {', '.join(BASES)}")
    gross = share * np.asarray(roas)[None, :]
    if basis != "margin":
        return gross
    if margin_rate is None:
        raise UsageError("a margin ROI curve needs a margin rate; use basis 'roas' without one")
    return margin_rate * gross - 1.0


def payback_month(months: Sequence[float], mean_curve: np.ndarray, basis: str) -> float | None:
    """The first horizon whose mean cumulative ROI has paid the spend back (ROI >= 0 on margin, ROAS >= 1),
    or None (not within the horizons, or a conversions KPI)."""
    if basis == "per_spend":
        return None
    threshold = 0.0 if basis == "margin" else 1.0
    for m, v in zip(months, mean_curve, strict=True):
        if v >= threshold:
            return m
    return None


@dataclass
class LongTermROI:
    """Cumulative ROI curves of a fitted mix model's channels (:func:`cumulative_roi`).

    Attributes
    ----------
    months
        The horizons, months since spend.
    basis
        ``"margin"``, ``"roas"`` or ``"per_spend"`` (see the module docstring).
    channels
        Per channel: ``months``, ``cumulative_roi`` (``mean``, ``lower``, ``upper`` lists, one per
        horizon), ``payback_month``, ``long_run_roi`` (the model's ROI on the same basis, the curve's
        limit) and ``share_realised`` (mean share of the long-run return realised by each horizon).
    first_month_share
        Per channel, the mean share of the long-run return realised within the first month.
    """

    months: list[float]
    basis: str
    margin_rate: float | None
    kpi: str
    period_days: int
    l_max: int
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_month_share: dict[str, float] = field(default_factory=dict)

    @property
    def carryover_months(self) -> float:
        """``l_max`` in months: the horizon after which every curve is flat."""
        return self.l_max / periods_per_month(self.period_days)

    def lagged_channels(self, share: float = LAGGED_SHARE) -> list[str]:
        """Channels that realise less than ``share`` of their long-run return (posterior mean) within the
        first month, whatever the horizons shown: their one-month ROAS is below ``share`` x the long run."""
        return [c for c, first in self.first_month_share.items() if first < share]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi mmm longterm --format json``."""
        notes = {
            "margin": f"cumulative ROI on contribution margin (margin rate {self.margin_rate}): "
            "margin earned by then minus spend, over spend; payback when it reaches 0",
            "roas": "no margin rate known: cumulative ROAS (incremental revenue by then / spend); payback "
            "when it reaches 1 (revenue, not margin, covers the spend: optimistic)",
            "per_spend": "conversions KPI: cumulative incremental conversions per unit of spend; no payback",
        }
        return {
            "basis": self.basis,
            "kpi": self.kpi,
            "margin_rate": self.margin_rate,
            "period_days": self.period_days,
            "periods_per_month": periods_per_month(self.period_days),
            "l_max": self.l_max,
            "carryover_months": self.carryover_months,
            "note": f"{notes[self.basis]}. The adstock is truncated at l_max = {self.l_max} periods "
            f"({self.carryover_months:.1f} months): every curve is flat after that and equals the "
            "model's ROI.",
            "channels": self.channels,
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per channel and horizon (for tables and CSV)."""
        out = []
        for c, block in self.channels.items():
            band = block["cumulative_roi"]
            for i, m in enumerate(block["months"]):
                out.append(
                    {
                        "channel": c,
                        "months": m,
                        "mean": band["mean"][i],
                        "lower": band["lower"][i],
                        "upper": band["upper"][i],
                        "share_realised": block["share_realised"][i],
                        "payback_month": block["payback_month"],
                    }
                )
        return out


def cumulative_roi(
    model: MixModel, months: Sequence[float] = MONTHS, max_draws: int | None = None
) -> LongTermROI:
    """Cumulative ROI by months since spend for every channel of a fitted national or geo mix model.

    Parameters
    ----------
    model
        A fitted (or loaded, :func:`trueroi.mmm.load_model`) :class:`~trueroi.mmm.MMM` or
        :class:`~trueroi.mmm.geo.GeoMMM`.
    months
        Horizons in months since spend (positive, increasing).
    max_draws
        Use at most this many evenly spaced posterior draws (None: all).

    Returns
    -------
    LongTermROI
        Per channel the curve (mean and 90% interval per horizon), the payback month and the long-run ROI.

    Raises
    ------
    UsageError
        On empty, non-positive or unsorted horizons.
    NotFittedError
        If the model is not fitted.
    """
    horizons = _check_months(months)
    model._require_fit()
    roas, adstock = _draws(model, max_draws)
    spec, data = model.spec_, model.data_
    weights = spec.adstock.weights(**adstock, l_max=spec.l_max)  # (L, D, C)
    periods = np.asarray(horizons) * periods_per_month(data.period_days)
    share = carryover_share(weights, periods)  # (K, D, C)
    first = carryover_share(weights, [periods_per_month(data.period_days)])[0].mean(axis=0)  # (C,)
    basis = _basis(model.kpi, model.margin_rate)
    result = LongTermROI(horizons, basis, model.margin_rate, model.kpi, data.period_days, spec.l_max)
    for i, c in enumerate(data.channels):
        curve = cumulative_curve(share[:, :, i], roas[:, i], basis, model.margin_rate)  # (K, D)
        band = R.interval(curve, axis=1)
        long_run = cumulative_curve(np.ones((1, roas.shape[0])), roas[:, i], basis, model.margin_rate)[0]
        result.channels[c] = {
            "months": horizons,
            "cumulative_roi": {k: [float(x) for x in v] for k, v in band.items()},
            "payback_month": payback_month(horizons, band["mean"], basis),
            "long_run_roi": {k: float(v) for k, v in R.interval(long_run).items()},
            "share_realised": [float(x) for x in share[:, :, i].mean(axis=1)],
        }
        result.first_month_share[c] = float(first[i])
    return result


def _check_months(months: Sequence[float]) -> list[float]:
    values = [float(m) for m in months]
    if not values or any(m <= 0 for m in values) or values != sorted(set(values)):
        raise UsageError(
            f"months must be positive, increasing horizons such as 1,3,6,12,24,36; got {list(months)}"
        )
    return [int(m) if m.is_integer() else m for m in values]


def _basis(kpi: str, margin_rate: float | None) -> str:
    return {"margin": "margin", "unknown": "roas", "none": "per_spend"}[R.roi_basis(kpi, margin_rate)]


def _draws(model: MixModel, max_draws: int | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """ROAS per draw and channel (D, C), national, as the summary computes it, and the adstock parameters'
    draws (D, C) of the same draws (at most ``max_draws``, evenly spaced)."""
    flat = R.flatten(model.posterior_)
    total = next(iter(flat.values())).shape[0]
    pick = np.arange(total)
    if max_draws is not None and total > max_draws:
        pick = np.unique(np.linspace(0, total - 1, max_draws).astype(int))
    adstock = {p: flat[f"adstock_{p}"][pick] for p in model.spec_.adstock.params}
    if model.KIND == "geo":
        return model.roi_draws()[1][pick], adstock
    data, n = model.data_, model.data_.n_train
    draws = {k: v[pick] for k, v in flat.items()}
    contrib = R.contributions(draws, model.spec_, data)[:, :n, :].sum(axis=1)  # (D, C)
    return contrib / data.spend[:n].sum(axis=0), adstock
