"""``trueroi goal add | list | remove | status`` and ``trueroi budget set | list | remove | pacing``.

Goals and budgets live in the workspace (state tables ``goals`` and ``budgets``); status and pacing read the
data up to its last day (or ``--as-of``) and forecast the rest of the period (:mod:`trueroi.goals`).
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


def _scope_text(scope: dict[str, Any]) -> str:
    parts = [f"{k}={v}" for k, v in scope.items() if v]
    return ", ".join(parts) or "all"


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
    from trueroi.goals import make_goal, save_goal
    from trueroi.goals.store import as_dict
    from trueroi.workspace import Workspace

    goal = make_goal(
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
    with Workspace.open(workspace) as ws:
        save_goal(ws, goal)
    if output == OutputFormat.json:
        print_json(as_dict(goal))
    else:
        console.print(f"goal {goal.name!r} saved: {goal.kpi} {goal.direction} to {goal.target:g}")


def goal_list(output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """The declared goals."""
    from trueroi.goals import load_goals
    from trueroi.goals.store import as_dict
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        rows = [as_dict(g) for g in load_goals(ws)]
    _emit_settings(rows, output, "Goals", ["name", "kpi", "conv_type", "target", "direction", "horizon"])


def goal_remove(
    name: Annotated[str, typer.Argument(help="Goal name.")], workspace: WorkspaceOpt = None
) -> None:
    """Delete a goal."""
    from trueroi.goals import remove_goal
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        remove_goal(ws, name)
    console.print(f"goal {name!r} removed")


def goal_status_cmd(
    as_of: AsOfOpt = None, output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None
) -> None:
    """Progress of every goal, the expected value at the end of its period (80% interval) and a verdict.

    on_track: the interval's worse end still meets the target; off_track: its better end misses it;
    at_risk: in between. Cost KPIs (cpa, cpc, cpm, cpo, cpl, cac, spend) count as met at or under target.
    """
    from trueroi.goals import goal_status
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        rows = [s.to_dict() for s in goal_status(ws, parse_day(as_of, "--as-of"))]
    if output == OutputFormat.json:
        print_json(rows)
        return
    flat = [_flat_goal(r) for r in rows]
    if output == OutputFormat.csv:
        print_csv(flat)
    elif not rows:
        console.print("no goals yet; add one with 'trueroi goal add NAME --kpi ... --target ...'")
    else:
        method = ", ".join(sorted({r["forecast_method"] for r in rows}))
        print_table(
            flat,
            GOAL_COLUMNS,
            title=f"Goals as of {rows[0]['as_of']}",
            caption=f"expected = actual + forecast ({method}); cost KPIs (≤): lower is better",
        )


def _flat_goal(r: dict[str, Any]) -> dict[str, Any]:
    lo, hi = r["expected_lower"], r["expected_upper"]
    arrow = "≤" if r["direction"] == "down" else "≥"
    return {
        **{k: v for k, v in r.items() if k not in ("scope", "notes")},
        "channel": r["scope"]["channel"],
        "campaign": r["scope"]["campaign"],
        "kpi_label": f"{r['label']} {arrow}",
        "scope_text": _scope_text(r["scope"]),
        "period": f"{r['from']}..{r['to']}",
        "interval_text": "–" if lo is None else f"{lo:,.2f} – {hi:,.2f}",
    }


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
    from trueroi.goals import make_budget, save_budget
    from trueroi.goals.store import as_dict
    from trueroi.workspace import Workspace

    budget = make_budget(
        name, amount, _day(date_from, "--from"), _day(date_to, "--to"), channel=channel, campaign=campaign
    )
    with Workspace.open(workspace) as ws:
        save_budget(ws, budget)
    if output == OutputFormat.json:
        print_json(as_dict(budget))
    else:
        console.print(f"budget {budget.name!r} saved: {budget.amount:,.2f} from {date_from} to {date_to}")


def budget_list(output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """The declared budgets."""
    from trueroi.goals import load_budgets
    from trueroi.goals.store import as_dict
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        rows = [as_dict(b) for b in load_budgets(ws)]
    _emit_settings(rows, output, "Budgets", ["name", "amount"])


def budget_remove(
    name: Annotated[str, typer.Argument(help="Budget name.")], workspace: WorkspaceOpt = None
) -> None:
    """Delete a budget."""
    from trueroi.goals import remove_budget
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        remove_budget(ws, name)
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
    from trueroi.goals import pacing_status
    from trueroi.workspace import Workspace

    if not 0 <= tolerance < 1:
        raise UsageError(f"--tolerance {tolerance} must lie in [0, 1), e.g. 0.1 for ±10%")
    with Workspace.open(workspace) as ws:
        day = parse_day(as_of, "--as-of")
        rows = [p.to_dict() for p in pacing_status(ws, day, tolerance=tolerance, schedule=schedule)]
    if output == OutputFormat.json:
        print_json(rows)
        return
    flat = [
        {
            **{k: v for k, v in r.items() if k != "scope"},
            "channel": r["scope"]["channel"],
            "campaign": r["scope"]["campaign"],
            "scope_text": _scope_text(r["scope"]),
            "period": f"{r['from']}..{r['to']}",
        }
        for r in rows
    ]
    if output == OutputFormat.csv:
        print_csv(flat)
    elif not rows:
        console.print(
            "no budgets yet; add one with 'trueroi budget set NAME --amount ... --from ... --to ...'"
        )
    else:
        print_table(
            flat,
            PACING_COLUMNS,
            title=f"Budget pacing as of {rows[0]['as_of']} ({rows[0]['currency']})",
            caption=f"expected by now: {rows[0]['expected_method']}; on pace within ±{tolerance:.0%}",
        )


def _emit_settings(rows: list[dict[str, Any]], output: OutputFormat, title: str, lead: list[str]) -> None:
    if output == OutputFormat.json:
        print_json(rows)
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
