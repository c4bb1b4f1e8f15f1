"""Benchmark: attribution models at scale, and ChannelAttribution on the same aggregated paths.

    .venv/bin/python bench/bench_attribution.py --journeys 10000000 --warehouse-journeys 2000000

1. Generates ``--journeys`` journeys with numpy (the demo shop's twelve channel labels; about three touches
   per journey; known start and transition probabilities, channel-dependent conversion).
2. Times every model on the raw journeys (time decay reads the touch ages).
3. Merges identical paths and times our models and ChannelAttribution's heuristic and Markov models on the
   same aggregated paths, printing the ratio.
4. Loads ``--warehouse-journeys`` journeys as touchpoints and orders into a DuckDB workspace and times
building
   journeys from the warehouse with Ibis (:func:`trueroi.attribution.warehouse.build_journeys`).

Memory: ``peak_py_mb`` is the tracemalloc peak of the step (numpy and Python allocations); ``rss_mb`` is the
process's peak resident set so far (includes DuckDB and ChannelAttribution's C++ heap).
"""

from __future__ import annotations

import argparse
import gc
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.attribution import Journeys, get_model, model_names

CHANNELS = [
    "Brand Search",
    "Non-Brand Search",
    "Shopping",
    "Social Prospecting",
    "Social Retargeting",
    "Display",
    "Online Video",
    "Affiliate",
    "Email",
    "Organic Search",
    "Direct",
    "Referral",
]
RESULTS: list[dict] = []


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(step: str, fn, *args, **kwargs):
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    RESULTS.append({"step": step, "seconds": seconds, "peak_py_mb": peak / 2**20, "rss_mb": rss_mb()})
    print(f"{step:<48} {seconds:8.2f} s  peak {peak / 2**20:8.0f} MB  rss {rss_mb():8.0f} MB", flush=True)
    return out, seconds


def generate(n: int, seed: int = 1) -> Journeys:
    """Journeys from a known process: start and transition probabilities, conversion depends on channels."""
    rng = np.random.default_rng(seed)
    k = len(CHANNELS)
    start = rng.dirichlet(np.full(k, 2.0))
    trans_cum = np.cumsum(rng.dirichlet(np.full(k, 0.7), size=k), axis=1)
    effect = rng.normal(0.0, 0.5, size=k)
    lengths = 1 + np.minimum(rng.poisson(2.0, size=n), 19)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    codes = np.empty(offsets[-1], dtype=np.int32)
    prev = rng.choice(k, size=n, p=start).astype(np.int32)
    codes[offsets[:-1]] = prev
    for pos in range(1, int(lengths.max())):
        alive = np.flatnonzero(lengths > pos)
        u = rng.random(len(alive))
        nxt = np.empty(len(alive), dtype=np.int32)
        for lo in range(0, len(alive), 1_000_000):  # chunks keep the (rows x channels) comparison small
            part = slice(lo, lo + 1_000_000)
            nxt[part] = (u[part, None] > trans_cum[prev[alive[part]]]).sum(axis=1)
        nxt = np.minimum(nxt, k - 1)
        codes[offsets[alive] + pos] = nxt
        prev[alive] = nxt
    score = np.add.reduceat(effect[codes], offsets[:-1]) / np.sqrt(lengths) - 3.0 + 0.3 * np.log(lengths)
    converted = rng.random(n) < 1.0 / (1.0 + np.exp(-score))
    value = np.where(converted, np.round(rng.gamma(2.0, 40.0, size=n), 2), 0.0)
    gaps = rng.exponential(2.0, size=offsets[-1])  # days between touches
    gaps[offsets[:-1]] = 0.0
    cum = np.cumsum(gaps)
    cum -= np.repeat(cum[offsets[:-1]], lengths)
    age = np.repeat(cum[offsets[1:] - 1], lengths) - cum
    return Journeys(
        tuple(sorted(CHANNELS)),
        offsets,
        np.searchsorted(sorted(CHANNELS), np.asarray(CHANNELS)[codes]).astype(np.int32),
        converted.astype(np.float64),
        value,
        (~converted).astype(np.float64),
        age_days=age,
    )


