"""``trueroi channels apply``: re-apply the workspace's channel rules to the sessions and ad rows loaded."""

from __future__ import annotations

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    group,
    print_csv,
    print_json,
    print_table,
)
from trueroi.cli.workspace import open_workspace, wrote_to


def channels_apply(workspace: WorkspaceOpt = None, output: FormatOpt = OutputFormat.table) -> None:
    """Derive the channel of every loaded session and ad row again under the channel rules of trueroi.toml."""
    from trueroi.ingest.rechannel import apply_channel_rules

    with open_workspace(workspace) as ws:
        result = apply_channel_rules(ws)
    wrote_to(ws)
    if output == OutputFormat.json:
        print_json(result.to_dict())
        return
    if output == OutputFormat.csv:
        print_csv(result.rows())
        return
    changed = result.to_dict()["changed"]
    console.print(
        f"{result.total:,} row(s) changed channel: {changed['touchpoints']:,} touchpoints, "
        f"{changed['ad_performance']:,} ad rows"
    )
    if result.moves:
        print_table(
            result.rows(),
            [
                ("table", "Table", "text"),
                ("from", "From", "text"),
                ("to", "To", "text"),
                ("rows", "Rows", "count"),
            ],
            title="Channel changes",
        )


def register(app: typer.Typer) -> None:
    channels = group("channels", "Channel rules: re-apply them to the data already loaded.")
    channels.command("apply")(channels_apply)
