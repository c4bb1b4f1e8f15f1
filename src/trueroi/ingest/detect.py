"""Naming the format of a file from its header."""

from __future__ import annotations

from pathlib import Path

from trueroi.errors import DataValidationError
from trueroi.ingest.base import FORMATS
from trueroi.ingest.fx import is_wide_header
from trueroi.ingest.parse import ISO_4217
from trueroi.ingest.read import norm_header, sniff
from trueroi.ingest.registry import format_names

# Canonical columns that identify each generic format, tried after the platform formats.
GENERIC_SIGNATURES = (
    ("fx-rates", {"date_day", "currency", "rate_to_base"}),
    ("costs", {"period_start", "period_end", "category", "amount"}),
    ("costs", {"date", "category", "amount"}),  # a ledger with one date per cost
    ("ad-performance", {"date_day", "platform", "campaign_id", "spend"}),
    ("orders", {"order_id", "ts", "revenue"}),
    ("conversions", {"conversion_id", "ts", "type"}),
    ("touchpoints", {"user_id", "ts"}),
)
# Microsoft before Google: both name a "Currency code" column; Microsoft's report header tells them apart.
# TikTok, LinkedIn, Pinterest and Amazon Ads (trueroi.ingest.ads_more) before Google and Meta, whose detectors
# would take a German TikTok report ("Kosten", "Klicks") or one with a Reach column; the shops beside Shopify.
MORE = ("woocommerce-orders", "shopware-orders", "tiktok-ads", "linkedin-ads", "pinterest-ads", "amazon-ads")
SPECIFIC = ("ga4", "shopify-orders", "offline-conversions", *MORE)
SPECIFIC += ("microsoft-ads", "google-ads", "meta-ads", "crm")
SPECIFIC += ("awin", "cj", "network")  # affiliate network reports (trueroi.ingest.networks)
# The channels' own KPIs first (a German Search Console "Datum, Klicks, Impressionen" file passes for Google
# Ads, Meta post insights with Reach and Link clicks for Meta Ads); their generic CSVs after trueroi's own
# canonical files (whose ad-performance rows name a platform and a reach, as a generic social file does).
OWNED = ("search-console", "rankings", "mailchimp", "brevo", "meta-insights", "linkedin-pages")
SPECIFIC = (*OWNED, *SPECIFIC)
LAST = ("email", "social")


def detect_format(path: str | Path) -> str:
    """The import format of ``path``: a platform format when its header says so, else a generic one.

    Raises
    ------
    DataValidationError
        When no format matches.
    """
    path = Path(path)
    for name in SPECIFIC:
        fmt = FORMATS.get(name)
        if fmt is not None and fmt.detect is not None and fmt.detect(path):
            return name
    if _wide_rates(path):
        return "fx-rates"
    columns = _columns(path)
    for name, needed in GENERIC_SIGNATURES:
        if needed <= columns:
            return name
    for name in LAST:
        fmt = FORMATS.get(name)
        if fmt is not None and fmt.detect is not None and fmt.detect(path):
            return name
    raise DataValidationError(
        "matches no import format",
        file=path.name,
        expected="a file in one of the formats " + ", ".join(format_names()),
    )


def _wide_rates(path: Path) -> bool:
    """The ECB's wide exchange-rate layout (``Date,USD,JPY,...``)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return False
    try:
        return is_wide_header(sniff(path).header, ISO_4217)
    except DataValidationError:
        return False


def _columns(path: Path) -> set[str]:
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            return {norm_header(c).replace(" ", "_") for c in pq.read_schema(path).names}
        except Exception:  # noqa: BLE001 - any unreadable file simply matches nothing
            return set()
    try:
        return {norm_header(c).replace(" ", "_") for c in sniff(path).header}
    except DataValidationError:
        return set()
