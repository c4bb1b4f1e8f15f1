"""Benchmark: a 12-month Search Console bulk export (``searchdata_url_impression``, Parquet) imported and
asked for its SEO KPIs, next to pandas on the same file.

    python bench/bench_seo.py --rows 5000000         # try the size first
    python bench/bench_seo.py                        # 50 M rows (issue 21)
    python bench/bench_seo.py --profile              # and write cProfile listings of each step

The file is written the way Google's bulk data export lays out the URL table in BigQuery (``data_date,
site_url, url, query, is_anonymized_query, is_anonymized_discover, country, search_type, device``, the
``is_*`` search-appearance flags, ``impressions, clicks, sum_position``; see "Bulk data export" in the Search
Console help and its table guidelines): one site, 365 days of 2025, tens of thousands of URLs and millions of
distinct queries drawn Zipf-like (a few head queries on most days, a long tail seen once), about 5 % of rows
anonymized (null query), countries as lower-case ISO-3166 alpha-3, ``sum_position`` the 0-based sum of the
topmost position over impressions. It is generated from a seed day by day with pyarrow (never whole in
memory), each ``(day, url, query, country, device, search_type)`` once, into ``bench/data/seo-<rows>/``
(git-ignored) and reused.

Steps, each in its own process so that its peak memory (max RSS) is its own:

1. ``import_file(ws, "search-console", file)`` into a fresh workspace;
2. ``family_kpis(ws, "seo", by=...)`` for June and for the year, by device, page and query (the whole
   API call: rows, totals and the SEO extras, movers against the previous period and a year before);
3. pandas on the same Parquet file: the needed columns read with the period as a filter, grouped by the same
   column: clicks, impressions, CTR = clicks / impressions, position = sum(sum_position) / sum(impressions)
   + 1 (Google's definition of the average position from the 0-based sums, which the importer stores as
   ``sum_position + impressions``).

The script asserts that both give the same totals and the same number of rows for each question.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE = "sc-domain:acme-shop.de"
YEAR = 2025
QUESTIONS = (  # (label, from, to, by)
    ("month", "2025-06-01", "2025-06-30", "device"),
    ("month", "2025-06-01", "2025-06-30", "page"),
    ("month", "2025-06-01", "2025-06-30", "query"),
    ("year", "2025-01-01", "2025-12-31", "device"),
    ("year", "2025-01-01", "2025-12-31", "page"),
    ("year", "2025-01-01", "2025-12-31", "query"),
)
COLUMN = {"device": "device", "page": "url", "query": "query"}
WORDS = (  # noqa: SIM905
    "jacke herren damen kinder regenjacke wasserdicht winter sommer schuhe sneaker laufschuhe wanderschuhe "
    "hose jeans chino shorts hemd bluse pullover strickjacke mantel parka daunenjacke weste fleece shirt "
    "t-shirt polo kleid rock socken mütze schal handschuhe gürtel tasche rucksack koffer uhr sonnenbrille "
    "kaufen günstig sale angebot outlet online shop bestellen test vergleich erfahrungen bewertung größe "
    "größentabelle farbe schwarz weiß blau rot grün grau beige braun navy oliv leicht warm atmungsaktiv "
    "nachhaltig bio baumwolle wolle merino leinen leder softshell hardshell gore-tex outdoor trekking "
    "camping ski snowboard fahrrad joggen yoga fitness business casual festlich hochzeit baby teenager "
    "xs s m l xl xxl 3xl slim regular oversize lang kurz 2024 2025 neu marke acme acme-shop versand "
    "retoure gutschein rabatt code lieferzeit filiale berlin hamburg münchen köln wien zürich"
).split()
CATEGORIES = (  # noqa: SIM905
    "herren/jacken damen/jacken herren/schuhe damen/schuhe kinder/jacken kinder/schuhe herren/hosen "
    "damen/hosen damen/kleider herren/hemden accessoires/taschen accessoires/muetzen outdoor/wandern "
    "outdoor/camping sport/laufen sport/yoga sale/herren sale/damen marken/acme ratgeber blog"
).split()
COUNTRIES = {"deu": 0.70, "aut": 0.12, "che": 0.09, "nld": 0.015, "usa": 0.012, "gbr": 0.01, "fra": 0.008}
COUNTRIES |= {"ita": 0.007, "pol": 0.007, "bel": 0.006, "lux": 0.005, "dnk": 0.005, "esp": 0.005}
COUNTRIES |= {"cze": 0.004, "swe": 0.004, "tur": 0.004, "zzz": 0.004}
DEVICES = {"MOBILE": 0.62, "DESKTOP": 0.34, "TABLET": 0.04}
SEARCH_TYPES = {"WEB": 0.90, "IMAGE": 0.07, "VIDEO": 0.02, "NEWS": 0.01}
FLAGS = (  # the URL table's search-appearance columns (Google's bulk export schema)
    "is_amp_top_stories", "is_amp_blue_link", "is_job_listing", "is_job_details", "is_tpf_qa", "is_tpf_faq",
    "is_tpf_howto", "is_weblite", "is_action", "is_events_listing", "is_events_details",
    "is_search_appearance_android_app", "is_amp_story", "is_amp_image_result", "is_video",
    "is_organic_shopping", "is_review_snippet", "is_special_announcement", "is_recipe_feature",
    "is_recipe_rich_snippet", "is_subscribed_content", "is_page_experience", "is_practice_problems",
    "is_math_solvers", "is_translated_result", "is_edu_q_and_a", "is_product_snippets",
    "is_merchant_listings", "is_learning_videos",
)  # fmt: skip


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _sizes(rows: int) -> tuple[int, int]:
    """Distinct queries and URLs for a file of ``rows`` rows (50 M rows: 5 M queries, 40,000 URLs)."""
    return max(10_000, rows // 10), max(2_000, min(40_000, rows // 1_000))


def _zipf_cdf(n: int, s: float):  # noqa: ANN202
    import numpy as np

    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def _day_weights(days: list[date]):  # noqa: ANN202
    """Relative rows per day: fewer on Saturdays, more in autumn and winter (a clothing shop)."""
    import numpy as np

    week = np.array([1.05, 1.05, 1.0, 1.0, 0.95, 0.8, 0.95])[[d.weekday() for d in days]]
    season = 1.0 + 0.2 * np.cos(2 * np.pi * (np.array([d.timetuple().tm_yday for d in days]) - 350) / 365)
    w = week * season
    return w / w.sum()


def _texts(ids, base: int):  # noqa: ANN001, ANN202
    """Query texts from query ids: the id's digits in base ``len(WORDS)`` as words (head queries short)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    words = pa.array(WORDS)
    parts, rest, ids = [], ids.copy(), ids
    for i in range(4):
        digit = rest % base
        word = pc.take(words, pa.array(digit))
        keep = ids >= (base**i if i else 0)
        parts.append(pc.if_else(pa.array(keep), word, pa.scalar(None, pa.string())))
        rest = rest // base
    joined = pc.binary_join_element_wise(
        *reversed(parts), pa.scalar(" "), null_handling="replace", null_replacement=""
    )  # not "skip": pyarrow 26 drops the rows where every part is null
    joined = pc.utf8_ltrim_whitespace(joined)
    return pc.if_else(pa.array(np.asarray(ids) < 0), pa.scalar(None, pa.string()), joined)


