"""``trueroi report --period 2026-Q3 [--client NAME] [--model DIR] --out report.html|report.pdf|report.json``.

The management/client report of a period: goals and pacing, headline KPIs with year-over-year change, media
vs full ROI by channel, the attribution comparison, mix-model ROI and a budget recommendation (when a fitted
model is given with ``--model`` or sits in ``<workspace>/models/mmm``), data quality, anomalies and next
steps. The format follows the extension of ``--out``: ``.html`` (interactive charts), ``.pdf`` (charts as
images) or ``.json`` (the content itself). The file is written to a temporary file beside the target and
renamed into place, so a failure leaves nothing half-written (:mod:`trueroi.report.writers`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import WorkspaceOpt, console
from trueroi.cli.workspace import open_workspace


def report(
    period: Annotated[
        str, typer.Option("--period", help="2026-Q3, 2026-07, 2026 or 2026-07-01..2026-09-30.")
    ],
    out: Annotated[Path, typer.Option("--out", help="report.html, report.pdf or report.json.")],
    client: Annotated[
        str | None,
        typer.Option("--client", help="Client whose branding (clients.NAME in trueroi.toml) to use."),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Fitted mix model directory (default: <workspace>/models/mmm if present)."
        ),
    ] = None,
    attribution_models: Annotated[
        str, typer.Option("--attribution-models", help="Models to compare: 'all' or comma-separated names.")
    ] = "all",
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the management/client report of a period (HTML, PDF or JSON by the extension of --out)."""
    from trueroi.report.writers import create_report

    with open_workspace(workspace) as ws:
        path = create_report(
            ws, period, out, client=client, model_dir=model, attribution_models=attribution_models
        )
    console.print(f"Report written to {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
