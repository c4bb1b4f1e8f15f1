"""``trueroi goal add | list | remove | status`` and ``trueroi budget set | list | remove | pacing``.

Goals and budgets live in the workspace (state tables ``goals`` and ``budgets``); status and pacing read the
data up to its last day (or ``--as-of``) and forecast the rest of the period (:mod:`trueroi.goals`). Each
command parses its options, calls one function of :mod:`trueroi.goals` and renders the result; the library
is imported inside the commands only to keep pandas and Ibis off the start-up path of ``trueroi --help``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from trueroi.cli.common import (
    BUDGET_HELP,
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    group,
    print_csv,
    print_json,
    print_table,
)
from trueroi.cli.kpis import parse_day
from trueroi.cli.workspace import open_workspace, wrote_to
from trueroi.errors import UsageError

FromOpt = Annotated[str, typer.Option("--from", help="First day of the period, YYYY-MM-DD.")]
ToOpt = Annotated[str, typer.Option("--to", help="Last day of the period, YYYY-MM-DD.")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="Only this channel (as in the data).")]
CampaignOpt = Annotated[str | None, typer.Option("--campaign", help="Only this campaign (name).")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Status on this day (default: the last day with data).")
]

GOAL_COLUMNS = [
    ("name", "Goal", "text"),
    ("kpi_label", "KPI", "text"),
    ("scope_text", "Scope", "text"),
    ("period", "Period", "text"),
    ("target", "Target", "number"),
    ("actual", "Actual", "number"),
    ("progress", "Progress", "percent"),
    ("expected", "Expected at end", "number"),
    ("interval_text", "80% interval", "text"),
    ("status", "Status", "text"),
]
PACING_COLUMNS = [
    ("name", "Budget", "text"),
    ("scope_text", "Scope", "text"),
    ("period", "Period", "text"),
    ("amount", "Budget", "money"),
    ("spend_to_date", "Spent", "money"),
    ("expected_to_date", "Expected by now", "money"),
    ("pacing_ratio", "Pacing", "percent"),
    ("status", "Status", "text"),
    ("projected", "Projected at end", "money"),
    ("daily_needed", "Needed per day", "money"),
]


def _day(value: str, option: str) -> Any:
    day = parse_day(value, option)
    if day is None:
        raise UsageError(f"{option} is required (YYYY-MM-DD)")
    return day


def goal_add(
    name: Annotated[str, typer.Argument(help="Goal name, e.g. newsletter-q3.")],
    kpi: Annotated[str, typer.Option("--kpi", help="KPI: revenue, conversions, roas, cpa, media_roi, ...")],
    target: Annotated[float, typer.Option("--target", help="Target value at the end of the period.")],
    date_from: FromOpt,
    date_to: ToOpt,
    channel: ChannelOpt = None,
    campaign: CampaignOpt = None,
    horizon: Annotated[
        str | None, typer.Option("--horizon", help="short, mid or long (default: by period length).")
    ] = None,
    conv_type: Annotated[
        str | None,
        typer.Option("--type", help="Conversion type from the conversions table (signup, lead, ...)."),
    ] = None,
    direction: Annotated[
        str | None,
        typer.Option("--direction", help="up (reach at least) or down (stay under); default by KPI."),
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Declare a goal: a KPI target over a period, optionally for one channel and/or campaign."""
    from trueroi.goals import add_goal

    with open_workspace(workspace) as ws:
        goal = add_goal(
            ws,
            name,
            kpi,
            target,
            _day(date_from, "--from"),
            _day(date_to, "--to"),
            channel=channel,
            campaign=campaign,
            conv_type=conv_type,
            horizon=horizon,
            direction=direction,
        )
        wrote_to(ws)
    if output == OutputFormat.json:
        print_json(goal.to_dict())
    else:
        console.print(f"goal {goal.name!r} saved: {goal.kpi} {goal.direction} to {goal.target:g}")


