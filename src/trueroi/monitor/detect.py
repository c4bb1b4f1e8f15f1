"""Anomaly detection: every monitored KPI of every scope, judged against its seasonal robust baseline.

Monitored KPIs are declared once in :data:`MONITORED` (found by name, shared by the CLI and alert rules):

* spend, conversions, orders: :func:`~trueroi.monitor.baseline.seasonal_baseline` of the scope's own series
  (weekday pattern, local level, MAD noise; per UTC hour of the week for hourly tracking volume);
* sessions (tracking volume): in paid leaves (channel x campaign with ad clicks) expected at their trailing
  sessions-per-click times the day's clicks, in the others from their seasonal baseline, summed over the
  scope's leaves: a broken tag shows as sessions missing against clicks, a paused flight does not;
* revenue: the same seasonal baseline, on the log scale of money;
* CPA, CPC, ROAS, CTR: the numerator given the denominator (conversions given spend, clicks given spend,
  revenue given spend, clicks given impressions) at each leaf's trailing weighted ratio, summed over the
  scope's leaves, so a shift of the mix between campaigns is expected and a campaign's CPA x3 is not.

Every KPI of :data:`MONITORED` can be watched by an alert rule; :data:`DEFAULT_KPIS` are the ones judged when
none is named (``monitor check`` without ``--kpi``, the report's anomalies). Values the data does not know
(new series, gaps, a source that ended, the incomplete last day: :mod:`trueroi.monitor.series`) are NaN and
never judged; :func:`check_anomalies` says which days were left out and why.

A day (or hour) is anomalous when its standardised deviation ``|z|`` reaches :data:`THRESHOLD`.

>>> from trueroi.monitor import detect_anomalies
>>> [a.to_dict() for a in detect_anomalies(ws, start=date(2026, 9, 30))]   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.monitor.baseline import count_check, seasonal_baseline, trailing_ratio, trailing_windows
from trueroi.monitor.series import daily_series, data_coverage, hourly_series, last_complete_day
from trueroi.workspace import Workspace

THRESHOLD = 4.0  # |z| at which a day is anomalous
CRITICAL = 2.0  # |z| >= CRITICAL x THRESHOLD is critical, else warning
HISTORY_DAYS = 8 * 7 + 7  # eight same-weekday values plus one pooled week of residuals


@dataclass(frozen=True)
class MonitoredKpi:
    """A KPI the monitor watches.

    ``num``/``den`` name the series columns; a volume KPI has only ``num``. ``kind`` is count or money
    for volumes. For ratios, the baseline judges ``num`` given ``den``; ``inverted`` marks KPIs that are
    ``den / num`` (CPA = spend / conversions), so a shortfall of conversions is a rise of the KPI.
    ``driver`` names a column that drives a volume KPI in paid leaves (sessions follow ad clicks): there
    the volume is expected at its trailing ratio to the driver, elsewhere from its seasonal baseline.
    """

    name: str
    label: str
    num: str
    den: str | None = None
    kind: str = "count"
    inverted: bool = False
    scopes: tuple[str, ...] = ("total", "channel", "campaign")
    hourly: bool = False
    driver: str | None = None

    @property
    def is_ratio(self) -> bool:
        return self.den is not None


MONITORED: dict[str, MonitoredKpi] = {
    k.name: k
    for k in (
        MonitoredKpi("spend", "Spend", "spend", kind="money"),
        MonitoredKpi("conversions", "Conversions", "conversions"),
        MonitoredKpi("sessions", "Sessions (tracking volume)", "sessions", hourly=True, driver="clicks"),
        MonitoredKpi("orders", "Orders (tracking volume)", "orders", scopes=("total",), hourly=True),
        MonitoredKpi("cpa", "CPA", "conversions", "spend", inverted=True),
        MonitoredKpi("roas", "ROAS", "revenue", "spend", kind="money"),
        MonitoredKpi("ctr", "CTR", "clicks", "impressions"),
        MonitoredKpi("revenue", "Revenue", "revenue", kind="money"),
        MonitoredKpi("cpc", "CPC", "clicks", "spend", inverted=True),
    )
}
# Judged when no KPI is named: the KPIs watched before revenue and CPC could be (the report's anomaly list
# and `monitor check` keep their volume); alert rules and named KPIs reach every KPI of MONITORED.
DEFAULT_KPIS = ("spend", "conversions", "sessions", "orders", "cpa", "roas", "ctr")


@dataclass(frozen=True)
class Anomaly:
    """One KPI of one scope outside its expected range on one day (or hour).

    ``observed``, ``expected``, ``lower`` and ``upper`` are in the KPI's unit (base currency for spend
    and CPA, a ratio for ROAS and CTR, a count otherwise); ``upper`` is None when unbounded (a CPA with
    no conversion expected at the low end). ``direction`` is up or down in KPI terms, ``score`` the
    standardised deviation ``|z|``.
    """

    day: date
    scope: str
    scope_value: str
    kpi: str
    observed: float | None
    expected: float | None
    lower: float | None
    upper: float | None
    direction: str
    score: float
    severity: str
    grain: str = "day"
    hour: datetime | None = None

    @property
    def channel(self) -> str | None:
        return self.scope_value if self.scope == "channel" else None

    @property
    def campaign(self) -> str | None:
        return self.scope_value if self.scope == "campaign" else None

    @property
    def when(self) -> str:
        """The day (``2026-09-30``) or hour (``2026-09-30T14:00``) the anomaly is about."""
        return self.hour.strftime("%Y-%m-%dT%H:00") if self.hour is not None else self.day.isoformat()

    @property
    def where(self) -> str:
        """The scope for people: ``all``, ``channel Search`` or ``campaign brand_broad``."""
        return "all" if self.scope == "total" else f"{self.scope} {self.scope_value}"

    def describe(self) -> str:
        """One line for people: what, where, when, how far off."""
        where = self.where
        rng = f"{format_value(self.lower)}–{format_value(self.upper) if self.upper is not None else '∞'}"
        return (
            f"{MONITORED[self.kpi].label} {self.direction} ({where}, {self.when}): observed "
            f"{format_value(self.observed)}, expected {format_value(self.expected)} (range {rng}), "
            f"score {self.score:.1f}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: every field, dates as ISO strings."""
        out = asdict(self)
        out["day"] = self.day.isoformat()
        out["hour"] = self.hour.isoformat() if self.hour is not None else None
        out["channel"], out["campaign"] = self.channel, self.campaign
        return out


