"""Goal status: actual to date, the expected value at the end of the period with an interval, a verdict.

For each goal, the daily measures in its scope are summed over the elapsed days (the actual), the remaining
days are forecast jointly for every measure (:mod:`trueroi.goals.forecast`), and the KPI's formula is applied
to actual + forecast sums: additive KPIs add up, ratio KPIs (ROAS, CPA, ROI) divide the forecast numerator
by the forecast denominator, never average daily ratios.

Verdict (``interval`` = the 80% interval of the period-end value):

* direction ``up`` (reach at least the target): ``on_track`` when the interval's lower end reaches the
  target, ``off_track`` when its upper end misses it, ``at_risk`` otherwise;
* direction ``down`` (cost KPIs, spend caps: stay at most at the target): ``on_track`` when the upper end
  stays at or under the target, ``off_track`` when the lower end is over it, ``at_risk`` otherwise.

Once the period is over the interval is the actual itself, so the verdict says whether the goal was met.

The interval holds the uncertainty of counting: measures that are counts (:data:`COUNTS`: orders, signups,
deals, sessions) and money that comes per count (:data:`PER_COUNT`: revenue per order) are forecast with
the counting noise of the remaining days and of the rate (:func:`trueroi.goals.forecast.count_draws`), so
a count goal with days left never has a point interval.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from trueroi.goals.forecast import forecast_remaining
from trueroi.goals.series import DailyFacts, load_daily
from trueroi.goals.store import Goal, load_goals, scope_text
from trueroi.io import jsonable
from trueroi.metrics.definitions import KPIS
from trueroi.metrics.engine import data_range
from trueroi.metrics.facts import MEASURES
from trueroi.workspace import Workspace

INTERVAL = 0.8
HISTORY_DAYS = 3 * 365
# Measures (trueroi.metrics.facts.MEASURES) that count events, and money measures that come per event.
COUNTS = frozenset(
    {
        "impressions",
        "clicks",
        "platform_conversions",
        "conversions",
        "new_customers",
        "sessions",
        "engaged_sessions",
        "leads",
        "deals",
    }
)
PER_COUNT = {
    "revenue": "conversions",
    "cogs": "conversions",
    "platform_value": "platform_conversions",
    "deal_value": "deals",
}


@dataclass
class Projection:
    """Sums of every measure in scope: actual to date, actual + point forecast, actual + joint draws."""

    actual: pd.Series
    expected: pd.Series
    draws: pd.DataFrame
    method: str
    days_elapsed: int
    days_total: int


@dataclass
class GoalStatus:
    """Where one goal stands on ``as_of`` (see the module docstring for the verdict)."""

    goal: Goal
    as_of: date
    actual: float | None
    expected: float | None
    expected_lower: float | None
    expected_upper: float | None
    status: str
    days_elapsed: int
    forecast_method: str
    notes: list[str] = field(default_factory=list)

    @property
    def progress(self) -> float | None:
        """How far the goal is reached, as a share of its target (1.0 = exactly at the target).

        * direction ``up``: actual to date / target (for a ratio KPI such as ROAS: the current level);
        * direction ``down``, ratio KPI (CPA, CPC, bounce rate: lower is better): target / the worse of the
          current level and the period-end forecast, so a cost over its target reads under 100% and an off
          track goal never shows above 100% (a CPA of 122 against 20 is 16.4%, not 611%);
        * direction ``down``, additive KPI (a spend cap): the share of the cap used so far, actual / target.

        None without an actual or a target, or for a ``down`` ratio whose level is not positive.
        """
        g = self.goal
        if self.actual is None or not g.target:
            return None
        if g.direction == "up" or is_additive(g.kpi):
            return self.actual / g.target
        worst = max(v for v in (self.actual, self.expected) if v is not None)
        return g.target / worst if worst > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``trueroi goal status --format json`` (one element of its list)."""
        g = self.goal
        return {
            "name": g.name,
            "kpi": g.kpi,
            "type": g.conv_type,
            "label": KPIS[g.kpi].label if g.conv_type is None else f"{KPIS[g.kpi].label} ({g.conv_type})",
            "unit": KPIS[g.kpi].kind,
            "scope": {"channel": g.channel, "campaign": g.campaign},
            "horizon": g.horizon,
            "from": g.date_from.isoformat(),
            "to": g.date_to.isoformat(),
            "as_of": self.as_of.isoformat(),
            "target": g.target,
            "actual": self.actual,
            "progress": self.progress,
            "expected": self.expected,
            "expected_lower": self.expected_lower,
            "expected_upper": self.expected_upper,
            "interval": INTERVAL,
            "status": self.status,
            "direction": g.direction,
            "days_elapsed": self.days_elapsed,
            "days_total": g.days_total,
            "forecast_method": self.forecast_method,
            "notes": self.notes,
        }


