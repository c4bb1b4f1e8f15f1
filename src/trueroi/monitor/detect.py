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

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.monitor.baseline import (
    count_check,
    seasonal_baseline,
    trailing_count,
    trailing_ratio,
    trailing_sum,
)
from trueroi.monitor.panel import Panel, calendar, sum_members, to_panel
from trueroi.monitor.series import (
    DAILY_MEASURES,
    SCOPES,
    Coverage,
    daily_series,
    data_coverage,
    hourly_series,
    last_complete_day,
)
from trueroi.workspace import Workspace

THRESHOLD = 4.0  # |z| at which a day is anomalous
CRITICAL = 2.0  # |z| >= CRITICAL x THRESHOLD is critical, else warning
HISTORY_DAYS = 8 * 7 + 7  # eight same-weekday values plus one pooled week of residuals
HOURLY_HISTORY_DAYS = 5 * 7  # four weeks of hour-of-week slots plus one
WINDOW = 28  # trailing steps of the leaf ratios, the residual scale and the "enough history" checks


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


def parse_scopes(scopes: list[str] | str | None) -> tuple[str, ...]:
    """Scope names (of :data:`~trueroi.monitor.series.SCOPES`; all when None), in that order."""
    if scopes is None:
        return SCOPES
    names = [
        s.strip().lower() for s in (scopes.split(",") if isinstance(scopes, str) else scopes) if s.strip()
    ]
    unknown = [s for s in names if s not in SCOPES]
    if unknown or not names:
        what = f"unknown scope {unknown[0]!r}" if unknown else "no scope given"
        raise UsageError(f"{what}; expected one or more of {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in names)


def _volume(
    kpi: MonitoredKpi, num: np.ndarray, threshold: float, period: int, first: int
) -> dict[str, np.ndarray]:
    """A volume KPI of several scopes (rows x steps), each judged on its own seasonal baseline."""
    hourly = period > 24  # hours: four weeks of hour-of-week slots, the level of the last day
    b = seasonal_baseline(
        num,
        period=period,
        cycles=4 if hourly else 8,
        level_window=24 if hourly else period,
        kind=kpi.kind,
        threshold=threshold,
        first=first,
    )
    return {"observed": num, "expected": b.expected, "lower": b.lower, "upper": b.upper, "z": b.z}


def leaf_expectations(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Expected numerator per leaf (rows) and time step (columns): trailing ratio x the step's denominator.

    A leaf without a usable ratio (no denominator in its history: organic traffic, a new campaign)
    contributes what it observed, so it moves no judgement. Steps a leaf has no value for (before it
    started, gaps) stay NaN: they are not zeros to learn from.
    """
    rho = trailing_ratio(num, den, window=WINDOW)
    return np.where(np.isnan(rho), num, rho * den)


def driven_expectations(num: np.ndarray, driver: np.ndarray, kind: str, first: int = 0) -> np.ndarray:
    """Expected volume per leaf (rows) and time step (columns) for a KPI with a ``driver``.

    A leaf with the driver in its history (a paid campaign with clicks) expects its trailing ratio to the
    driver times the day's driver: a broken tag loses sessions the platform still counts as clicks, a
    paused flight loses both. Other leaves (organic, direct) expect their seasonal baseline. A leaf with
    neither (too new) contributes what it observed. Steps before ``first`` are NaN (not computed).
    """
    rho = trailing_ratio(num, driver, window=WINDOW)
    seasonal = seasonal_baseline(num, kind=kind, first=first, where=np.isnan(rho)).expected  # used there only
    guess = np.where(np.isnan(rho), seasonal, rho * driver)
    out = np.where(np.isnan(guess), num, guess)
    out[..., :first] = np.nan
    return out


def _driven(
    kpi: MonitoredKpi, num: np.ndarray, expected_num: np.ndarray, threshold: float, first: int
) -> dict[str, np.ndarray]:
    """A driven volume KPI of several scopes, judged against the sums of their leaves' expectations.

    Judged once three of the scope's last four weeks hold values (a new scope, or one after a gap, waits).
    """
    enough = trailing_count(~np.isnan(num), WINDOW) >= 21
    b = count_check(
        num, np.where(enough, expected_num, np.nan), window=WINDOW, threshold=threshold, first=first
    )
    return {"observed": num, "expected": b.expected, "lower": b.lower, "upper": b.upper, "z": b.z}


def _ratio(
    kpi: MonitoredKpi, m: dict[str, np.ndarray], expected_num: np.ndarray, threshold: float, first: int
) -> dict[str, np.ndarray]:
    """A ratio KPI of several scopes: its numerator judged against the sums of their leaves' expectations.

    ``m``: the scopes' measures (rows x steps) by column name.
    """
    num, den = m[kpi.num], m[kpi.den]
    unit: np.ndarray | float = 1.0
    if kpi.kind == "money":  # revenue judged in orders: divide by the trailing average order value
        rev_sum, conv_sum = trailing_sum(num, WINDOW), trailing_sum(m["conversions"], WINDOW)
        with np.errstate(all="ignore"):
            unit = np.where(conv_sum > 0, rev_sum / conv_sum, np.nan)
    usable = (den > 0) & (trailing_count(den > 0, WINDOW) >= 7)
    expected_num = np.where(usable, expected_num, np.nan)
    b = count_check(num, expected_num, unit=unit, window=WINDOW, threshold=threshold, first=first)
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


@dataclass(frozen=True)
class _Judging:
    """How the steps are judged: the ``|z|`` threshold, the season length and the first step to judge."""

    threshold: float
    period: int
    first: int


def _leaf_expected(kpi: MonitoredKpi, leaves: Panel, first: int) -> np.ndarray:
    """Expected numerator of ``kpi`` per leaf and step; a driven KPI's only from ``first - WINDOW`` on (what
    the residual history of the judged steps reads), NaN before."""
    num = leaves.measures[kpi.num]
    if kpi.is_ratio:
        return leaf_expectations(num, leaves.measures[kpi.den])
    return driven_expectations(num, leaves.measures[kpi.driver], kpi.kind, first=max(first - WINDOW, 0))


def _scores(
    kpi: MonitoredKpi, scopes: Panel, rows: np.ndarray, leaves: Panel | None, judge: _Judging
) -> dict[str, np.ndarray]:
    """Observed, expected, range and ``z`` of ``kpi`` for the scope rows ``rows`` (rows x steps)."""
    m = {k: v[rows] for k, v in scopes.measures.items()}
    if leaves is None:
        return _volume(kpi, m[kpi.num], judge.threshold, judge.period, judge.first)
    expected = sum_members(scopes, rows, leaves, _leaf_expected(kpi, leaves, judge.first))
    if kpi.is_ratio:
        return _ratio(kpi, m, expected, judge.threshold, judge.first)
    return _driven(kpi, m[kpi.num], expected, judge.threshold, judge.first)


def evaluate(
    series: pd.DataFrame,
    kpis: list[MonitoredKpi],
    *,
    time_col: str = "date_day",
    period: int = 7,
    threshold: float = THRESHOLD,
    since: date | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Observed value, baseline and score of every KPI, scope and time step of ``series``.

    Volume KPIs are judged on each scope's own series. Ratio KPIs are judged on their numerator given
    their denominator, with the expectation summed over the scope's leaves (channel x campaign), so a
    shift of the mix between campaigns with different CPAs is expected, not an anomaly. All scopes of a
    KPI are judged together as one matrix (scopes x time steps, :mod:`trueroi.monitor.panel`).

    Parameters
    ----------
    series
        Output of :func:`~trueroi.monitor.series.daily_series` (or ``hourly_series`` with
        ``time_col="hour"`` and ``period=168``): one row per scope and time step, from the scope's first
        step to the last one.
    since
        First time step to return (a day, or an hour); the steps before are read as history only.
        None: every step.

    Returns
    -------
    DataFrame
        ``<time_col>, scope, scope_value, kpi, observed, expected, lower, upper, z``, ordered by scope,
        scope value, KPI (in the order of ``kpis``) and time; ``z`` is NaN where the history is too short
        or the KPI is undefined (a ratio with a zero denominator).
    """
    cols = [time_col, "scope", "scope_value", "kpi", "observed", "expected", "lower", "upper", "z"]
    if series.empty:
        return pd.DataFrame(columns=cols)
    times = calendar(series, time_col)
    first = 0 if since is None else int(pd.Index(times).searchsorted(since))
    judge = _Judging(threshold, period, first)
    measures = [c for c in (*DAILY_MEASURES, "orders") if c in series]
    is_leaf = (series["scope"] == "leaf").to_numpy()
    scopes = to_panel(series[~is_leaf], time_col, times, measures)
    leaves = to_panel(series[is_leaf], time_col, times, measures) if is_leaf.any() else None
    found: list[tuple[np.ndarray, int, dict[str, np.ndarray]]] = []
    for k, kpi in enumerate(kpis):
        if kpi.num not in scopes.measures or (kpi.den and kpi.den not in scopes.measures):
            continue
        if kpi.is_ratio and leaves is None:
            continue
        rows = scopes.rows_of(kpi.scopes)
        if rows.size:
            found.append(
                (rows, k, _scores(kpi, scopes, rows, leaves if kpi.is_ratio or kpi.driver else None, judge))
            )
    return _long(found, scopes, kpis, time_col, first, cols)


def _long(
    found: list[tuple[np.ndarray, int, dict[str, np.ndarray]]],
    scopes: Panel,
    kpis: list[MonitoredKpi],
    time_col: str,
    first: int,
    cols: list[str],
) -> pd.DataFrame:
    """The scores as one row per scope, KPI and step the scope has a row for (from step ``first``)."""
    if not found:
        return pd.DataFrame(columns=cols)
    parts: dict[str, list[np.ndarray]] = {c: [] for c in ("row", "kpi", "step", *cols[4:])}
    for rows, k, values in found:
        keep = scopes.present[rows].copy()
        keep[:, :first] = False
        r, t = np.nonzero(keep)
        parts["row"].append(rows[r])
        parts["kpi"].append(np.full(r.size, k))
        parts["step"].append(t)
        for c in cols[4:]:
            parts[c].append(values[c][r, t])
    flat = {c: np.concatenate(v) for c, v in parts.items()}
    order = np.lexsort((flat["step"], flat["kpi"], flat["row"]))
    row = flat["row"][order]
    names = np.array([k.name for k in kpis], dtype=object)
    out = {
        time_col: scopes.times[flat["step"][order]],
        "scope": scopes.scope[row],
        "scope_value": scopes.scope_value[row],
        "kpi": names[flat["kpi"][order]],
    }
    out.update({c: flat[c][order] for c in cols[4:]})
    return pd.DataFrame(out, columns=cols)


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
    ws: Workspace,
    start: date,
    end: date,
    kpis: list[MonitoredKpi],
    threshold: float = THRESHOLD,
    coverage: Coverage | None = None,
    scopes: Sequence[str] = SCOPES,
) -> pd.DataFrame:
    """:func:`evaluate` on the daily series of ``[start, end]`` (history read before ``start``).

    ``coverage``: what the data covers (default :func:`history_coverage` of ``[start, end]``), passed by a
    caller that also judges hours, so the workspace is asked once. ``scopes``: the scopes judged.
    """
    coverage = coverage or history_coverage(ws, start, end)
    first = start - timedelta(days=HISTORY_DAYS)
    series = daily_series(ws, first, end, coverage=coverage, scopes=scopes)
    scored = evaluate(series, kpis, threshold=threshold, since=start)
    return scored[(scored["date_day"] >= start) & (scored["date_day"] <= end)].reset_index(drop=True)


