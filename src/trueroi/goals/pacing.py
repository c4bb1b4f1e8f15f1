"""Budget pacing: spend to date against the budget's schedule, projected spend, the daily spend needed.

* **spend to date**: media spend in scope (``ad_performance`` through the KPI engine's facts, base currency)
  over the elapsed days of the budget period;
* **expected spend to date**: by default the budget pro rata by days (``amount x days elapsed / days
  total``, ``"expected_method": "pro_rata_days"``); with ``schedule="weekday"`` each day of the period is
  weighted by the weekday index of the scope's past spend (last 12 weeks up to the status day, as in
  :func:`trueroi.goals.forecast.weekday_index`), so a shop that spends less on weekends is not "under" on
  Monday morning (``"expected_method": "weekday_pattern"``; pro rata while under 2 weeks of history);
* **pacing ratio** = spend to date / expected spend to date; status ``under`` below ``1 - tolerance``,
  ``over`` above ``1 + tolerance``, ``on_pace`` in between (default tolerance 10%, the usual band of
  ad-platform pacing reports);
* **projected spend** = spend to date + forecast of the remaining days (weekday pattern and seasonality,
  :mod:`trueroi.goals.forecast`), with its 80% interval;
* **daily needed** = (amount - spend to date) / remaining days (0 when the budget is spent already).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.goals.forecast import WEEKDAY_DAYS, weekday_index
from trueroi.goals.progress import INTERVAL, as_of_note, history, interval, project
from trueroi.goals.series import DailyFacts
from trueroi.goals.store import Budget, load_budgets, scope_text
from trueroi.io import jsonable
from trueroi.workspace import Workspace

TOLERANCE = 0.10
SCHEDULES = ("pro_rata", "weekday")


@dataclass
class PacingStatus:
    """Where one budget stands on ``as_of`` (see the module docstring)."""

    budget: Budget
    as_of: date
    currency: str
    spend_to_date: float
    expected_to_date: float
    projected: float
    projected_lower: float | None
    projected_upper: float | None
    days_elapsed: int
    forecast_method: str
    tolerance: float = TOLERANCE
    expected_method: str = "pro_rata_days"
    notes: list[str] = field(default_factory=list)

    @property
    def days_remaining(self) -> int:
        return self.budget.days_total - self.days_elapsed

    @property
    def pacing_ratio(self) -> float | None:
        return None if self.expected_to_date <= 0 else self.spend_to_date / self.expected_to_date

    @property
    def status(self) -> str:
        """under / on_pace / over by the pacing ratio and tolerance (``on_pace`` before the period)."""
        r = self.pacing_ratio
        if r is None:
            return "on_pace"
        return "under" if r < 1 - self.tolerance else "over" if r > 1 + self.tolerance else "on_pace"

    @property
    def daily_needed(self) -> float | None:
        """Spend per remaining day that lands on the budget; None when no day is left."""
        if self.days_remaining <= 0:
            return None
        return max(0.0, self.budget.amount - self.spend_to_date) / self.days_remaining

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``trueroi budget pacing --format json`` (one element of its list)."""
        b = self.budget
        return {
            "name": b.name,
            "scope": {"channel": b.channel, "campaign": b.campaign},
            "from": b.date_from.isoformat(),
            "to": b.date_to.isoformat(),
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "amount": b.amount,
            "spend_to_date": self.spend_to_date,
            "expected_to_date": self.expected_to_date,
            "expected_method": self.expected_method,
            "pacing_ratio": self.pacing_ratio,
            "tolerance": self.tolerance,
            "status": self.status,
            "projected": self.projected,
            "projected_lower": self.projected_lower,
            "projected_upper": self.projected_upper,
            "projected_share": self.projected / b.amount,
            "interval": INTERVAL,
            "remaining": b.amount - self.spend_to_date,
            "daily_needed": self.daily_needed,
            "daily_to_date": self.spend_to_date / self.days_elapsed if self.days_elapsed else None,
            "days_elapsed": self.days_elapsed,
            "days_remaining": self.days_remaining,
            "days_total": b.days_total,
            "forecast_method": self.forecast_method,
            "notes": self.notes,
        }


