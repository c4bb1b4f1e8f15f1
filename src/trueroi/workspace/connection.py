"""The DuckDB connection of one workspace: read-only by default, read-write only while it writes.

A :class:`WarehouseConnection` stands where Ibis expects a ``duckdb`` connection. It opens the warehouse on
first use **read-only, under the shared lock** (:mod:`trueroi.workspace.lock`), so any number of processes
read at once, and a load running elsewhere never makes a reader fail. Writing happens inside
:meth:`WarehouseConnection.writing`: the read connection is closed, the exclusive lock taken (waiting for
readers to close, up to the lock timeout), a read-write connection opened; at the end of the block it is
closed again (DuckDB writes its changes to the file) and the lock dropped. The next read reopens read-only.

A write statement sent through the read connection (``ws.con.raw_sql("UPDATE ...")``, an Ibis
``create_table``, a script's ``DELETE``) is not refused: it takes the write lock for itself, runs, and the
write connection is closed again at the next use of the connection. Explicit transactions belong inside
:meth:`~WarehouseConnection.writing`.

Within one process, Ibis objects registered on the connection (in-memory tables), its temporary tables (Ibis
caches, copied through Arrow) and the session settings trueroi relies on (UTC time zone, no progress bar, no
Python replacement scans) are carried over to every reopened connection. Workspace objects of one thread that
share a warehouse give way to each other: one that starts writing closes the others' idle connections (they
reopen on their next use). A connection is used by one thread at a time; threads and processes each open
their own.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from trueroi.errors import WorkspaceError
from trueroi.workspace.lock import WarehouseLock, WorkspaceBusyError

SETTINGS = (
    "SET enable_progress_bar = false",
    "SET TimeZone = 'UTC'",
    "SET python_enable_replacements = false",
)
_READ_ONLY = "read-only mode"
_LOCKED = "Could not set lock on file"

# Every open WarehouseConnection of this process per warehouse file, so that one of a thread that starts
# writing can close the idle connections of the same thread (DuckDB refuses a read-write connection to a
# file the same process holds open read-only).
_OPEN: dict[Path, weakref.WeakSet[WarehouseConnection]] = {}
_OPEN_GUARD = threading.Lock()


class WarehouseConnection:
    """A DuckDB connection to a warehouse file: reads under a shared lock, writes under an exclusive one.

    Parameters
    ----------
    path
        The DuckDB file.
    lock
        The lock guarding ``path``.
    """

    def __init__(self, path: Path, lock: WarehouseLock) -> None:
        self.path = Path(path)
        self.lock = lock
        self._raw: duckdb.DuckDBPyConnection | None = None
        self._mode: str | None = None  # None, "read" or "write"
        self._depth = 0  # nested writing() blocks
        self._auto = False  # write mode entered by a write statement sent through the read connection
        self._thread: int | None = None
        self._registered: dict[str, Any] = {}
        self._temp: dict[str, pa.Table] = {}  # temporary tables (Ibis caches) carried over a reopen
        with _OPEN_GUARD:
            _OPEN.setdefault(self.path, weakref.WeakSet()).add(self)

    # -- what Ibis and scripts call ------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not a connection attribute (copy, pickle, or half-built object)
            raise AttributeError(name)
        return getattr(self._current(), name)

    def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a statement; a write statement on the read connection takes the write lock for itself."""
        raw = self._current()
        try:
            return raw.execute(query, *args, **kwargs)
        except duckdb.InvalidInputException as exc:
            if self._mode != "read" or _READ_ONLY not in str(exc):
                raise
        self._begin_write("a write through the workspace connection")
        self._auto = True
        return self._raw.execute(query, *args, **kwargs)

    def sql(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        """A relation for ``query``; a write statement on the read connection takes the write lock."""
        raw = self._current()
        try:
            return raw.sql(query, *args, **kwargs)
        except duckdb.InvalidInputException as exc:
            if self._mode != "read" or _READ_ONLY not in str(exc):
                raise
        self._begin_write("a write through the workspace connection")
        self._auto = True
        return self._raw.sql(query, *args, **kwargs)

    def register(self, name: str, obj: Any) -> Any:
        """Register a Python object as a view (kept, and put back on every reopened connection)."""
        self._registered[name] = obj
        return self._current().register(name, obj)

    def unregister(self, name: str) -> Any:
        self._registered.pop(name, None)
        return self._current().unregister(name)

    def close(self) -> None:
        """Close the connection and drop the lock (a later use opens it again)."""
        self.release()

    # -- modes -------------------------------------------------------------------------------------------
    @property
    def mode(self) -> str | None:
        """``"read"``, ``"write"`` or None (closed)."""
        return self._mode

    @contextmanager
    def writing(self, doing: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the write lock and a read-write connection for the block; yields the raw connection.

        Re-entrant: a block inside another keeps the outer one's connection. ``doing`` names the writer in
        the messages of those who wait ("import of orders.csv").

        Raises
        ------
        WorkspaceBusyError
            When other processes keep the warehouse open past the lock timeout.
        """
        if self._mode == "write" and self._auto:
            self._auto = False  # adopt the write a statement started
        if self._mode != "write":
            self._begin_write(doing)
        self._depth += 1
        try:
            yield self._raw
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._end_write()

    @contextmanager
    def try_writing(self, doing: str) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """Like :meth:`writing` without waiting: yields None when another process or thread uses the file."""
        if self._mode == "write":
            with self.writing(doing) as raw:
                yield raw
            return
        self._release_peers()
        self._close_raw()
        if not self.lock.acquire_exclusive(doing, blocking=False):
            yield None
            return
        self._open("write")
        self._depth = 1
        try:
            yield self._raw
        finally:
            self._depth = 0
            self._end_write()

    def release(self) -> None:
        """Close the connection and drop the lock unless a write block is running."""
        if self._depth:
            return
        self._close_raw()
        self.lock.release()
        self._mode, self._auto = None, False

    # -- internals ---------------------------------------------------------------------------------------
    def _current(self) -> duckdb.DuckDBPyConnection:
        if self._auto and self._depth == 0:
            self._end_write()
        if self._raw is None:
            self._open_read()
        return self._raw

    def _open_read(self) -> None:
        for peer in self._peers():
            if peer._mode == "write":
                if peer._depth:
                    raise WorkspaceError(
                        f"the warehouse {self.path} is being written by another Workspace object of this "
                        "thread; read it through that object, or after its write"
                    )
                peer.release()
        if not self.path.exists():  # a new workspace: DuckDB creates the file on a read-write open
            self._begin_write("creation of the warehouse")
            self._end_write()
        self.lock.acquire_shared()
        try:
            self._open("read")
        except BaseException:
            self.lock.release()
            raise

    def _begin_write(self, doing: str) -> None:
        self._release_peers()
        self._close_raw()
        self.lock.acquire_exclusive(doing)
        try:
            self._open("write")
        except BaseException:
            self.lock.release()
            self._mode = None
            raise

    def _end_write(self) -> None:
        self._close_raw()
        self.lock.release()
        self._mode, self._auto, self._depth = None, False, 0

    def _open(self, mode: str) -> None:
        raw = _connect(self.path, read_only=mode == "read", timeout=self.lock.timeout)
        for statement in SETTINGS:
            raw.execute(statement)
        for name, obj in self._registered.items():
            raw.register(name, obj)
        for name, table in self._temp.items():
            raw.register("_trueroi_temp", table)
            raw.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM _trueroi_temp')
            raw.unregister("_trueroi_temp")
        self._temp = {}
        self._raw, self._mode, self._thread = raw, mode, threading.get_ident()

    def _close_raw(self) -> None:
        """Close the DuckDB connection, keeping its temporary tables (in Arrow) for the next one."""
        if self._raw is not None:
            raw, self._raw = self._raw, None
            try:
                names = raw.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE temporary AND database_name = 'temp'"
                ).fetchall()
                self._temp = {
                    n: raw.execute(f'SELECT * FROM temp.main."{n}"').fetch_arrow_table() for (n,) in names
                }
            finally:
                raw.close()
        self._mode = None

    def _peers(self) -> list[WarehouseConnection]:
        """Open connections of this thread to the same file, other than this one."""
        me = threading.get_ident()
        with _OPEN_GUARD:
            peers = list(_OPEN.get(self.path, ()))
        return [p for p in peers if p is not self and p._raw is not None and p._thread == me]

    def _release_peers(self) -> None:
        for peer in self._peers():
            if peer._depth:
                raise WorkspaceError(
                    f"the warehouse {self.path} is already being written by another Workspace object of "
                    "this thread; write through that object"
                )
            peer.release()


def _connect(path: Path, *, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open ``path``, waiting while a program outside trueroi's locks (DuckDB's CLI, ...) holds it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if _LOCKED not in str(exc):
                raise
            if time.monotonic() >= deadline:
                held = str(exc).split("Conflicting lock is held in", 1)[-1].split(". See also")[0].strip()
                raise WorkspaceBusyError(
                    f"the warehouse {path} is held open by another program ({held}) that does not use "
                    "trueroi's workspace lock; close it and try again"
                ) from exc
            time.sleep(0.1)
