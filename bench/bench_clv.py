"""Benchmark: BG/NBD + Gamma-Gamma fit time and peak memory, trueroi against lifetimes, in one run.

Each (tool, data set) pair runs in its own subprocess; its peak resident memory is reset (Linux
``clear_refs``) after the data are loaded, so ``VmHWM`` measures the fit alone. Data are simulated once
(seeded) and cached as ``.npz``. Data sets: CDNOW (2,357 customers shipped with lifetimes) and
customers simulated from the BG/NBD with the CDNOW estimates (r=0.243, alpha=4.414, a=0.793, b=2.426;
T uniform on 27-39 weeks) and Gamma-Gamma spend (p=6.25, q=3.74, v=15.44).

Usage::

    .venv/bin/python bench/bench_clv.py --sizes cdnow,1000000,10000000 --timeout 1800
    .venv/bin/python bench/bench_clv.py --sizes demo,constdrop5000,constdrop1000000   # where lifetimes fails

``demo`` is the demo shop (seed 3, scale 0.5); ``constdropN`` are N customers simulated with a constant
dropout probability (r=0.4, alpha=8, p=0.6: the BG/NBD limit a, b -> inf), where the maximum likelihood lies
at infinity and lifetimes stops with a ConvergenceError.

``--peer-python`` runs lifetimes from another interpreter (e.g. a separate venv) when it does not import
in the project's one. BLAS is pinned to one thread for both tools (shared cores; see the results file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CDNOW_PARAMS = (0.243, 4.414, 0.793, 2.426)
SPEND_PARAMS = (6.25, 3.74, 15.44)


CONSTANT_DROPOUT = (0.4, 8.0, 0.6)  # r, alpha, p: every customer drops out with p = 0.6 after a purchase


def _dataset(size: str, cache: Path) -> Path:
    path = cache / f"clv_{size}.npz"
    if path.exists():
        return path
    if size == "demo":
        return _demo(path)
    if size.startswith("constdrop"):
        from trueroi.clv.simulate import simulate_beta_geo, simulate_gamma_gamma

        n = int(size.removeprefix("constdrop"))
        r, alpha, p = CONSTANT_DROPOUT
        rng = np.random.default_rng(2005)
        sim = simulate_beta_geo(
            (r, alpha, p * 1e12, (1 - p) * 1e12), n, T=rng.uniform(27.0, 39.0, n), seed=rng
        )
        spend = simulate_gamma_gamma(SPEND_PARAMS, sim["frequency"].to_numpy(), seed=rng)
        np.savez(
            path,
            frequency=sim["frequency"].to_numpy(float),
            recency=sim["recency"].to_numpy(),
            T=sim["T"].to_numpy(),
            monetary=np.nan_to_num(spend),
        )
        return path
    if size == "cdnow":
        import importlib.util

        import pandas as pd

        spec = importlib.util.find_spec("lifetimes")
        folder = Path(spec.submodule_search_locations[0]) / "datasets"
        d = pd.read_csv(folder / "cdnow_customers_summary_with_transactions.csv")
        np.savez(
            path,
            frequency=d["x"].to_numpy(float),
            recency=d["t_x"].to_numpy(float),
            T=d["T"].to_numpy(float),
            monetary=d["zbar"].to_numpy(float),
        )
        return path
    from trueroi.clv.simulate import simulate_beta_geo, simulate_gamma_gamma

    n = int(size)
    rng = np.random.default_rng(2005)
    sim = simulate_beta_geo(CDNOW_PARAMS, n, T=rng.uniform(27.0, 39.0, n), seed=rng)
    spend = simulate_gamma_gamma(SPEND_PARAMS, sim["frequency"].to_numpy(), seed=rng)
    np.savez(
        path,
        frequency=sim["frequency"].to_numpy(float),
        recency=sim["recency"].to_numpy(),
        T=sim["T"].to_numpy(),
        monetary=np.nan_to_num(spend),
    )
    return path


def _demo(path: Path) -> Path:
    """The demo shop (seed 3, scale 0.5, about 30,000 customers): RFM on margin, as ``kpis --value clv``."""
    import pandas as pd

    from trueroi.clv.data import rfm_summary
    from trueroi.clv.roi import order_margins
    from trueroi.demo import demo_config, generate, load_into
    from trueroi.workspace import Workspace

    root = Path(tempfile.mkdtemp(prefix="trueroi_demo_"))
    ws = Workspace.init(root / "ws", demo_config())
    load_into(ws, generate(root / "data", seed=3, scale=0.5))
    tx = order_margins(ws)
    end = pd.Timestamp(pd.to_datetime(tx["date_day"]).max()) + pd.Timedelta(days=1)
    d = rfm_summary(tx, date_col="date_day", amount_col="margin", observation_end=end)
    np.savez(
        path,
        frequency=d["frequency"].to_numpy(float),
        recency=d["recency"].to_numpy(float),
        T=d["T"].to_numpy(float),
        monetary=d["monetary_value"].clip(lower=0).to_numpy(float),
    )
    return path


def _worker(tool: str, path: str) -> None:
    """Fit BG/NBD then Gamma-Gamma on the repeat buyers; print one JSON line."""
    import warnings

    warnings.simplefilter("ignore")
    data = np.load(path)
    f, r, T, m = data["frequency"], data["recency"], data["T"], data["monetary"]
    repeat = (f > 0) & (m > 0)
    import scipy.optimize  # noqa: F401 - imported before the clock for both tools

    if tool == "trueroi":
        from trueroi.clv import BetaGeoFitter, GammaGammaFitter
    else:
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    if tool == "lifetimes":  # lifetimes takes pandas Series
        import pandas as pd

        f, r, T, m = (pd.Series(v) for v in (f, r, T, m))
        repeat = pd.Series(repeat)
    base = _reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    bg = BetaGeoFitter().fit(f, r, T)
    t_bg = time.perf_counter() - wall
    gg = GammaGammaFitter().fit(f[repeat], m[repeat])
    extra = {}
    if tool == "trueroi":
        params = {**bg.params_, **gg.params_}
        extra = {
            "log_likelihood": bg.log_likelihood_,
            "boundary": bg.diagnostics_["boundary"],
            "reduced_params": getattr(bg, "reduced_params_", None),
        }
    else:
        params = {**bg.params_.to_dict(), **gg.params_.to_dict()}
    out = {
        "tool": tool,
        "n": int(len(f)),
        "wall_s": time.perf_counter() - wall,
        "bgnbd_wall_s": t_bg,
        "cpu_s": time.process_time() - cpu,
        "peak_rss_mb": _status_mb("VmHWM"),
        "rss_before_fit_mb": base,
        "params": params,
        **extra,
    }
    print(json.dumps(out))


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> float:
    """Reset the peak-RSS mark (Linux clear_refs 5) so it measures the fit, not data loading; current RSS."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _run(tool: str, path: Path, python: str, timeout: float) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [python, __file__, "--worker", tool, str(path)]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "status": f"did not finish within {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        return {"tool": tool, "status": f"failed after {time.perf_counter() - start:.0f} s: {tail[0][:200]}"}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "status": "ok"}


