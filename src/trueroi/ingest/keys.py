"""Keys that must be unique within one file: the same order id twice would double its revenue.

:class:`UniqueKeys` remembers a 64-bit hash (DuckDB's ``hash``) and the row of every key it has seen in a
file, chunk by chunk, in sorted runs merged as they grow (16 bytes a row: 10 million orders take 160 MB), and
records each row whose key an earlier row of the file already had, naming both rows. Two different keys share
a hash with a probability of about n²/2⁶⁵ (3 in a million for 10 million rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import numpy as np
import pyarrow as pa

from trueroi.ingest.problems import Problems

NAMED = 20  # duplicates reported with the row they repeat; the rest are counted


class UniqueKeys:
    """Refuses a second row with the same key within one file.

    Parameters
    ----------
    columns
        The key's columns; those absent from a chunk are left out of the key.
    column
        The column a problem names (default: the last key column present, the most specific one).
    """

    def __init__(self, columns: Sequence[str], column: str | None = None) -> None:
        self.columns = list(columns)
        self.column = column
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted hashes, their rows)
        self.reported = 0

    def check(self, cols: Mapping[str, pa.Array], problems: Problems, offset: int, n: int) -> None:
        """Record the rows of this chunk (1-based data rows after ``offset``) whose key was seen before."""
        present = [c for c in self.columns if c in cols]
        if not present or n == 0:
            return
        keys = pa.table({c: _array(cols[c]) for c in present})
        hashes = _hashes(keys)
        rows = np.arange(offset + 1, offset + 1 + n, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")
        h, r = hashes[order], rows[order]
        repeat = np.zeros(len(h), dtype=bool)
        repeat[1:] = h[1:] == h[:-1]
        first = np.maximum.accumulate(np.where(repeat, 0, np.arange(len(h))))  # start of each run of equals
        earlier = np.where(repeat, r[first], 0)
        for run_h, run_r in self.runs:
            at = np.clip(np.searchsorted(run_h, h), 0, len(run_h) - 1)
            hit = run_h[at] == h
            earlier = np.where(hit & ((earlier == 0) | (run_r[at] < earlier)), run_r[at], earlier)
        dup = earlier > 0
        if dup.any():
            self._report(keys, present, r[dup], earlier[dup], offset, problems)
        keep = ~repeat
        self._add(h[keep], r[keep])

    def _report(
        self,
        keys: pa.Table,
        present: list[str],
        rows: np.ndarray,
        firsts: np.ndarray,
        offset: int,
        problems: Problems,
    ) -> None:
        what = present[0] if len(present) == 1 else "key (" + ", ".join(present) + ")"
        order = np.argsort(rows)
        rows, firsts = rows[order], firsts[order]
        named = max(NAMED - self.reported, 0)
        named_keys = keys.take(pa.array(rows[:named] - offset - 1)).to_pylist()
        for row, first, key in zip(rows[:named].tolist(), firsts[:named].tolist(), named_keys, strict=True):
            key = " / ".join(str(v) for v in key.values())
            message = f"repeats the {what} of row {first}; expected each {what} once in a file"
            problems.add(message, row=row, column=self.column or present[-1], value=key)
        self.reported += len(rows)
        if len(rows) > named:
            mask = np.zeros(keys.num_rows, dtype=bool)
            mask[rows[named:] - offset - 1] = True
            shown = keys[present[-1]].combine_chunks()
            message = f"repeats the {what} of an earlier row; expected each {what} once in a file"
            problems.add_mask(mask, shown, offset, self.column or present[-1], message)

    def _add(self, h: np.ndarray, r: np.ndarray) -> None:
        self.runs.append((h, r))
        while len(self.runs) > 1 and len(self.runs[-1][0]) * 2 >= len(self.runs[-2][0]):
            (h2, r2), (h1, r1) = self.runs.pop(), self.runs.pop()
            h, r = np.concatenate([h1, h2]), np.concatenate([r1, r2])
            order = np.argsort(h, kind="stable")  # two sorted runs: timsort merges them in linear time
            self.runs.append((h[order], r[order]))


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _hashes(keys: pa.Table) -> np.ndarray:
    """DuckDB's 64-bit ``hash`` of each row's key values (vectorised; nulls hash alike)."""
    con = _connection()
    con.register("_keys", keys)
    try:
        names = ", ".join(f'"{c}"' for c in keys.column_names)
        result = con.execute(f"SELECT hash({names}) AS h FROM _keys").fetchnumpy()
    finally:
        con.unregister("_keys")
    return np.asarray(result["h"], dtype=np.uint64)


_CONNECTION: list[duckdb.DuckDBPyConnection] = []


def _connection() -> duckdb.DuckDBPyConnection:
    if not _CONNECTION:
        _CONNECTION.append(duckdb.connect())
    return _CONNECTION[0]
