"""Reading and writing files the same way in every domain and every face.

- :func:`jsonable` turns results (numpy and pandas scalars, dates, NaN) into what ``json`` writes;
- :func:`write_atomically` writes any output through a temporary file and a rename, so nothing
  half-written is ever left behind;
- :func:`read_csv` reads a user's CSV file with one error style (file, row, column, what was expected);
- :func:`csv_text` and :func:`write_csv` write CSV with spreadsheet formulas neutralised (OWASP).
"""

from trueroi.io.files import check_directory, write_atomically, write_json, write_text
from trueroi.io.jsonable import dumps, jsonable
from trueroi.io.tables import csv_text, read_csv, require_columns, safe_cell, save_csv, write_csv

__all__ = [
    "check_directory",
    "csv_text",
    "dumps",
    "jsonable",
    "read_csv",
    "require_columns",
    "safe_cell",
    "save_csv",
    "write_atomically",
    "write_csv",
    "write_json",
    "write_text",
]
