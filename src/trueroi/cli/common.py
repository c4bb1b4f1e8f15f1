"""What every CLI command shares: output formats, the workspace option, command groups."""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trueroi.io import dumps, jsonable, write_csv

# On a terminal rich wraps tables to its width; piped, it would cut them at 80 columns ("Paid Sear..."), so
# piped output gets room for whole cells: tables grow as wide as their content, never truncated.
PIPED_WIDTH = 1000
console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)

_GROUPS: dict[str, typer.Typer] = {}


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="Workspace directory (default: $TRUEROI_WORKSPACE or the current one)."
    ),
]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table for people, json or csv for scripts.")
]


BUDGET_HELP = (
    "Budgets: plan them on the mix model's response curves (optimize, compare, target) and pace spend "
    "against them (set, list, remove, pacing)."
)


def group(name: str, help: str) -> typer.Typer:  # noqa: A002 - mirrors Typer's keyword
    """A command group (``trueroi NAME ...``) shared by every module that adds commands to it."""
    if name not in _GROUPS:
        _GROUPS[name] = typer.Typer(name=name, help=help, no_args_is_help=True)
    return _GROUPS[name]


def groups() -> dict[str, typer.Typer]:
    return _GROUPS


def reset_groups() -> None:
    """Forget the command groups, so that building the app again does not register every command twice."""
    _GROUPS.clear()


def safe_text(text: object) -> str:
    """``text`` for a rich console: control characters written as escapes, markup brackets escaped.

    C0 controls but newline and tab, DEL, C1 controls and the bidirectional overrides become ``\\x1b`` or
    ``\\u202e``, so a file name or a value from the data cannot move the cursor, recolour or hide text.
    """
    escaped = re.sub(
        "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]",
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}",
        str(text),
    )
    return escape(escaped)


def warn(message: object) -> None:
    """One warning line on stderr (the text's control characters and markup escaped)."""
    err_console.print(f"[yellow]warning:[/] {safe_text(message)}", highlight=False, soft_wrap=True)


def note(message: object) -> None:
    """One informational line on stderr (escaped like :func:`warn`)."""
    err_console.print(safe_text(message), highlight=False, soft_wrap=True)


def print_json(payload: Any) -> None:
    sys.stdout.write(dumps(payload) + "\n")


def print_csv(rows: list[dict[str, Any]] | Any) -> None:
    """Rows (dicts or a DataFrame) as CSV on stdout, spreadsheet formulas neutralised."""
    write_csv(rows, sys.stdout)


def format_number(value: Any, kind: str = "number") -> str:
    """Human formatting: money with thousands separators, ratios as percent or x, counts as integers."""
    value = jsonable(value)
    if value is None:
        return "–"
    if isinstance(value, str | bool):
        return str(value)
    if kind == "percent":
        return f"{value * 100:,.1f}%"
    if kind == "ratio":
        return f"{value:,.2f}"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "money":
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{value:,.2f}"


def print_table(
    rows: list[dict[str, Any]],
    columns: list[tuple[str, str, str]],
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Print rows as a rich table; ``columns`` holds (key, header, kind) with kind as for format_number."""
    table = Table(title=title, caption=caption, header_style="bold")
    for _, header, kind in columns:
        table.add_column(header, justify="left" if kind == "text" else "right")
    for row in rows:
        table.add_row(*[safe_text(format_number(row.get(key), kind)) for key, _, kind in columns])
    console.print(table)
