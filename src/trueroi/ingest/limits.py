"""Size guards, checked before a file is parsed: how far it may expand, how large a cell, how deep a nesting.

A Parquet file of 13 KB can declare a 400 MB cell (compressed 30,000 to 1), and a JSON document nested
100,000 deep overflows any recursive parser. Both are refused from what the file declares or what a cheap
scan finds, before anything is decoded:

* Parquet: each column chunk's declared uncompressed size against its compressed size
  (:data:`MAX_EXPANSION`) once it is larger than :data:`SMALL_BYTES`, and its bytes per value against
  :data:`MAX_CELL_BYTES` (no text cell is allowed that long anyway, see
  :data:`trueroi.ingest.parse.URL_CHARS`); the schema's nesting against :data:`MAX_DEPTH`.
* JSON: the file's size against :data:`MAX_JSON_BYTES` (a JSON document is parsed whole) and its nesting,
  counted with strings left out, against :data:`MAX_DEPTH`.
* Delimited text: a cell or row longer than the reader's block (16 MiB) is refused by the reader.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trueroi.errors import DataValidationError

MAX_EXPANSION = 1000  # declared uncompressed bytes per compressed byte of one column chunk
SMALL_BYTES = 64 << 20  # below this a column chunk may expand as it likes
MAX_CELL_BYTES = 64 << 10  # declared bytes per value of a column chunk
MAX_DEPTH = 64  # nesting of JSON documents and Parquet schemas
MAX_JSON_BYTES = 256 << 20  # a JSON document is parsed whole
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _type_depth(typ: pa.DataType) -> int:
    if pa.types.is_struct(typ):
        return 1 + max((_type_depth(typ.field(i).type) for i in range(typ.num_fields)), default=0)
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        return 1 + _type_depth(typ.value_type)
    if pa.types.is_map(typ):
        return 1 + max(_type_depth(typ.key_type), _type_depth(typ.item_type))
    return 0


def check_parquet(handle: pq.ParquetFile, file: str) -> None:
    """Refuse a Parquet file whose metadata declares a decompression bomb, huge cells or deep nesting.

    Raises
    ------
    DataValidationError
        Naming the column and the declared sizes.
    """
    depth = max((_type_depth(f.type) for f in handle.schema_arrow), default=0)
    if depth > MAX_DEPTH:
        raise DataValidationError(
            f"nests {depth} levels deep", file=file, expected=f"at most {MAX_DEPTH} levels of nested columns"
        )
    meta = handle.metadata
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for j in range(group.num_columns):
            chunk = group.column(j)
            declared, stored = chunk.total_uncompressed_size, max(chunk.total_compressed_size, 1)
            name = chunk.path_in_schema
            if declared > SMALL_BYTES and declared > MAX_EXPANSION * stored:
                raise DataValidationError(
                    f"column {name} expands from {stored:,} to {declared:,} bytes when decompressed "
                    f"({declared // stored:,} to 1)",
                    file=file,
                    column=name,
                    expected=f"at most {MAX_EXPANSION} to 1 for chunks over {SMALL_BYTES >> 20} MiB",
                )
            per_value = declared / max(chunk.num_values, 1)
            if per_value > MAX_CELL_BYTES:
                raise DataValidationError(
                    f"column {name} declares {per_value:,.0f} bytes per cell in row group {g + 1}",
                    file=file,
                    column=name,
                    expected=f"cells of at most {MAX_CELL_BYTES >> 10} KiB",
                )


def open_parquet(path: Path) -> pq.ParquetFile:
    """A checked :class:`pyarrow.parquet.ParquetFile` (see :func:`check_parquet`).

    Opened with ``pre_buffer=False``: with pyarrow's default (``True`` since pyarrow 13) reading batch by
    batch keeps the read-ahead buffers of row groups already read, so memory grows with the file instead of
    staying at one batch (the 50 M-row Search Console import grew by ~2 GB).

    Raises
    ------
    DataValidationError
        When the file is no readable Parquet or fails the checks.
    """
    try:
        handle = pq.ParquetFile(path, pre_buffer=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise DataValidationError(f"is not a readable Parquet file ({exc})", file=path.name) from exc
    check_parquet(handle, path.name)
    return handle


def json_depth(data: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not count)."""
    bare = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    steps = np.zeros(len(bare), dtype=np.int32)
    steps[(bare == ord("[")) | (bare == ord("{"))] = 1
    steps[(bare == ord("]")) | (bare == ord("}"))] = -1
    return int(np.cumsum(steps).max()) if len(steps) else 0


def read_json_bytes(path: Path) -> bytes:
    """The bytes of a JSON file, refused when larger than :data:`MAX_JSON_BYTES` or nested deeper than
    :data:`MAX_DEPTH`, so the parser never meets either."""
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise DataValidationError(
            f"is {size:,} bytes of JSON",
            file=path.name,
            expected=f"at most {MAX_JSON_BYTES >> 20} MiB per JSON file; split the export by date",
        )
    data = path.read_bytes()
    depth = json_depth(data)
    if depth > MAX_DEPTH:
        raise DataValidationError(
            f"nests {depth:,} levels deep", file=path.name, expected=f"JSON nested at most {MAX_DEPTH} levels"
        )
    return data
