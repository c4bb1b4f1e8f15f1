"""The collector's write-ahead log: event batches made durable on disk before they are acknowledged.

Layout: ``WAL_DIR/<workspace>/<segment>.wal``. Each collector process appends to a segment of its own per
workspace; a segment file holds records::

    b"TRW1" | payload length (uint32, little-endian) | CRC-32 of the payload (uint32) | payload

A record is valid when its header and payload are complete and the CRC matches; reading stops at the first
record that is not (a write cut short by a kill or a full disk), so only whole records are ever read.

**Group commit.** Requests hand their record to one writer thread and wait. The thread takes everything
waiting, writes each workspace's records with one ``write`` and makes them durable with one ``fdatasync``,
then answers all of them: a hundred concurrent requests cost one disk flush, not a hundred. A request is
answered "kept" only after the flush returned; if the write or the flush fails (disk full, I/O error,
unwritable folder) every request of that round is answered with the error, and the segment is abandoned
(closed as it is; its torn tail is never read) so nothing is appended after a gap.

**Sealed or open.** A segment is created under a temporary name, locked (``flock``) by its writer, and only
then renamed into place; the writer holds the lock while it may append. A segment whose lock can be taken
is sealed: its writer closed it (past ``segment_bytes``, or at exit) or died. The loader reads open segments
up to their last whole record, and deletes a sealed one once all of it is in the warehouse.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = b"TRW1"
HEADER = struct.Struct("<4sII")
SUFFIX = ".wal"
TEMP_PREFIX = ".new-"
READ_CHUNK = 8 << 20  # bytes read from a segment at once


def frame(payload: bytes) -> bytes:
    """One record: header and payload."""
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def parse_records(data: bytes) -> tuple[list[bytes], int]:
    """The whole, valid records at the start of ``data`` and how many bytes they take."""
    records, at = [], 0
    while at + HEADER.size <= len(data):
        magic, length, crc = HEADER.unpack_from(data, at)
        end = at + HEADER.size + length
        if magic != MAGIC or end > len(data):
            break
        payload = data[at + HEADER.size : end]
        if zlib.crc32(payload) != crc:
            break
        records.append(payload)
        at = end
    return records, at


def read_records(path: Path, offset: int, max_bytes: int = READ_CHUNK) -> tuple[list[bytes], int]:
    """The whole records of segment ``path`` from byte ``offset`` (at most about ``max_bytes`` of them, but
    always at least one when there is one) and the offset after the last."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(max_bytes)
        records, used = parse_records(data)
        if not records and len(data) >= HEADER.size:  # one record larger than max_bytes
            _, length, _ = HEADER.unpack_from(data, 0)
            handle.seek(offset)
            records, used = parse_records(handle.read(HEADER.size + length))
    return records, offset + used


def is_sealed(path: Path) -> bool:
    """Whether no writer may append to ``path`` any more (its lock is free)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def segments(folder: Path) -> list[Path]:
    """The segments of one workspace's folder, oldest first (their names start with the creation time)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and not p.name.startswith(TEMP_PREFIX))


def workspace_folders(root: Path) -> Iterator[tuple[str, Path]]:
    """(workspace name, folder) for every workspace with a folder in the WAL."""
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if folder.is_dir() and not folder.name.startswith("."):
                yield folder.name, folder


@dataclass
class _Segment:
    path: Path
    fd: int
    size: int = 0


@dataclass
class _Pending:
    workspace: str
    record: bytes
    future: Future = field(default_factory=Future)


class WalWriter:
    """Appends records to this process's segments with group commit (see the module's notes).

    Parameters
    ----------
    root
        The WAL folder (``[collector] wal_dir``).
    durable
        ``fdatasync`` before answering (default). Without it a record is answered once written to the
        operating system: a killed process loses nothing, a power cut may.
    segment_bytes
        A segment is sealed and a new one started past this size.
    """

    def __init__(self, root: Path, *, durable: bool = True, segment_bytes: int = 64 << 20) -> None:
        self.root = Path(root)
        self.durable = durable
        self.segment_bytes = segment_bytes
        self._open: dict[str, _Segment] = {}
        self._waiting: list[_Pending] = []
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="wal-writer", daemon=True)
        self._thread.start()
        self.rounds = 0  # group commits done (for the benchmark)

    def append(self, workspace: str, payload: bytes) -> Future:
        """Queue one record for ``workspace``; the future's result is None once it is durable (or raises
        the ``OSError`` that kept it from being so)."""
        pending = _Pending(workspace, frame(payload))
        with self._cond:
            if self._closing:
                raise OSError("the write-ahead log is closed")
            self._waiting.append(pending)
            self._cond.notify()
        return pending.future

    async def append_async(self, workspace: str, payload: bytes) -> None:
        """:meth:`append` for a coroutine: returns once the record is durable."""
        await asyncio.wrap_future(self.append(workspace, payload))

    def close(self) -> None:
        """Write what waits, seal every open segment and stop the writer thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    # -- the writer thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closing:
                    self._cond.wait()
                batch, self._waiting = self._waiting, []
                closing = self._closing
            if batch:
                self._commit(batch)
            if closing and not batch:
                for name in list(self._open):
                    self._seal(name)
                return

    def _commit(self, batch: list[_Pending]) -> None:
        by_workspace: dict[str, list[_Pending]] = {}
        for item in batch:
            by_workspace.setdefault(item.workspace, []).append(item)
        failed: dict[str, OSError] = {}
        for name, items in by_workspace.items():
            try:
                segment = self._segment(name)
                _write_all(segment.fd, b"".join(i.record for i in items))
                segment.size += sum(len(i.record) for i in items)
            except OSError as exc:
                failed[name] = exc
                self._abandon(name)
        for name in by_workspace:
            if name in failed or not self.durable:
                continue
            try:
                os.fdatasync(self._open[name].fd)
            except OSError as exc:
                failed[name] = exc
                self._abandon(name)
        self.rounds += 1
        for name in by_workspace:
            segment = self._open.get(name)
            if segment is not None and segment.size >= self.segment_bytes:
                self._seal(name)
        for name, items in by_workspace.items():
            for item in items:
                if name in failed:
                    item.future.set_exception(failed[name])
                else:
                    item.future.set_result(None)

    def _segment(self, name: str) -> _Segment:
        found = self._open.get(name)
        if found is not None:
            return found
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        temporary = folder / f"{TEMP_PREFIX}{stem}{SUFFIX}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held while this process may append: the segment is open
            final = folder / f"{stem}{SUFFIX}"
            os.rename(temporary, final)
            if self.durable:
                _sync_folder(folder)
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        self._open[name] = _Segment(final, fd)
        return self._open[name]

    def _seal(self, name: str) -> None:
        segment = self._open.pop(name, None)
        if segment is not None:
            os.close(segment.fd)  # drops the lock: sealed

    def _abandon(self, name: str) -> None:
        """Stop appending to the workspace's segment after a failed write (its tail may be torn)."""
        self._seal(name)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
