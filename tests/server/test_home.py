"""The server home: init, open with a schema check, workspaces in workspaces/ and registered by path."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from trueroi.errors import ConfigError, NoWorkspaceError, UsageError
from trueroi.server import ServerHome, entries
from trueroi.server.config import SERVER_FILE, ServerConfig
from trueroi.server.schema import SCHEMA_VERSION, schema_version
from trueroi.workspace import Workspace, WorkspaceConfig


def test_init_creates_config_database_and_workspaces_folder(tmp_path) -> None:
    with ServerHome.init(tmp_path / "home") as home:
        assert (home.path / SERVER_FILE).is_file()
        assert (home.path / "metadata.db").is_file()
        assert (home.path / "workspaces").is_dir()
        with home.engine.connect() as conn:
            assert conn.execute(sa.select(schema_version.c.version)).scalar_one() == SCHEMA_VERSION
    assert ServerConfig.load(tmp_path / "home") == ServerConfig()


def test_init_refuses_an_existing_home(tmp_path) -> None:
    ServerHome.init(tmp_path / "home").close()
    with pytest.raises(ConfigError, match="already holds a server home"):
        ServerHome.init(tmp_path / "home")


def test_open_refuses_a_folder_without_home_and_a_newer_schema(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not a server home"):
        ServerHome.open(tmp_path)
    with ServerHome.init(tmp_path / "home") as home, home.engine.begin() as conn:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION + 1))
    with pytest.raises(ConfigError, match="newer than this trueroi knows"):
        ServerHome.open(tmp_path / "home")


def test_unknown_setting_is_an_error(tmp_path) -> None:
    ServerHome.init(tmp_path / "home").close()
    with open(tmp_path / "home" / SERVER_FILE, "a") as f:
        f.write("sesion_hours = 3\n")
    with pytest.raises(ConfigError, match="sesion_hours"):
        ServerHome.open(tmp_path / "home")


def test_home_from_environment(tmp_path, monkeypatch) -> None:
    ServerHome.init(tmp_path / "home").close()
    monkeypatch.setenv("TRUEROI_HOME", str(tmp_path / "home"))
    with ServerHome.open() as home:
        assert home.path == (tmp_path / "home").resolve()


def test_workspaces_in_folder_and_registered(server_home, tmp_path) -> None:
    Workspace.init(server_home.workspaces_dir / "acme", WorkspaceConfig(name="acme")).close()
    (server_home.workspaces_dir / "notes").mkdir()  # a folder without trueroi.toml is no workspace
    Workspace.init(tmp_path / "elsewhere", WorkspaceConfig(name="x")).close()
    server_home.register_workspace("globex", tmp_path / "elsewhere", actor="cli:test")
    assert server_home.workspace_names() == ["acme", "globex"]
    assert server_home.workspace_path("globex") == (tmp_path / "elsewhere").resolve()
    assert server_home.workspace_path("acme") == server_home.workspaces_dir / "acme"
    for missing in ("notes", "../acme", "nope"):
        with pytest.raises(NoWorkspaceError):
            server_home.workspace_path(missing)
    with pytest.raises(UsageError, match="already exists"):
        server_home.register_workspace("acme", tmp_path / "elsewhere", actor="cli:test")
    with pytest.raises(UsageError, match="not allowed"):
        server_home.register_workspace("../evil", tmp_path / "elsewhere", actor="cli:test")
    with pytest.raises(NoWorkspaceError):
        server_home.register_workspace("empty", tmp_path, actor="cli:test")
    (entry,) = entries(server_home.engine)
    assert (entry.action, entry.actor, entry.workspace) == ("workspace.register", "cli:test", "globex")
