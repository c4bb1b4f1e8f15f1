"""The ``trueroi`` command: a thin face over the library.

Each domain adds its commands from its own module (``trueroi.cli.<domain>``) through a ``register(app)``
function, so commands live next to nothing but their own domain. A command parses its options, calls one
library function and renders the result (a table for people, its ``to_dict()`` as JSON, or CSV); the
library is imported inside the command functions only so that ``trueroi --help`` and every command start
without loading the whole stack. Errors the library raises on purpose (:class:`~trueroi.errors.TrueRoiError`)
become one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata

import typer

from trueroi.cli import (
    attribution,
    budget,
    channels,
    clv,
    content,
    demo,
    experiment,
    goals,
    ingest,
    kpis,
    mmm,
    monitor,
    partners,
    quality,
    report,
    server,
    tracking,
    workspace,
)
from trueroi.cli.common import err_console, groups, reset_groups, safe_text
from trueroi.errors import NoWorkspaceError, TrueRoiError

# In the order their commands appear in ``trueroi --help``.
COMMAND_MODULES = (
    workspace,
    demo,
    kpis,
    content,
    ingest,
    channels,
    quality,
    attribution,
    mmm,
    budget,
    experiment,
    clv,
    goals,
    partners,
    monitor,
    report,
    server,
    tracking,
)


def build_app() -> typer.Typer:
    """The Typer application with every available command module registered."""
    app = typer.Typer(
        name="trueroi",
        help="What each channel, campaign and euro really returns, and where the next euro should go.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(_root)
    reset_groups()
    for module in COMMAND_MODULES:
        module.register(app)
    for group_name, sub in groups().items():
        app.add_typer(sub, name=group_name)
    return app


def _print_version(on: bool) -> None:
    """``trueroi --version``: the installed package's version (``importlib.metadata``), then exit."""
    if on:
        typer.echo(f"trueroi {metadata.version('trueroi')}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the installed trueroi version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Refuse to run when $TRUEROI_WORKSPACE names another workspace than the one in the current "
        "directory (same as TRUEROI_STRICT=1); without it that is a warning.",
    ),
) -> None:
    """What each channel, campaign and euro really returns, and where the next euro should go."""
    if strict:
        os.environ["TRUEROI_STRICT"] = "1"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``trueroi`` console script."""
    app = build_app()
    try:
        app(args=argv, prog_name="trueroi")
    except TrueRoiError as exc:
        # control characters (a file name with an escape sequence) are written as escapes, markup escaped
        err_console.print(f"[bold red]error:[/] {safe_text(_message(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)


def _message(exc: TrueRoiError) -> str:
    """The error's line, with what to type where the library's words name no command."""
    if isinstance(exc, NoWorkspaceError):
        return f"{exc}; run 'trueroi init {exc.directory}' or pass --workspace DIR"
    return str(exc)


if __name__ == "__main__":
    main()
