"""Small workspace tables that hold what users declare rather than import: goals, budgets, alert rules.

These are not canonical data tables (``trueroi.workspace.schema``): they are created on first use, hold a
few hundred rows at most, and are rewritten whole on every change, which works the same on every Ibis
backend (DuckDB, Postgres, Spark, ...) without backend-specific ``DELETE``/``UPDATE`` statements.

>>> GOALS = StateTable("goals", {"name": "string", "target": "float64"}, key=("name",))
>>> GOALS.upsert(ws, [{"name": "subscribers", "target": 1000.0}])     # doctest: +SKIP
>>> GOALS.read(ws)                                                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from trueroi.workspace.core import Workspace


@dataclass(frozen=True)
class StateTable:
    """A declared table: its name, Ibis column types and the columns that identify a row."""

    name: str
    columns: Mapping[str, str]
    key: tuple[str, ...] = ()

    def schema(self) -> Any:
        import ibis

        return ibis.schema(dict(self.columns))

    def ensure(self, ws: Workspace) -> None:
        """Create the table in the workspace backend if it does not exist yet."""
        if self.name not in set(ws.con.list_tables()):
            ws.con.create_table(self.name, schema=self.schema())

    def records(self, ws: Workspace) -> list[dict[str, Any]]:
        """All rows as dicts of Python values (``date``, ``datetime``, ``None`` for nulls)."""
        if self.name not in set(ws.con.list_tables()):
            return []
        return ws.con.table(self.name).select(*self.columns).to_pyarrow().to_pylist()

    def read(self, ws: Workspace) -> pd.DataFrame:
        """All rows, as a DataFrame with exactly :attr:`columns` (empty when the table does not exist)."""
        return self._arrow(self.records(ws)).to_pandas()

    def write(self, ws: Workspace, rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> None:
        """Replace the whole table by ``rows``."""
        ws.con.create_table(self.name, self._arrow(_rows(rows)), overwrite=True)

    def upsert(self, ws: Workspace, rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> None:
        """Insert ``rows``, replacing existing rows with the same :attr:`key`."""
        new = _rows(rows)
        keys = {tuple(r.get(k) for k in self.key) for r in new} if self.key else set()
        old = [r for r in self.records(ws) if not self.key or tuple(r[k] for k in self.key) not in keys]
        self.write(ws, old + new)

    def delete(self, ws: Workspace, **equals: Any) -> int:
        """Delete the rows whose columns equal the given values; returns how many were deleted."""
        old = self.records(ws)
        keep = [r for r in old if any(r[c] != v for c, v in equals.items())]
        if len(keep) < len(old):
            self.write(ws, keep)
        return len(old) - len(keep)

    def _arrow(self, rows: list[dict[str, Any]]) -> Any:
        import pyarrow as pa

        schema = self.schema().to_pyarrow()
        return pa.Table.from_pylist([{c: r.get(c) for c in self.columns} for r in rows], schema=schema)


def _rows(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(rows, pd.DataFrame):
        frame = rows.astype(object).where(rows.notna(), None)
        return [dict(r) for r in frame.to_dict(orient="records")]
    return [dict(r) for r in rows]