def format_value(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4f}"


def parse_kpis(kpis: list[str] | str | None) -> list[MonitoredKpi]:
    """Monitored KPIs by name (:data:`DEFAULT_KPIS` when None)."""
    if kpis is None:
        return [MONITORED[k] for k in DEFAULT_KPIS]
    names = [k.strip().lower() for k in (kpis.split(",") if isinstance(kpis, str) else kpis) if k.strip()]
    unknown = [k for k in names if k not in MONITORED]
    if unknown:
        raise UsageError(f"unknown monitored KPI {unknown[0]!r}; expected one of {', '.join(MONITORED)}")
    return [MONITORED[k] for k in names]


def _volume(kpi: MonitoredKpi, g: pd.DataFrame, threshold: float, period: int) -> dict[str, np.ndarray]:
    num = g[kpi.num].to_numpy(dtype=float)
    hourly = period > 24  # hours: four weeks of hour-of-week slots, the level of the last day
    b = seasonal_baseline(
        num,
        period=period,
        cycles=4 if hourly else 8,
        level_window=24 if hourly else period,
        kind=kpi.kind,
        threshold=threshold,
    )
    return {"observed": num, "expected": b.expected, "lower": b.lower, "upper": b.upper, "z": b.z}


def leaf_expectations(leaves: pd.DataFrame, kpi: MonitoredKpi, time_col: str) -> pd.DataFrame:
    """Expected numerator per time step (rows) and leaf (columns): trailing ratio x the day's denominator.

    A leaf without a usable ratio (no denominator in its history: organic traffic, a new campaign)
    contributes what it observed, so it moves no judgement. Days a leaf has no value for (before it
    started, gaps) stay NaN: they are not zeros to learn from.
    """
    num, den = _by_leaf(leaves, kpi.num, time_col), _by_leaf(leaves, kpi.den, time_col)
    expected = num.copy()
    for leaf in num.columns:
        n, d = num[leaf].to_numpy(dtype=float), den[leaf].to_numpy(dtype=float)
        rho = trailing_ratio(n, d)
        expected[leaf] = np.where(np.isnan(rho), n, rho * d)
    return expected


