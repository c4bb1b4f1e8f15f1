"""Benchmark: sampler health of the national mix model with default settings on simulations with known truth.

For each seed, :func:`trueroi.mmm.simulate.simulate` (156 weeks, 5 channels by default) is fitted by
``MMM()`` with its defaults (NUTS, 4 chains x 1000 draws after 1000 warm-up, target_accept 0.9) and one
JSON line is printed: divergences (final, and of the first run when the model ran the chains again),
the target acceptance used, largest R-hat, smallest bulk ESS, leapfrog steps per draw (work per draw,
independent of the machine's load), fit seconds (the first seed's include compilation) and the ROAS error
and 90% coverage against the true ROI.

Run it on two checkouts to compare before and after (the script only reads keys both have):

    PYTHONPATH=src .venv/bin/python bench/bench_sampler.py --seeds 0,1,2,3 --channels 5
    PYTHONPATH=/tmp/before/src .venv/bin/python bench/bench_sampler.py --seeds 0,1,2,3 --channels 5
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def fit_one(seed: int, n_channels: int, weeks: int, target_accept: float | None) -> dict:
    """Fit one simulation with the default settings (or ``target_accept``) and score it."""
    from trueroi.mmm import MMM
    from trueroi.mmm.simulate import simulate

    sim = simulate(seed=seed, n_periods=weeks, rois=(2.5, 1.2, 0.6, 3.0, 1.8)[:n_channels])
    settings = {"seed": seed} if target_accept is None else {"seed": seed, "target_accept": target_accept}
    model = MMM(**settings)
    start = time.perf_counter()
    model.fit(sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls)
    seconds = time.perf_counter() - start
    roas = {c: s["roas"] for c, s in model.summary()["channels"].items()}
    truth = sim.roi
    d, extras = model.diagnostics_, model.extras_
    return {
        "seed": seed,
        "channels": n_channels,
        "divergences": d["divergences"],
        "divergences_first_run": extras.get("divergences_first_run", d["divergences"]),
        "target_accept": extras.get("target_accept", model.target_accept),
        "r_hat_max": round(float(d["r_hat_max"]), 4),
        "ess_bulk_min": round(float(d["ess_bulk_min"]), 1),
        "tree_steps_per_draw": round(float(extras["mean_tree_steps"]), 1),
        "fit_seconds": round(seconds, 1),
        "roas_error": round(float(np.mean([abs(roas[c]["mean"] - t) / t for c, t in truth.items()])), 4),
        "roas_coverage_90": float(
            np.mean([roas[c]["lower"] <= t <= roas[c]["upper"] for c, t in truth.items()])
        ),
        "warnings": [w[:60] for w in model.warnings_ if "NUTS" in w or "TRUSTED" in w or "divergent" in w],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--target-accept", type=float, default=None, help="default: the model's")
    args = parser.parse_args()
    from trueroi.mmm.nuts import use_cpu_cores

    use_cpu_cores()
    import trueroi

    print(json.dumps({"trueroi": trueroi.__file__, "machine": platform.platform()}), flush=True)
    for seed in (int(s) for s in args.seeds.split(",")):
        print(json.dumps(fit_one(seed, args.channels, args.weeks, args.target_accept)), flush=True)


if __name__ == "__main__":
    main()
