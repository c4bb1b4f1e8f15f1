"""Benchmark: the management report and one monitor pass on a client of a realistic size.

    python bench/bench_report.py --scale 2.6                 # ~3.7 M touchpoints over two years
    python bench/bench_report.py --scale 2.6 --profile       # and write cProfile listings beside the data

The client of issue 24 (a German coffee shop) had 699 days of GA4 export with 3.7 M events, 68,178 Shopify
orders, three ad platforms and a cost ledger; ``trueroi report`` took 515-542 s and 2.2 GB there and
``trueroi monitor run`` 81-88 s a pass. The demo shop (``trueroi.demo.generate``) at scale 2.6 has about as
many touchpoints (3.7 M) over two years, with four times the orders (its journeys convert more often than a
coffee shop's sessions), so it is the harder case for the attribution section.

With ``--spread`` the touchpoints of e-mail, affiliate and referral traffic are spread over about 1,000
campaign names after the load (newsletter sends, publisher ids, referring sites), as a GA4 export's
``utm_campaign`` values are: the demo has about 30 campaigns, a real shop's GA4 data hundreds to thousands,
and monitoring judges one series per campaign. (The names are rewritten with SQL right after the load,
before any derived table is built.)

Steps, each in its own process so that its peak memory (max RSS) is its own; the data is generated and loaded
once under ``bench/data/report-<scale>/`` (git-ignored) and reused:

1. ``report`` after a load (the derived tables dropped first, as a load outdates them), to HTML;
2. ``report`` again (every later report until the next load);
3. ``monitor run``: the README's two alert rules (a sessions anomaly, a CPA cap on one channel; no receivers,
   so nothing is sent), three passes: the first judges the newest day after the rules were added, the later
   ones find nothing new to judge.

``--only anomalies --label NAME`` times anomaly detection alone (the report's call over the quarter, every
monitored KPI over the quarter, the hourly volume, and a monitor pass's day) and keeps what it found under
``<data>/anomalies-NAME/``; ``--compare A B`` says whether two such runs (say the code before a change, put
first on ``PYTHONPATH``, and after) found the same anomalies: the same rows in the same order, every number
within a relative 1e-9::

    PYTHONPATH=<old checkout>/src python bench/bench_report.py --spread --only anomalies --label before
    python bench/bench_report.py --spread --only anomalies --label after
    python bench/bench_report.py --spread --compare before after
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
PERIOD = "2026-Q3"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """User + system CPU seconds of this process so far (DuckDB's threads included): less sensitive than wall
    time to other jobs on a shared machine."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


SPREAD = (
    "UPDATE touchpoints SET campaign = 'newsletter_' || (hash(date_day) % 200) WHERE channel = 'Email'",
    "UPDATE touchpoints SET campaign = 'aff_' || (hash(user_id) % 500) WHERE channel = 'Affiliate'",
    "UPDATE touchpoints SET campaign = 'ref_' || (hash(user_id) % 300) WHERE channel = 'Referral'",
)


def step_prepare(root: Path, scale: float, spread: bool = False) -> dict:
    from trueroi.demo import DemoFiles, demo_config, generate, load_into
    from trueroi.workspace import Workspace

    t0 = time.perf_counter()
    truth = root / "demo-data" / "ground_truth.json"
    if truth.exists():  # generated before: reuse
        files = DemoFiles(root / "demo-data", json.loads(truth.read_text()))
    else:
        files = generate(root / "demo-data", seed=1, scale=scale)
    t1 = time.perf_counter()
    with Workspace.init(root / "ws", demo_config()) as ws:
        rows = load_into(ws, files).rows
        if spread:
            for sql in SPREAD:
                ws.con.con.execute(sql)
            rows["campaigns"] = ws.con.con.execute(
                "SELECT count(DISTINCT campaign) FROM touchpoints"
            ).fetchone()[0]
    return {"generate_s": t1 - t0, "load_s": time.perf_counter() - t1, "rows": rows, "peak_mb": _peak_mb()}


def _profiled(fn, out: Path | None):
    """Run ``fn()``; with ``out`` under cProfile, writing the top functions by cumulative time there."""
    if out is None:
        return fn()
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    result = prof.runcall(fn)
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(60)
    out.write_text(text.getvalue(), encoding="utf-8")
    return result


def step_report(root: Path, fresh: bool, profile: bool) -> dict:
    """``trueroi report --period 2026-Q3 --out report.html`` through its library call."""
    from trueroi.report.writers import create_report
    from trueroi.workspace import Workspace
    from trueroi.workspace.derived import drop_all

    with Workspace.open(root / "ws") as ws:
        if fresh:
            drop_all(ws)
        t0, c0 = time.perf_counter(), _cpu_s()
        out = root / "report.html"
        prof = root / f"profile-report-{'first' if fresh else 'later'}.txt" if profile else None
        _profiled(lambda: create_report(ws, PERIOD, out), prof)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": _peak_mb(), "html_kb": out.stat().st_size / 1024}


RULES = (
    {"name": "tracking", "kpi": "sessions", "anomaly": True, "severity": "critical"},
    {"name": "cpa-cap", "kpi": "cpa", "above": 45.0, "channel": "Social Prospecting"},
)


def step_monitor(root: Path, passes: int, profile: bool) -> dict:
    """``trueroi monitor run`` through its library call, ``passes`` times in one process."""
    from trueroi.monitor import add_alert, list_rules, run_monitor
    from trueroi.workspace import Workspace

    walls, cpus = [], []
    with Workspace.open(root / "ws") as ws:
        have = {r.name for r in list_rules(ws)}
        for rule in RULES:
            if rule["name"] not in have:
                add_alert(ws, **rule)
        for i in range(passes):
            t0, c0 = time.perf_counter(), _cpu_s()
            prof = root / f"profile-monitor-{i}.txt" if profile and i < 2 else None
            result = _profiled(lambda: run_monitor(ws, sleep=lambda _s: None), prof)
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu_s() - c0)
    return {"walls_s": walls, "cpus_s": cpus, "incidents": len(result.incidents), "peak_mb": _peak_mb()}


