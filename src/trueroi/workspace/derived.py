"""Derived tables: results of expensive queries kept in the warehouse and reused while their inputs hold.

The KPI engine asks the same heavy questions of every report: which touch closed each order (a range join
of orders to touchpoints) and how many sessions each day, channel and campaign had (a scan of every
touchpoint). Their answers change only when data is loaded. :func:`materialized` stores such an answer as a
table ``derived__<name>`` next to a fingerprint of what it was built from: the loaded imports of the tables
it reads, their row counts and the settings it depends on. A later call with the same fingerprint reads the
stored table; any load into those tables (or another setting) rebuilds it on first use.

Data enters a workspace only through :meth:`~trueroi.workspace.Workspace.load`, which records an import; a
direct write into a canonical table that keeps its row count is not seen. On backends other than DuckDB the
expression is returned as it is (computed at query time, as before).

Building a table is a write. A reader that finds one missing or stale takes the warehouse's write lock if it
is free at once (no other process reads or writes), builds and stores it, and reads it; when the lock is
taken it does not wait: it computes the answer at query time for itself and stores nothing, and a later
reader stores it. Removing an import invalidates every derived table (:func:`invalidate`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import ibis

STATE_TABLE = "derived_state"
PREFIX = "derived__"
#: Bump when the definition of a derived table changes, so stored tables of an older version are rebuilt.
VERSION = 1


def materialized(
    ws: Any,
    name: str,
    build: Callable[..., ibis.Table],
    *,
    reads: Iterable[str],
    settings: dict[str, Any] | None = None,
    by_user: bool = False,
) -> ibis.Table:
    """The table ``build()`` returns, stored in the warehouse and rebuilt only when its inputs changed.

    Parameters
    ----------
    name
        Short name of the derived table (stored as ``derived__<name>``).
    build
        Returns the Ibis expression to store; called only when the stored table is missing or stale. With
        ``by_user`` it is called as ``build(part=(k, n))`` and must return only the rows of users in hash
        bucket ``k`` of ``n`` (see :func:`user_bucket`), or all rows for ``part=None``.
    reads
        Canonical tables the expression reads.
    settings
        Everything else the result depends on (workspace settings, model parameters), JSON-serialisable.
    by_user
        Build bucket by bucket, one bucket of users per :data:`TOUCHES_PER_PART` touchpoints, so the
        backend's joins and windows hold one bucket at a time (the stored table is the union of the buckets).
    """
    if not getattr(ws, "is_duckdb", False):
        return build(part=None) if by_user else build()
    table = PREFIX + name
    if _stored(ws, name, table) == fingerprint(ws, reads, settings or {}):
        return ws.con.table(table)
    with ws.try_writing(f"build of derived table {name}") as raw:
        if raw is None:  # others read or write now: compute at query time, store nothing
            return _expression(ws, build, by_user)
        key = fingerprint(ws, reads, settings or {})  # again, under the lock: a load may have committed
        if _stored(ws, name, table) != key:
            _rebuild(ws, raw, name, table, _parts(ws, build, by_user), key)
    return ws.con.table(table)


def _stored(ws: Any, name: str, table: str) -> str | None:
    """The fingerprint the stored table ``table`` was built with, or None when there is none."""
    raw = ws.con.con
    known = {r[0] for r in raw.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if STATE_TABLE not in known or table not in known:
        return None
    row = raw.execute(f"SELECT fingerprint FROM {STATE_TABLE} WHERE name = ?", [name]).fetchone()
    return None if row is None else str(row[0])


def _parts(ws: Any, build: Callable[..., ibis.Table], by_user: bool) -> list[ibis.Table]:
    if not by_user:
        return [build()]
    n = user_parts(ws)
    return [build(part=(k, n) if n > 1 else None) for k in range(n)]


def _expression(ws: Any, build: Callable[..., ibis.Table], by_user: bool) -> ibis.Table:
    """The derived table as an expression computed at query time (when it cannot be stored now)."""
    return build(part=None) if by_user else build()


def drop_all(ws: Any) -> None:
    """Remove every derived table (they are rebuilt on next use)."""
    if not getattr(ws, "is_duckdb", False):
        return
    with ws.writing("removal of derived tables") as raw:
        for (name,) in raw.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            if name.startswith(PREFIX) or name == STATE_TABLE:
                raw.execute(f"DROP TABLE {name}")


def invalidate(raw: Any) -> None:
    """Forget every derived table's fingerprint (inside the caller's transaction): all are rebuilt on use."""
    if raw.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [STATE_TABLE]).fetchone()[0]:
        raw.execute(f"DELETE FROM {STATE_TABLE}")


#: Touchpoints per bucket of users when a large derived table or journey set is built bucket by bucket:
#: DuckDB's windows and sorts take about 120 bytes a touch, so one bucket stays under about 2 GB (30 M
#: touches of journeys: 2 buckets peak at 3.0 GB for the whole process instead of 4.1 GB, at the same speed).
TOUCHES_PER_PART = 16_000_000


def user_parts(ws: Any, touches_per_part: int | None = None) -> int:
    """How many user buckets a build over all touchpoints should use (at least one)."""
    per_part = touches_per_part or TOUCHES_PER_PART
    touches = int(ws.table("touchpoints").count().execute())
    return max(1, -(-touches // per_part))


def user_bucket(user_id: ibis.Value, n: int) -> ibis.Value:
    """A user's hash bucket in ``0 .. n-1`` (non-negative also on backends whose hash is signed)."""
    return ((user_id.hash() % n) + n) % n


def fingerprint(ws: Any, reads: Iterable[str], settings: dict[str, Any]) -> str:
    """A digest of the loaded imports and row counts of ``reads``, and of ``settings``."""
    raw = ws.con.con
    parts: list[Any] = [VERSION, settings]
    for name in sorted(set(reads)):
        count = raw.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        imports = raw.execute(
            "SELECT count(*), coalesce(sum(hash(import_id) % 1000000007), 0), max(loaded_at)::VARCHAR "
            "FROM imports WHERE status = 'loaded' AND list_contains(string_split(target_table, ','), ?)",
            [name],
        ).fetchone()
        parts.append([name, count, *imports])
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _rebuild(ws: Any, raw: Any, name: str, table: str, exprs: list[ibis.Table], key: str) -> None:
    """Write the new table beside the old one, then swap both and the fingerprint in one transaction."""
    staging = f"{table}__new"
    raw.execute(f"CREATE OR REPLACE TABLE {staging} AS {ws.con.compile(exprs[0])}")
    for expr in exprs[1:]:
        raw.execute(f"INSERT INTO {staging} {ws.con.compile(expr)}")
    raw.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name VARCHAR PRIMARY KEY, fingerprint VARCHAR)")
    raw.execute("BEGIN TRANSACTION")
    try:
        raw.execute(f"DROP TABLE IF EXISTS {table}")
        raw.execute(f"ALTER TABLE {staging} RENAME TO {table}")
        raw.execute(f"DELETE FROM {STATE_TABLE} WHERE name = ?", [name])
        raw.execute(f"INSERT INTO {STATE_TABLE} VALUES (?, ?)", [name, key])
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
