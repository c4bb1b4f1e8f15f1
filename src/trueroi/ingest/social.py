"""Organic social insights -> ``social_posts``: Meta page and post insights, LinkedIn page analytics, a
generic social post CSV.

* ``meta-insights``: the Meta Business Suite content export (Insights > Content > Export, one row per
  Facebook or Instagram post: ``Post ID, Page name / Account username, Title / Description, Publish time,
  Permalink, Post type, Date (Lifetime), Impressions / Views, Reach, Reactions, Comments and Shares,
  Reactions, Comments, Shares, Total clicks, Link clicks``; German ``Beitrags-ID, Seitenname,
  Veröffentlichungszeitpunkt, Impressionen, Reichweite, Reaktionen, Kommentare, Geteilte Inhalte,
  Link-Klicks``)
  and the page-level daily insights export (``Date, Lifetime Total Likes, Daily New Likes, Daily Unlikes,
  Daily Total Reach, Daily Total Impressions, Daily Page Engagements`` with the description line the export
  writes under the header; Business Suite names ``Follows``, ``Unfollows``, ``Facebook Page reach`` too).
* ``linkedin-pages``: the LinkedIn page analytics exports saved as CSV: the content export's "All posts"
  sheet (``Post title, Post link, Post type, Created date, Impressions, Clicks, Likes, Comments, Reposts,
  Follows, Engagement rate``), its "Metrics" sheet (``Date, Impressions (organic), Unique impressions
  (organic), Clicks (organic), Reactions (organic), Comments (organic), Reposts (organic)``: organic
  figures only, sponsored ones belong to the ad reports) and the followers export (``Date, Sponsored
  followers, Organic followers, Auto-invited followers, Total followers``: new followers per day).
* ``social``: a generic CSV/Parquet (``date, platform, account, post_id, post_type, title, permalink,
  utm_campaign, channel, impressions, reach, engagements, reactions, comments, shares, clicks, video_views,
  followers, followers_gained, followers_lost``), e.g. a Hootsuite or Sprout export renamed.

A row with a post id is a post over its lifetime (``level`` "post", its day the publish day); a row without
one is an account's day (``level`` "page"). Engagements are the platform's figure where the export has one,
else reactions + comments + shares + clicks. Reach is kept as reported and never summed. ``clicks`` are link
clicks (to the site). Post texts are kept as a title of at most :data:`TITLE_CHARS` characters. ``figures``
names the measures a file reports: LinkedIn's metrics and followers sheets describe the same account days
with different figures, so a row replaces an earlier one only when it has the same key and the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.ingest.base import Format, ImportContext, register
from trueroi.ingest.generic import iter_source, warn_unknown_channels
from trueroi.ingest.owned import (
    Layout,
    add,
    at_most,
    canonical_detector,
    constant,
    detector,
    first_of,
    header_key,
    mapped_chunks,
    parse_day,
    read_layout,
    register_table,
    require,
)
from trueroi.ingest.parse import as_strings
from trueroi.workspace.load import PeriodReplace, RowKey

TABLE = "social_posts"
CHANNEL = "Organic Social"
TITLE_CHARS = 100
COUNTS = (
    "impressions",
    "reach",
    "engagements",
    "reactions",
    "comments",
    "shares",
    "clicks",
    "total_clicks",
    "video_views",
    "followers",
    "followers_gained",
    "followers_lost",
)
KINDS = {
    **dict.fromkeys(COUNTS, "count"),
    "account": "text",
    "post_id": "text",
    "post_type": "lower",
    "permalink": "url",
    "campaign": "text",
    "channel": "text",
    "platform": "lower",
    "username": "text",
    "text": "body",
    "description": "body",
    "date": "day",
    "published": "day",
}
KEYS = ("platform", "level", "account", "post_id", "date_day", "figures")
DESCRIPTION_ROW = r"^(lifetime|daily|weekly|28 days|lebensdauer|täglich|wöchentlich)\s*:"


def _aliases(pairs: dict[str, Iterable[str]]) -> dict[str, str]:
    return {header_key(name): field for field, names in pairs.items() for name in names}


META = _aliases(
    {
        "post_id": ("Post ID", "Beitrags-ID"),
        "account": ("Page name", "Account username", "Account name", "Seitenname", "Kontoname"),
        "username": ("Account username", "Konto-Benutzername"),
        "text": ("Title", "Titel"),
        "description": ("Description", "Beschreibung"),
        "published": ("Publish time", "Veröffentlichungszeitpunkt"),
        "permalink": ("Permalink",),
        "post_type": ("Post type", "Beitragstyp"),
        "date": ("Date", "Datum"),
        "impressions": ("Impressions", "Views", "Impressionen", "Aufrufe", "Daily Total Impressions"),
        "reach": ("Reach", "Reichweite", "Daily Total Reach", "Facebook Page reach", "Facebook-Reichweite"),
        "engagements": (
            "Reactions, Comments and Shares",
            "Reaktionen, Kommentare und geteilte Inhalte",
            "Daily Page Engagements",
            "Post engagements",
            "Beitragsinteraktionen",
        ),
        "reactions": ("Reactions", "Likes", "Reaktionen", "Gefällt mir"),
        "comments": ("Comments", "Kommentare"),
        "shares": ("Shares", "Geteilte Inhalte"),
        "total_clicks": ("Total clicks", "Klicks insgesamt"),
        "clicks": ("Link clicks", "Link-Klicks"),
        "video_views": ("3-second video views", "Plays", "3-Sekunden-Videoaufrufe"),
        "followers": ("Lifetime Total Likes", "Facebook Page likes", "Follower", "Followers"),
        "followers_gained": ("Daily New Likes", "Follows", "Neue Follower", "New follows"),
        "followers_lost": ("Daily Unlikes", "Unfollows", "Nicht mehr gefolgt"),
        "platform": ("Platform", "Plattform"),
    }
)
META_GERMAN = frozenset(header_key(h) for h in ("Beitrags-ID", "Impressionen", "Reichweite", "Datum"))
META_ONLY = ("Beitrags-ID", "Daily Total Reach", "Lifetime Total Likes", "Publish time")
META_ONLY += ("Veröffentlichungszeitpunkt", "Reactions, Comments and Shares", "Facebook Page reach")
LINKEDIN = _aliases(
    {
        "text": ("Post title", "Beitragstitel"),
        "permalink": ("Post link", "Beitragslink"),
        "post_type": ("Content Type", "Inhaltstyp"),
        "date": ("Created date", "Date", "Erstellungsdatum", "Datum"),
        "impressions": ("Impressions", "Impressions (organic)", "Impressionen", "Impressionen (organisch)"),
        "reach": ("Unique impressions (organic)", "Eindeutige Impressionen (organisch)"),
        "clicks": ("Clicks", "Clicks (organic)", "Klicks", "Klicks (organisch)"),
        "reactions": ("Likes", "Reactions (organic)", "Reaktionen (organisch)", "Reaktionen"),
        "comments": ("Comments", "Comments (organic)", "Kommentare", "Kommentare (organisch)"),
        "shares": ("Reposts", "Reposts (organic)", "Shares (organic)", "Reposts (organisch)"),
        "followers_gained": ("Total followers", "Follows", "Follower insgesamt", "Neue Follower"),
        "video_views": ("Views", "Aufrufe"),
        "organic_followers": ("Organic followers", "Organische Follower"),
        "sponsored_followers": ("Sponsored followers", "Gesponserte Follower"),
    }
)
LINKEDIN_GERMAN = frozenset(header_key(h) for h in ("Beitragstitel", "Impressionen", "Datum", "Klicks"))
LINKEDIN_ONLY = ("Post link", "Post title", "Impressions (organic)", "Unique impressions (organic)")
LINKEDIN_ONLY += ("Organic followers", "Auto-invited followers", "Beitragslink", "Impressionen (organisch)")
GENERIC = _aliases(
    {
        "date": ("date", "date_day", "day", "published", "publish_time"),
        "platform": ("platform", "network"),
        "account": ("account", "page", "profile"),
        "post_id": ("post_id",),
        "post_type": ("post_type",),
        "text": ("title", "message", "text"),
        "permalink": ("permalink", "url", "post_url"),
        "campaign": ("utm_campaign", "campaign"),
        "channel": ("channel",),
        **{c: (c,) for c in COUNTS if c != "total_clicks"},
        "clicks": ("clicks", "link_clicks"),
        "reactions": ("reactions", "likes"),
    }
)


def _title(values: pa.Array | None, n: int) -> pa.Array:
    """The first :data:`TITLE_CHARS` characters of a post's text (its first line)."""
    if values is None:
        return pa.nulls(n, pa.string())
    strings = as_strings(values)
    first_line = pc.utf8_trim_whitespace(
        pc.replace_substring_regex(strings, r"[\r\n].*", "", max_replacements=1)
    )
    return pc.utf8_slice_codeunits(first_line, 0, TITLE_CHARS)


