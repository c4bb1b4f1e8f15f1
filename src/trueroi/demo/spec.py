"""The demo shop's world: channels, campaigns, products, and the true causal parameters.

Everything here is a made-up but plausible mid-size European online shop. Money is in EUR per day at
``scale=1``; every amount and count scales linearly with ``scale`` while the true ROI does not, because
saturation acts on spend per unit of scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

START = date(2024, 10, 1)
END = date(2026, 9, 30)  # two years of days; the last full quarter is 2026-Q3
TIMEZONE = "Europe/Berlin"
BRAND_TERMS = ["acme", "acmeshop"]
SHOP_DOMAIN = "https://www.acme-shop.example"


@dataclass(frozen=True)
class Product:
    """A product category: average order value (EUR) and contribution margin rate."""

    name: str
    aov: float
    margin: float


PRODUCTS = (
    Product("apparel", aov=72.0, margin=0.55),
    Product("home", aov=115.0, margin=0.40),
    Product("electronics", aov=230.0, margin=0.16),
)


@dataclass(frozen=True)
class PaidChannel:
    """A paid channel with its true response: geometric adstock, Hill saturation, and a scale beta.

    ``iroas`` is the true incremental revenue per euro at the demo's own spend level, from which the
    channel's beta is solved; ``decay`` is the daily geometric carry-over; ``saturation`` is the
    half-saturation point as a multiple of mean daily spend (below 1: already saturated).
    """

    name: str
    platform: str
    account: str
    currency: str
    source: str
    medium: str
    click_param: str
    funnel_stage: str
    is_brand: bool
    campaigns: tuple[str, ...]
    spend: float  # mean EUR per day at scale 1
    cpc: float
    cpm: float
    iroas: float
    decay: float
    saturation: float
    shape: float
    view_only: float  # share of caused orders with no click at all (view-through)
    platform_inflation: (
        float  # extra claimed conversions per click-window conversion (view-through, modelled)
    )
    product_mix: tuple[float, float, float]
    repeat_rate: float  # expected repeat orders of a customer this channel acquired
    flighting: bool = False
    terms: tuple[str, ...] = field(default=())


PAID = (
    PaidChannel(
        "Brand Search",
        "google_ads",
        "acme-search",
        "EUR",
        "google",
        "cpc",
        "gclid",
        "lower",
        True,
        ("brand_exact", "brand_broad"),
        spend=60,
        cpc=0.35,
        cpm=25,
        iroas=1.3,
        decay=0.05,
        saturation=0.5,
        shape=1.2,
        view_only=0.0,
        platform_inflation=0.05,
        product_mix=(0.5, 0.3, 0.2),
        repeat_rate=1.0,
        terms=("acme", "acme shop", "acmeshop sale"),
    ),
    PaidChannel(
        "Non-Brand Search",
        "google_ads",
        "acme-search",
        "EUR",
        "google",
        "cpc",
        "gclid",
        "mid",
        False,
        ("nb_generic_apparel", "nb_generic_home", "nb_competitor"),
        spend=300,
        cpc=1.4,
        cpm=40,
        iroas=4.1,
        decay=0.25,
        saturation=1.6,
        shape=1.0,
        view_only=0.0,
        platform_inflation=0.1,
        product_mix=(0.45, 0.4, 0.15),
        repeat_rate=0.8,
        terms=("linen shirt", "summer dress", "ceramic vase", "desk lamp", "wool blanket"),
    ),
    PaidChannel(
        "Shopping",
        "google_ads",
        "acme-shopping",
        "EUR",
        "google",
        "cpc",
        "gclid",
        "mid",
        False,
        ("shopping_pmax_all", "shopping_electronics"),
        spend=200,
        cpc=0.8,
        cpm=12,
        iroas=4.6,
        decay=0.2,
        saturation=1.3,
        shape=1.1,
        view_only=0.0,
        platform_inflation=0.25,
        product_mix=(0.2, 0.25, 0.55),
        repeat_rate=0.55,
    ),
    PaidChannel(
        "Social Prospecting",
        "meta_ads",
        "acme-meta",
        "EUR",
        "facebook",
        "paid_social",
        "fbclid",
        "upper",
        False,
        ("prospecting_lookalike", "prospecting_interests", "prospecting_broad"),
        spend=250,
        cpc=1.1,
        cpm=7,
        iroas=3.7,
        decay=0.6,
        saturation=1.4,
        shape=1.3,
        view_only=0.35,
        platform_inflation=0.6,
        product_mix=(0.6, 0.3, 0.1),
        repeat_rate=1.3,
        flighting=True,
    ),
    PaidChannel(
        "Social Retargeting",
        "meta_ads",
        "acme-meta",
        "EUR",
        "facebook",
        "paid_social",
        "fbclid",
        "lower",
        False,
        ("retargeting_dpa", "retargeting_cart"),
        spend=100,
        cpc=0.7,
        cpm=14,
        iroas=1.1,
        decay=0.15,
        saturation=0.6,
        shape=1.0,
        view_only=0.2,
        platform_inflation=1.2,
        product_mix=(0.5, 0.3, 0.2),
        repeat_rate=0.7,
    ),
    PaidChannel(
        "Display",
        "google_ads",
        "acme-display",
        "EUR",
        "google",
        "display",
        "gclid",
        "upper",
        False,
        ("display_prospecting", "display_remarketing"),
        spend=80,
        cpc=2.0,
        cpm=2.2,
        iroas=0.9,
        decay=0.45,
        saturation=0.8,
        shape=1.0,
        view_only=0.5,
        platform_inflation=1.0,
        product_mix=(0.4, 0.4, 0.2),
        repeat_rate=0.6,
        flighting=True,
    ),
    PaidChannel(
        "Online Video",
        "google_ads",
        "acme-video",
        "EUR",
        "youtube",
        "cpv",
        "gclid",
        "upper",
        False,
        ("video_awareness", "video_consideration"),
        spend=120,
        cpc=5.0,
        cpm=9,
        iroas=2.9,
        decay=0.85,
        saturation=1.5,
        shape=1.5,
        view_only=0.7,
        platform_inflation=1.5,
        product_mix=(0.35, 0.45, 0.2),
        repeat_rate=1.1,
        flighting=True,
    ),
    PaidChannel(
        "Affiliate",
        "awin",
        "acme-awin",
        "USD",
        "awin",
        "affiliate",
        "awc",
        "lower",
        False,
        ("affiliate_network", "affiliate_coupons"),
        spend=90,
        cpc=0.6,
        cpm=30,
        iroas=1.6,
        decay=0.05,
        saturation=0.7,
        shape=1.0,
        view_only=0.0,
        platform_inflation=0.15,
        product_mix=(0.5, 0.3, 0.2),
        repeat_rate=0.35,
    ),
)


@dataclass(frozen=True)
class FreeChannel:
    """A channel without media spend: sessions per day at scale 1 and its share of baseline journeys."""

    name: str
    source: str
    medium: str
    campaign: str
    sessions: float
    baseline_weight: float
    engaged: float


FREE = (
    FreeChannel("Organic Search", "google", "organic", "", 320, 0.30, 0.62),
    FreeChannel("Direct", "(direct)", "(none)", "", 210, 0.33, 0.70),
    FreeChannel("Email", "newsletter", "email", "newsletter_weekly", 70, 0.12, 0.66),
    FreeChannel("Referral", "blog.example.org", "referral", "", 45, 0.06, 0.55),
)
# Paid channels that also show up in journeys of orders they did not cause (the over-crediting ones)
BASELINE_POACHERS = {"Brand Search": 0.10, "Social Retargeting": 0.05, "Affiliate": 0.04}
ENGAGED_PAID = {
    "Brand Search": 0.78,
    "Non-Brand Search": 0.6,
    "Shopping": 0.58,
    "Social Prospecting": 0.38,
    "Social Retargeting": 0.5,
    "Display": 0.22,
    "Online Video": 0.3,
    "Affiliate": 0.6,
}

BASELINE_ORDERS = 38.0  # new-customer orders per day at scale 1 that happen without any paid media
CONTENT = {"monthly_cost": 3000.0, "decay": 0.985, "iroas": 1.8, "channel": "Organic Search"}
LEADS = {
    "rate": 0.012,
    "close_rate": 0.22,
    "deal_value": 1400.0,
    "channels": ("Non-Brand Search", "Social Prospecting"),
}
ORDER_STATUS = (("paid", 0.925), ("refunded", 0.035), ("cancelled", 0.04))
USD_PER_EUR = 1.08

NON_MEDIA_MONTHLY = (  # category, EUR per month at scale 1 (or share of media spend), channel
    ("agency_fee", 0.10, ""),  # share of the month's paid media spend
    ("salaries", 9000.0, ""),
    ("tools", 600.0, ""),
    ("tools", 350.0, "Email"),
    ("production", 1400.0, "Online Video"),
)
