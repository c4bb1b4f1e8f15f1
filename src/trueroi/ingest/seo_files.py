"""The files around a Search Console import: the UI download's ZIP and the bulk tables' duplicate check.

:func:`unzip_members` extracts the CSV files of a download into a folder, refusing archives that declare
more than :data:`MAX_MEMBER_BYTES` per file or expand more than :data:`MAX_RATIO` to 1 (a ZIP bomb), and
names that would leave the folder. :func:`parquet_duplicates` finds rows of a bulk export file that repeat
a key, with DuckDB over the file itself under a memory limit, naming the first repeated row and the row it
repeats. The rows are first grouped by a 64-bit hash of their key, one integer per row, which DuckDB spills to
disk under the limit; only rows whose hash repeats (none in a sound file, bar a hash collision in ~10^-4 of
50 M-row files) are then compared on the key itself. Grouping on the key columns themselves (about forty,
with URLs and queries) ran out of memory under the same limit on 4 M rows.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from trueroi.errors import DataValidationError

MAX_MEMBER_BYTES = 64 << 20  # a UI download holds at most 1,000 rows per file
MAX_RATIO = 200
MAX_MEMBERS = 20
CHECK_MEMORY = "512MB"


def unzip_members(path: Path, folder: Path) -> list[Path]:
    """Extract the ``.csv`` files of a download ZIP into ``folder`` (flat, by their base names).

    Raises
    ------
    DataValidationError
        For an unreadable archive, one without CSV files, or members that are too large.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir() and i.filename.lower().endswith(".csv")]
            if not infos:
                raise DataValidationError(
                    "holds no CSV file",
                    file=path.name,
                    expected="a Search Console download (Queries.csv ...)",
                )
            if len(infos) > MAX_MEMBERS:
                raise DataValidationError(
                    f"holds {len(infos)} CSV files", file=path.name, expected=f"at most {MAX_MEMBERS}"
                )
            out = []
            for info in infos:
                _check_member(info, path.name)
                target = folder / Path(info.filename).name
                with archive.open(info) as src, open(target, "wb") as dst:
                    dst.write(src.read(MAX_MEMBER_BYTES + 1))
                out.append(target)
            return out
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise DataValidationError(f"is not a readable ZIP archive ({exc})", file=path.name) from exc


def _check_member(info: zipfile.ZipInfo, file: str) -> None:
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > MAX_MEMBER_BYTES or (info.file_size > (1 << 20) and ratio > MAX_RATIO):
        raise DataValidationError(
            f"member {info.filename} declares {info.file_size:,} bytes ({ratio:,.0f} to 1 compressed)",
            file=file,
            expected=f"CSV files of at most {MAX_MEMBER_BYTES >> 20} MiB",
        )


@dataclass(frozen=True)
class DuplicateRows:
    """The first row (1-based) of a file that repeats a key, the earlier row it repeats, and how many."""

    row: int
    first: int
    count: int
    columns: tuple[str, ...]


def parquet_duplicates(path: Path, columns: list[str]) -> DuplicateRows | None:
    """The first row of a Parquet file whose ``columns`` equal an earlier row's (nulls equal), or None.

    One grouped pass over the hash of the key finds the hashes that repeat (few, if any); the rows with those
    hashes are grouped on the key itself, and a join names the first repeated row.
    """
    quoted = [_quote(c) for c in columns]
    keys = ", ".join(quoted)
    same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM d.{c}" for c in quoted)
    candidates = (
        f"(SELECT *, file_row_number + 1 AS _r FROM read_parquet($path, file_row_number = true) "
        f"WHERE hash({keys}) IN (SELECT _h FROM h))"
    )
    with tempfile.TemporaryDirectory(prefix="trueroi-keys-") as tmp:
        con = duckdb.connect()
        try:
            con.execute(f"SET memory_limit = '{CHECK_MEMORY}'")
            con.execute("SET preserve_insertion_order = false")
            con.execute(f"SET temp_directory = '{_quote_text(tmp)}'")
            con.execute(
                f"CREATE TEMP TABLE h AS SELECT hash({keys}) AS _h FROM read_parquet($path) "
                "GROUP BY _h HAVING count(*) > 1",
                {"path": str(path)},
            )
            if not con.execute("SELECT count(*) FROM h").fetchone()[0]:
                return None
            con.execute(
                f"CREATE TEMP TABLE d AS SELECT {keys}, min(_r) AS _first, count(*) AS _n FROM {candidates} "
                f"GROUP BY ALL HAVING count(*) > 1",
                {"path": str(path)},
            )
            total = con.execute("SELECT sum(_n - 1) FROM d").fetchone()[0]
            if not total:
                return None
            row, first = con.execute(
                f"SELECT s._r, d._first FROM {candidates} AS s JOIN d ON {same} WHERE s._r > d._first "
                "ORDER BY s._r LIMIT 1",
                {"path": str(path)},
            ).fetchone()
        except duckdb.Error as exc:
            raise DataValidationError(
                f"cannot be read as Parquet: {str(exc).splitlines()[0][:200]}", file=path.name
            ) from exc
        finally:
            con.close()
    return DuplicateRows(int(row), int(first), int(total), tuple(columns))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_text(text: str) -> str:
    return text.replace("'", "''")
