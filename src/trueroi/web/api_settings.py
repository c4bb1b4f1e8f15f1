"""Settings an analyst may change: goals, budgets and alert rules (add with POST, remove with DELETE).

Each route calls the library function behind ``trueroi goal add | remove``, ``budget set | remove`` or
``alert add | remove`` with the same arguments (a JSON body for additions) and answers with what that
command prints with ``--format json`` (``goal remove`` and ``budget remove`` print no JSON: the answer is
``{"removed": NAME}`` as for alerts). Every change is written to the audit log with the caller as actor;
the detail names the setting, never an alert's receivers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from trueroi.goals import add_budget, add_goal, remove_budget, remove_goal
from trueroi.metrics.dimensions import parse_day
from trueroi.monitor import add_alert, remove_alert
from trueroi.web.api_common import WriteCaller, new_router, record_change
from trueroi.web.render import json_result

router = new_router()


class Scoped(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=100)
    date_from: str = Field(alias="from", description="First day of the period, YYYY-MM-DD.")
    date_to: str = Field(alias="to", description="Last day of the period, YYYY-MM-DD.")
    channel: str | None = Field(None, description="Only this channel (as in the data).")
    campaign: str | None = Field(None, description="Only this campaign (name).")


class GoalBody(Scoped):
    kpi: str = Field(description="revenue, conversions, roas, cpa, media_roi, ...")
    target: float = Field(description="Target value at the end of the period.")
    horizon: str | None = Field(None, description="short, mid or long (default: by period length).")
    type: str | None = Field(None, description="Conversion type (signup, lead, ...).")
    direction: Literal["up", "down"] | None = Field(None, description="up or down; default by KPI.")


class BudgetBody(Scoped):
    amount: float = Field(description="Media spend for the period (base currency).")


class AlertBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kpi: str = Field(description="spend, conversions, cpa, roas, ctr, sessions or orders.")
    channel: str | None = None
    campaign: str | None = None
    above: float | None = Field(None, description="Fire when the KPI is above X.")
    below: float | None = Field(None, description="Fire when the KPI is below X.")
    anomaly: bool = Field(False, description="Fire when the KPI leaves its expected range.")
    severity: str = "warning"
    email: list[str] = Field(default_factory=list, description="E-mail receivers.")
    webhook: list[str] = Field(default_factory=list, description="Webhook URLs.")
    replace: bool = Field(False, description="Overwrite an alert of the same name.")


@router.post("/workspaces/{ws}/goals", summary="Declare a goal (= trueroi goal add --format json)")
def goal_add(caller: WriteCaller, body: GoalBody) -> Response:
    with caller.open_workspace() as ws:
        goal = add_goal(
            ws,
            body.name,
            body.kpi,
            body.target,
            parse_day(body.date_from, "from"),
            parse_day(body.date_to, "to"),
            channel=body.channel,
            campaign=body.campaign,
            conv_type=body.type,
            horizon=body.horizon,
            direction=body.direction,
        )
    record_change(caller, "goal.add", {"name": goal.name, "kpi": goal.kpi})
    return json_result(goal)


@router.delete("/workspaces/{ws}/goals/{name}", summary="Delete a goal (= trueroi goal remove NAME)")
def goal_remove(caller: WriteCaller, name: str) -> Response:
    with caller.open_workspace() as ws:
        remove_goal(ws, name)
    record_change(caller, "goal.remove", {"name": name})
    return json_result({"removed": name})


@router.post("/workspaces/{ws}/budgets", summary="Declare a budget (= trueroi budget set --format json)")
def budget_set(caller: WriteCaller, body: BudgetBody) -> Response:
    with caller.open_workspace() as ws:
        budget = add_budget(
            ws,
            body.name,
            body.amount,
            parse_day(body.date_from, "from"),
            parse_day(body.date_to, "to"),
            channel=body.channel,
            campaign=body.campaign,
        )
    record_change(caller, "budget.set", {"name": budget.name, "amount": budget.amount})
    return json_result(budget)


@router.delete("/workspaces/{ws}/budgets/{name}", summary="Delete a budget (= trueroi budget remove NAME)")
def budget_remove(caller: WriteCaller, name: str) -> Response:
    with caller.open_workspace() as ws:
        remove_budget(ws, name)
    record_change(caller, "budget.remove", {"name": name})
    return json_result({"removed": name})


@router.post("/workspaces/{ws}/alerts", summary="Add an alert rule (= trueroi alert add --format json)")
def alert_add(caller: WriteCaller, body: AlertBody) -> Response:
    with caller.open_workspace() as ws:
        rule = add_alert(
            ws,
            body.name,
            body.kpi,
            above=body.above,
            below=body.below,
            anomaly=body.anomaly,
            severity=body.severity,
            channel=body.channel,
            campaign=body.campaign,
            emails=body.email,
            webhooks=body.webhook,
            replace=body.replace,
        )
    record_change(caller, "alert.add", {"name": rule.name, "kpi": rule.kpi})
    return json_result(rule)


@router.delete(
    "/workspaces/{ws}/alerts/{name}", summary="Remove an alert rule (= trueroi alert remove --format json)"
)
def alert_remove(caller: WriteCaller, name: str) -> Response:
    with caller.open_workspace() as ws:
        removed = remove_alert(ws, name)
    record_change(caller, "alert.remove", {"name": name})
    return json_result(removed)
