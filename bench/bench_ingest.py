# ruff: noqa: E501 - generated SQL and table rows read better unwrapped
"""Import throughput and peak memory: a touchpoint CSV and a GA4-style NDJSON export, streamed in chunks.

Usage::

    .venv/bin/python bench/bench_ingest.py --touch-rows 10000000 --ga4-gb 5
    .venv/bin/python bench/bench_ingest.py --touch-rows 1000000 --ga4-gb 0.5   # quick

Files are generated under ``bench/data/`` (git-ignored) and reused. Each import runs in a fresh child process
so its peak RSS (``ru_maxrss``) is its own. The peer is the naive load most scripts do: ``pandas.read_csv`` of
the whole file, then one insert into DuckDB (no URL parsing or channel grouping, so it does less work); it is
run on the touchpoint CSV and the ratio of throughput and of peak memory is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"

CHILD_TRUEROI = """
import json, sys, time, tempfile
from trueroi.ingest import import_file
from trueroi.workspace import Workspace, WorkspaceConfig
fmt, path = sys.argv[1], sys.argv[2]
ws = Workspace.init(tempfile.mkdtemp(prefix="bench-ws-") + "/ws", WorkspaceConfig(name="bench", brand_terms=["acme"]))
t0 = time.perf_counter()
result = import_file(ws, fmt, path)
import resource
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": result.rows, "cpu_seconds": use.ru_utime + use.ru_stime,
                  "peak_rss_mib": use.ru_maxrss / 1024}))
"""

CHILD_PANDAS = """
import json, sys, time, tempfile, duckdb, pandas as pd
path = sys.argv[1]
t0 = time.perf_counter()
df = pd.read_csv(path)
con = duckdb.connect(tempfile.mkdtemp(prefix="bench-pd-") + "/w.duckdb")
con.execute("CREATE TABLE touchpoints AS SELECT * FROM df")
import resource
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": {"touchpoints": len(df)},
                  "cpu_seconds": use.ru_utime + use.ru_stime, "peak_rss_mib": use.ru_maxrss / 1024}))
"""


def make_touchpoints(path: Path, rows: int, seed: int = 7) -> None:
    """Sessions with landing-page URLs: UTM tags, click ids, mixed case, some untagged (direct)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed / 100})")
    con.execute(f"""
        COPY (
            SELECT 'u' || (i % {max(rows // 3, 1)}) AS user_id,
                   TIMESTAMP '2025-01-01' + INTERVAL (i * 7 % 31536000) SECOND AS ts,
                   's' || i AS session_id,
                   CASE i % 10
                     WHEN 0 THEN 'https://shop.example/?utm_source=Google&utm_medium=cpc&utm_campaign=acme_brand&gclid=Cj0K' || i
                     WHEN 1 THEN 'https://shop.example/p/' || (i % 500) || '?utm_source=google&utm_medium=cpc&utm_campaign=generic_' || (i % 40)
                     WHEN 2 THEN 'https://shop.example/?utm_source=facebook&utm_medium=paid_social&utm_campaign=prospecting_' || (i % 12) || '&fbclid=IwAR' || i
                     WHEN 3 THEN 'https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=week_' || (i % 52)
                     WHEN 4 THEN 'https://shop.example/?msclkid=ms' || i
                     WHEN 5 THEN 'https://shop.example/p/' || (i % 500) || '?gbraid=0AAA' || i
                     WHEN 6 THEN 'https://shop.example/?utm_source=awin&utm_medium=affiliate&utm_campaign=partner_' || (i % 90)
                     ELSE 'https://shop.example/p/' || (i % 500)
                   END AS landing_page,
                   CASE WHEN i % 10 = 8 THEN 'https://www.google.de/' ELSE NULL END AS referrer
            FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')""")
    con.close()


def ga4_sessions(gigabytes: float) -> int:
    return max(int(gigabytes * 1e9 / 4 / 640), 1)  # 4 events per session, ~640 bytes per event


