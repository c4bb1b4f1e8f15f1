"""Fixtures of the tracking tests: a server home with two workspaces and their collector keys, event
builders, and (for the process tests) helpers that start the collector, the loader and nats-server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import pytest

from trueroi.server import ServerHome
from trueroi.tracking import collector_keys
from trueroi.tracking.events import Received, normalize_batch
from trueroi.workspace import Workspace, WorkspaceConfig

NOW = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def browser_events(events: list[dict], now: datetime = NOW, segment: str = "test") -> list[dict]:
    """Events as the collector stores them when the tracker sent them at ``now`` (client clock right)."""
    out = normalize_batch({"sent_at": ms(now), "events": events}, Received(now, True, None, BROWSER_UA), 1000)
    return [{**e, "segment": segment} for e in out]


def server_events(events: list[dict], now: datetime = NOW, segment: str = "test") -> list[dict]:
    out = normalize_batch({"events": events}, Received(now, False), 1000)
    return [{**e, "segment": segment} for e in out]


@dataclass
class TrackedHome:
    """A server home serving ``shop`` and ``other`` (EUR, Europe/Berlin, brand term acme) and their keys."""

    home: ServerHome
    keys: dict

    def workspace(self, name: str = "shop") -> Workspace:
        return Workspace.open(self.home.workspace_path(name))


def make_home(root: Path, **collector) -> TrackedHome:
    """A new home in ``root/home``; ``collector`` settings go to its ``[collector]`` section."""
    home = ServerHome.init(root / "home")
    if collector:
        home.config.collector = replace(home.config.collector, **collector)
        home.config.save(home.path)
    for name in ("shop", "other"):
        config = WorkspaceConfig(name=name, brand_terms=["acme"])
        Workspace.init(home.workspaces_dir / name, config).close()
    keys = {name: collector_keys(home, name) for name in ("shop", "other")}
    return TrackedHome(home, keys)


@pytest.fixture
def tracked(tmp_path) -> TrackedHome:
    made = make_home(tmp_path)
    yield made
    made.home.close()


# -- processes: collector (uvicorn), loader, nats-server ---------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_collector(home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "TRUEROI_HOME": str(home)}
    command = [sys.executable, "-m", "uvicorn", "--factory", "trueroi.web.app:app_from_environment"]
    return subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env
    )


def start_loader(home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "trueroi.tracking.loader", str(home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped with exit code {process.returncode}")
        try:
            httpx.get(url + "/t.js", timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=30)


class NatsServer:
    """A real local ``nats-server -js`` (Debian's nats-server) on 127.0.0.1 with a temporary store."""

    def __init__(self) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(binary).exists():
            pytest.fail("nats-server is missing: run 'make sysdeps' (Debian package nats-server)")
        self.binary = binary
        self.store = Path(tempfile.mkdtemp(prefix="trueroi-nats-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        stop(self.process)
        shutil.rmtree(self.store, ignore_errors=True)


@pytest.fixture
def nats_server():
    server = NatsServer()
    server.start()
    yield server
    server.stop()
