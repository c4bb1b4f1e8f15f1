"""The README's Shopify + GA4 recipe end to end (issue 24, item 1): a Shopify orders export (Name and Id), a
GA4 BigQuery export (NDJSON or Parquet) with purchase events carrying ``transaction_id``, and a Google Ads UI
export, imported in either order. Orders have no user; the warehouse joins them to the tracked purchases by
transaction id (Shopify's ``Name`` with or without ``#``, or its numeric ``Id``), so the paid channels get
their orders' revenue.

The shop (all times UTC, March 2025; revenue = Total - Taxes - Shipping):

=======  ===============  ==============================================  ===============  =======
order    Shopify Id       GA4 user and sessions before the purchase       last non-direct  revenue
=======  ===============  ==============================================  ===============  =======
#1001    5623456789001    u1: google/cpc "Generic Shoes" 03-03, direct    Paid Search      100.00
#1002    5623456789002    u2: newsletter/email 03-02, facebook/paid 03-05 Paid Social      200.00
#1003    5623456789003    u3: google/organic 03-04                        Organic Search    50.00
#1004    5623456789004    u4: direct only 03-05                           Direct            30.00
#1005    5623456789005    no tracked purchase                             (unattributed)    20.00
=======  ===============  ==============================================  ===============  =======

GA4 also holds one purchase whose transaction id is no order's (``T-999``). Google Ads spent 40.00 EUR on
"Generic Shoes" (Paid Search): ROAS 100 / 40 = 2.5, media ROI (100 - 0 COGS - 40) / 40 = 1.5 (no COGS known).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.ingest import import_file, import_files
from trueroi.metrics import kpi_report
from trueroi.workspace import Workspace
from trueroi.workspace.imports import remove_import
from trueroi.workspace.links import order_links

ORDERS = {  # name -> (Shopify Id, GA4 user or None, Total, Taxes, Shipping, paid at UTC)
    "#1001": ("5623456789001", "111.1", "119.00", "19.00", "0.00", "2025-03-04 10:05:00"),
    "#1002": ("5623456789002", "222.2", "242.90", "38.00", "4.90", "2025-03-05 14:10:00"),
    "#1003": ("5623456789003", "333.3", "59.50", "9.50", "0.00", "2025-03-04 16:30:00"),
    "#1004": ("5623456789004", "444.4", "40.60", "5.70", "4.90", "2025-03-05 19:00:00"),
    "#1005": ("5623456789005", None, "23.80", "3.80", "0.00", "2025-03-06 08:00:00"),
}
# user -> sessions (start UTC, source, medium, campaign, gclid); the purchase follows the last one
SESSIONS = {
    "111.1": [
        ("2025-03-03 09:00:00", "google", "cpc", "Generic Shoes", "Cj0KCQ-e2e-1"),
        ("2025-03-04 10:00:00", None, None, None, None),
    ],
    "222.2": [
        ("2025-03-02 08:00:00", "newsletter", "email", "march", None),
        ("2025-03-05 14:00:00", "facebook", "paid", "spring", None),
    ],
    "333.3": [("2025-03-04 16:20:00", "google", "organic", None, None)],
    "444.4": [("2025-03-05 18:50:00", None, None, None, None)],
}
EXPECTED = {
    "Paid Search": 100.0,
    "Paid Social": 200.0,
    "Organic Search": 50.0,
    "Direct": 30.0,
    "(unattributed)": 20.0,
}


def _micros(ts: str) -> int:
    return int(datetime.fromisoformat(ts).replace(tzinfo=UTC).timestamp() * 1_000_000)


def _param(key: str, string: str | None = None, integer: int | None = None) -> dict:
    value = {"string_value": string, "int_value": integer, "float_value": None, "double_value": None}
    return {"key": key, "value": value}


def _event(user: str, ts: str, name: str, session: int, traffic: tuple, page: str) -> dict:
    source, medium, campaign, gclid = traffic
    return {
        "event_date": ts[:10].replace("-", ""),
        "event_timestamp": _micros(ts),
        "event_name": name,
        "event_params": [_param("ga_session_id", integer=session), _param("page_location", string=page)],
        "user_pseudo_id": user,
        "collected_traffic_source": {
            "manual_source": source,
            "manual_medium": medium,
            "manual_campaign_name": campaign,
            "manual_term": None,
            "manual_content": None,
            "gclid": gclid,
            "dclid": None,
        },
        "ecommerce": None,
    }


def _purchase(user: str, ts: str, session: int, transaction_id: str, revenue: float) -> dict:
    event = _event(user, ts, "purchase", session, (None, None, None, None), "https://shop.example/thanks")
    event["event_params"].append(_param("currency", string="EUR"))
    event["ecommerce"] = {"transaction_id": transaction_id, "purchase_revenue": revenue}
    return event


def _transaction_id(name: str, style: str) -> str:
    return {"name": name, "bare": name.lstrip("#"), "id": ORDERS[name][0]}[style]


def ga4_events(style: str) -> list[dict]:
    """GA4 BigQuery export rows: each session's session_start and page_view, then each user's purchase."""
    rows = []
    for user, sessions in SESSIONS.items():
        session = 0
        for start, *traffic in sessions:
            session = _micros(start) // 1_000_000
            page = "https://shop.example/"
            for offset, name in (("00", "session_start"), ("01", "page_view")):
                rows.append(_event(user, start[:-2] + offset, name, session, tuple(traffic), page))
        name = next(n for n, o in ORDERS.items() if o[1] == user)
        revenue = float(ORDERS[name][2])
        rows.append(_purchase(user, ORDERS[name][5], session, _transaction_id(name, style), revenue))
    rows.append(_purchase("444.4", "2025-03-05 19:01:00", session, "T-999", 9.99))  # no order has it
    return rows


def write_ga4(folder: Path, style: str, fmt: str) -> Path:
    rows = ga4_events(style)
    if fmt == "parquet":
        path = folder / "events_20250302.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:  # BigQuery's JSON export writes INT64 as strings
        path = folder / "events_20250302.json"
        lines = [json.dumps({**r, "event_timestamp": str(r["event_timestamp"])}) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_shopify(folder: Path) -> Path:
    """Shopify's orders export: one row per line item, order fields on the first row, Id near the end."""
    header = "Name,Email,Financial Status,Paid at,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,"
    header += "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Refunded Amount,Id"
    lines = [header]
    for name, (shop_id, _, total, taxes, shipping, paid) in ORDERS.items():
        at = f"{paid} +0000"
        subtotal = f"{float(total) - float(shipping):.2f}"
        lines.append(
            f"{name},c{name[1:]}@example.de,paid,{at},EUR,{subtotal},{shipping},{taxes},{total},0.00,{at},"
            f"1,Trail Runner,{subtotal},TR-1,0.00,{shop_id}"
        )
    path = folder / "orders_export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_google_ads(folder: Path) -> Path:
    """Google Ads' UI download (report title, date range, header, a total row)."""
    path = folder / "Campaign report.csv"
    path.write_text(
        "Campaign report\n"
        "March 1, 2025 - March 6, 2025\n"
        "Day,Campaign,Campaign ID,Currency code,Impr.,Clicks,Cost\n"
        "2025-03-03,Generic Shoes,30012,EUR,1000,25,40.00\n"
        "Total: Account,--,--,EUR,1000,25,40.00\n",
        encoding="utf-8",
    )
    return path


