"""Tracked events in the warehouse: the raw events, and the canonical rows built from them, in one
transaction per batch.

Tables of a workspace's warehouse besides the canonical ones (created on first load):

- ``tracking_events``: every tracked event once (by ``event_id``): its type and source (``browser`` or
  ``server``), the time kept (``ts``), the client's own time (``client_ts``) and the receive time
  (``recv_ts``), the person, page, order and money fields, the stored (truncated) client address and the
  WAL segment or queue it came from. Raw events are deleted after ``[collector] retention_days``.
- ``tracking_sessions``: the span of each tracked session (``user_id, session_id, start_ts, end_ts``), so
  that a late event rebuilds only the sessions it can touch.
- ``tracking_segments``: how far each WAL segment (or queue batch) is loaded: ``segment_id, position``.
- ``tracking_forgotten``: people deleted with ``trueroi privacy forget`` (the SHA-256 of their id, and when).

:func:`load_events` moves one batch in ONE transaction under the workspace's write lock
(:meth:`~trueroi.workspace.Workspace.writing`, the lock imports and the web app use): new events (those whose
``event_id`` is not stored yet, and not of a forgotten person received before the forget), the touchpoints of
every session they change (:mod:`trueroi.tracking.sessions`), the orders and conversions they change
(:mod:`trueroi.tracking.outcomes`), the new position of each segment, and the day's ``imports`` record
(``trk-YYYYMMDD``; its ``loaded_at`` moves with every load, so derived tables and caches see the change).
Either all of it is committed or none: a loader killed at any moment leaves the positions where the rows
are, and the next run goes on from there.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from trueroi.errors import WorkspaceError
from trueroi.io import jsonable
from trueroi.tracking.outcomes import conversion_rows, order_rows
from trueroi.tracking.sessions import TIMEOUT, TOUCH_PREFIX, anonymous_touches, session_touches
from trueroi.workspace.core import Workspace
from trueroi.workspace.links import LINK_TABLES, add_missing_columns, link_orders
from trueroi.workspace.load import conform
from trueroi.workspace.schema import TABLES

EVENTS = "tracking_events"
SESSIONS = "tracking_sessions"
SEGMENTS = "tracking_segments"
FORGOTTEN = "tracking_forgotten"
SOURCE_FORMAT = "tracking"
TARGETS = "conversions,orders,touchpoints"
EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("source", pa.string()),
        ("ts", pa.timestamp("us")),
        ("client_ts", pa.timestamp("us")),
        ("recv_ts", pa.timestamp("us")),
        ("user_id", pa.string()),
        ("url", pa.string()),
        ("referrer", pa.string()),
        ("order_id", pa.string()),
        ("revenue", pa.float64()),
        ("currency", pa.string()),
        ("cogs", pa.float64()),
        ("value", pa.float64()),
        ("name", pa.string()),
        ("click_id", pa.string()),
        ("status", pa.string()),
        ("ip", pa.string()),
        ("segment", pa.string()),
    ]
)
_DUCK_TYPES = {pa.string(): "VARCHAR", pa.timestamp("us"): "TIMESTAMP", pa.float64(): "DOUBLE"}
TIMEOUT_S = int(TIMEOUT.total_seconds())
SESSION_EVENT_TYPES = ("page_view", "purchase", "lead", "custom")
DDL = (
    f"CREATE TABLE IF NOT EXISTS {EVENTS} ("
    + ", ".join(f"{f.name} {_DUCK_TYPES[f.type]}" for f in EVENT_SCHEMA)
    + ")",
    f"CREATE TABLE IF NOT EXISTS {SESSIONS} (user_id VARCHAR, session_id VARCHAR, start_ts TIMESTAMP, "
    "end_ts TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {SEGMENTS} (segment_id VARCHAR, position BIGINT, events BIGINT, "
    "loaded_at TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {FORGOTTEN} (user_hash VARCHAR, forgotten_at TIMESTAMP)",
)


class PositionConflict(WorkspaceError):
    """Another loader moved a segment's position since this one read it (nothing was written)."""


@dataclass(frozen=True)
class TrackingLoad:
    """What one load did: events received, new (stored), duplicates (already stored), dropped (of a
    forgotten person), and rows written per canonical table."""

    received: int
    new: int
    duplicates: int
    dropped: int
    rows: dict[str, int]
    import_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)


def user_hash(user_id: str) -> str:
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()