def driven_expectations(leaves: pd.DataFrame, kpi: MonitoredKpi, time_col: str) -> pd.DataFrame:
    """Expected volume per time step (rows) and leaf (columns) for a KPI with a ``driver``.

    A leaf with the driver in its history (a paid campaign with clicks) expects its trailing ratio to the
    driver times the day's driver: a broken tag loses sessions the platform still counts as clicks, a
    paused flight loses both. Other leaves (organic, direct) expect their seasonal baseline. A leaf with
    neither (too new) contributes what it observed.
    """
    num, drv = _by_leaf(leaves, kpi.num, time_col), _by_leaf(leaves, kpi.driver, time_col)
    expected = num.copy()
    for leaf in num.columns:
        n, d = num[leaf].to_numpy(dtype=float), drv[leaf].to_numpy(dtype=float)
        rho = trailing_ratio(n, d)
        seasonal = seasonal_baseline(n, kind=kpi.kind).expected
        guess = np.where(np.isnan(rho), seasonal, rho * d)
        expected[leaf] = np.where(np.isnan(guess), n, guess)
    return expected


def _by_leaf(leaves: pd.DataFrame, column: str, time_col: str) -> pd.DataFrame:
    """One column per leaf, one row per time step; NaN where the leaf has no value (not 0)."""
    return leaves.pivot(index=time_col, columns="scope_value", values=column).astype(float)


def _driven(
    kpi: MonitoredKpi, g: pd.DataFrame, expected_num: np.ndarray, threshold: float
) -> dict[str, np.ndarray]:
    """A driven volume KPI of one scope, judged against the sum of its leaves' expectations.

    Judged once three of the scope's last four weeks hold values (a new scope, or one after a gap, waits).
    """
    num = g[kpi.num].to_numpy(dtype=float)
    enough = (~np.isnan(trailing_windows(num, 28))).sum(axis=1) >= 21
    b = count_check(num, np.where(enough, expected_num, np.nan), threshold=threshold)
    return {"observed": num, "expected": b.expected, "lower": b.lower, "upper": b.upper, "z": b.z}


def _ratio(
    kpi: MonitoredKpi, g: pd.DataFrame, expected_num: np.ndarray, threshold: float
) -> dict[str, np.ndarray]:
    """A ratio KPI of one scope: its numerator judged against the sum of its leaves' expectations."""
    num, den = g[kpi.num].to_numpy(dtype=float), g[kpi.den].to_numpy(dtype=float)
    unit: np.ndarray | float = 1.0
    if kpi.kind == "money":  # revenue judged in orders: divide by the trailing average order value
        conv = g["conversions"].to_numpy(dtype=float)
        rev_sum = np.nansum(trailing_windows(num, 28), axis=1)
        conv_sum = np.nansum(trailing_windows(conv, 28), axis=1)
        with np.errstate(all="ignore"):
            unit = np.where(conv_sum > 0, rev_sum / conv_sum, np.nan)
    usable = (den > 0) & ((trailing_windows(den, 28) > 0).sum(axis=1) >= 7)
    b = count_check(num, np.where(usable, expected_num, np.nan), unit=unit, threshold=threshold)
    with np.errstate(all="ignore"):
        if kpi.inverted:  # CPA = den / num: the range flips
            observed = np.where(num > 0, den / num, np.nan)
            expected, lower = den / b.expected, den / b.upper
            upper = np.where(b.lower > 0, den / b.lower, np.inf)
            z = -b.z
        else:
            observed = np.where(den > 0, num / den, np.nan)
            expected, lower, upper, z = b.expected / den, b.lower / den, b.upper / den, b.z
    nan = np.isnan(b.z)
    out = {"expected": expected, "lower": lower, "upper": upper}
    return {"observed": observed, **{k: np.where(nan, np.nan, v) for k, v in out.items()}, "z": z}