def _revenue_by_channel(ws: Workspace) -> dict[str, float]:
    report = kpi_report(ws, by="channel", start=date(2025, 3, 1), end=date(2025, 3, 6), extras=False)
    rows = report.rows.set_index("channel")
    return {ch: round(float(r), 2) for ch, r in rows["revenue"].items() if r}


def _load(ws: Workspace, files: dict[str, Path], first: str) -> None:
    order = ["shopify-orders", "ga4"] if first == "orders" else ["ga4", "shopify-orders"]
    for fmt in [*order, "google-ads"]:
        import_file(ws, fmt, files[fmt])


@pytest.mark.parametrize("first", ["orders", "ga4"])
@pytest.mark.parametrize("style", ["name", "bare", "id"])
def test_paid_channels_get_their_orders_revenue(workspace: Workspace, tmp_path, style, first) -> None:
    files = {
        "shopify-orders": write_shopify(tmp_path),
        "ga4": write_ga4(tmp_path, style, "ndjson"),
        "google-ads": write_google_ads(tmp_path),
    }
    _load(workspace, files, first)
    assert _revenue_by_channel(workspace) == EXPECTED
    report = kpi_report(workspace, by="channel", start=date(2025, 3, 1), end=date(2025, 3, 6), extras=False)
    search = report.rows.set_index("channel").loc["Paid Search"]
    assert search["spend"] == pytest.approx(40.0)
    assert search["roas"] == pytest.approx(100.0 / 40.0)
    assert search["media_roi"] == pytest.approx((100.0 - 40.0) / 40.0)
    orders = workspace.table("orders").execute().set_index("order_id")
    assert orders.loc["#1001", "user_id"] == "111.1" and orders.loc["#1001", "order_ref"] == "5623456789001"
    assert orders["user_linked"].eq(True).sum() == 4
    links = order_links(workspace)
    assert (links.orders, links.linked, links.unlinked) == (5, 4, 1)
    assert (links.purchases, links.purchases_unmatched) == (5, 1)  # T-999
    assert links.unlinked_revenue_share == pytest.approx(20.0 / 400.0)