@dataclass
class GoalReport:
    """The status of every declared goal on one day (an empty list when there is no goal)."""

    statuses: list[GoalStatus]

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON of ``trueroi goal status --format json``: one :meth:`GoalStatus.to_dict` per goal."""
        return jsonable([s.to_dict() for s in self.statuses])

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per goal, for a table or CSV.

        The fields of :meth:`GoalStatus.to_dict` without ``scope`` and ``notes``, plus ``channel``,
        ``campaign``, ``kpi_label`` (label and ≥ or ≤), ``scope_text``, ``period`` (``from..to``) and
        ``interval_text`` (the interval's ends, or – without one).
        """
        rows = []
        for r in self.to_dict():
            lo, hi = r["expected_lower"], r["expected_upper"]
            arrow = "≤" if r["direction"] == "down" else "≥"
            rows.append(
                {
                    **{k: v for k, v in r.items() if k not in ("scope", "notes")},
                    "channel": r["scope"]["channel"],
                    "campaign": r["scope"]["campaign"],
                    "kpi_label": f"{r['label']} {arrow}",
                    "scope_text": scope_text(r["scope"]["channel"], r["scope"]["campaign"]),
                    "period": f"{r['from']}..{r['to']}",
                    "interval_text": "–" if lo is None else f"{lo:,.2f} – {hi:,.2f}",
                }
            )
        return rows


def goal_report(ws: Workspace, as_of: date | None = None) -> GoalReport:
    """Status of every declared goal on ``as_of`` (default and at most: the last day with data)."""
    return GoalReport(goal_status(ws, as_of))


def goal_status(
    ws: Workspace, as_of: date | None = None, *, goals: list[Goal] | None = None
) -> list[GoalStatus]:
    """Status of every declared goal on ``as_of`` (default and at most: the last day with data).

    ``goals`` evaluates these instead of the declared ones (nothing is stored). Returns an empty list when
    there is no goal.
    """
    goals = load_goals(ws) if goals is None else goals
    if not goals:
        return []
    daily, day = history(ws, as_of)
    out = [_status(daily, g, day) for g in goals]
    note = as_of_note(as_of, day)
    for s in out:
        s.notes += [note] if note else []
    return out


def as_of_note(as_of: date | None, day: date) -> str | None:
    """Say so when the status day had to move to the data's first or last day."""
    if as_of is None or as_of == day:
        return None
    edge = "ends" if as_of > day else "starts"
    return f"the data {edge} on {day}: as of that day, not {as_of}"


def history(ws: Workspace, as_of: date | None) -> tuple[DailyFacts, date]:
    """The daily facts up to the status day, and that day (``as_of`` capped to the data's days).

    At most :data:`HISTORY_DAYS` days are read: enough for the year-over-year index and a year of backtest
    origins for a horizon up to a year.
    """
    span = data_range(ws)
    day = span.end if as_of is None else min(as_of, span.end)
    day = max(day, span.start)
    return load_daily(ws, max(span.start, day - timedelta(days=HISTORY_DAYS - 1)), day), day


def project(
    daily: DailyFacts,
    start: date,
    end: date,
    as_of: date,
    *,
    channel: str | None = None,
    campaign: str | None = None,
    conv_type: str | None = None,
    measures: tuple[str, ...] = MEASURES,
) -> Projection:
    """Actual sums over [start, min(as_of, end)] and forecast sums over the rest of [start, end].

    Only ``measures`` are summed and forecast (the ones the KPI's formula reads), plus the count that a
    money measure comes per (:data:`PER_COUNT`: orders for revenue), which carries its counting noise.
    Without a ``conv_type``; with one, ``conversions`` counts that type instead of orders.
    """
    cols = list(measures)
    if conv_type is None:
        cols += [c for c in dict.fromkeys(PER_COUNT.get(m) for m in measures) if c and c not in cols]
    cut = min(as_of, end)
    elapsed = max(0, (cut - start).days + 1)
    if elapsed:
        actual = daily.series(channel, campaign, conv_type, start, cut)[cols].sum()
    else:
        actual = pd.Series(0.0, index=cols)
    hist = daily.series(channel, campaign, conv_type, daily.start, as_of)[cols]
    horizon = max(0, (end - as_of).days)
    skip = max(0, (start - as_of).days - 1)
    value_of = {cols.index(m): cols.index(c) for m, c in PER_COUNT.items() if m in cols and c in cols}
    fc = forecast_remaining(
        hist.to_numpy(),
        pd.DatetimeIndex(hist.index),
        horizon,
        skip=skip,
        counts=[c in COUNTS for c in cols],
        value_of=value_of,
    )
    expected = actual + pd.Series(fc.point, index=hist.columns)
    draws = pd.DataFrame(actual.to_numpy()[None, :] + fc.draws, columns=hist.columns)
    return Projection(actual, expected, draws, fc.method, elapsed, (end - start).days + 1)


