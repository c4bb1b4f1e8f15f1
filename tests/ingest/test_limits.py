"""Size guards: files that expand enormously, cells of megabytes, JSON nested 100,000 deep. Each is one clear
error naming the file (and row and column where there is one), checked before the data is decoded."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import import_file, read
from trueroi.ingest.limits import json_depth
from trueroi.workspace import Workspace


def test_a_parquet_cell_of_megabytes_is_refused_from_the_metadata(workspace: Workspace, tmp_path) -> None:
    # a few KB on disk declaring a 3 MB campaign name (the case was 13 KB -> 400 MB)
    path = tmp_path / "ads.parquet"
    pq.write_table(
        pa.table(
            {
                "date_day": ["2025-01-01"],
                "platform": ["google_ads"],
                "campaign_id": ["c1"],
                "campaign_name": ["x" * 3_000_000],
                "currency": ["EUR"],
                "spend": [1.0],
                "impressions": [10],
                "clicks": [1],
            }
        ),
        path,
        compression="zstd",
        use_dictionary=False,
    )
    assert path.stat().st_size < 20_000
    with pytest.raises(DataValidationError, match="bytes per cell") as err:
        import_file(workspace, "ad-performance", path)
    assert err.value.column == "campaign_name" and err.value.file == "ads.parquet"


def test_a_parquet_decompression_bomb_is_refused(workspace: Workspace, tmp_path, monkeypatch) -> None:
    from trueroi.ingest import limits

    monkeypatch.setattr(limits, "SMALL_BYTES", 1 << 20)  # the guard's threshold, scaled down: a quick test
    monkeypatch.setattr(limits, "MAX_CELL_BYTES", 1 << 30)
    path = tmp_path / "orders.parquet"
    n = 200_000
    pq.write_table(
        pa.table(
            {
                "note": ["z" * 600] * n,  # 120 MB declared, a few hundred KB stored
                "order_id": pa.array([f"{i:08d}" for i in range(n)]),
                "ts": ["2025-01-01 10:00"] * n,
                "currency": ["EUR"] * n,
                "revenue": [1.0] * n,
            }
        ),
        path,
        compression="zstd",
        use_dictionary=False,
        data_page_size=64 << 20,  # one page: the note column compresses 5,000 to 1
    )
    with pytest.raises(DataValidationError, match="expands from") as err:
        import_file(workspace, "orders", path)
    assert err.value.column == "note"


def test_json_nested_100000_deep_is_a_clear_error(workspace: Workspace, tmp_path) -> None:
    # it used to end in a RecursionError traceback
    path = tmp_path / "insights.json"
    path.write_text('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(DataValidationError, match="nests 100,001 levels deep") as err:
        import_file(workspace, "meta-ads", path)
    assert err.value.file == "insights.json"


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert json_depth(b'["\\"[[["]') == 1


def test_a_campaign_name_of_megabytes_is_refused(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,campaign_name,currency,spend,impressions,clicks\n"
        "2025-01-01,google_ads,c1,Brand,EUR,1.00,10,1\n"
        f"2025-01-02,google_ads,c2,{'N' * 2_000_000},EUR,1.00,10,1\n"
    )
    with pytest.raises(DataValidationError, match="is longer than 1,000 characters") as err:
        import_file(workspace, "ad-performance", path)
    assert (err.value.row, err.value.column) == (2, "campaign_name")
    assert len(str(err.value)) < 400  # the message shows the start of the value, not 2 MB of it


def test_landing_pages_may_be_longer_than_names(workspace: Workspace, tmp_path) -> None:
    url = "https://shop.example/?utm_source=google&utm_medium=cpc&q=" + "a" * 5_000
    path = tmp_path / "touches.csv"
    path.write_text(f"user_id,ts,landing_page\nu1,2025-01-01 10:00:00,{url}\n")
    import_file(workspace, "touchpoints", path)
    too_long = tmp_path / "touches2.csv"
    too_long.write_text(f"user_id,ts,landing_page\nu2,2025-01-01 11:00:00,{url + 'b' * 5_000}\n")
    with pytest.raises(DataValidationError, match="is longer than 8,192 characters") as err:
        import_file(workspace, "touchpoints", too_long)
    assert (err.value.row, err.value.column) == (1, "landing_page")


def test_a_cell_larger_than_the_read_block_is_a_clear_error(
    workspace: Workspace, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(read, "BLOCK_SIZE", 1024)
    path = tmp_path / "orders.csv"
    path.write_text(f'order_id,ts,currency,revenue\n1,2025-01-01 10:00,EUR,10\n2,"{"x" * 5000}",EUR,1\n')
    with pytest.raises(DataValidationError, match="larger than") as err:
        import_file(workspace, "orders", path)
    assert err.value.file == "orders.csv" and "straddl" not in str(err.value)
