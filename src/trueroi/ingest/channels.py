"""Channel grouping and brand detection for touchpoints and ad rows.

The default grouping follows Google Analytics 4's *default channel group* (GA4 Help, "[GA4] Default channel
group", rules as documented in 2024): the groups are tried in order and the first whose condition holds wins.
Source and medium are compared lower-cased. Workspace ``channel_rules`` (see
:class:`trueroi.workspace.ChannelRule`) are applied on top: the first matching rule overrides the GA4 group,
so a business can split "Paid Search" into "Brand Search" and "Non-Brand Search".

GA4 names its groups as below, with one shortening agreed for trueroi: "Mobile Push Notifications" is called
"Mobile Push". GA4 also defines "Paid Other" (a paid medium on a source of no known category); it is kept so
such traffic is not mistaken for organic.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import UsageError
from trueroi.workspace.config import ChannelRule

GA4_GROUPS = (
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
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
)

# GA4 evaluates source categories from Google's published source list; these are its best-known entries.
# A source matches a category when it equals an entry or is a host name of it
# (``www.google.de``, ``m.facebook.com``).
SEARCH_SOURCES = (
    "google",
    "bing",
    "yahoo",
    "baidu",
    "duckduckgo",
    "yandex",
    "ecosia",
    "naver",
    "ask",
    "aol",
    "seznam",
    "startpage",
    "qwant",
    "so.com",
    "sogou",
    "daum",
    "brave",
    "search-results",
    "msn",
    "onet",
    "avg",
    "info.com",
    "lycos",
    "mail.ru",
    "rambler",
    "search.smt.docomo",
    "biglobe",
    "goo.ne",
    "coccoc",
)
SOCIAL_SOURCES = (
    "facebook",
    "fb",
    "instagram",
    "ig",
    "linkedin",
    "lnkd.in",
    "twitter",
    "t.co",
    "x",
    "pinterest",
    "reddit",
    "tiktok",
    "snapchat",
    "threads",
    "quora",
    "tumblr",
    "vk",
    "xing",
    "whatsapp",
    "messenger",
    "meta",
    "discord",
    "telegram",
    "wechat",
    "weibo",
    "line",
    "mastodon",
    "bsky",
    "youtube-social",
    "social",
)
VIDEO_SOURCES = ("youtube", "vimeo", "twitch", "dailymotion", "wistia", "youku", "bilibili", "ted", "netflix")
SHOPPING_SOURCES = (
    "shopping free listings",
    "google shopping",
    "igshopping",
    "amazon",
    "ebay",
    "etsy",
    "walmart",
    "idealo",
    "shopify",
    "alibaba",
    "aliexpress",
    "mercadolibre",
    "rakuten",
    "shopzilla",
    "stripe",
    "zalando",
    "otto",
    "pricerunner",
    "kelkoo",
    "billiger",
    "geizhals",
)

PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
SHOP_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
DISPLAY_MEDIA = ("display", "banner", "expandable", "interstitial", "cpm")
SOCIAL_MEDIA = ("social", "social-network", "social-media", "sm", "social network", "social media")
EMAIL_NAMES = ("email", "e-mail", "e_mail", "e mail")
REFERRAL_MEDIA = ("referral", "app", "link")
NOT_SET = ("", "(not set)", "(none)", "none")


def _category_regex(names: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in names)
    # the name itself, or a host like www.google.de / m.facebook.com / google.com
    return re.compile(rf"^(?:[a-z0-9-]+\.)*(?:{alternatives})(?:\.[a-z]{{2,3}}){{0,2}}$")


_SEARCH = _category_regex(SEARCH_SOURCES)
_SOCIAL = _category_regex(SOCIAL_SOURCES)
_VIDEO = _category_regex(VIDEO_SOURCES)
_SHOPPING = _category_regex(SHOPPING_SOURCES)


def _norm(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip().lower()


def ga4_group(source: str | None, medium: str | None, campaign: str | None = None) -> str:
    """GA4's default channel group of one (source, medium, campaign), without workspace rules."""
    s, m, c = _norm(source), _norm(medium), _norm(campaign)
    paid = bool(PAID_MEDIUM.match(m))
    if s == "(direct)" and m in ("(not set)", "(none)", ""):
        return "Direct"
    if "cross-network" in c:
        return "Cross-network"
    is_search, is_social = bool(_SEARCH.match(s)), bool(_SOCIAL.match(s))
    is_video, is_shopping = bool(_VIDEO.match(s)), bool(_SHOPPING.match(s))
    if paid:
        if is_shopping or SHOP_CAMPAIGN.match(c):
            return "Paid Shopping"
        if is_search:
            return "Paid Search"
        if is_social:
            return "Paid Social"
        if is_video:
            return "Paid Video"
    if m in DISPLAY_MEDIA:
        return "Display"
    if paid:
        return "Paid Other"
    if is_shopping or SHOP_CAMPAIGN.match(c):
        return "Organic Shopping"
    if is_social or m in SOCIAL_MEDIA:
        return "Organic Social"
    if is_video or "video" in m:
        return "Organic Video"
    if is_search or m == "organic":
        return "Organic Search"
    return _other_group(s, m)


def _other_group(s: str, m: str) -> str:
    if s in EMAIL_NAMES or m in EMAIL_NAMES:
        return "Email"
    if m == "affiliate":
        return "Affiliates"
    if m in REFERRAL_MEDIA:
        return "Referral"
    if m == "audio":
        return "Audio"
    if s == "sms" or m == "sms":
        return "SMS"
    if m.endswith("push") or "mobile" in m or "notification" in m or s == "firebase":
        return "Mobile Push"
    return "Unassigned"


