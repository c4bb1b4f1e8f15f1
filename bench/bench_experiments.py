"""Benchmark of trueroi.experiments: geo analysis time, design time, and coverage / bias by simulation.

Peer: pysyncon's AugSynth (a Python port of the R augsynth package that GeoLift runs; there is no
maintained Python GeoLift). pysyncon takes one treated unit and has no unit fixed effects, so it gets the
treated aggregate as one unit and series demeaned by their pre-test means (augsynth ``fixedeff = TRUE``).
It gives a point estimate only (no conformal intervals), so the timing ratio compares point estimates with
each package's own cross-validated penalty.

Run:  .venv/bin/python bench/bench_experiments.py            (full sizes of the issue)
      .venv/bin/python bench/bench_experiments.py --quick    (small sizes, a smoke run)
BLAS is pinned to one thread (set before numpy loads): on a shared 2-core VM multithreaded BLAS on these
small matrices is up to 100x slower.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from trueroi.experiments.design import power_analysis, select_markets  # noqa: E402
from trueroi.experiments.geo import analyze_panel, fit_counterfactual  # noqa: E402
from trueroi.experiments.panel import prepare_panel  # noqa: E402
from trueroi.experiments.simulate import simulate_geo_panel  # noqa: E402

COLS = {"location": "location", "date": "date", "kpi": "kpi"}


def _peer_att(sim, lam: float | None = None) -> tuple[float, float]:
    """pysyncon AugSynth on the treated aggregate (one unit) and demeaned series: (ATT, seconds)."""
    import pysyncon

    data = sim.data[~sim.data["location"].isin(sim.treated)]
    treated = sim.data[sim.data["location"].isin(sim.treated)].groupby("date", as_index=False)["kpi"].mean()
    data = pd.concat([data, treated.assign(location="TREATED")], ignore_index=True)
    pre = data["date"] < sim.start
    data["kpi"] = data["kpi"] - data["location"].map(data[pre].groupby("location")["kpi"].mean())
    data["t"] = (data["date"] - data["date"].min()).dt.days
    times = sorted(data["t"].unique())
    t0 = int(data.loc[~pre, "t"].min())
    controls = sorted(set(data["location"]) - {"TREATED"})
    start = time.perf_counter()
    prep = pysyncon.Dataprep(
        foo=data,
        predictors=[],
        predictors_op="mean",
        dependent="kpi",
        unit_variable="location",
        time_variable="t",
        treatment_identifier="TREATED",
        controls_identifier=controls,
        time_predictors_prior=[t for t in times if t < t0],
        time_optimize_ssr=[t for t in times if t < t0],
    )
    model = pysyncon.AugSynth()
    model.fit(prep, lambda_=lam, use_covariates=False)
    att = model.att(time_period=[t for t in times if t >= t0])["att"]
    return float(att), time.perf_counter() - start


def bench_geo(n_locations: int, n_days: int, peer: bool) -> list[str]:
    sim = simulate_geo_panel(
        n_locations=n_locations, n_periods=n_days, n_test=28, n_treated=10, effect=0.05, seed=1
    )
    lines = [
        f"### Geo analysis: {n_locations} locations x {n_days} days, 10 treated, 28-day test",
        "",
        f"| step | seconds | ATT (truth {sim.att:.3f}) | interval |",
        "|---|---:|---:|---|",
    ]
    t = time.perf_counter()
    panel = prepare_panel(sim.data, treated=sim.treated, start=sim.start, **COLS)
    lines.append(f"| check + pivot panel ({len(sim.data):,} rows) | {time.perf_counter() - t:.2f} | | |")
    t = time.perf_counter()
    est, cf = fit_counterfactual(panel, "augsynth")
    fit_s = time.perf_counter() - t
    ours_att = float(np.mean(panel.y[panel.n_pre :] - cf[panel.n_pre :]))
    lines.append(f"| augsynth point estimate (CV penalty) | {fit_s:.2f} | {ours_att:.3f} | |")
    for method in ("augsynth", "synth", "tbr"):
        t = time.perf_counter()
        r = analyze_panel(panel, method=method, spend=10_000.0)
        lines.append(
            f"| {method} full analysis ({r.inference} 90% CI) | {time.perf_counter() - t:.2f} | "
            f"{r.att.mean:.3f} | [{r.att.lower:.3f}, {r.att.upper:.3f}] |"
        )
    if peer:
        peer_att, peer_s = _peer_att(sim, est.lam_)
        lines.append(f"| pysyncon AugSynth, same penalty | {peer_s:.2f} | {peer_att:.3f} | (none) |")
        lines += [
            "",
            f"Peer ratio (pysyncon time / trueroi time, point estimate, same penalty): "
            f"{peer_s / fit_s:.1f}x; |ATT difference| = {abs(peer_att - ours_att):.2e}.",
        ]
    return lines


def bench_design(n_locations: int, n_days: int) -> list[str]:
    sim = simulate_geo_panel(
        n_locations=n_locations, n_periods=n_days, n_test=1, n_treated=1, noise=0.1, seed=2
    )
    treated = ["L001", "L002", "L003"]
    lines = [f"### Design: {n_locations} locations x {n_days} days of history", ""]
    t = time.perf_counter()
    power = power_analysis(
        sim.data, treated=treated, duration=21, effects=(0.0, 0.01, 0.02, 0.05, 0.1), n_windows=8, **COLS
    )
    lines.append(
        f"Power analysis (3 treated, 21-day test, 5 effects x 8 windows, augsynth + conformal): "
        f"{time.perf_counter() - t:.2f} s"
    )
    lines += ["", "| effect | power | mean estimated lift |", "|---:|---:|---:|"]
    lines += [f"| {r.effect:.0%} | {r.power:.0%} | {r.mean_lift:.2%} |" for r in power.itertuples()]
    t = time.perf_counter()
    markets = select_markets(
        sim.data, n_treated=[3, 5], duration=21, effect=0.02, n_candidates=20, n_windows=5, cpic=10.0, **COLS
    )
    lines += [
        "",
        f"Market selection (sizes 3 and 5, 20 candidates each, effect +2%, 21 days, 5 windows, "
        f"2 effects): {time.perf_counter() - t:.2f} s; best: {markets.iloc[0]['locations']} "
        f"(power {markets.iloc[0]['power']:.0%})",
    ]
    return lines


def bench_coverage(n_sims: int, peer_sims: int) -> list[str]:
    lines = [
        f"### Coverage and bias over {n_sims} simulated experiments",
        "",
        "30 locations x 100 days, 3 treated, 14-day test, +5% effect; null runs with no effect; "
        "90% intervals, alpha 0.10.",
        "",
        "| method | coverage | bias (ATT) | RMSE | bias / truth | false-positive rate | s per analysis |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    sims = [
        simulate_geo_panel(n_locations=30, n_periods=100, n_test=14, n_treated=3, effect=0.05, seed=s)
        for s in range(n_sims)
    ]
    nulls = [
        simulate_geo_panel(n_locations=30, n_periods=100, n_test=14, n_treated=3, seed=10_000 + s)
        for s in range(n_sims)
    ]
    for method in ("augsynth", "tbr", "synth"):
        t = time.perf_counter()
        hits, errors, rejections = 0, [], 0
        for sim, null in zip(sims, nulls, strict=True):
            r = analyze_panel(
                prepare_panel(sim.data, treated=sim.treated, start=sim.start, **COLS), method=method
            )
            hits += r.att.lower <= sim.att <= r.att.upper
            errors.append(r.att.mean - sim.att)
            r0 = analyze_panel(
                prepare_panel(null.data, treated=null.treated, start=null.start, **COLS), method=method
            )
            rejections += r0.p_value <= 0.10
        errors = np.asarray(errors)
        truth = float(np.mean([s.att for s in sims]))
        per = (time.perf_counter() - t) / (2 * n_sims)
        lines.append(
            f"| {method} | {hits / n_sims:.3f} | {errors.mean():+.3f} "
            f"(se {errors.std() / np.sqrt(n_sims):.3f})"
            f" | {np.sqrt(np.mean(errors**2)):.3f} | {errors.mean() / truth:+.2%} | {rejections / n_sims:.3f}"
            f" | {per:.3f} |"
        )
    if peer_sims:
        errors, seconds = [], 0.0
        for sim in sims[:peer_sims]:
            att, s = _peer_att(sim)
            errors.append(att - sim.att)
            seconds += s
        errors = np.asarray(errors)
        lines.append(
            f"| pysyncon AugSynth (point only, first {peer_sims}) | – | {errors.mean():+.3f} "
            f"(se {errors.std() / np.sqrt(len(errors)):.3f}) | {np.sqrt(np.mean(errors**2)):.3f} | – | – |"
            f" {seconds / peer_sims:.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--no-peer", action="store_true", help="skip pysyncon")
    args = parser.parse_args()
    geo_size = (40, 200) if args.quick else (200, 730)
    design_size = (20, 200) if args.quick else (50, 730)
    n_sims, peer_sims = (20, 3) if args.quick else (200, 10)
    peer = not args.no_peer
    if peer:
        try:
            import pysyncon  # noqa: F401
        except ImportError:
            peer = False
            print("pysyncon not installed: peer comparison skipped")
    warm = simulate_geo_panel(n_locations=10, n_periods=40, n_test=5, n_treated=1, seed=0)  # load scipy parts
    analyze_panel(prepare_panel(warm.data, treated=warm.treated, start=warm.start, **COLS))
    started = time.perf_counter()
    out = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, BLAS threads "
        f"{os.environ['OPENBLAS_NUM_THREADS']}",
        "",
    ]
    for block in (
        bench_geo(*geo_size, peer),
        bench_design(*design_size),
        bench_coverage(n_sims, peer_sims if peer else 0),
    ):
        out += block + [""]
        print("\n".join(block) + "\n", flush=True)
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
