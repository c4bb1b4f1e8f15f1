"""Benchmark: the halo model (brand search as a mediator) on simulations with known truth, several seeds.

For each seed, :func:`trueroi.mmm.halo_simulate.simulate_halo` draws two years of weekly data (display and
video with a halo through brand clicks, brand search, generic search); :class:`trueroi.mmm.HaloMMM` is fitted
and scored against the truth:

- coverage: share of (seed, channel) pairs whose true direct, indirect and total ROAS lie in the 90%
  interval (halo channels for indirect; every channel for direct and total), and of seeds for brand
  search's ROAS net of halo and for the halo share of brand clicks;
- point error: mean absolute error of the posterior mean (ROAS units) and mean relative error of the total;
- without halo in the truth (``halo_share=0``): share of halo channels whose indirect interval covers 0;
- fit seconds and divergences (NUTS).

    .venv/bin/python bench/bench_halo.py --seeds 10 --method laplace
    .venv/bin/python bench/bench_halo.py --seeds 4 --method nuts --draws 500 --tune 500 --chains 2
    .venv/bin/python bench/bench_halo.py --seeds 8 --method laplace --geos 4 --weeks 80   # the geo model
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _inside(block: dict[str, float], truth: float) -> bool:
    return bool(block["lower"] <= truth <= block["upper"])


def run_seed(seed: int, halo_share: float, args: argparse.Namespace) -> dict:
    from trueroi.mmm import HaloMMM
    from trueroi.mmm.halo_geo import GeoHaloMMM
    from trueroi.mmm.halo_simulate import simulate_geo_halo, simulate_halo

    settings = dict(method=args.method, draws=args.draws, tune=args.tune, chains=args.chains, seed=seed)
    roles = dict(date="week", target="revenue")
    if args.geos:
        sim = simulate_geo_halo(seed, args.geos, args.weeks, halo_share)
        model = GeoHaloMMM(halo=sim.halo, mediator=sim.mediator, chain_method="sequential", **settings)
        roles["geo"] = "geo"
    else:
        sim = simulate_halo(seed=seed, halo_share=halo_share, n_periods=args.weeks)
        model = HaloMMM(halo=sim.halo, mediator=sim.mediator, chain_method="sequential", **settings)
    start = time.perf_counter()
    model.fit(sim.df, channels=sim.channels, **roles)
    seconds = time.perf_counter() - start
    summary = model.summary()
    ch = summary["channels"]
    row: dict = {"seed": seed, "halo_share": halo_share, "seconds": seconds}
    row["divergences"] = summary["diagnostics"]["divergences"]
    row["r_hat_max"] = summary["diagnostics"]["r_hat_max"]
    for key, truth, names in (
        ("direct", sim.roi_direct, sim.channels),
        ("indirect", sim.roi_indirect, sim.halo),
        ("total", sim.roi_total, sim.channels),
    ):
        block = "roas" if key == "total" else f"roas_{key}"
        row[f"cover_{key}"] = [_inside(ch[c][block], truth[c]) for c in names]
        row[f"abs_err_{key}"] = [abs(ch[c][block]["mean"] - truth[c]) for c in names]
        if key == "total":
            row["rel_err_total"] = [abs(ch[c][block]["mean"] - truth[c]) / truth[c] for c in names]
    brand = ch[sim.mediator_channel]["roas_net_of_halo"]
    row["cover_net"] = _inside(brand, sim.roi_net_of_halo)
    row["rel_err_net"] = abs(brand["mean"] - sim.roi_net_of_halo) / sim.roi_net_of_halo
    row["cover_share"] = _inside(summary["halo"]["halo_share"], sim.halo_share)
    row["share_err"] = abs(summary["halo"]["halo_share"]["mean"] - sim.halo_share)
    row["indirect_zero_covered"] = [_inside(ch[h]["roas_indirect"], 0.0) for h in sim.halo]
    row["indirect_mean"] = [ch[h]["roas_indirect"]["mean"] for h in sim.halo]
    print(json.dumps(row), flush=True)
    return row


def aggregate(rows: list[dict]) -> dict:
    """Pooled coverage and errors over seeds."""

    def pool(key: str) -> float:
        return float(np.mean([v for r in rows for v in np.atleast_1d(r[key])]))

    keys = ["cover_direct", "cover_indirect", "cover_total", "abs_err_direct", "abs_err_indirect"]
    keys += ["abs_err_total", "rel_err_total", "cover_net", "rel_err_net", "cover_share", "share_err"]
    keys += ["indirect_zero_covered", "indirect_mean", "seconds", "divergences"]
    return {k: pool(k) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--method", default="laplace", choices=["laplace", "nuts", "map"])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--geos", type=int, default=0, help="fit the geo halo model on this many geos")
    parser.add_argument("--shares", default="0.35,0.0", help="true halo shares of brand clicks to run")
    args = parser.parse_args()
    for share in map(float, args.shares.split(",")):
        rows = [run_seed(seed, share, args) for seed in range(args.seeds)]
        print(f"halo_share={share} {args.method}:", json.dumps(aggregate(rows), indent=1))


if __name__ == "__main__":
    main()