def step_anomalies(root: Path, label: str) -> dict:
    """Anomaly detection alone, each call timed; the scored frames and anomalies kept for :func:`compare`."""
    from trueroi.metrics import parse_period
    from trueroi.monitor import detect_anomalies, last_complete_day
    from trueroi.monitor.detect import MONITORED, scored_days, scored_hours
    from trueroi.workspace import Workspace

    out = root / f"anomalies-{label}"
    out.mkdir(parents=True, exist_ok=True)
    period, walls = parse_period(PERIOD), {}
    with Workspace.open(root / "ws") as ws:
        day = last_complete_day(ws)
        calls = {
            "report": lambda: detect_anomalies(ws, start=period.start, end=period.end),
            "quarter_all_kpis": lambda: scored_days(ws, period.start, period.end, list(MONITORED.values())),
            "quarter_hours": lambda: scored_hours(ws, period.start, period.end, list(MONITORED.values())),
            "monitor_day": lambda: scored_days(ws, day, day, [MONITORED["sessions"], MONITORED["cpa"]]),
        }
        for name, call in calls.items():
            t0 = time.perf_counter()
            result = call()
            walls[name] = time.perf_counter() - t0
            if name == "report":
                (out / "report.json").write_text(json.dumps([a.to_dict() for a in result], default=str))
                walls["anomalies"] = len(result)
            else:
                result.to_pickle(out / f"{name}.pkl")
    return {"walls_s": walls, "peak_mb": _peak_mb()}


