"""What an importer learns about one file while it reads it: every bad value with its row and column, the
warnings it should pass on, and how the file writes its numbers.

:class:`Problems` collects the bad values of a file and raises them as one :class:`ImportValidationError`:
the first problem, the total, and the rest grouped by column and message (``the same in rows 2, 3, 4, 5, 6
and 13 more``), so a quarter's worth of the same mistake is one line, not nineteen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError

LOG = logging.getLogger("trueroi.ingest")
SHOWN_ROWS = 5  # rows named per group of equal problems
SHOWN_CHARS = 60  # characters of a value shown in a message

Problem = tuple[int | None, str | None, Any, str]  # row, column, value, message


def shown(value: Any) -> Any:
    """A value as a message shows it: days and times as ISO text, long text cut to :data:`SHOWN_CHARS`."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return value[:SHOWN_CHARS] + f"... ({len(value):,} characters)"
    return value


@dataclass
class _Group:
    """Problems sharing a column and a message: how many, and the first rows and values."""

    column: str | None
    message: str
    count: int = 0
    rows: list[int | None] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def add(self, row: int | None, value: Any) -> None:
        self.count += 1
        if len(self.rows) <= SHOWN_ROWS:
            self.rows.append(row)
            self.values.append(value)


class ImportValidationError(DataValidationError):
    """A file holds one or more bad values.

    The error's file, row, column and value are those of the first problem (by row); the message adds how
    many there are and lists the others grouped by column and message. ``problems`` lists (row, column,
    value, message) of the first ones found.
    """

    def __init__(
        self, problems: list[Problem], total: int, file: str, groups: list[_Group] | None = None
    ) -> None:
        self.problems = problems
        self.total = total
        row, column, value, message = problems[0]
        if total > 1:
            message = f"{message} [{total} problems in all; {_summary(problems[0], groups or [])}]"
        super().__init__(message, file=file, row=row, column=column, value=shown(value))


def _rows_text(rows: list[int | None], count: int) -> str:
    listed = [str(r) for r in rows[:SHOWN_ROWS] if r is not None]
    more = count - len(listed)
    return ", ".join(listed) + (f" and {more} more" if more > 0 else "")


def _summary(first: Problem, groups: list[_Group]) -> str:
    """``the same in rows 2, 3 and 4 more; also: row 7, column x: 'v' message; column y, rows ...``."""
    parts, others = [], []
    for group in sorted(
        (g for g in groups if g.count), key=lambda g: (g.rows[0] is not None, g.rows[0] or 0)
    ):
        if (group.column, group.message) == (first[1], first[3]):
            if group.count > 1:
                rest = [r for r in group.rows if r != first[0]]
                parts.append(f"the same in rows {_rows_text(rest, group.count - 1)}")
        elif group.count == 1:
            others.append(_where(group.rows[0], group.column, group.values[0], group.message))
        else:
            example = f" (first: {shown(group.values[0])!r})" if group.values[0] is not None else ""
            where = f"column {group.column}, " if group.column else ""
            others.append(f"{where}rows {_rows_text(group.rows, group.count)}: {group.message}{example}")
    if others:
        parts.append("also: " + "; ".join(others))
    return "; ".join(parts)


def _where(row: int | None, column: str | None, value: Any, message: str) -> str:
    parts = [f"row {row}" if row is not None else None, f"column {column}" if column else None]
    text = f"{shown(value)!r} " if value is not None else ""
    return f"{', '.join(p for p in parts if p)}: {text}{message}"


@dataclass
class NumberStyle:
    """How one file writes its numbers: a hint from the file and the decimal separator of each column.

    ``hint`` is ``"."`` or ``","`` when the file says so beyond its numbers (a ``;`` delimiter, German
    column names, an API's fixed format), with ``reason`` in words. ``columns`` maps each column whose
    numbers showed their decimal separator to ``(separator, why)``; a later chunk must agree with it.
    """

    hint: str | None = None
    reason: str = ""
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)

    def set_hint(self, decimal: str | None, reason: str) -> None:
        if decimal and self.hint is None:
            self.hint, self.reason = decimal, reason

    def evidence(self) -> tuple[str, str] | None:
        """The separator the rest of the file shows: one all decided columns agree on, else the hint."""
        found = {sep for sep, _ in self.columns.values()}
        if len(found) == 1:
            sep = found.pop()
            column, (_, why) = next((c, v) for c, v in self.columns.items() if v[0] == sep)
            return sep, f"as column {column} does, {why}"
        if self.hint:
            return self.hint, self.reason
        return None


@dataclass
class Problems:
    """Collects the bad values and warnings of one file while it is parsed; :meth:`check` raises the
    problems all at once."""

    file: str
    limit: int = 20
    items: list[Problem] = field(default_factory=list)
    total: int = 0
    seen: set[tuple[int | None, str | None]] = field(default_factory=set)
    groups: dict[tuple[str | None, str], _Group] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    numbers: NumberStyle = field(default_factory=NumberStyle)

    def add(
        self, message: str, *, row: int | None = None, column: str | None = None, value: Any = None
    ) -> None:
        if row is not None and (row, column) in self.seen:
            return
        self.seen.add((row, column))
        self._record(row, column, value, message)

    def _record(self, row: int | None, column: str | None, value: Any, message: str) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append((row, column, value, message))
        self.groups.setdefault((column, message), _Group(column, message)).add(row, value)

    def add_mask(
        self, mask: Any, values: pa.Array, offset: int, column: str, message: str, *, header_rows: int = 0
    ) -> None:
        """Record each row where ``mask`` holds; rows are 1-based data rows after ``offset`` earlier ones."""
        mask = np.asarray(pc.fill_null(mask, False) if isinstance(mask, pa.Array | pa.ChunkedArray) else mask)
        hits = np.flatnonzero(mask)
        if not len(hits):
            return
        base = offset + 1 + header_rows
        fresh = [int(i) for i in hits if (int(i) + base, column) not in self.seen]
        if not fresh:
            return
        group = self.groups.setdefault((column, message), _Group(column, message))
        room = max(self.limit - len(self.items), SHOWN_ROWS + 1 - len(group.rows), 0)
        for i in fresh[:room]:
            value = values[i].as_py() if values is not None else None
            self._record(i + base, column, value, message)
        left = len(fresh) - min(len(fresh), room)
        self.total += left
        group.count += left
        if len(self.seen) < 10 * self.limit:
            self.seen.update((i + base, column) for i in fresh[: 10 * self.limit])

    def warn(self, message: str) -> None:
        """A warning about the file (loaded anyway): kept in :attr:`warnings` and logged once."""
        if message not in self.warnings:
            self.warnings.append(message)
            LOG.warning("warning: %s: %s", self.file, message)

    def check(self) -> None:
        if self.total:
            ordered = sorted(self.items, key=lambda item: item[0] if item[0] is not None else -1)
            raise ImportValidationError(ordered, self.total, self.file, list(self.groups.values()))

    def __bool__(self) -> bool:
        return self.total > 0
