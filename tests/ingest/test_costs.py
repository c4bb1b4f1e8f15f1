"""The non-media cost ledger as bookkeepers keep it: one date per cost, German category names, periods booked
for the running quarter."""

from __future__ import annotations

from datetime import date

import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import detect_format, import_file
from trueroi.ingest.costs import category_code
from trueroi.workspace import Workspace

TODAY = date(2025, 5, 10)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Agenturgebühr", "agency_fee"),
        ("Agentur", "agency_fee"),
        ("Agency fee", "agency_fee"),
        ("agency_fee", "agency_fee"),
        ("Gehälter", "salaries"),
        ("Personal", "salaries"),
        ("Gehälter/Personal", "salaries"),
        ("Tools", "tools"),
        ("Software", "tools"),
        ("Tools/Software", "tools"),
        ("Produktion", "production"),
        ("Server", "server"),
        ("Hosting", "server"),
        ("Server/Hosting", "server"),
        ("Sonstiges", "other"),
        ("  SONSTIGES ", "other"),
    ],
)
def test_category_names(name: str, code: str) -> None:
    assert category_code(name) == code


@pytest.mark.parametrize("name", ["Miete", "Software/Personal", "Shopping", ""])
def test_unknown_or_mixed_category_names_map_to_none(name: str) -> None:
    assert category_code(name) is None


def test_german_ledger_with_one_date_per_cost(workspace: Workspace, fixtures) -> None:
    import_file(workspace, "costs", fixtures / "costs_ledger_de.csv")
    df = workspace.table("costs").execute().sort_values(["category", "amount"])
    by_cat = df.groupby("category").amount.sum().to_dict()
    assert by_cat == pytest.approx(
        {
            "agency_fee": 1500.00,
            "salaries": 4250.00,
            "tools": 89.90,
            "production": 640.00,
            "server": 49.00,
            "other": 12.50,
        }
    )
    assert (df.period_start == df.period_end).all()  # a date is a one-day period
    software = df[df.category == "tools"].iloc[0]
    assert software.period_start.date() == date(2025, 1, 15) and software.channel == "Paid Search"


def test_unknown_category_names_the_row(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text("date,category,amount,currency\n2025-01-31,Software,10,EUR\n2025-01-31,Miete,900,EUR\n")
    with pytest.raises(DataValidationError, match="is not a cost category") as err:
        import_file(workspace, "costs", path)
    assert (err.value.row, err.value.column, err.value.value) == (2, "category", "Miete")


def test_a_quarter_ending_in_the_future_loads(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(
        "period_start,period_end,category,amount,currency\n"
        "2025-04-01,2025-06-30,agency_fee,4500,EUR\n2025-07-01,2025-09-30,tools,300,EUR\n"
    )
    import_file(workspace, "costs", path, today=TODAY)
    assert workspace.row_count("costs") == 2


def test_an_implausible_period_is_refused(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(
        "period_start,period_end,category,amount,currency\n"
        "2025-04-01,2025-06-30,agency_fee,4500,EUR\n2025-04-01,2205-06-30,tools,300,EUR\n"
    )
    with pytest.raises(DataValidationError, match="is in the future; expected a day up to 2027-05-11") as err:
        import_file(workspace, "costs", path, today=TODAY)
    assert (err.value.row, err.value.column, err.value.value) == (2, "period_end", "2205-06-30")


def test_a_ledger_with_one_date_column_is_detected(fixtures) -> None:
    assert detect_format(fixtures / "costs_ledger_de.csv") == "costs"
    assert detect_format(fixtures / "costs.csv") == "costs"
