"""Small CSV tables a user hands to a command (lift tests, model series, transactions) and CSV output.

Export files of ad platforms, shops and analytics go through :mod:`trueroi.ingest` instead, which streams
them in bounded memory; this module is for the tables a model reads whole.

CSV output neutralises spreadsheet formulas (the OWASP "CSV injection" rule): a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and is not a plain number, gets a leading ``'`` so
that a spreadsheet shows it as text instead of running it. Campaign and partner names come from imported
files, so every CSV the product writes goes through :func:`safe_cell`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from trueroi.errors import DataValidationError
from trueroi.io.files import write_atomically
from trueroi.io.jsonable import jsonable

if TYPE_CHECKING:
    import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?$")


def read_csv(
    path: str | os.PathLike[str],
    *,
    dtype: Mapping[str, Any] | None = None,
    required: Sequence[str] = (),
    expected: str = "a CSV file with a header row",
) -> pd.DataFrame:
    """The CSV file ``path`` as a DataFrame, or one clear error naming the file.

    Parameters
    ----------
    dtype
        Column types passed to pandas (use ``str`` for ids, so that leading zeros stay).
    required
        Columns that must be present; a missing one is an error naming it.
    expected
        What the file should be, for the error message.

    Raises
    ------
    DataValidationError
        When the file is missing, is not readable CSV text, is empty, or lacks a required column.
    """
    import pandas as pd  # here, so that writing CSV does not load pandas

    file = Path(path)
    if not file.is_file():
        what = "is a directory" if file.is_dir() else "file not found"
        raise DataValidationError(what, file=str(file), expected=expected)
    try:
        frame = pd.read_csv(file, dtype=dict(dtype) if dtype else None)
    except pd.errors.EmptyDataError as exc:
        raise DataValidationError("is empty", file=str(file), expected=expected) from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataValidationError(
            f"cannot be read as CSV ({exc})", file=str(file), expected=expected
        ) from exc
    require_columns(frame, required, file=str(file))
    return frame


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, file: str | None = None) -> None:
    """Raise one error naming every column of ``columns`` that ``frame`` lacks (and the ones it has)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)}",
            file=file,
            expected="columns " + ", ".join(map(str, frame.columns)) + " to include them",
        )


def safe_cell(value: Any) -> Any:
    """``value`` ready for a CSV cell: JSON-like scalars, and text that a spreadsheet cannot run.

    A carriage return inside text becomes a line feed, so the cell is quoted and stays one cell.
    """
    value = jsonable(value)
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _records(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> tuple[list[str], list[Mapping[str, Any]]]:
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(rows, pd.DataFrame):
        return [str(c) for c in rows.columns], rows.to_dict(orient="records")
    records = list(rows)
    columns: list[str] = []
    for record in records:
        columns += [str(k) for k in record if str(k) not in columns]
    return columns, records


def write_csv(rows: pd.DataFrame | Iterable[Mapping[str, Any]], target: TextIO) -> None:
    """Write ``rows`` (a DataFrame or dicts; columns in first-seen order) as CSV to an open text stream."""
    columns, records = _records(rows)
    if not columns:
        return
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in columns])
    for record in records:
        writer.writerow([safe_cell(record.get(c)) for c in columns])


def csv_text(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> str:
    """``rows`` as CSV text (see :func:`write_csv`)."""
    buffer = io.StringIO()
    write_csv(rows, buffer)
    return buffer.getvalue()


def save_csv(rows: pd.DataFrame | Iterable[Mapping[str, Any]], out: str | os.PathLike[str]) -> Path:
    """Write ``rows`` as a CSV file to ``out`` atomically (UTF-8, formulas neutralised)."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            write_csv(rows, handle)

    return write_atomically(out, write)
