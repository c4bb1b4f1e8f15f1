"""The commands of the server home: init, add-workspace, user add (password from stdin), token create
(printed once, as the last line), then an API call with that token; and `trueroi serve` for real."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from fastapi.testclient import TestClient

from trueroi.server import ServerHome
from trueroi.web import create_app

PASSWORD = "a password from stdin"


def test_init_user_token_then_an_api_call(tmp_path, run_cli, web_workspaces) -> None:
    home = tmp_path / "home"
    code, out, err = run_cli("server", "init", str(home))
    assert code == 0, err
    assert (home / "server.toml").is_file() and (home / "workspaces").is_dir()
    code, out, err = run_cli(
        "server", "add-workspace", "acme", str(web_workspaces.paths["acme"]), "--home", str(home)
    )
    assert code == 0, err
    code, out, err = run_cli(
        "user", "add", "Client@Example.com", "--role", "viewer", "--workspace", "acme", "--home", str(home),
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert "client@example.com" in out and PASSWORD not in out
    code, out, err = run_cli("token", "create", "client@example.com", "--name", "ci", "--home", str(home))
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    assert token.startswith("trueroi_") and " " not in token
    with ServerHome.open(home) as opened, TestClient(create_app(opened)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/me", headers=headers).json()["workspaces"] == {"acme": "viewer"}
        assert client.get("/api/v1/workspaces/acme/quality", headers=headers).status_code == 200
        code, out, err = run_cli("token", "revoke", "client@example.com", "--name", "ci", "--home", str(home))
        assert code == 0, err
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    code, out, err = run_cli("server", "audit", "--home", str(home), "--format", "json")
    log = json.loads(out)
    assert [e["action"] for e in log] == ["token.revoke", "token.create", "user.add", "workspace.register"]
    assert all(e["actor"].startswith("cli") for e in log)
    assert PASSWORD not in out and token not in out


def test_passwords_never_come_from_the_command_line(tmp_path, run_cli) -> None:
    run_cli("server", "init", str(tmp_path / "home"))
    code, _, err = run_cli(
        "user",
        "add",
        "a@example.com",
        "--role",
        "admin",
        "--password",
        PASSWORD,
        "--home",
        str(tmp_path / "home"),
    )
    assert code == 2 and "--password" in err
    code, _, err = run_cli(
        "user", "add", "a@example.com", "--role", "admin", "--home", str(tmp_path / "home"), stdin=""
    )
    assert code == 2 and "no password on standard input" in err


def test_home_defaults_to_the_environment(tmp_path, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("TRUEROI_HOME", str(tmp_path / "env-home"))
    assert run_cli("server", "init")[0] == 0
    code, out, err = run_cli("user", "add", "a@example.com", "--role", "admin", stdin=PASSWORD + "\n")
    assert code == 0, err
    code, out, _ = run_cli("user", "list", "--format", "json")
    assert [u["email"] for u in json.loads(out)] == ["a@example.com"] and json.loads(out)[0]["is_admin"]
    code, _, err = run_cli("server", "init")  # a home is created once
    assert code == 2 and "already holds a server home" in err


def test_serve_answers_on_its_port(tmp_path) -> None:
    ServerHome.init(tmp_path / "home").close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "trueroi", "serve", str(tmp_path / "home"), "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k != "TRUEROI_HOME"}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline, body = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    body = response.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert body is not None, log.read_text()
        assert 'action="/login"' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as response:
            assert "/api/v1/workspaces/{ws}/kpis" in json.loads(response.read())["paths"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Traceback" not in log.read_text()
