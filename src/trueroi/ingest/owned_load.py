"""Loading the channels' own KPI exports (e-mail, SEO, organic social) into a workspace.

:func:`import_owned` loads one file of the formats ``mailchimp``, ``brevo``, ``email``, ``search-console``,
``rankings``, ``meta-insights``, ``linkedin-pages`` and ``social`` atomically and idempotently, as
:func:`~trueroi.ingest.importer.import_file` loads the other formats: the rows are staged and committed
with their ``imports`` record in one transaction (:func:`~trueroi.workspace.load.staging`,
:func:`~trueroi.workspace.load.commit`), so a broken file changes nothing, the same file twice is skipped,
and a later export replaces the rows it repeats (the keys of :func:`~trueroi.ingest.owned.register_table`).

:meth:`~trueroi.workspace.Workspace.load` accepts only the tables listed in
``trueroi.workspace.imports.DATA_TABLES``; once that list holds the new tables, this function hands every
file to :func:`~trueroi.ingest.importer.import_file` (and ``trueroi import FORMAT FILE`` loads them too).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from trueroi.errors import UsageError, WorkspaceError
from trueroi.ingest.base import REPLACE_DAYS, REPLACE_KEYS, ImportContext
from trueroi.ingest.importer import import_file, workspace_channels
from trueroi.ingest.parse import Problems
from trueroi.ingest.registry import get_format
from trueroi.workspace import LoadResult, Workspace, file_sha256
from trueroi.workspace.imports import DATA_TABLES
from trueroi.workspace.load import commit, new_import_id, staging
from trueroi.workspace.lock import lock_dir


def import_owned(
    ws: Workspace,
    format_name: str,
    path: str | Path,
    *,
    options: dict[str, Any] | None = None,
    today: date | None = None,
    replace: bool = False,
) -> LoadResult:
    """Import one e-mail, SEO or organic-social export, atomically and idempotently.

    Parameters are those of :func:`~trueroi.ingest.importer.import_file`; ``replace`` replaces the period
    the file covers (rows loaded earlier from the same format between its first and last day).

    Raises
    ------
    DataValidationError
        When the file is broken; nothing is written then.
    UsageError
        For an unknown format or a path that is no file.
    """
    fmt = get_format(format_name)
    if set(fmt.tables) <= set(DATA_TABLES):
        return import_file(ws, format_name, path, options=options, today=today, replace=replace)
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} does not exist or is not a file")
    if not ws.is_duckdb:
        raise WorkspaceError(f"{format_name} exports load into a DuckDB warehouse only (for now)")
    ws.create_tables()  # a warehouse created before these tables existed gets them
    sha = file_sha256(path)
    target = ",".join(sorted(fmt.tables))
    previous = ws.already_loaded(sha, target)
    if previous is not None:
        return LoadResult(import_id=previous, rows=dict.fromkeys(fmt.tables, 0), skipped=True)
    options = {"known_channels": workspace_channels(ws), **dict(options or {})}
    ctx = ImportContext(ws.config, path.name, Problems(path.name), options, today)
    batches = fmt.read(path, ctx)
    import_id = new_import_id()
    record = {"import_id": import_id, "source_format": fmt.name, "file_name": path.name, "sha256": sha}
    record["target_table"] = target
    keys = {t: REPLACE_KEYS[t] for t in batches if t in REPLACE_KEYS}
    periods = {t: REPLACE_DAYS[t] for t in batches if replace and t in REPLACE_DAYS}
    ws.release()  # no lock is held while the rows are read and staged
    with staging(_staging_folder(ws), import_id) as stage:
        for table, chunks in batches.items():
            stage.append(table, chunks, import_id)
        with ws.writing(f"import of {path.name}") as raw:
            done = commit(raw, stage, {**record, "loaded_at": _now()}, keys, periods)
    if done.skipped_as is not None:
        return LoadResult(import_id=done.skipped_as, rows=done.rows, skipped=True)
    return LoadResult(
        import_id=import_id, rows=done.rows, replaced=done.replaced, warnings=tuple(ctx.problems.warnings)
    )


def _staging_folder(ws: Workspace) -> Path:
    db = ws.database_file
    return lock_dir(db) / "staging" if db is not None else ws.path / ".trueroi" / "staging"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
