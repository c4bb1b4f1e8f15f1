"""Who may use a workspace's warehouse file at a time: many readers, or one writer, across processes.

DuckDB lets one process open a database file for writing only while no other process has it open at all, and
fails at once (with a long traceback) otherwise. Every trueroi process therefore agrees beforehand, through
``flock`` on two small files beside the warehouse (in a hidden ``.trueroi`` folder):

- ``<db>.gate``: a writer holds it exclusively for its whole write; a reader holds it shared only while it
  takes its read lock. So a waiting writer stops new readers from coming in and is never starved by a
  stream of overlapping readers.
- ``<db>.lock``: readers hold it shared while their read-only connection is open; a writer holds it
  exclusively while its read-write connection is open. The writer writes who it is (process id and what it
  does) into the gate file, so whoever waits can say what it waits for.

Waiting is bounded: a lock not had within the timeout (:func:`lock_timeout`: the ``TRUEROI_LOCK_TIMEOUT``
environment variable in seconds, else :data:`DEFAULT_TIMEOUT`) raises :class:`WorkspaceBusyError`. The first
wait of a lock is announced once through a callback (one line on stderr by default). Locks are held per open
file, so two :class:`WarehouseLock` objects of one process exclude each other like two processes would; a
process that dies drops its locks with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from trueroi.errors import ConfigError, WorkspaceError

TIMEOUT_ENV = "TRUEROI_LOCK_TIMEOUT"
#: Seconds a reader or writer waits for the lock before giving up. Loads hold the write lock only while they
#: commit (seconds; about 40 s for 10 M touchpoints on a busy 2-core machine), so the default leaves room.
DEFAULT_TIMEOUT = 300.0
#: Seconds between two tries of a held lock (doubling from :data:`POLL_START` up to this).
POLL_MAX = 0.25
POLL_START = 0.01
LOCK_DIR = ".trueroi"

Notify = Callable[[str], None]


class WorkspaceBusyError(WorkspaceError):
    """Another process kept the workspace locked for longer than the lock timeout."""


def lock_timeout(value: float | None = None) -> float:
    """Seconds to wait for a workspace lock: ``value``, else ``$TRUEROI_LOCK_TIMEOUT``, else the default.

    Raises
    ------
    ConfigError
        When the environment variable is not a number of seconds, 0 or more.
    """
    if value is not None:
        return max(float(value), 0.0)
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise ConfigError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds (0 or more)")
    return seconds


def print_wait(message: str) -> None:
    """The default wait notice: one line on stderr."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def lock_dir(db_path: Path) -> Path:
    """The hidden folder beside a warehouse file that holds its lock files and load staging files."""
    return db_path.parent / LOCK_DIR


