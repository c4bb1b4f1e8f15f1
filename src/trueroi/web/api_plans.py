"""Budget planning on a fitted mix model of the workspace (``<workspace>/models/MODEL``): each route calls
the planner behind ``trueroi budget optimize | compare | target MODEL_DIR`` with the same arguments, given
as a JSON body, and returns its ``to_dict()`` (= the command's ``--format json``).

Bounds use the CLI's words: ``min``/``max`` map a channel to an amount, ``"80%"`` or ``"0.8x"`` (relative
to current), ``max_change`` is the largest relative change, ``lock`` lists channels held at current spend.
Planning is an analyst's work (the issue's roles): the routes need Level.WRITE, though they change nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from trueroi.budget.planning import compare_scenarios, plan_budget, plan_target
from trueroi.web.access import Caller
from trueroi.web.api_analysis import model_path
from trueroi.web.api_common import WriteCaller, new_router
from trueroi.web.render import json_result

router = new_router()
Objective = Literal["revenue", "margin", "profit"]


class Plan(BaseModel):
    """What every plan names: the fitted model, the horizon and the objective."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("mmm", description="Fitted model under the workspace's models/ folder.")
    weeks: int = Field(1, description="Planning horizon in weeks; outcomes are totals over it.")
    objective: Objective = Field("revenue", description="revenue, margin, or profit = margin - spend.")
    margin_rate: float | None = Field(None, description="Margin per unit of revenue (default: workspace's).")


class Bounds(Plan):
    min: dict[str, float | str] = Field(default_factory=dict, description="Channel -> lowest spend.")
    max: dict[str, float | str] = Field(default_factory=dict, description="Channel -> highest spend.")
    max_change: float | None = Field(None, description="Largest relative change per channel, e.g. 0.3.")
    lock: list[str] = Field(default_factory=list, description="Channels held at their current spend.")

    def bounds(self) -> dict[str, Any]:
        return {
            "minimum": {k: str(v) for k, v in self.min.items()},
            "maximum": {k: str(v) for k, v in self.max.items()},
            "max_change": self.max_change,
            "locked": list(self.lock),
        }


class Optimize(Bounds):
    total: float = Field(description="Budget per week over the horizon, base currency.")
    risk: Literal["mean", "q10"] = "mean"
    flighting: bool = Field(False, description="Also plan week by week with carry-over.")


class Compare(Plan):
    plans: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Plan name -> {channel: weekly spend}."
    )
    optimised: bool = Field(True, description="Add the optimised plan at the current total and +growth.")
    growth: float = 0.2


class Target(Bounds):
    kpi_target: float | None = Field(None, description="Expected KPI to reach over the horizon.")
    mroi: float | None = Field(None, description="Marginal ROI the last unit should still return.")


def _common(caller: Caller, body: Plan) -> dict[str, Any]:
    return {
        "weeks": body.weeks,
        "objective": body.objective,
        "margin_rate": body.margin_rate,
        "workspace": caller.home.workspace_path(caller.workspace),
    }


@router.post(
    "/workspaces/{ws}/budget/optimize",
    summary="Recommended weekly spend per channel (= trueroi budget optimize MODEL --format json)",
)
def optimize(caller: WriteCaller, body: Optimize) -> Response:
    result = plan_budget(
        model_path(caller, body.model),
        body.total,
        risk=body.risk,
        flighting=body.flighting,
        **_common(caller, body),
        **body.bounds(),
    )
    return json_result(result)


@router.post(
    "/workspaces/{ws}/budget/compare",
    summary="Named plans side by side (= trueroi budget compare MODEL --format json)",
)
def compare(caller: WriteCaller, body: Compare) -> Response:
    result = compare_scenarios(
        model_path(caller, body.model),
        body.plans,
        optimised=body.optimised,
        growth=body.growth,
        **_common(caller, body),
    )
    return json_result(result)


@router.post(
    "/workspaces/{ws}/budget/target",
    summary="The budget a KPI target or marginal ROI needs (= trueroi budget target MODEL --format json)",
)
def target(caller: WriteCaller, body: Target) -> Response:
    result = plan_target(
        model_path(caller, body.model),
        kpi_target=body.kpi_target,
        mroi=body.mroi,
        **_common(caller, body),
        **body.bounds(),
    )
    return json_result(result)