def fit(name: str, journeys: Journeys, **settings):
    return get_model(name, **settings).fit(journeys)


def run_models(journeys: Journeys, label: str) -> float:
    total = 0.0
    for name in model_names():
        _, s = measure(f"{label}: {name}", fit, name, journeys)
        total += s
    for order in (2, 3):
        measure(f"{label}: markov order {order}", fit, "markov", journeys, order=order)
    RESULTS.append(
        {
            "step": f"{label}: all nine models (sum)",
            "seconds": total,
            "peak_py_mb": np.nan,
            "rss_mb": rss_mb(),
        }
    )
    print(f"{label}: all nine models together {total:.2f} s", flush=True)
    return total


def channel_attribution(paths: pd.DataFrame, nsim: float) -> dict[str, float]:
    import ChannelAttribution as ca

    _, t_h = measure(
        "ChannelAttribution heuristic_models",
        ca.heuristic_models,
        paths,
        "path",
        "conversions",
        var_value="value",
        flg_pro=False,
    )
    _, t_m = measure(
        "ChannelAttribution markov_model (order 1)",
        ca.markov_model,
        paths,
        "path",
        "conversions",
        var_value="value",
        var_null="nulls",
        order=1,
        nsim_start=nsim,
        verbose=False,
        flg_pro=False,
    )
    return {"heuristic": t_h, "markov": t_m}


def build_only(
    directory: str,
    memory_limit: str | None,
    threads: int | None = None,
    partitions: int | None = None,
    with_models: bool = False,
) -> None:
    """Time building journeys from an existing workspace, in a fresh process (its own peak RSS).

    With ``with_models`` every model then runs on the built journeys in the same process, so the process's
    peak RSS covers the build and all models.
    """
    from trueroi.attribution.warehouse import build_journeys
    from trueroi.workspace import Workspace

    ws = Workspace.open(directory)
    if memory_limit:
        ws.con.raw_sql(f"SET memory_limit = '{memory_limit}'")
    if threads:
        ws.con.raw_sql(f"SET threads = {int(threads)}")
    n_tp = ws.row_count("touchpoints")
    step = f"build journeys from warehouse ({n_tp:,} touches)"
    built, seconds = measure(step, build_journeys, ws, with_meta=False, partitions=partitions)
    print(
        f"(built {built.n_journeys:,} journeys, {built.n_touches:,} touches; memory_limit {memory_limit}, "
        f"partitions {partitions or 'auto'})"
    )
    ws.close()
    if with_models:
        models = run_models(built, "warehouse journeys")
        print(f"build + all nine models: {seconds + models:.1f} s; peak RSS {rss_mb():,.0f} MB")


