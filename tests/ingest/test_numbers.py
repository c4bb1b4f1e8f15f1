"""Numbers as people's spreadsheets write them: each column's decimal and thousands separators are decided
from the whole column and the file, never guessed per value; non-finite and absurd values are refused.

The expected values are the numbers the cells spell in their locale (CLDR: de-DE ``1.234,56``, de-AT
``1 234,56`` with a no-break space, de-CH ``1’234.56`` and the older ``1'234.56``, en ``1,234.56``).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import import_file, read
from trueroi.workspace import Workspace

from .exports import EXPORTS, read_back

NBSP = "\u00a0"
# style: (delimiter, 1234.56 as money, 1234 as a count)
STYLES = {
    "german": (";", "1.234,56", "1.234"),
    "austrian": (";", f"1{NBSP}234,56", f"1{NBSP}234"),
    "swiss": (",", "1'234.56", "1'234"),
    "swiss_typographic": (",", "1’234.56", "1’234"),
    "english": (",", '"1,234.56"', '"1,234"'),
}


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_every_importer_reads_every_number_style(
    workspace: Workspace, tmp_path, fmt: str, style: str
) -> None:
    name, build, money_sql, count_sql = EXPORTS[fmt]
    delim, money, count = STYLES[style]
    path = tmp_path / "export.csv"
    path.write_text(build(delim, money, count), encoding="utf-8")
    import_file(workspace, name, path)
    assert read_back(workspace, money_sql) == pytest.approx(1234.56)
    if count_sql:
        assert read_back(workspace, count_sql) == 1234


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
@pytest.mark.parametrize("cell", ["1e400", "-1e400", "1e16", "99999999999999999999999"])
def test_every_importer_refuses_infinite_and_absurd_numbers(
    workspace: Workspace, tmp_path, fmt: str, cell: str
) -> None:
    name, build, _, _ = EXPORTS[fmt]
    path = tmp_path / "export.csv"
    path.write_text(build(",", cell, "10"), encoding="utf-8")
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, name, path)
    assert err.value.file == "export.csv" and err.value.row == 1 and err.value.column
    assert "finite" in str(err.value) or "out of range" in str(err.value)
    assert workspace.checksum() == before


def test_huge_counts_are_refused_not_wrapped(workspace: Workspace, tmp_path) -> None:
    # 99999999999999999999999 impressions used to wrap to -9223372036854775808
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,currency,spend,impressions,clicks\n"
        "2025-01-02,google_ads,c1,EUR,10.00,99999999999999999999999,5\n"
    )
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "ad-performance", path)
    assert (err.value.row, err.value.column) == (1, "impressions")
    assert "out of range" in str(err.value)


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan"), 3e17])
def test_parquet_non_finite_and_absurd_money_is_refused(workspace: Workspace, tmp_path, bad: float) -> None:
    path = tmp_path / "ads.parquet"
    pq.write_table(
        pa.table(
            {
                "date_day": pa.array(["2025-01-01", "2025-01-02"]),
                "platform": ["google_ads", "google_ads"],
                "campaign_id": ["c1", "c1"],
                "currency": ["EUR", "EUR"],
                "spend": [10.0, bad],
                "impressions": [100, 200],
                "clicks": [1, 2],
            }
        ),
        path,
    )
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "ad-performance", path)
    assert (err.value.file, err.value.row, err.value.column) == ("ads.parquet", 2, "spend")


def test_parquet_integer_counts_beyond_the_range_are_refused(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "ads.parquet"
    pq.write_table(
        pa.table(
            {
                "date_day": ["2025-01-01"],
                "platform": ["google_ads"],
                "campaign_id": ["c1"],
                "currency": ["EUR"],
                "spend": [10.0],
                "impressions": pa.array([2**62], pa.int64()),
                "clicks": [1],
            }
        ),
        path,
    )
    with pytest.raises(DataValidationError, match="out of range") as err:
        import_file(workspace, "ad-performance", path)
    assert err.value.column == "impressions"


def test_meta_insights_json_infinite_spend_is_refused(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "insights.json"
    path.write_text(
        '{"data": [{"date_start": "2025-01-02", "campaign_id": "1", "campaign_name": "P", '
        '"account_currency": "EUR", "spend": 1e400, "impressions": "10", "clicks": "1"}]}'
    )
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "meta-ads", path)
    assert (err.value.row, err.value.column) == (1, "spend")


def test_semicolon_file_with_decimal_commas_is_not_read_1000x_off(workspace: Workspace, tmp_path) -> None:
    # the case: spend "1.234,56" in a ;-separated generic file loaded as 1.23456
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day;platform;campaign_id;currency;spend;impressions;clicks\n"
        "2025-01-01;google_ads;c1;EUR;1.234,56;1000;50\n"
        "2025-01-02;google_ads;c1;EUR;17,50;1000;50\n"
    )
    import_file(workspace, "ad-performance", path)
    assert read_back(workspace, "SELECT sum(spend) FROM ad_performance") == pytest.approx(1234.56 + 17.50)


def test_a_column_of_only_ambiguous_numbers_is_refused(workspace: Workspace, tmp_path) -> None:
    # "1.234" is 1.234 with a decimal point or 1234 with a thousands point; nothing in the file says which
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,currency,spend,impressions,clicks\n"
        '2025-01-01,google_ads,c1,EUR,"1.234",1000,50\n'
        '2025-01-02,google_ads,c1,EUR,"2.500",1000,50\n'
    )
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "ad-performance", path)
    assert (err.value.row, err.value.column) == (1, "spend")
    assert "ambiguous" in str(err.value)
    assert workspace.checksum() == before


def test_another_column_of_the_file_decides_an_ambiguous_one(workspace: Workspace, tmp_path) -> None:
    # conversions_value "1.234,56" shows the file writes decimal commas: spend "1.234" is 1234
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,currency,spend,impressions,clicks,conversions_value\n"
        '2025-01-01,google_ads,c1,EUR,"1.234",1000,50,"1.234,56"\n'
    )
    import_file(workspace, "ad-performance", path)
    assert read_back(workspace, "SELECT spend FROM ad_performance") == pytest.approx(1234.0)
    assert read_back(workspace, "SELECT conversions_value FROM ad_performance") == pytest.approx(1234.56)


def test_german_headers_decide_an_ambiguous_column(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "google.csv"
    path.write_text(
        "Tag,Kampagne,Kampagnen-ID,Währungscode,Impressionen,Klicks,Kosten\n"
        '2025-01-01,Marke,1,EUR,100,10,"1.250"\n'
    )
    import_file(workspace, "google-ads", path)
    assert read_back(workspace, "SELECT spend FROM ad_performance") == pytest.approx(1250.0)


def test_a_column_mixing_both_styles_names_the_odd_rows(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id;ts;currency;revenue\n"
        "1;2025-01-01 10:00;EUR;12,50\n2;2025-01-01 11:00;EUR;7,25\n3;2025-01-01 12:00;EUR;1,234.50\n"
    )
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "orders", path)
    assert (err.value.row, err.value.column) == (3, "revenue")
    assert "decimal point" in str(err.value) and "row 1" in str(err.value)


def _chunked(monkeypatch) -> None:
    """Read text exports in blocks of 1 KiB, so a file of a few hundred rows arrives in many chunks."""
    monkeypatch.setattr(read, "BLOCK_SIZE", 1024)


def test_a_later_chunk_contradicting_the_first_is_refused_with_its_row(
    workspace: Workspace, tmp_path, monkeypatch
) -> None:
    _chunked(monkeypatch)
    rows = [f"{i},2025-01-01 10:00,EUR,12.50\n" for i in range(1, 301)]
    rows.append('301,2025-01-01 10:00,EUR,"1.234,50"\n')
    path = tmp_path / "orders.csv"
    path.write_text("order_id,ts,currency,revenue\n" + "".join(rows))
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "orders", path)
    assert (err.value.row, err.value.column) == (301, "revenue")
    assert "decimal comma" in str(err.value)
    assert workspace.checksum() == before


def test_an_ambiguous_later_chunk_follows_the_first_chunks_decision(
    workspace: Workspace, tmp_path, monkeypatch
) -> None:
    _chunked(monkeypatch)
    rows = [f'{i},2025-01-01 10:00,EUR,"2.000,00"\n' for i in range(1, 301)]
    rows.append('301,2025-01-01 10:00,EUR,"1.500"\n')  # 1500 once the column is known as German
    path = tmp_path / "orders.csv"
    path.write_text("order_id,ts,currency,revenue\n" + "".join(rows))
    import_file(workspace, "orders", path)
    assert read_back(workspace, "SELECT sum(revenue) FROM orders") == pytest.approx(300 * 2000.0 + 1500.0)


def test_plain_and_percent_numbers_still_read(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,currency,spend,impressions,clicks\n"
        "2025-01-01,google_ads,c1,EUR,€ 12.5,1000,50\n"
        "2025-01-02,google_ads,c1,EUR,0.125,1000,50\n"
        "2025-01-03,google_ads,c1,EUR,1.5e2,1000,50\n"
    )
    import_file(workspace, "ad-performance", path)
    assert read_back(workspace, "SELECT sum(spend) FROM ad_performance") == pytest.approx(12.5 + 0.125 + 150)
