"""Touchpoints from landing-page URLs: UTM parameters and click ids, lower-cased, grouped into channels.

Used by the generic ``touchpoints`` format and by the GA4 importer. Parsing is vectorised with Arrow
regular expressions; percent-encoded values are decoded per distinct value.
"""

from __future__ import annotations

import urllib.parse

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.ingest.channels import brand_flags, channel_groups
from trueroi.workspace.config import WorkspaceConfig

UTM = {
    "source": "utm_source",
    "medium": "utm_medium",
    "campaign": "utm_campaign",
    "term": "utm_term",
    "content": "utm_content",
}
CLICK_IDS = ("gclid", "gbraid", "wbraid", "msclkid", "fbclid")
# What an untagged click id says about its source, as GA4 and the platforms' auto-tagging report it.
CLICK_SOURCE = {
    "gclid": ("google", "cpc"),
    "gbraid": ("google", "cpc"),
    "wbraid": ("google", "cpc"),
    "msclkid": ("bing", "cpc"),
    "fbclid": ("facebook", "referral"),
}


def query_strings(urls: pa.Array) -> pa.Array:
    """``&`` + the query part of each URL (null without one), so parameters are searched in short strings."""
    found = pc.extract_regex(urls, r"\?(?P<q>[^#]*)")
    query = pc.if_else(pc.is_valid(found), pc.struct_field(found, [0]), pa.scalar(None, pa.string()))
    return pc.binary_join_element_wise("&", query, "")


def url_param(query: pa.Array, name: str) -> pa.Array:
    """The value of parameter ``name`` in each :func:`query_strings` value (null when absent), decoded."""
    found = pc.extract_regex(query, rf"&{name}=(?P<v>[^&]*)")
    values = pc.if_else(pc.is_valid(found), pc.struct_field(found, [0]), pa.scalar(None, pa.string()))
    return _decode(values)


def _decode(values: pa.Array) -> pa.Array:
    encoded = pc.fill_null(pc.match_substring_regex(values, r"[%+]"), False)
    if not pc.any(encoded).as_py():
        return values
    uniques = pc.unique(values.filter(encoded))
    decoded = pa.array([urllib.parse.unquote_plus(v) for v in uniques.to_pylist()], pa.string())
    mapped = pc.take(decoded, pc.index_in(values, value_set=uniques))
    return pc.if_else(encoded, mapped, values)


def _blank_to_null(values: pa.Array) -> pa.Array:
    values = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def referrer_source(referrers: pa.Array) -> pa.Array:
    """The host of each referrer URL without ``www.`` (``https://www.bing.com/search`` -> ``bing.com``)."""
    host = pc.extract_regex(referrers, r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?(?:www\.)?(?P<h>[^/:?#]+)")
    return pc.if_else(
        pc.is_valid(host), pc.utf8_lower(pc.struct_field(host, [0])), pa.scalar(None, pa.string())
    )


def enrich_touches(cols: dict[str, pa.Array], n: int, config: WorkspaceConfig) -> dict[str, pa.Array]:
    """Fill source, medium, campaign, term, content and click_id from the landing page, then channel/is_brand.

    Values given in their own columns win over the URL; everything is lower-cased except ``click_id``.
    Sessions with no source, medium or click id are Direct: ``(direct) / (none)``. A click id without UTM
    tags says its platform (``gclid`` -> ``google / cpc``), and a referrer host with no tags becomes
    ``host / referral`` (``host / organic`` for search engines), as GA4 does.
    """
    null = pa.nulls(n, pa.string())
    url = cols.get("landing_page")
    if url is not None:
        url = query_strings(url)
    for canon, param in UTM.items():
        given = cols.get(canon, null)
        if url is not None:
            given = pc.coalesce(_blank_to_null(given), _blank_to_null(url_param(url, param)))
        cols[canon] = pc.utf8_lower(pc.utf8_trim_whitespace(given))
    click_kind = cols.pop("click_kind", null)
    click = cols.get("click_id", null)
    if url is not None:
        for name in CLICK_IDS:
            value = _blank_to_null(url_param(url, name))
            click_kind = pc.if_else(
                pc.and_(pc.is_null(click_kind), pc.is_valid(value)), pa.scalar(name), click_kind
            )
            click = pc.coalesce(click, value)
    cols["click_id"] = click
    untagged = pc.and_(pc.is_null(cols["source"]), pc.is_null(cols["medium"]))
    kind_source = _lookup(click_kind, {k: v[0] for k, v in CLICK_SOURCE.items()})
    kind_medium = _lookup(click_kind, {k: v[1] for k, v in CLICK_SOURCE.items()})
    ref = cols.pop("referrer", None)
    ref_host = referrer_source(ref) if ref is not None else null
    ref_medium = _referrer_medium(ref_host)
    cols["source"] = pc.if_else(
        untagged, pc.coalesce(kind_source, ref_host, pa.scalar("(direct)")), cols["source"]
    )
    cols["medium"] = pc.if_else(
        untagged, pc.coalesce(kind_medium, ref_medium, pa.scalar("(none)")), cols["medium"]
    )
    if "channel" not in cols or pc.all(pc.is_null(cols["channel"])).as_py():
        cols["channel"] = channel_groups(
            cols["source"], cols["medium"], cols["campaign"], rules=config.channel_rules
        )
    if "is_brand" not in cols:
        cols["is_brand"] = brand_flags(cols["campaign"], cols["term"], brand_regex=config.brand_regex)
    return cols


def _lookup(keys: pa.Array, mapping: dict[str, str]) -> pa.Array:
    names = pa.array(list(mapping))
    return pc.take(pa.array(list(mapping.values())), pc.index_in(keys, value_set=names))


def _referrer_medium(hosts: pa.Array) -> pa.Array:
    search = pc.match_substring_regex(hosts, r"(^|\.)(google|bing|yahoo|duckduckgo|ecosia|baidu|yandex)\.")
    medium = pc.if_else(pc.fill_null(search, False), pa.scalar("organic"), pa.scalar("referral"))
    return pc.if_else(pc.is_valid(hosts), medium, pa.scalar(None, pa.string()))


def stable_ids(prefix: str, *columns: pa.Array) -> pa.Array:
    """Deterministic row ids from column values, so re-importing the same rows gives the same ids.

    ``prefix`` followed by DuckDB's 64-bit ``hash`` of the values (vectorised; the ids are stable for a given
    DuckDB version, which is pinned in the project's dependencies).
    """
    table = pa.table(
        {f"c{i}": c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for i, c in enumerate(columns)}
    )
    cols = ", ".join(f"c{i}" for i in range(len(columns)))
    con = _hasher()
    con.register("_ids", table)
    try:
        result = con.execute(f"SELECT ? || CAST(hash({cols}) AS VARCHAR) AS id FROM _ids", [prefix]).arrow()
        result = result.read_all() if hasattr(result, "read_all") else result
    finally:
        con.unregister("_ids")
    return result["id"].combine_chunks().cast(pa.string())


_HASHER: list[duckdb.DuckDBPyConnection] = []


def _hasher() -> duckdb.DuckDBPyConnection:
    if not _HASHER:
        _HASHER.append(duckdb.connect())
    return _HASHER[0]
