"""Benchmark: KPI query by channel x week over two years of the demo shop, trueroi vs pandas on Parquet.

    python bench/bench_kpis.py --scale 72          # ~100M touchpoints
    python bench/bench_kpis.py --scale 7 --pandas  # ~10M touchpoints, with the pandas comparison

trueroi runs twice, each time in a new process: first with the derived tables dropped (the first report after
a load, which builds them), then again (every later report until the next load).

Each measured step runs in its own process so its peak memory (max RSS) is its own. The data is generated
once under bench/data/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_prepare(root: Path, scale: float) -> dict:
    from trueroi.demo import DemoFiles, demo_config, generate, load_into
    from trueroi.workspace import Workspace

    t0 = time.perf_counter()
    if (root / "demo-data" / "ground_truth.json").exists():  # generated before: reuse
        files = DemoFiles(
            root / "demo-data", json.loads((root / "demo-data" / "ground_truth.json").read_text())
        )
    else:
        files = generate(root / "demo-data", seed=1, scale=scale)
    t1 = time.perf_counter()
    with Workspace.init(root / "ws", demo_config()) as ws:
        rows = load_into(ws, files).rows
    return {"generate_s": t1 - t0, "load_s": time.perf_counter() - t1, "rows": rows, "peak_mb": _peak_mb()}


def step_trueroi(root: Path, fresh: bool = False) -> dict:
    """The report in a new process; ``fresh`` first drops the derived tables, as a load would outdate them."""
    from trueroi.metrics import kpi_report
    from trueroi.workspace import Workspace
    from trueroi.workspace.derived import drop_all

    with Workspace.open(root / "ws") as ws:
        if fresh:
            drop_all(ws)
        t0 = time.perf_counter()
        report = kpi_report(ws, by="channel,week")
        wall = time.perf_counter() - t0
    rows = report.rows
    return {
        "wall_s": wall,
        "peak_mb": _peak_mb(),
        "rows": len(rows),
        "revenue": float(rows["revenue"].sum()),
        "spend": float(rows["spend"].sum()),
        "sessions": float(rows["sessions"].sum()),
    }


def step_pandas(root: Path) -> dict:
    """What an analyst would write: read the Parquet exports and compute the same table with pandas."""
    import numpy as np
    import pandas as pd

    data = root / "demo-data"
    t0 = time.perf_counter()

    def read(table: str, cols: list[str]) -> pd.DataFrame:
        return pd.read_parquet(data / table, columns=cols)

    def week(s: pd.Series) -> pd.Series:
        d = pd.to_datetime(s)
        return (d - pd.to_timedelta(d.dt.weekday, unit="D")).dt.date

    fx = read("fx_rates", ["date_day", "currency", "rate_to_base"])
    ads = read("ad_performance", ["date_day", "channel", "currency", "spend", "clicks", "impressions"])
    ads = ads.merge(fx, on=["date_day", "currency"], how="left")
    ads["spend"] *= np.where(ads["currency"] == "EUR", 1.0, ads["rate_to_base"])
    ads["week"] = week(ads["date_day"])
    spend = ads.groupby(["channel", "week"])[["spend", "clicks", "impressions"]].sum()
    orders = read("orders", ["order_id", "user_id", "ts", "date_day", "revenue", "cogs", "status"])
    orders = orders[orders["status"].isin(["paid", "fulfilled", "completed", "partially_refunded"])]
    tp = read("touchpoints", ["user_id", "ts", "date_day", "channel", "engaged"])
    sessions = (
        tp.assign(week=week(tp["date_day"]))
        .groupby(["channel", "week"])
        .agg(sessions=("engaged", "size"), engaged=("engaged", "sum"), users=("user_id", "nunique"))
    )
    pairs = orders[["order_id", "user_id", "ts"]].merge(
        tp[["user_id", "ts", "channel"]], on="user_id", suffixes=("", "_t")
    )
    pairs = pairs[(pairs["ts_t"] <= pairs["ts"]) & (pairs["ts_t"] >= pairs["ts"] - pd.Timedelta(days=30))]
    pairs["direct"] = pairs["channel"] == "Direct"
    best = (
        pairs.sort_values(["order_id", "direct", "ts_t"], ascending=[True, True, False])
        .drop_duplicates("order_id")
        .set_index("order_id")["channel"]
    )
    orders = orders.assign(
        channel=orders["order_id"].map(best).fillna("(unattributed)"), week=week(orders["date_day"])
    )
    rev = orders.groupby(["channel", "week"]).agg(
        revenue=("revenue", "sum"), cogs=("cogs", "sum"), conversions=("order_id", "size")
    )
    table = spend.join([sessions, rev], how="outer").fillna(0.0)
    table["roas"] = table["revenue"] / table["spend"].where(table["spend"] > 0)
    table["media_roi"] = (table["revenue"] - table["cogs"] - table["spend"]) / table["spend"].where(
        table["spend"] > 0
    )
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "peak_mb": _peak_mb(),
        "rows": len(table),
        "revenue": float(table["revenue"].sum()),
        "spend": float(table["spend"].sum()),
        "sessions": float(table["sessions"].sum()),
        "note": "pandas computes a subset of the KPIs (no cost allocation, no lead value)",
    }


def _child(step: str, root: Path, scale: float) -> dict:
    cmd = [sys.executable, __file__, "--step", step, "--root", str(root), "--scale", str(scale)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"failed": True, "returncode": done.returncode, "stderr": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=72.0)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--step", choices=["prepare", "trueroi-first", "trueroi", "pandas"], default=None)
    parser.add_argument("--pandas", action="store_true", help="also run the pandas comparison")
    args = parser.parse_args()
    root = args.root or HERE / "data" / f"kpis-scale{args.scale:g}"
    if args.step:
        fn = {
            "prepare": lambda: step_prepare(root, args.scale),
            "trueroi-first": lambda: step_trueroi(root, fresh=True),
            "trueroi": lambda: step_trueroi(root),
            "pandas": lambda: step_pandas(root),
        }[args.step]
        print(json.dumps(fn()))
        return
    result = {
        "machine": f"{platform.node()} {platform.machine()}, {__import__('os').cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "scale": args.scale,
        "command": " ".join(sys.argv),
    }
    if not (root / "ws" / "trueroi.toml").exists():
        result["prepare"] = _child("prepare", root, args.scale)
    # the first report after a load builds the derived tables (credits, daily sessions, leads); later
    # reports, each in a new process, read them
    result["trueroi_first"] = _child("trueroi-first", root, args.scale)
    result["trueroi"] = _child("trueroi", root, args.scale)
    if args.pandas:
        result["pandas"] = _child("pandas", root, args.scale)
        for key in ("trueroi_first", "trueroi"):
            if "wall_s" in result["pandas"] and "wall_s" in result[key]:
                result[f"speedup_vs_pandas_{key}"] = result["pandas"]["wall_s"] / result[key]["wall_s"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
