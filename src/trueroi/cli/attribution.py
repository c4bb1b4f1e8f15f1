"""``trueroi attribution [PATHS.csv] --model NAME|all``: credit conversions to channels under one or all models.

With no file the journeys come from the workspace (touchpoints joined to orders within the lookback window);
with a file, from the aggregated layout ``path,conversions,value,nulls`` or the touchpoint layout
``user_id,ts,channel,conversion,value``. ``--format json`` prints the stable contract
``{"results": {model: {channel: {"conversions", "value"}}}, "total_conversions", "total_value"}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import FormatOpt, OutputFormat, WorkspaceOpt, print_csv, print_json, print_table


def attribution(
    paths: Annotated[
        Path | None,
        typer.Argument(help="Journeys CSV (path,conversions,value,nulls or user_id,ts,channel,conversion,value); "
                       "omit to build journeys from the workspace."),
    ] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="Model name, comma-separated names, or 'all'.")] = "all",
    fmt: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
    lookback_days: Annotated[
        int | None, typer.Option(help="Days before a conversion that count (workspace journeys; default from config).")
    ] = None,
    markov_order: Annotated[int, typer.Option(help="Markov chain order (1-3).")] = 1,
    half_life_days: Annotated[float, typer.Option(help="Time-decay half-life in days.")] = 7.0,
    exclude_direct: Annotated[bool, typer.Option(help="Drop direct touches from workspace journeys.")] = False,
) -> None:
    """Credit conversions and value to channels under each attribution model, side by side."""
    from trueroi.attribution import attribute, read_paths_csv

    if paths is not None:
        journeys = read_paths_csv(paths)
    else:
        from trueroi.attribution.warehouse import build_journeys
        from trueroi.workspace import Workspace

        ws = Workspace.open(workspace)
        try:
            ws.require_data()
            journeys = build_journeys(ws, lookback_days=lookback_days, exclude_direct=exclude_direct)
        finally:
            ws.close()
    settings = {"markov": {"order": markov_order}, "time_decay": {"half_life_days": half_life_days}}
    result = attribute(journeys, model, settings)
    if fmt == OutputFormat.json:
        print_json(result.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(result.credits.to_dict("records"))
    else:
        _print_tables(result)


SHORT = {
    "first_click": "first", "last_click": "last", "last_non_direct_click": "last n-d", "linear": "linear",
    "time_decay": "decay", "position_based": "u-shape", "markov": "markov", "shapley": "shapley",
    "shapley_ordered": "sh.ord",
}


def _print_tables(result) -> None:  # noqa: ANN001 - AttributionResult, imported lazily
    for what, kind in (("conversions", "number"), ("value", "money")):
        wide = result.wide(what)
        rows = [{"channel": ch, **row} for ch, row in wide.to_dict("index").items()]
        columns = [("channel", "Channel", "text")] + [(m, SHORT.get(m, m), kind) for m in wide.columns]
        total = result.total_conversions if what == "conversions" else result.total_value
        print_table(rows, columns, title=f"Attributed {what} by model",
                    caption=f"total {what}: {total:,.2f}; every model's column sums to it")


def register(app: typer.Typer) -> None:
    app.command("attribution")(attribution)
