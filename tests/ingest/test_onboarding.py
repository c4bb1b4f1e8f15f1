"""Exports of a real shop's first week: Microsoft Advertising's UI download, HubSpot's deals export, a Shopify
export without a currency column, Meta's Results columns. Fixtures follow the tools' own layouts; expected
totals are added up by hand from the fixture rows (in the comments)."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import detect_format, import_file
from trueroi.workspace import Workspace


def test_microsoft_ui_export_is_detected_as_microsoft(fixtures) -> None:
    # it has "Currency code" like a Google export; its report header says Microsoft
    assert detect_format(fixtures / "microsoft_ads_ui.csv") == "microsoft-ads"
    assert detect_format(fixtures / "microsoft_ads_campaign.csv") == "microsoft-ads"
    assert detect_format(fixtures / "google_ads_ui_utf16.csv") == "google-ads"


@pytest.mark.parametrize("header", ["Gregorian date", "Day", "Date", "date_day", "TimePeriod"])
def test_microsoft_ui_export_loads_with_any_date_header(
    workspace: Workspace, fixtures, tmp_path, header
) -> None:
    text = (fixtures / "microsoft_ads_ui.csv").read_text(encoding="utf-8")
    path = tmp_path / "Campaign performance.csv"
    path.write_text(text.replace('"Gregorian date"', f'"{header}"'), encoding="utf-8")
    if header != "Gregorian date":
        assert detect_format(path) == "microsoft-ads"  # the report header lines suffice
    result = import_file(workspace, "microsoft-ads", path)
    assert result.rows == {"ad_performance": 4}
    df = workspace.table("ad_performance").execute()
    assert df.spend.sum() == pytest.approx(48.30 + 52.15 + 1036.40 + 988.75)
    assert df.impressions.sum() == 1204 + 1318 + 8950 + 9120
    assert df.conversions_value.sum() == pytest.approx(702.00 + 815.50 + 389.96 + 299.97)
    assert sorted(df.date_day.dt.date.unique()) == [date(2025, 1, 2), date(2025, 1, 13)]  # 1/13/2025: m/d/Y
    assert set(df.platform) == {"microsoft_ads"} and set(df.campaign_id) == {"412001", "412077"}


def test_hubspot_deals_export(workspace: Workspace, fixtures, caplog) -> None:
    # Record ID is the lead id; the GCLID column is the click id; open deals closing ahead are forecasts
    with caplog.at_level(logging.WARNING, logger="trueroi.ingest"):
        import_file(workspace, "crm", fixtures / "hubspot_deals.csv", today=date(2025, 2, 1))
    df = workspace.table("conversions").execute().set_index("conversion_id")
    assert sorted(df.index) == [
        "18273645001:deal_won",
        "18273645001:lead",
        "18273645002:lead",
        "18273645003:lead",
        "18273645004:lead",
    ]
    assert df.loc["18273645001:deal_won", "value"] == pytest.approx(4800.00)
    assert df.loc["18273645001:deal_won", "click_id"] == "Cj0KCQiAHubSpotEXAMPLE1"
    assert df.loc["18273645003:lead", "click_id"] == "Cj0KCQiAHubSpotEXAMPLE3"
    assert "2 open deal(s) have a close date ahead" in caplog.text


def test_a_won_deal_closing_in_the_future_is_refused(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text(
        "Record ID,Deal Stage,Close Date,Create Date,Amount\n"
        "1,Closed Won,2025-03-01 10:00,2025-01-03 09:12,100\n"
    )
    with pytest.raises(DataValidationError, match="the deal is won") as err:
        import_file(workspace, "crm", path, today=date(2025, 2, 1))
    assert (err.value.row, err.value.column) == (1, "won date")


def test_shopify_export_without_currency_column_takes_the_option(
    workspace: Workspace, fixtures, tmp_path
) -> None:
    lines = (fixtures / "shopify_orders.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    drop = header.index("Currency")
    rows = [",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines]
    path = tmp_path / "orders_export.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="Currency|currency"):
        import_file(workspace, "shopify-orders", path)
    import_file(workspace, "shopify-orders", path, options={"currency": "EUR"})
    df = workspace.table("orders").execute()
    assert len(df) == 4 and set(df.currency) == {"EUR"}


def test_meta_results_count_purchases_by_their_indicator(workspace: Workspace, fixtures, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="trueroi.ingest"):
        import_file(workspace, "meta-ads", fixtures / "meta_ads_results.csv")
    df = workspace.table("ad_performance").execute().set_index("campaign_name")
    assert df.conversions.sum() == pytest.approx(4 + 3 + 2)  # pixel and omni purchases, not link clicks
    assert pd.isna(df.loc["Traffic | Blog", "conversions"])
    assert "actions:link_click" in caplog.text and "not purchases" in caplog.text


def test_meta_results_without_an_indicator_are_not_used_and_say_so(
    workspace: Workspace, fixtures, tmp_path, caplog
) -> None:
    lines = (fixtures / "meta_ads_results.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines]
    path = tmp_path / "meta.csv"
    path.write_text("\n".join(",".join(r[:5] + r[6:]) for r in rows) + "\n")  # no Result indicator
    with caplog.at_level(logging.WARNING, logger="trueroi.ingest"):
        import_file(workspace, "meta-ads", path)
    assert "Results column was not used" in caplog.text
    assert workspace.table("ad_performance").execute().conversions.isna().all()
