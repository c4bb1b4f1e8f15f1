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
    build: Callable[[], ibis.Table],
    *,
    reads: Iterable[str],
    settings: dict[str, Any] | None = None,
) -> ibis.Table:
    """The table ``build()`` returns, stored in the warehouse and rebuilt only when its inputs changed.

    Parameters
    ----------
    name
        Short name of the derived table (stored as ``derived__<name>``).
    build
        Returns the Ibis expression to store; called only when the stored table is missing or stale.
    reads
        Canonical tables the expression reads.
    settings
        Everything else the result depends on (workspace settings, model parameters), JSON-serialisable.
    """
    if not getattr(ws, "is_duckdb", False):
        return build()
    raw = ws.con.con
    key = fingerprint(ws, reads, settings or {})
    table = PREFIX + name
    raw.execute(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name VARCHAR PRIMARY KEY, fingerprint VARCHAR)")
    stored = raw.execute(f"SELECT fingerprint FROM {STATE_TABLE} WHERE name = ?", [name]).fetchone()
    if stored is None or stored[0] != key or table not in ws.con.list_tables():
        _rebuild(ws, raw, name, table, build(), key)
    return ws.con.table(table)


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


def _rebuild(ws: Any, raw: Any, name: str, table: str, expr: ibis.Table, key: str) -> None:
    """Write the new table beside the old one, then swap both and the fingerprint in one transaction."""
    staging = f"{table}__new"
    sql = ws.con.compile(expr)
    raw.execute(f"CREATE OR REPLACE TABLE {staging} AS {sql}")
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
