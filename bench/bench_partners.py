# ruff: noqa: E501 - generated SQL reads better unwrapped
"""Partner statements for a month with 1 M orders and 500 partners: time and peak memory.

Usage::

    .venv/bin/python bench/bench_partners.py --orders 1000000 --partners 500
    .venv/bin/python bench/bench_partners.py --orders 100000 --partners 50    # quick

A workspace is generated under ``bench/data/partners-<orders>-<partners>/`` (git-ignored) and reused: one
order per buyer in October 2026 (90 % paid, 3 % partially refunded, 4 % cancelled, 3 % refunded, at times
inside and after the lock period; 10 % with a voucher; 60 % new customers), 1 to 4 touches per buyer in
the 30 days before (partner links, the brand's paid search, e-mail, direct), and 500 partners recognised by
source + medium (60 %), source + campaign (30 %) or campaign alone (10 %), with revenue, margin and fixed
bases, tiers, returning-customer rates and voucher exclusions. Each measurement runs in a fresh child
process so its peak RSS (``ru_maxrss``, DuckDB included) is its own: the statements of every partner
(crediting by last paid click and commission lines, one Ibis/DuckDB query per event kind), the CSV of all
order-level lines, and one partner's statement.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"

CHILD = """
import json, os, resource, sys, time
from datetime import date
from trueroi.io import dumps
from trueroi.partners import partner_statement
from trueroi.workspace import Workspace

def cpu():
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime

def phase(fn):
    w, c = time.perf_counter(), cpu()
    value = fn()
    return value, {"seconds": round(time.perf_counter() - w, 2), "cpu_seconds": round(cpu() - c, 2)}

root, what = sys.argv[1], sys.argv[2]
ws = Workspace.open(root)
partner = None if what == "all" else what
st, out = phase(lambda: partner_statement(ws, "2026-10", partner=partner, as_of=date(2026, 11, 20)))
out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
result = {"statement": out, "lines": len(st.lines), "load_avg_1min": os.getloadavg()[0]}
if partner is None:
    text, result["json"] = phase(lambda: dumps(st.to_dict(), indent=None))
    result["json_mib"] = round(len(text) / 2**20, 1)
    del text
    _, result["csv"] = phase(lambda: st.write(root + "/statement.csv"))
    result["csv_mib"] = round(os.path.getsize(root + "/statement.csv") / 2**20, 1)
    totals = st.to_dict()["totals"]
    result["owed"] = round(totals["commission"]["owed"], 2)
result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(result))
"""

ORDERS_SQL = """
SELECT order_id, customer_id, user_id, ts, currency, gross - coalesce(refunded, 0) AS revenue, refunded, cogs, status,
       CASE WHEN refunded IS NOT NULL THEN ts + to_days(CAST(hash(i, 11) % 60 AS INTEGER)) END AS status_at,
       is_new_customer, voucher_code
FROM (
  SELECT i, 'o' || i AS order_id, 'c' || i AS customer_id, 'u' || i AS user_id,
         TIMESTAMP '2026-10-01 00:00:00' + to_seconds(CAST(hash(i, 1) % (31 * 86400) AS BIGINT)) AS ts,
         'EUR' AS currency, gross, gross * 0.55 AS cogs,
         CASE WHEN s < 90 THEN 'paid' WHEN s < 93 THEN 'partially_refunded' WHEN s < 97 THEN 'cancelled' ELSE 'refunded' END AS status,
         CASE WHEN s < 90 THEN NULL WHEN s < 93 THEN round(gross * 0.4, 2) ELSE gross END AS refunded,
         hash(i, 3) % 100 < 60 AS is_new_customer,
         CASE WHEN hash(i, 4) % 10 = 0 THEN 'V' || (hash(i, 5) % 20) END AS voucher_code
  FROM (SELECT i, 20 + (hash(i, 6) % 30000) / 100.0 AS gross, hash(i, 2) % 100 AS s FROM range({n}) t(i))
)
"""

TOUCHES_SQL = """
SELECT 't' || i || '_' || k AS touch_id, 'u' || i AS user_id,
       o.ts - to_seconds(CAST(hash(i, k, 7) % (30 * 86400) AS BIGINT)) AS ts,
       CASE WHEN kind < 55 THEN 'p' || p WHEN kind < 70 THEN 'google' WHEN kind < 85 THEN 'newsletter' ELSE '(direct)' END AS source,
       CASE WHEN kind < 55 THEN 'affiliate' WHEN kind < 70 THEN 'cpc' WHEN kind < 85 THEN 'email' ELSE '(none)' END AS medium,
       CASE WHEN kind < 55 THEN 'camp_p' || p WHEN kind < 70 THEN 'brand' WHEN kind < 85 THEN 'news' END AS campaign,
       CASE WHEN kind < 55 THEN 'Affiliate' WHEN kind < 70 THEN 'Paid Search' WHEN kind < 85 THEN 'Email' ELSE 'Direct' END AS channel
