"""``trueroi import FORMAT FILE...``: load exports into the workspace; ``trueroi import --detect FILE``."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

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
from trueroi.errors import UsageError

FORMAT_HELP = (
    "google-ads, meta-ads, microsoft-ads, ga4, shopify-orders, orders, conversions, offline-conversions, "
    "crm, "
    "costs, fx-rates, touchpoints, ad-performance, or auto (detect each file)."
)


def import_files(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help=FORMAT_HELP)],
    files: Annotated[
        list[Path] | None, typer.Argument(metavar="FILE...", help="Export files to import.")
    ] = None,
    workspace: WorkspaceOpt = None,
    detect: Annotated[
        bool, typer.Option("--detect", help="Only name the format of each FILE; load nothing.")
    ] = False,
    product_costs: Annotated[
        Path | None, typer.Option(help="CSV of unit costs (sku and/or name, unit_cost) for shop orders.")
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="Currency of exports that do not name one (ISO 4217).")
    ] = None,
    purchase_action: Annotated[
        str | None,
        typer.Option(help="Meta insights action type counted as a purchase (default: omni_purchase)."),
    ] = None,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """Import export files; each file loads atomically, and a file imported before is skipped."""
    paths = ([Path(fmt)] if detect else []) + list(files or [])
    if detect:
        _detect(paths, output)
        return
    if not paths:
        raise UsageError("no FILE given; usage: trueroi import FORMAT FILE... (or FORMAT auto)")
    from trueroi.ingest import detect_format, get_format, import_file
    from trueroi.workspace import Workspace

    jobs = [(detect_format(p) if fmt == "auto" else get_format(fmt).name, p) for p in paths]
    jobs.sort(key=lambda job: job[0] != "fx-rates")  # rates first: other files are checked against them
    options: dict[str, Any] = {
        k: v
        for k, v in {
            "product_costs": product_costs,
            "currency": currency and currency.upper(),
            "purchase_action": purchase_action,
        }.items()
        if v
    }
    results = []
    with Workspace.open(workspace) as ws:
        for name, path in jobs:
            with _progress(path) as on_rows:
                result = import_file(ws, name, path, options=options, on_rows=on_rows)
            results.append(
                {
                    "file": str(path),
                    "format": name,
                    "import_id": result.import_id,
                    "rows": sum(result.rows.values()),
                    "tables": result.rows,
                    "replaced": result.replaced,
                    "skipped": result.skipped,
                }
            )
    _report(results, output)


def _detect(paths: list[Path], output: OutputFormat) -> None:
    from trueroi.ingest import detect_format

    rows = [{"file": str(p), "format": detect_format(p)} for p in paths]
    if output == OutputFormat.json:
        print_json({"files": rows})
    elif output == OutputFormat.csv:
        print_csv(rows)
    else:
        for row in rows:
            console.print(f"{row['file']}: {row['format']}", highlight=False)


def _progress(path: Path):  # noqa: ANN202 - a context manager yielding the row callback
    """A rich progress line counting rows on a terminal; nothing when output is piped."""
    if not sys.stderr.isatty():
        return nullcontext(None)
    from contextlib import contextmanager

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar():  # noqa: ANN202
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,.0f} rows"),
            TimeElapsedColumn(),
            transient=True,
            console=_stderr_console(),
        ) as progress:
            task = progress.add_task(f"importing {path.name}", total=None)
            yield lambda n: progress.advance(task, n)

    return bar()


def _stderr_console():  # noqa: ANN202
    from trueroi.cli.common import err_console

    return err_console


def _report(results: list[dict[str, Any]], output: OutputFormat) -> None:
    if output == OutputFormat.json:
        print_json({"imports": results})
        return
    flat = [
        {**{k: v for k, v in r.items() if k != "tables"}, "tables": ", ".join(r["tables"])} for r in results
    ]
    if output == OutputFormat.csv:
        print_csv(flat)
        return
    for row in flat:
        row["status"] = "skipped (already imported)" if row["skipped"] else "loaded"
    print_table(
        flat,
        [
            ("file", "File", "text"),
            ("format", "Format", "text"),
            ("tables", "Tables", "text"),
            ("rows", "Rows", "count"),
            ("replaced", "Replaced", "count"),
            ("status", "Status", "text"),
        ],
        title="Imported",
    )


def register(app: typer.Typer) -> None:
    app.command("import")(import_files)