def _pick(rng, table: dict[str, float], n: int):  # noqa: ANN001, ANN202
    import numpy as np

    p = np.array(list(table.values()))
    return rng.choice(len(table), size=n, p=p / p.sum())


def _draw(rng, m: int, cdf, n_urls: int):  # noqa: ANN001, ANN202
    """``m`` draws of (query id, URL id, country, device, search type, anonymized) and their joint key."""
    import numpy as np

    q = np.searchsorted(cdf, rng.random(m)).astype(np.int64)
    anonymized = rng.random(m) < 0.05
    q[anonymized] = -1
    u = (q * 7919 + rng.integers(0, 3, m)) % n_urls  # a query lands on one of three pages
    u[anonymized] = rng.integers(0, n_urls, int(anonymized.sum()))
    c, d, s = _pick(rng, COUNTRIES, m), _pick(rng, DEVICES, m), _pick(rng, SEARCH_TYPES, m)
    key = (((((q + 1) * n_urls + u) * 32 + c) * 4 + d) * 8) + s
    return key, (q, u, c, d, s, anonymized)


def _day_keys(rng, n: int, cdf, n_urls: int):  # noqa: ANN001, ANN202
    """``n`` distinct draws of :func:`_draw` (the export holds each key once a day), drawn until enough."""
    import numpy as np

    keys, parts = [], []
    have = 0
    for _ in range(50):
        key, drawn = _draw(rng, 2 * (n - have) + 100, cdf, n_urls)
        keys.append(key)
        parts.append(drawn)
        allkeys = np.concatenate(keys)
        _, first = np.unique(allkeys, return_index=True)
        have = len(first)
        if have >= n:
            break
    keep = np.sort(rng.permutation(first)[:n])
    return tuple(np.concatenate([p[i] for p in parts])[keep] for i in range(6))