def _loglik(path: Path, params: dict) -> float:
    """BG/NBD log-likelihood at a tool's estimates, evaluated the same way for both tools."""
    from trueroi.clv.likelihoods import RFMData, beta_geo_loglik

    values = [params[k] for k in ("r", "alpha", "a", "b")]
    if not np.all(np.isfinite(values)):  # a fit in a no-heterogeneity limit reports its own maximum
        return float("nan")
    data = np.load(path)
    rfm = RFMData.from_arrays(data["frequency"], data["recency"], data["T"])
    return beta_geo_loglik(values, rfm)[0]


def _added(row: dict) -> float:
    """Peak resident memory of the fit above the resident memory just before it (MB)."""
    return row["peak_rss_mb"] - row["rss_before_fit_mb"]


def _fmt(row: dict) -> str:
    if row["status"] != "ok":
        return row["status"]
    p = row["params"]
    limit = ""
    if row.get("boundary"):
        reduced = ", ".join(f"{k}={v:.3f}" for k, v in row["reduced_params"].items())
        limit = f" [limit {'+'.join(row['boundary'])}: {reduced}; log-likelihood {row['log_likelihood']:.1f}]"
    return (
        f"{row['wall_s']:.2f} s wall ({row['bgnbd_wall_s']:.2f} s BG/NBD), {row['cpu_s']:.2f} s CPU, "
        f"peak RSS {row['peak_rss_mb']:.0f} MB = {row['rss_before_fit_mb']:.0f} MB before the fit "
        f"+ {_added(row):.0f} MB added by it; "
        f"r={p['r']:.3f} alpha={p['alpha']:.3f} a={p['a']:.3f} b={p['b']:.3f} "
        f"p={p['p']:.2f} q={p['q']:.2f} v={p['v']:.2f}{limit}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="cdnow,1000000,10000000")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds per fit before giving up.")
    parser.add_argument("--peer-python", default=sys.executable, help="Interpreter that imports lifetimes.")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "trueroi_bench_clv"))
    parser.add_argument("--json", help="Also write the raw results here.")
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"# {platform.node()} {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    results = []
    for size in args.sizes.split(","):
        path = _dataset(size, cache)
        ours = _run("trueroi", path, sys.executable, args.timeout)
        peer = _run("lifetimes", path, args.peer_python, args.timeout)
        for row in (ours, peer):
            if row["status"] == "ok":
                row["bgnbd_ll"] = row.get("log_likelihood") or _loglik(path, row["params"])
        results.append({"size": size, "trueroi": ours, "lifetimes": peer})
        print(f"\n## {size}\ntrueroi:   {_fmt(ours)}\nlifetimes: {_fmt(peer)}")
        if ours["status"] == "ok" and peer["status"] == "ok":
            print(
                f"speed-up (wall): {peer['wall_s'] / ours['wall_s']:.1f}x; "
                f"CPU time: {peer['cpu_s'] / ours['cpu_s']:.1f}x; "
                f"memory added by the fit: {_added(peer) / max(_added(ours), 1.0):.1f}x; "
                f"BG/NBD log-likelihood trueroi {ours['bgnbd_ll']:.1f} vs lifetimes {peer['bgnbd_ll']:.1f}"
            )
        sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], sys.argv[3])
    else:
        main()
