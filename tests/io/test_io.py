"""trueroi.io: JSON, CSV (formula-safe) and the atomic writer every face uses."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from trueroi.errors import DataValidationError
from trueroi.io import csv_text, dumps, jsonable, read_csv, safe_cell, save_csv, write_json


def test_jsonable_turns_numpy_pandas_and_missing_values_into_json() -> None:
    value = {
        "n": np.int64(3),
        "x": np.float32(1.5),
        "nan": float("nan"),
        "inf": np.float64("inf"),
        "flag": np.bool_(True),
        "day": date(2026, 7, 1),
        "ts": pd.Timestamp("2026-07-01 10:30"),
        "nat": pd.NaT,
        "na": pd.NA,
        "arr": np.array([1, 2]),
        "frame": pd.DataFrame({"a": [1.0, np.nan]}),
        7: "key becomes text",
    }
    assert jsonable(value) == {
        "n": 3,
        "x": 1.5,
        "nan": None,
        "inf": None,
        "flag": True,
        "day": "2026-07-01",
        "ts": "2026-07-01T10:30:00",
        "nat": None,
        "na": None,
        "arr": [1, 2],
        "frame": [{"a": 1.0}, {"a": None}],
        "7": "key becomes text",
    }
    assert json.loads(dumps({"t": datetime(2026, 1, 2, 3, 4)})) == {"t": "2026-01-02T03:04:00"}


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+9)*cmd|' /C calc'!A0", "'@SUM(1+9)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\n=1+1"),  # a carriage return would split the row in many readers
        ("-12.50", "-12.50"),  # a plain number stays a number
        ("+3", "+3"),
        ("-5%", "-5%"),
        ("Brand | Nordlicht", "Brand | Nordlicht"),
        ("- 20 % sale", "'- 20 % sale"),
    ],
)
def test_csv_cells_cannot_run_as_formulas(cell: str, written: str) -> None:
    """OWASP's CSV-injection rule: text starting with = + - @ tab or CR is prefixed with a quote."""
    assert safe_cell(cell) == written
    text = csv_text([{"campaign": cell, "spend": -3.5}])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["campaign", "spend"], [written, "-3.5"]]


def test_csv_header_and_dataframes_are_neutralised_too(tmp_path) -> None:
    frame = pd.DataFrame({"=cmd": ["@x", None], "n": [1, 2]})
    out = save_csv(frame, tmp_path / "rows.csv")
    assert list(csv.reader(io.StringIO(out.read_text(), newline=""))) == [
        ["'=cmd", "n"],
        ["'@x", "1"],
        ["", "2"],
    ]


def test_read_csv_errors_name_the_file_and_what_is_wrong(tmp_path) -> None:
    with pytest.raises(DataValidationError, match=r"missing\.csv: file not found"):
        read_csv(tmp_path / "missing.csv")
    with pytest.raises(DataValidationError, match="is a directory"):
        read_csv(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataValidationError, match=r"empty\.csv: is empty"):
        read_csv(empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,spend\nM\xfcller,3\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match="cannot be read as CSV"):
        read_csv(latin)
    ok = tmp_path / "ok.csv"
    ok.write_text("customer_id,amount\n007,3\n")
    with pytest.raises(DataValidationError, match="missing column.*date"):
        read_csv(ok, required=["customer_id", "date"])
    assert read_csv(ok, dtype={"customer_id": str})["customer_id"].tolist() == ["007"]


def test_write_json_replaces_the_file_whole(tmp_path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    write_json(target, {"roi": np.float64(0.25), "missing": float("nan")})
    assert json.loads(target.read_text()) == {"roi": 0.25, "missing": None}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
