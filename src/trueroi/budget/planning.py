"""The planner's questions in one call each, the way every face asks them.

Each function takes the response curves (or the directory they come from: a fitted mix model of either kind,
or one holding ``curves.json``), the objective and its margin rate (by default the workspace's
``default_margin``), and returns a result whose ``to_dict()`` is the JSON of the matching command:

- :func:`plan_budget`: ``trueroi budget optimize`` (the best flat weekly plan, optionally week by week);
- :func:`compare_scenarios`: ``trueroi budget compare`` (named plans side by side, optionally a chart);
- :func:`plan_target`: ``trueroi budget target`` (the budget a KPI target or a marginal ROI level needs).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trueroi.budget.curves import ResponseCurves
from trueroi.budget.flighting import FlightingPlan, optimize_flighting
from trueroi.budget.io import load_response_curves
from trueroi.budget.optimizer import BudgetPlan, optimize_budget
from trueroi.budget.scenarios import compare_plans, plan_vector, read_plan_file, response_chart
from trueroi.budget.targets import budget_for_mroi, budget_for_target
from trueroi.errors import ConfigError, UsageError
from trueroi.io import write_atomically

Curves = ResponseCurves | str | os.PathLike[str]
"""Response curves, or the directory to load them from (:func:`~trueroi.budget.io.load_response_curves`)."""
Amounts = Mapping[str, float | str] | None


def margin_rate_for(
    objective: str, margin_rate: float | None = None, workspace: str | os.PathLike[str] | None = None
) -> float | None:
    """The margin rate a plan uses: ``margin_rate`` when given; for ``revenue`` nothing; else the
    workspace's ``default_margin`` (None when it has none).

    ``workspace`` None means ``$TRUEROI_WORKSPACE`` or the current directory, and is skipped quietly when
    that holds no readable workspace config; a workspace named explicitly must have one.

    Raises
    ------
    ConfigError
        If the named workspace's ``trueroi.toml`` is missing or invalid.
    """
    if margin_rate is not None or objective == "revenue":
        return margin_rate
    # imported here: the workspace package loads Ibis, which planning on curves never needs otherwise
    from trueroi.workspace import WorkspaceConfig, resolve_path
    from trueroi.workspace.config import CONFIG_FILE

    directory = resolve_path(workspace)
    if workspace is None and not (directory / CONFIG_FILE).exists():
        return None
    try:
        return WorkspaceConfig.load(directory).default_margin
    except ConfigError:
        if workspace is not None:
            raise
        return None


def _curves(curves: Curves) -> ResponseCurves:
    return curves if isinstance(curves, ResponseCurves) else load_response_curves(curves)


@dataclass
class OptimizedPlan:
    """The optimised flat weekly plan and, when asked, the week-by-week plan with the same budget."""

    plan: BudgetPlan
    flighting: FlightingPlan | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi budget optimize --format json``: the plan (see
        :meth:`~trueroi.budget.optimizer.BudgetPlan.to_dict`) and ``flighting`` when planned."""
        payload = self.plan.to_dict()
        if self.flighting is not None:
            payload["flighting"] = self.flighting.to_dict()
        return payload

    def rows(self) -> list[dict[str, Any]]:
        """One row per channel: current and recommended spend, marginal ROI at both, bound and reason."""
        return self.plan.explanation


def plan_budget(
    curves: Curves,
    total: float,
    *,
    weeks: int = 1,
    objective: str = "revenue",
    margin_rate: float | None = None,
    workspace: str | os.PathLike[str] | None = None,
    minimum: Amounts = None,
    maximum: Amounts = None,
    max_change: float | None = None,
    locked: Iterable[str] = (),
    risk: str = "mean",
    flighting: bool = False,
) -> OptimizedPlan:
    """The weekly spend per channel that maximises the objective within ``total`` and the bounds.

    Parameters are those of :func:`~trueroi.budget.optimizer.optimize_budget`; ``margin_rate`` defaults to
    the workspace's (:func:`margin_rate_for`); ``flighting`` adds the week-by-week plan over ``weeks``
    (:func:`~trueroi.budget.flighting.optimize_flighting`).
    """
    response = _curves(curves)
    rate = margin_rate_for(objective, margin_rate, workspace)
    bounds = dict(minimum=minimum, maximum=maximum, max_change=max_change, locked=list(locked))
    plan = optimize_budget(
        response, total, objective=objective, margin_rate=rate, risk=risk, weeks=weeks, **bounds
    )
    weekly = None
    if flighting:
        weekly = optimize_flighting(response, total, weeks, objective=objective, margin_rate=rate, **bounds)
    return OptimizedPlan(plan, weekly)