def test_parquet_export_and_auto_detection(workspace: Workspace, tmp_path) -> None:
    paths = [write_google_ads(tmp_path), write_ga4(tmp_path, "id", "parquet"), write_shopify(tmp_path)]
    batch = import_files(workspace, "auto", paths)
    assert [i["format"] for i in batch.imports] == ["google-ads", "ga4", "shopify-orders"]
    assert _revenue_by_channel(workspace) == EXPECTED
    linked = batch.to_dict()["order_links"]
    assert (linked["linked"], linked["unlinked"], linked["purchases_unmatched"]) == (4, 1, 1)


def test_reimports_keep_the_link_and_follow_a_changed_purchase(workspace: Workspace, tmp_path) -> None:
    shop = write_shopify(tmp_path)
    import_file(workspace, "shopify-orders", shop)
    import_file(workspace, "ga4", write_ga4(tmp_path, "name", "ndjson"))
    # a re-export of the shop (a changed total) replaces the orders by key: the new rows are linked again
    shop.write_text(shop.read_text().replace("59.50", "60.50"), encoding="utf-8")
    result = import_file(workspace, "shopify-orders", shop)
    assert result.replaced == 5
    assert order_links(workspace).linked == 4
    # a GA4 re-export where #1003's purchase now belongs to another user moves the order with it
    events = [e for e in ga4_events("name") if e["event_name"] == "purchase"]
    for event in events:
        if event["ecommerce"]["transaction_id"] == "#1003":
            event["user_pseudo_id"] = "999.9"
    path = tmp_path / "events_fix.json"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    import_file(workspace, "ga4", path)
    orders = workspace.table("orders").execute().set_index("order_id")
    assert orders.loc["#1003", "user_id"] == "999.9"


def test_an_order_with_a_user_of_its_own_keeps_it(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,user_id,ts,currency,revenue,status\n1001,own.user,2025-03-04 10:05:00,EUR,100,paid\n"
    )
    import_file(workspace, "orders", path)
    import_file(workspace, "ga4", write_ga4(tmp_path, "bare", "ndjson"))
    orders = workspace.table("orders").execute()
    assert orders["user_id"].tolist() == ["own.user"]
    assert orders["user_linked"].isna().all()


def test_an_older_warehouse_gets_the_new_columns(workspace: Workspace, tmp_path) -> None:
    with workspace.writing() as raw:
        raw.execute("ALTER TABLE orders DROP COLUMN order_ref")
        raw.execute("ALTER TABLE orders DROP COLUMN user_linked")
    assert order_links(workspace).linked == 0  # readable before any load
    import_file(workspace, "ga4", write_ga4(tmp_path, "id", "ndjson"))
    import_file(workspace, "shopify-orders", write_shopify(tmp_path))
    assert order_links(workspace).linked == 4


def test_cli_import_says_what_matched(workspace: Workspace, tmp_path) -> None:
    ws = str(workspace.path)
    workspace.close()
    shop = write_shopify(tmp_path)
    files = [str(shop), str(write_ga4(tmp_path, "bare", "ndjson"))]
    table = CliRunner().invoke(build_app(), ["import", "auto", *files, "--workspace", ws])
    assert table.exit_code == 0, table.output
    assert "4 of 5 orders linked to tracked purchases" in " ".join(table.stdout.split())
    shop.write_text(shop.read_text().replace("59.50", "60.50"), encoding="utf-8")  # a re-export
    args = ["import", "auto", str(shop), "--workspace", ws, "--format", "json"]
    run = CliRunner().invoke(build_app(), args)
    assert run.exit_code == 0, run.output
    links = json.loads(run.stdout)["order_links"]
    assert (links["orders"], links["linked"], links["unlinked"]) == (5, 4, 1)


def test_removing_the_purchases_import_unlinks_its_orders(workspace: Workspace, tmp_path) -> None:
    import_file(workspace, "shopify-orders", write_shopify(tmp_path))
    ga4 = import_file(workspace, "ga4", write_ga4(tmp_path, "name", "ndjson"))
    assert order_links(workspace).linked == 4
    remove_import(workspace, ga4.import_id)
    orders = workspace.table("orders").execute()
    # the four orders that took their user from a GA4 purchase have none again; nothing else changed
    assert orders["user_id"].isna().all() and orders["user_linked"].isna().all()
    assert len(orders) == 5 and order_links(workspace).linked == 0


def test_opening_an_older_warehouse_adds_the_new_columns(workspace: Workspace) -> None:
    with workspace.writing() as raw:
        raw.execute("ALTER TABLE orders DROP COLUMN user_linked")
    workspace.create_tables()
    assert "user_linked" in workspace.table("orders").columns
