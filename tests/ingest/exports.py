"""Small export files of every importer that takes numbers, written in a chosen number style.

Each builder returns the text of a one-row export whose money cell holds ``money`` and whose count cell (where
the format has one) holds ``count``; :data:`READ_BACK` reads the loaded money value back from the workspace.
The money value sits in: spend (ads), revenue (orders), amount (costs), value (conversions), rate_to_base
(fx rates), Total (Shopify, net revenue with zero tax and shipping), Conversion Value (offline), deal value
(CRM).
"""

from __future__ import annotations

from collections.abc import Callable

from trueroi.workspace import Workspace


def _rows(delim: str, *rows: list[str]) -> str:
    return "\n".join(delim.join(r) for r in rows) + "\n"


def generic_ads(d: str, money: str, count: str) -> str:
    return _rows(
        d,
        ["date_day", "platform", "campaign_id", "currency", "spend", "impressions", "clicks"],
        ["2025-01-02", "google_ads", "c1", "EUR", money, count, "12"],
    )


def generic_orders(d: str, money: str, count: str) -> str:
    return _rows(d, ["order_id", "ts", "currency", "revenue"], ["o1", "2025-01-02 10:00:00", "EUR", money])


def generic_costs(d: str, money: str, count: str) -> str:
    return _rows(
        d,
        ["period_start", "period_end", "category", "amount", "currency"],
        ["2025-01-01", "2025-01-31", "tools", money, "EUR"],
    )


def generic_conversions(d: str, money: str, count: str) -> str:
    return _rows(
        d,
        ["conversion_id", "ts", "type", "value", "currency"],
        ["cv1", "2025-01-02 10:00:00", "lead", money, "EUR"],
    )


def generic_fx(d: str, money: str, count: str) -> str:
    return _rows(d, ["date_day", "currency", "rate_to_base"], ["2025-01-02", "KRW", money])


def google_ads(d: str, money: str, count: str) -> str:
    return _rows(
        d,
        ["Day", "Campaign", "Campaign ID", "Currency code", "Impr.", "Clicks", "Cost"],
        ["2025-01-02", "Brand", "101", "EUR", count, "12", money],
    )


def meta_ads(d: str, money: str, count: str) -> str:
    return _rows(
        d,
        ["Day", "Campaign name", "Ad set name", "Amount spent (EUR)", "Impressions", "Link clicks"],
        ["2025-01-02", "Prospecting", "Broad", money, count, "12"],
    )


def microsoft_ads(d: str, money: str, count: str) -> str:
    return _rows(
        d,
        ["TimePeriod", "CampaignName", "CampaignId", "Impressions", "Clicks", "Spend", "CurrencyCode"],
        ["2025-01-02", "Brand", "501", count, "12", money, "EUR"],
    )


def shopify(d: str, money: str, count: str) -> str:
    header = ["Name", "Email", "Financial Status", "Paid at", "Currency", "Subtotal", "Shipping", "Taxes"]
    header += ["Total", "Lineitem quantity", "Lineitem name", "Lineitem price"]
    row = ["#1001", "a@example.de", "paid", "2025-01-02 10:00:00 +0100", "EUR", money, "0", "0", money]
    return _rows(d, header, row + ["1", "Cap", money])


def offline(d: str, money: str, count: str) -> str:
    return _rows(
        d,
        ["Google Click ID", "Conversion Name", "Conversion Time", "Conversion Value", "Conversion Currency"],
        ["Cj0KEXAMPLE", "Closed Deal", "2025-01-02 10:00:00", money, "EUR"],
    )


def crm(d: str, money: str, count: str) -> str:
    return _rows(
        d,
        ["Lead ID", "Created", "Stage", "Won Date", "Deal Value", "Currency"],
        ["L-1", "2025-01-01 10:00:00", "Closed Won", "2025-01-02 10:00:00", money, "EUR"],
    )


def _scalar(ws: Workspace, sql: str) -> float:
    return ws.con.raw_sql(sql).fetchone()[0]


EXPORTS: dict[str, tuple[str, Callable[[str, str, str], str], str, str | None]] = {
    # format: (format name, builder, SQL for the money value, SQL for the count value)
    "ad-performance": (
        "ad-performance",
        generic_ads,
        "SELECT spend FROM ad_performance",
        "SELECT impressions FROM ad_performance",
    ),
    "orders": ("orders", generic_orders, "SELECT revenue FROM orders", None),
    "costs": ("costs", generic_costs, "SELECT amount FROM costs", None),
    "conversions": ("conversions", generic_conversions, "SELECT value FROM conversions", None),
    "fx-rates": ("fx-rates", generic_fx, "SELECT rate_to_base FROM fx_rates", None),
    "google-ads": (
        "google-ads",
        google_ads,
        "SELECT spend FROM ad_performance",
        "SELECT impressions FROM ad_performance",
    ),
    "meta-ads": (
        "meta-ads",
        meta_ads,
        "SELECT spend FROM ad_performance",
        "SELECT impressions FROM ad_performance",
    ),
    "microsoft-ads": (
        "microsoft-ads",
        microsoft_ads,
        "SELECT spend FROM ad_performance",
        "SELECT impressions FROM ad_performance",
    ),
    "shopify-orders": ("shopify-orders", shopify, "SELECT revenue FROM orders", None),
    "offline-conversions": ("offline-conversions", offline, "SELECT value FROM conversions", None),
    "crm": ("crm", crm, "SELECT value FROM conversions WHERE type = 'deal_won'", None),
}


def read_back(ws: Workspace, sql: str) -> float:
    """The one value ``sql`` selects from the workspace's warehouse."""
    return _scalar(ws, sql)
