"""``trueroi import FORMAT FILE|DIR...``: load exports into the workspace; ``--detect`` names formats."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    err_console,
    print_csv,
    print_json,
    print_table,
)
from trueroi.errors import UsageError

FORMAT_HELP = "An import format (see 'trueroi import --formats'), or auto to detect each file's format."


def import_files(
    fmt: Annotated[str | None, typer.Argument(metavar="FORMAT", help=FORMAT_HELP)] = None,
    files: Annotated[
        list[Path] | None, typer.Argument(metavar="FILE...", help="Export files to import.")
    ] = None,
    workspace: WorkspaceOpt = None,
    detect: Annotated[
        bool, typer.Option("--detect", help="Only name the format of each FILE; load nothing.")
    ] = False,
    formats: Annotated[bool, typer.Option("--formats", help="List the import formats and exit.")] = False,
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
    """Import export files or folders of them: each file loads atomically, a file loaded before is skipped.

    Exchange rates load first, since every other file's foreign amounts are checked against them.
    """
    from trueroi import ingest
    from trueroi.workspace import Workspace

    if formats:
        console.print("\n".join(ingest.format_names()), highlight=False)
        return
    if detect:  # FORMAT may be a file too: `trueroi import --detect *`
        named = [] if fmt in (None, *ingest.format_names(), ingest.AUTO) else [fmt]
        _detect(ingest.detect_files(named + list(files or [])), output)
        return
    options: dict[str, Any] = {
        k: v
        for k, v in {
            "product_costs": product_costs,
            "currency": currency and currency.upper(),
            "purchase_action": purchase_action,
        }.items()
        if v
    }
    if fmt is None:
        raise UsageError("name an import format (or auto) and the files: trueroi import FORMAT FILE...")
    with Workspace.open(workspace) as ws, _progress() as on_rows:
        batch = ingest.import_files(ws, fmt, list(files or []), options=options, on_rows=on_rows)
    _report(batch.to_dict()["imports"], output)
    err_console.print(f"workspace: {ws.path}", highlight=False)


def _detect(detection, output: OutputFormat) -> None:  # noqa: ANN001 - ingest.Detection
    if output == OutputFormat.json:
        print_json(detection.to_dict())
    elif output == OutputFormat.csv:
        print_csv(detection.files)
    else:
        for row in detection.files:
            console.print(
                f"{row['file']}: {row['format'] or 'unknown (' + row['error'] + ')'}", highlight=False
            )
    if detection.unknown:
        raise typer.Exit(2)


@contextmanager
def _progress() -> Iterator[Callable[[Path, int], None] | None]:
    """A rich progress line per file counting rows on a terminal; nothing when output is piped."""
    if not err_console.is_terminal:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,.0f} rows"))
    with Progress(*columns, TimeElapsedColumn(), transient=True, console=err_console) as progress:
        tasks: dict[Path, Any] = {}

        def advance(path: Path, n: int) -> None:
            if path not in tasks:
                tasks[path] = progress.add_task(f"importing {path.name}", total=None)
            progress.advance(tasks[path], n)

        yield advance


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