def _members(leaves: pd.DataFrame, scope: str, value: str) -> list[str]:
    keep = leaves if scope == "total" else leaves[leaves[scope] == value]
    return list(dict.fromkeys(keep["scope_value"]))


def evaluate(
    series: pd.DataFrame,
    kpis: list[MonitoredKpi],
    *,
    time_col: str = "date_day",
    period: int = 7,
    threshold: float = THRESHOLD,
) -> pd.DataFrame:
    """Observed value, baseline and score of every KPI, scope and time step of ``series``.

    Volume KPIs are judged on each scope's own series. Ratio KPIs are judged on their numerator given
    their denominator, with the expectation summed over the scope's leaves (channel x campaign), so a
    shift of the mix between campaigns with different CPAs is expected, not an anomaly.

    Parameters
    ----------
    series
        Output of :func:`~trueroi.monitor.series.daily_series` (or ``hourly_series`` with
        ``time_col="hour"`` and ``period=168``).

    Returns
    -------
    DataFrame
        ``<time_col>, scope, scope_value, kpi, observed, expected, lower, upper, z``; ``z`` is NaN where the
        history is too short or the KPI is undefined (a ratio with a zero denominator).
    """
    leaves = series[series["scope"] == "leaf"]
    by_leaf = [k for k in kpis if (k.is_ratio or k.driver) and not leaves.empty]
    expected = {
        k.name: (leaf_expectations if k.is_ratio else driven_expectations)(leaves, k, time_col)
        for k in by_leaf
    }
    out = []
    for (scope, value), g in series[series["scope"] != "leaf"].groupby(["scope", "scope_value"], sort=True):
        g = g.sort_values(time_col)
        members = _members(leaves, scope, value) if by_leaf else []
        for kpi in kpis:
            if scope not in kpi.scopes or kpi.num not in g or (kpi.den and kpi.den not in g):
                continue
            if kpi in by_leaf:
                exp = expected[kpi.name][members].sum(axis=1).reindex(g[time_col]).to_numpy(dtype=float)
                v = (_ratio if kpi.is_ratio else _driven)(kpi, g, exp, threshold)
            elif kpi.is_ratio:
                continue
            else:
                v = _volume(kpi, g, threshold, period)
            frame = pd.DataFrame(v)
            frame.insert(0, time_col, g[time_col].to_numpy())
            frame.insert(1, "scope", scope)
            frame.insert(2, "scope_value", value)
            frame.insert(3, "kpi", kpi.name)
            out.append(frame)
    cols = [time_col, "scope", "scope_value", "kpi", "observed", "expected", "lower", "upper", "z"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


def anomalies_from(scored: pd.DataFrame, threshold: float = THRESHOLD, grain: str = "day") -> list[Anomaly]:
    """The rows of an :func:`evaluate` frame whose ``|z|`` reaches ``threshold``, as :class:`Anomaly`."""
    hits = scored[scored["z"].abs() >= threshold]
    out = []
    for r in hits.itertuples(index=False):
        when = r.hour if grain == "hour" else r.date_day
        up = r.z > 0
        out.append(
            Anomaly(
                day=pd.Timestamp(when).date(),
                scope=r.scope,
                scope_value=r.scope_value,
                kpi=r.kpi,
                observed=_num(r.observed),
                expected=_num(r.expected),
                lower=_num(r.lower),
                upper=_num(r.upper),
                direction="up" if up else "down",
                score=round(float(abs(r.z)), 2),
                severity="critical" if abs(r.z) >= CRITICAL * threshold else "warning",
                grain=grain,
                hour=pd.Timestamp(when).to_pydatetime() if grain == "hour" else None,
            )
        )
    return sorted(out, key=lambda a: (a.day, a.hour or datetime.min, -a.score))


def _num(value: Any) -> float | None:
    value = float(value)
    return None if not np.isfinite(value) else value


def scored_days(
    ws: Workspace, start: date, end: date, kpis: list[MonitoredKpi], threshold: float = THRESHOLD
) -> pd.DataFrame:
    """:func:`evaluate` on the daily series of ``[start, end]`` (history read before ``start``)."""
    series = daily_series(ws, start - timedelta(days=HISTORY_DAYS), end)
    scored = evaluate(series, kpis, threshold=threshold)
    return scored[(scored["date_day"] >= start) & (scored["date_day"] <= end)].reset_index(drop=True)


def scored_hours(
    ws: Workspace, start: date, end: date, kpis: list[MonitoredKpi], threshold: float = THRESHOLD
) -> pd.DataFrame:
    """:func:`evaluate` on the hourly tracking volume of ``[start, end]`` (same hour of the week, 4 weeks)."""
    hourly = [k for k in kpis if k.hourly]
    if not hourly:
        return pd.DataFrame(columns=["hour", "scope", "scope_value", "kpi", "z"])
    series = hourly_series(ws, start - timedelta(days=5 * 7), end)
    if series.empty:
        return pd.DataFrame(columns=["hour", "scope", "scope_value", "kpi", "z"])
    scored = evaluate(series, hourly, time_col="hour", period=168, threshold=threshold)
    days = pd.to_datetime(scored["hour"]).dt.date
    return scored[(days >= start) & (days <= end)].reset_index(drop=True)


def detect_anomalies(
    ws: Workspace,
    start: date | None = None,
    end: date | None = None,
    kpis: list[str] | str | None = None,
    *,
    threshold: float = THRESHOLD,
    hourly: bool = False,
) -> list[Anomaly]:
    """Anomalies of the monitored KPIs in ``[start, end]``, every scope (total, channel, campaign).

    Parameters
    ----------
    start, end
        Inclusive local days to judge; default the newest complete day
        (:func:`~trueroi.monitor.series.last_complete_day`) and ``start = end``.
    kpis
        Names from :data:`MONITORED` (default :data:`DEFAULT_KPIS`).
    threshold
        ``|z|`` at which a day is anomalous (4 by default; see ``bench``/tests for the false-alarm rate).
    hourly
        Also judge the hourly tracking volume (sessions, orders per UTC hour) where timestamps have hours.
    """
    chosen = parse_kpis(kpis)
    start, end = judged_days(ws, start, end)
    found = anomalies_from(scored_days(ws, start, end, chosen, threshold), threshold)
    if hourly:
        found += anomalies_from(scored_hours(ws, start, end, chosen, threshold), threshold, grain="hour")
    return found


def judged_days(ws: Workspace, start: date | None, end: date | None) -> tuple[date, date]:
    """``(start, end)`` with the defaults of :func:`detect_anomalies`; UsageError when reversed."""
    end = end or last_complete_day(ws)
    start = start or end
    if start > end:
        raise UsageError(f"start {start} is after end {end}; swap them")
    return start, end


@dataclass(frozen=True)
class AnomalyReport:
    """The anomalies found by :func:`check_anomalies` (no rules, nothing sent).

    ``notes`` say which days or measures were not judged and why (gaps in the exports, a source that
    ended early, the incomplete last day); they are not part of :meth:`to_dict`, whose shape is the CLI's
    JSON contract.
    """

    anomalies: list[Anomaly]
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One :meth:`Anomaly.to_dict` per anomaly, for a table or CSV."""
        return [a.to_dict() for a in self.anomalies]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi monitor check --format json``: ``{"anomalies": [...]}``."""
        return jsonable({"anomalies": self.rows()})


def check_anomalies(
    ws: Workspace,
    start: date | None = None,
    end: date | None = None,
    kpis: list[str] | str | None = None,
    *,
    hourly: bool = False,
) -> AnomalyReport:
    """What the baselines flag in ``[start, end]`` for every KPI and scope (see :func:`detect_anomalies`),
    with notes on what the data did not let them judge."""
    start, end = judged_days(ws, start, end)
    found = detect_anomalies(ws, start=start, end=end, kpis=kpis, hourly=hourly)
    return AnomalyReport(found, data_coverage(ws, start, end).notes(start, end))