def ensure_tables(raw: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        raw.execute(statement)


def positions(ws: Workspace, segment_ids: Sequence[str] | None = None) -> dict[str, int]:
    """How far each segment is loaded (all recorded segments, or those named)."""
    raw = ws.con.con
    if not _has_table(raw, SEGMENTS):
        return {}
    rows = raw.execute(f"SELECT segment_id, position FROM {SEGMENTS}").fetchall()
    found = {str(s): int(p) for s, p in rows}
    return found if segment_ids is None else {s: found[s] for s in segment_ids if s in found}


def load_events(
    ws: Workspace,
    events: Sequence[Mapping[str, Any]],
    *,
    moves: Mapping[str, tuple[int, int]] | None = None,
    now: datetime | None = None,
) -> TrackingLoad:
    """Store ``events`` (as :func:`trueroi.tracking.events.normalize_event` makes them, with ``segment``)
    and the rows built from them, and move each segment in ``moves`` from its first to its second position,
    in one transaction (see the module's notes).

    Raises
    ------
    PositionConflict
        When a segment's stored position is not the expected first one (another loader got there first).
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    incoming = pa.Table.from_pylist([dict(e) for e in events], schema=EVENT_SCHEMA)
    with ws.writing("load of tracked events") as raw:
        ensure_tables(raw)
        add_missing_columns(raw, LINK_TABLES)  # a warehouse of an older version gets the new nullable columns
        _check_positions(raw, moves or {})
        raw.execute("BEGIN TRANSACTION")
        try:
            done = _load(ws, raw, incoming, moves or {}, now)
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        finally:
            for name in ("_incoming", "_rows"):
                _unregister(raw, name)
    return done


def _load(
    ws: Workspace,
    raw: duckdb.DuckDBPyConnection,
    incoming: pa.Table,
    moves: Mapping[str, tuple[int, int]],
    now: datetime,
) -> TrackingLoad:
    raw.register("_incoming", incoming)
    fresh = _fetch(
        raw,
        f"""SELECT * FROM _incoming i
            WHERE NOT EXISTS (SELECT 1 FROM {EVENTS} e WHERE e.event_id = i.event_id)
            QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY recv_ts) = 1""",
    )
    unique = len(fresh)
    fresh = _without_forgotten(raw, fresh)
    rows = {"touchpoints": 0, "orders": 0, "conversions": 0}
    import_id = None
    if len(fresh):
        import_id = "trk-" + now.strftime("%Y%m%d")
        _insert(raw, EVENTS, pa.Table.from_pandas(fresh, schema=EVENT_SCHEMA, preserve_index=False))
        rows["touchpoints"] = _sessions(ws, raw, fresh, import_id)
        rows["orders"] = _orders(ws, raw, fresh, import_id)
        rows["conversions"] = _replace(
            raw, "conversions", "conversion_id", conversion_rows(fresh, ws.config), import_id
        )
        if rows["orders"] or rows["conversions"]:
            link_orders(raw)  # shop orders take the user of the tracked purchase that names them
        _record_import(raw, import_id, sum(rows.values()), now)
    _move(raw, moves, len(incoming), now)
    return TrackingLoad(
        received=len(incoming),
        new=len(fresh),
        duplicates=len(incoming) - unique,
        dropped=unique - len(fresh),
        rows=rows,
        import_id=import_id,
    )


def _without_forgotten(raw: duckdb.DuckDBPyConnection, fresh: pd.DataFrame) -> pd.DataFrame:
    forgotten = dict(
        raw.execute(f"SELECT user_hash, max(forgotten_at) FROM {FORGOTTEN} GROUP BY 1").fetchall()
    )
    if not forgotten or fresh.empty:
        return fresh
    hashes = fresh["user_id"].map(lambda u: user_hash(u) if isinstance(u, str) else None)
    cutoff = hashes.map(forgotten)
    drop = cutoff.notna() & (fresh["recv_ts"] <= pd.to_datetime(cutoff))
    return fresh[~drop.to_numpy()]


def _sessions(ws: Workspace, raw: duckdb.DuckDBPyConnection, fresh: pd.DataFrame, import_id: str) -> int:
    """Rebuild the sessions the new visit events can change (:func:`_session_event`); returns touchpoint
    rows written."""
    browser = fresh[_session_event(fresh)]
    known = browser[browser["user_id"].notna()]
    written = 0
    if not known.empty:
        first = known.groupby("user_id", as_index=False)["ts"].min()
        raw.register("_rows", pa.Table.from_pandas(first, preserve_index=False))
        since = _fetch(
            raw,
            f"""SELECT f.user_id, least(min(f.ts), coalesce(min(s.start_ts), min(f.ts))) AS since
                FROM _rows f LEFT JOIN {SESSIONS} s
                  ON s.user_id = f.user_id AND s.end_ts >= f.ts - INTERVAL {TIMEOUT_S} SECOND
                GROUP BY f.user_id""",
        )
        _unregister(raw, "_rows")
        raw.register("_rows", pa.Table.from_pandas(since, preserve_index=False))
        earliest = since["since"].min()
        types = ", ".join(f"'{t}'" for t in SESSION_EVENT_TYPES)
        events = _fetch(
            raw,
            f"""SELECT e.event_id, e.type, e.ts, e.user_id, e.url, e.referrer FROM {EVENTS} e
                JOIN _rows r ON e.user_id = r.user_id
                WHERE e.ts >= ? AND e.ts >= r.since
                  AND ((e.source = 'browser' AND e.type IN ({types})) OR e.type = 'page_view')""",
            [earliest],
        )
        raw.execute(
            f"""DELETE FROM touchpoints WHERE touch_id IN (
                  SELECT '{TOUCH_PREFIX}' || s.session_id FROM {SESSIONS} s JOIN _rows r
                  ON s.user_id = r.user_id AND s.start_ts >= r.since)"""
        )
        raw.execute(
            f"DELETE FROM {SESSIONS} s USING _rows r WHERE s.user_id = r.user_id AND s.start_ts >= r.since"
        )
        _unregister(raw, "_rows")
        touches, spans = session_touches(events, ws.config)
        _insert(raw, SESSIONS, pa.Table.from_pandas(spans, preserve_index=False))
        written += _replace(raw, "touchpoints", "touch_id", touches, import_id)
    anonymous = browser[browser["user_id"].isna() & (browser["type"] == "page_view")]
    return written + _replace(
        raw, "touchpoints", "touch_id", anonymous_touches(anonymous, ws.config), import_id
    )


def _session_event(events: pd.DataFrame) -> pd.Series:
    """Events that make sessions: the browser's page views, purchases, leads and custom events, and page
    views a backend sends (server-side tagging) - the backend's orders and CRM events are no visits."""
    browser = (events["source"] == "browser") & events["type"].isin(SESSION_EVENT_TYPES)
    return browser | (events["type"] == "page_view")