def make_ga4(path: Path, gigabytes: float) -> None:
    """GA4 BigQuery-export-shaped NDJSON: sessions of 4 events (session_start, 2 page_views, engagement),
    1 in 25 sessions with a purchase, traffic in collected_traffic_source."""
    import duckdb

    sessions = ga4_sessions(gigabytes)
    con = duckdb.connect()
    con.execute(f"""
        COPY (
            SELECT strftime(TIMESTAMP '2025-01-01' + INTERVAL (s * 13 % 31536000) SECOND, '%Y%m%d') AS event_date,
                   CAST((1735689600 + s * 13 % 31536000) * 1000000 + e * 1000000 AS VARCHAR) AS event_timestamp,
                   CASE WHEN e = 0 THEN 'session_start' WHEN e = 3 AND s % 25 = 0 THEN 'purchase'
                        WHEN e = 3 THEN 'user_engagement' ELSE 'page_view' END AS event_name,
                   [{{'key': 'ga_session_id', 'value': {{'string_value': NULL, 'int_value': CAST(1735689600 + s AS VARCHAR), 'float_value': NULL, 'double_value': NULL}}}},
                    {{'key': 'page_location', 'value': {{'string_value': 'https://shop.example/p/' || (s % 700) || '?utm_source=' || (['google','facebook','newsletter','bing'])[s % 4 + 1] || '&utm_medium=' || (['cpc','paid_social','email','cpc'])[s % 4 + 1], 'int_value': NULL, 'float_value': NULL, 'double_value': NULL}}}},
                    {{'key': 'session_engaged', 'value': {{'string_value': CASE WHEN s % 3 = 0 THEN '0' ELSE '1' END, 'int_value': NULL, 'float_value': NULL, 'double_value': NULL}}}},
                    {{'key': 'currency', 'value': {{'string_value': 'EUR', 'int_value': NULL, 'float_value': NULL, 'double_value': NULL}}}}] AS event_params,
                   CAST(s % {max(sessions // 2, 1)} AS VARCHAR) || '.1735689000' AS user_pseudo_id,
                   {{'manual_source': (['google','facebook','newsletter','bing'])[s % 4 + 1], 'manual_medium': (['cpc','paid_social','email','cpc'])[s % 4 + 1],
                     'manual_campaign_name': 'campaign_' || (s % 30), 'manual_term': NULL, 'manual_content': NULL, 'gclid': NULL, 'dclid': NULL}} AS collected_traffic_source,
                   CASE WHEN e = 3 AND s % 25 = 0 THEN {{'transaction_id': 'T' || s, 'purchase_revenue': 10.0 + s % 90}} ELSE NULL END AS ecommerce,
                   'WEB' AS platform
            FROM range({sessions}) a(s), range(4) b(e)
        ) TO '{path}' (FORMAT json)""")
    con.close()


def run_child(code: str, *args: str) -> dict:
    """Run one import in a fresh process; it reports its own time and peak RSS (ru_maxrss of itself)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touch-rows", type=int, default=10_000_000)
    parser.add_argument("--ga4-gb", type=float, default=5.0)
    parser.add_argument("--no-peer", action="store_true", help="skip the pandas peer")
    parser.add_argument("--no-ga4", action="store_true", help="skip the GA4 export")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    touch = DATA / f"touchpoints_{args.touch_rows}.csv"
    ga4 = DATA / f"ga4_{args.ga4_gb:g}gb.ndjson"
    for path, make, size in ((touch, make_touchpoints, args.touch_rows), (ga4, make_ga4, args.ga4_gb)):
        if not path.exists() and not (args.no_ga4 and path == ga4):
            t0 = time.perf_counter()
            make(path, size)
            print(
                f"generated {path.name}: {path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - t0:.0f} s"
            )
    results = {}
    runs = [("trueroi touchpoints", CHILD_TRUEROI, ("touchpoints", str(touch)))]
    if not args.no_ga4:
        runs.append(("trueroi ga4", CHILD_TRUEROI, ("ga4", str(ga4))))
    if not args.no_peer:
        runs.append(("pandas+duckdb touchpoints", CHILD_PANDAS, (str(touch),)))
    for name, code, child_args in runs:
        results[name] = run_child(code, *child_args)
        print(f"{name}: {json.dumps(results[name])}", flush=True)
    sizes = {"trueroi touchpoints": touch, "trueroi ga4": ga4, "pandas+duckdb touchpoints": touch}
    inputs = {
        "trueroi touchpoints": args.touch_rows,
        "trueroi ga4": 4 * ga4_sessions(args.ga4_gb),
        "pandas+duckdb touchpoints": args.touch_rows,
    }
    print(f"load average after the runs: {os.getloadavg()[0]:.1f}")
    print(
        f"\n{'run':28s} {'file GB':>8s} {'rows in':>11s} {'rows out':>11s} {'seconds':>8s} {'rows in/s':>10s} {'MB/s':>7s} "
        f"{'CPU s':>7s} {'peak RSS MiB':>13s}"
    )
    for name, r in results.items():
        rows = sum(r["rows"].values())
        gb = sizes[name].stat().st_size / 1e9
        peak = f"{r['peak_rss_mib']:.0f}"
        print(
            f"{name:28s} {gb:8.2f} {inputs[name]:11,d} {rows:11,d} {r['seconds']:8.1f} {inputs[name] / r['seconds']:10,.0f} "
            f"{gb * 1000 / r['seconds']:7.1f} {r['cpu_seconds']:7.1f} {peak:>13s}"
        )
    if "pandas+duckdb touchpoints" in results:
        ours, peer = results["trueroi touchpoints"], results["pandas+duckdb touchpoints"]
        print(
            f"\ntouchpoints throughput ratio trueroi / pandas+duckdb: {peer['seconds'] / ours['seconds']:.2f}x"
        )
        print(
            f"peak memory ratio pandas+duckdb / trueroi: {peer['peak_rss_mib'] / ours['peak_rss_mib']:.2f}x"
        )


if __name__ == "__main__":
    main()
