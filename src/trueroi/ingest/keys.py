"""Keys that must be unique within one file: the same order id twice would double its revenue.

:class:`UniqueKeys` remembers a 64-bit hash and the row of every key it has seen in a file, chunk by chunk,
in sorted runs that are merged as they grow (16 bytes a row: 10 million orders take 160 MB), and records
each row whose key an earlier row of the file already had, naming both rows. Two different keys share a hash
with a probability of about n²/2⁶⁵ (3 in a million for 10 million rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
        frame = pd.DataFrame({c: _plain(cols[c]) for c in present})
        hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
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
            self._report(frame, present, r[dup], earlier[dup], offset, problems)
        keep = ~repeat
        self._add(h[keep], r[keep])

    def _report(
        self,
        frame: pd.DataFrame,
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
        for row, first in zip(rows[:named].tolist(), firsts[:named].tolist(), strict=True):
            key = " / ".join(str(v) for v in frame.iloc[row - offset - 1].tolist())
            message = f"repeats the {what} of row {first}; expected each {what} once in a file"
            problems.add(message, row=row, column=self.column or present[-1], value=key)
        self.reported += len(rows)
        if len(rows) > named:
            mask = np.zeros(len(frame), dtype=bool)
            mask[rows[named:] - offset - 1] = True
            shown = pa.array(frame[present[-1]].to_numpy(), pa.string())
            message = f"repeats the {what} of an earlier row; expected each {what} once in a file"
            problems.add_mask(mask, shown, offset, self.column or present[-1], message)

    def _add(self, h: np.ndarray, r: np.ndarray) -> None:
        self.runs.append((h, r))
        while len(self.runs) > 1 and len(self.runs[-1][0]) * 2 >= len(self.runs[-2][0]):
            (h2, r2), (h1, r1) = self.runs.pop(), self.runs.pop()
            h, r = np.concatenate([h1, h2]), np.concatenate([r1, r2])
            order = np.argsort(h, kind="stable")  # two sorted runs: timsort merges them in linear time
            self.runs.append((h[order], r[order]))


def _plain(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return np.asarray(values.to_pandas(), dtype=object)
    return np.asarray(pc.cast(values, pa.string()).to_pandas(), dtype=object)