def _build(platform: str):  # noqa: ANN202 - a Build function of read_layout
    def build(
        cols: dict[str, pa.Array], n: int, off: int, ctx: ImportContext, shown: dict[str, str]
    ) -> dict[str, pa.Array]:
        day = _days(cols, n, off, ctx, shown)
        engagements = first_of(cols, "engagements")
        if engagements is None:
            engagements = add(*(cols.get(c) for c in ("reactions", "comments", "shares")), _clicks_all(cols))
        channel = pc.fill_null(cols.get("channel", constant(CHANNEL, n)), CHANNEL)
        warn_unknown_channels(channel, ctx)
        post_id = cols.get("post_id", pa.nulls(n, pa.string()))
        if platform == "linkedin" and "post_id" not in cols and "permalink" in cols:
            post_id = cols["permalink"]  # LinkedIn's export has no post id: its link names the post
        out = {
            "date_day": day,
            "platform": _platforms(cols, n, platform),
            "account": cols.get("account", constant(ctx.options.get("account"), n)),
            "level": pc.if_else(pc.is_valid(post_id), "post", "page"),
            "post_id": post_id,
            "post_type": cols.get("post_type", pa.nulls(n, pa.string())),
            "title": _title(first_of(cols, "text", "description"), n),
            "permalink": cols.get("permalink", pa.nulls(n, pa.string())),
            "campaign": cols.get("campaign", pa.nulls(n, pa.string())),
            "channel": channel,
            "figures": constant(",".join(sorted(c for c in COUNTS if c in cols)), n),
            "engagements": engagements if engagements is not None else pa.nulls(n, pa.int64()),
        }
        for c in COUNTS:
            if c not in out and c != "total_clicks":
                out[c] = cols.get(c, pa.nulls(n, pa.int64()))
        at_most(out, "clicks", "impressions", ctx, off, shown, "expected at most one click per impression")
        at_most(out, "reach", "impressions", ctx, off, shown, "expected reach of at most the impressions")
        return out

    return build