@dataclass
class ScenarioComparison:
    """Named weekly plans valued under the same posterior draws (see
    :func:`~trueroi.budget.scenarios.compare_plans` for the rows)."""

    objective: str
    kpi: str
    weeks: int
    plans: list[dict[str, Any]]
    chart: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi budget compare --format json``: ``objective``, ``kpi``, ``weeks`` and
        ``plans`` (name -> allocation, spend, expected, kpi, roas, roi, p_beats_current)."""
        return {
            "objective": self.objective,
            "kpi": self.kpi,
            "weeks": self.weeks,
            "plans": {r["name"]: {k: v for k, v in r.items() if k != "name"} for r in self.plans},
        }

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per plan: name, weekly spend, the objective's mean and 90% interval, ROAS, ROI and
        P(beats current)."""
        return [
            {
                "name": r["name"],
                "spend": r["spend"],
                "mean": r["expected"]["mean"],
                "lower": r["expected"]["lower"],
                "upper": r["expected"]["upper"],
                "roas": r["roas"],
                "roi": r["roi"],
                "p_beats_current": r["p_beats_current"],
            }
            for r in self.plans
        ]


def compare_scenarios(
    curves: Curves,
    plans: Mapping[str, str | os.PathLike[str] | Mapping[str, float]] | None = None,
    *,
    optimised: bool = True,
    growth: float = 0.2,
    weeks: int = 1,
    objective: str = "revenue",
    margin_rate: float | None = None,
    workspace: str | os.PathLike[str] | None = None,
    chart: str | os.PathLike[str] | None = None,
) -> ScenarioComparison:
    """Compare named plans with the current one: spend, expected outcome with 90% interval, ROAS, ROI and
    P(beats current).

    Parameters
    ----------
    plans
        Name -> a plan file (see :func:`~trueroi.budget.scenarios.read_plan_file`) or a ``{channel: weekly
        spend}`` mapping.
    optimised
        Add ``optimised`` (the best plan at the current total) and ``optimised_plus_<growth>`` (at the
        total raised by ``growth``), unless plans of those names are given.
    chart
        An HTML file to write with the response curves and each plan's point on them.
    """
    response = _curves(curves)
    rate = margin_rate_for(objective, margin_rate, workspace)
    named = {
        name: plan_vector(response, read_plan_file(p) if isinstance(p, str | os.PathLike) else p, name)
        for name, p in (plans or {}).items()
    }
    if optimised:
        base_total = float(response.current_spend.sum())
        for name, budget in (
            ("optimised", base_total),
            (f"optimised_plus_{growth:.0%}", base_total * (1 + growth)),
        ):
            if name not in named:
                named[name] = optimize_budget(
                    response, budget, objective=objective, margin_rate=rate
                ).allocation
    rows = compare_plans(response, named, objective=objective, margin_rate=rate, weeks=weeks)
    written = None
    if chart is not None:
        points = {r["name"]: plan_vector(response, r["allocation"]) for r in rows}
        figure = response_chart(response, points)
        written = write_atomically(chart, lambda tmp: figure.write_html(tmp))
    return ScenarioComparison(objective, response.kpi, weeks, rows, written)


def plan_target(
    curves: Curves,
    *,
    kpi_target: float | None = None,
    mroi: float | None = None,
    weeks: int = 1,
    objective: str = "revenue",
    margin_rate: float | None = None,
    workspace: str | os.PathLike[str] | None = None,
    minimum: Amounts = None,
    maximum: Amounts = None,
    max_change: float | None = None,
    locked: Iterable[str] = (),
) -> BudgetPlan:
    """The smallest weekly budget whose optimal plan reaches ``kpi_target`` over ``weeks``
    (:func:`~trueroi.budget.targets.budget_for_target`), or the budget at which the optimal plan's marginal
    ROI falls to ``mroi`` (:func:`~trueroi.budget.targets.budget_for_mroi`); its ``budget`` is the answer.

    Raises
    ------
    UsageError
        Unless exactly one of ``kpi_target`` and ``mroi`` is given; see the target functions for the rest.
    """
    if (kpi_target is None) == (mroi is None):
        raise UsageError("give exactly one of a KPI target (kpi_target) or a marginal ROI level (mroi)")
    response = _curves(curves)
    rate = margin_rate_for(objective, margin_rate, workspace)
    bounds = dict(minimum=minimum, maximum=maximum, max_change=max_change, locked=list(locked))
    if kpi_target is not None:
        return budget_for_target(
            response, kpi_target, objective=objective, margin_rate=rate, weeks=weeks, **bounds
        )
    return budget_for_mroi(
        response, float(mroi), objective=objective, margin_rate=rate, weeks=weeks, **bounds
    )
