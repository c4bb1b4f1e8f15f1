"""Benchmark: trueroi's MMM against PyMC-Marketing on the same simulated data, in one run.

Both fit geometric adstock + logistic saturation with yearly Fourier seasonality and the controls, with the
same chains, draws and warm-up; both are scored against the simulator's known ROIs (mean relative ROI error
of the posterior mean, and the share of channels whose true ROI lies in the 90% interval).

trueroi's NUTS fit is run twice in the same process: the first includes tracing and XLA compilation (into
an empty JAX compilation cache, so it is a cold start), the second reuses the compiled program (sampling
only). Chains run in parallel on the CPU cores (``use_cpu_cores``, ``chain_method="auto"``). For both tools
the clock starts after their engine is imported (JAX and NumPyro; PyMC and PyTensor) and covers ``fit``.

``--geo`` runs the hierarchical geo model instead (default 50 geos x 156 weeks x 10 channels) and reports
fit time, peak memory (max RSS of the process) and per-geo and national ROI error and coverage:

    .venv/bin/python bench/bench_mmm.py --geo --geos 50 --weeks 156 --geo-channels 10 \
        --chains 4 --draws 1000 --tune 1000

PyMC-Marketing runs in its own virtual environment (it pins other versions than trueroi), called as a
subprocess of this script with ``--peer``:

    python3 -m venv /work/peers-venv && /work/peers-venv/bin/pip install pymc-marketing
    .venv/bin/python bench/bench_mmm.py --weeks 156 --chains 4 --draws 1000 --tune 1000 \
        --peer-python /work/peers-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _score(rois: dict[str, dict[str, float]], truth: dict[str, float]) -> tuple[float, float]:
    err = float(np.mean([abs(rois[c]["mean"] - t) / t for c, t in truth.items()]))
    cover = float(np.mean([rois[c]["lower"] <= t <= rois[c]["upper"] for c, t in truth.items()]))
    return err, cover


def run_trueroi(
    csv: Path, channels: list[str], controls: list[str], args: argparse.Namespace, method: str
) -> dict:
    import pandas as pd

    from trueroi.mmm import MMM

    df = pd.read_csv(csv)
    # the engine is imported before the clock starts, as PyMC-Marketing's (PyMC, PyTensor) is for the peer
    start = time.perf_counter()
    import numpyro.infer.hmc  # noqa: F401  (imports JAX)

    engine_import = time.perf_counter() - start
    model = MMM(
        adstock="geometric",
        saturation="logistic",
        l_max=8,
        method=method,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        chain_method=args.chain_method,
        seed=args.seed,
    )
    print(f"trueroi {method}: {_load()}", flush=True)
    start = time.perf_counter()
    model.fit(df, date="week", target="revenue", channels=channels, controls=controls)
    total = time.perf_counter() - start
    rois = {c: s["roas"] for c, s in model.summary()["channels"].items()}  # the simulator's roi is a ROAS
    d = model.diagnostics_
    out = {"seconds": total, "rois": rois, "r_hat_max": d["r_hat_max"], "divergences": d["divergences"]}
    out["engine_import"] = engine_import
    out["extras"] = {k: v for k, v in model.extras_.items() if k != "map_loss"}
    if method == "nuts":  # same fit again: the compiled sampler is reused (sampling time only)
        print(f"trueroi nuts, second fit: {_load()}", flush=True)
        start = time.perf_counter()
        model.fit(df, date="week", target="revenue", channels=channels, controls=controls)
        out["seconds_compiled"] = time.perf_counter() - start
    again = f", second fit {out['seconds_compiled']:.1f} s" if "seconds_compiled" in out else ""
    print(f"  done: {out['seconds']:.1f} s{again}, {out['extras']}; {_load()}", flush=True)
    return out


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def run_peer(csv: Path, channels: list[str], controls: list[str], args: argparse.Namespace) -> dict:
    """PyMC-Marketing's MMM (geometric adstock, logistic saturation, default sampler); runs in its venv."""
    import pandas as pd
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    df = pd.read_csv(csv, parse_dates=["week"])
    mmm = MMM(
        date_column="week",
        channel_columns=channels,
        control_columns=controls,
        adstock=GeometricAdstock(l_max=8),
        saturation=LogisticSaturation(),
        yearly_seasonality=2,
    )
    x, y = df.drop(columns="revenue"), df["revenue"]
    start = time.perf_counter()
    mmm.fit(
        x, y, chains=args.chains, draws=args.draws, tune=args.tune, random_seed=args.seed, progressbar=False
    )
    total = time.perf_counter() - start
    contrib = mmm.compute_channel_contribution_original_scale()  # (chain, draw, date, channel)
    per_channel = contrib.sum("date").stack(sample=("chain", "draw")).transpose("sample", "channel").values
    spend = df[channels].sum().to_numpy()
    roi = per_channel / spend
    rois = {
        c: {
            "mean": float(roi[:, i].mean()),
            "lower": float(np.quantile(roi[:, i], 0.05)),
            "upper": float(np.quantile(roi[:, i], 0.95)),
        }
        for i, c in enumerate(channels)
    }
    divergences = int(mmm.idata.sample_stats["diverging"].sum())
    return {"seconds": total, "rois": rois, "divergences": divergences}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peer-python", default="/work/peers-venv/bin/python")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument(
        "--peer-cold",
        action="store_true",
        help="PyTensor compiles into a new, empty directory (PyMC-Marketing from a cold start, as trueroi "
        "first fit here); by default it reuses its compiled code from earlier runs",
    )
    parser.add_argument("--chain-method", default="auto")
    parser.add_argument("--geo", action="store_true", help="benchmark the hierarchical geo model")
    parser.add_argument("--geos", type=int, default=50)
    parser.add_argument("--geo-channels", type=int, default=10)
    parser.add_argument("--peer", nargs=2, metavar=("CSV", "OUT_JSON"), help=argparse.SUPPRESS)
    parser.add_argument("--channels", default="", help=argparse.SUPPRESS)
    parser.add_argument("--controls", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:  # inside the peer's venv
        out = run_peer(Path(args.peer[0]), args.channels.split(","), args.controls.split(","), args)
        Path(args.peer[1]).write_text(json.dumps(out))
        return
    if args.chain_method in ("auto", "parallel"):  # chains on the cores: before JAX starts
        from trueroi.mmm.nuts import use_cpu_cores

        use_cpu_cores(min(args.chains, os.cpu_count() or 1))
    os.environ.setdefault("TRUEROI_JAX_CACHE", tempfile.mkdtemp(prefix="bench_mmm_jax_"))  # cold start
    if args.geo:
        run_geo(args)
        return

    from trueroi.mmm.simulate import simulate

    sim = simulate(seed=args.seed, n_periods=args.weeks)
    tmp = Path(tempfile.mkdtemp(prefix="bench_mmm_"))
    csv = tmp / "weekly.csv"
    sim.df.to_csv(csv, index=False)
    print(
        f"data: {args.weeks} weeks, {len(sim.channels)} channels, {len(sim.controls)} controls; "
        f"{args.chains} chains x {args.draws} draws after {args.tune} warm-up; seed {args.seed}",
        flush=True,
    )
    results = {"trueroi (NUTS)": run_trueroi(csv, sim.channels, sim.controls, args, "nuts")}
    print("trueroi NUTS done", flush=True)
    results["trueroi (Laplace)"] = run_trueroi(csv, sim.channels, sim.controls, args, "laplace")
    if not args.skip_peer:
        out = tmp / "peer.json"
        cmd = [
            args.peer_python,
            __file__,
            "--peer",
            str(csv),
            str(out),
            "--chains",
            str(args.chains),
            "--draws",
            str(args.draws),
            "--tune",
            str(args.tune),
            "--seed",
            str(args.seed),
            "--channels",
            ",".join(sim.channels),
            "--controls",
            ",".join(sim.controls),
        ]
        env = dict(os.environ)
        if args.peer_cold:
            env["PYTENSOR_FLAGS"] = f"base_compiledir={tempfile.mkdtemp(prefix='bench_mmm_pytensor_')}"
        print(
            f"PyMC-Marketing ({'cold' if args.peer_cold else 'compiled code on disk'}): {_load()}", flush=True
        )
        subprocess.run(cmd, check=True, env=env)
        print(f"  done; {_load()}", flush=True)
        results["PyMC-Marketing"] = json.loads(out.read_text())
    print("\n| tool | fit seconds | mean rel. ROI error | 90% coverage | divergences |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        err, cover = _score(r["rois"], sim.roi)
        print(f"| {name} | {r['seconds']:.1f} | {err:.1%} | {cover:.0%} | {r.get('divergences', '')} |")
    nuts = results["trueroi (NUTS)"]
    print(f"\ntrueroi NUTS second fit in the same process (compiled): {nuts['seconds_compiled']:.1f} s")
    print(f"trueroi's engine import (JAX, NumPyro; not in fit seconds): {nuts['engine_import']:.1f} s")
    print("\nROI per channel (truth; mean [5%, 95%]):")
    for c in sim.channels:
        cells = "; ".join(
            f"{n}: {r['rois'][c]['mean']:.2f} [{r['rois'][c]['lower']:.2f}, {r['rois'][c]['upper']:.2f}]"
            for n, r in results.items()
        )
        print(f"- {c} (true {sim.roi[c]:.2f}): {cells}")
    if "PyMC-Marketing" in results:
        peer = results["PyMC-Marketing"]["seconds"]
        print(
            f"\nspeed-up of trueroi NUTS over PyMC-Marketing: {peer / nuts['seconds']:.1f}x cold "
            f"(compilation included), {peer / nuts['seconds_compiled']:.1f}x compiled"
        )
    sys.stdout.flush()


def run_geo(args: argparse.Namespace) -> None:
    """The hierarchical geo model on a simulated panel: time, peak memory, ROI error and coverage."""
    from trueroi.mmm.geo import GeoMMM
    from trueroi.mmm.simulate import simulate_geo

    sim = simulate_geo(
        seed=args.seed, n_geos=args.geos, n_periods=args.weeks, n_channels=args.geo_channels, n_controls=2
    )
    print(
        f"geo data: {args.geos} geos x {args.weeks} weeks x {args.geo_channels} channels, 2 controls; "
        f"{args.chains} chains x {args.draws} draws after {args.tune} warm-up; seed {args.seed}; {_load()}",
        flush=True,
    )
    model = GeoMMM(
        saturation="logistic",
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        chain_method=args.chain_method,
        seed=args.seed,
    )
    start = time.perf_counter()
    model.fit(sim.df, date="week", geo="geo", target="revenue", channels=sim.channels, controls=sim.controls)
    seconds = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    s = model.summary()
    geo_rois = {f"{g}/{c}": s["geos"][g]["channels"][c]["roi"] for g in sim.geos for c in sim.channels}
    truth = {f"{g}/{c}": sim.roi[g][c] for g in sim.geos for c in sim.channels}
    geo_err, geo_cover = _score(geo_rois, truth)
    nat_err, nat_cover = _score({c: v["roi"] for c, v in s["channels"].items()}, sim.national_roi)
    d = s["diagnostics"]
    print(f"done; {_load()}")
    print(
        "\n| seconds (all) | NUTS seconds (with compile) | peak memory | geo ROI error | "
        "geo 90% coverage | national ROI error | national coverage | R-hat max | divergences | steps/draw |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {seconds:.1f} | {model.fit_seconds_:.1f} | {peak_gib:.2f} GiB | {geo_err:.1%} | {geo_cover:.0%} "
        f"| {nat_err:.1%} | {nat_cover:.0%} | {d['r_hat_max']:.3f} | {d['divergences']} "
        f"| {model.extras_['mean_tree_steps']:.0f} |"
    )


if __name__ == "__main__":
    main()
