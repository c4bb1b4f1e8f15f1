"""Generic canonical formats: derivations, FX refusal, precise errors, idempotency, replacement, atomicity."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import detect_format, import_file
from trueroi.workspace import Workspace


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_orders_need_fx_rates_for_foreign_currencies(workspace, fixtures) -> None:
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "orders", fixtures / "orders.csv")
    message = str(err.value)
    assert "CHF on 1 day(s): 2025-01-02" in message and "USD on 1 day(s): 2025-01-02" in message
    assert "fx-rates" in message
    assert workspace.checksum() == before  # nothing written, no silent rate of 1.0


def test_orders_after_fx_rates(workspace, fixtures) -> None:
    import_file(workspace, "fx-rates", fixtures / "fx_rates.csv")
    import_file(workspace, "orders", fixtures / "orders.csv")
    df = workspace.table("orders").execute().set_index("order_id")
    assert df.revenue.sum() == pytest.approx(290.0)  # kept in the file's currencies: 100 + 50 + 80 + 60
    assert df.currency.to_dict() == {"A-1": "EUR", "A-2": "EUR", "A-3": "USD", "A-4": "CHF"}
    # 23:30 in Berlin (no offset given) is 22:30 UTC on Jan 1; +01:00 noon is 11:00 UTC
    assert str(df.loc["A-2", "ts"]) == "2025-01-01 22:30:00" and df.loc["A-2", "date_day"].date() == date(
        2025, 1, 1
    )
    assert str(df.loc["A-3", "ts"]) == "2025-01-02 11:00:00"
    assert df.loc["A-4", "status"] == "cancelled"  # lower-cased
    assert pd.isna(df.loc["A-2", "cogs"])


def test_default_margin_fills_missing_cogs(workspace, fixtures) -> None:
    workspace.config.default_margin = 0.35
    import_file(workspace, "fx-rates", fixtures / "fx_rates.csv")
    import_file(workspace, "orders", fixtures / "orders.csv")
    df = workspace.table("orders").execute().set_index("order_id")
    assert df.loc["A-2", "cogs"] == pytest.approx(50.0 * 0.65)
    assert df.loc["A-1", "cogs"] == pytest.approx(40.0)  # the file's value wins


def test_ad_performance_derives_channel_and_brand(workspace, fixtures) -> None:
    import_file(workspace, "fx-rates", fixtures / "fx_rates.csv")
    import_file(workspace, "ad-performance", fixtures / "ad_performance.csv")
    df = workspace.table("ad_performance").execute()
    assert df.spend.sum() == pytest.approx(10.50 + 30.00 + 11.25 + 20.00)
    channels = dict(zip(df.campaign_id, df.channel, strict=False))
    assert channels == {"c1": "Paid Search", "c2": "Paid Search", "m1": "Paid Social"}
    assert df.set_index("campaign_id").is_brand.groupby(level=0).first().to_dict() == {
        "c1": True,
        "c2": False,
        "m1": False,
    }


def test_costs_and_conversions(workspace, fixtures) -> None:
    import_file(workspace, "fx-rates", fixtures / "fx_rates.csv")
    import_file(workspace, "costs", fixtures / "costs.csv")
    import_file(workspace, "conversions", fixtures / "conversions.csv")
    costs = workspace.table("costs").execute()
    assert costs.amount.sum() == pytest.approx(549.0) and set(costs.category) == {"agency_fee", "tools"}
    conv = workspace.table("conversions").execute().set_index("conversion_id")
    assert conv.loc["cv2", "value"] == 25.0 and conv.loc["cv1", "type"] == "signup"


TOUCH_EXPECTED = {
    # session: (source, medium, campaign, click_id, channel, is_brand) -- written from the URLs by hand
    "s1": ("google", "cpc", "acme brand", "Cj0KEXAMPLEgclid", "Paid Search", True),
    "s2": ("facebook", "paid_social", "prospecting", "IwAR0EXAMPLE", "Paid Social", False),
    "s3": ("google", "cpc", None, "0AAAAAEXAMPLEgbraid", "Paid Search", False),
    "s4": ("bing", "cpc", None, "3c4dEXAMPLEmsclkid", "Paid Search", False),
    "s5": ("google.de", "organic", None, None, "Organic Search", False),
    "s6": ("(direct)", "(none)", None, None, "Direct", False),
    "s7": ("newsletter", "email", "jan_sale", None, "Email", False),
    "s8": ("newsletter", "email", "jan_sale", None, "Email", False),  # mixed case lower-cased
}


def test_touchpoints_parse_utm_and_click_ids(workspace, fixtures) -> None:
    import_file(workspace, "touchpoints", fixtures / "touchpoints.csv")
    df = workspace.table("touchpoints").execute().set_index("session_id")
    for session, (source, medium, campaign, click, channel, brand) in TOUCH_EXPECTED.items():
        row = df.loc[session]
        got = (
            row.source,
            row.medium,
            None if pd.isna(row.campaign) else row.campaign,
            None if pd.isna(row.click_id) else row.click_id,
            row.channel,
            bool(row.is_brand),
        )
        assert got == (source, medium, campaign, click, channel, brand), session
    assert df.loc["s1", "term"] == "acme shoes"  # '+' and %20 decoded
    assert df.loc["s2", "date_day"].date() == date(2025, 1, 1)  # 23:30 local stays on Jan 1
    assert df.touch_id.is_unique


def test_parquet_input(workspace, tmp_path) -> None:
    path = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table(
            {
                "order_id": ["P1", "P2"],
                "ts": pa.array(
                    [pd.Timestamp("2025-01-01 10:00"), pd.Timestamp("2025-01-02 10:00")],
                    pa.timestamp("us", tz="UTC"),
                ),
                "currency": ["EUR", "EUR"],
                "revenue": [12.5, 7.5],
            }
        ),
        path,
    )
    assert detect_format(path) == "orders"
    import_file(workspace, "orders", path)
    assert workspace.table("orders").revenue.sum().execute() == pytest.approx(20.0)


def test_same_file_twice_changes_nothing(workspace, fixtures) -> None:
    import_file(workspace, "fx-rates", fixtures / "fx_rates.csv")
    for fmt, name in [
        ("orders", "orders.csv"),
        ("touchpoints", "touchpoints.csv"),
        ("google-ads", "google_ads_ui_utf16.csv"),
        ("ga4", "ga4_events.ndjson"),
    ]:
        first = import_file(workspace, fmt, fixtures / name)
        before = workspace.checksum()
        again = import_file(workspace, fmt, fixtures / name)
        assert not first.skipped and again.skipped, name
        assert workspace.checksum() == before, name


def test_corrected_reexport_replaces_overlapping_days(workspace, tmp_path) -> None:
    header = "Day,Campaign,Campaign ID,Currency code,Impr.,Clicks,Cost\n"
    first = _write(
        tmp_path / "jan1-2.csv",
        header + "2025-01-01,Brand,1,EUR,100,10,5.00\n"
        "2025-01-02,Brand,1,EUR,100,10,6.00\n2025-01-02,Generic,2,EUR,100,10,7.00\n",
    )
    second = _write(
        tmp_path / "jan2-3.csv",
        header + "2025-01-02,Brand,1,EUR,100,10,6.50\n2025-01-03,Brand,1,EUR,100,10,8.00\n",
    )
    import_file(workspace, "google-ads", first)
    result = import_file(workspace, "google-ads", second)
    assert result.replaced == 1  # Brand on Jan 2
    df = workspace.table("ad_performance").execute()
    assert df.spend.sum() == pytest.approx(5.00 + 6.50 + 7.00 + 8.00)
    assert len(df) == 4


def test_bad_values_are_reported_with_row_and_column(workspace, tmp_path) -> None:
    path = _write(
        tmp_path / "orders.csv",
        """
        order_id,ts,currency,revenue
        1,2025-01-01 10:00,EUR,10
        2,2025-01-01 11:00,EUR,"12,5O"
        3,2025-13-45 10:00,EUR,5
        4,2025-01-01 12:00,EURO,-3
        """,
    )
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "orders", path)
    exc = err.value
    assert (exc.file, exc.row, exc.column) == ("orders.csv", 2, "revenue")
    text = str(exc)
    assert "'12,5O' is not a number" in text
    assert "row 3, column ts: '2025-13-45 10:00'" in text
    assert "row 4, column currency: 'EURO' is not an ISO 4217" in text
    assert "row 4, column revenue: -3.0 is negative" in text
    assert "4 problems in all" in text
    assert workspace.checksum() == before


def test_problem_list_is_capped_with_a_count(workspace, tmp_path) -> None:
    rows = "".join(f"{i},2025-01-01 10:00,EUR,x{i}\n" for i in range(50))
    path = _write(tmp_path / "orders.csv", "order_id,ts,currency,revenue\n" + rows)
    # one line for the 50 equal problems: the first, the count, and the next rows
    with pytest.raises(
        DataValidationError, match=r"50 problems in all; the same in rows 2, 3, 4, 5, 6 and 44 more"
    ):
        import_file(workspace, "orders", path)


def test_missing_columns_and_truncated_rows(workspace, tmp_path) -> None:
    no_rev = _write(tmp_path / "a.csv", "order_id,ts,currency\n1,2025-01-01,EUR\n")
    with pytest.raises(DataValidationError, match="missing required column.*revenue"):
        import_file(workspace, "orders", no_rev)
    short = _write(tmp_path / "b.csv", "order_id,ts,currency,revenue\n1,2025-01-01,EUR,1\n2,2025-01-01\n")
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "orders", short)
    assert err.value.row == 2 and "row 2 has 2" in str(err.value)


def test_future_dates_and_unknown_currency_are_refused(workspace, tmp_path) -> None:
    path = _write(
        tmp_path / "fx.csv", "date_day,currency,rate_to_base\n2999-01-01,USD,0.9\n2025-01-01,XYZ,1.1\n"
    )
    with pytest.raises(DataValidationError) as err:
        import_file(workspace, "fx-rates", path)
    assert "is in the future" in str(err.value) and "'XYZ' is not an ISO 4217" in str(err.value)


def test_detect_names_each_fixture(fixtures) -> None:
    expected = {
        "google_ads_ui_utf16.csv": "google-ads",
        "google_ads_ui_de.csv": "google-ads",
        "google_ads_api.csv": "google-ads",
        "meta_ads_manager.csv": "meta-ads",
        "meta_ads_manager_de.csv": "meta-ads",
        "microsoft_ads_campaign.csv": "microsoft-ads",
        "shopify_orders.csv": "shopify-orders",
        "google_offline_conversions.csv": "offline-conversions",
        "microsoft_offline_conversions.csv": "offline-conversions",
        "crm_deals.csv": "crm",
        "ga4_events.ndjson": "ga4",
        "fx_rates.csv": "fx-rates",
        "orders.csv": "orders",
        "ad_performance.csv": "ad-performance",
        "costs.csv": "costs",
        "touchpoints.csv": "touchpoints",
        "conversions.csv": "conversions",
    }
    assert {name: detect_format(fixtures / name) for name in expected} == expected


KILL_SCRIPT = """
import sys, time
from trueroi.ingest import import_file
from trueroi.workspace import Workspace
ws = Workspace.open(sys.argv[1])
seen = []
def on_rows(n):
    seen.append(n)
    if len(seen) == 2:  # the first chunk is staged inside the open transaction
        print("midway", flush=True)
        time.sleep(60)
