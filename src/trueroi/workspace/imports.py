"""The imports of a workspace: listing them, and removing one with every row it loaded.

Each load records one row in ``imports`` (:mod:`trueroi.workspace.schema`) and tags every row it writes with
its ``import_id``. :func:`list_imports` reads that record together with how many of each import's rows are
still in the tables (rows a later load replaced by key are gone). :func:`remove_import` deletes one import's
rows from every table it loaded and its record in one transaction, and invalidates the derived tables, so
every later report is computed without it. Rows the removed import had replaced in earlier imports are not
brought back (they were deleted when it loaded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.workspace.derived import invalidate
from trueroi.workspace.links import LINK_TABLES, link_orders
from trueroi.workspace.schema import TABLES

if TYPE_CHECKING:
    from trueroi.workspace.core import Workspace

DATA_TABLES = ("ad_performance", "touchpoints", "orders", "conversions", "costs", "fx_rates")
# Tables added after the first warehouses were made: created when a load first needs them.
DATA_TABLES += ("partner_transactions", "email_campaigns", "search_console", "rankings", "social_posts")
#: How many leading characters of an import id identify it when they are unique (ids have 16).
MIN_PREFIX = 4


class UnknownImportError(UsageError):
    """No import of the workspace has the given id (or the prefix fits several)."""


@dataclass(frozen=True)
class ImportRecord:
    """One load: its id, format, file, content hash, tables, rows loaded and still present, time, status."""

    import_id: str
    format: str
    file: str
    sha256: str
    tables: list[str]
    rows: int
    rows_present: int | None
    loaded_at: datetime
    status: str

    def to_dict(self) -> dict[str, Any]:
        """``{import_id, format, file, sha256, tables, rows, rows_present, loaded_at (ISO, UTC), status}``."""
        return jsonable(
            {
                "import_id": self.import_id,
                "format": self.format,
                "file": self.file,
                "sha256": self.sha256,
                "tables": self.tables,
                "rows": self.rows,
                "rows_present": self.rows_present,
                "loaded_at": self.loaded_at,
                "status": self.status,
            }
        )


@dataclass(frozen=True)
class ImportList:
    """Every import of a workspace, oldest first."""

    imports: list[ImportRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """``{"imports": [ImportRecord.to_dict() ...]}``."""
        return {"imports": [r.to_dict() for r in self.imports]}

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows for CSV: tables joined by ``;``."""
        return [{**r.to_dict(), "tables": ";".join(r.tables)} for r in self.imports]


@dataclass(frozen=True)
class RemovedImport:
    """What removing an import did: its id, format and file, and the rows deleted per table."""

    import_id: str
    format: str
    file: str
    rows: dict[str, int]

    @property
    def removed(self) -> int:
        """Rows deleted in all tables together."""
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        """``{import_id, format, file, rows: {table: deleted}, removed}``."""
        return {
            "import_id": self.import_id,
            "format": self.format,
            "file": self.file,
            "rows": dict(self.rows),
            "removed": self.removed,
        }


def list_imports(ws: Workspace, *, count_rows: bool = True) -> ImportList:
    """Every import recorded in the workspace, oldest first.

    With ``count_rows``, each record also holds how many of its rows are still in the tables (one count of
    every data table by import: 0.1-0.2 s at 10 M touchpoints); without it ``rows_present`` is None.
    """
    imports = ws.table("imports").order_by(["loaded_at", "import_id"]).execute()
    present = _present(ws) if count_rows and ws.is_duckdb else None
    records = [
        ImportRecord(
            import_id=str(r.import_id),
            format=str(r.source_format),
            file=str(r.file_name),
            sha256=str(r.sha256),
            tables=str(r.target_table).split(","),
            rows=int(r.rows),
            rows_present=None if present is None else int(present.get(str(r.import_id), 0)),
            loaded_at=r.loaded_at.to_pydatetime() if hasattr(r.loaded_at, "to_pydatetime") else r.loaded_at,
            status=str(r.status),
        )
        for r in imports.itertuples(index=False)
    ]
    return ImportList(records)


def _present(ws: Workspace) -> dict[str, int]:
    existing = set(ws.con.list_tables())
    union = " UNION ALL ".join(
        f"SELECT import_id, count(*) AS n FROM {t} GROUP BY import_id" for t in DATA_TABLES if t in existing
    )
    rows = ws.con.con.execute(f"SELECT import_id, sum(n) FROM ({union}) GROUP BY import_id").fetchall()
    return {str(i): int(n) for i, n in rows}


def find_import(raw: Any, import_id: str, workspace: str) -> tuple[str, str, str, str]:
    """``(import_id, source_format, file_name, target_table)`` of the import with this id or unique prefix.

    Raises
    ------
    UnknownImportError
        When no import has this id, or a prefix (at least :data:`MIN_PREFIX` characters) fits several.
    """
    wanted = import_id.strip()
    exact = raw.execute(
        "SELECT import_id, source_format, file_name, target_table FROM imports WHERE import_id = ?", [wanted]
    ).fetchall()
    if exact:
        return tuple(exact[0])
    fits = []
    if len(wanted) >= MIN_PREFIX:
        fits = raw.execute(
            "SELECT import_id, source_format, file_name, target_table FROM imports "
            "WHERE starts_with(import_id, ?) ORDER BY import_id",
            [wanted],
        ).fetchall()
    if len(fits) == 1:
        return tuple(fits[0])
    if len(fits) > 1:
        raise UnknownImportError(
            f"import id {wanted!r} fits {len(fits)} imports of workspace {workspace} "
            f"({', '.join(f[0] for f in fits[:5])}); give more of the id"
        )
    raise UnknownImportError(
        f"no import with id {wanted!r} in workspace {workspace}; the workspace's import list names them"
    )


def remove_import(ws: Workspace, import_id: str) -> RemovedImport:
    """Delete one import's rows from every table it loaded and its record, in one transaction.

    Derived tables are invalidated in the same transaction (rebuilt on their next use).

    Raises
    ------
    UnknownImportError
        When no import has this id (or a unique prefix of it).
    """
    with ws.writing(f"removal of import {import_id}") as raw:
        found_id, fmt, file_name, target = find_import(raw, import_id, str(ws.path))
        tables = [t for t in str(target).split(",") if t in TABLES]
        raw.execute("BEGIN TRANSACTION")
        try:
            rows = {
                t: int(raw.execute(f"DELETE FROM {t} WHERE import_id = ?", [found_id]).fetchone()[0])
                for t in tables
            }
            raw.execute("DELETE FROM imports WHERE import_id = ?", [found_id])
            if set(tables) & set(LINK_TABLES):
                link_orders(raw)  # orders that took their user from a removed purchase lose it again
            invalidate(raw)
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
    return RemovedImport(import_id=found_id, format=str(fmt), file=str(file_name), rows=rows)
