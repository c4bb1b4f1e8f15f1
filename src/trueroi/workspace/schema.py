"""The canonical tables of the warehouse (see DESIGN.md, "Canonical tables").

Column vocabulary follows the common unified ad-reporting schema. Each table lists its columns in order
with an Ibis type; ``REQUIRED`` names the identifying and measured columns an importer must deliver, the
others may be derived or left null.

One addition to DESIGN.md: ``orders``, ``touchpoints`` and ``conversions`` carry ``date_day``, the local
calendar day of ``ts`` in the workspace time zone, computed at load time. Timestamps stay in UTC; storing
the local day once keeps every backend's day cut identical (no time-zone functions in queries).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

TABLES: dict[str, dict[str, str]] = {
    "ad_performance": {
        "date_day": "date",
        "platform": "string",
        "account_id": "string",
        "account_name": "string",
        "campaign_id": "string",
        "campaign_name": "string",
        "ad_group_id": "string",
        "ad_group_name": "string",
        "channel": "string",
        "is_brand": "boolean",
        "funnel_stage": "string",
        "currency": "string",
        "spend": "float64",
        "impressions": "int64",
        "reach": "int64",
        "clicks": "int64",
        "conversions": "float64",
        "conversions_value": "float64",
        "import_id": "string",
    },
    "touchpoints": {
        "touch_id": "string",
        "user_id": "string",
        "ts": "timestamp",
        "date_day": "date",
        "session_id": "string",
        "source": "string",
        "medium": "string",
        "campaign": "string",
        "term": "string",
        "content": "string",
        "click_id": "string",
        "channel": "string",
        "is_brand": "boolean",
        "landing_page": "string",
        "engaged": "boolean",
        "pageviews": "int32",
        "import_id": "string",
    },
    "orders": {
        "order_id": "string",
        "customer_id": "string",
        "user_id": "string",
        "ts": "timestamp",
        "date_day": "date",
        "currency": "string",
        "revenue": "float64",
        "cogs": "float64",
        "status": "string",
        "is_new_customer": "boolean",
        "import_id": "string",
        # Added for partner billing (trueroi.partners), all nullable: the net revenue paid back by refunds
        # (``revenue`` is already net of it), when the order took its current status (cancellation or last
        # refund, UTC), the voucher code used and the order's product category.
        "refunded": "float64",
        "status_at": "timestamp",
        "voucher_code": "string",
        "product_category": "string",
        # Added for the join of shop orders to tracked purchases (trueroi.workspace.links), both nullable: the
        # order's other id in its shop (Shopify's numeric ``Id`` where ``order_id`` is its ``Name``), and
        # whether ``user_id`` was taken from the tracked purchase with the order's id (true; null: as loaded).
        "order_ref": "string",
        "user_linked": "boolean",
    },
    "conversions": {
        "conversion_id": "string",
        "user_id": "string",
        "click_id": "string",
        "ts": "timestamp",
        "date_day": "date",
        "type": "string",
        "value": "float64",
        "currency": "string",
        "order_id": "string",
        "is_offline": "boolean",
        "import_id": "string",
    },
    "costs": {
        "period_start": "date",
        "period_end": "date",
        "category": "string",
        "amount": "float64",
        "currency": "string",
        "channel": "string",
        "campaign_id": "string",
        "import_id": "string",
    },
    "fx_rates": {
        "date_day": "date",
        "currency": "string",
        "rate_to_base": "float64",
        "import_id": "string",
    },
    # Affiliate network transaction reports (Awin, CJ, a generic network CSV; trueroi.ingest.networks): what a
    # network claims for a partner (publisher), reconciled against the shop by trueroi.partners.
    "partner_transactions": {
        "network": "string",
        "transaction_id": "string",
        "order_id": "string",
        "publisher_id": "string",
        "publisher_name": "string",
        "type": "string",
        "ts": "timestamp",
        "date_day": "date",
        "click_ts": "timestamp",
        "currency": "string",
        "sale_amount": "float64",
        "commission": "float64",
        "status": "string",
        "voucher_code": "string",
        "import_id": "string",
    },
    # The channels' own KPIs (trueroi.ingest.email, .seo, .social; issue 21). Each row carries the channel
    # (and, for e-mail and social posts, the UTM campaign) it joins touchpoints, orders and costs on.
    # E-mail campaign reports (Mailchimp, Brevo, a generic CSV): one row per campaign and send day. Counts are
    # recipients; ``machine_opens`` are the unique opens the tool itself counts as machine (Apple Mail Privacy
    # Protection) opens, null where the export does not say.
    "email_campaigns": {
        "date_day": "date",
        "tool": "string",
        "campaign_id": "string",
        "campaign_name": "string",
        "subject": "string",
        "list_name": "string",
        "campaign": "string",
        "channel": "string",
        "recipients": "int64",
        "delivered": "int64",
        "bounces": "int64",
        "hard_bounces": "int64",
        "unique_opens": "int64",
        "machine_opens": "int64",
        "total_opens": "int64",
        "unique_clicks": "int64",
        "total_clicks": "int64",
        "unsubscribes": "int64",
        "complaints": "int64",
        "import_id": "string",
    },
    # Google Search Console performance (UI download files, bulk export tables, API rows): one row per day (or
    # per range of days, ``date_day`` to ``period_end``, for the UI's Queries/Pages/... files) and the
    # breakdown its source gives. ``aggregation`` is "property" (site-level figures) or "page" (by URL);
    # ``dimensions`` names the breakdown ("", "query", "query,country,device", ...): rows of different
    # aggregations or dimensions count the same impressions and are never added together.
    # ``sum_position`` = sum over impressions of the 1-based position (average = sum_position / impressions).
    "search_console": {
        "date_day": "date",
        "period_end": "date",
        "site": "string",
        "search_type": "string",
        "aggregation": "string",
        "dimensions": "string",
        "query": "string",
        "is_anonymized": "boolean",
        "page": "string",
        "country": "string",
        "device": "string",
        "appearance": "string",
        "channel": "string",
        "impressions": "int64",
        "clicks": "int64",
        "sum_position": "float64",
        "import_id": "string",
    },
    # Keyword rankings and visibility (Sistrix, SEMrush position tracking, a generic CSV): a keyword's
    # position on a day (null: not in the top 100), or a domain's visibility index (``keyword`` null).
    "rankings": {
        "date_day": "date",
        "tool": "string",
        "domain": "string",
        "keyword": "string",
        "url": "string",
        "device": "string",
        "location": "string",
        "position": "float64",
        "search_volume": "int64",
        "visibility": "float64",
        "import_id": "string",
    },
    # Organic social insights (Meta page and post insights, LinkedIn page analytics, a generic CSV): ``level``
    # "post" (one post over its lifetime, ``date_day`` = publish day) or "page" (one account on one day).
    # Reach is kept as reported and never summed; ``followers`` is the follower count at the end of the day.
    # ``figures`` names the measures the row's export reports (LinkedIn's metrics and followers sheets hold
    # different figures of the same account days; a re-export of one replaces only its own rows).
    "social_posts": {
        "date_day": "date",
        "platform": "string",
        "account": "string",
        "level": "string",
        "post_id": "string",
        "post_type": "string",
        "title": "string",
        "permalink": "string",
        "campaign": "string",
        "channel": "string",
        "figures": "string",
        "impressions": "int64",
        "reach": "int64",
        "engagements": "int64",
        "reactions": "int64",
        "comments": "int64",
        "shares": "int64",
        "clicks": "int64",
        "video_views": "int64",
        "followers": "int64",
        "followers_gained": "int64",
        "followers_lost": "int64",
        "import_id": "string",
    },
    "imports": {
        "import_id": "string",
        "source_format": "string",
        "file_name": "string",
        "sha256": "string",
        "target_table": "string",
        "rows": "int64",
        "loaded_at": "timestamp",
        "status": "string",
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "ad_performance": ("date_day", "platform", "campaign_id", "currency", "spend", "impressions", "clicks"),
    "touchpoints": ("user_id", "ts"),
    "orders": ("order_id", "ts", "currency", "revenue"),
    "conversions": ("conversion_id", "ts", "type"),
    "costs": ("period_start", "period_end", "category", "amount", "currency"),
    "fx_rates": ("date_day", "currency", "rate_to_base"),
    "partner_transactions": ("network", "transaction_id", "ts", "currency", "sale_amount"),
    "email_campaigns": ("date_day", "tool", "campaign_id", "recipients"),
    "search_console": ("date_day", "period_end", "aggregation", "dimensions", "impressions", "clicks"),
    "rankings": ("date_day", "tool"),
    "social_posts": ("date_day", "platform", "level"),
    "imports": ("import_id", "source_format", "sha256", "target_table", "rows", "loaded_at", "status"),
}

# Columns holding money, converted to the base currency through fx_rates before any sum.
MONEY: dict[str, tuple[str, ...]] = {
    "ad_performance": ("spend", "conversions_value"),
    "orders": ("revenue", "cogs", "refunded"),
    "conversions": ("value",),
    "costs": ("amount",),
    "partner_transactions": ("sale_amount", "commission"),
}

# Order statuses that count as sales; the rest (cancelled, refunded, pending, test) are kept but excluded.
SALE_STATUSES = ("paid", "fulfilled", "completed", "partially_refunded")


def schema(table: str) -> ibis.Schema:
    """The Ibis schema of a canonical table."""
    return ibis.schema({name: dt.dtype(typ) for name, typ in TABLES[table].items()})


def arrow_schema(table: str):  # noqa: ANN201 - pyarrow is imported lazily
    """The Arrow schema of a canonical table, for building load batches."""
    return schema(table).to_pyarrow()
