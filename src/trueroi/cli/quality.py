"""``trueroi quality``: where the workspace's data disagrees with itself."""

from __future__ import annotations

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    print_csv,
    print_json,
    print_table,
)
from trueroi.cli.workspace import open_workspace


def quality(workspace: WorkspaceOpt = None, output: FormatOpt = OutputFormat.table) -> None:
    """Reconcile platforms with the shop, tracking with orders, offline conversions with clicks."""
    from trueroi.quality import quality_report

    with open_workspace(workspace) as ws:
        report = quality_report(ws)
    if output == OutputFormat.json:
        print_json(report.to_dict())
        return
    rows = report.rows()
    if output == OutputFormat.csv:
        print_csv(rows)
        return
    if not rows:
        console.print("No data-quality findings.")
        return
    print_table(
        rows,
        [
            ("severity", "Severity", "text"),
            ("title", "Finding", "text"),
            ("count", "Count", "count"),
            ("examples", "Examples", "text"),
        ],
        title="Data quality",
    )


def register(app: typer.Typer) -> None:
    app.command("quality")(quality)
