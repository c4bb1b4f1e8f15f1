"""``trueroi content``: content pieces' cumulative ROI by month since going live, observed and projected."""

from __future__ import annotations

from typing import Annotated

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    note,
    print_csv,
    print_json,
    print_table,
)
from trueroi.cli.workspace import open_workspace


def register(app: typer.Typer) -> None:
    app.command("content")(content)


_COLUMNS = [
    ("key", "content", "text"),
    ("cost", "cost", "money"),
    ("month", "month", "count"),
    ("projected", "projected", "text"),
    ("sessions", "sessions", "count"),
    ("orders", "orders", "count"),
    ("margin", "margin", "money"),
    ("cumulative_margin", "cumulative margin", "money"),
    ("cumulative_roi", "cumulative ROI", "percent"),
    ("cumulative_roi_lower", "5%", "percent"),
    ("cumulative_roi_upper", "95%", "percent"),
    ("payback_month", "payback month", "count"),
]


def content(
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="What the cost rows' campaign_id holds: landing_page (the page path) or campaign (UTM).",
        ),
    ] = "landing_page",
    horizon: Annotated[
        int, typer.Option("--horizon", help="Months since going live to show, projected past the data.")
    ] = 36,
    categories: Annotated[
        str,
        typer.Option("--categories", help="Cost categories of a piece, comma-separated ('all': every one)."),
    ] = "production",
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Content ROI over time: production cost against the margin of the organic visits landing on it."""
    from trueroi.metrics.content import content_roi

    cats = None if categories.strip() == "all" else [c.strip() for c in categories.split(",") if c.strip()]
    with open_workspace(workspace) as ws:
        result = content_roi(ws, by=by, horizon=horizon, categories=cats)
    for line in result.notes:
        note(f"note: {line}")
    if output == OutputFormat.json:
        print_json(result.to_dict())
    elif output == OutputFormat.csv:
        print_csv(result.rows())
    else:
        print_table(
            result.rows(),
            _COLUMNS,
            title=f"Content ROI by month since going live (by {result.by})",
            caption=f"data to {result.data_end}; months after the last observed one are projected "
            "from a geometric decay fitted from the peak month on",
        )
