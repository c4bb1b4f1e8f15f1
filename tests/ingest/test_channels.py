"""GA4 default channel grouping, workspace rules on top, and brand detection.

Expected groups are written by hand from GA4 Help, "[GA4] Default channel group" (the condition of each
group, evaluated in order, first match wins), not from the code under test.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pytest

from trueroi.ingest.channels import brand_flags, channel_group, channel_groups, is_brand
from trueroi.workspace.config import ChannelRule

GA4_CASES = [
    # (source, medium, campaign, expected)  -- why, per the GA4 definition
    ("(direct)", "(none)", None, "Direct"),  # source (direct) and medium (none)
    ("(direct)", "(not set)", None, "Direct"),
    ("google", "cpc", "pmax_cross-network_de", "Cross-network"),  # campaign contains cross-network
    ("google", "cpc", "Cross-Network Sale", "Cross-network"),  # case-insensitive
    ("google", "cpc", "shopping_de_all", "Paid Shopping"),  # campaign matches shopping, paid medium
    ("google", "ppc", "Summer Shop 2025", "Paid Shopping"),  # "shop" at word start
    ("amazon", "cpc", "sponsored_products", "Paid Shopping"),  # shopping site, paid medium
    ("idealo", "paid", "feed", "Paid Shopping"),
    ("google", "cpc", "generic_running_shoes", "Paid Search"),  # search site + paid medium
    ("Google", "CPC", "brand_exact", "Paid Search"),  # lower-cased before matching
    ("bing", "cpc", "generic", "Paid Search"),
    ("yahoo", "ppc", None, "Paid Search"),
    ("duckduckgo", "paidsearch", None, "Paid Search"),  # paid.* medium
    ("google", "cpm", "awareness", "Paid Search"),  # cpm matches .*cp.* before Display is tried
    ("www.google.de", "cpc", None, "Paid Search"),  # host name of a search site
    ("facebook", "cpc", "prospecting", "Paid Social"),
    ("instagram", "paid_social", None, "Paid Social"),
    ("linkedin", "cpc", "b2b", "Paid Social"),
    ("tiktok", "paid", None, "Paid Social"),
    ("m.facebook.com", "retargeting", None, "Paid Social"),
    ("youtube", "cpv", "trueview", "Paid Video"),  # cpv matches .*cp.*
    ("vimeo", "paid", None, "Paid Video"),
    ("criteo", "display", "retargeting_banner", "Display"),  # medium display
    ("adnetwork", "banner", None, "Display"),
    ("gdn", "interstitial", None, "Display"),
    ("partnerads", "cpc", "generic", "Paid Other"),  # paid medium, source of no category
    ("taboola", "paid", "native", "Paid Other"),
    ("google", "organic", "shopping", "Organic Shopping"),  # campaign matches shopping, not paid
    ("shopping free listings", "organic", None, "Organic Shopping"),
    ("ebay", "referral", None, "Organic Shopping"),  # shopping site, not paid
    ("facebook", "referral", None, "Organic Social"),  # social site
    ("t.co", "referral", None, "Organic Social"),
    ("newsletter-partner", "social", None, "Organic Social"),  # medium social
    ("pinterest", "(none)", None, "Organic Social"),
    ("youtube", "referral", None, "Organic Video"),
    ("somesite", "video", None, "Organic Video"),  # medium matches .*video.*
    ("google", "organic", None, "Organic Search"),
    ("bing", "organic", None, "Organic Search"),
    ("ecosia.org", "referral", None, "Organic Search"),  # search site without paid medium
    ("unknownengine", "organic", None, "Organic Search"),  # medium organic
    ("newsletter", "email", "spring_sale", "Email"),
    ("email", "(none)", None, "Email"),  # source email
    ("mailchimp", "e-mail", None, "Email"),
    ("awin", "affiliate", None, "Affiliates"),
    ("blog.example.org", "referral", None, "Referral"),
    ("partner-app", "app", None, "Referral"),
    ("spotify", "audio", None, "Audio"),
    ("sms", "(none)", None, "SMS"),
    ("twilio", "sms", None, "SMS"),
    ("firebase", "(none)", None, "Mobile Push"),
    ("braze", "push", None, "Mobile Push"),  # medium ends with push
    ("onesignal", "web-notification", None, "Mobile Push"),
    ("(not set)", "(not set)", None, "Unassigned"),
    ("somesite", "qr-code", None, "Unassigned"),
    (None, None, None, "Unassigned"),
]


def test_case_table_is_large_enough() -> None:
    assert len(GA4_CASES) >= 40
    assert {c[3] for c in GA4_CASES} >= {
        "Direct",
        "Cross-network",
        "Paid Shopping",
        "Paid Search",
        "Paid Social",
        "Paid Video",
        "Display",
        "Organic Shopping",
        "Organic Social",
        "Organic Video",
        "Organic Search",
        "Email",
        "Affiliates",
        "Referral",
        "Audio",
        "SMS",
        "Mobile Push",
        "Unassigned",
    }


@pytest.mark.parametrize(("source", "medium", "campaign", "expected"), GA4_CASES)
def test_ga4_default_channel_group(source, medium, campaign, expected) -> None:
    assert channel_group(source, medium, campaign) == expected


def test_vectorised_grouping_agrees_with_the_table() -> None:
    sources, mediums, campaigns, expected = zip(*GA4_CASES, strict=True)
    # repeat rows to exercise the de-duplication
    out = channel_groups(list(sources) * 3, pd.Series(list(mediums) * 3), pa.array(list(campaigns) * 3))
    assert out.to_pylist() == list(expected) * 3


def test_vectorised_grouping_takes_any_text() -> None:
    # control characters, the old key separator among them, and nulls: each row as channel_group sees it
    sources = ["google", "0\x1f0", None, "google\x1f", "facebook", "a\x1fb\x1fc"]
    mediums = ["cpc", "x\x1fy", None, "cpc", "paid_social", ""]
    campaigns = ["brand\x1f", None, "", "\x1f", None, "c"]
    expected = [
        channel_group(s or "", m or "", c or "") for s, m, c in zip(sources, mediums, campaigns, strict=True)
    ]
    assert channel_groups(sources, mediums, campaigns).to_pylist() == expected
    assert expected[0] == "Paid Search" and expected[4] == "Paid Social"


RULES = [
    ChannelRule(channel="Brand Search", source="^(google|bing)$", medium="^cpc$", campaign="brand"),
    ChannelRule(channel="Non-Brand Search", source="^(google|bing)$", medium="^cpc$"),
    ChannelRule(channel="Social Retargeting", source="facebook|instagram", campaign="retarget"),
]


@pytest.mark.parametrize(
    ("source", "medium", "campaign", "expected"),
    [
        ("google", "cpc", "Brand_Exact", "Brand Search"),  # first rule, case-insensitive
        ("bing", "cpc", "generic", "Non-Brand Search"),  # second rule
        ("google", "cpc", "pmax_cross-network", "Non-Brand Search"),  # a rule overrides GA4's group
        ("facebook", "cpc", "retargeting_cart", "Social Retargeting"),
        ("facebook", "cpc", "prospecting", "Paid Social"),  # no rule matches: GA4 group
        ("google", "organic", None, "Organic Search"),
    ],
)
def test_workspace_rules_override_ga4(source, medium, campaign, expected) -> None:
    assert channel_group(source, medium, campaign, rules=RULES) == expected
    assert channel_groups([source], [medium], [campaign], rules=RULES).to_pylist() == [expected]


def test_brand_detection_on_campaign_and_term() -> None:
    brand = re.compile("(?:acme)|(?:ac me)", re.IGNORECASE)
    assert is_brand("ACME_brand_exact", None, brand_regex=brand) is True
    assert is_brand("generic_shoes", "buy ac me shoes", brand_regex=brand) is True
    assert is_brand("generic_shoes", "running shoes", brand_regex=brand) is False
    assert is_brand("anything", None, brand_regex=None) is None
    flags = brand_flags(["Acme Brand", "generic", None], ["x", "acme store", None], brand_regex=brand)
    assert flags.to_pylist() == [True, True, False]
    assert brand_flags(["a"], brand_regex=None).to_pylist() == [None]
