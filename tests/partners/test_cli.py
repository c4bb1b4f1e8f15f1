"""``trueroi partners ...`` end to end on the shop of tests/partners/shop.py (figures by hand in
test_worked_statement.py and test_reconcile.py): the commands print the library's results."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from .shop import build

AWIN = Path(__file__).parents[1] / "ingest" / "fixtures" / "awin_transactions.csv"
AS_OF = ["--as-of", "2026-11-20"]


@pytest.fixture
def shop(workspace):
    build(workspace)
    workspace.close()
    return str(workspace.path)


def test_statement_json_csv_and_files(run_cli, shop, tmp_path) -> None:
    code, out, _ = run_cli(
        "partners", "statement", "--month", "2026-10", *AS_OF, "-w", shop, "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    deals = next(p for p in doc["partners"] if p["partner"] == "deals")
    assert deals["commission"]["owed"] == pytest.approx(44.0) and deals["orders"]["reversed"] == 1
    code, out, _ = run_cli(
        "partners",
        "statement",
        "--month",
        "2026-10",
        "--partner",
        "blog",
        *AS_OF,
        "-w",
        shop,
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["partner"], r["id"], r["commission"], r["customer"]) for r in rows] == [
        ("blog", "O8", "6.0", "returning")
    ]
    for name in ("s.pdf", "s.csv", "s.json"):
        code, _, err = run_cli(
            "partners", "statement", "--month", "2026-10", *AS_OF, "-w", shop, "--out", str(tmp_path / name)
        )
        assert code == 0 and name in err
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    assert json.loads((tmp_path / "s.json").read_text())["totals"]["commission"]["owed"] == pytest.approx(
        52.5
    )
    code, _, err = run_cli(
        "partners", "statement", "--month", "2026-10", "-w", shop, "--out", str(tmp_path / "s.txt")
    )
    assert code == 2 and ".pdf, .csv or .json" in err


def test_rules_program_import_reconcile_and_value(run_cli, shop) -> None:
    code, out, _ = run_cli(
        "partners",
        "rule",
        "add",
        "=cmd",
        "--source",
        "evil",
        "--basis",
        "order",
        "--rate",
        "3",
        "-w",
        shop,
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)["rate"] == 3.0
    code, out, _ = run_cli("partners", "rule", "list", "-w", shop, "--format", "csv")
    assert "'=cmd" in out  # a spreadsheet formula is neutralised
    code, _, err = run_cli(
        "partners", "rule", "add", "x", "--source", "x", "--basis", "revenue", "--rate", "8", "-w", shop
    )
    assert code == 2 and "at most 1" in err
    code, out, _ = run_cli(
        "partners", "program", "--credit", "last_non_direct_click", "-w", shop, "--format", "json"
    )
    assert json.loads(out)["credit"] == "last_non_direct_click"
    run_cli("partners", "program", "--credit", "last_paid_click", "-w", shop)
    code, out, _ = run_cli("partners", "import", str(AWIN), "-w", shop, "--format", "json")
    assert code == 0 and json.loads(out)["imports"][0]["rows"] == 11
    code, out, _ = run_cli(
        "partners", "reconcile", "--month", "2026-10", *AS_OF, "-w", shop, "--format", "json"
    )
    assert json.loads(out)["counts"]["not_confirmed"] == 3
    code, out, _ = run_cli("partners", "value", "--month", "2026-10", *AS_OF, "-w", shop, "--format", "json")
    rows = {r["partner"]: r for r in json.loads(out)["partners"]}
    assert rows["blog"]["mostly_not_incremental"] is True
    code, out, _ = run_cli("partners", "statement", "--month", "2026-10", *AS_OF, "-w", shop)
    assert code == 0 and "deals" in out and "44.00" in out
