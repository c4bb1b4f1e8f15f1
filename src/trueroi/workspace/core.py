"""A workspace: a directory with ``trueroi.toml`` and a warehouse of canonical tables.

All reads go through Ibis, so the warehouse is whatever backend the config's URL names (embedded DuckDB by
default). Loads are all or nothing on DuckDB: rows are appended in committed chunks under a 'pending' import
(memory stays bounded), then replacements and the switch to 'loaded' happen in one transaction; a failed load
deletes its rows and a killed one is undone the next time the workspace is opened, so either way the
workspace is exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from trueroi.errors import DataValidationError, NoWorkspaceError, WorkspaceError
from trueroi.workspace.config import CONFIG_FILE, WorkspaceConfig
from trueroi.workspace.schema import TABLES, arrow_schema, schema

if TYPE_CHECKING:
    import pandas as pd

ENV_VAR = "TRUEROI_WORKSPACE"
LOAD_MEMORY_LIMIT = "2GB"
DATA_TABLES = ("ad_performance", "touchpoints", "orders", "conversions", "costs", "fx_rates")


@dataclass(frozen=True)
class LoadResult:
    """What one load did: its id, rows written per table, and whether it was skipped as a repeat."""

    import_id: str
    rows: dict[str, int]
    skipped: bool = False
    replaced: int = 0


def resolve_path(path: str | os.PathLike[str] | None) -> Path:
    """The workspace directory: the given path, else ``$TRUEROI_WORKSPACE``, else the current directory."""
    if path is not None:
        return Path(path).expanduser().resolve()
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser().resolve() if env else Path.cwd()


def file_sha256(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


class Workspace:
    """One business's data and settings.

    Use :meth:`init` to create a workspace and :meth:`open` to open an existing one. Tables are read as
    Ibis expressions with :meth:`table`; data enters through :meth:`load`.
    """

    def __init__(self, path: Path, config: WorkspaceConfig, backend: Any | None = None) -> None:
        self.path = Path(path)
        self.config = config
        self._con = backend

    # -- lifecycle -------------------------------------------------------------------------------------
    @classmethod
    def init(cls, path: str | os.PathLike[str], config: WorkspaceConfig | None = None) -> Workspace:
        """Create a workspace in ``path`` (created if missing) with empty canonical tables.

        Raises
        ------
        WorkspaceError
            If ``path`` already holds a workspace.
        """
        directory = Path(path).expanduser().resolve()
        if (directory / CONFIG_FILE).exists():
            raise WorkspaceError(f"{directory} already holds a workspace ({CONFIG_FILE} exists)")
        directory.mkdir(parents=True, exist_ok=True)
        config = config or WorkspaceConfig(name=directory.name)
        ws = cls(directory, config)
        ws.create_tables()
        config.save(directory)
        return ws

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Open the workspace at ``path`` (see :func:`resolve_path`)."""
        directory = resolve_path(path)
        if not (directory / CONFIG_FILE).exists():
            raise NoWorkspaceError(
                f"{directory} is not a trueroi workspace (no {CONFIG_FILE}); "
                "initialise a workspace there or choose another workspace directory",
                directory=str(directory),
            )
        return cls(directory, WorkspaceConfig.load(directory))

    @classmethod
    def from_backend(cls, backend: Any, config: WorkspaceConfig | None = None) -> Workspace:
        """Wrap an already connected Ibis backend holding the canonical tables (Spark, Postgres, ...)."""
        return cls(Path("."), config or WorkspaceConfig(), backend=backend)

    @property
    def con(self) -> Any:
        """The Ibis backend, connected on first use."""
        if self._con is None:
            self._con = ibis.connect(self.backend_url)
            if getattr(self._con, "name", "") == "duckdb":
                self._con.raw_sql("SET enable_progress_bar = false")
                self._recover(self._con.con)
        return self._con

    @staticmethod
    def _recover(raw: Any) -> None:
        """Remove what a load killed midway left behind (its rows are marked by a 'pending' import)."""
        if not raw.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'imports'").fetchone()[0]:
            return
        for import_id, target_key in raw.execute(
            "SELECT import_id, target_table FROM imports WHERE status = 'pending'"
        ).fetchall():
            _discard(raw, import_id, target_key)

    @property
    def backend_url(self) -> str:
        url = self.config.backend_url
        if url.startswith("duckdb://"):
            target = url.removeprefix("duckdb://")
            if target and target != ":memory:" and not Path(target).is_absolute():
                return f"duckdb://{self.path / target}"
        return url

    @property
    def is_duckdb(self) -> bool:
        return getattr(self.con, "name", "") == "duckdb"

    def close(self) -> None:
        if self._con is not None:
            disconnect = getattr(self._con, "disconnect", None)
            if disconnect is not None:
                disconnect()
            self._con = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create_tables(self) -> None:
        """Create every canonical table that does not exist yet."""
        existing = set(self.con.list_tables())
        for name in TABLES:
            if name not in existing:
                self.con.create_table(name, schema=schema(name))

    # -- reading ---------------------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """The canonical table ``name`` as an Ibis expression."""
        if name not in TABLES:
            raise WorkspaceError(f"unknown table {name!r}; canonical tables: {', '.join(TABLES)}")
        return self.con.table(name)

    def row_count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    def is_empty(self) -> bool:
        return all(self.row_count(t) == 0 for t in ("ad_performance", "orders", "touchpoints"))

    def require_data(self) -> None:
        """Raise a clear error when the workspace holds no ads, orders or touchpoints."""
        if self.is_empty():
            raise WorkspaceError(
                f"workspace {self.path} holds no data (no ads, orders or touchpoints); import exports first"
            )

    def checksum(self) -> dict[str, tuple[int, str]]:
        """Row count and an order-independent content hash per table, to prove a load changed nothing."""
        result = {}
        for name in TABLES:
            tbl = self.table(name)
            cols = [c for c in tbl.columns if not (name == "imports" and c == "loaded_at")]
            row_hash = tbl.select(cols).mutate(
                _h=ibis.literal("|").join([tbl[c].cast("string").fill_null("∅") for c in cols]).hash()
            )
            agg = row_hash.aggregate(n=row_hash.count(), h=row_hash._h.sum())
            df = agg.execute()
            result[name] = (int(df["n"].iloc[0]), str(df["h"].iloc[0]))
        return result

    # -- loading ---------------------------------------------------------------------------------------
    def already_loaded(self, sha256: str, target_table: str) -> str | None:
        """The import id under which this file hash was loaded into ``target_table``, if any."""
        imports = self.table("imports")
        hit = imports.filter(
            (imports.sha256 == sha256) & (imports.target_table == target_table) & (imports.status == "loaded")
        ).import_id.execute()
        return None if hit.empty else str(hit.iloc[0])

    def load(
        self,
        batches: dict[str, pa.Table | pd.DataFrame | Iterable[pa.Table]],
        *,
        source_format: str,
        file_name: str,
        sha256: str,
        replace_on: dict[str, list[str]] | None = None,
        replace_days: dict[str, str] | None = None,
    ) -> LoadResult:
        """Load rows into one or more canonical tables, all or nothing.

        Parameters
        ----------
        batches
            Table name to rows: an Arrow table, a DataFrame or an iterable of Arrow tables (streamed). Missing
            optional columns are added as nulls; ``import_id`` is set here.
        source_format, file_name, sha256
            Recorded in ``imports``; a file whose hash was loaded before into the same table is skipped.
        replace_on
            Table name to key columns: existing rows whose key appears in the new rows are deleted first, so
            a corrected re-export replaces the days it overlaps instead of adding to them.
        replace_days
            Table name to day column, for tables without a natural row key (session logs): rows loaded
            earlier from the same ``source_format`` on any day the new rows cover are deleted first, so a
            newer export of a source replaces the days it covers.
        """
        targets = list(batches)
        for name in targets:
            if name not in DATA_TABLES:
                raise WorkspaceError(f"cannot load into {name!r}; loadable tables: {', '.join(DATA_TABLES)}")
        target_key = ",".join(sorted(targets))
        previous = self.already_loaded(sha256, target_key)
        if previous is not None:
            return LoadResult(import_id=previous, rows=dict.fromkeys(targets, 0), skipped=True)
        import_id = uuid.uuid4().hex[:16]
        if not self.is_duckdb:
            return self._load_generic(batches, import_id, source_format, file_name, sha256, target_key)
        raw = self.con.con
        previous_limit = raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        raw.execute(f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
        # Rows go in committed chunks under a 'pending' import, so memory stays bounded at any file size
        # (DuckDB holds an open transaction's rows in memory). Nobody sees the pending rows: DuckDB lets no
        # other process open the file meanwhile; a failure deletes them; a killed process leaves them to
        # _recover, which runs before the workspace is next read.
        raw.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, 0, ?, 'pending')",
            [import_id, source_format, file_name, sha256, target_key, _now()],
        )
        in_transaction = False
        try:
            rows = {name: self._append(raw, name, data, import_id) for name, data in batches.items()}
            raw.execute("BEGIN TRANSACTION")
            in_transaction = True
            replaced = sum(
                self._replace(raw, name, keys, import_id)
                for name, keys in (replace_on or {}).items()
                if keys and name in batches
            )
            replaced += sum(
                self._replace_days(raw, name, day, import_id, source_format)
                for name, day in (replace_days or {}).items()
                if name in batches
            )
            raw.execute(
                "UPDATE imports SET status = 'loaded', rows = ? WHERE import_id = ?",
                [sum(rows.values()), import_id],
            )
            raw.execute("COMMIT")
            in_transaction = False
        except BaseException:
            if in_transaction:
                raw.execute("ROLLBACK")
            _discard(raw, import_id, target_key)
            raise
        finally:
            raw.execute(f"SET memory_limit = '{previous_limit}'")
        return LoadResult(import_id=import_id, rows=rows, replaced=replaced)

    @staticmethod
    def _append(raw: Any, name: str, data: Any, import_id: str) -> int:
        """Insert ``data`` chunk by chunk, each chunk committed on its own; returns the row count."""
        count = 0
        for chunk in _chunks(data):
            arrow = conform(chunk, name, import_id)
            raw.register("_chunk", arrow)
            raw.execute(f"INSERT INTO {name} SELECT * FROM _chunk")
            raw.unregister("_chunk")
            count += arrow.num_rows
        return count

    @staticmethod
    def _replace(raw: Any, name: str, keys: list[str], import_id: str) -> int:
        """Delete older rows that share a key with this import's rows (a null key matches a null key)."""
        match = " AND ".join(f"n.{k} IS NOT DISTINCT FROM {name}.{k}" for k in keys)
        before = raw.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        raw.execute(
            f"DELETE FROM {name} WHERE import_id IS DISTINCT FROM ? AND EXISTS "
            f"(SELECT 1 FROM {name} AS n WHERE n.import_id = ? AND {match})",
            [import_id, import_id],
        )
        return before - raw.execute(f"SELECT count(*) FROM {name}").fetchone()[0]

    @staticmethod
    def _replace_days(raw: Any, name: str, day: str, import_id: str, source_format: str) -> int:
        """Delete rows of earlier imports of ``source_format`` on the days this import's rows cover."""
        before = raw.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        raw.execute(
            f"DELETE FROM {name} WHERE import_id IS DISTINCT FROM ? "
            f"AND import_id IN (SELECT import_id FROM imports WHERE source_format = ? AND status = 'loaded') "
            f"AND {day} IN (SELECT DISTINCT {day} FROM {name} WHERE import_id = ?)",
            [import_id, source_format, import_id],
        )
        return before - raw.execute(f"SELECT count(*) FROM {name}").fetchone()[0]

    def _load_generic(self, batches, import_id, source_format, file_name, sha256, target_key) -> LoadResult:
        """Load through Ibis ``insert`` on backends without our transaction path (not atomic)."""
        rows = {}
        for name, data in batches.items():
            rows[name] = 0
            for chunk in _chunks(data):
                arrow = conform(chunk, name, import_id)
                self.con.insert(name, arrow.to_pandas())
                rows[name] += arrow.num_rows
        record = pa.table(
            {
                "import_id": [import_id],
                "source_format": [source_format],
                "file_name": [file_name],
                "sha256": [sha256],
                "target_table": [target_key],
                "rows": [sum(rows.values())],
                "loaded_at": [_now()],
                "status": ["loaded"],
            },
            schema=arrow_schema("imports"),
        )
        self.con.insert("imports", record.to_pandas())
        return LoadResult(import_id=import_id, rows=rows)


def _discard(raw: Any, import_id: str, target_key: str) -> None:
    """Remove every row of an unfinished import and its record."""
    for name in target_key.split(","):
        raw.execute(f"DELETE FROM {name} WHERE import_id = ?", [import_id])
    raw.execute("DELETE FROM imports WHERE import_id = ?", [import_id])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _chunks(data: Any) -> Iterable[pa.Table]:
    if isinstance(data, pa.Table | pa.RecordBatch):
        yield pa.table(data) if isinstance(data, pa.RecordBatch) else data
    elif hasattr(data, "to_records") and hasattr(data, "columns"):  # a pandas DataFrame
        yield pa.Table.from_pandas(data, preserve_index=False)
    else:
        for chunk in data:
            yield from _chunks(chunk)


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
