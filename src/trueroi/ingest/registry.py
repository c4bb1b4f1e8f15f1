"""Import formats by name: the one vocabulary the CLI (``trueroi import FORMAT``), the web app's upload and
automatic detection share.

Importing this module imports every format module; each declares its formats with
:func:`~trueroi.ingest.base.register`.
"""

from __future__ import annotations

from trueroi.errors import UsageError
from trueroi.ingest import (
    ads,
    ads_more,
    conversions,
    email,
    ga4,
    generic,
    networks,
    rankings,
    seo,
    shop,
    shops,
    social,
)
from trueroi.ingest.base import FORMATS, Format

FORMAT_MODULES = (generic, ads, shop, conversions, ga4, networks)
FORMAT_MODULES += (ads_more, shops)  # TikTok/LinkedIn/Pinterest/Amazon Ads, WooCommerce/Shopware orders
FORMAT_MODULES += (email, rankings, seo, social)  # the channels' own KPIs: e-mail, SEO, organic social


def get_format(name: str) -> Format:
    """The format registered as ``name``.

    Raises
    ------
    UsageError
        For an unknown name; the message lists the known ones.
    """
    if name not in FORMATS:
        raise UsageError(f"unknown import format {name!r}; expected one of {', '.join(format_names())}")
    return FORMATS[name]


def format_names() -> list[str]:
    """Every registered format name, sorted."""
    return sorted(FORMATS)