class WarehouseLock:
    """Shared (read) or exclusive (write) lock on one warehouse file, taken with a bounded wait.

    Parameters
    ----------
    db_path
        The DuckDB warehouse file the lock guards (it need not exist yet).
    label
        How messages name the workspace (its directory).
    timeout
        Seconds to wait; see :func:`lock_timeout`.
    on_wait
        Called once with a one-line message when the lock is not free at the first try.
    """

    def __init__(
        self, db_path: Path, *, label: str, timeout: float | None = None, on_wait: Notify | None = None
    ) -> None:
        self.db_path = Path(db_path)
        self.label = label
        self.timeout = lock_timeout(timeout)
        self.on_wait = on_wait or print_wait
        folder = lock_dir(self.db_path)
        self._gate_path = folder / f"{self.db_path.name}.gate"
        self._lock_path = folder / f"{self.db_path.name}.lock"
        self._gate: int | None = None
        self._lock: int | None = None
        self._pid = os.getpid()
        self.mode: str | None = None  # None, "shared" or "exclusive"

    # -- public ------------------------------------------------------------------------------------------
    def acquire_shared(self) -> None:
        """Take the read lock, waiting while a writer writes (up to the timeout)."""
        if self.mode is not None:
            return
        deadline = time.monotonic() + self.timeout
        gate = self._open(self._gate_path)
        self._wait(gate, fcntl.LOCK_SH, deadline, self._writer_message)
        try:
            lock = self._open(self._lock_path)
            self._wait(lock, fcntl.LOCK_SH, deadline, self._writer_message)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        self._lock, self.mode = lock, "shared"

    def acquire_exclusive(self, doing: str, *, blocking: bool = True) -> bool:
        """Take the write lock (after dropping a read lock this object holds).

        Parameters
        ----------
        doing
            What the writer does, for the messages of those who wait ("import of orders.csv").
        blocking
            When false, give up at once (returning False) if any other process reads or writes.

        Returns
        -------
        bool
            Whether the lock is held (always True when blocking; a timeout raises instead).
        """
        if self.mode == "exclusive":
            return True
        self.release()
        deadline = time.monotonic() + (self.timeout if blocking else 0.0)
        gate = self._open(self._gate_path)
        if not self._wait(gate, fcntl.LOCK_EX, deadline, self._writer_message, blocking=blocking):
            return False
        got = False
        try:
            _write_info(gate, f"process {os.getpid()} ({doing})")
            lock = self._open(self._lock_path)
            got = self._wait(lock, fcntl.LOCK_EX, deadline, self._readers_message, blocking=blocking)
        finally:
            if not got:
                _write_info(gate, "")
                fcntl.flock(gate, fcntl.LOCK_UN)
        if not got:
            return False
        self._lock, self.mode = lock, "exclusive"
        return True

    def release(self) -> None:
        """Drop whatever lock this object holds."""
        if self._pid != os.getpid():  # a forked child must not unlock its parent's open files
            self._gate = self._lock = None
            self.mode = None
            self._pid = os.getpid()
            return
        if self.mode == "exclusive" and self._gate is not None:
            _write_info(self._gate, "")
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._drop_gate()
        self.mode = None

    def close(self) -> None:
        """Release the lock and close its files."""
        self.release()
        for fd in (self._gate, self._lock):
            if fd is not None:
                os.close(fd)
        self._gate = self._lock = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def writer(self) -> str:
        """Who holds or waits for the write lock now, as written in the gate file ('' when nobody says)."""
        try:
            return self._gate_path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    # -- helpers -----------------------------------------------------------------------------------------
    def _open(self, path: Path) -> int:
        attr = "_gate" if path == self._gate_path else "_lock"
        fd = getattr(self, attr)
        if fd is None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            except PermissionError:  # a read-only share: locks on a read-only descriptor still work
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError as exc:
                    raise WorkspaceError(f"cannot open the lock file {path}: {exc.strerror}") from exc
            except OSError as exc:
                raise WorkspaceError(f"cannot create the lock file {path}: {exc.strerror}") from exc
            setattr(self, attr, fd)
        return fd

    def _drop_gate(self) -> None:
        if self._gate is not None:
            fcntl.flock(self._gate, fcntl.LOCK_UN)

    def _wait(
        self,
        fd: int,
        kind: int,
        deadline: float,
        what: Callable[[], tuple[str, str]],
        *,
        blocking: bool = True,
    ) -> bool:
        """flock ``fd``, trying again until ``deadline``; announce the first wait; raise on timeout."""
        pause, announced = POLL_START, False
        while True:
            try:
                fcntl.flock(fd, kind | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
            if not blocking:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkspaceBusyError(
                    f"workspace {self.label} is busy: {what()[1]} after {self.timeout:g} s; "
                    f"try again later or wait longer ({TIMEOUT_ENV}=SECONDS)"
                )
            if not announced:
                self.on_wait(f"waiting for {what()[0]} (workspace {self.label}, up to {self.timeout:g} s)")
                announced = True
            time.sleep(min(pause, left))
            pause = min(pause * 2, POLL_MAX)

    def _writer_message(self) -> tuple[str, str]:
        """What a waiter waits for, and what was still going on when it gave up."""
        who = self.writer() or "another process"
        return f"{who} to finish writing", f"{who} was still writing"

    def _readers_message(self) -> tuple[str, str]:
        return "other processes reading the workspace to close it", "other processes were still reading it"


def _write_info(fd: int, text: str) -> None:
    try:
        os.ftruncate(fd, 0)
        if text:
            os.pwrite(fd, text.encode("utf-8"), 0)
    except OSError:  # a read-only lock file: the message just names no writer
        pass
