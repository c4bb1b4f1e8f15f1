"""Reading export files in bounded memory: encoding, preamble, delimiter, and chunked rows as strings.

Exports put title lines above the header (Google Ads: report name and date range; Microsoft Ads: a block of
``Report Name: ...`` lines; Google's offline template: ``Parameters:TimeZone=...``), come as UTF-8 or
UTF-16 (Google Ads' "Excel CSV" is UTF-16 with tabs), and use ``,``, ``;`` or tabs. :func:`sniff` finds all
of that from the first lines; :func:`iter_rows` then streams the data rows as Arrow tables of strings, so
every importer parses values itself and can name the row and column of each bad value.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv

from trueroi.errors import DataValidationError

SAMPLE_BYTES = 1 << 16
BLOCK_SIZE = 1 << 24  # 16 MiB of text per chunk
FOOTER_LINE = re.compile(r'^\s*"?\s*(©|\(c\)|copyright)', re.IGNORECASE)


def norm_header(name: str) -> str:
    """A header cell compared loosely: trimmed, lower-cased, whitespace collapsed, quotes and BOM dropped."""
    return re.sub(r"\s+", " ", name.replace("\ufeff", "").strip().strip('"').strip()).lower()


@dataclass
class TextSource:
    """Where the table in a text file starts and how it is written."""

    path: Path
    encoding: str
    delimiter: str
    header_line: int  # 0-based index of the header line
    header: list[str]
    preamble: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def detect_encoding(head: bytes, path: Path) -> str:
    """``utf-16`` when the bytes carry a UTF-16 byte-order mark or look like it, else ``utf-8``.

    Raises
    ------
    DataValidationError
        When the first bytes are neither valid UTF-8 nor UTF-16.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif len(head) >= 4 and head[1:4:2] == b"\x00\x00" and head[0] != 0:
        return "utf-16-le"
    else:
        encoding = "utf-8"
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"is not UTF-8 or UTF-16 text (byte {exc.start}: {head[exc.start : exc.start + 4]!r})",
            file=path.name,
            expected="a UTF-8 or UTF-16 text export; re-save the file as UTF-8 CSV",
        ) from exc
    return encoding