def _day_table(rng, day: date, n: int, cdf, n_urls: int, urls, schema):  # noqa: ANN001, ANN202
    """``n`` rows of one day, each key once."""
    import numpy as np
    import pyarrow as pa

    q, u, c, d, s, anonymized = _day_keys(rng, n, cdf, n_urls)
    k = len(q)
    position = np.minimum(1.0 + rng.lognormal(1.6, 0.9, k), 100.0)
    popular = 1.0 + 20.0 / (1.0 + np.maximum(q, 0) / 50.0)
    impressions = 1 + rng.poisson(rng.lognormal(0.0, 1.2, k) * popular / np.sqrt(position))
    clicks = rng.binomial(impressions, np.clip(0.35 / position**1.3, 0.0, 0.6))
    flags = {f: np.zeros(k, bool) for f in FLAGS}
    flags["is_product_snippets"] = (u % 5 != 0) & (s == 0)
    flags["is_merchant_listings"] = (u % 3 == 0) & (s == 0)
    flags["is_review_snippet"] = u % 11 == 0
    flags["is_video"] = s == 2
    flags["is_tpf_faq"] = u % 97 == 0
    columns = {
        "data_date": pa.array(np.full(k, np.datetime64(day, "D"))).cast(pa.date32()),
        "site_url": pa.array(np.full(k, SITE)),
        "url": urls.take(pa.array(u)),
        "query": _texts(q, len(WORDS)),
        "is_anonymized_query": pa.array(anonymized),
        "is_anonymized_discover": pa.array(np.zeros(k, bool)),
        "country": pa.array(np.array(list(COUNTRIES))[c]),
        "search_type": pa.array(np.array(list(SEARCH_TYPES))[s]),
        "device": pa.array(np.array(list(DEVICES))[d]),
        **{f: pa.array(v) for f, v in flags.items()},
        "impressions": pa.array(impressions.astype(np.int64)),
        "clicks": pa.array(clicks.astype(np.int64)),
        "sum_position": pa.array(np.round((position - 1.0) * impressions)),
    }
    return pa.table(columns, schema=schema)