@dataclass
class PacingReport:
    """The pacing of every declared budget on one day (an empty list when there is no budget)."""

    statuses: list[PacingStatus]
    tolerance: float = TOLERANCE

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON of ``trueroi budget pacing --format json``: one :meth:`PacingStatus.to_dict` each."""
        return jsonable([p.to_dict() for p in self.statuses])

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per budget, for a table or CSV.

        The fields of :meth:`PacingStatus.to_dict` without ``scope``, plus ``channel``, ``campaign``,
        ``scope_text`` and ``period`` (``from..to``).
        """
        return [
            {
                **{k: v for k, v in r.items() if k != "scope"},
                "channel": r["scope"]["channel"],
                "campaign": r["scope"]["campaign"],
                "scope_text": scope_text(r["scope"]["channel"], r["scope"]["campaign"]),
                "period": f"{r['from']}..{r['to']}",
            }
            for r in self.to_dict()
        ]


def pacing_report(
    ws: Workspace,
    as_of: date | None = None,
    *,
    tolerance: float = TOLERANCE,
    schedule: str = "pro_rata",
) -> PacingReport:
    """Pacing of every declared budget on ``as_of`` (see :func:`pacing_status`)."""
    return PacingReport(pacing_status(ws, as_of, tolerance=tolerance, schedule=schedule), tolerance)


def pacing_status(
    ws: Workspace,
    as_of: date | None = None,
    *,
    tolerance: float = TOLERANCE,
    schedule: str = "pro_rata",
    budgets: list[Budget] | None = None,
) -> list[PacingStatus]:
    """Pacing of every declared budget on ``as_of`` (default and at most: the last day with data).

    ``schedule`` is ``"pro_rata"`` or ``"weekday"`` (how spend is expected to fall over the period, see
    the module docstring); ``tolerance`` in [0, 1) is the band of ``on_pace`` around a ratio of 1.
    ``budgets`` evaluates these instead of the declared ones (nothing is stored).
    """
    if schedule not in SCHEDULES:
        raise UsageError(f"unknown pacing schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")
    if not 0 <= tolerance < 1:
        raise UsageError(f"pacing tolerance {tolerance} must lie in [0, 1), e.g. 0.1 for ±10%")
    budgets = load_budgets(ws) if budgets is None else budgets
    if not budgets:
        return []
    daily, day = history(ws, as_of)
    out = [_pacing(daily, b, day, ws.config.base_currency, tolerance, schedule) for b in budgets]
    note = as_of_note(as_of, day)
    for p in out:
        p.notes += [note] if note else []
    return out


def _pacing(
    daily: DailyFacts, budget: Budget, as_of: date, currency: str, tolerance: float, schedule: str
) -> PacingStatus:
    p = project(
        daily,
        budget.date_from,
        budget.date_to,
        as_of,
        channel=budget.channel,
        campaign=budget.campaign,
        measures=("spend",),
    )
    spend = float(p.actual["spend"])
    projected = float(p.expected["spend"])
    lower, upper = interval(p.draws["spend"].to_numpy(), projected)
    share, method = _expected_share(daily, budget, as_of, p.days_elapsed, schedule)
    return PacingStatus(
        budget=budget,
        as_of=as_of,
        currency=currency,
        spend_to_date=spend,
        expected_to_date=budget.amount * share,
        projected=projected,
        projected_lower=lower,
        projected_upper=upper,
        days_elapsed=p.days_elapsed,
        forecast_method=p.method,
        tolerance=tolerance,
        expected_method=method,
    )


def _expected_share(
    daily: DailyFacts, budget: Budget, as_of: date, elapsed: int, schedule: str
) -> tuple[float, str]:
    """Share of the budget expected to be spent after ``elapsed`` days, and the method's name."""
    pro_rata = (elapsed / budget.days_total, "pro_rata_days")
    if schedule == "pro_rata" or elapsed == 0:
        return pro_rata
    hist = daily.series(budget.channel, budget.campaign, None, daily.start, as_of)[["spend"]]
    recent = hist.iloc[-WEEKDAY_DAYS:]
    if len(recent) < 14:
        return pro_rata
    index = weekday_index(recent.to_numpy(), pd.DatetimeIndex(recent.index))[:, 0]
    period = pd.date_range(budget.date_from, budget.date_to, freq="D")
    weights = index[np.asarray(period.dayofweek)]
    if weights.sum() <= 0:
        return pro_rata
    return float(weights[:elapsed].sum() / weights.sum()), "weekday_pattern"
