"""Warnings in words about a fitted mix model: what a careful analyst would check before trusting it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from trueroi.mmm.base import MixModel
    from trueroi.mmm.model import MMM

R_HAT_LIMIT = 1.05
ESS_LIMIT = 100
R_HAT_TRUST = 1.01  # Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021), "Rank-normalization ...", sec. 5
ESS_TRUST_PER_CHAIN = 100  # ibid.: bulk ESS of at least 100 per chain
MIN_SPEND_CV = 0.10  # coefficient of variation of a channel's spend below which it is hard to identify
MIN_ACTIVE_SHARE = 0.10  # share of periods with spend below which it is hard to identify
ROI_SPAN = 10.0  # upper / lower of the 90% ROI interval above which the ROI is unknown within 10x
PRIOR_SHRINK = 0.8  # posterior sd of log ROI / prior sd above which the data taught little


def fit_warnings(model: MMM) -> list[str]:
    """Every warning that applies to a fitted national model, one sentence each."""
    return (
        sampler_warnings(model)
        + _identification_warnings(model)
        + _roi_warnings(model)
        + _fit_quality_warnings(model)
    )


def trust_problems(diagnostics: dict[str, Any], method: str, chains: int) -> list[str]:
    """Why a NUTS fit is not to be trusted yet, one phrase each (empty: trusted; Laplace and MAP fits
    are judged by their own warnings): any divergent transition after warm-up, split R-hat above
    :data:`R_HAT_TRUST`, or bulk ESS below :data:`ESS_TRUST_PER_CHAIN` per chain (the thresholds of
    Vehtari et al. 2021, stricter than :func:`trueroi.mmm.results.convergence_problems`, which decides
    when a report refuses a fit)."""
    if method != "nuts":
        return []
    found = []
    div = int(diagnostics.get("divergences") or 0)
    if div:
        found.append(f"{div} divergent transitions")
    r_hat = diagnostics.get("r_hat_max")
    if r_hat is None or not np.isfinite(r_hat):
        found.append("R-hat not computable")
    elif r_hat > R_HAT_TRUST:
        found.append(f"R-hat {r_hat:.3f} > {R_HAT_TRUST}")
    ess, floor = diagnostics.get("ess_bulk_min"), ESS_TRUST_PER_CHAIN * max(chains, 1)
    if ess is not None and np.isfinite(ess) and ess < floor:
        found.append(f"bulk ESS {ess:.0f} < {floor}")
    return found


def sampler_warnings(model: MixModel) -> list[str]:
    """Warnings about how the posterior was found (divergences, R-hat, ESS, MAP or Laplace), any kind;
    the first says "not to be trusted" when :func:`trust_problems` finds any."""
    d, out = model.diagnostics_, []
    problems = trust_problems(d, model.method, model.chains)
    if problems:
        out.append(
            f"NOT TO BE TRUSTED: the sampler did not converge cleanly ({'; '.join(problems)}); rerun with "
            "more --tune and --draws (or tighter priors) before acting on these numbers."
        )
    out += _retry_notes(getattr(model, "extras_", {}))
    if d["divergences"]:
        out.append(
            f"{d['divergences']} divergent transitions: the sampler could not explore part of the posterior;"
            " raise target_accept (e.g. 0.95), use more tuning draws or tighter priors."
        )
    if d["r_hat_max"] is not None and np.isfinite(d["r_hat_max"]) and d["r_hat_max"] > R_HAT_LIMIT:
        out.append(
            f"R-hat up to {d['r_hat_max']:.3f} (> {R_HAT_LIMIT}): chains disagree, the fit has not converged;"
            " run more tuning and draws before trusting the numbers."
        )
    if d["ess_bulk_min"] is not None and np.isfinite(d["ess_bulk_min"]) and d["ess_bulk_min"] < ESS_LIMIT:
        out.append(
            f"effective sample size down to {d['ess_bulk_min']:.0f} (< {ESS_LIMIT}): intervals are noisy;"
            " draw more samples."
        )
    if model.method == "laplace":
        out.append(
            "fitted by LAPLACE: intervals come from a Gaussian approximation at the posterior mode;"
            " use method='nuts' for the full posterior."
        )
    elif model.method == "map":
        out.append(
            "fitted by MAP: a single point estimate, intervals are empty; use method='nuts' for honest"
            " uncertainty."
        )
    return out


def _retry_notes(extras: dict[str, Any]) -> list[str]:
    """Say when NUTS ran twice: the first run diverged and the chains were run again with smaller steps."""
    first = extras.get("divergences_first_run")
    if first is None:
        return []
    return [
        f"the first NUTS run had {first} divergent transitions; the chains were run again with "
        f"target_accept {extras.get('target_accept', float('nan')):.2f} (smaller steps), which took longer."
    ]


def _identification_warnings(model: MMM) -> list[str]:
    data, out = model.data_, []
    spend = data.spend[: data.n_train]
    for i, c in enumerate(data.channels):
        mean = spend[:, i].mean()
        cv = spend[:, i].std() / mean if mean > 0 else 0.0
        active = (spend[:, i] > 0).mean()
        if cv < MIN_SPEND_CV or active < MIN_ACTIVE_SHARE:
            out.append(
                f"channel {c} has too little spend variation (coefficient of variation {cv:.2f}, spend in "
                f"{active:.0%} of periods) to tell its effect from the baseline; its ROI leans on the prior."
                " Vary its spend or calibrate it with a lift test."
            )
    return out


def _roi_warnings(model: MMM) -> list[str]:
    out = []
    for c, s in model.channel_summary_.items():
        lo, hi = s["roi"]["lower"], s["roi"]["upper"]
        if model.method != "map" and lo > 0 and hi / lo > ROI_SPAN:
            out.append(
                f"ROI of {c} is uncertain by more than an order of magnitude (90% interval {lo:.2f} to "
                f"{hi:.2f}); more data, more spend variation or a lift test would narrow it."
            )
    draws = model._draws
    if model.prior == "roi" and model.method != "map" and "roi" in draws:
        post_sd = np.log(draws["roi"]).std(axis=0)
        for i, c in enumerate(model.data_.channels):
            ratio = post_sd[i] / model.spec_.roi_sigma[i]
            if ratio > PRIOR_SHRINK:
                out.append(
                    f"the prior dominates the ROI of {c}: its posterior spread is {ratio:.0%} of the prior's,"
                    " so the data say little about this channel."
                )
    return out


def _fit_quality_warnings(model: MMM) -> list[str]:
    d, out = model.diagnostics_, []
    if d["r2"] < 0.5:
        out.append(
            f"in-sample R2 is only {d['r2']:.2f}: the model misses much of the KPI's variation;"
            " add controls or events."
        )
    if d["holdout_mape"] is not None and d["mape"] is not None and d["holdout_mape"] > 2 * d["mape"] + 0.05:
        out.append(
            f"holdout MAPE {d['holdout_mape']:.1%} is far above in-sample {d['mape']:.1%}: the model may"
            " over-fit or the last periods changed."
        )
    return out
