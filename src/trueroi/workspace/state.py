"""Small workspace tables that hold what users declare rather than import: goals, budgets, alert rules.

These are not canonical data tables (``trueroi.workspace.schema``): they are created on first use and hold a
few hundred rows at most. Every change is one transaction under the warehouse's write lock: on DuckDB the
new content replaces the old with ``DELETE`` and ``INSERT`` (or, when the stored columns differ from the
declared ones, ``DROP`` and ``CREATE``) between ``BEGIN`` and ``COMMIT``, so a process killed at any moment
leaves the table with either its old or its new content, never without it. A change that reads first
(:meth:`StateTable.upsert`, :meth:`StateTable.delete`) reads under the same lock, so two processes changing
the same table at once both keep their change. Other Ibis backends rewrite the table through Ibis.

>>> GOALS = StateTable("goals", {"name": "string", "target": "float64"}, key=("name",))
>>> GOALS.upsert(ws, [{"name": "subscribers", "target": 1000.0}])     # doctest: +SKIP
>>> GOALS.read(ws)                                                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd
import pyarrow as pa
from ibis.backends.sql.datatypes import DuckDBType

if TYPE_CHECKING:
    from trueroi.workspace.core import Workspace


@dataclass(frozen=True)
class StateTable:
    """A declared table: its name, Ibis column types and the columns that identify a row."""

    name: str
    columns: Mapping[str, str]
    key: tuple[str, ...] = ()

    def schema(self) -> ibis.Schema:
        return ibis.schema(dict(self.columns))

    def ensure(self, ws: Workspace) -> None:
        """Create the table in the workspace backend if it does not exist yet."""
        if self.name in set(ws.con.list_tables()):
            return
        if not ws.is_duckdb:
            ws.con.create_table(self.name, schema=self.schema())
            return
        with ws.writing(f"creation of table {self.name}") as raw:
            raw.execute(f"CREATE TABLE IF NOT EXISTS {self.name} ({self._column_defs()})")

    def records(self, ws: Workspace) -> list[dict[str, Any]]:
        """All rows as dicts of Python values (``date``, ``datetime``, ``None`` for nulls)."""
        if self.name not in set(ws.con.list_tables()):
            return []
        return ws.con.table(self.name).select(*self.columns).to_pyarrow().to_pylist()

    def read(self, ws: Workspace) -> pd.DataFrame:
        """All rows, as a DataFrame with exactly :attr:`columns` (empty when the table does not exist)."""
        return self._arrow(self.records(ws)).to_pandas()

    def write(self, ws: Workspace, rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> None:
        """Replace the whole table by ``rows``, in one transaction."""
        with self._writing(ws):
            self._replace(ws, _rows(rows))

    def upsert(self, ws: Workspace, rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> None:
        """Insert ``rows``, replacing existing rows with the same :attr:`key` (one transaction)."""
        new = _rows(rows)
        keys = {tuple(r.get(k) for k in self.key) for r in new} if self.key else set()
        with self._writing(ws):
            old = [r for r in self.records(ws) if not self.key or tuple(r[k] for k in self.key) not in keys]
            self._replace(ws, old + new)

    def delete(self, ws: Workspace, **equals: Any) -> int:
        """Delete the rows whose columns equal the given values; returns how many were deleted."""
        with self._writing(ws):
            old = self.records(ws)
            keep = [r for r in old if any(r[c] != v for c, v in equals.items())]
            if len(keep) < len(old):
                self._replace(ws, keep)
        return len(old) - len(keep)

    # -- helpers -----------------------------------------------------------------------------------------
    @contextmanager
    def _writing(self, ws: Workspace) -> Iterator[None]:
        """The write lock around a read-then-write change (no lock on backends other than DuckDB)."""
        with ws.writing(f"change of {self.name}") if ws.is_duckdb else nullcontext():
            yield

    def _replace(self, ws: Workspace, rows: list[dict[str, Any]]) -> None:
        data = self._arrow(rows)
        if not ws.is_duckdb:
            ws.con.create_table(self.name, data, overwrite=True)
            return
        with ws.writing(f"change of {self.name}") as raw:
            same = self._stored_columns(raw) == self._declared_columns(raw)
            raw.register("_state_rows", data)
            try:
                raw.execute("BEGIN TRANSACTION")
                try:
                    if same:
                        raw.execute(f"DELETE FROM {self.name}")
                    else:
                        raw.execute(f"DROP TABLE IF EXISTS {self.name}")
                        raw.execute(f"CREATE TABLE {self.name} ({self._column_defs()})")
                    cols = ", ".join(f'"{c}"' for c in self.columns)
                    raw.execute(f"INSERT INTO {self.name} ({cols}) SELECT {cols} FROM _state_rows")
                    raw.execute("COMMIT")
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
            finally:
                raw.unregister("_state_rows")

    def _stored_columns(self, raw: Any) -> list[tuple[str, str]]:
        return [
            (str(name), str(kind))
            for name, kind in raw.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                "AND database_name = current_database() AND schema_name = 'main' ORDER BY column_index",
                [self.name],
            ).fetchall()
        ]

    def _declared_columns(self, raw: Any) -> list[tuple[str, str]]:
        """The declared columns with the type names DuckDB reports for them (``TEXT`` is ``VARCHAR``)."""
        types = self._duckdb_types()
        casts = ", ".join(f"typeof(CAST(NULL AS {t}))" for _, t in types)
        names = raw.execute(f"SELECT {casts}").fetchone()
        return [(c, str(n)) for (c, _), n in zip(types, names, strict=True)]

    def _duckdb_types(self) -> list[tuple[str, str]]:
        return [(c, DuckDBType.to_string(t)) for c, t in self.schema().items()]

    def _column_defs(self) -> str:
        return ", ".join(f'"{c}" {t}' for c, t in self._duckdb_types())

    def _arrow(self, rows: list[dict[str, Any]]) -> pa.Table:
        schema = self.schema().to_pyarrow()
        return pa.Table.from_pylist([{c: r.get(c) for c in self.columns} for r in rows], schema=schema)


def _rows(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(rows, pd.DataFrame):
        frame = rows.astype(object).where(rows.notna(), None)
        return [dict(r) for r in frame.to_dict(orient="records")]
    return [dict(r) for r in rows]
