"""``trueroi init``: create a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import console
from trueroi.workspace import Workspace, WorkspaceConfig


def init(
    directory: Annotated[Path, typer.Argument(help="Directory for the new workspace (created if missing).")],
    currency: Annotated[str, typer.Option(help="Base currency (ISO 4217).")] = "EUR",
    timezone: Annotated[str, typer.Option(help="IANA time zone where days are cut.")] = "Europe/Berlin",
    brand: Annotated[list[str] | None, typer.Option(help="Brand term (regex); repeat for several.")] = None,
) -> None:
    """Create a workspace: trueroi.toml and an embedded DuckDB warehouse with the canonical tables."""
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
