"""What a fitted mix model says, computed in NumPy over posterior draws.

Contributions, ROI and marginal ROI with intervals, the decomposition over time, fit statistics, sampler
diagnostics, and warnings in words. Every function takes flattened draws ``{name: (D, ...)}`` and the
:class:`~trueroi.mmm.data.MMMData` the model was fitted on.

Definitions (as in Meridian and PyMC-Marketing): a channel's contribution is the modelled KPI it adds over
the training window compared with zero spend on it; contribution / spend over that window is, for a revenue
KPI, incremental revenue per unit of spend (incremental ROAS); the marginal figure is the extra contribution
per extra unit of spend when every period's spend of that channel rises by 1%. :func:`channel_summary`
keeps these per-spend ratios under ``roi`` and ``mroi`` (the model's internal names).

What a summary shows (:func:`public_channels`) follows the one ROI definition of every other command: ROI on
contribution margin, ``roi = (incremental revenue x margin rate - spend) / spend = margin rate x ROAS - 1``,
with ``roas`` beside it; without a known margin rate ``roi`` is null and only ``roas`` is given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trueroi.mmm.bayes import ORGANIC_PREFIX, ModelSpec, channel_effects
from trueroi.mmm.checks import ESS_LIMIT, R_HAT_LIMIT
from trueroi.mmm.data import MMMData

INTERVAL = 0.90
MROI_STEP = 0.01


def flatten(samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Merge the chain and draw axes: (chain, draw, ...) -> (chain * draw, ...)."""
    return {k: v.reshape((-1,) + v.shape[2:]) for k, v in samples.items()}


