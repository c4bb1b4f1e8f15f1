"""WooCommerce and Shopware 6 order exports (and Shopify's refunds): fixtures written in each shop's column
names, with every expected amount worked out by hand in the comments (German VAT 19 %, Swiss 8.1 %)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import detect_format, import_file
from trueroi.ingest.shop import hash_email
from trueroi.quality import findings
from trueroi.workspace import Workspace
from trueroi.workspace.rules import sale_orders

FIXTURES = Path(__file__).parent / "fixtures"
WOO, SHOPWARE = "woocommerce_orders.csv", "shopware_orders.csv"
COSTS = {"product_costs": FIXTURES / "product_costs.csv"}  # TR2-42 31.50, TR2-44 31.50, MS3 6.20
# Shopware writes product ids, not SKUs, into its line items
TR42, TR44 = "0192a9d2e1c47f8a9c1e5f2b3d4a6b01", "0192a9d2e1c47f8a9c1e5f2b3d4a6b02"
MS3 = "0192a9d2e1c47f8a9c1e5f2b3d4a6c05"


def _orders(ws: Workspace):  # noqa: ANN202 - a DataFrame indexed by order id
    return ws.table("orders").execute().set_index("order_id")


# -- WooCommerce -------------------------------------------------------------------------------------------
def test_woocommerce_orders_revenue_status_refunds_and_cogs(workspace) -> None:
    result = import_file(workspace, "woocommerce-orders", FIXTURES / WOO, options=COSTS)
    df = _orders(workspace)
    assert result.rows == {"orders": 7}
    assert df.status.to_dict() == {
        "5001": "completed",
        "5002": "paid",  # processing: paid, not shipped yet
        "5003": "partially_refunded",  # completed, with a 20.00 refund
        "5004": "refunded",
        "5005": "pending",  # on-hold: waiting for the bank transfer
        "5006": "cancelled",
        "5007": "failed",
    }
    # net revenue = order_total - tax_total (shipping tax included) - shipping_total - fee_total
    assert df.loc["5001", "revenue"] == pytest.approx(94.80 - 15.13 - 4.12)  # 75.55
    assert df.loc["5002", "revenue"] == pytest.approx(
        67.38 - 10.76 - 0.00 - 2.00
    )  # 54.62, without the COD fee
    # 5003: 92.36 before the refund; the 20.00 refund (with tax) is netted at the order's net share
    before = 114.80 - 18.32 - 4.12
    refund = 20.00 * before / 114.80  # 16.09
    assert df.loc["5003", "revenue"] == pytest.approx(before - refund)
    assert df.loc["5003", "refunded"] == pytest.approx(refund)
    assert df.loc["5003", "revenue"] + df.loc["5003", "refunded"] == pytest.approx(92.36)
    # refunded and cancelled orders keep their revenue before the refund
    assert df.loc["5004", "revenue"] == pytest.approx(29.90 - 4.77 - 4.12)  # 21.01
    assert df.loc["5006", "revenue"] == pytest.approx(24.90 - 3.97 - 4.12)  # 16.81
    assert df.loc[["5004", "5006"], "refunded"].isna().all()
    assert df.loc["5001", "refunded"] == 0.0
    # COGS: SKU costs x quantity; 5002's cap carries a cost-of-goods plugin's unit cost of 9.80
    assert df.loc["5001", "cogs"] == pytest.approx(31.50)
    assert df.loc["5002", "cogs"] == pytest.approx(2 * 6.20 + 9.80)
    assert df.loc["5003", "cogs"] == pytest.approx(31.50 + 6.20)
    assert df.loc[["5004", "5007"], "cogs"].isna().all()  # CAP1 is in no cost table and there is no margin
    assert set(df.currency) == {"EUR"}


def test_woocommerce_times_customers_and_sales(workspace) -> None:
    import_file(workspace, "woocommerce-orders", FIXTURES / WOO)
    df = _orders(workspace)
    # paid_date "2025-01-01 23:40:12" is Berlin time (+01:00): 22:40:12 UTC, still January 1 in Berlin
    assert str(df.loc["5001", "ts"]) == "2025-01-01 22:40:12"
    assert str(df.loc["5001", "date_day"].date()) == "2025-01-01"
    assert str(df.loc["5002", "ts"]) == "2025-01-02 09:15:00"  # "2025-01-02T10:15:00+01:00"
    assert str(df.loc["5005", "ts"]) == "2025-01-02 20:12:09"  # not paid: the order date
    assert str(df.loc["5003", "status_at"]) == "2025-01-05 13:00:00"  # the refund's date
    # the same customer in two orders (the address in two spellings), hashed as Shopify's import does
    assert (
        df.loc["5001", "customer_id"]
        == df.loc["5005", "customer_id"]
        == hash_email("anna.schmidt@example.de")
    )
    sales = sale_orders(workspace).execute()
    assert sorted(sales.order_id) == ["5001", "5002", "5003"]
    assert sales.revenue.sum() == pytest.approx(75.55 + 54.62 + (92.36 - 20.00 * 92.36 / 114.80))


def test_woocommerce_refunds_are_reported_with_their_amount(workspace) -> None:
    import_file(workspace, "woocommerce-orders", FIXTURES / WOO)
    refunds = {f.code: f for f in findings(workspace)}["refunds_cancellations"]
    assert "refunded: 1 orders, 21.01 EUR" in refunds.examples
    assert "cancelled: 1 orders, 16.81 EUR" in refunds.examples


def _rewritten(tmp_path: Path, name: str, change: dict[tuple[int, str], str], delimiter: str = ",") -> Path:
    """The fixture with the cells (data row, column) replaced."""
    rows = list(csv.reader(io.StringIO((FIXTURES / name).read_text(encoding="utf-8")), delimiter=delimiter))
    for (row, column), value in change.items():
        rows[row][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path = tmp_path / f"changed_{name}"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_woocommerce_status_prefixes_and_unknown_statuses(workspace, tmp_path) -> None:
    path = _rewritten(tmp_path, WOO, {(1, "status"): "wc-completed", (6, "status"): "shipped"})
    result = import_file(workspace, "woocommerce-orders", path)
    df = _orders(workspace)
    assert df.loc["5001", "status"] == "completed"
    assert df.loc["5006", "status"] == "shipped"  # a plugin's status, kept as written
    assert any("'shipped'" in w and "not counted as sales" in w for w in result.warnings)
    assert "5006" not in set(sale_orders(workspace).execute().order_id)


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (3, "order_total", "114,8O", "not a number"),
        (2, "line_item_1", "name:Merino Socks 3-Pack|sku:MS3|quantity:zwei|total:33.61", "whole quantity"),
        (
            4,
            "refund_items",
            "amount:alles|reason:Widerruf|date:2025-01-06 09:30:00",
            "refund without an amount",
        ),
        (1, "status", "", "empty"),
        (5, "order_date", "2025-13-45 10:00:00", "not a date"),
        (6, "order_currency", "EURO", "ISO 4217"),
        (7, "order_number", "5001", "repeats the order_id of row 1"),
    ],
)
def test_a_damaged_woocommerce_export_is_refused(workspace, tmp_path, row, column, value, message) -> None:
    import_file(workspace, "fx-rates", FIXTURES / "fx_rates.csv")
    import_file(workspace, "orders", FIXTURES / "orders.csv")  # something there, to prove it stays
    before = workspace.checksum()
    path = _rewritten(tmp_path, WOO, {(row, column): value})
    with pytest.raises(DataValidationError, match=message) as caught:
        import_file(workspace, "woocommerce-orders", path)
    assert (caught.value.file, caught.value.row, caught.value.column) == (path.name, row, column)
    assert workspace.checksum() == before


# -- Shopware 6 --------------------------------------------------------------------------------------------
def test_shopware_orders_states_net_revenue_and_currency(workspace) -> None:
    import_file(workspace, "fx-rates", FIXTURES / "fx_rates.csv")  # CHF on 2025-01-02 for order 10007
    result = import_file(workspace, "shopware-orders", FIXTURES / SHOPWARE)
    df = _orders(workspace)
    assert df.status.to_dict() == {
        "10001": "paid",  # open order, paid
        "10002": "completed",  # completed order, paid
        "10003": "partially_refunded",  # payment refunded_partially
        "10004": "cancelled",
        "10005": "pending",  # open order, payment open (prepayment)
        "10006": "refunded",
        "10007": "paid",  # in_progress, paid
    }
    # net revenue = amount_net - shipping x amount_net / amount_total (shipping taxed at the order's rate)
    assert df.loc["10001", "revenue"] == pytest.approx(79.67 - 4.9 * 79.67 / 94.8)  # 75.55
    assert df.loc["10002", "revenue"] == pytest.approx(54.62)  # free shipping
    assert df.loc["10003", "revenue"] == pytest.approx(96.48 - 4.9 * 96.48 / 114.8)  # no refund amount known
    assert df.loc["10004", "revenue"] == pytest.approx(25.13 - 4.9 * 25.13 / 29.9)
    assert df.loc["10006", "revenue"] == pytest.approx(21.01)  # refunded: its revenue before the refund
    assert df.loc["10007", "revenue"] == pytest.approx(100 - 7.7 * 100 / 107.7)
    assert df.loc["10007", "currency"] == "CHF" and set(df.drop(index="10007").currency) == {"EUR"}
    assert str(df.loc["10001", "ts"]) == "2025-01-01 22:40:12"  # "2025-01-01T22:40:12.000+00:00"
    assert (
        df.loc["10001", "customer_id"]
        == df.loc["10005", "customer_id"]
        == hash_email("anna.schmidt@example.de")
    )
    assert any("1 partially refunded order(s) without a refunded amount" in w for w in result.warnings)


def test_shopware_foreign_currency_needs_its_rate(workspace) -> None:
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="no exchange rate to EUR for CHF on 1 day"):
        import_file(workspace, "shopware-orders", FIXTURES / SHOPWARE)
    assert workspace.checksum() == before


def test_shopware_cogs_by_product_id_and_default_margin(workspace, tmp_path) -> None:
    import_file(workspace, "fx-rates", FIXTURES / "fx_rates.csv")
    costs = tmp_path / "costs.csv"
    costs.write_text(f"product_id,unit_cost\n{TR42},31.50\n{TR44},31.50\n{MS3},6.20\n")
    workspace.config.default_margin = 0.4
    import_file(workspace, "shopware-orders", FIXTURES / SHOPWARE, options={"product_costs": costs})
    df = _orders(workspace)
    assert df.loc["10001", "cogs"] == pytest.approx(31.50)
    assert df.loc["10003", "cogs"] == pytest.approx(31.50 + 6.20)
    # 10002 holds a cap of unknown cost: the order's COGS is its revenue x (1 - 0.4)
    assert df.loc["10002", "cogs"] == pytest.approx(54.62 * 0.6)


def test_shopware_default_profile_without_state_names_is_refused(workspace, tmp_path) -> None:
    rows = list(csv.reader(io.StringIO((FIXTURES / SHOPWARE).read_text()), delimiter=";"))
    keep = [i for i, h in enumerate(rows[0]) if h not in ("order_state", "payment_state")]
    path = tmp_path / "orders_default_profile.csv"
    path.write_text("\n".join(";".join(r[i] for i in keep) for r in rows) + "\n")
    with pytest.raises(DataValidationError, match="stateMachineState.technicalName") as caught:
        import_file(workspace, "shopware-orders", path)
    assert "order_state_id holds state ids" in str(caught.value)


def test_shopware_without_payment_state_counts_only_completed_orders(workspace, tmp_path) -> None:
    rows = list(csv.reader(io.StringIO((FIXTURES / SHOPWARE).read_text()), delimiter=";"))
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(";".join(r[:-1]) for r in rows) + "\n")  # payment_state is the last column
    import_file(workspace, "fx-rates", FIXTURES / "fx_rates.csv")
    result = import_file(workspace, "shopware-orders", path)
    status = _orders(workspace).status.to_dict()
    assert [k for k, v in sorted(status.items()) if v == "completed"] == ["10002", "10003", "10006"]
    assert status["10004"] == "cancelled" and status["10001"] == status["10007"] == "pending"
    assert any("no payment state" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (2, "order_state", "shipped", "not a Shopware state"),
        (5, "payment_state", "bezahlt", "not a Shopware state"),
        (3, "amount_net", "-5", "negative"),
        (4, "line_items", f"zwei x {TR42}", "not a line item"),
        (1, "order_date_time", "gestern", "not a date"),
        (6, "order_number", "10001", "repeats the order_id of row 1"),
    ],
)
def test_a_damaged_shopware_export_is_refused(workspace, tmp_path, row, column, value, message) -> None:
    import_file(workspace, "fx-rates", FIXTURES / "fx_rates.csv")
    before = workspace.checksum()
    path = _rewritten(tmp_path, SHOPWARE, {(row, column): value}, delimiter=";")
    with pytest.raises(DataValidationError, match=message) as caught:
        import_file(workspace, "shopware-orders", path)
    assert (caught.value.file, caught.value.row, caught.value.column) == (path.name, row, column)
    assert workspace.checksum() == before


# -- both, and Shopify's refunds ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "name", "delimiter"), [("woocommerce-orders", WOO, ","), ("shopware-orders", SHOPWARE, ";")]
)
def test_the_same_export_twice_changes_nothing(workspace, tmp_path, fmt, name, delimiter) -> None:
    import_file(workspace, "fx-rates", FIXTURES / "fx_rates.csv")
    first = import_file(workspace, fmt, FIXTURES / name)
    before = workspace.checksum()
    again = import_file(workspace, fmt, FIXTURES / name)
    assert again.skipped and again.import_id == first.import_id
    assert workspace.checksum() == before
    # a later export with one order cancelled replaces the orders it repeats
    column = "status" if fmt == "woocommerce-orders" else "order_state"
    later = import_file(workspace, fmt, _rewritten(tmp_path, name, {(2, column): "cancelled"}, delimiter))
    assert (later.rows["orders"], later.replaced) == (7, 7)
    df = _orders(workspace)
    assert len(df) == 7 and df.iloc[1].status == "cancelled"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        (WOO, "woocommerce-orders"),
        (SHOPWARE, "shopware-orders"),
        ("shopify_orders.csv", "shopify-orders"),
        ("orders.csv", "orders"),
    ],
)
def test_detection_names_each_shop(name, fmt) -> None:
    assert detect_format(FIXTURES / name) == fmt


NBSP = "\u00a0"
STYLES = {"german": (";", "1.234,56"), "austrian": (";", f"1{NBSP}234,56"), "swiss": (",", "1'234.56")}
STYLES["english"] = (",", '"1,234.56"')


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_number_style(tmp_path, workspace, style) -> None:
    delim, money = STYLES[style]
    woo = [["order_number", "order_date", "status", "order_total", "tax_total", "order_currency"]]
    woo.append(["7001", "2025-01-02 10:00:00", "completed", money, "0", "EUR"])
    shopware = [["order_number", "order_date_time", "amount_total", "amount_net", "currency", "order_state"]]
    shopware.append(["7002", "2025-01-02T09:00:00.000+00:00", money, money, "EUR", "completed"])
    for fmt, rows in (("woocommerce-orders", woo), ("shopware-orders", shopware)):
        path = tmp_path / f"{fmt}.csv"
        path.write_text("\n".join(delim.join(r) for r in rows) + "\n", encoding="utf-8")
        import_file(workspace, fmt, path)
    assert _orders(workspace).revenue.tolist() == pytest.approx([1234.56, 1234.56])


def test_shopify_keeps_refunds_and_the_revenue_of_refunded_orders(workspace) -> None:
    import_file(workspace, "shopify-orders", FIXTURES / "shopify_orders.csv")
    df = _orders(workspace)
    # #1002 (partially refunded): 120.00 - 19.16 tax = 100.84 before, 25.00 refunded, 75.84 kept
    assert df.loc["#1002", "revenue"] == pytest.approx(75.84)
    assert df.loc["#1002", "refunded"] == pytest.approx(25.00)
    assert df.loc["#1001", "refunded"] == 0.0  # "Refunded Amount" 0.00
    # #1004 (voided, cancelled): 94.80 - 15.14 - 4.90 kept, nothing netted out
    assert df.loc["#1004", "revenue"] == pytest.approx(74.76)
    assert df.loc["#1004", "refunded"] != df.loc["#1004", "refunded"]  # NaN
