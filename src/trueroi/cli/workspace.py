"""``trueroi init``: create a workspace; the helpers every command uses to open one and name what it wrote."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trueroi.cli.common import (
    console,
    err_console,
    safe_text,
    warn,
)

if TYPE_CHECKING:
    from trueroi.workspace import Workspace


def open_workspace(path: Path | None) -> Workspace:
    """Open the workspace a command names (``--workspace``, ``$TRUEROI_WORKSPACE`` or the current directory).

    When ``$TRUEROI_WORKSPACE`` names another workspace than the one the current directory holds, one warning
    line goes to stderr (with ``TRUEROI_STRICT=1`` the library refuses instead).
    """
    from trueroi.workspace import Workspace  # the library stays off the start-up path of `trueroi --help`

    ws = Workspace.open(path)
    if ws.choice.warning:
        warn(ws.choice.warning)
    return ws


def wrote_to(ws: Workspace) -> None:
    """One line on stderr naming the workspace a writing command wrote to, or that it wrote nothing there."""
    where = safe_text(ws.path)
    line = f"wrote to workspace {where}" if ws.written else f"nothing written to workspace {where}"
    err_console.print(line, highlight=False, soft_wrap=True)


def init(
    directory: Annotated[Path, typer.Argument(help="Directory for the new workspace (created if missing).")],
    currency: Annotated[str, typer.Option(help="Base currency (ISO 4217).")] = "EUR",
    timezone: Annotated[str, typer.Option(help="IANA time zone where days are cut.")] = "Europe/Berlin",
    brand: Annotated[list[str] | None, typer.Option(help="Brand term (regex); repeat for several.")] = None,
) -> None:
    """Create a workspace: trueroi.toml and an embedded DuckDB warehouse with the canonical tables."""
    from trueroi.workspace import Workspace, WorkspaceConfig

    config = WorkspaceConfig(
        name=directory.resolve().name,
        base_currency=currency.upper(),
        timezone=timezone,
        brand_terms=brand or [],
    )
    ws = Workspace.init(directory, config)
    ws.close()
    console.print(
        f"Created workspace in {ws.path} (base currency {config.base_currency}, {config.timezone})."
    )


def register(app: typer.Typer) -> None:
    app.command()(init)
