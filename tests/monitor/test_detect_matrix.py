"""The scopes of a KPI judged together as one matrix equal each series judged on its own.

The reference below is the module docstrings' formulas written out per series and per day in plain Python
(``statistics.median`` over lists, no numpy windows), on a small hand-built set of series: a total, three
channels and three campaigns over four leaves, one of them starting on day 20, one campaign name shared by
two channels, and a tracking gap (sessions unknown on one day in every scope).
"""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from trueroi.monitor.detect import MONITORED, evaluate

DAYS = 84
START = date(2026, 3, 2)
GAP = 40  # sessions not known on this day (a gap in the tracking export)
LEAVES = {  # (channel, campaign): first day, spend a day, clicks per euro, conversions per euro, sessions
    ("Search", "a"): (0, 120.0, 0.5, 0.03, None),
    ("Search", "b"): (20, 40.0, 0.8, 0.05, None),
    ("Email", "news"): (0, 0.0, 0.0, 0.0, 30.0),  # organic: sessions and conversions without spend
    ("Social", "news"): (0, 60.0, 0.3, 0.01, None),
}
KPIS = ["spend", "conversions", "sessions", "cpa", "ctr", "roas"]
MEASURES = ["spend", "impressions", "clicks", "conversions", "revenue", "sessions"]


def _leaf_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    weekday = np.array([1.0, 1.1, 1.2, 1.0, 0.9, 0.6, 0.5])
    rows = []
    for (channel, campaign), (first, spend, cpc, cr, organic) in LEAVES.items():
        for t in range(first, DAYS):
            s = round(spend * weekday[t % 7] * rng.uniform(0.8, 1.2), 2)
            clicks = float(rng.poisson(s * cpc))
            sessions = (
                float(rng.poisson(organic * weekday[t % 7])) if organic else float(rng.poisson(0.9 * clicks))
            )
            conv = float(rng.poisson(s * cr + (2.0 if organic else 0.0)))
            if t == 70 and campaign == "a":
                conv = 0.0  # a CPA spike: nothing bought on a normal day's spend
            impressions = float(rng.poisson(40 * clicks + 5))
            revenue = round(conv * rng.uniform(30, 60), 2)
            rows.append(
                dict(t=t, channel=channel, campaign=campaign, spend=s, impressions=impressions, clicks=clicks,
                     conversions=conv, revenue=revenue, sessions=sessions)
            )  # fmt: skip
    leaf = pd.DataFrame(rows)
    for m in MEASURES:  # a measure is not known before its first non-zero day in a leaf (a new series)
        started = (leaf[m] != 0).groupby([leaf["channel"], leaf["campaign"]]).cummax()
        leaf.loc[~started, m] = np.nan
    return leaf


def _series() -> pd.DataFrame:
    """Leaves and their sums per scope, as daily_series gives them (rows from each scope's first day)."""
    leaf = _leaf_frame()
    parts = [leaf.assign(scope="leaf", scope_value=leaf["channel"] + " / " + leaf["campaign"])]
    for scope, keys in (("total", []), ("channel", ["channel"]), ("campaign", ["campaign"])):
        g = leaf.groupby(["t", *keys], as_index=False)[MEASURES].sum(min_count=1)
        value = g[keys[0]] if keys else "(all)"
        parts.append(g.assign(scope=scope, scope_value=value))
    out = pd.concat(parts, ignore_index=True)
    out.loc[out["t"] == GAP, "sessions"] = np.nan
    out["date_day"] = [START + timedelta(days=int(t)) for t in out["t"]]
    return out.sample(frac=1.0, random_state=1).reset_index(drop=True)  # row order must not matter


# ---- the reference: one series, one day at a time ----


def _median(values: list[float]) -> float:
    known = [v for v in values if not math.isnan(v)]
    return statistics.median(known) if known else math.nan


def _window(y: list[float], t: int, width: int) -> list[float]:
    return [y[s] if s >= 0 else math.nan for s in range(t - width, t)]


def _div(a: float, b: float) -> float:  # a / b with a / 0 = inf, as numpy divides
    return a / b if b != 0 else math.inf


def _a(x: float) -> float:  # Anscombe: 2 sqrt(x + 3/8)
    return 2.0 * math.sqrt(max(x, 0.0) + 3 / 8)


def _a_inv(a: float) -> float:
    return 0.0 if a <= _a(0.0) else (a / 2) ** 2 - 3 / 8


