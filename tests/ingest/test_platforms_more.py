"""TikTok, LinkedIn, Pinterest and Amazon Ads campaign reports: fixtures written in each tool's column names,
with the totals worked out by hand in the comments (not by the code under test)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import detect_format, import_file
from trueroi.workspace import Workspace

FIXTURES = Path(__file__).parent / "fixtures"
TIKTOK, TIKTOK_DE = "tiktok_ads_campaigns.csv", "tiktok_ads_de.csv"
LINKEDIN, PINTEREST, AMAZON = (
    "linkedin_ads_campaigns.csv",
    "pinterest_ads_report.csv",
    "amazon_sp_campaigns.csv",
)
EUR = {"currency": "EUR"}  # Pinterest's report names no currency: "Spend in account currency"


def _ads(ws: Workspace):  # noqa: ANN202 - a DataFrame
    return ws.table("ad_performance").execute().sort_values(["date_day", "campaign_name"])


def _days(df) -> list[date]:  # noqa: ANN001
    return sorted(d.date() for d in df.date_day.unique())


def test_tiktok_campaign_report(workspace) -> None:
    result = import_file(workspace, "tiktok-ads", FIXTURES / TIKTOK)
    df = _ads(workspace)
    assert result.rows == {"ad_performance": 4}
    assert df.spend.sum() == pytest.approx(45.20 + 1204.50 + 38.75 + 990.00)  # "1,204.50": 2,278.45
    assert df.impressions.sum() == 12040 + 98310 + 10511 + 80112
    assert df.clicks.sum() == 150 + 1310 + 131 + 1044  # Clicks (destination)
    # Purchases (4 + 21 + 3 + 0), not the optimisation event's Conversions (12 + 88 + 9 + 70)
    assert df.conversions.sum() == pytest.approx(28)
    assert df.conversions_value.sum() == pytest.approx(239.60 + 1880.40 + 179.70 + 0.00)
    assert df.reach.tolist() == [9870, 71002, 8620, 60550]  # kept per row
    assert set(df.platform) == {"tiktok_ads"} and set(df.currency) == {"EUR"}
    assert set(df.channel) == {"Paid Social"}
    brand = df.set_index("campaign_name").is_brand.groupby(level=0).first()
    assert bool(brand["Acme Brand Awareness"]) and not bool(brand["Winter Sale Prospecting"])
    first = df.iloc[0]
    assert (first.campaign_id, first.ad_group_id, first.ad_group_name) == (
        "1788001203456",
        "1788101203456",
        "Broad DE 25-44",
    )
    assert _days(df) == [date(2025, 1, 1), date(2025, 1, 2)]


def test_tiktok_german_report_with_decimal_commas(workspace) -> None:
    import_file(workspace, "tiktok-ads", FIXTURES / TIKTOK_DE)
    df = _ads(workspace)
    assert df.spend.sum() == pytest.approx(45.20 + 1204.50)  # "45,20" and "1.204,50"
    assert df.impressions.sum() == 12040 + 98310  # "12.040" and "98.310"
    assert df.clicks.sum() == 150 + 1310  # Klicks (Ziel): "1.310"
    assert df.conversions.sum() == pytest.approx(4 + 21)  # Käufe
    assert df.conversions_value.sum() == pytest.approx(239.60 + 1880.40)
    assert _days(df) == [date(2025, 1, 1), date(2025, 1, 2)]  # 01.01.2025, 02.01.2025


def test_linkedin_campaign_performance_export(workspace) -> None:
    import_file(workspace, "linkedin-ads", FIXTURES / LINKEDIN)
    df = _ads(workspace)
    assert len(df) == 4  # four title lines and a blank line above the header
    assert df.spend.sum() == pytest.approx(312.40 + 88.15 + 298.75 + 91.30)  # Total Spent: 790.60
    assert df.impressions.sum() == 18450 + 6120 + 17302 + 6433
    assert df.clicks.sum() == 171 + 58 + 160 + 61  # Clicks to Landing Page, not all Clicks (527)
    assert df.conversions.sum() == pytest.approx(9 + 3 + 7 + 2)
    assert df.conversions_value.isna().all()  # the export has no conversion value
    assert _days(df) == [date(2025, 1, 1), date(2025, 1, 2)]  # "1/1/2025", "1/2/2025"
    assert set(df.campaign_id) == {"214000101", "214000102"}
    assert set(df.account_name) == {"Acme Industrial GmbH"} and set(df.channel) == {"Paid Social"}
    retargeting = df[df.campaign_name == "Acme Brand - Retargeting"]
    assert retargeting.is_brand.all()


def test_pinterest_report_takes_the_currency_option(workspace) -> None:
    with pytest.raises(DataValidationError, match="currency") as caught:
        import_file(workspace, "pinterest-ads", FIXTURES / PINTEREST)
    assert caught.value.file == PINTEREST
    import_file(workspace, "pinterest-ads", FIXTURES / PINTEREST, options=EUR)
    df = _ads(workspace)
    assert df.spend.sum() == pytest.approx(25.10 + 140.00 + 22.90 + 151.35)  # 339.35
    assert df.impressions.sum() == 8040 + 42100 + 7711 + 45530
    assert df.clicks.sum() == 96 + 388 + 90 + 402  # Outbound clicks, not Pin clicks
    assert df.conversions.sum() == pytest.approx(5 + 14 + 4 + 17)
    assert df.conversions_value.sum() == pytest.approx(214.50 + 980.00 + 160.00 + 1190.70)
    assert set(df.currency) == {"EUR"}
    channels = df.groupby("campaign_name").channel.first()
    assert channels["Acme Brand Pins"] == "Paid Social"
    assert channels["Spring Home Decor - Shopping"] == "Paid Shopping"  # GA4: a shopping campaign name


def test_amazon_sponsored_products_campaign_report(workspace) -> None:
    import_file(workspace, "amazon-ads", FIXTURES / AMAZON)
    df = _ads(workspace)
    assert df.spend.sum() == pytest.approx(36.08 + 98.40 + 33.18 + 104.25)  # "€36.08" ...: 271.91
    assert df.impressions.sum() == 4120 + 15230 + 3980 + 16012
    assert df.clicks.sum() == 88 + 142 + 79 + 150
    assert df.conversions.sum() == pytest.approx(14 + 9 + 12 + 0)  # 7 Day Total Orders (#)
    assert df.conversions_value.sum() == pytest.approx(412.30 + 389.70 + 368.10 + 0.00)  # 7 Day Total Sales
    assert _days(df) == [date(2025, 1, 1), date(2025, 1, 2)]  # "Jan 01, 2025"
    assert set(df.channel) == {"Paid Shopping"}  # Amazon is a shopping source
    assert set(df.campaign_id) == {"SP - Acme Brand - Exact", "SP - Trail Runner - Auto"}  # no ID column
    assert df[df.campaign_name == "SP - Acme Brand - Exact"].is_brand.all()


def test_a_currency_in_the_spend_header_is_the_rows_currency(workspace, tmp_path) -> None:
    import_file(workspace, "fx-rates", FIXTURES / "fx_rates.csv")  # USD on 2025-01-01 and -02
    path = tmp_path / "tiktok.csv"
    path.write_text(
        "Date,Campaign name,Cost (USD),Impressions,Clicks (destination)\n2025-01-01,Launch,12.50,1000,20\n"
    )
    import_file(workspace, "tiktok-ads", path)
    df = _ads(workspace)
    assert (df.currency.tolist(), df.spend.tolist()) == (["USD"], [12.50])


def test_a_summary_report_over_several_days_is_refused(workspace, tmp_path) -> None:
    path = tmp_path / "amazon_summary.csv"
    path.write_text(
        "Start Date,End Date,Currency,Campaign Name,Impressions,Clicks,Spend,7 Day Total Sales \n"
        "2025-01-01,2025-01-01,EUR,SP - Brand,100,5,2.00,10.00\n"
        "2025-01-01,2025-01-31,EUR,SP - Auto,3100,62,41.30,120.00\n"
    )
    with pytest.raises(DataValidationError, match="one row per day") as caught:
        import_file(workspace, "amazon-ads", path)
    assert (caught.value.row, caught.value.column) == (2, "End Date")


def _damaged(tmp_path: Path, name: str, row: int, column: str, value: str) -> Path:
    """The fixture with the cell of data row ``row`` (1-based) in ``column`` replaced by ``value``."""
    text = (FIXTURES / name).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if column in line)  # the header line (below any title)
    delimiter = ";" if lines[at].count(";") > lines[at].count(",") else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines[at:])), delimiter=delimiter))
    rows[row][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path = tmp_path / f"damaged_{name}"
    path.write_text("\n".join(lines[:at]) + ("\n" if at else "") + out.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("fmt", "name", "row", "column", "value", "message"),
    [
        ("tiktok-ads", TIKTOK, 2, "Cost", "12,5O", "not a number"),
        ("tiktok-ads", TIKTOK_DE, 1, "Datum", "31.02.2025", "not a date"),
        ("linkedin-ads", LINKEDIN, 3, "Impressions", "1.5", "not a whole number"),
        ("linkedin-ads", LINKEDIN, 4, "Currency", "EURO", "ISO 4217"),
        ("pinterest-ads", PINTEREST, 2, "Spend in account currency", "-140.00", "negative"),
        ("amazon-ads", AMAZON, 3, "Date", "Feb 30, 2025", "not a date"),
        ("amazon-ads", AMAZON, 1, "Campaign Name", "", "empty"),
    ],
)
def test_a_damaged_report_is_refused_with_row_and_column(
    workspace, tmp_path, fmt, name, row, column, value, message
) -> None:
    import_file(
        workspace, "google-ads", FIXTURES / "google_ads_ui_de.csv"
    )  # something there, to prove it stays
    before = workspace.checksum()
    path = _damaged(tmp_path, name, row, column, value)
    with pytest.raises(DataValidationError, match=message) as caught:
        import_file(workspace, fmt, path, options=EUR)
    assert (caught.value.file, caught.value.row, caught.value.column) == (path.name, row, column)
    assert workspace.checksum() == before


def test_a_row_twice_in_one_report_is_refused(workspace, tmp_path) -> None:
    lines = (FIXTURES / PINTEREST).read_text().splitlines()
    path = tmp_path / "pinterest.csv"
    path.write_text("\n".join([*lines, lines[1]]) + "\n")  # row 1 again as row 5
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="row 1") as caught:
        import_file(workspace, "pinterest-ads", path, options=EUR)
    assert (caught.value.row, caught.value.column) == (5, "Campaign ID")
    assert workspace.checksum() == before


def test_a_report_without_spend_names_the_missing_column(workspace, tmp_path) -> None:
    path = tmp_path / "tiktok.csv"
    path.write_text("Date,Campaign name,Impressions,Clicks (destination),Currency\n2025-01-01,A,10,1,EUR\n")
    with pytest.raises(DataValidationError, match="spend: 'cost'"):
        import_file(workspace, "tiktok-ads", path)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("tiktok-ads", TIKTOK),
        ("linkedin-ads", LINKEDIN),
        ("pinterest-ads", PINTEREST),
        ("amazon-ads", AMAZON),
    ],
)
def test_the_same_report_twice_changes_nothing(workspace, tmp_path, fmt, name) -> None:
    first = import_file(workspace, fmt, FIXTURES / name, options=EUR)
    before = workspace.checksum()
    again = import_file(workspace, fmt, FIXTURES / name, options=EUR)
    assert again.skipped and again.import_id == first.import_id
    assert workspace.checksum() == before
    # a re-export with one corrected row replaces the rows it repeats instead of adding them
    text = (FIXTURES / name).read_text(encoding="utf-8-sig") + "\n"
    (tmp_path / name).write_text(text)
    later = import_file(workspace, fmt, tmp_path / name, options=EUR)
    assert (later.rows["ad_performance"], later.replaced) == (4, 4)
    assert workspace.table("ad_performance").count().execute() == 4


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        (TIKTOK, "tiktok-ads"),
        (TIKTOK_DE, "tiktok-ads"),  # "Kosten", "Klicks": Google's German names too
        (LINKEDIN, "linkedin-ads"),
        (PINTEREST, "pinterest-ads"),
        (AMAZON, "amazon-ads"),
        ("google_ads_ui_de.csv", "google-ads"),
        ("google_ads_ui_utf16.csv", "google-ads"),
        ("google_ads_api.csv", "google-ads"),
        ("meta_ads_manager.csv", "meta-ads"),
        ("meta_ads_manager_de.csv", "meta-ads"),
        ("meta_ads_results.csv", "meta-ads"),
        ("microsoft_ads_ui.csv", "microsoft-ads"),
        ("microsoft_ads_campaign.csv", "microsoft-ads"),
        ("shopify_orders.csv", "shopify-orders"),
        ("ad_performance.csv", "ad-performance"),
    ],
)
def test_detection_names_each_platform(name, fmt) -> None:
    assert detect_format(FIXTURES / name) == fmt


NBSP = "\u00a0"
# style: (delimiter, 1234.56 as money, 1234 as a count), as tests/ingest/test_numbers.py writes them
STYLES = {
    "german": (";", "1.234,56", "1.234"),
    "austrian": (";", f"1{NBSP}234,56", f"1{NBSP}234"),
    "swiss": (",", "1'234.56", "1'234"),
    "english": (",", '"1,234.56"', '"1,234"'),
}
ONE_ROW = {
    "tiktok-ads": (
        ["Date", "Campaign name", "Currency", "Cost", "Impressions", "Clicks (destination)"],
        3,
        4,
    ),
    "linkedin-ads": (
        ["Start Date (in UTC)", "Campaign Name", "Currency", "Total Spent", "Impressions", "Clicks"],
        3,
        4,
    ),
    "pinterest-ads": (
        ["Date", "Campaign name", "Currency", "Spend in account currency", "Impressions", "Pin clicks"],
        3,
        4,
    ),
    "amazon-ads": (["Date", "Campaign Name", "Currency", "Spend", "Impressions", "Clicks"], 3, 4),
}


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("fmt", sorted(ONE_ROW))
def test_every_number_style(workspace, tmp_path, fmt, style) -> None:
    header, money_at, count_at = ONE_ROW[fmt]
    delim, money, count = STYLES[style]
    row = ["2025-01-02", "Brand", "EUR", "", "", "12"]
    row[money_at], row[count_at] = money, count
    path = tmp_path / "export.csv"
    path.write_text(delim.join(header) + "\n" + delim.join(row) + "\n", encoding="utf-8")
    import_file(workspace, fmt, path)
    df = _ads(workspace)
    assert (df.spend.tolist(), df.impressions.tolist(), df.clicks.tolist()) == ([1234.56], [1234], [12])