def warehouse_build(journeys: Journeys, n: int, keep: str | None = None) -> None:
    from trueroi.attribution.warehouse import build_journeys
    from trueroi.workspace import Workspace, WorkspaceConfig

    sub_off = journeys.offsets[: n + 1]
    m = int(sub_off[-1])
    jt = np.repeat(np.arange(n), np.diff(sub_off))
    origin = np.datetime64("2024-01-01T00:00:00")
    end_days = np.random.default_rng(5).uniform(31, 700, size=n)
    ts = origin + ((end_days[jt] - journeys.age_days[:m]) * 86400e6).astype("timedelta64[us]")
    channel = pa.DictionaryArray.from_arrays(pa.array(journeys.codes[:m]), pa.array(list(journeys.channels)))
    tp = pa.table(
        {
            "user_id": pc.cast(pa.array(jt), pa.string()),
            "ts": pa.array(ts),
            "channel": channel.cast(pa.string()),
        }
    )
    conv = np.flatnonzero(journeys.conversions[:n] > 0)
    ids = pc.cast(pa.array(conv), pa.string())
    orders = pa.table(
        {
            "order_id": ids,
            "user_id": ids,
            "ts": pa.array(origin + (end_days[conv] * 86400e6).astype("timedelta64[us]")),
            "currency": pa.array(["EUR"] * len(conv)),
            "revenue": pa.array(journeys.value[conv]),
            "status": pa.array(["paid"] * len(conv)),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(keep or Path(tmp) / "ws"), WorkspaceConfig(name="bench", lookback_days=30))
        t0 = time.perf_counter()
        ws.load(
            {"touchpoints": tp, "orders": orders}, source_format="bench", file_name="bench", sha256="bench"
        )
        print(
            f"(loaded {tp.num_rows:,} touchpoints and {orders.num_rows:,} orders "
            f"in {time.perf_counter() - t0:.1f} s)"
        )
        del tp, orders
        built, _ = measure(
            f"build journeys from warehouse ({n:,} users, {m:,} touches)",
            build_journeys,
            ws,
            with_meta=False,
            lookback_days=30,
        )
        print(f"(built {built.n_journeys:,} journeys, {built.n_touches:,} touches)")
        ws.close()


def markdown(frame: pd.DataFrame) -> str:
    cells = [
        [f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in cells])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=10_000_000)
    parser.add_argument("--warehouse-journeys", type=int, default=2_000_000)
    parser.add_argument(
        "--ca-nsim", type=float, default=1e5, help="ChannelAttribution nsim_start (its default)"
    )
    parser.add_argument("--skip-warehouse", action="store_true")
    parser.add_argument("--skip-raw", action="store_true", help="skip the models on the raw journeys")
    parser.add_argument("--warehouse-only", action="store_true", help="only the warehouse step")
    parser.add_argument("--keep-workspace", help="create the benchmark workspace here and keep it")
    parser.add_argument("--build-only", metavar="DIR", help="only build journeys from the workspace in DIR")
    parser.add_argument("--duckdb-memory-limit", help="e.g. 3GB, for --build-only")
    parser.add_argument("--duckdb-threads", type=int, help="e.g. 1, for --build-only")
    parser.add_argument("--partitions", type=int, help="user hash buckets, for --build-only (default auto)")
    parser.add_argument("--with-models", action="store_true", help="run every model after --build-only")
    args = parser.parse_args()
    if args.build_only:
        build_only(
            args.build_only, args.duckdb_memory_limit, args.duckdb_threads, args.partitions, args.with_models
        )
        print(markdown(pd.DataFrame(RESULTS)))
        return
    print(f"python {sys.version.split()[0]}, {platform.platform()}, numpy {np.__version__}")
    journeys, _ = measure(f"generate {args.journeys:,} journeys (numpy)", generate, args.journeys)
    print(
        f"{journeys.n_journeys:,} journeys, {journeys.n_touches:,} touches, "
        f"{journeys.total_conversions:,.0f} conversions"
    )
    if args.warehouse_only:
        warehouse_build(journeys, min(args.warehouse_journeys, journeys.n_journeys), args.keep_workspace)
        return
    if not args.skip_raw:
        run_models(journeys, "raw journeys")
    agg, _ = measure("merge identical paths", journeys.aggregate)
    print(f"{agg.n_journeys:,} distinct paths")
    ours = run_models(agg, "aggregated paths")
    paths = agg.to_paths()
    ca_times = channel_attribution(paths, args.ca_nsim)
    ours_by = {
        r["step"].split(": ", 1)[1]: r["seconds"] for r in RESULTS if r["step"].startswith("aggregated")
    }
    heur = sum(ours_by[m] for m in ("first_click", "last_click", "linear"))
    print(
        f"ratio ChannelAttribution/ours, Markov order 1: {ca_times['markov'] / ours_by['markov']:.1f}x; "
        f"heuristics (first, last, linear): {ca_times['heuristic'] / heur:.1f}x; all nine ours {ours:.2f} s"
    )
    if not args.skip_warehouse and args.warehouse_journeys > 0:
        warehouse_build(journeys, min(args.warehouse_journeys, journeys.n_journeys), args.keep_workspace)
    print()
    print(markdown(pd.DataFrame(RESULTS)))
    print(f"\npeak RSS of the whole run: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
