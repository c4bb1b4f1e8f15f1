"""The loader: moves kept event batches into the workspaces' warehouses, exactly once.

**From the WAL** (:class:`WalLoader`): for each workspace folder of the log it reads, from every segment,
the whole records past the segment's stored position, and commits their events together with the segments'
new positions in one transaction (:func:`trueroi.tracking.store.load_events`). A loader killed before the
commit leaves the positions where they were (the events are read again); killed after it, the positions
say the events are in. A sealed segment read to its end is deleted, then its position record. Only one WAL
loader runs per server home at a time (a lock file beside the log; a second one waits).

**From NATS JetStream** (:class:`QueueLoader`): fetch messages, commit their events, then acknowledge them;
see :mod:`trueroi.tracking.nats_queue`. Several such loaders may run, on several machines.

Either way raw events older than ``[collector] retention_days`` are deleted once an hour.

``trueroi serve`` starts a loader as a child process (:func:`start_loader_process`); ``trueroi collector
load`` runs one in the foreground.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from trueroi.errors import TrueRoiError
from trueroi.server.config import CollectorConfig
from trueroi.server.home import ServerHome
from trueroi.tracking import wal
from trueroi.tracking.nats_queue import NatsConsumer
from trueroi.tracking.store import TrackingLoad, apply_retention, forget_segments, load_events, positions
from trueroi.workspace.core import Workspace

log = logging.getLogger("trueroi.tracking")
RETENTION_EVERY_S = 3600.0
LOCK_NAME = "loader.lock"


class WalLoader:
    """Loads the WAL of one server home (see the module's notes)."""

    def __init__(
        self, home: ServerHome, *, on_load: Callable[[str, TrackingLoad], None] | None = None
    ) -> None:
        self.home = home
        self.config: CollectorConfig = home.config.collector
        self.root = self.config.resolved_wal_dir(home.path)
        self.on_load = on_load

    def run_once(self) -> int:
        """One pass over every workspace's log; returns how many events it moved."""
        moved = 0
        for name, folder in wal.workspace_folders(self.root):
            try:
                moved += self.load_workspace(name, folder)
            except TrueRoiError as exc:
                log.warning("tracked events of %s not loaded now: %s", name, exc)
        return moved

    def load_workspace(self, name: str, folder: Path) -> int:
        """Move the new records of one workspace's segments (at most about ``load_batch_events`` events)."""
        path = self.home.workspace_path(name)
        with Workspace.open(path, on_wait=log.info) as ws:
            stored = positions(ws)
            events, moves, finished = self._read(folder, stored)
            if events or moves:
                done = load_events(ws, events, moves=moves)
                if self.on_load is not None:
                    self.on_load(name, done)
            for segment in finished:
                with contextlib.suppress(FileNotFoundError):
                    segment.unlink()
            present = {p.name for p in wal.segments(folder)}
            forget_segments(ws, [s for s in stored if s not in present and not s.startswith("nats:")])
        return len(events)

    def _read(
        self, folder: Path, stored: dict[str, int]
    ) -> tuple[list[dict[str, Any]], dict[str, tuple[int, int]], list[Path]]:
        events: list[dict[str, Any]] = []
        moves: dict[str, tuple[int, int]] = {}
        finished: list[Path] = []
        for segment in wal.segments(folder):
            if len(events) >= self.config.load_batch_events:
                break
            sealed = wal.is_sealed(segment)  # before reading: a sealed segment gets no more records
            start = stored.get(segment.name, 0)
            records, end = wal.read_records(segment, start)
            if not records:
                if sealed:
                    finished.append(segment)
                continue
            for record in records:
                batch = json.loads(record)
                events.extend({**e, "segment": segment.name} for e in batch["events"])
            moves[segment.name] = (start, end)
        return events, moves, finished

    def retention(self) -> None:
        for name, _ in wal.workspace_folders(self.root):
            _retention(self.home, name, self.config.retention_days)


class QueueLoader:
    """Loads from NATS JetStream (see the module's notes)."""

    def __init__(
        self, home: ServerHome, *, on_load: Callable[[str, TrackingLoad], None] | None = None
    ) -> None:
        self.home = home
        self.config: CollectorConfig = home.config.collector
        self.consumer = NatsConsumer(self.config)
        self.on_load = on_load
        self.seen: set[str] = set()

    async def run(self, stop: threading.Event) -> None:
        await self.consumer.open()
        last_retention = 0.0
        try:
            while not stop.is_set():
                deliveries = await self.consumer.fetch(
                    max(1, self.config.load_batch_events // 100), self.config.load_interval_seconds
                )
                if deliveries:
                    await asyncio.to_thread(self._commit, deliveries)
                    await self.consumer.ack(deliveries)  # only after the warehouse commit
                if time.monotonic() - last_retention > RETENTION_EVERY_S:
                    await asyncio.to_thread(self.retention)
                    last_retention = time.monotonic()
        finally:
            await self.consumer.close()

    def _commit(self, deliveries: list[Any]) -> None:
        by_workspace: dict[str, list[dict[str, Any]]] = {}
        for delivery in deliveries:
            source = f"nats:{self.config.nats_stream}:{delivery.sequence}"
            by_workspace.setdefault(delivery.workspace, []).extend(
                {**e, "segment": source} for e in delivery.events
            )
        for name, events in by_workspace.items():
            self.seen.add(name)
            with Workspace.open(self.home.workspace_path(name), on_wait=log.info) as ws:
                done = load_events(ws, events)
            if self.on_load is not None:
                self.on_load(name, done)

    def retention(self) -> None:
        for name in sorted(self.seen):
            _retention(self.home, name, self.config.retention_days)


def _retention(home: ServerHome, name: str, days: int) -> None:
    try:
        with Workspace.open(home.workspace_path(name), on_wait=log.info) as ws:
            removed = apply_retention(ws, days)
    except TrueRoiError as exc:
        log.warning("retention of %s's tracked events failed: %s", name, exc)
        return
    if removed:
        log.info("%s: %d raw tracked event(s) older than %d days deleted", name, removed, days)


@contextlib.contextmanager
def loader_lock(root: Path) -> Iterator[None]:
    """Hold the one-WAL-loader-per-home lock (waits while another loader holds it)."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / f".{LOCK_NAME}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def run_loader(home: ServerHome, *, stop: threading.Event | None = None, parent: int | None = None) -> None:
    """Load until ``stop`` is set (or, with ``parent``, until that process is gone). Blocks."""
    stop = stop or threading.Event()
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True).start()
    config = home.config.collector
    if config.queue_url:
        asyncio.run(QueueLoader(home).run(stop))
        return
    loader = WalLoader(home)
    with loader_lock(loader.root):
        last_retention = 0.0
        while not stop.is_set():
            try:
                moved = loader.run_once()
            except Exception:  # one bad pass must not stop loading: log it, try again
                log.exception("loading tracked events failed")
                moved = 0
            if time.monotonic() - last_retention > RETENTION_EVERY_S:
                loader.retention()
                last_retention = time.monotonic()
            if not moved:
                stop.wait(config.load_interval_seconds)


def _watch_parent(parent: int, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        if os.getppid() != parent:
            log.warning("the parent process %s is gone; the loader stops", parent)
            stop.set()


def start_loader_process(home: Path) -> subprocess.Popen:
    """Start a loader for the home at ``home`` as a child process that stops when this process goes."""
    command = [sys.executable, "-m", "trueroi.tracking.loader", str(home), "--parent", str(os.getpid())]
    return subprocess.Popen(command)


def stop_loader_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Ask a loader started by :func:`start_loader_process` to stop after its current load, then wait."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m trueroi.tracking.loader HOME [--parent PID]`` (what ``trueroi serve`` runs)."""
    parser = argparse.ArgumentParser(prog="trueroi-loader")
    parser.add_argument("home")
    parser.add_argument("--parent", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with ServerHome.open(args.home) as home:
        run_loader(home, stop=stop, parent=args.parent)


if __name__ == "__main__":
    main()
