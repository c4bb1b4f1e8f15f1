"""Affiliate network transaction reports: Awin, CJ and the generic network CSV.

Each realistic fixture loads with the values the export holds; a damaged one is refused with its row and
column and leaves the warehouse unchanged; the same file twice changes nothing; a later report replaces the
transactions it repeats; detection names the format. The reports load through
``trueroi.partners.import_report`` (see its module for why not through ``import_file`` yet).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from trueroi.errors import DataValidationError, UsageError
from trueroi.ingest import detect_format
from trueroi.partners import import_report

FIXTURES = Path(__file__).parent / "fixtures"
AWIN, CJ, GENERIC = "awin_transactions.csv", "cj_commission_detail.csv", "network_transactions.csv"


def _rows(ws) -> dict[str, dict]:
    frame = ws.table("partner_transactions").execute()
    return {r["transaction_id"]: r for r in frame.to_dict(orient="records")}


def test_awin_transactions_report_loads(workspace) -> None:
    done = import_report(workspace, FIXTURES / AWIN, "awin")
    assert (done["format"], done["rows"], done["skipped"]) == ("awin", 11, False)
    rows = _rows(workspace)
    first = rows["4410001"]
    assert (first["network"], first["order_id"], first["publisher_id"], first["publisher_name"]) == (
        "awin",
        "O1",
        "111",
        "Deals Hero",
    )
    # "2026-10-02 14:00:00" in the workspace's Europe/Berlin is 12:00 UTC (summer time)
    assert first["ts"] == datetime(2026, 10, 2, 12, 0) and first["click_ts"] == datetime(2026, 10, 1, 10, 0)
    assert (first["sale_amount"], first["commission"], first["status"], first["type"]) == (
        100.0,
        5.0,
        "approved",
        "sale",
    )
    assert first["currency"] == "EUR"  # the report names none: the workspace base currency
    declined = rows["4410004"]
    assert (declined["status"], declined["voucher_code"]) == ("declined", "SUMMER20")
    assert rows["4410006"]["status"] == "pending"


def test_cj_commission_detail_loads(workspace) -> None:
    import_report(workspace, FIXTURES / CJ, currency="USD")
    rows = _rows(workspace)
    first = rows["3209871001"]
    assert first["network"] == "cj" and first["currency"] == "USD"
    assert first["ts"] == datetime(2026, 10, 2, 10, 15)  # eventDate is UTC ("Z")
    assert first["commission"] == pytest.approx(10.80 - 1.20)  # the advertiser's commission less CJ's fee
    assert first["status"] == "approved"  # locked
    correction = rows["3209871003"]  # a return: CJ's correction row with negative amounts
    assert (correction["order_id"], correction["sale_amount"], correction["status"]) == (
        "A-1002",
        -30.0,
        "pending",
    )
    assert correction["commission"] == pytest.approx(-2.70 + 0.30)
    assert rows["3209871005"]["type"] == "lead"
    assert rows["3209871004"]["status"] == "pending"  # extended


def test_generic_network_csv_loads(workspace) -> None:
    import_report(workspace, FIXTURES / GENERIC)
    rows = _rows(workspace)
    assert {r["network"] for r in rows.values()} == {"tradedoubler"}
    assert [rows[t]["status"] for t in ("TD-9001", "TD-9002", "TD-9003")] == [
        "pending",
        "approved",
        "declined",
    ]
    assert rows["TD-9002"]["voucher_code"] == "SAVE10"


@pytest.mark.parametrize(("name", "fmt"), [(AWIN, "awin"), (CJ, "cj"), (GENERIC, "network")])
def test_detection_names_the_format(name: str, fmt: str) -> None:
    assert detect_format(FIXTURES / name) == fmt


def test_detection_of_awin_api_field_names(tmp_path: Path) -> None:
    path = tmp_path / "awin_api.csv"
    path.write_text(
        "id,advertiserId,publisherId,siteName,commissionStatus,saleAmount,commissionAmount,transactionDate,orderRef\n"
        "1,9,111,Deals,1,10.00,1.00,2026-10-02T10:00:00,O1\n",
        encoding="utf-8",
    )
    assert detect_format(path) == "awin"


def test_awin_numeric_statuses_and_api_names(workspace, tmp_path: Path) -> None:
    path = tmp_path / "awin_api.csv"
    path.write_text(
        "id,publisherId,siteName,commissionStatus,saleAmount,commissionAmount,transactionDate,orderRef\n"
        "1,111,Deals,0,10.00,1.00,2026-10-02 10:00:00,O1\n"
        "2,111,Deals,1,20.00,2.00,2026-10-02 11:00:00,O2\n"
        "3,111,Deals,2,30.00,3.00,2026-10-02 12:00:00,O3\n",
        encoding="utf-8",
    )
    import_report(workspace, path, "awin")
    rows = _rows(workspace)
    assert [rows[t]["status"] for t in "123"] == ["pending", "approved", "declined"]
    assert [rows[t]["order_id"] for t in "123"] == ["O1", "O2", "O3"]


def _damaged(tmp_path: Path, row: int, column: str, value: str) -> Path:
    """The Awin fixture with one cell of data row ``row`` (1-based) replaced."""
    lines = (FIXTURES / AWIN).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = f'"{value}"' if "," in value else value
    lines[row] = ",".join(cells)
    path = tmp_path / "awin_damaged.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (3, "sale_amount", "12,5O", "number"),
        (5, "commission_status", "maybe", "status"),
        (2, "date", "2026-13-45 10:00:00", "date"),
        (4, "id", "", "empty"),
        (7, "commission", "-3.00", "negative"),
    ],
)
def test_a_damaged_report_is_refused_with_row_and_column(
    workspace, tmp_path, row, column, value, message
) -> None:
    import_report(workspace, FIXTURES / GENERIC)  # something already there, to prove it stays
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match=message) as caught:
        import_report(workspace, _damaged(tmp_path, row, column, value), "awin")
    assert (caught.value.row, caught.value.column) == (row, column)
    assert caught.value.file == "awin_damaged.csv"
    assert workspace.checksum() == before


def test_a_transaction_twice_in_one_report_is_refused(workspace, tmp_path: Path) -> None:
    path = _damaged(tmp_path, 2, "id", "4410001")
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as caught:
        import_report(workspace, path, "awin")
    assert caught.value.row == 2
    assert workspace.checksum() == before


def test_a_report_without_a_required_column_is_refused(workspace, tmp_path: Path) -> None:
    text = (FIXTURES / AWIN).read_text(encoding="utf-8").replace("sale_amount", "sales")
    path = tmp_path / "awin.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError, match="sale_amount"):
        import_report(workspace, path, "awin")


def test_the_same_report_twice_changes_nothing(workspace) -> None:
    first = import_report(workspace, FIXTURES / AWIN)
    before = workspace.checksum()
    again = import_report(workspace, FIXTURES / AWIN)
    assert again["skipped"] and again["import_id"] == first["import_id"]
    assert workspace.checksum() == before


def test_a_later_report_replaces_the_transactions_it_repeats(workspace, tmp_path: Path) -> None:
    import_report(workspace, FIXTURES / AWIN)
    later = _damaged(tmp_path, 6, "commission_status", "approved")  # 4410006 approved now
    done = import_report(workspace, later, "awin")
    assert (done["rows"], done["replaced"]) == (11, 11)
    rows = _rows(workspace)
    assert len(rows) == 11 and rows["4410006"]["status"] == "approved"


def test_a_file_that_is_no_network_report_is_refused(workspace) -> None:
    with pytest.raises(UsageError, match="not a network transaction report"):
        import_report(workspace, FIXTURES / "orders.csv")
