"""Budget pacing: spend to date against the budget's schedule, projected spend, the daily spend needed.

* **spend to date**: media spend in scope (``ad_performance`` through the KPI engine's facts, base currency)
  over the elapsed days of the budget period;
* **expected spend to date**: the budget pro rata by days (``amount x days elapsed / days total``,
  ``"expected_method": "pro_rata_days"``);
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

from trueroi.goals.progress import INTERVAL, as_of_note, history, interval, project
from trueroi.goals.store import Budget, load_budgets
from trueroi.workspace import Workspace

TOLERANCE = 0.10


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
            "expected_method": "pro_rata_days",
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


def pacing_status(
    ws: Workspace,
    as_of: date | None = None,
    *,
    tolerance: float = TOLERANCE,
    budgets: list[Budget] | None = None,
) -> list[PacingStatus]:
    """Pacing of every declared budget on ``as_of`` (default and at most: the last day with data).

    ``budgets`` evaluates these instead of the declared ones (nothing is stored).
    """
    budgets = load_budgets(ws) if budgets is None else budgets
    if not budgets:
        return []
    daily, day = history(ws, as_of)
    out = [_pacing(daily, b, day, ws.config.base_currency, tolerance) for b in budgets]
    note = as_of_note(as_of, day)
    for p in out:
        p.notes += [note] if note else []
    return out


def _pacing(daily: Any, budget: Budget, as_of: date, currency: str, tolerance: float) -> PacingStatus:
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
    return PacingStatus(
        budget=budget,
        as_of=as_of,
        currency=currency,
        spend_to_date=spend,
        expected_to_date=budget.amount * p.days_elapsed / budget.days_total,
        projected=projected,
        projected_lower=lower,
        projected_upper=upper,
        days_elapsed=p.days_elapsed,
        forecast_method=p.method,
        tolerance=tolerance,
    )
