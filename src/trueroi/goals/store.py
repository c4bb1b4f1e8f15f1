"""Goals and budgets the user declares, kept in the workspace's ``goals`` and ``budgets`` state tables.

A goal is a target for one KPI of the engine over a period of local days, optionally scoped to a channel
and/or campaign; ``conversions`` with a ``conv_type`` counts conversions of that type from the
``conversions`` table ("1,000 newsletter signups in a month"). A budget is an amount of media spend (base
currency) over a period, optionally scoped the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from trueroi.errors import UsageError
from trueroi.goals.series import check_scope, known_scope
from trueroi.io import jsonable
from trueroi.metrics.definitions import EXTRA_KPIS, KPIS
from trueroi.workspace import Workspace
from trueroi.workspace.state import StateTable

GOALS = StateTable(
    "goals",
    {
        "name": "string",
        "kpi": "string",
        "conv_type": "string",
        "target": "float64",
        "date_from": "date",
        "date_to": "date",
        "channel": "string",
        "campaign": "string",
        "horizon": "string",
        "direction": "string",
        "created_at": "timestamp",
    },
    key=("name",),
)
BUDGETS = StateTable(
    "budgets",
    {
        "name": "string",
        "amount": "float64",
        "date_from": "date",
        "date_to": "date",
        "channel": "string",
        "campaign": "string",
        "created_at": "timestamp",
    },
    key=("name",),
)

HORIZONS = ("short", "mid", "long")
# Cost-type KPIs: lower is better (spend counts as a cap when it is a goal).
LOWER_IS_BETTER = frozenset(
    {"cpa", "cpc", "cpm", "cpo", "cpl", "cac", "spend", "other_costs", "full_cost", "bounce_rate"}
)
# KPIs whose conversions may come from a conversion type instead of attributed orders.
TYPED_KPIS = ("conversions", "cpa", "cvr")


@dataclass(frozen=True)
class Goal:
    """A declared goal. ``direction`` is ``"up"`` (reach at least the target) or ``"down"`` (stay under)."""

    name: str
    kpi: str
    target: float
    date_from: date
    date_to: date
    channel: str | None = None
    campaign: str | None = None
    conv_type: str | None = None
    horizon: str = "short"
    direction: str = "up"

    @property
    def days_total(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi goal add --format json`` (and of one goal of ``goal list``)."""
        return jsonable(as_dict(self))


