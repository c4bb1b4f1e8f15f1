"""The server home: ``server.toml``, the metadata database and ``workspaces/``.

::

    HOME/
      server.toml          settings (see ServerConfig)
      metadata.db          users, roles, tokens, sessions, audit log (SQLite; or PostgreSQL by URL)
      workspaces/NAME/     ordinary workspaces (``trueroi init HOME/workspaces/NAME`` makes one)

Workspaces elsewhere on disk are registered by path (:meth:`ServerHome.register_workspace`). Either way the
web app and the API address a workspace by its NAME.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from trueroi.errors import ConfigError, NoWorkspaceError, UsageError
from trueroi.server import audit
from trueroi.server.config import SERVER_FILE, ServerConfig
from trueroi.server.schema import check_schema, create_schema, make_engine, utcnow, workspaces
from trueroi.workspace.config import CONFIG_FILE

HOME_ENV_VAR = "TRUEROI_HOME"
WORKSPACES_DIR = "workspaces"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def resolve_home(path: str | os.PathLike[str] | None) -> Path:
    """The server home: the given path, else ``$TRUEROI_HOME``, else the current directory."""
    if path is not None:
        return Path(path).expanduser().resolve()
    env = os.environ.get(HOME_ENV_VAR)
    return Path(env).expanduser().resolve() if env else Path.cwd()


def check_workspace_name(name: str) -> str:
    """``name`` if it can name a workspace in a URL and a folder (letters, digits, ``._-``; 1-100 long)."""
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"workspace name {name!r} is not allowed; expected letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit, at most 100 characters)"
        )
    return name


class ServerHome:
    """One server home: its settings, its metadata database and the workspaces it serves.

    Use :meth:`init` to create a home and :meth:`open` to open one (the schema is checked and upgraded).
    """

    def __init__(self, path: Path, config: ServerConfig, engine: Engine) -> None:
        self.path = path
        self.config = config
        self.engine = engine

    @classmethod
    def init(
        cls, path: str | os.PathLike[str] | None = None, *, database_url: str | None = None
    ) -> ServerHome:
        """Create a server home in ``path``: ``server.toml``, the metadata schema and ``workspaces/``.

        Raises
        ------
        ConfigError
            When ``path`` already holds a server home, or the database already holds a schema.
        """
        home = resolve_home(path)
        if (home / SERVER_FILE).exists():
            raise ConfigError(f"{home} already holds a server home ({SERVER_FILE} exists)")
        config = ServerConfig() if database_url is None else ServerConfig(database_url=database_url)
        home.mkdir(parents=True, exist_ok=True)
        (home / WORKSPACES_DIR).mkdir(exist_ok=True)
        engine = make_engine(config.resolved_database_url(home))
        create_schema(engine)
        config.save(home)
        return cls(home, config, engine)

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> ServerHome:
        """Open the server home at ``path`` (see :func:`resolve_home`), upgrading its schema if needed."""
        home = resolve_home(path)
        config = ServerConfig.load(home)
        engine = make_engine(config.resolved_database_url(home))
        try:
            check_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(home, config, engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> ServerHome:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- workspaces --------------------------------------------------------------------------------------
    @property
    def workspaces_dir(self) -> Path:
        return self.path / WORKSPACES_DIR

    def workspace_names(self) -> list[str]:
        """Every workspace this home serves, sorted: folders under ``workspaces/`` holding a workspace, and
        registered ones."""
        names = set(self._registered())
        if self.workspaces_dir.is_dir():
            names.update(
                p.name
                for p in self.workspaces_dir.iterdir()
                if NAME_PATTERN.fullmatch(p.name) and (p / CONFIG_FILE).is_file()
            )
        return sorted(names)

    def workspace_path(self, name: str) -> Path:
        """The directory of workspace ``name``.

        Raises
        ------
        NoWorkspaceError
            When this home serves no workspace of that name.
        """
        registered = self._registered()
        if name in registered:
            path = Path(registered[name])
        elif NAME_PATTERN.fullmatch(name):
            path = self.workspaces_dir / name
        else:
            path = None
        if path is None or not (path / CONFIG_FILE).is_file():
            raise NoWorkspaceError(f"workspace {name!r} not found", directory=str(path or name))
        return path

    def has_workspace(self, name: str) -> bool:
        try:
            self.workspace_path(name)
        except NoWorkspaceError:
            return False
        return True

    def register_workspace(self, name: str, path: str | os.PathLike[str], *, actor: str) -> Path:
        """Serve the workspace at ``path`` (outside ``workspaces/``) under ``name``; audited.

        Raises
        ------
        UsageError
            When the name is taken or not allowed.
        NoWorkspaceError
            When ``path`` holds no workspace.
        """
        check_workspace_name(name)
        directory = Path(path).expanduser().resolve()
        if not (directory / CONFIG_FILE).is_file():
            raise NoWorkspaceError(
                f"{directory} holds no workspace (no {CONFIG_FILE})", directory=str(directory)
            )
        if self.has_workspace(name):
            raise UsageError(f"a workspace named {name!r} already exists in this server home")
        with self.engine.begin() as conn:
            conn.execute(workspaces.insert().values(name=name, path=str(directory), created_at=utcnow()))
            audit.record(
                conn, "workspace.register", actor=actor, workspace=name, detail={"path": str(directory)}
            )
        return directory

    def _registered(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(workspaces.c.name, workspaces.c.path)).all())