def _decode_head(path: Path, encoding: str) -> str:
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def sniff_delimiter(line: str) -> str:
    """The most frequent of tab, semicolon and comma in a header line (comma when none occurs)."""
    counts = {d: line.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def split_line(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def sniff(
    path: str | Path, is_header: Callable[[list[str]], bool] | None = None, max_lines: int = 40
) -> TextSource:
    """Find the encoding, delimiter and header line of a delimited text export.

    Parameters
    ----------
    path
        The file.
    is_header
        Called with the normalised cells of each of the first ``max_lines`` lines; the first line for
        which it returns True is the header. Default: the first non-empty line.

    Raises
    ------
    DataValidationError
        When the file is empty, not text, or no header line is found.
    """
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        raise DataValidationError("is a Parquet file, not delimited text", file=path.name)
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip():
        raise DataValidationError("is empty", file=path.name, expected="a header line and data rows")
    encoding = detect_encoding(head, path)
    lines = _decode_head(path, encoding).splitlines()
    complete = lines[:-1] if len(head) == SAMPLE_BYTES and len(lines) > 1 else lines
    for idx, line in enumerate(complete[:max_lines]):
        if not line.strip():
            continue
        delimiter = sniff_delimiter(line)
        cells = split_line(line, delimiter)
        if is_header is None or is_header([norm_header(c) for c in cells]):
            header = [c.replace("\ufeff", "").strip() for c in cells]
            return TextSource(
                path, encoding, delimiter, idx, header, [ln for ln in complete[:idx] if ln.strip()]
            )
    raise DataValidationError(
        f"no header line found in the first {max_lines} lines",
        file=path.name,
        expected="the column names of this export format (is it the right FORMAT?)",
    )


def iter_rows(src: TextSource, block_size: int | None = None) -> Iterator[tuple[int, pa.Table]]:
    """Stream the data rows below the header as tables of strings, with the 0-based index of each first row.

    Blank header cells are named ``column_<n>``. Rows with too few or too many fields are an error that
    names each such row (up to 20) and how many fields it had.

    Raises
    ------
    DataValidationError
        For duplicate header names, rows of the wrong width, a row larger than the block (default
        :data:`BLOCK_SIZE`) and text that cannot be decoded.
    """
    block_size = block_size or BLOCK_SIZE
    names = [h if h else f"column_{i + 1}" for i, h in enumerate(src.header)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataValidationError(
            f"duplicate column name(s) {', '.join(map(repr, dupes))} in the header",
            file=src.name,
            row=src.header_line + 1,
            expected="each column name once",
        )
    bad_rows: list[str] = []

    def on_invalid(row: pv.InvalidRow) -> str:
        if not row.text.strip() or FOOTER_LINE.match(row.text):  # blank lines, copyright footers
            return "skip"
        bad_rows.append(row.text)
        return "skip"

    read_options = pv.ReadOptions(
        skip_rows=src.header_line + 1,
        column_names=names,
        block_size=block_size,
        encoding="utf8" if src.encoding == "utf-8-sig" else src.encoding,
    )
    parse_options = pv.ParseOptions(
        delimiter=src.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
    )
    convert_options = pv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    offset = 0
    try:
        reader = pv.open_csv(
            src.path, read_options=read_options, parse_options=parse_options, convert_options=convert_options
        )
        for batch in reader:
            if bad_rows:
                raise _width_error(src, len(names))
            table = pa.Table.from_batches([batch])
            yield offset, table
            offset += table.num_rows
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if "straddl" in str(exc):  # Arrow: "straddling object straddles two block boundaries"
            raise DataValidationError(
                f"has a row or cell larger than {block_size:,} bytes after row {offset}",
                file=src.name,
                expected="rows of a delimited export; is a quote left open, or a cell of megabytes?",
            ) from exc
        raise DataValidationError(
            f"cannot be read as {src.encoding} delimited text: {str(exc).splitlines()[0][:300]}",
            file=src.name,
        ) from exc
    if bad_rows:
        raise _width_error(src, len(names))


def _width_error(src: TextSource, width: int, limit: int = 20) -> DataValidationError:
    """Re-read the file with the csv module to name the data rows of the wrong width."""
    found: list[tuple[int, int]] = []
    total = 0
    with open(src.path, encoding=src.encoding, newline="", errors="replace") as handle:
        for _ in range(src.header_line + 1):
            handle.readline()
        try:
            for i, record in enumerate(csv.reader(handle, delimiter=src.delimiter)):
                line = record[0] if record else ""
                if any(c.strip() for c in record) and len(record) != width and not FOOTER_LINE.match(line):
                    total += 1
                    if len(found) < limit:
                        found.append((i + 1, len(record)))
        except csv.Error:  # a field over the csv module's size limit: the rows found so far must do
            pass
    if not found:
        return DataValidationError(
            "has rows of the wrong width", file=src.name, expected=f"{width} fields per row"
        )
    first_row, first_n = found[0]
    listing = ", ".join(f"row {r} has {n}" for r, n in found)
    more = f" and {total - len(found)} more" if total > len(found) else ""
    return DataValidationError(
        f"{total} row(s) have the wrong number of fields ({listing}{more}); truncated or shifted rows?",
        file=src.name,
        row=first_row,
        expected=f"{width} fields like the header",
    )


def read_text(path: Path) -> str:
    """The whole text of a small file, decoded as :func:`detect_encoding` says."""
    with open(path, "rb") as handle:
        data = handle.read()
    encoding = detect_encoding(data[:SAMPLE_BYTES], path)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"is not valid {encoding} text (byte {exc.start})",
            file=path.name,
            expected="a UTF-8 or UTF-16 file",
        ) from exc


def csv_table_from_text(text: str, delimiter: str) -> list[list[str]]:
    """Rows of a small delimited text held in memory."""
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))