import_file(ws, "touchpoints", sys.argv[2], on_rows=on_rows)
"""


@pytest.mark.slow
def test_a_load_killed_midway_leaves_no_partial_rows(workspace, tmp_path) -> None:
    path = tmp_path / "touches.csv"
    rows = [
        f"u{i},2025-01-01 10:{i % 60:02d}:00,https://shop.example/?utm_source=google&utm_medium=cpc\n"
        for i in range(450_000)
    ]
    path.write_text("user_id,ts,landing_page\n" + "".join(rows))
    import_file(workspace, "fx-rates", Path(__file__).parent / "fixtures" / "fx_rates.csv")
    before = workspace.checksum()
    workspace.close()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(workspace.path), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout.readline().strip() == "midway"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    reopened = Workspace.open(workspace.path)
    assert reopened.checksum() == before
    assert reopened.row_count("touchpoints") == 0
    reopened.close()


def test_corrected_touchpoint_export_replaces_the_days_it_covers(workspace, tmp_path) -> None:
    """With ``replace=True`` (``import --replace``) a re-export replaces the days it covers; without it
    nothing is deleted silently (tests/ingest/test_replace.py)."""
    header = "user_id,ts,session_id,landing_page\n"
    first = _write(
        tmp_path / "sessions-jan1-2.csv",
        header + "u1,2025-01-01 10:00:00,s1,https://shop.example/?utm_source=google&utm_medium=cpc\n"
        "u2,2025-01-02 10:00:00,s2,https://shop.example/\n"
        "u3,2025-01-02 11:00:00,s3,https://shop.example/?utm_source=newsletter&utm_medium=email\n",
    )
    # The re-export of Jan 2 (one session had been double-logged and is gone) plus the new day Jan 3.
    second = _write(
        tmp_path / "sessions-jan2-3.csv",
        header + "u3,2025-01-02 11:00:00,s3,https://shop.example/?utm_source=newsletter&utm_medium=email\n"
        "u4,2025-01-03 09:00:00,s4,https://shop.example/\n",
    )
    import_file(workspace, "touchpoints", first)
    result = import_file(workspace, "touchpoints", second, replace=True)
    assert result.replaced == 2  # s2 and s3 of Jan 2 from the first export
    df = workspace.table("touchpoints").execute().sort_values("session_id")
    assert df.session_id.tolist() == ["s1", "s3", "s4"]
    # Another source's sessions on the same days are not touched by a re-export of this one.
    import_file(workspace, "ga4", Path(__file__).parent / "fixtures" / "ga4_events.ndjson")
    ga4_rows = workspace.row_count("touchpoints") - 3
    third = _write(
        tmp_path / "sessions-jan3.csv", header + "u5,2025-01-03 09:30:00,s5,https://shop.example/\n"
    )
    assert import_file(workspace, "touchpoints", third, replace=True).replaced == 1
    assert workspace.row_count("touchpoints") == 3 + ga4_rows
