"""Results of library calls kept per workspace while its data and settings stay the same.

A dashboard page asks the same question again and again (the overview of the last quarter, the portfolio's
rows): the answer is a library result that only changes when the workspace changes. :class:`ResultCache`
keeps such results per (workspace directory, question, arguments) with the workspace's **version** at the
time: the size and modification time of ``trueroi.toml`` and of the DuckDB warehouse file and its WAL. Every
write to a DuckDB workspace (an import, a removed import, a goal, a budget, an alert rule, a rebuilt derived
table, a settings change, from the web app or from the CLI in another process) changes one of them, so a
result is never served after its workspace changed. Looking the version up is three ``stat`` calls: a hit
opens no workspace. A workspace on another backend (no local database file) is not cached.

Requests asking the same question of the same workspace version at the same time share one computation:
the first computes, the others wait for its answer (fifty viewers opening the overview after an import cost
one query, not fifty).

The cache lives in the web process (one per process, :data:`RESULTS`), holds at most ``max_entries``
results (the least recently used go first), and is a pure speed-up: the numbers are the library's.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from trueroi.workspace.config import CONFIG_FILE

T = TypeVar("T")
DUCKDB_PREFIX = "duckdb://"


def workspace_version(directory: str | os.PathLike[str]) -> tuple[Any, ...] | None:
    """(size, mtime in ns) of ``trueroi.toml``, the warehouse file and its WAL, or None when the workspace
    keeps its data elsewhere than in a local DuckDB file (then nothing of it is cached)."""
    directory = Path(directory)
    config = directory / CONFIG_FILE
    database = _database_file(directory)
    if database is None:
        return None
    return tuple(_stat(p) for p in (config, database, database.with_name(database.name + ".wal")))


def _database_file(directory: Path) -> Path | None:
    """The warehouse file named by ``backend_url`` in ``trueroi.toml`` (read as text: the line only)."""
    try:
        text = (directory / CONFIG_FILE).read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "backend_url":
            url = value.strip().strip('"').strip("'")
            if not url.startswith(DUCKDB_PREFIX) or url == DUCKDB_PREFIX or ":memory:" in url:
                return None
            path = Path(url[len(DUCKDB_PREFIX) :])
            return path if path.is_absolute() else directory / path
    return directory / "warehouse.duckdb"  # the default backend_url


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_size, found.st_mtime_ns)


class ResultCache:
    """Library results per (workspace directory, question, arguments), valid while the workspace's
    :func:`workspace_version` is the one they were computed at."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[Any, Any]] = OrderedDict()
        self._flights: dict[Hashable, Future] = {}  # questions being answered now
        self._lock = threading.Lock()
        self.hits = self.misses = self.shared = 0

    def get(
        self, directory: str | os.PathLike[str], question: str, args: Hashable, compute: Callable[[], T]
    ) -> T:
        """The cached answer to ``question`` with ``args`` for the workspace in ``directory``, or
        ``compute()`` (stored when the workspace did not change while it ran)."""
        directory = Path(directory).resolve()
        before = workspace_version(directory)
        key = (str(directory), question, args, before)
        with self._lock:
            found = self._entries.get(key[:3])
            if before is not None and found is not None and found[0] == before:
                self._entries.move_to_end(key[:3])
                self.hits += 1
                return found[1]
            flight = self._flights.get(key)
            owner = flight is None
            if owner:
                flight = self._flights[key] = Future()
        if not owner:  # the same question is being answered right now: wait for that answer
            self.shared += 1
            return flight.result()
        self.misses += 1
        try:
            result = compute()
            flight.set_result(result)
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        finally:
            with self._lock:
                del self._flights[key]
        self._store(directory, key[:3], before, result)
        return result

    def _store(self, directory: Path, key: Hashable, before: Any, result: Any) -> None:
        # Stored only when nothing changed while it ran (an import committed meanwhile could be half in
        # it); a build of derived tables changes the version too, so the next call computes once more.
        if before is not None and workspace_version(directory) == before:
            with self._lock:
                self._entries[key] = (before, result)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)

    def forget(self, directory: str | os.PathLike[str]) -> None:
        """Drop every result of the workspace in ``directory`` (after a write through this process)."""
        prefix = str(Path(directory).resolve())
        with self._lock:
            for key in [k for k in self._entries if k[0] == prefix]:
                del self._entries[key]


RESULTS = ResultCache()
