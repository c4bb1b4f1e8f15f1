"""``trueroi server``, ``serve``, ``user`` and ``token``: the server home, its users and their API tokens.

Passwords are read from a prompt (twice) or, when standard input is piped, from its first line; never from
the command line, where other users of the machine could read them.
"""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import FormatOpt, OutputFormat, console, group, print_json, print_table
from trueroi.errors import UsageError

HomeArg = Annotated[
    Path | None, typer.Argument(help="Server home (default: $TRUEROI_HOME or the current directory).")
]
HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Server home (default: $TRUEROI_HOME or the current directory)."),
]
RoleOpt = Annotated[str, typer.Option("--role", help="admin, analyst or viewer.")]
WorkspacesOpt = Annotated[
    list[str] | None,
    typer.Option("--workspace", "-w", help="Workspace the role applies to (repeat for several)."),
]


def cli_actor() -> str:
    """Who acts, for the audit log: the system user running the command."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def read_password() -> str:
    """A new password from the prompt (typed twice) or from the first line of piped standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != first:
            raise UsageError("the two passwords differ")
        return first
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("no password on standard input (pipe it in, or run the command in a terminal)")
    return password


def server_init(
    home: HomeArg = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Metadata database, e.g. postgresql+psycopg://user@host/db (default: SQLite in HOME)."
        ),
    ] = None,
) -> None:
    """Create a server home: server.toml, the metadata database and workspaces/."""
    from trueroi.server import ServerHome

    with ServerHome.init(home, database_url=database_url) as created:
        console.print(f"Server home created in {created.path}")
        console.print(
            f"Add workspaces with 'trueroi init {created.workspaces_dir}/NAME' "
            "and users with 'trueroi user add'."
        )


def server_add_workspace(
    name: Annotated[str, typer.Argument(help="Name in URLs (/w/NAME/).")],
    path: Annotated[Path, typer.Argument(help="Directory of an existing workspace.")],
    home: HomeOpt = None,
) -> None:
    """Serve a workspace that lives outside HOME/workspaces/ under NAME."""
    from trueroi.server import ServerHome

    with ServerHome.open(home) as opened:
        directory = opened.register_workspace(name, path, actor=cli_actor())
    console.print(f"Workspace {name} ({directory}) is served")