def goal_list(output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """The declared goals."""
    from trueroi.goals import list_goals

    with open_workspace(workspace) as ws:
        result = list_goals(ws)
    _emit_settings(result, output, "Goals", ["name", "kpi", "conv_type", "target", "direction", "horizon"])


def goal_remove(
    name: Annotated[str, typer.Argument(help="Goal name.")], workspace: WorkspaceOpt = None
) -> None:
    """Delete a goal."""
    from trueroi.goals import remove_goal

    with open_workspace(workspace) as ws:
        remove_goal(ws, name)
        wrote_to(ws)
    console.print(f"goal {name!r} removed")


def goal_status_cmd(
    as_of: AsOfOpt = None, output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None
) -> None:
    """Progress of every goal, the expected value at the end of its period (80% interval) and a verdict.

    on_track: the interval's worse end still meets the target; off_track: its better end misses it;
    at_risk: in between. Cost KPIs (cpa, cpc, cpm, cpo, cpl, cac, spend) count as met at or under target.
    """
    from trueroi.goals import goal_report

    day = parse_day(as_of, "--as-of")
    with open_workspace(workspace) as ws:
        result = goal_report(ws, day)
    if output == OutputFormat.json:
        print_json(result.to_dict())
    elif output == OutputFormat.csv:
        print_csv(result.rows())
    elif not result.statuses:
        console.print("no goals yet; add one with 'trueroi goal add NAME --kpi ... --target ...'")
    else:
        rows = result.rows()
        method = ", ".join(sorted({r["forecast_method"] for r in rows}))
        print_table(
            rows,
            GOAL_COLUMNS,
            title=f"Goals as of {rows[0]['as_of']}",
            caption=f"expected = actual + forecast ({method}); cost KPIs (≤): lower is better",
        )


def budget_set(
    name: Annotated[str, typer.Argument(help="Budget name, e.g. search-q3.")],
    amount: Annotated[float, typer.Option("--amount", help="Media spend for the period (base currency).")],
    date_from: FromOpt,
    date_to: ToOpt,
    channel: ChannelOpt = None,
    campaign: CampaignOpt = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Declare a media budget for a period, optionally for one channel and/or campaign."""
    from trueroi.goals import add_budget

    with open_workspace(workspace) as ws:
        budget = add_budget(
            ws,
            name,
            amount,
            _day(date_from, "--from"),
            _day(date_to, "--to"),
            channel=channel,
            campaign=campaign,
        )
        wrote_to(ws)
    if output == OutputFormat.json:
        print_json(budget.to_dict())
    else:
        console.print(f"budget {budget.name!r} saved: {budget.amount:,.2f} from {date_from} to {date_to}")


def budget_list(output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """The declared budgets."""
    from trueroi.goals import list_budgets

    with open_workspace(workspace) as ws:
        result = list_budgets(ws)
    _emit_settings(result, output, "Budgets", ["name", "amount"])


def budget_remove(
    name: Annotated[str, typer.Argument(help="Budget name.")], workspace: WorkspaceOpt = None
) -> None:
    """Delete a budget."""
    from trueroi.goals import remove_budget

    with open_workspace(workspace) as ws:
        remove_budget(ws, name)
        wrote_to(ws)
    console.print(f"budget {name!r} removed")


def budget_pacing(
    as_of: AsOfOpt = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Pacing band: on pace within 1 ± tolerance.")
    ] = 0.10,
    schedule: Annotated[
        str,
        typer.Option(
            "--schedule", help="pro_rata (by days) or weekday (by the weekday pattern of past spend)."
        ),
    ] = "pro_rata",
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Spend to date against each budget's schedule, projected spend, and the spend needed per day."""
    from trueroi.goals import pacing_report

    day = parse_day(as_of, "--as-of")
    with open_workspace(workspace) as ws:
        result = pacing_report(ws, day, tolerance=tolerance, schedule=schedule)
    if output == OutputFormat.json:
        print_json(result.to_dict())
    elif output == OutputFormat.csv:
        print_csv(result.rows())
    elif not result.statuses:
        console.print(
            "no budgets yet; add one with 'trueroi budget set NAME --amount ... --from ... --to ...'"
        )
    else:
        rows = result.rows()
        print_table(
            rows,
            PACING_COLUMNS,
            title=f"Budget pacing as of {rows[0]['as_of']} ({rows[0]['currency']})",
            caption=f"expected by now: {rows[0]['expected_method']}; on pace within ±{tolerance:.0%}",
        )


def _emit_settings(result: Any, output: OutputFormat, title: str, lead: list[str]) -> None:
    rows = result.rows()
    if output == OutputFormat.json:
        print_json(result.to_dict())
    elif output == OutputFormat.csv:
        print_csv(rows)
    elif not rows:
        console.print(f"no {title.lower()} yet")
    else:
        keys = lead + ["from", "to", "channel", "campaign"]
        print_table(rows, [(k, k.replace("_", " ").title(), _kind(k)) for k in keys], title=title)


def _kind(key: str) -> str:
    return {"amount": "money", "target": "number"}.get(key, "text")


def register(app: typer.Typer) -> None:
    goal = group("goal", "Goals per KPI and scope: progress, expected value at period end, on/off track.")
    goal.command("add")(goal_add)
    goal.command("list")(goal_list)
    goal.command("remove")(goal_remove)
    goal.command("status")(goal_status_cmd)
    budget = group(
        "budget",
        BUDGET_HELP,
    )
    budget.command("set")(budget_set)
    budget.command("list")(budget_list)
    budget.command("remove")(budget_remove)
    budget.command("pacing")(budget_pacing)