@dataclass(frozen=True)
class Budget:
    """A declared media budget: ``amount`` (base currency) to spend over [date_from, date_to] in scope."""

    name: str
    amount: float
    date_from: date
    date_to: date
    channel: str | None = None
    campaign: str | None = None

    @property
    def days_total(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi budget set --format json`` (and of one budget of ``budget list``)."""
        return jsonable(as_dict(self))


@dataclass(frozen=True)
class Declared:
    """The goals or the budgets declared in a workspace, ordered by name."""

    items: list[Goal] | list[Budget]

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON of ``trueroi goal list`` / ``budget list --format json``: one dict per item."""
        return [item.to_dict() for item in self.items]

    def rows(self) -> list[dict[str, Any]]:
        """The same dicts, as table or CSV rows (``from``/``to`` as ISO days)."""
        return self.to_dict()


def default_horizon(date_from: date, date_to: date) -> str:
    """short up to a month (31 days), mid up to half a year (184 days), long beyond."""
    days = (date_to - date_from).days + 1
    return "short" if days <= 31 else "mid" if days <= 184 else "long"


def make_goal(
    name: str,
    kpi: str,
    target: float,
    date_from: date,
    date_to: date,
    *,
    channel: str | None = None,
    campaign: str | None = None,
    conv_type: str | None = None,
    horizon: str | None = None,
    direction: str | None = None,
) -> Goal:
    """Validate the settings of a goal (KPI, dates, horizon, direction) and build it."""
    _check_name(name)
    kpi = kpi.strip().lower()
    if kpi in EXTRA_KPIS:
        raise UsageError(
            f"KPI {kpi!r} is not additive over days (distinct counts or history-based), so it cannot be "
            f"a goal; pick one of {', '.join(KPIS)}"
        )
    if kpi not in KPIS:
        raise UsageError(f"unknown KPI {kpi!r}; expected one of {', '.join(KPIS)}")
    if conv_type is not None and kpi not in TYPED_KPIS:
        raise UsageError(f"a conversion type works with {', '.join(TYPED_KPIS)}, not with {kpi!r}")
    _check_period(date_from, date_to)
    if horizon is not None and horizon not in HORIZONS:
        raise UsageError(f"unknown horizon {horizon!r}; expected one of {', '.join(HORIZONS)}")
    if direction is not None and direction not in ("up", "down"):
        raise UsageError(f"unknown direction {direction!r}; expected up (at least) or down (at most)")
    if not _finite(target):
        raise UsageError(f"target {target!r} is not a finite number")
    return Goal(
        name=name,
        kpi=kpi,
        target=float(target),
        date_from=date_from,
        date_to=date_to,
        channel=_blank(channel),
        campaign=_blank(campaign),
        conv_type=None if _blank(conv_type) is None else conv_type.strip().lower(),
        horizon=horizon or default_horizon(date_from, date_to),
        direction=direction or ("down" if kpi in LOWER_IS_BETTER else "up"),
    )


def make_budget(
    name: str,
    amount: float,
    date_from: date,
    date_to: date,
    *,
    channel: str | None = None,
    campaign: str | None = None,
) -> Budget:
    """Validate a budget (positive finite amount, dates in order) and build it."""
    _check_name(name)
    _check_period(date_from, date_to)
    if not _finite(amount) or amount <= 0:
        raise UsageError(f"budget amount {amount!r} must be a positive number (base currency)")
    return Budget(name, float(amount), date_from, date_to, _blank(channel), _blank(campaign))


def add_goal(
    ws: Workspace,
    name: str,
    kpi: str,
    target: float,
    date_from: date,
    date_to: date,
    *,
    channel: str | None = None,
    campaign: str | None = None,
    conv_type: str | None = None,
    horizon: str | None = None,
    direction: str | None = None,
) -> Goal:
    """Declare a goal in the workspace (replacing one of the same name) and return it.

    The settings are checked as by :func:`make_goal`, and the channel, campaign and conversion type must
    occur in the workspace's data (when it holds data).
    """
    goal = make_goal(
        name,
        kpi,
        target,
        date_from,
        date_to,
        channel=channel,
        campaign=campaign,
        conv_type=conv_type,
        horizon=horizon,
        direction=direction,
    )
    save_goal(ws, goal)
    return goal


def add_budget(
    ws: Workspace,
    name: str,
    amount: float,
    date_from: date,
    date_to: date,
    *,
    channel: str | None = None,
    campaign: str | None = None,
) -> Budget:
    """Declare a media budget (base currency) in the workspace, replacing one of the same name.

    Checked as by :func:`make_budget`; the channel and campaign must occur in the workspace's data.
    """
    budget = make_budget(name, amount, date_from, date_to, channel=channel, campaign=campaign)
    save_budget(ws, budget)
    return budget


def list_goals(ws: Workspace) -> Declared:
    """The goals declared in the workspace, ordered by name."""
    return Declared(load_goals(ws))


def list_budgets(ws: Workspace) -> Declared:
    """The budgets declared in the workspace, ordered by name."""
    return Declared(load_budgets(ws))


def scope_text(channel: str | None, campaign: str | None) -> str:
    """``channel=Search, campaign=brand`` for the parts given, ``all`` without any."""
    parts = [f"{k}={v}" for k, v in (("channel", channel), ("campaign", campaign)) if v]
    return ", ".join(parts) or "all"


def save_goal(ws: Workspace, goal: Goal, *, check: bool = True) -> None:
    """Add a goal, replacing one with the same name.

    With ``check`` and data in the workspace, the channel, campaign and conversion type must occur in it.
    """
    if check:
        _check_scope(ws, goal.channel, goal.campaign, goal.conv_type)
    GOALS.upsert(ws, [{**asdict(goal), "created_at": _now()}])


def load_goals(ws: Workspace) -> list[Goal]:
    """Every declared goal, ordered by name."""
    rows = sorted(GOALS.records(ws), key=lambda r: r["name"])
    return [Goal(**{k: v for k, v in r.items() if k != "created_at"}) for r in rows]


def remove_goal(ws: Workspace, name: str) -> None:
    """Delete a goal; :class:`UsageError` naming the known goals when there is none of that name."""
    if not GOALS.delete(ws, name=name):
        known = ", ".join(g.name for g in load_goals(ws)) or "none"
        raise UsageError(f"no goal named {name!r}; known goals: {known}")


def save_budget(ws: Workspace, budget: Budget, *, check: bool = True) -> None:
    """Add a budget, replacing one with the same name (``check`` as for :func:`save_goal`)."""
    if check:
        _check_scope(ws, budget.channel, budget.campaign, None)
    BUDGETS.upsert(ws, [{**asdict(budget), "created_at": _now()}])


def load_budgets(ws: Workspace) -> list[Budget]:
    """Every declared budget, ordered by name."""
    rows = sorted(BUDGETS.records(ws), key=lambda r: r["name"])
    return [Budget(**{k: v for k, v in r.items() if k != "created_at"}) for r in rows]


def remove_budget(ws: Workspace, name: str) -> None:
    """Delete a budget; :class:`UsageError` naming the known budgets when there is none of that name."""
    if not BUDGETS.delete(ws, name=name):
        known = ", ".join(b.name for b in load_budgets(ws)) or "none"
        raise UsageError(f"no budget named {name!r}; known budgets: {known}")


def as_dict(item: Goal | Budget) -> dict[str, Any]:
    """JSON-ready settings (``from``/``to`` as ISO days)."""
    d = asdict(item)
    d["from"] = d.pop("date_from").isoformat()
    d["to"] = d.pop("date_to").isoformat()
    return d


def _check_scope(ws: Workspace, channel: str | None, campaign: str | None, conv_type: str | None) -> None:
    if (channel, campaign, conv_type) == (None, None, None) or ws.is_empty():
        return
    check_scope(known_scope(ws), channel, campaign, conv_type)


def _check_name(name: str) -> None:
    if not name or not name.strip():
        raise UsageError("a name is required (e.g. newsletter-q3)")


def _check_period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise UsageError(f"dates reversed: the period starts on {date_from}, after its end {date_to}")


def _blank(value: str | None) -> str | None:
    return None if value is None or not value.strip() else value.strip()


def _finite(value: Any) -> bool:
    try:
        return float(value) == float(value) and abs(float(value)) != float("inf")
    except (TypeError, ValueError):
        return False


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