def compare(root: Path, a: str, b: str) -> list[str]:
    """Whether the runs ``a`` and ``b`` of :func:`step_anomalies` found the same: one line per output."""
    import numpy as np
    import pandas as pd

    da, db = root / f"anomalies-{a}", root / f"anomalies-{b}"
    lines = []
    for name in ("quarter_all_kpis", "quarter_hours", "monitor_day"):
        x, y = pd.read_pickle(da / f"{name}.pkl"), pd.read_pickle(db / f"{name}.pkl")
        same = x.shape == y.shape and all((x[k].astype(str) == y[k].astype(str)).all() for k in x.columns[:4])
        close, worst = False, None
        if same:
            u, v = (f[x.columns[4:]].to_numpy(dtype=float) for f in (x, y))
            close = bool(np.allclose(u, v, rtol=1e-9, atol=1e-12, equal_nan=True))
            with np.errstate(all="ignore"):  # relative above 1, absolute below (ratios, zeros)
                worst = float(np.nanmax(np.abs(u - v) / np.fmax(np.abs(u), 1.0), initial=0.0))
        lines.append(f"{name}: {len(x):,} rows, same rows in the same order {same}, numbers within 1e-9 "
                     f"{close} (largest difference {worst:.1e} of max(|value|, 1))")  # fmt: skip
    ra, rb = (json.loads((d / "report.json").read_text()) for d in (da, db))
    key = ("day", "hour", "scope", "scope_value", "kpi", "direction", "severity")
    same = [tuple(r[k] for k in key) for r in ra] == [tuple(r[k] for k in key) for r in rb]

    def numbers(r: dict) -> list[float]:
        return [np.nan if r[k] is None else r[k] for k in ("observed", "expected", "lower", "upper", "score")]

    close = same and all(
        np.allclose(numbers(p), numbers(q), rtol=1e-9, equal_nan=True) for p, q in zip(ra, rb, strict=True)
    )
    lines.append(f"report anomalies: {len(ra)} vs {len(rb)}, same scope/day/KPI/direction/severity {same}, "
                 f"observed/expected/range/score within 1e-9 {close}")  # fmt: skip
    return lines


def _child(step: str, root: Path, *extra: str) -> dict:
    cmd = [sys.executable, __file__, "--step", step, "--root", str(root), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _took(r: dict) -> str:
    return f"{r['wall_s']:.1f} s (CPU {r['cpu_s']:.1f} s), peak {r['peak_mb']:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=2.6)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--fresh", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="write cProfile listings beside the data")
    parser.add_argument("--passes", type=int, default=3, help="monitor passes")
    parser.add_argument("--only", choices=("report", "monitor", "anomalies"), default=None)
    parser.add_argument("--spread", action="store_true", help="~1,000 campaign names in the touchpoints")
    parser.add_argument("--label", default="current", help="name of an anomalies run (--only anomalies)")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two anomalies runs")
    args = parser.parse_args()
    root = args.root or HERE / "data" / f"report-{args.scale:g}{'-spread' if args.spread else ''}"
    if args.compare:
        print("\n".join(compare(root, *args.compare)))
        return
    if args.step == "anomalies":
        print(json.dumps(step_anomalies(root, args.label)))
        return
    if args.step == "prepare":
        print(json.dumps(step_prepare(root, args.scale, args.spread)))
        return
    if args.step == "report":
        print(json.dumps(step_report(root, args.fresh, args.profile)))
        return
    if args.step == "monitor":
        print(json.dumps(step_monitor(root, args.passes, args.profile)))
        return
    root.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, data in {root}")
    if not (root / "ws" / "trueroi.toml").exists():
        prep = _child("prepare", root, "--scale", str(args.scale), *(["--spread"] if args.spread else []))
        took = f"generate {prep['generate_s']:.0f} s, load {prep['load_s']:.0f} s"
        print(f"prepared: {took}, rows {prep['rows']}")
    prof = ["--profile"] if args.profile else []
    if args.only in (None, "report"):
        first = _child("report", root, "--fresh", *prof)
        print(f"report after a load: {_took(first)}")
        later = _child("report", root, *prof)
        print(f"report, later:       {_took(later)}")
    if args.only == "anomalies":
        took = _child("anomalies", root, "--label", args.label)
        walls = ", ".join(f"{k} {v:.1f} s" for k, v in took["walls_s"].items() if k != "anomalies")
        print(f"anomalies ({args.label}): {walls}; {took['walls_s']['anomalies']} anomalies in {PERIOD}")
    if args.only in (None, "monitor"):
        mon = _child("monitor", root, "--passes", str(args.passes), *prof)
        walls = ", ".join(f"{w:.1f}" for w in mon["walls_s"])
        cpus = ", ".join(f"{c:.1f}" for c in mon["cpus_s"])
        print(f"monitor run passes:  {walls} s (CPU {cpus} s), peak {mon['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