def generate(path: Path, rows: int, seed: int) -> dict:
    """Write the bulk URL table of ``rows`` rows over the days of :data:`YEAR` to ``path``, day by day."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    n_queries, n_urls = _sizes(rows)
    cdf = _zipf_cdf(n_queries, 1.05)
    slugs = [f"{WORDS[i % len(WORDS)]}-{WORDS[(i // 7) % len(WORDS)]}-{i}" for i in range(n_urls)]
    urls = pa.array(
        [f"https://www.acme-shop.de/{CATEGORIES[i % len(CATEGORIES)]}/{s}/" for i, s in enumerate(slugs)]
    )
    fields = [("data_date", pa.date32()), ("site_url", pa.string()), ("url", pa.string())]
    fields += [("query", pa.string()), ("is_anonymized_query", pa.bool_())]
    fields += [("is_anonymized_discover", pa.bool_()), ("country", pa.string())]
    fields += [("search_type", pa.string()), ("device", pa.string())]
    fields += [(f, pa.bool_()) for f in FLAGS]
    fields += [("impressions", pa.int64()), ("clicks", pa.int64()), ("sum_position", pa.float64())]
    schema = pa.schema(fields)
    days = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
    per_day = np.floor(_day_weights(days) * rows).astype(int)
    per_day[: rows - per_day.sum()] += 1
    tmp = path.with_suffix(".part")
    written = 0
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for day, n in zip(days, per_day, strict=True):
            table = _day_table(rng, day, int(n), cdf, n_urls, urls, schema)
            written += table.num_rows
            writer.write_table(table)
    tmp.rename(path)
    return {"rows": written, "queries": n_queries, "urls": n_urls, "generate_s": time.perf_counter() - t0}


def step_import(root: Path, profile: bool) -> dict:
    """``trueroi import search-console FILE`` through its library call, into a fresh workspace."""
    from trueroi.ingest import import_file
    from trueroi.workspace import Workspace

    shutil.rmtree(root / "ws", ignore_errors=True)
    with Workspace.init(root / "ws") as ws:
        t0, c0 = time.perf_counter(), _cpu_s()
        file = root / "searchdata_url_impression.parquet"
        prof = root / "profile-import.txt" if profile else None
        result = _profiled(lambda: import_file(ws, "search-console", file), prof)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    size = sum(p.stat().st_size for p in (root / "ws").iterdir() if p.is_file())
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": _peak_mb(), "rows": result.rows, "ws_mb": size / 2**20}


def _profiled(fn, out: Path | None):  # noqa: ANN001, ANN202
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


def _summary(rows, by: str, clicks: str, impressions: str, position: str) -> dict:  # noqa: ANN001
    return {
        "rows": len(rows),
        "clicks": int(rows[clicks].sum()),
        "impressions": int(rows[impressions].sum()),
        "position": float((rows[position] * rows[impressions]).sum() / rows[impressions].sum()),
        "top": [None if v != v or v is None else str(v) for v in _top(rows, by, clicks)],
    }


def _top(rows, by: str, clicks: str) -> list:  # noqa: ANN001
    """The values of ``by`` of the three rows with the most clicks (ties by value; null last)."""
    order = rows.sort_values([clicks, by], ascending=[False, True], na_position="last", kind="stable")
    return list(order[by].iloc[:3])


def step_kpis(root: Path, start: str, end: str, by: str, profile: bool) -> dict:
    """``trueroi kpis --family seo --by BY --from START --to END`` through its library call."""
    from trueroi.metrics import family_kpis
    from trueroi.workspace import Workspace

    with Workspace.open(root / "ws") as ws:
        t0, c0 = time.perf_counter(), _cpu_s()
        prof = root / f"profile-kpis-{by}-{start}.txt" if profile else None
        report = _profiled(lambda: family_kpis(ws, "seo", by=by, date_from=start, date_to=end), prof)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    found = _summary(report.rows, by, "clicks", "impressions", "position")
    found["totals"] = {k: report.totals[k] for k in ("clicks", "impressions", "ctr", "position")}
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": _peak_mb(), "found": found}


def step_pandas(root: Path, start: str, end: str, by: str) -> dict:
    """The same rows with pandas: needed columns read with the period as a filter, grouped, weighted."""
    import pandas as pd

    t0, c0 = time.perf_counter(), _cpu_s()
    col = COLUMN[by]
    df = pd.read_parquet(
        root / "searchdata_url_impression.parquet",
        columns=[col, "clicks", "impressions", "sum_position"],
        filters=[
            ("data_date", ">=", date.fromisoformat(start)),
            ("data_date", "<=", date.fromisoformat(end)),
        ],
    )
    g = df.groupby(col, dropna=False, sort=True)[["clicks", "impressions", "sum_position"]].sum()
    g["ctr"] = g["clicks"] / g["impressions"]
    g["position"] = g["sum_position"] / g["impressions"] + 1.0
    g = g.reset_index()
    if by == "device":  # the importer writes the export's MOBILE as mobile
        g[col] = g[col].str.lower()
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    found = _summary(g, col, "clicks", "impressions", "position")
    return {"wall_s": wall, "cpu_s": cpu, "peak_mb": _peak_mb(), "found": found}


def _child(step: str, root: Path, *extra: str) -> dict:
    cmd = [sys.executable, __file__, "--step", step, "--root", str(root), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{step} {' '.join(extra)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _same(ours: dict, theirs: dict, what: str) -> None:
    """Assert that the KPI call and pandas found the same rows, totals and leading row."""
    for k in ("rows", "clicks", "impressions", "top"):
        assert ours[k] == theirs[k], f"{what}: {k} {ours[k]} (trueroi) != {theirs[k]} (pandas)"
    assert abs(ours["position"] - theirs["position"]) < 1e-9 * theirs["position"], what
    t = ours["totals"]
    assert (t["clicks"], t["impressions"]) == (theirs["clicks"], theirs["impressions"]), what
    assert abs(t["position"] - theirs["position"]) < 1e-9 * theirs["position"], what
    assert abs(t["ctr"] - theirs["clicks"] / theirs["impressions"]) < 1e-12, what


def _took(r: dict) -> str:
    return f"{r['wall_s']:6.1f} s (CPU {r['cpu_s']:6.1f} s), peak {r['peak_mb']:5.0f} MB"


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def run(root: Path, rows: int, seed: int, profile: bool, only: str | None) -> None:
    """Generate (once), import, and ask the questions of :data:`QUESTIONS` both ways, printing each."""
    root.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"data in {root}")  # fmt: skip
    path = root / "searchdata_url_impression.parquet"
    if not path.exists():
        made = generate(path, rows, seed)
        print(f"generated {made['rows']:,} rows ({made['queries']:,} query ids, {made['urls']:,} URLs) in "
              f"{made['generate_s']:.0f} s, {path.stat().st_size / 2**20:,.0f} MiB; {_load()}")  # fmt: skip
    prof = ["--profile"] if profile else []
    if only in (None, "import") or not (root / "ws" / "trueroi.toml").exists():
        print(f"({_load()})")
        done = _child("import", root, *prof)
        print(f"import: {_took(done)}, rows {done['rows']}, warehouse {done['ws_mb']:,.0f} MiB; {_load()}")
    if only == "import":
        return
    for label, start, end, by in QUESTIONS:
        ours = _child("kpis", root, "--from", start, "--to", end, "--by", by, *prof)
        theirs = _child("pandas", root, "--from", start, "--to", end, "--by", by)
        _same(ours["found"], theirs["found"], f"{label} by {by}")
        ratio = ours["wall_s"] / theirs["wall_s"]
        f = theirs["found"]
        print(f"{label} by {by}: {f['rows']:,} rows, clicks {f['clicks']:,}, "
              f"impressions {f['impressions']:,}, position {f['position']:.3f}, same in both")  # fmt: skip
        print(f"  family_kpis {_took(ours)}")
        print(f"  pandas      {_took(theirs)}  -> trueroi / pandas wall {ratio:.2f}; {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--profile", action="store_true", help="write cProfile listings beside the data")
    parser.add_argument("--only", choices=("import", "kpis"), default=None)
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--from", dest="start", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--to", dest="end", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--by", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = args.root or HERE / "data" / f"seo-{args.rows}"
    if args.step == "import":
        print(json.dumps(step_import(root, args.profile)))
    elif args.step == "kpis":
        print(json.dumps(step_kpis(root, args.start, args.end, args.by, args.profile)))
    elif args.step == "pandas":
        print(json.dumps(step_pandas(root, args.start, args.end, args.by)))
    else:
        run(root, args.rows, args.seed, args.profile, args.only)


if __name__ == "__main__":
    main()
