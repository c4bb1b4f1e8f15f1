"""The refunded and cancelled orders finding: how many, and how much revenue, in the base currency.

Every amount below is worked out by hand from the rows the test loads.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

from trueroi.ingest import import_file
from trueroi.quality import findings
from trueroi.workspace import Workspace

FIXTURES = Path(__file__).parents[1] / "ingest" / "fixtures"


def _order(oid: str, revenue: float | None, status: str, currency: str = "EUR", day: int = 2) -> dict:
    return {
        "order_id": oid,
        "user_id": f"u-{oid}",
        "ts": datetime(2025, 1, day, 12),
        "date_day": date(2025, 1, day),
        "currency": currency,
        "revenue": revenue,
        "status": status,
    }


def _load(ws: Workspace, table: str, rows: list[dict], sha: str) -> None:
    ws.load({table: pd.DataFrame(rows)}, source_format="test", file_name=f"{sha}.csv", sha256=sha)


def _refunds(ws: Workspace):  # noqa: ANN202
    found = {f.code: f for f in findings(ws)}
    return found["refunds_cancellations"]


def test_refunded_revenue_in_a_foreign_currency_is_converted(workspace: Workspace) -> None:
    # 2 paid orders; refunded: 40 EUR + 100 USD at 0.90 EUR per USD on 2 January = 40 + 90 = 130.00 EUR
    _load(
        workspace, "fx_rates", [{"date_day": date(2025, 1, 2), "currency": "USD", "rate_to_base": 0.9}], "fx"
    )
    rows = [
        _order("p1", 50.0, "paid"),
        _order("p2", 60.0, "paid"),
        _order("r1", 40.0, "refunded"),
        _order("r2", 100.0, "refunded", "USD"),
    ]
    _load(workspace, "orders", rows, "o")
    refunds = _refunds(workspace)
    assert refunds.count == 2 and "50%" in refunds.title
    assert refunds.examples == ["refunded: 2 orders, 130.00 EUR"]


def test_refunds_netted_out_of_revenue_are_not_reported_as_zero(workspace: Workspace) -> None:
    # A shop export that subtracts the refund from the order's revenue stores a fully refunded order at 0:
    # its refunded amount is not in the warehouse, and "0.00 EUR" would be false. Of 3 refunded orders, one
    # kept its revenue (40), two were netted to 0: 40.00 EUR known, 2 orders of unknown amount.
    rows = [
        _order("p1", 50.0, "paid"),
        _order("r1", 40.0, "refunded"),
        _order("r2", 0.0, "refunded"),
        _order("r3", 0.0, "refunded"),
        _order("c1", 0.0, "cancelled"),
    ]
    _load(workspace, "orders", rows, "o")
    refunds = _refunds(workspace)
    assert refunds.count == 4
    assert sorted(refunds.examples) == [
        "cancelled: 1 orders, amount unknown (1 with revenue 0)",
        "refunded: 3 orders, 40.00 EUR (and 2 with revenue 0, amount unknown)",
    ]
    assert "refund" in refunds.detail and "revenue 0" in refunds.detail


def test_refunds_without_an_exchange_rate_are_named_not_dropped(workspace: Workspace) -> None:
    # 2 refunded orders: 40 EUR, and 100 USD on a day without a USD rate (its amount is unknown in EUR).
    rows = [
        _order("p1", 50.0, "paid"),
        _order("r1", 40.0, "refunded"),
        _order("r2", 100.0, "refunded", "USD", day=3),
    ]
    _load(
        workspace, "fx_rates", [{"date_day": date(2025, 1, 2), "currency": "USD", "rate_to_base": 0.9}], "fx"
    )
    _load(workspace, "orders", rows, "o")
    assert _refunds(workspace).examples == [
        "refunded: 2 orders, 40.00 EUR (and 1 without an exchange rate for its day, amount unknown)"
    ]


def test_shopify_refunded_order_amount(workspace: Workspace, tmp_path: Path) -> None:
    # One fully refunded order: Total 119.00, Taxes 19.00, no shipping, Refunded Amount 119.00. Its revenue
    # (net of tax, before the refund) is 119.00 - 19.00 = 100.00 EUR.
    head = (FIXTURES / "shopify_orders.csv").read_text().splitlines()[0]
    cols = head.split(",")
    row = dict.fromkeys(cols, "")
    row.update(
        {
            "Name": "#2001",
            "Email": "a@example.com",
            "Financial Status": "refunded",
            "Paid at": "2025-01-02 09:00:00 +0100",
            "Created at": "2025-01-02 08:59:00 +0100",
            "Currency": "EUR",
            "Subtotal": "119.00",
            "Shipping": "0.00",
            "Taxes": "19.00",
            "Total": "119.00",
            "Lineitem quantity": "1",
            "Lineitem name": "Coffee",
            "Lineitem price": "119.00",
            "Refunded Amount": "119.00",
        }
    )
    path = tmp_path / "orders_export.csv"
    path.write_text(head + "\n" + ",".join(row[c] for c in cols) + "\n")
    workspace.config.default_margin = 0.4
    import_file(workspace, "shopify-orders", path)
    assert _refunds(workspace).examples == ["refunded: 1 orders, 100.00 EUR"]