def _clicks_all(cols: dict[str, pa.Array]) -> pa.Array | None:
    return first_of(cols, "total_clicks", "clicks")


def _days(cols: dict[str, pa.Array], n: int, off: int, ctx: ImportContext, shown: dict[str, str]) -> pa.Array:
    """A row's day: its Date, else (a post over its lifetime: Meta writes "Lifetime") its publish day."""
    day = cols.get("date")
    if "published" in cols:
        day = pc.coalesce(day, cols["published"]) if day is not None else cols["published"]
    if day is None:
        day = pa.nulls(n, pa.date32())
    require({"date": day}, ctx, off, {"date": shown.get("date") or shown.get("published", "date")}, "date")
    return day


def _platforms(cols: dict[str, pa.Array], n: int, platform: str) -> pa.Array:
    if "platform" in cols:
        return pc.fill_null(cols["platform"], platform)
    if platform == "facebook" and "username" in cols:  # Business Suite's Instagram export names accounts so
        return constant("instagram", n)
    return constant(platform, n)


def _date_fields(table: pa.Table, off: int, ctx: ImportContext, shown: dict[str, str]) -> pa.Table:
    """Parse Date and Publish time as days before the other fields; "Lifetime" (Meta) is no date."""
    for name in ("date", "published"):
        if name not in table.column_names:
            continue
        values = as_strings(table[name])
        lifetime = pc.fill_null(pc.match_substring_regex(values, r"^(?i:lifetime|gesamte laufzeit)$"), False)
        values = pc.if_else(lifetime, pa.scalar(None, pa.string()), values)
        days = parse_day(values, ctx, off, shown[name])
        table = table.set_column(table.column_names.index(name), name, days)
    return table


