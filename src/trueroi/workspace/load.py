"""Loads into a DuckDB warehouse: rows are staged in a file of their own, then committed in one transaction.

A load writes its rows chunk by chunk into a staging DuckDB file beside the warehouse (in the hidden
``.trueroi/staging`` folder), holding no lock on the warehouse meanwhile: readers and other loads go on. Only
the commit takes the warehouse's write lock: it attaches the staging file and, in ONE transaction, deletes
the rows the new ones replace, copies the new rows into the canonical tables and records the import. So the
rows of an unfinished load are never in the canonical tables; a killed load leaves only its staging file,
which the next load (or the next open of the workspace) removes. DuckDB writes a large committed insert to
disk row group by row group, so the commit stays in bounded memory (10 M touchpoints: about 650 MB).

Which older rows a load replaces:

- Rows with the same key (:class:`RowKey`): a re-export with corrected numbers replaces what it re-exports;
  rows of other keys are kept. This is an upsert, and its count is reported as replaced.
- With a period replacement (:class:`PeriodReplace`, asked for explicitly): also every row loaded earlier
  from the same source format whose day lies in the period the new rows cover (first to last day).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from trueroi.errors import DataValidationError
from trueroi.workspace.links import LINK_TABLES, add_missing_columns, link_orders
from trueroi.workspace.schema import TABLES, arrow_schema

LOAD_MEMORY_LIMIT = "2GB"
#: DuckDB keeps written blocks in its buffer pool up to its memory limit, so a process's peak follows the
#: limit of each step. Appends to the staging file and the commit's plain copy need little and run under
#: smaller limits (a 50 M-row Search Console import peaked at 3.6 GB with 2 GB for both; a copy of those 50 M
#: rows between two DuckDB files under 1 GB peaks at 1.2 GB). Matching older rows by key keeps the larger one.
STAGING_MEMORY_LIMIT = "512MB"
COPY_MEMORY_LIMIT = "1GB"
STAGING = "staging"
_ALIAS = "_staging"


@dataclass(frozen=True)
class RowKey:
    """The columns that identify a row of a table: a new row replaces the older rows with the same key.

    ``columns`` are compared null-safe (a null matches a null), so a campaign-level row (``ad_group_id``
    null) replaces only campaign-level rows. With ``fallback``, ``columns`` must be non-null to match, and
    rows whose first key column is null on both sides are matched on ``fallback`` instead (touchpoints:
    ``touch_id`` when the export has one, else user, time, session and source).
    """

    columns: tuple[str, ...]
    fallback: tuple[str, ...] = ()

    @classmethod
    def of(cls, key: RowKey | Iterable[str]) -> RowKey:
        return key if isinstance(key, RowKey) else cls(tuple(key))


@dataclass(frozen=True)
class PeriodReplace:
    """Replace a period: older rows of the same source format on the days the new rows cover are removed.

    ``day`` is the table's day column; the period runs from the new rows' first to their last day.
    ``scope`` columns narrow it to the values the new rows carry (``platform`` for ad performance).
    """

    day: str
    scope: tuple[str, ...] = ()

    @classmethod
    def of(cls, spec: PeriodReplace | str) -> PeriodReplace:
        return spec if isinstance(spec, PeriodReplace) else cls(spec)


class Staging:
    """One load's staging DuckDB file; held under a lock of its own while the load runs.

    Parameters
    ----------
    folder
        The staging folder (created if missing).
    import_id
        The load's import id (names the file).
    """

    def __init__(self, folder: Path, import_id: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{import_id}.duckdb"
        self._lock_path = folder / f"{import_id}.lock"
        self._lock = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.con: duckdb.DuckDBPyConnection | None = duckdb.connect(str(self.path))
        self.con.execute(f"SET memory_limit = '{STAGING_MEMORY_LIMIT}'")
        self.con.execute("SET enable_progress_bar = false")
        # Appends come one Arrow chunk at a time: with several threads DuckDB splits each into partial row
        # groups and spends 3x the CPU (1 M Search Console rows in chunks of 200,000: 6.1 s CPU, 1.9 s
        # with one thread, on 2 cores).
        self.con.execute("SET threads = 1")
        self.tables: dict[str, int] = {}

    def create(self, table: str) -> None:
        """Create the staging copy of canonical table ``table`` (empty)."""
        empty = arrow_schema(table).empty_table()
        self.con.register("_empty", empty)
        self.con.execute(f"CREATE TABLE {table} AS SELECT * FROM _empty")
        self.con.unregister("_empty")
        self.tables[table] = 0

    def append(self, table: str, data: Any, import_id: str) -> int:
        """Add ``data`` (Arrow tables, DataFrames or an iterable of them) to ``table``; returns its rows."""
        if table not in self.tables:
            self.create(table)
        for chunk in chunks(data):
            arrow = conform(chunk, table, import_id)
            self.con.register("_chunk", arrow)
            self.con.execute(f"INSERT INTO {table} SELECT * FROM _chunk")
            self.con.unregister("_chunk")
            self.tables[table] += arrow.num_rows
        return self.tables[table]

    def finish(self) -> None:
        """Close the staging file so that the warehouse's connection can attach it."""
        if self.con is not None:
            self.con.execute("CHECKPOINT")
            self.con.close()
            self.con = None

    def remove(self) -> None:
        """Close and delete the staging file and its lock."""
        if self.con is not None:
            self.con.close()
            self.con = None
        _remove_files(self.path)
        with contextlib.suppress(OSError):
            self._lock_path.unlink()
        os.close(self._lock)