def _orders(ws: Workspace, raw: duckdb.DuckDBPyConnection, fresh: pd.DataFrame, import_id: str) -> int:
    changed = fresh.loc[fresh["type"].isin(["purchase", "refund"]) & fresh["order_id"].notna(), "order_id"]
    if changed.empty:
        return 0
    raw.register("_rows", pa.table({"order_id": pa.array(changed.unique(), pa.string())}))
    events = _fetch(
        raw,
        f"""SELECT * FROM {EVENTS} WHERE type IN ('purchase', 'refund')
            AND order_id IN (SELECT order_id FROM _rows)""",
    )
    _unregister(raw, "_rows")
    return _replace(raw, "orders", "order_id", order_rows(events, ws.config), import_id)


def _replace(raw: duckdb.DuckDBPyConnection, table: str, key: str, rows: pa.Table, import_id: str) -> int:
    """Delete the rows of ``table`` whose ``key`` the new rows carry, then insert them; returns how many."""
    if rows.num_rows == 0:
        return 0
    data = conform(rows, table, import_id)
    raw.register("_rows", data)
    try:
        raw.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM _rows)")
        cols = ", ".join(TABLES[table])
        raw.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rows")
    finally:
        _unregister(raw, "_rows")
    return data.num_rows


def _insert(raw: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    if data.num_rows == 0:
        return
    raw.register("_rows", data)
    try:
        cols = ", ".join(data.column_names)
        raw.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rows")
    finally:
        _unregister(raw, "_rows")


def _record_import(raw: duckdb.DuckDBPyConnection, import_id: str, rows: int, now: datetime) -> None:
    """The day's ``imports`` record: rows added up over the day's loads, ``loaded_at`` of the last."""
    before = raw.execute("SELECT rows FROM imports WHERE import_id = ?", [import_id]).fetchone()
    raw.execute("DELETE FROM imports WHERE import_id = ?", [import_id])
    raw.execute(
        "INSERT INTO imports (import_id, source_format, file_name, sha256, target_table, rows, loaded_at, "
        "status) VALUES (?, ?, ?, ?, ?, ?, ?, 'loaded')",
        [
            import_id,
            SOURCE_FORMAT,
            f"tracked events {import_id[4:8]}-{import_id[8:10]}-{import_id[10:]}",
            hashlib.sha256(import_id.encode()).hexdigest(),
            TARGETS,
            (before[0] if before else 0) + rows,
            now,
        ],
    )


def _check_positions(raw: duckdb.DuckDBPyConnection, moves: Mapping[str, tuple[int, int]]) -> None:
    if not moves:
        return
    stored = dict(raw.execute(f"SELECT segment_id, position FROM {SEGMENTS}").fetchall())
    for segment, (start, _) in moves.items():
        if stored.get(segment, 0) != start:
            raise PositionConflict(
                f"segment {segment} is loaded up to {stored.get(segment, 0)}, not {start}; another loader "
                "moved it"
            )


def _move(
    raw: duckdb.DuckDBPyConnection, moves: Mapping[str, tuple[int, int]], events: int, now: datetime
) -> None:
    for segment, (_, end) in moves.items():
        raw.execute(f"DELETE FROM {SEGMENTS} WHERE segment_id = ?", [segment])
        raw.execute(f"INSERT INTO {SEGMENTS} VALUES (?, ?, ?, ?)", [segment, end, events, now])


def forget_segments(ws: Workspace, segment_ids: Sequence[str]) -> None:
    """Drop the position records of segments whose files are gone (their events are all loaded)."""
    if not segment_ids:
        return
    with ws.writing("cleanup of loaded WAL segments") as raw:
        ensure_tables(raw)
        raw.register("_rows", pa.table({"segment_id": pa.array(list(segment_ids), pa.string())}))
        try:
            raw.execute(f"DELETE FROM {SEGMENTS} WHERE segment_id IN (SELECT segment_id FROM _rows)")
        finally:
            _unregister(raw, "_rows")


@dataclass(frozen=True)
class Forgotten:
    """What ``trueroi privacy forget`` removed: the person's raw events and touchpoints and conversions
    deleted, and their orders (and purchase/refund events) kept without their id."""

    user_id: str
    events: int
    touchpoints: int
    conversions: int
    orders_anonymized: int

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)