FROM (SELECT i, k, hash(i, k, 8) % 100 AS kind, hash(i, k, 9) % {partners} AS p
      FROM range({n}) t(i), range(4) s(k) WHERE k < 1 + hash(i, 10) % 4) x
JOIN (SELECT i AS oi, TIMESTAMP '2026-10-01 00:00:00' + to_seconds(CAST(hash(i, 1) % (31 * 86400) AS BIGINT)) AS ts FROM range({n}) t(i)) o ON o.oi = x.i
"""


def build(root: Path, orders: int, partners: int) -> None:
    """Generate the workspace (orders, touchpoints, one ad row, the partners' rules)."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    from trueroi.ingest.parse import local_day
    from trueroi.partners import make_rule
    from trueroi.partners.rules import RULES
    from trueroi.workspace import Workspace, WorkspaceConfig

    ws = Workspace.init(root, WorkspaceConfig(name="bench-partners"))
    con = duckdb.connect()
    order_rows = con.execute(ORDERS_SQL.format(n=orders)).fetch_arrow_table()
    touch_rows = con.execute(TOUCHES_SQL.format(n=orders, partners=partners)).fetch_arrow_table()
    order_rows = order_rows.append_column(
        "date_day", local_day(pc.cast(order_rows["ts"], pa.timestamp("us")), "Europe/Berlin")
    )
    touch_rows = touch_rows.append_column(
        "date_day", local_day(pc.cast(touch_rows["ts"], pa.timestamp("us")), "Europe/Berlin")
    )
    ads = pa.table(
        {
            "date_day": [order_rows["date_day"][0].as_py()],
            "platform": ["google_ads"],
            "campaign_id": ["brand"],
            "channel": ["Paid Search"],
            "currency": ["EUR"],
            "spend": [1000.0],
            "impressions": [10],
            "clicks": [1],
        }
    )
    ws.load(
        {"orders": order_rows, "touchpoints": touch_rows, "ad_performance": ads},
        source_format="bench",
        file_name="bench",
        sha256="bench",
    )
    rules = []
    for p in range(partners):
        kind = p % 10
        match = (
            {"source": f"p{p}", "medium": "affiliate"}
            if kind < 6
            else {"source": f"p{p}", "campaign": f"camp_p{p}"}
            if kind < 9
            else {"campaign": f"camp_p{p}"}
        )
        basis = ("revenue", "revenue", "margin", "order")[p % 4]
        rate = 2.5 if basis == "order" else 0.05
        rules.append(
            make_rule(
                f"partner{p:03d}",
                **match,
                basis=basis,
                rate=rate,
                tiers=f"50:{rate * 1.5:g},200:{rate * 2:g}" if p % 3 == 0 else None,
                returning_rate=rate / 2 if p % 5 == 0 else None,
                exclude_vouchers="*" if p % 7 == 0 else None,
                lock_days=30,
            ).record()
        )
    RULES.write(ws, rules)  # one write for the 500 rules (add_rule checks each against all others)
    ws.close()


def run(root: Path, what: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), what], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=500)
    args = parser.parse_args()
    root = DATA / f"partners-{args.orders}-{args.partners}"
    if not (root / "trueroi.toml").exists():
        t0 = time.perf_counter()
        build(root, args.orders, args.partners)
        print(f"generated {root} in {time.perf_counter() - t0:.1f} s")
    all_partners = run(root, "all")
    print(f"all {args.partners} partners: {json.dumps(all_partners)}")
    one = run(root, "partner001")
    print(f"one partner (partner001): {json.dumps(one)}")


if __name__ == "__main__":
    main()
