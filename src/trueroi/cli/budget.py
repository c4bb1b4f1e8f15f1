"""``trueroi budget optimize | compare | target``: budget plans on a fitted mix model's response curves.

MODEL_DIR is a fitted mix model (``trueroi mmm fit``) or a directory holding ``curves.json`` that describes
parametric response curves (see :func:`trueroi.budget.parametric.load_curves_json`).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from trueroi.cli.common import (
    BUDGET_HELP,
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    group,
    note,
    print_csv,
    print_json,
    print_table,
)
from trueroi.errors import UsageError


class ObjectiveName(StrEnum):
    revenue = "revenue"
    margin = "margin"
    profit = "profit"


ModelDirArg = Annotated[Path, typer.Argument(help="Fitted model directory, or one holding curves.json.")]
ObjectiveOpt = Annotated[
    ObjectiveName,
    typer.Option("--objective", help="revenue (the model's KPI), margin, or profit = margin - spend."),
]
MarginOpt = Annotated[
    float | None,
    typer.Option(
        "--margin-rate",
        help="Contribution margin per unit of revenue (default: default_margin in trueroi.toml).",
    ),
]
WeeksOpt = Annotated[
    int, typer.Option("--weeks", help="Planning horizon in weeks; outcomes are totals over it.")
]
MinOpt = Annotated[
    list[str] | None, typer.Option("--min", help="C=AMOUNT, C=80% or C=0.8x (relative to current).")
]
MaxOpt = Annotated[
    list[str] | None, typer.Option("--max", help="C=AMOUNT, C=150% or C=1.5x (relative to current).")
]
MaxChangeOpt = Annotated[
    float | None, typer.Option("--max-change", help="Largest relative change per channel, e.g. 0.3.")
]
LockOpt = Annotated[
    list[str] | None, typer.Option("--lock", help="Channel held at its current spend; repeat.")
]


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"{option} {item!r}: expected CHANNEL=VALUE, e.g. {option} search=1500")
        out[name.strip()] = value.strip()
    return out


def _bounds(
    minimum: list[str] | None, maximum: list[str] | None, max_change: float | None, lock: list[str] | None
) -> dict[str, Any]:
    return {
        "minimum": _pairs(minimum, "--min"),
        "maximum": _pairs(maximum, "--max"),
        "max_change": max_change,
        "locked": list(lock or []),
    }


def optimize(
    model_dir: ModelDirArg,
    total: Annotated[float, typer.Option("--total", help="Budget per week over the horizon, base currency.")],
    weeks: WeeksOpt = 1,
    objective: ObjectiveOpt = ObjectiveName.revenue,
    margin_rate: MarginOpt = None,
    minimum: MinOpt = None,
    maximum: MaxOpt = None,
    max_change: MaxChangeOpt = None,
    lock: LockOpt = None,
    risk: Annotated[
        str, typer.Option("--risk", help="mean (expected value) or q10 (10% quantile, risk-averse).")
    ] = "mean",
    flighting: Annotated[
        bool, typer.Option("--flighting", help="Also plan week by week with carry-over.")
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Recommend weekly spend per channel that maximises the objective within the budget and bounds."""
    from trueroi.budget.planning import plan_budget

    result = plan_budget(
        model_dir,
        total,
        weeks=weeks,
        objective=objective.value,
        margin_rate=margin_rate,
        workspace=workspace,
        risk=risk,
        flighting=flighting,
        **_bounds(minimum, maximum, max_change, lock),
    )
    unspent = result.plan.unspent_note()
    if unspent:
        note(unspent)
    if fmt == OutputFormat.json:
        print_json(result.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(result.rows())
    else:
        _print_plan(result.to_dict())


def _print_plan(payload: dict[str, Any]) -> None:
    columns = [
        ("channel", "Channel", "text"),
        ("current", "Current", "money"),
        ("recommended", "Recommended", "money"),
        ("change", "Change", "percent"),
        ("mroi_current", "mROI now", "ratio"),
        ("mroi_recommended", "mROI plan", "ratio"),
        ("reason", "Why", "text"),
    ]
    exp, cur = payload["expected"], payload["current_expected"]
    caption = (
        f"{payload['objective']} over {payload['weeks']} week(s): {exp['mean']:,.0f} "
        f"(90% interval {exp['lower']:,.0f} to {exp['upper']:,.0f}) vs current {cur['mean']:,.0f}; "
        f"P(beats current) {payload['p_beats_current']:.0%}; "
        f"binding: {', '.join(payload['binding']) or 'none'}"
    )
    print_table(payload["explanation"], columns, title="Budget plan (weekly spend)", caption=caption)
    if "flighting" in payload:
        weekly = payload["flighting"]["weekly_total"]
        console.print("Week-by-week totals: " + ", ".join(f"{v:,.0f}" for v in weekly))


def compare(
    model_dir: ModelDirArg,
    plan: Annotated[
        list[str] | None, typer.Option("--plan", help="NAME=FILE.json with {channel: weekly spend}; repeat.")
    ] = None,
    optimised: Annotated[
        bool,
        typer.Option(
            "--optimised/--no-optimised", help="Add the optimised plan at the current total and at +growth."
        ),
    ] = True,
    growth: Annotated[
        float, typer.Option("--growth", help="Budget increase of the grown optimised plan.")
    ] = 0.2,
    weeks: WeeksOpt = 1,
    objective: ObjectiveOpt = ObjectiveName.revenue,
    margin_rate: MarginOpt = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write the response curves with each plan's points (HTML).")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Compare named plans side by side: spend, expected outcome with 90% interval, ROAS, ROI, P(win)."""
    from trueroi.budget.planning import compare_scenarios

    result = compare_scenarios(
        model_dir,
        _pairs(plan, "--plan"),
        optimised=optimised,
        growth=growth,
        weeks=weeks,
        objective=objective.value,
        margin_rate=margin_rate,
        workspace=workspace,
        chart=chart,
    )
    if fmt == OutputFormat.json:
        print_json(result.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(result.rows())
    else:
        print_table(
            result.rows(),
            [
                ("name", "Plan", "text"),
                ("spend", "Weekly spend", "money"),
                ("mean", objective.value, "money"),
                ("lower", "90% low", "money"),
                ("upper", "90% high", "money"),
                ("roas", "ROAS", "ratio"),
                ("roi", "ROI", "percent"),
                ("p_beats_current", "P(beats current)", "percent"),
            ],
            title=f"Scenarios over {weeks} week(s)",
        )


def target(
    model_dir: ModelDirArg,
    kpi_target: Annotated[
        float | None,
        typer.Option("--kpi-target", help="Expected KPI (revenue or conversions) to reach over the horizon."),
    ] = None,
    mroi: Annotated[
        float | None,
        typer.Option(
            "--mroi",
            help="Marginal ROI the last currency unit should still return (1 with --objective margin: "
            "break-even).",
        ),
    ] = None,
    weeks: WeeksOpt = 1,
    objective: ObjectiveOpt = ObjectiveName.revenue,
    margin_rate: MarginOpt = None,
    minimum: MinOpt = None,
    maximum: MaxOpt = None,
    max_change: MaxChangeOpt = None,
    lock: LockOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """The smallest weekly budget reaching a target, or the budget where marginal ROI falls to a level."""
    from trueroi.budget.planning import plan_target

    result = plan_target(
        model_dir,
        kpi_target=kpi_target,
        mroi=mroi,
        weeks=weeks,
        objective=objective.value,
        margin_rate=margin_rate,
        workspace=workspace,
        **_bounds(minimum, maximum, max_change, lock),
    )
    payload = result.to_dict()
    if fmt == OutputFormat.json:
        print_json(payload)
    elif fmt == OutputFormat.csv:
        print_csv(result.explanation)
    else:
        console.print(f"Weekly budget: {payload['total']:,.2f}")
        _print_plan(payload)


def register(app: typer.Typer) -> None:
    grp = group(
        "budget",
        BUDGET_HELP,
    )
    grp.command("optimize")(optimize)
    grp.command("compare")(compare)
    grp.command("target")(target)
