"""The warehouse lock: readers share, a writer excludes, waits are bounded and announced, a waiting writer
is not starved by new readers; derived tables are stored only when nobody else uses the warehouse; the
workspace a command uses, and why."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from trueroi.errors import ConfigError, WorkspaceError
from trueroi.workspace import Workspace, WorkspaceBusyError, choose_workspace, lock_timeout
from trueroi.workspace.derived import STATE_TABLE, materialized
from trueroi.workspace.lock import DEFAULT_TIMEOUT, WarehouseLock


def _lock(db: Path, timeout: float = 0.3, notes: list[str] | None = None) -> WarehouseLock:
    """A lock object: two of them in one process exclude each other as two processes would."""
    return WarehouseLock(
        db, label="ws", timeout=timeout, on_wait=(notes.append if notes is not None else None)
    )


def test_readers_share_and_a_writer_waits_for_them(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    a, b, writer = _lock(db), _lock(db), _lock(db, notes=(notes := []))
    a.acquire_shared()
    b.acquire_shared()  # no wait: readers share
    assert not writer.acquire_exclusive("an import", blocking=False)
    with pytest.raises(WorkspaceBusyError, match="other processes were still reading it after 0.3 s"):
        writer.acquire_exclusive("an import")
    assert notes == [
        "waiting for other processes reading the workspace to close it (workspace ws, up to 0.3 s)"
    ]
    a.release()
    b.release()
    assert writer.acquire_exclusive("an import", blocking=False)


def test_a_reader_waits_for_the_writer_and_learns_who_it_is(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    writer, reader = _lock(db), _lock(db, timeout=0.2, notes=(notes := []))
    assert writer.acquire_exclusive("import of orders.csv")
    with pytest.raises(WorkspaceBusyError, match=r"\(import of orders.csv\) was still writing after 0.2 s"):
        reader.acquire_shared()
    assert len(notes) == 1 and "(import of orders.csv) to finish writing" in notes[0]
    writer.release()
    reader.acquire_shared()
    assert writer.writer() == ""  # the writer's note is gone with its lock


def test_a_waiting_writer_is_not_starved_by_new_readers(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    first, late = _lock(db), _lock(db, timeout=0.3)
    writer = _lock(db, timeout=10)
    first.acquire_shared()
    got = []
    thread = threading.Thread(target=lambda: got.append(writer.acquire_exclusive("a load")))
    thread.start()
    time.sleep(0.3)  # the writer now waits for the first reader
    with pytest.raises(WorkspaceBusyError):
        late.acquire_shared()  # a reader arriving after the writer waits behind it
    first.release()
    thread.join(10)
    assert got == [True]


def test_the_timeout_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("TRUEROI_LOCK_TIMEOUT", raising=False)
    assert lock_timeout() == DEFAULT_TIMEOUT
    monkeypatch.setenv("TRUEROI_LOCK_TIMEOUT", "2.5")
    assert lock_timeout() == 2.5 and lock_timeout(7) == 7.0
    monkeypatch.setenv("TRUEROI_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="TRUEROI_LOCK_TIMEOUT='soon'"):
        lock_timeout()


def _sessions(ws: Workspace) -> None:
    frame = {
        "touch_id": ["t1", "t2", "t3"],
        "user_id": ["u1", "u2", "u2"],
        "ts": [datetime(2025, 7, 1, 8), datetime(2025, 7, 1, 9), datetime(2025, 7, 2, 9)],
        "channel": ["Email", "Email", "Display"],
    }
    ws.load({"touchpoints": pd.DataFrame(frame)}, source_format="test", file_name="t.csv", sha256="t")


def test_a_derived_table_is_stored_only_when_nobody_else_uses_the_warehouse(workspace: Workspace) -> None:
    """While another process reads, the stale table is computed for the caller and not stored (twice: two
    builds); once alone, the next call stores it and a later one reuses it (no further build)."""
    _sessions(workspace)
    builds = []

    def build():
        builds.append(1)
        tp = workspace.table("touchpoints")
        return tp.group_by("channel").aggregate(n=tp.count())

    def counts() -> dict[str, int]:
        t = materialized(workspace, "by_channel", build, reads=("touchpoints",))
        return dict(t.execute().itertuples(index=False, name=None))

    other = _lock(workspace.path / "warehouse.duckdb")
    other.acquire_shared()  # another process reads the warehouse
    assert counts() == {"Email": 2, "Display": 1}
    assert counts() == {"Email": 2, "Display": 1}
    assert len(builds) == 2
    assert STATE_TABLE not in workspace.con.list_tables()
    other.release()
    assert counts() == {"Email": 2, "Display": 1} and len(builds) == 3  # built and stored
    assert counts() == {"Email": 2, "Display": 1} and len(builds) == 3  # read from the stored table
    assert workspace.con.con.execute(f"SELECT name FROM {STATE_TABLE}").fetchall() == [("by_channel",)]


def test_the_current_workspace_folder_against_the_environment(tmp_path: Path, monkeypatch) -> None:
    here, there = (Workspace.init(tmp_path / name) for name in ("client_a", "client_b"))
    here.close()
    there.close()
    monkeypatch.chdir(here.path)
    monkeypatch.delenv("TRUEROI_WORKSPACE", raising=False)
    monkeypatch.delenv("TRUEROI_STRICT", raising=False)
    assert choose_workspace().path == here.path and choose_workspace().warning is None
    monkeypatch.setenv("TRUEROI_WORKSPACE", str(there.path))
    choice = choose_workspace()
    assert (choice.path, choice.reason, choice.other) == (there.path, "environment", here.path)
    assert str(there.path) in choice.warning and str(here.path) in choice.warning
    assert choose_workspace(here.path).warning is None  # a path given explicitly is what the user meant
    with Workspace.open() as ws:
        assert ws.path == there.path and ws.choice.warning == choice.warning
    monkeypatch.setenv("TRUEROI_STRICT", "1")
    with pytest.raises(WorkspaceError, match="strict mode"):
        Workspace.open()