def server_audit(
    home: HomeOpt = None,
    limit: Annotated[int, typer.Option(help="How many entries, newest first.")] = 50,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """The newest entries of the audit log."""
    from trueroi.server import ServerHome, entries

    with ServerHome.open(home) as opened:
        found = entries(opened.engine, limit=limit)
    if output == OutputFormat.json:
        print_json([e.to_dict() for e in found])
        return
    rows = [{**e.to_dict(), "detail": str(e.detail)} for e in found]
    columns = [(k, k.title(), "text") for k in ("at", "actor", "action", "workspace", "detail")]
    print_table(rows, columns, title="Audit log (UTC)")


def serve(
    home: HomeArg = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Web processes.")] = 1,
    job_workers: Annotated[
        int,
        typer.Option(
            min=0, help="Threads of the background job worker started beside it (0: none; see server worker)."
        ),
    ] = 2,
) -> None:
    """Start the web app and the REST API over a server home, with a background job worker."""
    from trueroi.web import serve as run

    run(home, host=host, port=port, workers=workers, job_workers=job_workers)


def server_worker(
    home: HomeOpt = None,
    threads: Annotated[int, typer.Option(min=1, help="Jobs run at the same time.")] = 2,
) -> None:
    """Run the background jobs of a server home (fits, large imports, reports) until interrupted."""
    from trueroi.server import ServerHome
    from trueroi.server.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with ServerHome.open(home) as opened:
        console.print(f"Running the jobs of {opened.path} with {threads} thread(s); Ctrl-C stops")
        run_worker(opened, threads=threads)


def user_add(email: str, role: RoleOpt, workspace: WorkspacesOpt = None, home: HomeOpt = None) -> None:
    """Add a user; the password comes from a prompt or standard input."""
    from trueroi.server import ServerHome, add_user

    password = read_password()
    with ServerHome.open(home) as opened:
        user = add_user(opened, email, password, role, workspace or (), actor=cli_actor())
    console.print(f"User {user.email} added ({_roles(user)})")


def user_grant(email: str, role: RoleOpt, workspace: WorkspacesOpt = None, home: HomeOpt = None) -> None:
    """Give a user a role (admin, or analyst/viewer of the named workspaces)."""
    from trueroi.server import ServerHome, grant

    with ServerHome.open(home) as opened:
        user = grant(opened, email, role, workspace or (), actor=cli_actor())
    console.print(f"User {user.email}: {_roles(user)}")


def user_disable(
    email: str,
    home: HomeOpt = None,
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again.")] = False,
) -> None:
    """Disable a user (its sessions end, its tokens stop working) or, with --enable, enable it again."""
    from trueroi.server import ServerHome, set_disabled

    with ServerHome.open(home) as opened:
        user = set_disabled(opened, email, not enable, actor=cli_actor())
    console.print(f"User {user.email} {'disabled' if user.disabled else 'enabled'}")


def user_list(home: HomeOpt = None, output: FormatOpt = OutputFormat.table) -> None:
    """Every user with its roles."""
    from trueroi.server import ServerHome, list_users

    with ServerHome.open(home) as opened:
        users = list_users(opened)
    if output == OutputFormat.json:
        print_json([u.to_dict() for u in users])
        return
    rows = [{"email": u.email, "roles": _roles(u), "disabled": "yes" if u.disabled else ""} for u in users]
    print_table(
        rows, [("email", "E-mail", "text"), ("roles", "Roles", "text"), ("disabled", "Disabled", "text")]
    )


def _roles(user) -> str:  # noqa: ANN001 - trueroi.server.User
    if user.is_admin:
        return "admin"
    return ", ".join(f"{role} of {name}" for name, role in sorted(user.roles.items()))


def token_create(
    email: str,
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. ci.")],
    home: HomeOpt = None,
) -> None:
    """Create an API token for a user; it is printed once, as the last line."""
    from trueroi.server import ServerHome, create_token

    with ServerHome.open(home) as opened:
        token = create_token(opened, email, name, actor=cli_actor())
    console.print(f"Token {name!r} for {email} (shown once; send it as 'Authorization: Bearer TOKEN'):")
    sys.stdout.write(token + "\n")


def token_revoke(
    email: str, name: Annotated[str, typer.Option("--name", help="The token's name.")], home: HomeOpt = None
) -> None:
    """Revoke a user's API token by its name."""
    from trueroi.server import ServerHome, revoke_token

    with ServerHome.open(home) as opened:
        revoke_token(opened, email, name, actor=cli_actor())
    console.print(f"Token {name!r} of {email} revoked")


def token_list(email: str, home: HomeOpt = None, output: FormatOpt = OutputFormat.table) -> None:
    """A user's tokens (names and dates, never the tokens)."""
    from trueroi.server import ServerHome, list_tokens

    with ServerHome.open(home) as opened:
        tokens = list_tokens(opened, email)
    if output == OutputFormat.json:
        print_json([t.to_dict() for t in tokens])
        return
    columns = [
        (k, k.replace("_", " ").title(), "text") for k in ("name", "created_at", "last_used_at", "revoked_at")
    ]
    print_table([t.to_dict() for t in tokens], columns, title=f"API tokens of {email} (UTC)")


def register(app: typer.Typer) -> None:
    server = group(
        "server", "The server home of the web app: create it, serve workspaces, read the audit log."
    )
    server.command("init")(server_init)
    server.command("add-workspace")(server_add_workspace)
    server.command("audit")(server_audit)
    server.command("worker")(server_worker)
    app.command("serve")(serve)
    user = group("user", "Users of the web app and their roles (admin; analyst or viewer per workspace).")
    user.command("add")(user_add)
    user.command("grant")(user_grant)
    user.command("disable")(user_disable)
    user.command("list")(user_list)
    token = group("token", "API tokens for scripts (Authorization: Bearer TOKEN).")
    token.command("create")(token_create)
    token.command("revoke")(token_revoke)
    token.command("list")(token_list)