def _seasonal(y: list[float], t: int, kind: str) -> tuple[float, float, float, float]:
    """Expected, lower, upper and z of day t: eight weeks of history, weekday slots, a week's level."""
    w = _window(y, t, 56)
    if sum(not math.isnan(v) for v in w) < 28:
        return (math.nan,) * 4
    off = 3 / 8 if kind == "count" else max(0.05 * _median([abs(v) for v in w]), 1e-6)
    off = 1e-6 if math.isnan(off) else off

    def fwd(v: float) -> float:
        return 2 * math.sqrt(max(v, 0) + off) if kind == "count" else math.log(max(v, 0) + off)

    def back(a: float) -> float:
        if kind == "count":
            return 0.0 if a <= 2 * math.sqrt(off) else (a / 2) ** 2 - off
        return max(math.exp(a) - off, 0.0)

    x = [fwd(v) if not math.isnan(v) else math.nan for v in w]
    slot = [_median(x[j::7]) for j in range(7)]  # column c is in the predicted day's weekday when c % 7 == 0
    centre = _median(slot)
    season = [s - centre if not math.isnan(s) else 0.0 for s in slot]
    d = [v - season[c % 7] for c, v in enumerate(x)]
    expected = _median(d[-7:]) + season[0]
    miss = [d[c] - _median(d[c - 7 : c]) for c in range(7, 56)]
    mid = _median(miss)
    sigma = 1.4826 * _median([abs(m - mid) for m in miss])
    sigma = max(sigma if not math.isnan(sigma) else 0.0, 1.0 if kind == "count" else 0.175)
    z = (fwd(y[t]) - expected) / sigma if not math.isnan(y[t]) else math.nan
    return back(expected), back(expected - 4 * sigma), back(expected + 4 * sigma), z


def _trailing_ratio(num: list[float], den: list[float], t: int) -> float:
    known = [s for s in range(max(t - 28, 0), t) if not math.isnan(num[s]) and not math.isnan(den[s])]
    n, d = sum(num[s] for s in known), sum(den[s] for s in known)
    if sum(den[s] > 0 for s in known) < 7 or d == 0 or not n / d > 0:
        return math.nan
    return n / d


def _count_check(num: list[float], expected: list[float], unit: list[float], t: int) -> tuple[float, ...]:
    """Expected, lower, upper, z of day t: Anscombe residuals scaled by the MAD of the 28 days before."""

    def resid(s: int) -> float:
        if math.isnan(expected[s]) or not unit[s] > 0 or math.isnan(num[s]):
            return math.nan
        return _a(num[s] / unit[s]) - _a(expected[s] / unit[s])

    if math.isnan(expected[t]) or not unit[t] > 0:
        return (math.nan,) * 4
    hist = [resid(s) if s >= 0 else math.nan for s in range(t - 28, t)]
    mid = _median(hist)
    scale = 1.4826 * _median([abs(h - mid) for h in hist])
    scale = max(scale if not math.isnan(scale) else 0.0, 1.0)
    a = _a(expected[t] / unit[t])
    lower, upper = _a_inv(a - 4 * scale) * unit[t], _a_inv(a + 4 * scale) * unit[t]
    return expected[t], lower, upper, resid(t) / scale


def _leaf_expected(leaf: pd.DataFrame, kpi: str) -> dict[tuple[str, str], list[float]]:
    """Per leaf and day: trailing ratio x the day's denominator (or driver), else the seasonal baseline
    (driven sessions only), else what it observed."""
    k = MONITORED[kpi]
    out = {}
    for key, g in leaf.groupby(["channel", "campaign"]):
        num, den = _by_day(g, k.num), _by_day(g, k.den or k.driver)
        exp = []
        for t in range(DAYS):
            rho = _trailing_ratio(num, den, t)
            if not math.isnan(rho):
                guess = rho * den[t]
            else:
                guess = _seasonal(num, t, "count")[0] if k.driver else math.nan
            exp.append(guess if not math.isnan(guess) else num[t])
        out[key] = exp
    return out


def _by_day(g: pd.DataFrame, col: str) -> list[float]:
    values = dict(zip(g["t"], g[col], strict=True))
    return [float(values.get(t, math.nan)) for t in range(DAYS)]


