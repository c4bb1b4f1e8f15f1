"""A workspace: a directory with ``trueroi.toml`` and a warehouse of canonical tables.

All reads go through Ibis, so the warehouse is whatever backend the config's URL names (embedded DuckDB by
default). On a DuckDB file, processes share the warehouse through a lock (:mod:`trueroi.workspace.lock`):
reads use a read-only connection under a shared lock, and every write (a load's commit, a state change, a
derived table) happens in :meth:`Workspace.writing`, under the exclusive lock, on a read-write connection
closed when it ends. Loads are all or nothing: rows are staged in a file of their own and committed with the
``imports`` record in one transaction (:mod:`trueroi.workspace.load`), so an unfinished load is never seen.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from trueroi.errors import NoWorkspaceError, WorkspaceError
from trueroi.workspace import imports as imports_mod
from trueroi.workspace.config import CONFIG_FILE, WorkspaceConfig
from trueroi.workspace.connection import WarehouseConnection
from trueroi.workspace.links import add_missing_columns
from trueroi.workspace.load import (
    PeriodReplace,
    RowKey,
    chunks,
    clean_staging,
    commit,
    conform,
    new_import_id,
    staging,
)
from trueroi.workspace.lock import Notify, WarehouseLock, lock_dir
from trueroi.workspace.schema import TABLES, arrow_schema, schema

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

ENV_VAR = "TRUEROI_WORKSPACE"
STRICT_ENV = "TRUEROI_STRICT"
DATA_TABLES = imports_mod.DATA_TABLES


@dataclass(frozen=True)
class LoadResult:
    """What one load did: its id, rows written per table, whether it was skipped as a repeat, how many
    rows of earlier loads it replaced (same key, or the replaced period), and the warnings of the file it
    came from (loaded anyway, e.g. a channel name no other table uses)."""

    import_id: str
    rows: dict[str, int]
    skipped: bool = False
    replaced: int = 0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkspaceChoice:
    """Which workspace directory a command uses and why.

    ``reason`` is ``"given"`` (an explicit path), ``"environment"`` (``$TRUEROI_WORKSPACE``) or ``"current
    directory"``. ``other`` is a workspace directory that was passed over: the current directory holding a
    ``trueroi.toml`` while the environment variable names another one.
    """

    path: Path
    reason: str
    other: Path | None = None

    @property
    def warning(self) -> str | None:
        """One line when the current directory is a workspace other than the one chosen, else None."""
        if self.other is None:
            return None
        return (
            f"the current directory {self.other} is a workspace, but {ENV_VAR} names {self.path}, "
            f"which is the one used"
        )


def choose_workspace(path: str | os.PathLike[str] | None = None) -> WorkspaceChoice:
    """The workspace directory: the given path, else ``$TRUEROI_WORKSPACE``, else the current directory."""
    if path is not None:
        return WorkspaceChoice(Path(path).expanduser().resolve(), "given")
    env = os.environ.get(ENV_VAR)
    if not env:
        return WorkspaceChoice(Path.cwd(), "current directory")
    chosen = Path(env).expanduser().resolve()
    here = Path.cwd().resolve()
    other = here if (here / CONFIG_FILE).exists() and here != chosen else None
    return WorkspaceChoice(chosen, "environment", other)


def resolve_path(path: str | os.PathLike[str] | None) -> Path:
    """The workspace directory: the given path, else ``$TRUEROI_WORKSPACE``, else the current directory."""
    return choose_workspace(path).path


def strict_mode() -> bool:
    """Whether ``$TRUEROI_STRICT`` asks for a passed-over workspace to be an error instead of a warning."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


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
    Ibis expressions with :meth:`table`; data enters through :meth:`load`; writes of any kind happen inside
    :meth:`writing`. A Workspace object is used by one thread at a time (open one per thread or request).

    Parameters
    ----------
    lock_timeout
        Seconds to wait for the warehouse lock (default: ``$TRUEROI_LOCK_TIMEOUT``, else 300).
    on_wait
        Called with a one-line message when a lock is busy at the first try (default: a line on stderr).
    """

    def __init__(
        self,
        path: Path,
        config: WorkspaceConfig,
        backend: Any | None = None,
        *,
        lock_timeout: float | None = None,
        on_wait: Notify | None = None,
        choice: WorkspaceChoice | None = None,
    ) -> None:
        self.path = Path(path)
        self.config = config
        self.choice = choice or WorkspaceChoice(self.path, "given")
        self._con = backend
        self._warehouse: WarehouseConnection | None = None
        self._lock_timeout = lock_timeout
        self._on_wait = on_wait
        self.written = False

    # -- lifecycle -------------------------------------------------------------------------------------
    @classmethod
    def init(
        cls, path: str | os.PathLike[str], config: WorkspaceConfig | None = None, **options: Any
    ) -> Workspace:
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
        ws = cls(directory, config, **options)
        ws.create_tables()
        config.save(directory)
        return ws

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        strict: bool | None = None,
        lock_timeout: float | None = None,
        on_wait: Notify | None = None,
    ) -> Workspace:
        """Open the workspace at ``path`` (see :func:`choose_workspace`).

        Parameters
        ----------
        strict
            Refuse to open the workspace ``$TRUEROI_WORKSPACE`` names while the current directory is another
            workspace (default: ``$TRUEROI_STRICT``). Otherwise :attr:`choice` carries a warning.

        Raises
        ------
        NoWorkspaceError
            When the directory holds no ``trueroi.toml``.
        WorkspaceError
            In strict mode, when the current directory is a workspace other than the chosen one.
        """
        choice = choose_workspace(path)
        if choice.other is not None and (strict_mode() if strict is None else strict):
            raise WorkspaceError(f"{choice.warning}; strict mode refuses to choose between them")
        directory = choice.path
        if not (directory / CONFIG_FILE).exists():
            raise NoWorkspaceError(
                f"{directory} is not a trueroi workspace (no {CONFIG_FILE}); "
                "initialise a workspace there or choose another workspace directory",
                directory=str(directory),
            )
        ws = cls(
            directory,
            WorkspaceConfig.load(directory),
            lock_timeout=lock_timeout,
            on_wait=on_wait,
            choice=choice,
        )
        if (db := ws.database_file) is not None:
            clean_staging(lock_dir(db) / "staging")
        return ws

    @classmethod
    def from_backend(cls, backend: Any, config: WorkspaceConfig | None = None) -> Workspace:
        """Wrap an already connected Ibis backend holding the canonical tables (Spark, Postgres, ...)."""
        return cls(Path("."), config or WorkspaceConfig(), backend=backend)

    @property
    def con(self) -> Any:
        """The Ibis backend, connected on first use (read-only on a DuckDB file; see :meth:`writing`)."""
        if self._con is None:
            db = self.database_file
            if db is not None:
                lock = WarehouseLock(
                    db, label=str(self.path), timeout=self._lock_timeout, on_wait=self._on_wait
                )
                self._warehouse = WarehouseConnection(db, lock)
                self._con = ibis.duckdb.from_connection(self._warehouse)
            else:
                self._con = ibis.connect(self.backend_url)
                if getattr(self._con, "name", "") == "duckdb":
                    self._con.raw_sql("SET enable_progress_bar = false")
        return self._con

    @property
    def backend_url(self) -> str:
        url = self.config.backend_url
        if url.startswith("duckdb://"):
            target = url.removeprefix("duckdb://")
            if target and target != ":memory:" and not Path(target).is_absolute():
                return f"duckdb://{self.path / target}"
        return url

    @property
    def database_file(self) -> Path | None:
        """The DuckDB warehouse file, or None for another backend (or DuckDB in memory)."""
        if self._con is not None and self._warehouse is None:
            return None
        url = self.backend_url
        if not url.startswith("duckdb://"):
            return None
        target = url.removeprefix("duckdb://").split("?", 1)[0]
        if not target or target == ":memory:" or target.startswith(("md:", "motherduck:")):
            return None
        return Path(target)

    @property
    def is_duckdb(self) -> bool:
        return getattr(self.con, "name", "") == "duckdb"

    @contextlib.contextmanager
    def writing(self, doing: str = "a write") -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the warehouse's write lock and a read-write DuckDB connection for the block.

        Yields the raw DuckDB connection; Ibis expressions of this workspace run on it too during the block.
        Blocks nest. Other processes' reads and writes wait until the block ends; this one waits (up to the
        lock timeout) for them to close the warehouse first. ``doing`` names the write in their messages.

        Raises
        ------
        WorkspaceBusyError
            When the lock is not had within the timeout.
        WorkspaceError
            On a backend other than DuckDB (its writes go through Ibis directly).
        """
        self.con  # noqa: B018 - connect on first use
        if self._warehouse is not None:
            with self._warehouse.writing(doing) as raw:
                yield raw
            self.written = True
        elif self.is_duckdb:  # DuckDB in memory: one connection, nobody else to wait for
            yield self.con.con
            self.written = True
        else:
            raise WorkspaceError(f"writing needs a DuckDB warehouse; this workspace uses {self.con.name}")

    @contextlib.contextmanager
    def try_writing(self, doing: str = "a write") -> Iterator[duckdb.DuckDBPyConnection | None]:
        """Like :meth:`writing`, but yields None at once (without waiting) when the warehouse is in use."""
        self.con  # noqa: B018 - connect on first use
        if self._warehouse is None:
            with self.writing(doing) as raw:
                yield raw
            return
        with self._warehouse.try_writing(doing) as raw:
            yield raw
        if raw is not None:
            self.written = True

    def release(self) -> None:
        """Close the warehouse connection and drop its lock now (the next use opens it again)."""
        if self._warehouse is not None:
            self._warehouse.release()

    def close(self) -> None:
        if self._con is not None:
            disconnect = getattr(self._con, "disconnect", None)
            if disconnect is not None:
                disconnect()
            if self._warehouse is not None:
                self._warehouse.lock.close()
            self._con = self._warehouse = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create_tables(self) -> None:
        """Create every canonical table that does not exist yet."""
        if self.database_file is None and not self.is_duckdb:
            existing = set(self.con.list_tables())
            for name in TABLES:
                if name not in existing:
                    self.con.create_table(name, schema=schema(name))
            return
        with self.writing("creation of the canonical tables") as raw:
            existing = set(self.con.list_tables())
            for name in TABLES:
                if name not in existing:
                    self.con.create_table(name, schema=schema(name))
            add_missing_columns(raw)  # a warehouse made by an older version gets the columns added since

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

    # -- imports ---------------------------------------------------------------------------------------
    def imports(self, *, count_rows: bool = True) -> imports_mod.ImportList:
        """Every import of the workspace (id, format, file, hash, tables, rows, time, status), oldest first.

        ``count_rows`` adds the rows each import still has in the tables (a count over every data table).
        """
        return imports_mod.list_imports(self, count_rows=count_rows)

    def remove_import(self, import_id: str) -> imports_mod.RemovedImport:
        """Delete one import (its id, or a unique prefix of at least 4 characters) with every row it loaded.

        One transaction: the rows in every table it loaded, its ``imports`` record, and the derived tables'
        validity (they are rebuilt on next use). Rows it had replaced in earlier imports are not restored.

        Raises
        ------
        UnknownImportError
            When no import has this id.
        """
        return imports_mod.remove_import(self, import_id)

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
        replace_on: dict[str, RowKey | list[str]] | None = None,
        replace_days: dict[str, PeriodReplace | str] | None = None,
    ) -> LoadResult:
        """Load rows into one or more canonical tables, all or nothing.

        Parameters
        ----------
        batches
            Table name to rows: an Arrow table, a DataFrame or an iterable of Arrow tables (streamed). Missing
            optional columns are added as nulls; ``import_id`` is set here.
        source_format, file_name, sha256
            Recorded in ``imports``; a file whose hash was loaded before into the same tables is skipped.
        replace_on
            Table name to its row key (:class:`~trueroi.workspace.load.RowKey` or key columns): existing
            rows whose key appears in the new rows are replaced (an upsert).
        replace_days
            Table name to its day column (or a :class:`~trueroi.workspace.load.PeriodReplace`): rows loaded
            earlier from the same ``source_format`` in the period the new rows cover (first to last day) are
            removed first. Only when a period replacement is asked for.

        Raises
        ------
        DataValidationError
            When a value cannot be read as its column's type; nothing is written then.
        WorkspaceBusyError
            When the commit does not get the write lock within the lock timeout (nothing is written).
        """
        targets = list(batches)
        for name in targets:
            if name not in DATA_TABLES:
                raise WorkspaceError(f"cannot load into {name!r}; loadable tables: {', '.join(DATA_TABLES)}")
        if not set(targets) <= set(self.con.list_tables()):
            self.create_tables()  # a warehouse made before the table existed gets it
        target_key = ",".join(sorted(targets))
        previous = self.already_loaded(sha256, target_key)
        if previous is not None:
            return LoadResult(import_id=previous, rows=dict.fromkeys(targets, 0), skipped=True)
        import_id = new_import_id()
        if not self.is_duckdb:
            return self._load_generic(batches, import_id, source_format, file_name, sha256, target_key)
        keys = {n: RowKey.of(k) for n, k in (replace_on or {}).items() if k and n in batches}
        periods = {n: PeriodReplace.of(d) for n, d in (replace_days or {}).items() if n in batches}
        record = {
            "import_id": import_id,
            "source_format": source_format,
            "file_name": file_name,
            "sha256": sha256,
            "target_table": target_key,
        }
        self.release()  # no lock is held while the rows are read and staged
        with staging(self._staging_folder(), import_id) as stage:
            for name, data in batches.items():
                stage.append(name, data, import_id)
            with self.writing(f"import of {file_name}") as raw:
                done = commit(raw, stage, {**record, "loaded_at": _now()}, keys, periods)
        if done.skipped_as is not None:
            return LoadResult(import_id=done.skipped_as, rows=done.rows, skipped=True)
        return LoadResult(import_id=import_id, rows=done.rows, replaced=done.replaced)

    def _staging_folder(self) -> Path:
        db = self.database_file
        if db is not None:
            return lock_dir(db) / "staging"
        return self.path / ".trueroi" / "staging"  # DuckDB in memory: beside the workspace's config

    def _load_generic(self, batches, import_id, source_format, file_name, sha256, target_key) -> LoadResult:
        """Load through Ibis ``insert`` on backends without our transaction path (not atomic)."""
        rows = {}
        for name, data in batches.items():
            rows[name] = 0
            for chunk in chunks(data):
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


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