def kpi_values(kpi: str, sums: pd.DataFrame) -> np.ndarray:
    """The KPI's formula (:data:`trueroi.metrics.definitions.KPIS`) on each row of measure sums.

    Null (zero denominator) comes back as NaN.
    """
    frame = sums.reindex(columns=list(MEASURES), fill_value=0.0).astype(float).reset_index(drop=True)
    frame["row_"] = np.arange(len(frame))
    t = ibis.memtable(frame)
    out = t.select(t.row_, v=KPIS[kpi].formula(t).cast("float64")).order_by("row_").execute()
    return out["v"].to_numpy(dtype=float, na_value=np.nan)


@functools.cache
def kpi_measures(kpi: str) -> tuple[str, ...]:
    """The measures a KPI's formula reads, found by changing one measure at a time."""
    base = pd.DataFrame([{m: 1.0 + i for i, m in enumerate(MEASURES)}])
    rows = [base] + [base.assign(**{m: base[m] * 2 + 0.5}) for m in MEASURES]
    values = kpi_values(kpi, pd.concat(rows, ignore_index=True))
    return tuple(m for m, v in zip(MEASURES, values[1:], strict=True) if not np.isclose(v, values[0]))


@functools.cache
def is_additive(kpi: str) -> bool:
    """Whether a KPI adds up over days (spend, orders), as opposed to a ratio (CPA, ROAS): doubling every
    measure doubles it."""
    base = pd.DataFrame([{m: 1.0 + i for i, m in enumerate(MEASURES)}])
    values = kpi_values(kpi, pd.concat([base, base * 2], ignore_index=True))
    return bool(np.isclose(values[1], 2 * values[0]) and not np.isclose(values[0], 0))


def verdict(direction: str, target: float, lower: float | None, upper: float | None) -> str:
    """on_track / at_risk / off_track from the interval of the period-end value (module docstring)."""
    if lower is None or upper is None:
        return "at_risk"
    if direction == "down":
        return "on_track" if upper <= target else "off_track" if lower > target else "at_risk"
    return "on_track" if lower >= target else "off_track" if upper < target else "at_risk"


def _status(daily: DailyFacts, goal: Goal, as_of: date) -> GoalStatus:
    p = project(
        daily,
        goal.date_from,
        goal.date_to,
        as_of,
        channel=goal.channel,
        campaign=goal.campaign,
        conv_type=goal.conv_type,
        measures=kpi_measures(goal.kpi),
    )
    frame = pd.concat([p.actual.to_frame().T, p.expected.to_frame().T, p.draws], ignore_index=True)
    values = kpi_values(goal.kpi, frame)
    actual = _num(values[0])
    expected = _num(values[1])
    lower, upper = interval(values[2:], expected)
    notes = []
    if goal.date_from > as_of:
        notes.append(f"the period starts after the last data day {as_of}: all of it is forecast")
    if goal.date_to < daily.start:
        notes.append(f"the period ends before the data starts ({daily.start}): nothing to measure")
    if expected is None:
        notes.append(f"{goal.kpi} is undefined: its denominator is zero in this scope and period")
    elif lower is None:
        notes.append(f"too little history before {as_of} to give an interval")
    return GoalStatus(
        goal=goal,
        as_of=as_of,
        actual=actual,
        expected=expected,
        expected_lower=lower,
        expected_upper=upper,
        status=verdict(goal.direction, goal.target, lower, upper),
        days_elapsed=p.days_elapsed,
        forecast_method=p.method,
        notes=notes,
    )


def interval(draws: np.ndarray, point: float | None) -> tuple[float | None, float | None]:
    """The central :data:`INTERVAL` of the finite draws, widened to hold ``point``; (None, None) if none."""
    draws = draws[np.isfinite(draws)]
    if point is None or not len(draws):
        return None, None
    tail = (1 - INTERVAL) / 2
    lo, hi = np.quantile(draws, [tail, 1 - tail])
    return min(float(lo), point), max(float(hi), point)


def _num(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)