def scored_hours(
    ws: Workspace,
    start: date,
    end: date,
    kpis: list[MonitoredKpi],
    threshold: float = THRESHOLD,
    coverage: Coverage | None = None,
) -> pd.DataFrame:
    """:func:`evaluate` on the hourly tracking volume of ``[start, end]`` (same hour of the week, 4 weeks).

    ``coverage``: as for :func:`scored_days` (any coverage of a range holding the four weeks before
    ``start`` and ``[start, end]``).
    """
    hourly = [k for k in kpis if k.hourly]
    if not hourly:
        return pd.DataFrame(columns=["hour", "scope", "scope_value", "kpi", "z"])
    series = hourly_series(ws, start - timedelta(days=HOURLY_HISTORY_DAYS), end, coverage=coverage)
    if series.empty:
        return pd.DataFrame(columns=["hour", "scope", "scope_value", "kpi", "z"])
    scored = evaluate(
        series, hourly, time_col="hour", period=168, threshold=threshold, since=pd.Timestamp(start)
    )
    days = pd.to_datetime(scored["hour"]).dt.date
    return scored[(days >= start) & (days <= end)].reset_index(drop=True)


def history_coverage(ws: Workspace, start: date, end: date) -> Coverage:
    """What the data covers on the days judged in ``[start, end]`` and the history the baselines read."""
    return data_coverage(ws, start - timedelta(days=HISTORY_DAYS), end)


def detect_anomalies(
    ws: Workspace,
    start: date | None = None,
    end: date | None = None,
    kpis: list[str] | str | None = None,
    *,
    threshold: float = THRESHOLD,
    hourly: bool = False,
    scopes: list[str] | str | None = None,
) -> list[Anomaly]:
    """Anomalies of the monitored KPIs in ``[start, end]``, every scope (total, channel, campaign) or some.

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
    scopes
        Judge only these scopes (of total, channel and campaign; a list or comma-separated; default all):
        a summary that shows no campaigns need not judge the thousands of campaign names of a GA4 export.
    """
    chosen, where = parse_kpis(kpis), parse_scopes(scopes)
    start, end = judged_days(ws, start, end)
    coverage = history_coverage(ws, start, end)
    scored = scored_days(ws, start, end, chosen, threshold, coverage, where)
    found = anomalies_from(scored, threshold)
    if hourly and "total" in where:  # the hourly volume is the whole business's
        hours = scored_hours(ws, start, end, chosen, threshold, coverage)
        found += anomalies_from(hours, threshold, grain="hour")
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
