"""``trueroi collector`` (keys, loader) and ``trueroi privacy`` (forget a person, delete old raw events)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import FormatOpt, OutputFormat, WorkspaceOpt, console, group, print_json, warn

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Server home (default: $TRUEROI_HOME or the current directory)."),
]


def collector_keys(
    name: Annotated[str, typer.Argument(help="Workspace name in the server home.")],
    home: HomeOpt = None,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace both keys (the old ones stop working).")
    ] = False,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """The workspace's collector keys: the public write key (tracker) and the secret key (server events)."""
    from trueroi.server import ServerHome
    from trueroi.tracking import collector_keys as keys_of

    with ServerHome.open(home) as opened:
        keys = keys_of(opened, name, rotate=rotate)
    if output == OutputFormat.json:
        print_json(keys.to_dict())
        return
    console.print(f"Collector keys of {name}{' (new)' if keys.created else ''}:")
    console.print(
        f'  write key  (public, in the page):  <script async src=".../t.js" data-key="{keys.write_key}">'
    )
    console.print(f"  secret key (server-side events):  Authorization: Bearer {keys.secret_key}")


def collector_load(
    home: HomeOpt = None,
    once: Annotated[
        bool, typer.Option("--once", help="One pass over the write-ahead log, then stop.")
    ] = False,
) -> None:
    """Move collected events into the warehouses until interrupted (trueroi serve runs one itself)."""
    from trueroi.server import ServerHome
    from trueroi.tracking import WalLoader, run_loader

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with ServerHome.open(home) as opened:
        if once:
            moved = WalLoader(opened).run_once()
            console.print(f"{moved} event(s) loaded")
            return
        console.print(f"Loading the tracked events of {opened.path}; Ctrl-C stops")
        run_loader(opened)


def privacy_forget(
    user_id: Annotated[
        str, typer.Argument(help="The person's id: the tracker's visitor id or the shop's user id.")
    ],
    workspace: WorkspaceOpt = None,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """Delete a person's tracked events, sessions, touchpoints and conversions (orders stay, without id)."""
    from trueroi.tracking import forget_user
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        if ws.choice.warning:
            warn(ws.choice.warning)
        done = forget_user(ws, user_id)
        where = ws.path
    if output == OutputFormat.json:
        print_json(done.to_dict())
        return
    console.print(
        f"Forgot {user_id} in {where}: {done.events} event(s), {done.touchpoints} touchpoint(s), "
        f"{done.conversions} conversion(s) deleted; {done.orders_anonymized} order(s) kept without the id"
    )


def privacy_retention(
    days: Annotated[
        int, typer.Option("--days", min=1, help="Delete raw events received more than this many days ago.")
    ],
    workspace: WorkspaceOpt = None,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """Delete old raw tracked events now (the loader does it hourly with [collector] retention_days)."""
    from trueroi.tracking import apply_retention
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        removed = apply_retention(ws, days)
        where = ws.path
    if output == OutputFormat.json:
        print_json({"deleted": removed, "days": days})
        return
    console.print(f"{removed} raw tracked event(s) older than {days} days deleted from {where}")


def register(app: typer.Typer) -> None:
    collector = group(
        "collector", "First-party tracking: collector keys of a workspace, and the loader into the warehouse."
    )
    collector.command("keys")(collector_keys)
    collector.command("load")(collector_load)
    privacy = group("privacy", "Personal data of tracked people: forget a person, delete old raw events.")
    privacy.command("forget")(privacy_forget)
    privacy.command("retention")(privacy_retention)