@contextlib.contextmanager
def staging(folder: Path, import_id: str) -> Iterator[Staging]:
    """A fresh staging file for one load, removed when the block ends (whatever happens)."""
    clean_staging(folder)
    stage = Staging(folder, import_id)
    try:
        yield stage
    finally:
        stage.remove()


def clean_staging(folder: Path) -> int:
    """Remove staging files of loads that no longer run (killed); returns how many were removed."""
    if not folder.is_dir():
        return 0
    removed = 0
    for lock_path in folder.glob("*.lock"):
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a load in another process still runs
            os.close(fd)
            continue
        _remove_files(lock_path.with_suffix(".duckdb"))
        with contextlib.suppress(OSError):
            lock_path.unlink()
        os.close(fd)
        removed += 1
    for orphan in folder.glob("*.duckdb"):  # a file whose lock was already gone
        if not orphan.with_suffix(".lock").exists():
            _remove_files(orphan)
    return removed


def _remove_files(db: Path) -> None:
    for path in (db, db.with_name(db.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def new_import_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class Commit:
    """What a commit did: rows inserted per table and rows of earlier loads it replaced."""

    rows: dict[str, int]
    replaced: int
    skipped_as: str | None = None


def commit(
    raw: duckdb.DuckDBPyConnection,
    stage: Staging,
    record: dict[str, Any],
    keys: dict[str, RowKey],
    periods: dict[str, PeriodReplace],
) -> Commit:
    """Move the staged rows into the canonical tables in one transaction (the caller holds the write lock).

    ``record`` is the new row of ``imports`` (status 'loaded'); when a load of the same file and tables
    committed meanwhile, nothing is written and ``skipped_as`` names that import. A load of orders or
    conversions also joins orders to tracked purchases in the same transaction
    (:func:`~trueroi.workspace.links.link_orders`).
    """
    stage.finish()
    previous = raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    raw.execute(f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
    raw.execute(f"ATTACH '{_sql_path(stage.path)}' AS {_ALIAS} (READ_ONLY)")
    try:
        raw.execute("BEGIN TRANSACTION")
        try:
            done = _commit_rows(raw, stage, record, keys, periods)
            raw.execute("COMMIT" if done.skipped_as is None else "ROLLBACK")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
    finally:
        raw.execute(f"DETACH {_ALIAS}")
        raw.execute(f"SET memory_limit = '{previous}'")
    return done


def _commit_rows(
    raw: duckdb.DuckDBPyConnection,
    stage: Staging,
    record: dict[str, Any],
    keys: dict[str, RowKey],
    periods: dict[str, PeriodReplace],
) -> Commit:
    hit = raw.execute(
        "SELECT import_id FROM imports WHERE sha256 = ? AND target_table = ? AND status = 'loaded'",
        [record["sha256"], record["target_table"]],
    ).fetchone()
    if hit is not None:
        return Commit(rows=dict.fromkeys(stage.tables, 0), replaced=0, skipped_as=str(hit[0]))
    discard_pending(raw)
    add_missing_columns(raw, tuple(stage.tables))  # a warehouse of an older version gets the new columns
    replaced = 0
    for table in stage.tables:
        if table in keys:
            replaced += replace_keys(raw, table, keys[table])
        if table in periods:
            replaced += replace_period(raw, table, periods[table], record["source_format"])
    raw.execute(f"SET memory_limit = '{COPY_MEMORY_LIMIT}'")  # commit() restores the caller's limit
    for table in stage.tables:
        cols = ", ".join(TABLES[table])
        raw.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {_ALIAS}.{table}")
    if set(stage.tables) & set(LINK_TABLES):  # orders meet their tracked purchases whichever came first
        link_orders(raw)
    raw.execute(
        "INSERT INTO imports (import_id, source_format, file_name, sha256, target_table, rows, loaded_at, "
        "status) VALUES (?, ?, ?, ?, ?, ?, ?, 'loaded')",
        [
            record["import_id"],
            record["source_format"],
            record["file_name"],
            record["sha256"],
            record["target_table"],
            sum(stage.tables.values()),
            record["loaded_at"],
        ],
    )
    return Commit(rows=dict(stage.tables), replaced=replaced)


#: Staged rows per bucket when older rows are matched by key: the match is a hash join over the staged keys,
#: done bucket by bucket of key hashes so that it holds one bucket at a time (10 M touchpoints replacing 10 M:
#: 0.93 GB peak in 5 buckets, 2.1 GB in one).
BUCKET_ROWS = 2_000_000


def replace_keys(raw: duckdb.DuckDBPyConnection, table: str, key: RowKey) -> int:
    """Delete the rows of ``table`` whose key appears among the staged rows; returns how many."""
    staged = raw.execute(f"SELECT count(*) FROM {_ALIAS}.{table}").fetchone()[0]
    if not staged or not raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
        return 0
    buckets = -(-staged // BUCKET_ROWS)
    if not key.fallback:
        return _delete_matching(raw, table, key.columns, buckets, null_safe=True)
    first = key.columns[0]
    count = _delete_matching(raw, table, key.columns, buckets, null_safe=False)
    return count + _delete_matching(
        raw, table, key.fallback, buckets, null_safe=True, where=f"{{t}}.{first} IS NULL"
    )


def _delete_matching(
    raw: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    buckets: int,
    *,
    null_safe: bool,
    where: str = "",
) -> int:
    """Delete rows of ``table`` equal on ``columns`` to a staged row (both sides meeting ``where``, written
    with ``{t}`` for the table), one hash bucket of the key at a time."""
    equal = "IS NOT DISTINCT FROM" if null_safe else "="
    match = " AND ".join(f"n.{c} {equal} {table}.{c}" for c in columns)
    mine, theirs = (where.format(t=table) + " AND ", where.format(t="n") + " AND ") if where else ("", "")
    count = 0
    for k in range(buckets):
        if buckets > 1:
            part = f"hash({{t}}.{', {t}.'.join(columns)}) % {buckets} = {k}"
            mine_k, theirs_k = mine + part.format(t=table) + " AND ", theirs + part.format(t="n") + " AND "
        else:
            mine_k, theirs_k = mine, theirs
        count += _deleted(
            raw,
            f"DELETE FROM {table} WHERE {mine_k}EXISTS "
            f"(SELECT 1 FROM {_ALIAS}.{table} AS n WHERE {theirs_k}{match})",
        )
    return count


def replace_period(
    raw: duckdb.DuckDBPyConnection, table: str, period: PeriodReplace, source_format: str
) -> int:
    """Delete rows of earlier loads of ``source_format`` in the staged rows' period; returns how many."""
    staged = f"{_ALIAS}.{table}"
    day = period.day
    scope = "".join(f" AND {c} IN (SELECT DISTINCT {c} FROM {staged})" for c in period.scope)
    return _deleted(
        raw,
        f"DELETE FROM {table} WHERE import_id IN "
        f"(SELECT import_id FROM imports WHERE source_format = ? AND status = 'loaded') "
        f"AND {day} BETWEEN (SELECT min({day}) FROM {staged}) AND (SELECT max({day}) FROM {staged}){scope}",
        [source_format],
    )


def discard_pending(raw: duckdb.DuckDBPyConnection) -> int:
    """Delete the rows and records of loads left 'pending' by trueroi versions that loaded in place."""
    pending = raw.execute("SELECT import_id, target_table FROM imports WHERE status = 'pending'").fetchall()
    for import_id, target_key in pending:
        for name in str(target_key).split(","):
            if name in TABLES:
                raw.execute(f"DELETE FROM {name} WHERE import_id = ?", [import_id])
        raw.execute("DELETE FROM imports WHERE import_id = ?", [import_id])
    return len(pending)


def _deleted(raw: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = raw.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def chunks(data: Any) -> Iterable[pa.Table]:
    """Arrow tables from an Arrow table or record batch, a DataFrame, or an iterable of any of them."""
    if isinstance(data, pa.Table | pa.RecordBatch):
        yield pa.table(data) if isinstance(data, pa.RecordBatch) else data
    elif hasattr(data, "to_records") and hasattr(data, "columns"):  # a pandas DataFrame
        yield pa.Table.from_pandas(data, preserve_index=False)
    else:
        for chunk in data:
            yield from chunks(chunk)


def conform(data: pa.Table, table: str, import_id: str) -> pa.Table:
    """Arrange ``data`` in the canonical column order and types, adding missing optional columns as nulls.

    Raises
    ------
    DataValidationError
        When a column is not canonical, a required column is missing, or a value cannot be cast.
    """
    target = arrow_schema(table)
    unknown = [c for c in data.column_names if c not in target.names]
    if unknown:
        raise DataValidationError(
            f"unknown column(s) {', '.join(unknown)} for table {table}",
            expected="columns among " + ", ".join(target.names),
        )
    columns = []
    for field in target:
        if field.name == "import_id":
            columns.append(pa.array([import_id] * data.num_rows, pa.string()))
        elif field.name in data.column_names:
            try:
                columns.append(data[field.name].cast(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DataValidationError(
                    f"cannot be read as {field.type}: {exc}", column=field.name, expected=str(field.type)
                ) from exc
        else:
            columns.append(pa.nulls(data.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=target)