def interval(x: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    """Mean and equal-tailed 90% interval along ``axis``."""
    lo, hi = (1 - INTERVAL) / 2, 1 - (1 - INTERVAL) / 2
    return {
        "mean": x.mean(axis=axis),
        "lower": np.quantile(x, lo, axis=axis),
        "upper": np.quantile(x, hi, axis=axis),
    }


def media_params(draws: dict[str, np.ndarray], spec: ModelSpec) -> dict[str, np.ndarray]:
    keys = [f"adstock_{p}" for p in spec.adstock.params] + [f"sat_{p}" for p in spec.saturation.params]
    return {k: draws[k] for k in keys}


def contributions(
    draws: dict[str, np.ndarray], spec: ModelSpec, data: MMMData, spend: np.ndarray | None = None
) -> np.ndarray:
    """Contribution of each channel per period and draw in KPI units, shape (D, T, C)."""
    media = data.media_scaled(spend)  # (T, C)
    n_draws = draws["beta"].shape[0]
    x = np.broadcast_to(media[:, None, :], (media.shape[0], n_draws, media.shape[1]))
    effect = channel_effects(x, media_params(draws, spec), spec)  # (T, D, C)
    return np.transpose(effect * draws["beta"][None], (1, 0, 2)) * data.target_scale


def organic_contributions(draws: dict[str, np.ndarray], spec: ModelSpec, data: MMMData) -> np.ndarray:
    """Contribution of each organic input per draw and period in KPI units, shape (D, T, O)."""
    n_draws = draws["sigma"].shape[0]
    if not data.organic_cols:
        return np.zeros((n_draws, data.n_periods, 0))
    z = data.organic_scaled()
    x = np.broadcast_to(z[:, None, :], (z.shape[0], n_draws, z.shape[1]))
    keys = [f"adstock_{p}" for p in spec.adstock.params] + [f"sat_{p}" for p in spec.saturation.params]
    params = {k: draws[ORGANIC_PREFIX + k] for k in keys}
    effect = channel_effects(x, params, spec)  # (T, D, O)
    return np.transpose(effect * draws[f"{ORGANIC_PREFIX}beta"][None], (1, 0, 2)) * data.target_scale


def baseline(draws: dict[str, np.ndarray], data: MMMData, n_fourier: int) -> np.ndarray:
    """The non-negative baseline (intercept, trend, seasonality, events) per draw, shape (D, T), KPI units."""
    log_base = draws["intercept"][:, None] + draws["trend"][:, None] * data.trend()[None, :]
    if n_fourier > 0:
        log_base = log_base + draws["season"] @ data.fourier(n_fourier).T
    if data.events.shape[1]:
        log_base = log_base + draws["event"] @ data.events.T
    return np.exp(log_base) * data.target_scale


def control_effects(draws: dict[str, np.ndarray], data: MMMData) -> np.ndarray:
    """Contribution of each control per period and draw, shape (D, T, K), KPI units."""
    if not data.controls.shape[1]:
        return np.zeros((draws["sigma"].shape[0], data.n_periods, 0))
    z = data.controls_scaled()
    return draws["control"][:, None, :] * z[None, :, :] * data.target_scale


def channel_summary(
    draws: dict[str, np.ndarray], spec: ModelSpec, data: MMMData
) -> dict[str, dict[str, Any]]:
    """Per channel: training spend, contribution, ROI and marginal ROI (mean and 90% interval)."""
    train = slice(0, data.n_train)
    spend = data.spend[train].sum(axis=0)
    contrib = contributions(draws, spec, data)[:, train, :].sum(axis=1)  # (D, C)
    bumped = contributions(draws, spec, data, data.spend * (1 + MROI_STEP))[:, train, :].sum(axis=1)
    roi = contrib / spend
    mroi = (bumped - contrib) / (spend * MROI_STEP)
    out = {}
    for i, c in enumerate(data.channels):
        out[c] = {
            "spend": float(spend[i]),
            "contribution": _floats(interval(contrib[:, i])),
            "roi": _floats(interval(roi[:, i])),
            "mroi": _floats(interval(mroi[:, i])),
        }
    return out


ROI_BASES = ("margin", "unknown", "none")
"""``roi_basis`` of a summary: margin ROI given; no margin rate known (ROAS only); a KPI without revenue."""
NO_INTERVAL = {"mean": None, "lower": None, "upper": None}


def roi_basis(kpi: str, margin_rate: float | None) -> str:
    """``"margin"``, ``"unknown"`` (revenue KPI, no margin rate) or ``"none"`` (conversions KPI)."""
    if kpi != "revenue":
        return "none"
    return "unknown" if margin_rate is None else "margin"


def on_margin(per_spend: dict[str, float], margin_rate: float | None) -> dict[str, float | None]:
    """Margin ROI ``margin_rate x ROAS - 1`` of a ROAS interval, bound by bound (the map is increasing and
    linear, so it keeps means and quantiles); null bounds without a margin rate."""
    if margin_rate is None:
        return dict(NO_INTERVAL)
    return {k: margin_rate * v - 1.0 for k, v in per_spend.items()}


def public_channels(
    channels: dict[str, dict[str, Any]], kpi: str, margin_rate: float | None
) -> dict[str, dict[str, Any]]:
    """The summary's channel blocks from per-spend blocks (:func:`channel_summary`'s, or a geo's).

    Revenue KPI: ``spend``, ``contribution``, ``roi`` (margin ROI; null bounds when no margin rate is known),
    ``roas`` (incremental revenue / spend) and, where the block has a marginal figure, ``mroi`` and
    ``mroas``. Conversions KPI: ``roi`` and ``roas`` null, ``per_spend`` (and ``mper_spend``): incremental
    conversions per unit of spend.
    """
    out = {}
    for c, s in channels.items():
        block: dict[str, Any] = {"spend": s["spend"], "contribution": s["contribution"]}
        revenue = kpi == "revenue"
        for key, name in (("roi", ""), ("mroi", "m")):
            if key not in s:
                continue
            block[f"{name}roi"] = on_margin(s[key], margin_rate) if revenue else dict(NO_INTERVAL)
            block[f"{name}roas"] = s[key] if revenue else dict(NO_INTERVAL)
            if not revenue:
                block[f"{name}per_spend"] = s[key]
        out[c] = block
    return out


def roi_header(kpi: str, margin_rate: float | None) -> dict[str, Any]:
    """What the summary's ``roi`` means: ``kpi``, ``roi_basis``, ``margin_rate`` and ``roi_note`` (words)."""
    basis = roi_basis(kpi, margin_rate)
    notes = {
        "margin": f"roi is on contribution margin, as media ROI in every report: (incremental revenue x "
        f"margin rate {margin_rate} - spend) / spend; roas is incremental revenue / spend",
        "unknown": "no margin rate is known (no COGS in the orders, no default_margin in the workspace "
        "config, none given to the fit), so roi is not given; roas is incremental revenue / spend",
        "none": "the KPI is conversions, not revenue: roi and roas are not given; per_spend is incremental "
        "conversions per unit of spend",
    }
    return {"kpi": kpi, "roi_basis": basis, "margin_rate": margin_rate, "roi_note": notes[basis]}


def fitted(draws: dict[str, np.ndarray], spec: ModelSpec, data: MMMData, n_fourier: int) -> np.ndarray:
    """Expected KPI per draw and period, shape (D, T)."""
    return (
        baseline(draws, data, n_fourier)
        + contributions(draws, spec, data).sum(axis=2)
        + control_effects(draws, data).sum(axis=2)
        + organic_contributions(draws, spec, data).sum(axis=2)
    )


def fit_statistics(mu: np.ndarray, data: MMMData) -> dict[str, float | None]:
    """In-sample R2 and MAPE of the posterior-mean fit, and MAPE on the holdout periods (None without)."""
    mean = mu.mean(axis=0)
    y, n = data.target, data.n_train
    resid = y[:n] - mean[:n]
    r2 = 1 - float((resid**2).sum() / ((y[:n] - y[:n].mean()) ** 2).sum())
    return {
        "r2": r2,
        "mape": _mape(y[:n], mean[:n]),
        "holdout_mape": _mape(y[n:], mean[n:]) if n < len(y) else None,
    }


def posterior_predictive_coverage(mu: np.ndarray, sigma: np.ndarray, data: MMMData, seed: int = 0) -> float:
    """Share of training periods whose KPI lies in the 90% posterior predictive interval (about 0.9 if the
    model's noise is right)."""
    rng = np.random.default_rng(seed)
    n = data.n_train
    pred = mu[:, :n] + rng.standard_normal(mu[:, :n].shape) * sigma[:, None] * data.target_scale
    lo, hi = np.quantile(pred, [0.05, 0.95], axis=0)
    y = data.target[:n]
    return float(((y >= lo) & (y <= hi)).mean())


def sampler_diagnostics(samples: dict[str, np.ndarray]) -> dict[str, float]:
    """Largest split R-hat and smallest bulk ESS over every scalar of the posterior (Vehtari et al. 2021
    via NumPyro's implementations); NaN with a single draw."""
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    rhats, esss = [], []
    for name, v in samples.items():
        if name in ("y", "lift") or v.shape[1] < 4:
            continue
        rhats.append(np.nanmax(np.atleast_1d(split_gelman_rubin(v))))
        esss.append(np.nanmin(np.atleast_1d(effective_sample_size(v))))
    return {
        "r_hat_max": float(max(rhats)) if rhats else float("nan"),
        "ess_bulk_min": float(min(esss)) if esss else float("nan"),
    }


DIVERGENCE_SHARE = 0.001
"""Share of post-warm-up draws that may diverge before a NUTS fit counts as unconverged (4 of 4,000)."""


def convergence_problems(diagnostics: dict[str, Any], method: str, n_draws: int) -> list[str]:
    """Why a fit must not be the basis of advice, one phrase each (empty: nothing speaks against it).

    A NUTS fit fails when the largest split R-hat of any parameter exceeds :data:`~trueroi.mmm.checks.
    R_HAT_LIMIT` (or cannot be computed), when more than :data:`DIVERGENCE_SHARE` of its ``n_draws``
    (chains x draws) diverged, or when the smallest bulk effective sample size is below
    :data:`~trueroi.mmm.checks.ESS_LIMIT`. Laplace and MAP fits have no sampler to judge (their own
    warnings say what they approximate).
    """
    if method != "nuts":
        return []
    found = []
    r_hat = diagnostics.get("r_hat_max")
    if r_hat is None or not np.isfinite(r_hat):
        found.append("R-hat could not be computed (too few draws per chain)")
    elif r_hat > R_HAT_LIMIT:
        found.append(
            f"R-hat up to {r_hat:.2f} (above {R_HAT_LIMIT}): its chains disagree, it has not converged"
        )
    div = int(diagnostics.get("divergences") or 0)
    if div > DIVERGENCE_SHARE * max(n_draws, 1):
        found.append(
            f"{div:,} divergent transitions ({div / max(n_draws, 1):.1%} of {n_draws:,} draws, above "
            f"{DIVERGENCE_SHARE:.1%}): the sampler missed part of the posterior"
        )
    ess = diagnostics.get("ess_bulk_min")
    if ess is not None and np.isfinite(ess) and ess < ESS_LIMIT:
        found.append(f"effective sample size down to {ess:.0f} (below {ESS_LIMIT}): its intervals are noise")
    return found


def decomposition(draws: dict[str, np.ndarray], spec: ModelSpec, data: MMMData, n_fourier: int) -> Any:
    """Posterior-mean decomposition per period: baseline, controls, channels, fitted and actual KPI."""
    import pandas as pd

    out = pd.DataFrame({data.date_col: data.dates})
    out["baseline"] = baseline(draws, data, n_fourier).mean(axis=0)
    for i, c in enumerate(data.controls_cols):
        out[c] = control_effects(draws, data)[:, :, i].mean(axis=0)
    contrib = contributions(draws, spec, data).mean(axis=0)
    for i, c in enumerate(data.channels):
        out[c] = contrib[:, i]
    organic = organic_contributions(draws, spec, data).mean(axis=0)
    for i, c in enumerate(data.organic_cols):
        out[c] = organic[:, i]
    out["fitted"] = out.drop(columns=[data.date_col]).sum(axis=1)
    out["actual"] = data.target
    out["holdout"] = np.arange(data.n_periods) >= data.n_train
    return out


def _mape(y: np.ndarray, pred: np.ndarray) -> float | None:
    ok = y != 0
    return float(np.mean(np.abs((y[ok] - pred[ok]) / y[ok]))) if ok.any() else None


def _floats(d: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(v) for k, v in d.items()}
