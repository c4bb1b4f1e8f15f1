"""``trueroi import FORMAT FILE|DIR...``: load exports into the workspace; ``--detect`` names formats;
``trueroi import list`` lists the imports and ``trueroi import remove IMPORT_ID`` removes one.

``list`` and ``remove`` are words no import format uses, so the command tells them apart by its first word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

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
from trueroi.cli.workspace import open_workspace, wrote_to
from trueroi.errors import UsageError

FORMAT_HELP = (
    "An import format (see 'trueroi import --formats'), auto to detect each file's format, or the word list "
    "or remove."
)
LIST, REMOVE = "list", "remove"


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
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace the period each file covers: remove the rows imported earlier from the same format "
            "between the file's first and last day (the count is shown as replaced).",
        ),
    ] = False,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """Import export files or folders of them: each file loads atomically, a file loaded before is skipped.

    Exchange rates load first, since every other file's foreign amounts are checked against them. A row
    replaces the rows imported earlier with the same key (the same order, touch, ad day and campaign/ad
    group ...: a corrected re-export); other rows are kept unless --replace asks to replace the period.

    trueroi import list: every import (id, format, file, sha256, rows, time, status).
    trueroi import remove IMPORT_ID: delete one import with every row it loaded.
    """
    from trueroi import ingest

    if fmt == LIST:
        _list(workspace, output)
        return
    if fmt == REMOVE:
        _remove(workspace, [str(f) for f in files or []], output)
        return
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
    with open_workspace(workspace) as ws, _progress() as on_rows:
        try:
            batch = ingest.import_files(
                ws, fmt, list(files or []), options=options, on_rows=on_rows, replace=replace
            )
        except BaseException:
            if ws.written:  # files before the broken one stay loaded
                wrote_to(ws)
            raise
    wrote_to(ws)
    _report(batch.to_dict()["imports"], output, batch.links)


def _list(workspace: Path | None, output: OutputFormat) -> None:
    with open_workspace(workspace) as ws:
        listing = ws.imports()
    if output == OutputFormat.json:
        print_json(listing.to_dict())
    elif output == OutputFormat.csv:
        print_csv(listing.rows())
    else:
        rows = [
            {**r.to_dict(), "sha": r.sha256[:12], "tables": ", ".join(r.tables), "loaded_at": _minute(r)}
            for r in listing.imports
        ]
        print_table(
            rows,
            [
                ("import_id", "Import id", "text"),
                ("format", "Format", "text"),
                ("file", "File", "text"),
                ("sha", "SHA-256", "text"),
                ("tables", "Tables", "text"),
                ("rows", "Rows", "count"),
                ("rows_present", "Rows now", "count"),
                ("loaded_at", "Loaded (UTC)", "text"),
                ("status", "Status", "text"),
            ],
            title="Imports",
            caption=None if rows else "no imports yet",
        )


def _minute(record: Any) -> str:  # noqa: ANN401 - an ImportRecord
    return record.loaded_at.strftime("%Y-%m-%d %H:%M")


def _remove(workspace: Path | None, ids: list[str], output: OutputFormat) -> None:
    if len(ids) != 1:
        raise UsageError("name one import id to remove: trueroi import remove IMPORT_ID")
    with open_workspace(workspace) as ws:
        removed = ws.remove_import(ids[0])
    wrote_to(ws)
    if output == OutputFormat.json:
        print_json(removed.to_dict())
    elif output == OutputFormat.csv:
        print_csv([{"table": t, "removed": n} for t, n in removed.rows.items()])
    else:
        per_table = ", ".join(f"{t} {n:,}" for t, n in removed.rows.items())
        console.print(
            escape(
                f"Removed import {removed.import_id} ({removed.format}, {removed.file}): "
                f"{removed.removed:,} rows ({per_table})."
            ),
            highlight=False,
            soft_wrap=True,
        )


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


def _report(results: list[dict[str, Any]], output: OutputFormat, links: Any = None) -> None:  # noqa: ANN401
    """The batch as a table, JSON or CSV; ``links`` (``OrderLinks``) says what matched tracked purchases."""
    if output == OutputFormat.json:
        print_json({"imports": results} | ({"order_links": links.to_dict()} if links is not None else {}))
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
    if links is not None:
        console.print(escape(links.line()))


def register(app: typer.Typer) -> None:
    app.command("import")(import_files)