def channel_group(
    source: str | None,
    medium: str | None,
    campaign: str | None = None,
    *,
    rules: Iterable[ChannelRule] = (),
) -> str:
    """The channel of one touch: the first matching workspace rule, else GA4's default channel group.

    Parameters
    ----------
    source, medium, campaign
        UTM values (``utm_source``, ``utm_medium``, ``utm_campaign``) or their platform equivalents; compared
        case-insensitively. ``None`` counts as empty.
    rules
        Workspace channel rules; the first one whose patterns all match overrides the GA4 group.
    """
    for rule in rules:
        if rule.matches(source, medium, campaign):
            return rule.channel
    return ga4_group(source, medium, campaign)


def channel_groups(
    source: Any, medium: Any, campaign: Any = None, *, rules: Sequence[ChannelRule] = ()
) -> pa.Array:
    """Vectorised :func:`channel_group` over arrays, lists or pandas Series of equal length.

    Each distinct (source, medium, campaign) triple is grouped once, so ten million touches with a few
    thousand distinct triples cost a few thousand calls.

    Returns
    -------
    pyarrow.StringArray
        The channel of each row.
    """
    cols = [_as_string_array(source), _as_string_array(medium)]
    n = len(cols[0])
    cols.append(_as_string_array(campaign) if campaign is not None else pa.nulls(n, pa.string()))
    if any(len(c) != n for c in cols):
        raise UsageError("source, medium and campaign must have the same length")
    # each row's triple as one integer from the columns' dictionary codes (exact whatever the text holds;
    # a joined string key broke on values containing the separator)
    codes, values = [], []
    for col in cols:
        encoded = pc.dictionary_encode(pc.fill_null(col, ""))
        codes.append(encoded.indices.cast(pa.int64()))
        values.append(encoded.dictionary.to_pylist())
    sizes = [len(v) for v in values]
    pair, pair_values = pc.add(pc.multiply(codes[0], sizes[1]), codes[1]), None
    if sizes[0] * sizes[1] * sizes[2] >= 2**62:  # millions of distinct values in each: re-encode the pairs
        encoded = pc.dictionary_encode(pair)
        pair, pair_values = encoded.indices.cast(pa.int64()), encoded.dictionary.to_numpy()
    keys = pc.add(pc.multiply(pair, sizes[2]), codes[2])
    uniques = pc.unique(keys)
    unique = uniques.to_numpy()
    pair_key = unique // max(sizes[2], 1)
    if pair_values is not None:
        pair_key = pair_values[pair_key]
    triples = zip(
        pair_key // max(sizes[1], 1), pair_key % max(sizes[1], 1), unique % max(sizes[2], 1), strict=True
    )
    rules_t = tuple(rules)
    labels = pa.array(
        [channel_group(values[0][s], values[1][m], values[2][c], rules=rules_t) for s, m, c in triples],
        pa.string(),
    )
    return pc.take(labels, pc.index_in(keys, value_set=uniques))


def known_channels(rules: Iterable[ChannelRule] = (), known: Iterable[str] = ()) -> set[str]:
    """Channel names the workspace speaks of: GA4's groups, its rules' channels and ``known`` (e.g. the
    channels its tables already hold)."""
    return set(GA4_GROUPS) | {r.channel for r in rules} | {k for k in known if k}


def close_channel(name: str, vocabulary: Iterable[str]) -> str | None:
    """The known channel ``name`` most likely means ("Shopping" -> "Paid Shopping"), or None."""
    words = sorted(vocabulary)
    low = name.strip().lower()
    contains = [w for w in words if low and (low in w.lower() or w.lower() in low)]
    if contains:
        return min(contains, key=lambda w: (abs(len(w) - len(name)), w))
    found = difflib.get_close_matches(name, words, n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_channel_notes(names: Iterable[str], vocabulary: set[str]) -> list[str]:
    """One warning per channel name outside ``vocabulary``, with the known name it may mean."""
    notes = []
    for name in sorted({n for n in names if n and n not in vocabulary}):
        guess = close_channel(name, vocabulary)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        notes.append(
            f"channel {name!r} is known to no other table, channel rule or GA4 channel group{hint}; "
            "its rows become a channel of their own"
        )
    return notes


def is_brand(
    campaign: str | None, term: str | None = None, *, brand_regex: re.Pattern[str] | None
) -> bool | None:
    """Whether a campaign name or search term names the brand; None when no brand terms are configured."""
    if brand_regex is None:
        return None
    return bool(brand_regex.search(campaign or "") or brand_regex.search(term or ""))


def brand_flags(campaign: Any, term: Any = None, *, brand_regex: re.Pattern[str] | None) -> pa.Array:
    """Vectorised :func:`is_brand`: a boolean array (all null when no brand terms are configured)."""
    camp = _as_string_array(campaign)
    if brand_regex is None:
        return pa.nulls(len(camp), pa.bool_())
    hit = _regex_hits(camp, brand_regex)
    if term is not None:
        hit = pc.or_(hit, _regex_hits(_as_string_array(term), brand_regex))
    return hit


def _regex_hits(values: pa.Array, regex: re.Pattern[str]) -> pa.Array:
    # RE2 in Arrow is fast; Python-only syntax (look-behind, ...) falls back to ``re`` per distinct value
    try:
        return pc.fill_null(pc.match_substring_regex(values, "(?i)" + regex.pattern), False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        uniques = pc.unique(values)
        flags = pa.array([bool(v and regex.search(v)) for v in uniques.to_pylist()], pa.bool_())
        return pc.fill_null(pc.take(flags, pc.index_in(values, value_set=uniques)), False)


def _as_string_array(values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else values.cast(pa.string())
    if hasattr(values, "to_numpy") and hasattr(values, "dtype"):  # pandas Series
        values = [None if v is None or v != v else str(v) for v in values.tolist()]
    return pa.array([None if v is None else str(v) for v in values], pa.string())