def _reference(series: pd.DataFrame, kpi: str, scope: str, value: str) -> dict[int, tuple[float, ...]]:
    """Observed, expected, lower, upper and z per day of one scope's series."""
    k = MONITORED[kpi]
    g = series[(series["scope"] == scope) & (series["scope_value"] == value)]
    num, days = _by_day(g, k.num), sorted(g["t"])
    if not k.is_ratio and not k.driver:
        return {t: (num[t], *_seasonal(num, t, k.kind)) for t in days}
    leaf = series[series["scope"] == "leaf"]
    members = [
        e for (ch, camp), e in _leaf_expected(leaf, kpi).items()
        if scope == "total" or (ch if scope == "channel" else camp) == value
    ]  # fmt: skip
    summed = [sum(e[t] for e in members if not math.isnan(e[t])) for t in range(DAYS)]
    if k.driver:
        enough = [sum(not math.isnan(v) for v in _window(num, t, 28)) >= 21 for t in range(DAYS)]
        exp = [summed[t] if enough[t] else math.nan for t in range(DAYS)]
        return {t: (num[t], *_count_check(num, exp, [1.0] * DAYS, t)) for t in days}
    den, conv = _by_day(g, k.den), _by_day(g, "conversions")
    unit = [1.0] * DAYS
    if k.kind == "money":  # revenue in orders: the trailing average order value
        rev_sums = [sum(v for v in _window(num, t, 28) if not math.isnan(v)) for t in range(DAYS)]
        conv_sums = [sum(v for v in _window(conv, t, 28) if not math.isnan(v)) for t in range(DAYS)]
        unit = [r / c if c > 0 else math.nan for r, c in zip(rev_sums, conv_sums, strict=True)]
    usable = [den[t] > 0 and sum(v > 0 for v in _window(den, t, 28)) >= 7 for t in range(DAYS)]
    exp = [summed[t] if usable[t] else math.nan for t in range(DAYS)]
    out = {}
    for t in days:
        e, lo, hi, z = _count_check(num, exp, unit, t)
        if k.inverted:  # CPA: spend over conversions, the range flips
            observed = den[t] / num[t] if num[t] > 0 else math.nan
            nan = math.isnan(z)
            out[t] = (observed, *(math.nan,) * 3, -z) if nan else (
                observed, _div(den[t], e), _div(den[t], hi), _div(den[t], lo) if lo > 0 else math.inf, -z
            )  # fmt: skip
        else:
            observed = num[t] / den[t] if den[t] > 0 else math.nan
            out[t] = (observed, *((v / den[t]) if not math.isnan(z) else math.nan for v in (e, lo, hi)), z)
    return out


# ---- the tests ----


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    return _series()


def test_matrix_scores_equal_the_per_series_formulas(series) -> None:
    scored = evaluate(series, [MONITORED[k] for k in KPIS])
    scored["t"] = [(d - START).days for d in scored["date_day"]]
    checked = judged = 0
    for (scope, value, kpi), g in scored.groupby(["scope", "scope_value", "kpi"]):
        ref = _reference(series, kpi, scope, value)
        assert sorted(g["t"]) == sorted(ref), (scope, value, kpi)  # one row per day the scope has
        got = g[["t", "observed", "expected", "lower", "upper", "z"]].to_numpy(dtype=float)
        want = np.array([(t, *ref[int(t)]) for t in got[:, 0]])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=f"{scope} {value} {kpi}")
        checked += len(g)
        judged += int(np.isfinite(got[:, 5]).sum())
    # every scope (1 total, 3 channels, 3 campaigns) x KPI that applies to it, and most days judged
    assert scored.groupby(["scope", "scope_value"]).ngroups == 7
    assert set(scored["kpi"]) == set(KPIS)
    assert judged > 0.5 * checked
    # the CPA spike of campaign a on day 70 is found (no conversion where about 4 were expected)
    spike = scored[(scored["scope_value"] == "a") & (scored["kpi"] == "cpa") & (scored["t"] == 70)]
    assert spike["z"].iloc[0] >= 2.0


def test_rows_ordered_by_scope_then_kpi_then_day(series) -> None:
    kpis = [MONITORED[k] for k in ("cpa", "spend")]  # KPIs in the order asked, not by name
    scored = evaluate(series, kpis)
    keys = list(dict.fromkeys(zip(scored["scope"], scored["scope_value"], scored["kpi"], strict=True)))
    scopes = sorted({(s, v) for s, v, _ in keys})  # campaign < channel < total, then by value
    assert keys == [(s, v, k) for s, v in scopes for k in ("cpa", "spend")]
    for _, g in scored.groupby(["scope", "scope_value", "kpi"]):
        assert list(g["date_day"]) == sorted(g["date_day"])


def test_judging_from_a_day_reads_the_days_before_as_history_only(series) -> None:
    kpis = [MONITORED[k] for k in KPIS]
    full = evaluate(series, kpis)
    since = START + timedelta(days=60)
    late = evaluate(series, kpis, since=since)
    assert late["date_day"].min() == since
    pd.testing.assert_frame_equal(late, full[full["date_day"] >= since].reset_index(drop=True))
