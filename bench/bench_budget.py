"""Benchmark of the budget optimizer (trueroi.budget) against PyMC-Marketing's BudgetOptimizer.

Three parts, all on Hill response curves over posterior draws:

1. time: optimisation time for 10, 30 and 100 channels x 1,000 draws; trueroi (analytic marginals and
   bare-protocol finite differences), scipy SLSQP on the same numpy objective, and PyMC-Marketing's
   BudgetOptimizer (SLSQP on a compiled PyTensor graph; build+compile time reported apart). Both plans are
   valued on the same draws, so "value ratio" says which optimum is higher.
2. regret (known truth): posteriors drawn around known true curves (25% draw noise, a 0/5/10% bias of the
   posterior centre); each optimizer plans on the posterior; regret under the truth =
   (true optimum - plan's true value) / (true optimum - current's true value).
3. mmm (optional, ``--mmm``): simulate data with trueroi.mmm.simulate, fit trueroi's mix model, plan with
   both optimizers on its posterior curves, report regret under the simulation's true curves.

PyMC-Marketing runs in its own virtual environment (``--peer-python``, default /work/peers-venv/bin/python),
in a subprocess, so it never enters trueroi's environment.

Usage::

    .venv/bin/python bench/bench_budget.py                      # all sizes, 1,000 draws, with the peer
    .venv/bin/python bench/bench_budget.py --sizes 10 --seeds 3 --no-peer   # quick
    .venv/bin/python bench/bench_budget.py --mmm                # also the end-to-end mix-model regret
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from trueroi.budget import ParametricCurves, optimize_budget
from trueroi.budget.evaluate import Objective, draw_values
from trueroi.budget.optimizer import plan_regret

PEER_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
import arviz as az
import pymc as pm
import pymc.dims as pmd
from pymc_marketing.mmm.budget_optimizer import BudgetOptimizer, CustomModelWrapper

out = []
for path in sys.argv[1:]:
    d = np.load(path)
    beta, k, s, total = d["beta"], d["k"], d["s"], float(d["total"])
    n_draws, n_ch = beta.shape
    names = [f"c{i}" for i in range(n_ch)]
    t0 = time.perf_counter()
    with pm.Model(coords={"date": np.arange(1), "channel": names}) as model:
        x = pmd.Data("channel_data", np.zeros((1, n_ch)), dims=("date", "channel"))
        b = pmd.HalfNormal("beta", 1.0, dims="channel")
        kk = pmd.HalfNormal("k", 1.0, dims="channel")
        ss = pmd.HalfNormal("s", 1.0, dims="channel")
        xs = pmd.math.maximum(x, 1e-9)
        resp = b / (1.0 + (kk / xs) ** ss)
        pmd.Deterministic("total_contribution", resp.sum())
    idata = az.from_dict(posterior={"beta": beta[None], "k": k[None], "s": s[None]},
                         coords={"channel": names},
                         dims={"beta": ["channel"], "k": ["channel"], "s": ["channel"]})
    wrapper = CustomModelWrapper(base_model=model, idata=idata, channels=names)
    opt = BudgetOptimizer(model=wrapper, num_periods=1, response_variable="total_contribution")
    t1 = time.perf_counter()
    bounds = {c: (0.0, total) for c in names}
    alloc, res = opt.allocate_budget(total, budget_bounds=bounds, return_if_fail=True)
    t2 = time.perf_counter()
    out.append({"allocation": np.asarray(alloc.values, dtype=float).tolist(), "build_s": t1 - t0,
                "allocate_s": t2 - t1, "success": bool(res.success), "nit": int(res.nit),
                "message": str(res.message)})
print(json.dumps(out))
"""


