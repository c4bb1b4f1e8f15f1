"""Benchmark: anomaly detection on the demo shop, trueroi's monitor vs a robust STL peer (statsmodels).

    python bench/bench_monitor.py --scale 1.0 --days 90

Both judge the same daily volume series (spend, conversions, sessions, orders per total, channel and
campaign) causally: each day only from the 8 weeks before it. The peer is the textbook recipe: a robust STL
(Cleveland et al. 1990; ``statsmodels.tsa.seasonal.STL(period=7, robust=True)``) refitted on every 8-week
window, the forecast ``trend[-1] + seasonal[-7]``, and ``|residual| / (1.4826 MAD)`` >= 4 as the alarm,
spend on the log scale, counts on the Anscombe scale (the same scales trueroi uses). Reported: wall time,
false-alarm rate per series-day on clean data (all, and outside the demo's planned dark flights), and
which of the three injected incidents each catches on its day (tracking drop, campaign spend x3, spend
stop). trueroi's ratio KPIs (CPA, ROAS, CTR) have no STL counterpart and are timed separately.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

VOLUMES = ("spend", "conversions", "sessions", "orders")
FLIGHTING = ("Social Prospecting", "Display", "Online Video")
DROP, SPIKE, STOP = date(2026, 9, 8), date(2026, 9, 15), date(2026, 9, 21)


def _prepare(root: Path, scale: float):
    from trueroi.demo import demo_config, generate, load_into
    from trueroi.workspace import Workspace

    files = generate(root / "demo", seed=7, scale=scale)
    clean = Workspace.init(root / "clean", demo_config())
    load_into(clean, files)
    clean.close()
    shutil.copytree(root / "clean", root / "injected")
    injected = Workspace.open(root / "injected")
    raw = injected.con.con
    raw.execute("DELETE FROM touchpoints WHERE date_day = ?", [DROP])
    raw.execute(
        "UPDATE ad_performance SET spend = spend * 3 WHERE date_day = ? AND campaign_name = 'brand_broad'",
        [SPIKE],
    )
    raw.execute(
        "DELETE FROM ad_performance WHERE date_day >= ? AND campaign_name = 'shopping_pmax_all'", [STOP]
    )
    return Workspace.open(root / "clean"), injected


def _stl_scores(series: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    from statsmodels.tsa.seasonal import STL

    out = []
    for (scope, value), g in series[series["scope"] != "leaf"].groupby(["scope", "scope_value"]):
        g = g.sort_values("date_day").reset_index(drop=True)
        for kpi in VOLUMES:
            if g[kpi].isna().all():
                continue
            y = g[kpi].to_numpy(dtype=float)
            a = np.log(y + 0.05 * max(np.median(y), 1e-6)) if kpi == "spend" else 2 * np.sqrt(y + 3 / 8)
            for t in np.flatnonzero((g["date_day"] >= start) & (g["date_day"] <= end)):
                if t < 56 or np.ptp(a[t - 56 : t]) == 0:
                    continue
                fit = STL(a[t - 56 : t], period=7, robust=True).fit()
                forecast = fit.trend[-1] + fit.seasonal[-7]
                resid = fit.resid
                sigma = 1.4826 * np.median(np.abs(resid - np.median(resid)))
                sigma = max(sigma, 0.175 if kpi == "spend" else 1.0)  # the same floors as trueroi
                out.append((g["date_day"][t], scope, value, kpi, (a[t] - forecast) / sigma))
    return pd.DataFrame(out, columns=["date_day", "scope", "scope_value", "kpi", "z"])


def _trueroi_scores(series: pd.DataFrame, start: date, end: date, kpis: list[str]) -> pd.DataFrame:
    from trueroi.monitor.detect import evaluate, parse_kpis

    s = evaluate(series, parse_kpis(kpis))
    return s[(s["date_day"] >= start) & (s["date_day"] <= end)]


def _rates(scored: pd.DataFrame, camp2ch: dict[str, str]) -> tuple[float, float, int]:
    s = scored.dropna(subset=["z"])
    channel = s["scope_value"].where(s["scope"] != "campaign", s["scope_value"].map(camp2ch))
    alarm = s["z"].abs() >= 4
    rest = ~channel.isin(FLIGHTING)
    return float(alarm.mean()), float(alarm[rest].mean()), len(s)


def _caught(scored: pd.DataFrame) -> dict[str, bool]:
    def hit(day, kpi, scope, value, sign):
        s = scored[(scored["date_day"] == day) & (scored["kpi"] == kpi) & (scored["scope"] == scope)]
        s = s[s["scope_value"] == value]
        return bool(((sign * s["z"]) >= 4).any())

    return {
        "tracking drop (sessions, total)": hit(DROP, "sessions", "total", "(all)", -1),
        "spend x3 brand_broad (spend)": hit(SPIKE, "spend", "campaign", "brand_broad", 1),
        "spend stop shopping_pmax_all, day 1": hit(STOP, "spend", "campaign", "shopping_pmax_all", -1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=90, help="days judged, ending 2026-09-30")
    args = parser.parse_args()
    from trueroi.monitor.series import daily_series

    warnings.simplefilter("ignore")  # STL/pandas chatter
    end = date(2026, 9, 30)
    start = end - timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        clean, injected = _prepare(Path(tmp), args.scale)
        print(f"demo scale {args.scale}: generated and loaded twice in {time.perf_counter() - t0:.0f} s")
        ads = clean.table("ad_performance")
        m = ads.group_by(ads.campaign_name.lower().name("c")).aggregate(ch=ads.channel.arbitrary()).execute()
        camp2ch = dict(zip(m["c"], m["ch"], strict=True))
        results = {}
        for label, ws in (("clean", clean), ("injected", injected)):
            t = time.perf_counter()
            series = daily_series(ws, start - timedelta(days=63), end)
            t_series = time.perf_counter() - t
            t = time.perf_counter()
            ours = _trueroi_scores(series, start, end, list(VOLUMES))
            t_ours = time.perf_counter() - t
            t = time.perf_counter()
            ratios = _trueroi_scores(series, start, end, ["cpa", "roas", "ctr"])
            t_ratios = time.perf_counter() - t
            t = time.perf_counter()
            peer = _stl_scores(series, start, end)
            t_peer = time.perf_counter() - t
            results[label] = (ours, peer)
            print(
                f"[{label}] series from the warehouse {t_series:.2f} s; volume KPIs: trueroi {t_ours:.2f} s, "
                f"STL peer {t_peer:.2f} s (peer / trueroi = {t_peer / t_ours:.0f}x); "
                f"ratio KPIs (trueroi only) {t_ratios:.2f} s, {len(ratios)} series-days"
            )
        for name, idx in (("trueroi", 0), ("STL peer", 1)):
            fa, fa_rest, n = _rates(results["clean"][idx], camp2ch)
            caught = _caught(results["injected"][idx])
            print(
                f"{name:9s} false alarms {fa:.4f} of {n} series-days "
                f"({fa_rest:.4f} outside planned flights); "
                f"caught {sum(caught.values())}/3: {caught}"
            )
        clean.close()
        injected.close()


if __name__ == "__main__":
    main()
