"""The ECB's euro reference rates (``eurofxref-hist.csv``: one column per currency, units per euro, ``N/A``
cells, a trailing comma) and rates carried over weekends and holidays.

Fixture rows (units per EUR): USD 1.0389 on Tue 2024-12-31, 1.0321 on Thu 2025-01-02, 1.0299 on Fri
2025-01-03, 1.0426 on Mon 2025-01-06; 2025-01-01 was a TARGET holiday; JPY 163.36 on 2025-01-03.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pytest

from trueroi.ingest import detect_format, import_file
from trueroi.metrics import kpi_report
from trueroi.workspace import Workspace, WorkspaceConfig

TODAY = date(2025, 1, 7)  # a Tuesday: the file's last day is Monday 2025-01-06


def _rates(ws: Workspace) -> dict[tuple[str, date], float]:
    df = ws.table("fx_rates").execute()
    return {(r.currency, pd.Timestamp(r.date_day).date()): r.rate_to_base for r in df.itertuples()}


def test_the_ecb_file_is_detected_as_rates(fixtures) -> None:
    assert detect_format(fixtures / "eurofxref-hist.csv") == "fx-rates"


def test_ecb_rates_for_a_euro_workspace_are_inverted(workspace: Workspace, fixtures, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="trueroi.ingest"):
        import_file(workspace, "fx-rates", fixtures / "eurofxref-hist.csv", today=TODAY)
    rates = _rates(workspace)
    assert rates[("USD", date(2025, 1, 3))] == pytest.approx(1 / 1.0299)
    assert rates[("JPY", date(2025, 1, 3))] == pytest.approx(1 / 163.36)
    assert rates[("GBP", date(2024, 12, 31))] == pytest.approx(1 / 0.82918)
    # the weekend and the New Year holiday carry the last business day's rate
    assert rates[("USD", date(2025, 1, 4))] == pytest.approx(1 / 1.0299)
    assert rates[("USD", date(2025, 1, 5))] == pytest.approx(1 / 1.0299)
    assert rates[("USD", date(2025, 1, 1))] == pytest.approx(1 / 1.0389)
    # after the last day, up to today + 2 days (the workspace's future limit)
    assert rates[("USD", date(2025, 1, 9))] == pytest.approx(1 / 1.0426)
    assert ("USD", date(2025, 1, 10)) not in rates
    assert not any(cur in {"CYP", "EEK", "TRL"} for cur, _ in rates)  # currencies the euro replaced
    assert not any(day.year == 1999 for _, day in rates)  # before the import window
    assert "CYP" in caplog.text and "1999" not in caplog.text and "before 2000-01-01" in caplog.text
    assert not any(cur == "RUB" for cur, _ in rates)  # N/A on every day


def test_a_saturday_order_in_usd_uses_fridays_rate(workspace: Workspace, fixtures, tmp_path) -> None:
    import_file(workspace, "fx-rates", fixtures / "eurofxref-hist.csv", today=TODAY)
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,ts,currency,revenue\nUS-1,2025-01-04 15:00,USD,102.99\n")
    import_file(workspace, "orders", orders, today=TODAY)  # no "no exchange rate" error for Saturday
    report = kpi_report(workspace, start=date(2025, 1, 4), end=date(2025, 1, 4))
    assert report.totals["revenue"] == pytest.approx(102.99 / 1.0299)  # = 100.00 EUR at Friday's rate


def test_ecb_rates_for_a_dollar_workspace(tmp_path, fixtures) -> None:
    ws = Workspace.init(tmp_path / "w", WorkspaceConfig(base_currency="USD"))
    import_file(ws, "fx-rates", fixtures / "eurofxref-hist.csv", today=TODAY)
    rates = _rates(ws)
    assert rates[("EUR", date(2025, 1, 3))] == pytest.approx(1.0299)  # dollars per euro
    assert rates[("JPY", date(2025, 1, 3))] == pytest.approx(1.0299 / 163.36)  # dollars per yen
    assert ("USD", date(2025, 1, 3)) not in rates
    ws.close()


def test_long_rates_fill_gaps_between_their_days_only(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(
        "date_day,currency,rate_to_base\n2025-01-03,USD,0.97\n2025-01-06,USD,0.96\n2025-01-20,USD,0.95\n"
    )
    import_file(workspace, "fx-rates", path, today=date(2025, 2, 6))
    rates = _rates(workspace)
    assert rates[("USD", date(2025, 1, 4))] == pytest.approx(0.97)  # Saturday: Friday's rate
    assert rates[("USD", date(2025, 1, 10))] == pytest.approx(0.96)  # 4 days after the last known day
    assert ("USD", date(2025, 1, 11)) not in rates  # a gap longer than a long weekend is not papered over
    assert ("USD", date(2025, 1, 21)) not in rates  # nothing after the file's last day


def test_the_ecbs_daily_file_loads(workspace: Workspace, tmp_path) -> None:
    # eurofxref.csv: one day, the date written out, a space after each comma
    path = tmp_path / "eurofxref.csv"
    path.write_text(
        "Date, USD, JPY, BGN, CZK, DKK, GBP, HUF, PLN, RON, SEK, CHF, \n"
        "03 January 2025, 1.0299, 163.36, 1.9558, 25.165, 7.4612, 0.82920, 412.40, 4.2763, 4.9735, "
        "11.5185, 0.9366, \n"
    )
    assert detect_format(path) == "fx-rates"
    import_file(workspace, "fx-rates", path, today=TODAY)
    rates = _rates(workspace)
    assert rates[("CZK", date(2025, 1, 3))] == pytest.approx(1 / 25.165)  # "25.165": the ECB writes points
    assert rates[("USD", date(2025, 1, 6))] == pytest.approx(1 / 1.0299)  # carried over the weekend