def random_curves(n_ch: int, n_draws: int, seed: int) -> ParametricCurves:
    """Concave Hill curves (shapes 0.5-1) with parameter uncertainty across draws."""
    rng = np.random.default_rng(seed)
    current = rng.uniform(1_000, 10_000, n_ch)
    beta = rng.uniform(0.5, 3.0, n_ch) * current * np.exp(rng.normal(0, 0.2, (n_draws, n_ch)))
    k = rng.uniform(0.5, 2.0, n_ch) * current * np.exp(rng.normal(0, 0.2, (n_draws, n_ch)))
    s = np.clip(rng.uniform(0.5, 1.0, n_ch) + rng.normal(0, 0.05, (n_draws, n_ch)), 0.3, 1.0)
    return ParametricCurves([f"c{i}" for i in range(n_ch)], current, "hill", beta=beta, k=k, s=s)


class BareProtocol:
    """The same curves seen through the bare ResponseCurves protocol (finite-difference marginals), as a
    fitted mix model offers them."""

    def __init__(self, curves: ParametricCurves) -> None:
        self.channels, self.current_spend, self.kpi, self.n_draws = (
            curves.channels,
            curves.current_spend,
            curves.kpi,
            curves.n_draws,
        )
        self.weekly_response, self.plan_response = curves.weekly_response, curves.plan_response


