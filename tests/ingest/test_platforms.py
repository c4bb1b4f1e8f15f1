"""Ad-platform, shop, offline/CRM and GA4 exports: fixture files written by hand to look like the real
exports, with totals computed by hand in the comments below (not by the code under test)."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pyarrow.parquet as pq
import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import import_file
from trueroi.workspace import Workspace, WorkspaceConfig


def _ads(ws: Workspace):
    return ws.table("ad_performance").execute()


def test_google_ads_ui_utf16_tab_with_title_and_total_rows(workspace, fixtures) -> None:
    result = import_file(workspace, "google-ads", fixtures / "google_ads_ui_utf16.csv")
    df = _ads(workspace)
    assert result.rows == {"ad_performance": 6}  # 9 data lines minus 3 "Total:" lines
    # 89.90 + 450.24 + 66.50 + 86.40 + 414.70 + 0.00
    assert df.spend.sum() == pytest.approx(1107.74)
    assert df.impressions.sum() == 1204 + 15872 + 8113 + 1150 + 14030 + 7920  # "1,204" etc.
    assert df.clicks.sum() == 310 + 402 + 95 + 288 + 377 + 0
    assert df.conversions.sum() == pytest.approx(21 + 9.5 + 2 + 18 + 7.33)
    assert df.conversions_value.sum() == pytest.approx(2140.50 + 1003.20 + 180 + 1877.25 + 799.00)
    assert set(df.platform) == {"google_ads"} and set(df.currency) == {"EUR"}
    by_campaign = df.groupby("campaign_name").first()
    assert by_campaign.loc["Acme Brand Exact", "channel"] == "Paid Search"
    assert by_campaign.loc["Shopping DE All", "channel"] == "Paid Shopping"  # campaign name says shopping
    assert bool(by_campaign.loc["Acme Brand Exact", "is_brand"]) is True  # brand term "acme"
    assert bool(by_campaign.loc["Generic Running Shoes", "is_brand"]) is False
    assert by_campaign.loc["Acme Brand Exact", "campaign_id"] == "20456781"


def test_google_ads_german_headers_and_decimal_commas(workspace, fixtures) -> None:
    import_file(workspace, "google-ads", fixtures / "google_ads_ui_de.csv")
    df = _ads(workspace)
    assert len(df) == 2  # "Gesamt: Konto" dropped
    assert df.spend.sum() == pytest.approx(89.90 + 1450.24)  # "89,90" and "1.450,24"
    assert df.impressions.sum() == 1204 + 15872  # "1.204" and "15.872"
    assert df.conversions_value.sum() == pytest.approx(2140.50 + 1003.20)


def test_google_ads_api_names_and_cost_micros(workspace, fixtures) -> None:
    import_file(workspace, "google-ads", fixtures / "google_ads_api.csv")
    df = _ads(workspace)
    assert df.spend.sum() == pytest.approx((89_900_000 + 450_240_000 + 86_400_000) / 1e6)
    assert df.conversions_value.sum() == pytest.approx(2140.5 + 1003.2 + 1877.25)  # not in micros
    assert set(df.account_id) == {"1234567890"}
    assert sorted(df.date_day.dt.date.unique()) == [date(2025, 1, 1), date(2025, 1, 2)]


def test_meta_ads_manager_csv(workspace, fixtures) -> None:
    import_file(workspace, "meta-ads", fixtures / "meta_ads_manager.csv")
    df = _ads(workspace)
    assert df.spend.sum() == pytest.approx(120.55 + 35.10 + 118.20 + 36.00)
    assert df.clicks.sum() == 240 + 77 + 231 + 81  # link clicks
    assert df.conversions.sum() == pytest.approx(4 + 3 + 2)  # one empty cell
    assert df.conversions_value.sum() == pytest.approx(312.40 + 255.00 + 149.90)
    assert set(df.currency) == {"EUR"}  # from "Amount spent (EUR)"
    assert sorted(df.date_day.dt.date.unique()) == [
        date(2025, 1, 1),
        date(2025, 1, 2),
    ]  # "Day", not the range
    assert set(df.channel) == {"Paid Social"}
    assert df.loc[df.ad_group_name == "Cart 7d", "reach"].tolist() == [
        1880,
        1902,
    ]  # kept per row, never summed


def test_meta_ads_manager_german_semicolons(workspace, fixtures) -> None:
    import_file(workspace, "meta-ads", fixtures / "meta_ads_manager_de.csv")
    df = _ads(workspace)
    assert df.spend.sum() == pytest.approx(120.55 + 1036.00)  # "120,55" and "1.036,00"
    assert df.conversions_value.sum() == pytest.approx(312.40 + 1149.90)
    assert df.impressions.sum() == 18040 + 4301


def test_meta_insights_json_counts_one_purchase_action_type(workspace, fixtures) -> None:
    import_file(workspace, "meta-ads", fixtures / "meta_insights.json")
    df = _ads(workspace)
    assert df.spend.sum() == pytest.approx(120.55 + 35.1 + 118.2)  # numbers as strings
    # row 1 lists pixel, purchase and omni purchase (4 each): counted once -> 4 + 3 + 0, not 12 + 6
    assert df.conversions.sum() == pytest.approx(7)
    assert df.conversions_value.sum() == pytest.approx(312.4 + 255)
    assert df.clicks.sum() == 240 + 77 + 231  # inline link clicks, not all clicks


def test_microsoft_ads_report_with_header_block_and_footer(workspace, fixtures) -> None:
    import_file(workspace, "microsoft-ads", fixtures / "microsoft_ads_campaign.csv")
    df = _ads(workspace)
    assert len(df) == 3
    assert df.spend.sum() == pytest.approx(23.75 + 22.00 + 1048.80)
    assert df.impressions.sum() == 820 + 790 + 3410
    assert df.conversions_value.sum() == pytest.approx(610.00 + 455.50 + 89.99)
    assert sorted(df.date_day.dt.date.unique()) == [date(2025, 1, 1), date(2025, 1, 2)]  # 1/2/2025 is Jan 2
    assert set(df.platform) == {"microsoft_ads"}


def _orders(ws: Workspace):
    return ws.table("orders").execute().set_index("order_id")


def test_shopify_orders_net_revenue_status_and_default_margin(tmp_path, fixtures) -> None:
    ws = Workspace.init(tmp_path / "w", WorkspaceConfig(default_margin=0.4))
    import_file(ws, "shopify-orders", fixtures / "shopify_orders.csv")
    df = _orders(ws)
    assert len(df) == 4  # five line-item rows, four orders
    # revenue = Total - Taxes - Shipping - Refunded Amount
    assert df.loc["#1001", "revenue"] == pytest.approx(94.80 - 15.14 - 4.90)
    assert df.loc["#1002", "revenue"] == pytest.approx(120.00 - 19.16 - 0.00 - 25.00)
    assert df.loc["#1003", "revenue"] == pytest.approx(49.90 - 7.97 - 4.90)
    # COGS = line price x quantity x (1 - 0.4)
    assert df.loc["#1002", "cogs"] == pytest.approx((2 * 33.33 + 66.67) * 0.6)
    assert df.loc["#1001", "status"] == "paid"
    assert df.loc["#1002", "status"] == "partially_refunded"
    assert df.loc["#1003", "status"] == "pending"
    assert df.loc["#1004", "status"] == "cancelled"  # Cancelled at is set
    # "Paid at 2025-01-01 23:40:12 +0100" is 22:40:12 UTC, still Jan 1 in Berlin
    assert str(df.loc["#1001", "ts"]) == "2025-01-01 22:40:12"
    assert df.loc["#1001", "customer_id"] == df.loc["#1004", "customer_id"]  # same e-mail, other case
    assert "@" not in df.loc["#1001", "customer_id"]
    ws.close()


def test_shopify_orders_cogs_from_product_cost_table(workspace, fixtures) -> None:
    workspace.config.default_margin = 0.4
    import_file(
        workspace,
        "shopify-orders",
        fixtures / "shopify_orders.csv",
        options={"product_costs": fixtures / "product_costs.csv"},
    )
    df = _orders(workspace)
    assert df.loc["#1001", "cogs"] == pytest.approx(31.50)
    assert df.loc["#1002", "cogs"] == pytest.approx(2 * 6.20 + 31.50)
    assert df.loc["#1003", "cogs"] == pytest.approx(45.00 * 0.6)  # CAP1 not in the table: default margin


def test_shopify_without_cost_source_leaves_cogs_null(workspace, fixtures) -> None:
    import_file(workspace, "shopify-orders", fixtures / "shopify_orders.csv")
    assert _orders(workspace).cogs.isna().all()


def test_google_offline_conversions_with_timezone_line_and_braids(workspace, fixtures) -> None:
    import_file(workspace, "offline-conversions", fixtures / "google_offline_conversions.csv")
    df = workspace.table("conversions").execute().sort_values("ts")
    assert df.value.sum() == pytest.approx(1200 + 850.50 + 0)
    assert df.is_offline.all()
    assert set(df.click_id) == {
        "Cj0KCQiA2Kq8BhCAARIsAHwH1aEXAMPLE1",
        "0AAAAA9kpE0zIi8EXAMPLE2",
        "Cj8KCQjwEXAMPLE3wbraid",
    }
    # 2025-01-06 00:30 Europe/Berlin = 2025-01-05 23:30 UTC, day cut in Berlin: Jan 6
    lead = df[df.type == "qualified_lead"].iloc[0]
    assert str(lead.ts) == "2025-01-05 23:30:00" and lead.date_day.date() == date(2025, 1, 6)


def test_microsoft_offline_conversions_with_utc_offset(workspace, fixtures) -> None:
    import_file(workspace, "offline-conversions", fixtures / "microsoft_offline_conversions.csv")
    df = workspace.table("conversions").execute().sort_values("ts")
    # 20:30 at -05:00 is 01:30 UTC next day; "01/06/2025 07:15" (US order) at -05:00 is 12:15 UTC
    assert [str(t) for t in df.ts] == ["2025-01-06 01:30:00", "2025-01-06 12:15:00"]
    assert df.value.sum() == pytest.approx(450.0)


def test_crm_export_gives_leads_and_won_deals(workspace, fixtures) -> None:
    import_file(workspace, "crm", fixtures / "crm_deals.csv")
    df = workspace.table("conversions").execute()
    assert (df.type == "lead").sum() == 4
    won = df[df.type == "deal_won"]
    assert sorted(won.conversion_id) == ["L-1001:deal_won", "L-1004:deal_won"]  # L-1003 was lost
    assert won.value.sum() == pytest.approx(1200.00 + 2450.00)


def _check_ga4(ws: Workspace) -> None:
    tp = ws.table("touchpoints").execute().set_index("session_id")
    assert len(tp) == 3  # the event without user_pseudo_id makes no session
    newsletter, bing, paid = tp.loc["1735722000"], tp.loc["1735740000"], tp.loc["1735772400"]
    assert (newsletter.source, newsletter.medium, newsletter.campaign, newsletter.channel) == (
        "newsletter",
        "email",
        "jan_sale",
        "Email",
    )
    assert bool(newsletter.engaged) and newsletter.pageviews == 1
    assert (bing.source, bing.medium, bing.channel) == ("bing.com", "organic", "Organic Search")
    assert bing.pageviews == 2 and bool(bing.engaged)  # session_engaged as int 1
    assert (paid.source, paid.medium, paid.channel) == ("google", "cpc", "Paid Search")  # gclid only
    assert paid.click_id == "Cj0KCQiA2Kq8BhCAARIsAHwH1aEXAMPLE1" and not bool(paid.engaged)
    # 1735772400 s = 2025-01-01 23:00 UTC = 2025-01-02 00:00 in Berlin
    assert str(paid.ts) == "2025-01-01 23:00:00" and paid.date_day.date() == date(2025, 1, 2)
    conv = ws.table("conversions").execute()
    assert conv.type.tolist() == ["purchase"] and conv.value.tolist() == [89.9]
    assert conv.order_id.tolist() == ["1001"] and conv.currency.tolist() == ["EUR"]


def test_ga4_export_ndjson(workspace, fixtures) -> None:
    result = import_file(workspace, "ga4", fixtures / "ga4_events.ndjson")
    assert result.rows == {"touchpoints": 3, "conversions": 1}
    _check_ga4(workspace)


def test_ga4_export_parquet(workspace, fixtures, tmp_path) -> None:
    # BigQuery's Parquet export types: INT64 event_timestamp and int_value, nested records
    path = tmp_path / "events_20250101.parquet"
    params = (
        "STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, "
        "double_value DOUBLE))[]"
    )
    traffic = (
        "STRUCT(manual_source VARCHAR, manual_medium VARCHAR, manual_campaign_name VARCHAR, gclid VARCHAR)"
    )
    cols = {
        "event_date": "VARCHAR",
        "event_timestamp": "BIGINT",
        "event_name": "VARCHAR",
        "user_pseudo_id": "VARCHAR",
        "event_params": params,
        "collected_traffic_source": traffic,
        "ecommerce": "STRUCT(transaction_id VARCHAR, purchase_revenue DOUBLE)",
    }
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_json('{fixtures / 'ga4_events.ndjson'}', format='newline_delimited', "
        f"columns={cols})) TO '{path}' (FORMAT parquet)"
    )
    con.close()
    assert pq.read_schema(path).field("event_timestamp").type == "int64"
    import_file(workspace, "ga4", path)
    _check_ga4(workspace)


def _event(user: str, session: int, ts_s: int, name: str, **params: int | str) -> str:
    kv = [{"key": "ga_session_id", "value": {"int_value": str(session)}}]
    kv += [
        {"key": k, "value": {"int_value": str(v)} if isinstance(v, int) else {"string_value": v}}
        for k, v in params.items()
    ]
    return json.dumps(
        {
            "event_date": "20250101",
            "event_timestamp": str(ts_s * 1_000_000),
            "event_name": name,
            "user_pseudo_id": user,
            "event_params": kv,
        }
    )


def test_ga4_engagement_without_the_session_engaged_flag(workspace, tmp_path) -> None:
    # GA4: a session is engaged after 10 s of engagement time or with 2 or more page views
    lines = [
        _event("a", 1, 1735722000, "page_view", page_location="https://shop.example/"),
        _event("a", 1, 1735722012, "user_engagement", engagement_time_msec=12000),  # 12 s: engaged
        _event("b", 2, 1735722000, "page_view", page_location="https://shop.example/"),
        _event("b", 2, 1735722003, "user_engagement", engagement_time_msec=3000),  # 3 s, 1 view: not
        _event("c", 3, 1735722000, "page_view", page_location="https://shop.example/"),
        _event("c", 3, 1735722030, "page_view", page_location="https://shop.example/p/1"),  # 2 views: engaged
    ]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    import_file(workspace, "ga4", path)
    tp = workspace.table("touchpoints").execute().set_index("user_id")
    assert tp.engaged.to_dict() == {"a": True, "b": False, "c": True}
    assert tp.pageviews.to_dict() == {"a": 1, "b": 1, "c": 2}
    assert set(tp.channel) == {"Direct"}


def test_shopify_order_without_any_time_is_refused(workspace, tmp_path) -> None:
    """Found by the hypothesis broken-file test: a damaged 'Created at' header left a pending order (no 'Paid
    at') without a time; it must be refused with its row, not loaded with a null timestamp."""
    header = (
        "Name,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,Total,Creat3d at,"
        "Lineitem quantity,Lineitem name,Lineitem price\n"
    )
    rows = (
        "#1001,a@example.de,paid,2025-01-01 23:40:12 +0100,EUR,89.90,4.90,15.14,94.80,"
        "2025-01-01 23:39:58 +0100,1,Cap,89.90\n"
        "#1003,l@example.org,pending,,EUR,45.00,4.90,7.97,49.90,2025-01-02 18:05:33 +0100,1,Cap,45.00\n"
    )
    path = tmp_path / "orders_export.csv"
    path.write_text(header + rows, encoding="utf-8")
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "shopify-orders", path)
    assert (err.value.row, err.value.column) == (2, "Created at")  # data rows, as everywhere
    assert workspace.checksum() == before


def test_shopify_orders_without_financial_status_load_as_pending(workspace, fixtures, tmp_path) -> None:
    """Found by the hypothesis damaged-export test: without a Financial Status column (here its header is
    damaged) the import crashed on the all-empty column; the orders load, none counted as paid (unknown),
    the one with Cancelled at as cancelled."""
    text = (fixtures / "shopify_orders.csv").read_text(encoding="utf-8")
    assert "Financial Status" in text
    path = tmp_path / "orders_export.csv"
    path.write_text(text.replace("Financial Status", "\x00inancial Status", 1), encoding="utf-8")
    import_file(workspace, "shopify-orders", path)
    df = _orders(workspace)
    assert len(df) == 4
    assert df["status"].to_dict() == {
        "#1001": "pending",
        "#1002": "pending",
        "#1003": "pending",
        "#1004": "cancelled",
    }
