"""Network transaction reports into the warehouse (``partner_transactions``), atomically and idempotently.

The reports are read by the ingest formats ``awin``, ``cj`` and ``network`` (:mod:`trueroi.ingest.networks`:
streaming, one error naming file, row and column). They are loaded here rather than through
:meth:`~trueroi.workspace.Workspace.load`, which accepts only the tables listed in
``trueroi.workspace.imports.DATA_TABLES``: the rows are staged and committed with their ``imports`` record in
one transaction by the same functions (:func:`~trueroi.workspace.load.staging`,
:func:`~trueroi.workspace.load.commit`), so a broken report changes nothing, the same file twice is skipped,
and a later report replaces the transactions it repeats (same network and transaction id: updated
statuses). Once ``DATA_TABLES`` lists ``partner_transactions``, ``trueroi import awin FILE`` does the same.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from trueroi.errors import UsageError, WorkspaceError
from trueroi.ingest import detect_format, get_format
from trueroi.ingest.base import ImportContext
from trueroi.ingest.parse import Problems
from trueroi.workspace import RowKey, Workspace, file_sha256
from trueroi.workspace.load import commit, new_import_id, staging
from trueroi.workspace.lock import lock_dir

TABLE = "partner_transactions"
NETWORK_FORMATS = ("awin", "cj", "network")
KEY = RowKey(("network", "transaction_id"))


@dataclass
class TransactionImports:
    """What importing network reports did, file by file."""

    imports: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """``{"imports": [{"file", "format", "import_id", "rows", "replaced", "skipped"} ...]}``."""
        return {"imports": self.imports}


def _format_of(path: Path, format_name: str) -> str:
    name = detect_format(path) if format_name == "auto" else get_format(format_name).name
    if name not in NETWORK_FORMATS:
        raise UsageError(
            f"{path.name} is a {name} file, not a network transaction report "
            f"({', '.join(NETWORK_FORMATS)}); import it with the import command"
        )
    return name


def _staging_folder(ws: Workspace) -> Path:
    db = ws.database_file
    return lock_dir(db) / "staging" if db is not None else ws.path / ".trueroi" / "staging"


def import_report(
    ws: Workspace,
    path: str | os.PathLike[str],
    format_name: str = "auto",
    *,
    currency: str | None = None,
    network: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Load one network report (``format_name``: ``awin``, ``cj``, ``network`` or ``auto``).

    ``currency`` names the currency of reports that do not (default: the base currency); ``network`` the
    network of a generic report without a ``network`` column.

    Raises
    ------
    DataValidationError
        When the report is broken; nothing is written then.
    UsageError
        When the file is missing or is not a network report.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} does not exist or is not a file")
    name = _format_of(path, format_name)
    if not ws.is_duckdb:
        raise WorkspaceError("network reports load into a DuckDB warehouse only (for now)")
    ws.create_tables()  # a warehouse created before partner_transactions existed gets the table
    sha = file_sha256(path)
    entry = {"file": str(path), "format": name}
    previous = ws.already_loaded(sha, TABLE)
    if previous is not None:
        return {**entry, "import_id": previous, "rows": 0, "replaced": 0, "skipped": True}
    options = {k: v for k, v in (("currency", currency), ("network", network)) if v}
    ctx = ImportContext(ws.config, path.name, Problems(path.name), options, today)
    batches = get_format(name).read(path, ctx)
    import_id = new_import_id()
    record = {"import_id": import_id, "source_format": name, "file_name": path.name, "sha256": sha}
    record["target_table"] = TABLE
    ws.release()  # no lock is held while the rows are read and staged
    with staging(_staging_folder(ws), import_id) as stage:
        stage.append(TABLE, batches[TABLE], import_id)
        with ws.writing(f"import of {path.name}") as raw:
            done = commit(raw, stage, {**record, "loaded_at": _now()}, {TABLE: KEY}, {})
    if done.skipped_as is not None:
        return {**entry, "import_id": done.skipped_as, "rows": 0, "replaced": 0, "skipped": True}
    rows = int(done.rows.get(TABLE, 0))
    return {**entry, "import_id": import_id, "rows": rows, "replaced": done.replaced, "skipped": False}


def import_transactions(
    ws: Workspace,
    paths: Sequence[str | os.PathLike[str]],
    format_name: str = "auto",
    *,
    currency: str | None = None,
    network: str | None = None,
) -> TransactionImports:
    """Load network reports one after the other (see :func:`import_report`); a broken file stops the batch
    with its error, leaving the files loaded before it in place."""
    if not paths:
        raise UsageError("no network report given")
    done = TransactionImports()
    for path in paths:
        done.imports.append(import_report(ws, path, format_name, currency=currency, network=network))
    return done


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