def slsqp(curves: ParametricCurves, total: float) -> tuple[np.ndarray, float]:
    """scipy SLSQP on the posterior-mean response with analytic gradients, from an even split."""
    from scipy.optimize import minimize

    n_ch = len(curves.channels)
    scale = total

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        x = z * scale
        return (
            -float(curves.weekly_response(x).sum(axis=-1).mean()) / scale,
            -curves.marginal_response(x).mean(axis=0),
        )

    start = time.perf_counter()
    res = minimize(
        fun,
        np.full(n_ch, 1.0 / n_ch),
        jac=True,
        method="SLSQP",
        bounds=[(0, 1)] * n_ch,
        constraints=[{"type": "eq", "fun": lambda z: z.sum() - 1.0, "jac": lambda z: np.ones_like(z)}],
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    return res.x * scale, time.perf_counter() - start


def run_peer(problems: list[dict], peer_python: str) -> list[dict] | None:
    """Run PyMC-Marketing's BudgetOptimizer on each problem in the peer venv; None if it is unavailable."""
    if not Path(peer_python).exists():
        print(f"peer python {peer_python} not found: PyMC-Marketing comparison skipped")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "peer.py"
        script.write_text(PEER_SCRIPT)
        paths = []
        for i, p in enumerate(problems):
            path = Path(tmp) / f"problem{i}.npz"
            np.savez(path, **p)
            paths.append(str(path))
        proc = subprocess.run([peer_python, str(script), *paths], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print("PyMC-Marketing run failed:\n" + proc.stderr[-3000:])
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def hill_problem(curves: ParametricCurves, total: float) -> dict:
    return {"beta": curves.beta, "k": curves.k, "s": curves.s, "total": np.float64(total)}


def bench_time(sizes: list[int], n_draws: int, peer_python: str | None) -> None:
    print(f"\n## Optimisation time, {n_draws} draws, budget = current total, bounds [0, total]")
    revenue = Objective("revenue", 1.0, 0.0)
    cases = [(n, random_curves(n, n_draws, seed=n)) for n in sizes]
    peer = (
        run_peer([hill_problem(c, float(c.current_spend.sum())) for _, c in cases], peer_python)
        if peer_python
        else None
    )
    header = (
        "| channels | trueroi analytic (s) | trueroi finite-diff (s) | scipy SLSQP (s) | PyMC-Marketing "
        "build+compile (s) | PyMC-Marketing allocate (s) | allocate ratio (PyMC-M / trueroi FD) | "
        "value: trueroi - SLSQP | value: trueroi - PyMC-M |"
    )
    print(header)
    print("|" + "---|" * 9)
    for i, (n, curves) in enumerate(cases):
        total = float(curves.current_spend.sum())
        t0 = time.perf_counter()
        ours = optimize_budget(curves, total).allocation
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours_fd = optimize_budget(BareProtocol(curves), total).allocation
        t_fd = time.perf_counter() - t0
        x_sq, t_sq = slsqp(curves, total)
        value = draw_values(curves, ours, revenue).mean()
        d_sq = value - draw_values(curves, x_sq, revenue).mean()
        row = [str(n), f"{t_ours:.2f}", f"{t_fd:.2f}", f"{t_sq:.2f}"]
        if peer:
            p = peer[i]
            d_pm = value - draw_values(curves, np.asarray(p["allocation"]), revenue).mean()
            row += [
                f"{p['build_s']:.1f}",
                f"{p['allocate_s']:.2f}",
                f"{p['allocate_s'] / t_fd:.2f}",
                f"{d_sq:+.4g}",
                f"{d_pm:+.4g}" + ("" if p["success"] else f" ({p['message']})"),
            ]
        else:
            row += ["–", "–", "–", f"{d_sq:+.4g}", "–"]
        print("| " + " | ".join(row) + " |")
        assert abs(ours_fd.sum() - total) < 1e-6 * total


def truth_and_posterior(seed: int, bias: float, spread: float = 0.25, n_draws: int = 1000):
    """Five Hill channels (as in Jin et al. 2017's simulation) and a posterior around them."""
    current = np.array([8_000.0, 12_000.0, 5_000.0, 3_000.0, 9_000.0])
    beta = np.array([40_000.0, 25_000.0, 9_000.0, 15_000.0, 30_000.0])
    half = np.array([0.8, 1.2, 1.0, 0.6, 1.5]) * current
    slope = np.array([1.0, 0.9, 1.0, 1.0, 0.8])
    names = [f"channel_{i}" for i in range(5)]
    truth = ParametricCurves(names, current, "hill", beta=beta, k=half, s=slope)
    rng = np.random.default_rng(seed)
    shift_b, shift_k = rng.normal(0, bias, (2, 5))
    post = ParametricCurves(
        names,
        current,
        "hill",
        beta=beta * np.exp(shift_b + rng.normal(0, spread, (n_draws, 5))),
        k=half * np.exp(shift_k + rng.normal(0, spread, (n_draws, 5))),
        s=np.broadcast_to(slope, (n_draws, 5)),
    )
    return truth, post


def bench_regret(seeds: int, peer_python: str | None) -> None:
    print(f"\n## Regret under known true curves ({seeds} posteriors per bias, 1,000 draws, 25% draw noise)")
    print(
        "| posterior bias | trueroi median | trueroi worst | PyMC-Marketing median | PyMC-Marketing worst |"
    )
    print("|---|---|---|---|---|")
    for bias in (0.0, 0.05, 0.10):
        pairs = [truth_and_posterior(seed, bias) for seed in range(seeds)]
        total = float(pairs[0][0].current_spend.sum())
        ours = [plan_regret(t, optimize_budget(p, total).allocation, total)["regret"] for t, p in pairs]
        peer = run_peer([hill_problem(p, total) for _, p in pairs], peer_python) if peer_python else None
        theirs = [
            plan_regret(t, np.asarray(r["allocation"]), total)["regret"]
            for (t, _), r in zip(pairs, peer or [], strict=False)
        ]

        def fmt(v: list[float]) -> str:
            return f"{np.median(v):.4f} | {np.max(v):.4f}"

        print(f"| {bias:.0%} | {fmt(ours)} | " + (fmt(theirs) if theirs else "– | –") + " |")


def bench_mmm(
    seeds: list[int], peer_python: str | None, method: str, draws: int, tune: int, chains: int
) -> None:
    """Fit trueroi's mix model on simulated data, plan on its curves, regret under the true curves."""
    try:
        from trueroi.mmm import MMM
        from trueroi.mmm.simulate import simulate
    except ImportError as exc:
        print(f"\ntrueroi.mmm not available ({exc}): end-to-end regret skipped")
        return
    what = f"{chains}x{draws} draws after {tune} tuning" if method == "nuts" else f"{draws} draws"
    print(
        f"\n## End to end: simulate (trueroi.mmm.simulate, 5 channels, 156 weeks), fit trueroi.mmm "
        f"({method}, {what}), plan at the current total, regret under the simulation's true curves"
    )
    print(
        "| seed | fit (s) | trueroi regret | PyMC-Marketing regret (same posterior) "
        "| true gain kept: trueroi "
        "| true gain kept: PyMC-M | posterior value: trueroi - PyMC-M |"
    )
    print("|---|---|---|---|---|---|---|")
    for seed in seeds:
        sim = simulate(seed=seed)
        start = time.perf_counter()
        kwargs = {"draws": draws, "seed": seed}
        if method == "nuts":
            kwargs.update(tune=tune, chains=chains)
        model = MMM(method=method, **kwargs).fit(
            sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls
        )
        fit_s = time.perf_counter() - start
        curves = model.response_curves()
        truth = ParametricCurves(
            sim.channels,
            curves.current_spend,
            "hill",
            beta=sim.beta,
            k=sim.media_params["sat_half"] * sim.spend_scale,
            s=sim.media_params["sat_slope"],
        )
        total = float(curves.current_spend.sum())
        our_plan = optimize_budget(curves, total).allocation
        ours = plan_regret(truth, our_plan, total)
        theirs, gap = None, "–"
        params = getattr(curves, "_params", None)
        if peer_python and params is not None and getattr(curves, "_ppw", None) == 1:
            # the model's Hill draws in currency: beta' = target_scale * beta, k' = half * spend_scale
            problem = {
                "beta": params["beta"] * curves._target_scale,  # noqa: SLF001
                "k": params["sat_half"] * curves._spend_scale,  # noqa: SLF001
                "s": params["sat_slope"],
                "total": np.float64(total),
            }
            same = ParametricCurves(
                sim.channels,
                curves.current_spend,
                "hill",
                beta=problem["beta"],
                k=problem["k"],
                s=problem["s"],
            )
            probe = curves.current_spend
            assert np.allclose(same.weekly_response(probe), curves.weekly_response(probe), rtol=1e-6)
            peer = run_peer([problem], peer_python)
            if peer:
                their_plan = np.asarray(peer[0]["allocation"])
                theirs = plan_regret(truth, their_plan, total)
                revenue = Objective("revenue", 1.0, 0.0)
                diff = (
                    draw_values(curves, our_plan, revenue).mean()
                    - draw_values(curves, their_plan, revenue).mean()
                )
                gap = f"{diff:+,.1f}"

        def kept(r: dict | None) -> str:
            if r is None:
                return "–"
            return (
                f"{r['true_plan'] - r['true_current']:,.0f} of {r['true_optimum'] - r['true_current']:,.0f}"
            )

        their_regret = f"{theirs['regret']:.4f}" if theirs else "–"
        print(
            f"| {seed} | {fit_s:.0f} | {ours['regret']:.4f} | {their_regret} "
            f"| {kept(ours)} | {kept(theirs)} | {gap} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,30,100")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--peer-python", default="/work/peers-venv/bin/python")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--mmm", action="store_true", help="also fit trueroi.mmm end to end (minutes)")
    parser.add_argument("--mmm-method", default="nuts", choices=["nuts", "laplace", "map"])
    parser.add_argument("--mmm-seeds", default="0,1,2")
    parser.add_argument("--mmm-draws", type=int, default=250)
    parser.add_argument("--mmm-tune", type=int, default=250)
    parser.add_argument("--mmm-chains", type=int, default=2)
    parser.add_argument("--skip-time", action="store_true")
    parser.add_argument("--skip-regret", action="store_true")
    args = parser.parse_args(argv)
    peer = None if args.no_peer else args.peer_python
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}")
    if not args.skip_time:
        bench_time([int(s) for s in args.sizes.split(",")], args.draws, peer)
    if not args.skip_regret:
        bench_regret(args.seeds, peer)
    if args.mmm:
        seeds = [int(v) for v in args.mmm_seeds.split(",")]
        bench_mmm(seeds, peer, args.mmm_method, args.mmm_draws, args.mmm_tune, args.mmm_chains)


if __name__ == "__main__":
    main()
