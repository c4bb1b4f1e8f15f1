"""Benchmark: long-term ROI (issue 22, item 3) against simulations with known truth.

Part A, the mix model's cumulative ROI curve (:func:`trueroi.mmm.longterm.cumulative_roi`): weekly series
from :func:`trueroi.mmm.simulate.simulate` with known ROIs and geometric carry-over, two of them slow
(alpha 0.85 and 0.9, so less than half of their return arrives in the first month), fitted with
``l_max`` = 26 weeks. The true curve is ``margin x ROI x (1 - alpha^k) / (1 - alpha^L) - 1`` (k periods,
pro rata within a period, as the library computes it). Reported per horizon: mean absolute error of the
posterior mean, coverage of the 90% interval over channels and seeds; the error of the share of the return
realised in month 1 (the carry-over shape alone, without the ROI's error), and how often the payback month
and the "lagged" label match the truth.

Part B, content (:func:`trueroi.metrics.content.piece_curve`): pieces whose monthly orders are Poisson with
a geometric decay ``r`` (after a ramp-up of 0 to 2 months), margins per order log-normal; 12 months are
observed and 36 shown. Reported: error of the fitted decay, relative error of the projected 36-month
cumulative margin against its expected value, how often the 90% bootstrap band of the 36-month cumulative
ROI covers the realised observed months plus the expected months to come, and the payback month against
the expected curve's.

    PYTHONPATH=src .venv/bin/python bench/bench_longterm.py --seeds 10 --method nuts --pieces 300
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

MARGIN = 0.5
HORIZONS = (1, 3, 6, 12)
ALPHAS = (0.3, 0.6, 0.85, 0.9)
ROIS = (2.5, 1.2, 3.0, 1.8)
L_MAX = 26


def true_share(alpha: float, k: float, n_lags: int = L_MAX) -> float:
    """Geometric carry-over share within k periods, written out (pro rata within a period)."""
    if k >= n_lags:
        return 1.0
    whole, frac = int(np.floor(k)), k - np.floor(k)
    return ((1 - alpha**whole) + frac * alpha**whole * (1 - alpha)) / (1 - alpha**n_lags)


def mix_model(seeds: int, method: str, draws: int, tune: int, chains: int) -> dict:
    from trueroi.mmm import MMM, use_cpu_cores
    from trueroi.mmm.longterm import cumulative_roi, payback_month
    from trueroi.mmm.simulate import simulate

    if method == "nuts":
        use_cpu_cores()
    per_month = 365.25 / 12 / 7
    err = {m: [] for m in HORIZONS}
    cover = {m: [] for m in HORIZONS}
    payback_ok, lagged_ok, divergences, seconds, share_err = [], [], [], [], []
    shares: dict[float, list[float]] = {a: [] for a in ALPHAS}
    for seed in range(seeds):
        sim = simulate(seed=seed, n_periods=156, rois=ROIS, alphas=ALPHAS, l_max=L_MAX, noise=0.03)
        model = MMM(
            method=method, draws=draws, tune=tune, chains=chains, seed=seed, l_max=L_MAX, margin_rate=MARGIN
        )
        start = time.perf_counter()
        model.fit(sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls)
        seconds.append(time.perf_counter() - start)
        divergences.append(int(model.diagnostics_.get("divergences") or 0))
        result = cumulative_roi(model, months=HORIZONS)
        for i, c in enumerate(sim.channels):
            truth = [MARGIN * sim.roi[c] * true_share(ALPHAS[i], m * per_month) - 1 for m in HORIZONS]
            band = result.channels[c]["cumulative_roi"]
            for j, m in enumerate(HORIZONS):
                err[m].append(abs(band["mean"][j] - truth[j]))
                cover[m].append(band["lower"][j] <= truth[j] <= band["upper"][j])
            shares[ALPHAS[i]].append(result.channels[c]["share_realised"][0])
            share_err.append(abs(shares[ALPHAS[i]][-1] - true_share(ALPHAS[i], per_month)))
            payback_ok.append(result.channels[c]["payback_month"] == payback_month(HORIZONS, truth, "margin"))
            lagged_ok.append((c in result.lagged_channels()) == (true_share(ALPHAS[i], per_month) < 0.5))
    return {
        "seeds": seeds,
        "method": method,
        "channels_x_seeds": len(payback_ok),
        "mae_by_month": {m: float(np.mean(v)) for m, v in err.items()},
        "coverage_90_by_month": {m: float(np.mean(v)) for m, v in cover.items()},
        "share_in_month_1_mae": float(np.mean(share_err)),
        "share_in_month_1_by_alpha": {
            a: {"true": true_share(a, per_month), "estimated_mean": float(np.mean(v))}
            for a, v in shares.items()
        },
        "payback_month_match": float(np.mean(payback_ok)),
        "lagged_label_match": float(np.mean(lagged_ok)),
        "divergences_mean": float(np.mean(divergences)),
        "fit_seconds_median": float(np.median(seconds)),
    }


def content(pieces: int, seed: int) -> dict:
    from trueroi.metrics.content import DAYS_PER_MONTH, piece_curve

    rng = np.random.default_rng(seed)
    live, observed, horizon = date(2024, 1, 1), 12, 36
    end = live + timedelta(days=int(np.ceil(observed * DAYS_PER_MONTH)))
    rate_err, cum_err, payback_diff, covered = [], [], [], []
    for _ in range(pieces):
        r, ramp = rng.uniform(0.75, 0.95), int(rng.integers(0, 3))
        first, margin_per_order = rng.uniform(40, 150), rng.uniform(20, 60)
        months = np.arange(1, horizon + 1)
        peak = ramp + 1
        expected_orders = np.where(months < peak, first * (months / peak), first * r ** (months - peak))
        expected_margin = expected_orders * margin_per_order
        cost = float(expected_margin.sum() * rng.uniform(0.3, 0.9))
        days, margins, orders = [], [], []
        for k in range(1, observed + 1):
            n = rng.poisson(expected_orders[k - 1])
            day = live + timedelta(days=int(np.floor((k - 1) * DAYS_PER_MONTH)) + 10)
            days.append(day)
            orders.append(n)
            margins.append(float(rng.lognormal(np.log(margin_per_order), 0.3, n).sum()))
        daily = pd.DataFrame({"date_day": days, "sessions": orders, "orders": orders, "margin": margins})
        piece = piece_curve("p", cost, live, end, daily, horizon)
        if piece["decay_per_month"] is None:
            continue
        rate_err.append(abs(piece["decay_per_month"] - r))
        true_cum = expected_margin.cumsum()
        cum_err.append(abs(piece["cumulative_margin"][-1] - true_cum[-1]) / true_cum[-1])
        # the band's claim: the realised observed months plus the expected months to come
        truth_roi = (sum(margins) + expected_margin[observed:].sum() - cost) / cost
        covered.append(piece["cumulative_roi_lower"][-1] <= truth_roi <= piece["cumulative_roi_upper"][-1])
        true_payback = next((int(m) for m, v in zip(months, true_cum, strict=True) if v >= cost), None)
        if piece["payback_month"] is not None and true_payback is not None:
            payback_diff.append(abs(piece["payback_month"] - true_payback))
    return {
        "pieces": pieces,
        "fitted": len(rate_err),
        "decay_mae": float(np.mean(rate_err)),
        "cum_margin_36m_rel_err_median": float(np.median(cum_err)),
        "cum_margin_36m_rel_err_p90": float(np.quantile(cum_err, 0.9)),
        "roi_36m_band_90_coverage": float(np.mean(covered)),
        "payback_abs_diff_months_mean": float(np.mean(payback_diff)),
        "payback_exact_share": float(np.mean(np.asarray(payback_diff) == 0)),
        "payback_within_1_month_share": float(np.mean(np.asarray(payback_diff) <= 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--method", default="nuts")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--pieces", type=int, default=300)
    parser.add_argument("--skip-mmm", action="store_true")
    args = parser.parse_args()
    out = {"content": content(args.pieces, seed=0)}
    print(json.dumps(out, indent=2), flush=True)
    if not args.skip_mmm:
        out["mix_model"] = mix_model(args.seeds, args.method, args.draws, args.tune, args.chains)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