def forget_user(ws: Workspace, user_id: str, *, now: datetime | None = None) -> Forgotten:
    """Remove a person from the workspace, in one transaction: their tracked events, sessions,
    touchpoints (from any import) and conversions are deleted; their orders and order events stay (revenue
    is the shop's books) without their id. Their events still waiting in the WAL or queue are dropped when
    they are loaded (a forget record keeps the SHA-256 of the id, not the id)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    with ws.writing("deletion of a person's data") as raw:
        ensure_tables(raw)
        raw.execute("BEGIN TRANSACTION")
        try:
            raw.execute(f"INSERT INTO {FORGOTTEN} VALUES (?, ?)", [user_hash(user_id), now])
            events = _count(
                raw, f"DELETE FROM {EVENTS} WHERE user_id = ? AND type NOT IN ('purchase', 'refund')", user_id
            )
            events += _count(raw, f"UPDATE {EVENTS} SET user_id = NULL, ip = NULL WHERE user_id = ?", user_id)
            raw.execute(f"DELETE FROM {SESSIONS} WHERE user_id = ?", [user_id])
            touches = _count(raw, "DELETE FROM touchpoints WHERE user_id = ?", user_id)
            conversions = _count(raw, "DELETE FROM conversions WHERE user_id = ?", user_id)
            orders = _count(
                raw,
                "UPDATE orders SET user_id = CASE WHEN user_id = $1 THEN NULL ELSE user_id END, "
                "customer_id = CASE WHEN customer_id = $1 THEN NULL ELSE customer_id END "
                "WHERE user_id = $1 OR customer_id = $1",
                user_id,
            )
            raw.execute(
                "UPDATE imports SET loaded_at = ? WHERE import_id = (SELECT max(import_id) FROM imports)",
                [now],
            )
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
    return Forgotten(user_id, events, touches, conversions, orders)


def apply_retention(ws: Workspace, days: int, *, now: datetime | None = None) -> int:
    """Delete raw tracked events received more than ``days`` days before ``now``; returns how many. The
    sessions, orders and conversions built from them stay. ``days`` 0 keeps everything."""
    if days <= 0:
        return 0
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if not _has_table(ws.con.con, EVENTS):
        return 0
    with ws.writing("deletion of old tracked events") as raw:
        return _count(raw, f"DELETE FROM {EVENTS} WHERE recv_ts < ?", now - timedelta(days=days))


def _count(raw: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> int:
    found = raw.execute(sql, list(params)).fetchone()
    return int(found[0]) if found else 0


def _fetch(raw: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    return raw.execute(sql, params or []).df()


def _has_table(raw: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        raw.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0]
    )


def _unregister(raw: duckdb.DuckDBPyConnection, name: str) -> None:
    with contextlib.suppress(duckdb.Error):
        raw.unregister(name)
