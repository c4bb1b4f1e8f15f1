"""Implausible rows are refused with their file, row and column: days outside the import window, keys that
repeat within a file; one message for many equal problems, days written as ISO text."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueroi.errors import ConfigError, DataValidationError
from trueroi.ingest import import_file
from trueroi.workspace import Workspace, WorkspaceConfig
from trueroi.workspace.config import ImportWindow

from .exports import read_back

TODAY = date(2025, 6, 15)


def test_an_order_in_year_one_is_refused(workspace: Workspace, tmp_path) -> None:
    # it used to load with exit 0, and then every kpis call crashed
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,ts,currency,revenue\nA-1,2025-01-01 10:00,EUR,10\nA-2,0001-01-01 10:00,EUR,20\n"
    )
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "orders", path)
    assert (err.value.file, err.value.row, err.value.column) == ("orders.csv", 2, "ts")
    assert "is before 2000-01-01" in str(err.value)
    assert workspace.checksum() == before


def test_the_earliest_day_is_a_setting(tmp_path) -> None:
    ws = Workspace.init(
        tmp_path / "w", WorkspaceConfig(import_window=ImportWindow(earliest=date(2024, 1, 1)))
    )
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,currency,spend,impressions,clicks\n"
        "2023-12-31,google_ads,c1,EUR,1.00,10,1\n"
    )
    with pytest.raises(DataValidationError, match="is before 2024-01-01") as err:
        import_file(ws, "ad-performance", path)
    assert (err.value.row, err.value.column) == (1, "date_day")
    ws.close()


def test_import_window_reads_and_writes_trueroi_toml(tmp_path) -> None:
    ws = Workspace.init(tmp_path / "w", WorkspaceConfig())
    ws.close()
    toml = tmp_path / "w" / "trueroi.toml"
    text = toml.read_text()
    assert "[import]" in text and "earliest = 2000-01-01" in text  # a TOML date, written by save()
    assert "future_days = 2" in text
    toml.write_text(
        text.replace("earliest = 2000-01-01", "earliest = 2015-07-01").replace(
            "future_days = 2", "future_days = 0"
        )
    )
    again = Workspace.open(tmp_path / "w")
    assert again.config.import_window.earliest == date(2015, 7, 1)
    assert again.config.import_window.future_days == 0
    again.close()
    with pytest.raises(ConfigError, match="import.earliest"):
        WorkspaceConfig.from_dict({"import": {"earliest": "yesterday"}})


def test_future_limit_of_events_comes_from_the_settings(tmp_path) -> None:
    ws = Workspace.init(tmp_path / "w", WorkspaceConfig(import_window=ImportWindow(future_days=10)))
    path = tmp_path / "orders.csv"
    path.write_text("order_id,ts,currency,revenue\nA-1,2025-06-25 10:00,EUR,10\nA-2,2025-06-26 10:00,EUR,1\n")
    with pytest.raises(DataValidationError, match="is in the future; expected a day up to 2025-06-25") as err:
        import_file(ws, "orders", path, today=TODAY)
    assert err.value.row == 2
    ws.close()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_parquet_nan_revenue_is_refused(workspace: Workspace, tmp_path, bad: float) -> None:
    # NaN revenue used to load and blank the month's totals
    path = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table(
            {
                "order_id": ["o1", "o2", "o3"],
                "ts": ["2025-01-01 10:00", "2025-01-02 10:00", "2025-01-03 10:00"],
                "currency": ["EUR"] * 3,
                "revenue": [10.0, 20.0, bad],
            }
        ),
        path,
    )
    with pytest.raises(DataValidationError, match="is not a finite number") as err:
        import_file(workspace, "orders", path)
    assert (err.value.row, err.value.column) == (3, "revenue")


@pytest.mark.parametrize(("revenue", "shown"), [("1e400", "inf"), ("NaN", "nan")])
def test_ga4_ndjson_non_finite_revenue_is_refused(
    workspace: Workspace, fixtures, tmp_path, revenue, shown
) -> None:
    text = (fixtures / "ga4_events.ndjson").read_text()
    assert text.count('"purchase_revenue":89.9') == 1
    path = tmp_path / "events.ndjson"
    path.write_text(text.replace('"purchase_revenue":89.9', f'"purchase_revenue":{revenue}'))
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match=f"{shown} is not a finite number") as err:
        import_file(workspace, "ga4", path)
    assert err.value.column == "ecommerce.purchase_revenue"
    assert workspace.checksum() == before


def test_ga4_events_before_the_window_are_refused(workspace: Workspace, fixtures, tmp_path) -> None:
    text = (fixtures / "ga4_events.ndjson").read_text()
    path = tmp_path / "events.ndjson"
    path.write_text(
        text.replace('"event_timestamp":"1735722300000000"', '"event_timestamp":"-62135596800000000"')
    )
    with pytest.raises(DataValidationError, match="has 1 event.s. outside the days 2000-01-01") as err:
        import_file(workspace, "ga4", path)
    assert err.value.column == "event_timestamp"


def test_csv_nan_text_in_a_number_column_is_refused(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,currency,spend,impressions,clicks,conversions_value\n"
        "2025-01-01,google_ads,c1,EUR,1.00,10,1,NaN\n"
    )
    with pytest.raises(DataValidationError, match="is not a finite number") as err:
        import_file(workspace, "ad-performance", path)
    assert err.value.column == "conversions_value"


def test_the_same_order_id_twice_in_a_file_is_refused(workspace: Workspace, tmp_path) -> None:
    # it used to double the order's revenue
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,ts,currency,revenue\n"
        "A-1,2025-01-01 10:00,EUR,10\nA-2,2025-01-01 11:00,EUR,20\nA-1,2025-01-01 10:00,EUR,10\n"
    )
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "orders", path)
    assert (err.value.row, err.value.column) == (3, "order_id")
    assert "repeats the order_id of row 1" in str(err.value)
    assert workspace.checksum() == before


def test_a_repeated_key_across_chunks_names_both_rows(workspace: Workspace, tmp_path, monkeypatch) -> None:
    from trueroi.ingest import read

    monkeypatch.setattr(read, "BLOCK_SIZE", 1024)
    rows = [f"O-{i},2025-01-01 10:00,EUR,10\n" for i in range(1, 301)] + ["O-7,2025-01-02 10:00,EUR,5\n"]
    path = tmp_path / "orders.csv"
    path.write_text("order_id,ts,currency,revenue\n" + "".join(rows))
    with pytest.raises(DataValidationError, match="repeats the order_id of row 7") as err:
        import_file(workspace, "orders", path)
    assert err.value.row == 301


@pytest.mark.parametrize(
    ("fmt", "text", "row", "column"),
    [
        (
            "ad-performance",
            "date_day,platform,campaign_id,currency,spend,impressions,clicks\n"
            "2025-01-01,google_ads,c1,EUR,1,10,1\n2025-01-01,google_ads,c1,EUR,2,20,2\n",
            2,
            "campaign_id",
        ),
        (
            "conversions",
            "conversion_id,ts,type\ncv1,2025-01-01 10:00,lead\ncv1,2025-01-01 11:00,lead\n",
            2,
            "conversion_id",
        ),
        (
            "fx-rates",
            "date_day,currency,rate_to_base\n2025-01-01,USD,0.9\n2025-01-01,USD,0.95\n",
            2,
            "currency",
        ),
        (
            "google-ads",
            "Day,Campaign,Campaign ID,Currency code,Impr.,Clicks,Cost\n"
            "2025-01-01,Brand,1,EUR,100,10,5.00\n2025-01-01,Brand,1,EUR,100,10,5.00\n",
            2,
            "campaign_id",
        ),
        (
            "crm",
            "Lead ID,Created,Stage\nL-1,2025-01-01 10:00,New\nL-1,2025-01-02 10:00,New\n",
            2,
            "lead id",
        ),
        (
            "offline-conversions",
            "Google Click ID,Conversion Name,Conversion Time,Conversion Value\n"
            "Cj0K1,Deal,2025-01-05 14:30:00,10\nCj0K1,Deal,2025-01-05 14:30:00,10\n",
            2,
            "click id",
        ),
    ],
)
def test_repeated_keys_are_refused_in_every_importer(
    workspace: Workspace, tmp_path, fmt: str, text: str, row: int, column: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(text)
    with pytest.raises(DataValidationError, match="repeats the") as err:
        import_file(workspace, fmt, path)
    assert (err.value.row, err.value.column) == (row, column)


def test_a_shopify_order_twice_in_a_file_is_refused(workspace: Workspace, fixtures, tmp_path) -> None:
    lines = (fixtures / "shopify_orders.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "orders_export.csv"
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")  # order #1001 again at the end
    with pytest.raises(DataValidationError, match="repeats order #1001 of row 1") as err:
        import_file(workspace, "shopify-orders", path)
    assert err.value.row == 6


def test_ad_rows_of_different_ads_are_not_duplicates(workspace: Workspace, tmp_path) -> None:
    # an ad-level Google export: two ads of one campaign on one day are two rows, not a repeat
    path = tmp_path / "ads.csv"
    path.write_text(
        "Day,Campaign,Campaign ID,Ad,Currency code,Impr.,Clicks,Cost\n"
        "2025-01-01,Brand,1,Ad A,EUR,100,10,5.00\n2025-01-01,Brand,1,Ad B,EUR,50,5,2.50\n"
    )
    import_file(workspace, "google-ads", path)
    assert read_back(workspace, "SELECT sum(spend) FROM ad_performance") == pytest.approx(7.5)


def test_nineteen_equal_problems_are_one_message_with_iso_days(workspace: Workspace, tmp_path) -> None:
    rows = "".join(f"2025-01-01,2040-03-31,tools,{i}.00,EUR\n" for i in range(1, 20))
    path = tmp_path / "costs.csv"
    path.write_text("period_start,period_end,category,amount,currency\n" + rows)
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "costs", path, today=TODAY)
    text = str(err.value)
    assert "datetime.date" not in text
    assert "'2040-03-31' is in the future" in text
    assert "19 problems in all; the same in rows 2, 3, 4, 5, 6 and 13 more" in text
    assert text.count("is in the future") == 1
