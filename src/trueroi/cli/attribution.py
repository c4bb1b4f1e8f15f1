"""``trueroi attribution [PATHS.csv] --model NAME|all``: credit conversions to channels under one or all
models.

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
from trueroi.cli.workspace import open_workspace


def attribution(
    paths: Annotated[
        Path | None,
        typer.Argument(
            help="Journeys CSV (path,conversions,value,nulls or user_id,ts,channel,conversion,value); "
            "omit to build journeys from the workspace."
        ),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Model name, comma-separated names, or 'all'.")
    ] = "all",
    fmt: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
    lookback_days: Annotated[
        int | None,
        typer.Option(help="Days before a conversion that count (workspace journeys; default from config)."),
    ] = None,
    markov_order: Annotated[int, typer.Option(help="Markov chain order (1-3).")] = 1,
    half_life_days: Annotated[float, typer.Option(help="Time-decay half-life in days.")] = 7.0,
    exclude_direct: Annotated[
        bool, typer.Option(help="Drop direct touches from workspace journeys.")
    ] = False,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day of conversions, YYYY-MM-DD (workspace only).")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day of conversions, YYYY-MM-DD.")] = None,
    period: Annotated[
        str | None, typer.Option(help="Named period instead of --from/--to: 2026-Q3, 2026-07.")
    ] = None,
    view: Annotated[
        str,
        typer.Option(
            help="credits (default): credits by model; roi: ROAS and ROI by model (workspace "
            "only); paths: conversion paths report."
        ),
    ] = "credits",
) -> None:
    """Credit conversions and value to channels under each attribution model, side by side."""
    from trueroi.attribution import credit_journeys, load_journeys
    from trueroi.attribution.report import paths_report
    from trueroi.errors import UsageError
    from trueroi.metrics import resolve_range
    from trueroi.metrics.by_model import compare_roi

    if view not in VIEWS:
        raise UsageError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")
    if paths is not None and (view == "roi" or date_from or date_to or period):
        raise UsageError(
            "--view roi and --from/--to/--period need the workspace's spend, orders and days; "
            "run without a journeys file"
        )
    start, end = resolve_range(date_from, date_to, period)
    if view == "roi":
        with open_workspace(workspace) as ws:
            _print_roi(compare_roi(ws, model, start=start, end=end), fmt)
        return
    if paths is not None:
        journeys = load_journeys(paths)
    else:
        with open_workspace(workspace) as ws:
            journeys = load_journeys(
                ws, lookback_days=lookback_days, exclude_direct=exclude_direct, start=start, end=end
            )
    if view == "paths":
        _paths(paths_report(journeys), fmt)
        return
    result = credit_journeys(journeys, model, markov_order=markov_order, half_life_days=half_life_days)
    if fmt == OutputFormat.json:
        print_json(result.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(result.credits)
    else:
        _print_tables(result)


SHORT = {
    "first_click": "first",
    "last_click": "last",
    "last_non_direct_click": "last n-d",
    "linear": "linear",
    "time_decay": "decay",
    "position_based": "u-shape",
    "markov": "markov",
    "shapley": "shapley",
    "shapley_ordered": "sh.ord",
}


def _print_tables(result) -> None:  # noqa: ANN001 - AttributionResult, imported lazily
    for what, kind in (("conversions", "count"), ("value", "money")):
        wide = result.wide(what)
        rows = [{"channel": ch, **row} for ch, row in wide.to_dict("index").items()]
        columns = [("channel", "Channel", "text")] + [(m, SHORT.get(m, m), kind) for m in wide.columns]
        total = result.total_conversions if what == "conversions" else result.total_value
        print_table(
            rows,
            columns,
            title=f"Attributed {what} by model",
            caption=f"total {what}: {total:,.2f}; every model's column sums to it",
        )


VIEWS = ("credits", "roi", "paths")


def _print_roi(comparison, fmt: OutputFormat) -> None:  # noqa: ANN001 - RoiComparison
    roi, spread = comparison.roi, comparison.spread
    if fmt == OutputFormat.json:
        print_json(comparison.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(roi.to_dict("records"))
    else:
        cols = [
            ("model", "Model", "text"),
            ("channel", "Channel", "text"),
            ("revenue", "Revenue", "money"),
            ("spend", "Spend", "money"),
            ("roas", "ROAS", "ratio"),
            ("media_roi", "Media ROI", "percent"),
            ("full_roi", "Full ROI", "percent"),
        ]
        print_table(roi.to_dict("records"), cols, title="ROI by attribution model")
        cols = [
            ("channel", "Channel", "text"),
            ("roas_min", "ROAS min", "ratio"),
            ("roas_max", "ROAS max", "ratio"),
            ("media_roi_min", "Media ROI min", "percent"),
            ("model_roi_min", "under", "text"),
            ("media_roi_max", "Media ROI max", "percent"),
            ("model_roi_max", "under", "text"),
        ]
        print_table(
            spread.to_dict("records"),
            cols,
            title="Spread between models",
            caption="the model decides whether it pays back: "
            + (", ".join(comparison.decisive_channels) or "none"),
        )


def _paths(report, fmt: OutputFormat) -> None:  # noqa: ANN001 - PathsReport
    if fmt == OutputFormat.json:
        print_json(report.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(report.channel_roles.to_dict("records"))
    else:
        print_table(
            report.top_paths.to_dict("records"),
            [
                ("path", "Path", "text"),
                ("conversions", "Conversions", "number"),
                ("value", "Value", "money"),
                ("conversion_rate", "Conv. rate", "percent"),
                ("share_of_conversions", "Share", "percent"),
            ],
            title="Top conversion paths",
        )
        print_table(
            report.path_lengths.to_dict("records"),
            [
                ("touches", "Touches", "count"),
                ("conversions", "Conversions", "number"),
                ("share_of_conversions", "Share", "percent"),
            ],
            title="Path length",
        )
        if report.time_to_conversion is not None:
            print_table(
                report.time_to_conversion.to_dict("records"),
                [
                    ("days", "First touch to conversion", "text"),
                    ("conversions", "Conversions", "number"),
                    ("share_of_conversions", "Share", "percent"),
                ],
                title="Time to conversion",
            )
        print_table(
            report.channel_roles.to_dict("records"),
            [
                ("channel", "Channel", "text"),
                ("opened", "Opened", "number"),
                ("assisted", "Assisted", "number"),
                ("closed", "Closed", "number"),
                ("assist_ratio", "Assist/close", "ratio"),
            ],
            title="Assisting vs closing",
        )


def register(app: typer.Typer) -> None:
    app.command("attribution")(attribution)