def _without_descriptions(table: pa.Table) -> pa.Table:
    """Drop the description line Meta's page insights export writes under its header
    ("Lifetime: The total number of people who have liked your Page ...")."""
    keep = None
    for name in table.column_names:
        if pa.types.is_string(table.schema.field(name).type):
            desc = pc.fill_null(
                pc.match_substring_regex(table[name], DESCRIPTION_ROW, ignore_case=True), False
            )
            keep = pc.invert(desc) if keep is None else pc.and_(keep, pc.invert(desc))
    return table if keep is None else table.filter(keep)


def _chunks(path: Path, ctx: ImportContext, layout: Layout):  # noqa: ANN202 - chunks of read_layout
    source = (
        _parquet(path, ctx, layout)
        if path.suffix.lower() in (".parquet", ".pq")
        else mapped_chunks(path, ctx, layout)
    )
    for off, table, shown in source:
        table = _without_descriptions(table) if layout.name == "meta-insights" and off == 0 else table
        yield off, _date_fields(table, off, ctx, shown), shown


def _parquet(path: Path, ctx: ImportContext, layout: Layout):  # noqa: ANN202 - chunks of read_layout
    for off, raw in iter_source(path, ctx.problems):
        mapping = layout.mapping(raw.column_names)
        if off == 0:
            layout.check_header(mapping, raw.column_names, ctx.file)
        yield off, raw.select(list(mapping.values())).rename_columns(list(mapping)), mapping


def _layout(name: str, aliases: dict[str, str], german: frozenset[str] = frozenset()) -> Layout:
    return Layout(name, TABLE, aliases, KINDS, (("date", "published"),), german, KEYS)


LAYOUTS = {
    "meta-insights": (_layout("meta-insights", META, META_GERMAN), "facebook"),
    "linkedin-pages": (_layout("linkedin-pages", LINKEDIN, LINKEDIN_GERMAN), "linkedin"),
    "social": (_layout("social", GENERIC), "social"),
}


def _reader(name: str):  # noqa: ANN202 - an importer
    layout, platform = LAYOUTS[name]

    def read(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
        def chunks():  # noqa: ANN202 - a generator, so nothing runs before the load asks for rows
            ctx.problems.check()
            yield from read_layout(path, ctx, layout, _build(platform), _chunks(path, ctx, layout))

        return {TABLE: chunks()}

    return read


register_table(TABLE, RowKey(KEYS), PeriodReplace("date_day", scope=("platform", "level")))
register(
    Format(
        "meta-insights",
        (TABLE,),
        _reader("meta-insights"),
        "Meta (Facebook/Instagram) post insights from Business Suite, or page insights by day",
        detector(LAYOUTS["meta-insights"][0], {header_key(h) for h in META_ONLY}),
    )
)
register(
    Format(
        "linkedin-pages",
        (TABLE,),
        _reader("linkedin-pages"),
        "LinkedIn page analytics: posts, daily metrics or followers (sheets saved as CSV)",
        detector(LAYOUTS["linkedin-pages"][0], {header_key(h) for h in LINKEDIN_ONLY}),
    )
)
register(
    Format(
        "social",
        (TABLE,),
        _reader("social"),
        "organic social posts or account days with canonical columns (CSV/Parquet)",
        canonical_detector({"platform"}, {"reach", "engagements", "followers", "post_id"}),
    )
)
