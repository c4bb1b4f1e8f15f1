"""More ad-platform exports: TikTok Ads, LinkedIn Ads, Pinterest Ads and Amazon Ads -> ``ad_performance``.

Each format reads the campaign report its tool's UI downloads as CSV (English, and German where the UI is
localized), one row per day and campaign (or ad group):

* ``tiktok-ads``: TikTok Ads Manager custom report (``Date``/``By Day``, ``Campaign name``, ``Campaign ID``,
  ``Ad group name``, ``Cost``, ``Impressions``, ``Reach``, ``Clicks (destination)``, ``Purchases`` or the
  older ``Complete payment``, ``Total purchase value``, ``Currency``); the ``(destination)`` metric names
  tell it apart.
* ``linkedin-ads``: LinkedIn Campaign Manager campaign performance export, with its report title lines
  above the header (``Start Date (in UTC)``, ``Account Name``, ``Currency``, ``Campaign ID``, ``Campaign
  Name``, ``Total Spent``, ``Impressions``, ``Clicks``, ``Clicks to Landing Page``, ``Conversions``,
  ``Conversion Value``); dates are written ``1/15/2025``.
* ``pinterest-ads``: Pinterest Ads Manager report (``Date``, ``Campaign name``, ``Campaign ID``, ``Ad group
  name``, ``Spend in account currency``, ``Impressions``, ``Pin clicks``, ``Outbound clicks``,
  ``Checkouts``, ``Checkout value`` or ``Total conversions``, ``Total conversion value``).
* ``amazon-ads``: Amazon Ads Sponsored Products campaign report (``Date`` as ``Jan 02, 2025`` or ISO,
  ``Portfolio name``, ``Currency``, ``Campaign Name``, ``Impressions``, ``Clicks``, ``Spend``, ``7 Day Total
  Sales``, ``7 Day Total Orders (#)``; the 14-day columns of Sponsored Brands/Display reports too).

Where an export offers several columns for one measure, the one trueroi compares across platforms wins:
clicks to the site (TikTok's destination clicks, LinkedIn's clicks to landing page, Pinterest's outbound
clicks) over all clicks, purchases/checkouts over all conversion events. Conversions and conversion value
are what the platform claims, kept to compare against the shop. The currency is the file's ``Currency``
column, else a code in the spend header (``Cost (EUR)``), else the ``currency`` option (``--currency``).
Problems name the file's own header (``row 3, column Total Spent``). Rows whose first cells say ``Total``
or ``Gesamt`` are footers and dropped. The channel is GA4's group of the platform's source with medium
``cpc`` (paid social for TikTok, LinkedIn and Pinterest, paid shopping for Amazon) and the campaign name,
under the workspace's channel rules; the brand flag comes from the campaign name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest.ads import FOOTER
from trueroi.ingest.base import Format, ImportContext, register
from trueroi.ingest.channels import channel_groups
from trueroi.ingest.generic import ad_derived
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.numbers import hint_from_file, parse_numbers
from trueroi.ingest.parse import (
    DATE_FORMATS,
    ISO_4217,
    as_strings,
    event_window,
    parse_currency,
    parse_date,
    require_values,
    text,
)
from trueroi.ingest.read import TextSource, iter_rows, norm_header, sniff

# Day formats beyond the usual ones: Amazon's "Jan 02, 2025" and TikTok's API-style "2025-01-02 00:00:00".
AD_DATE_FORMATS = (*DATE_FORMATS, "%b %d, %Y", "%B %d, %Y", "%Y-%m-%d %H:%M:%S")
MONEY = ("spend", "conversions_value")
NUMBERS = ("spend", "conversions_value", "conversions")
COUNTS = ("impressions", "clicks", "reach")
REQUIRED = ("date_day", "campaign_id", "spend", "impressions", "clicks", "currency")
TEXT = ("campaign_id", "campaign_name", "ad_group_id", "ad_group_name", "account_id", "account_name")
CURRENCY_SUFFIX = re.compile(r"^(.*?)\s*\(([a-z]{3})\)$")


@dataclass(frozen=True)
class AdPlatform:
    """One ad platform's export: its names, the headers of each canonical column in order of preference
    (normalised: lower-case, single spaces) and the header patterns that tell its files apart."""

    format: str
    platform: str
    source: str
    headers: dict[str, tuple[str, ...]]
    markers: tuple[str, ...]
    description: str

    def lookup(self) -> dict[str, tuple[str, int]]:
        """Normalised header -> (canonical column, rank; 0 is preferred)."""
        return {h: (col, rank) for col, names in self.headers.items() for rank, h in enumerate(names)}


_COMMON = {
    "campaign_name": ("campaign name", "campaign", "kampagnenname", "kampagne"),
    "campaign_id": ("campaign id", "kampagnen-id"),
    "ad_group_name": ("ad group name", "ad group", "name der anzeigengruppe", "anzeigengruppe"),
    "ad_group_id": ("ad group id", "anzeigengruppen-id"),
    "account_name": ("account name", "kontoname"),
    "account_id": ("account id", "konto-id"),
    "currency": ("currency", "währung"),
    "impressions": ("impressions", "impressionen"),
    "reach": ("reach", "reichweite"),
}
TIKTOK = AdPlatform(
    "tiktok-ads",
    "tiktok_ads",
    "tiktok",
    _COMMON
    | {
        "date_day": ("date", "by day", "day", "stat_time_day", "datum", "tag", "nach tag"),
        "campaign_name": ("campaign name", "campaign_name", "kampagnenname"),
        "campaign_id": ("campaign id", "campaign_id", "kampagnen-id"),
        "ad_group_name": ("ad group name", "adgroup_name", "anzeigengruppenname", "name der anzeigengruppe"),
        "ad_group_id": ("ad group id", "adgroup_id", "anzeigengruppen-id"),
        "account_name": ("advertiser name", "account name", "werbetreibender", "kontoname"),
        "account_id": ("advertiser id", "advertiser_id", "account id", "werbetreibenden-id", "konto-id"),
        "spend": ("cost", "spend", "total cost", "kosten", "gesamtkosten"),
        "clicks": (
            "clicks (destination)",
            "klicks (ziel)",
            "clicks",
            "klicks",
            "clicks (all)",
            "klicks (alle)",
        ),
        "conversions": ("purchases", "complete payment", "käufe", "conversions", "conversion"),
        "conversions_value": (
            "total purchase value",
            "total complete payment value",
            "purchase value",
            "gesamtwert der käufe",
            "wert der käufe",
        ),
    },
    (r"\((destination|ziel)\)$", r"^complete payment", r"^stat_time_day$", r"^total purchase value$"),
    "TikTok Ads Manager campaign/ad group report (CSV, English or German)",
)
LINKEDIN = AdPlatform(
    "linkedin-ads",
    "linkedin_ads",
    "linkedin",
    _COMMON
    | {
        "date_day": (
            "start date (in utc)",
            "startdatum (in utc)",
            "start date",
            "startdatum",
            "date",
            "datum",
        ),
        "spend": ("total spent", "ausgaben gesamt", "gesamtausgaben", "amount spent"),
        "clicks": ("clicks to landing page", "klicks auf landingpage", "clicks", "klicks"),
        "conversions": ("conversions",),
        "conversions_value": (
            "conversion value",
            "total conversion value",
            "conversion-wert",
            "conversionwert",
        ),
    },
    (
        r"^(start date|startdatum) \(in utc\)$",
        r"^total spent$",
        r"^ausgaben gesamt$",
        r"^campaign group (id|name)$",
    ),
    "LinkedIn Campaign Manager campaign performance export (CSV with its report title lines)",
)
PINTEREST = AdPlatform(
    "pinterest-ads",
    "pinterest_ads",
    "pinterest",
    _COMMON
    | {
        "date_day": ("date", "day", "datum", "tag"),
        "spend": ("spend in account currency", "ausgaben in kontowährung", "spend", "ausgaben"),
        "clicks": ("outbound clicks", "ausgehende klicks", "pin clicks", "pin-klicks", "clicks", "klicks"),
        "conversions": ("checkouts", "total checkouts", "checkout", "total conversions", "conversions"),
        "conversions_value": (
            "checkout value",
            "total checkout value",
            "total order value (checkout)",
            "checkout-wert",
            "total conversion value",
            "conversion value",
        ),
    },
    (r"^spend in account currency$", r"^ausgaben in kontowährung$", r"^pin[- ]?clicks$", r"^pin-klicks$"),
    "Pinterest Ads Manager campaign/ad group report (CSV)",
)
AMAZON = AdPlatform(
    "amazon-ads",
    "amazon_ads",
    "amazon",
    _COMMON
    | {
        "date_day": ("date", "datum"),
        "date_start": ("start date", "startdatum"),
        "date_end": ("end date", "enddatum"),
        "spend": ("spend", "ausgaben", "kosten"),
        "clicks": ("clicks", "klicks"),
        "conversions": (
            "7 day total orders (#)",
            "14 day total orders (#)",
            "bestellungen insgesamt innerhalb von 7 tagen (#)",
            "orders",
        ),
        "conversions_value": (
            "7 day total sales",
            "14 day total sales",
            "umsatz insgesamt innerhalb von 7 tagen",
            "sales",
        ),
    },
    (
        r"^\d+ day total (sales|orders)",
        r"^total advertising cost of sales",
        r"^portfolio name$",
        r"innerhalb von \d+ tagen",
    ),
    "Amazon Ads Sponsored Products (or Brands/Display) campaign report (CSV)",
)
PLATFORMS = (TIKTOK, LINKEDIN, PINTEREST, AMAZON)


@dataclass
class _Mapping:
    """The file's headers that feed canonical columns, and the currency a money header names."""

    columns: dict[str, str]  # canonical -> original header
    header_currency: str | None


def _canonical(header: str, lookup: dict[str, tuple[str, int]]) -> tuple[str, int, str | None] | None:
    """(canonical column, rank, currency) of one header; ``Cost (EUR)`` is the spend in EUR."""
    key = norm_header(header)
    if key in lookup:
        return (*lookup[key], None)
    match = CURRENCY_SUFFIX.match(key)
    if match and match.group(1) in lookup and match.group(2).upper() in ISO_4217:
        col, rank = lookup[match.group(1)]
        if col in MONEY:
            return col, rank, match.group(2).upper()
    return None


def map_header(header: list[str], platform: AdPlatform) -> _Mapping:
    """Which header feeds each canonical column: the most preferred one the file has (the first of equals)."""
    lookup = platform.lookup()
    best: dict[str, tuple[int, str]] = {}
    currency = None
    for h in header:
        found = _canonical(h, lookup)
        if found is None:
            continue
        col, rank, code = found
        if col not in best or rank < best[col][0]:
            best[col] = (rank, h)
            if col == "spend":
                currency = code
    return _Mapping({col: h for col, (_, h) in best.items()}, currency)


def _is_header(platform: AdPlatform):  # noqa: ANN202 - a predicate on normalised cells
    lookup = platform.lookup()
    return lambda cells: sum(_canonical(c, lookup) is not None for c in cells) >= 3


def _check(mapping: _Mapping, platform: AdPlatform, ctx: ImportContext) -> None:
    have = set(mapping.columns) | ({"date_day"} if "date_start" in mapping.columns else set())
    if mapping.header_currency or ctx.options.get("currency"):
        have.add("currency")
    if "campaign_name" in have:
        have.add("campaign_id")
    missing = [c for c in REQUIRED if c not in have]
    if not missing:
        return
    names = "; ".join(f"{c}: {' or '.join(repr(h) for h in platform.headers[c][:2])}" for c in missing)
    hint = " (or give the currency option)" if "currency" in missing else ""
    raise DataValidationError(
        f"missing required column(s) for {platform.format}: {names}{hint}",
        file=ctx.file,
        expected=f"the columns of a {platform.description}",
    )


def _parse(raw: pa.Table, m: _Mapping, off: int, ctx: ImportContext) -> dict[str, pa.Array]:
    """Parse the mapped columns of one chunk; every problem names the file's header."""
    p, h = ctx.problems, m.columns
    numeric = {h[c]: raw[h[c]] for c in (*NUMBERS, *COUNTS) if c in h}
    parsed = parse_numbers(numeric, p, off, integer=[h[c] for c in COUNTS if c in h])
    cols = {c: parsed[h[c]] for c in (*NUMBERS, *COUNTS) if c in h}
    cols["date_day"] = _days(raw, h, off, ctx)
    for c in TEXT:
        if c in h:
            cols[c] = text(raw[h[c]], p, off, h[c])
    n = raw.num_rows
    if "currency" in h:
        cols["currency"] = parse_currency(raw[h["currency"]], p, off, h["currency"])
    else:
        code = m.header_currency or ctx.options.get("currency")
        cols["currency"] = parse_currency(pa.array([code] * n, pa.string()), p, off, "currency")
    for c in ("spend", "impressions", "clicks", "currency"):
        require_values(cols[c], p, off, h.get(c, c))
    if "campaign_id" not in cols:
        cols["campaign_id"] = cols["campaign_name"]
    campaign = pc.coalesce(cols["campaign_id"], cols.get("campaign_name", cols["campaign_id"]))
    require_values(campaign, p, off, h.get("campaign_id", h.get("campaign_name", "campaign_id")))
    return cols


def _days(raw: pa.Table, h: dict[str, str], off: int, ctx: ImportContext) -> pa.Array:
    """The row's day; a report with start and end dates instead must give one day per row."""
    p, window = ctx.problems, event_window(ctx.config, ctx.today)
    name = h.get("date_day", h.get("date_start"))
    days = parse_date(raw[name], p, off, name, AD_DATE_FORMATS, window=window)
    require_values(days, p, off, name)
    if "date_day" not in h and "date_end" in h:
        end = parse_date(raw[h["date_end"]], p, off, h["date_end"], AD_DATE_FORMATS, window=window)
        longer = pc.fill_null(pc.not_equal(end, days), False)
        p.add_mask(
            longer,
            as_strings(raw[h["date_end"]]),
            off,
            h["date_end"],
            "is not the row's start date; expected one row per day (download the report by day)",
        )
    return days


def _drop_footer(table: pa.Table) -> pa.Table:
    """Drop ``Total``/``Gesamt``/``Summe`` rows (a cell of the first two columns starts with one)."""
    keep = None
    for name in table.column_names[:2]:
        hit = pc.fill_null(
            pc.match_substring_regex(as_strings(table[name]), FOOTER.pattern, ignore_case=True), False
        )
        keep = pc.invert(hit) if keep is None else pc.and_(keep, pc.invert(hit))
    return table.filter(keep) if keep is not None else table


def _channels(cols: dict[str, pa.Array], platform: AdPlatform, n: int, ctx: ImportContext) -> pa.Array:
    """GA4's group of (platform source, cpc, campaign name) under the workspace's channel rules."""
    campaign = cols.get("campaign_name", cols["campaign_id"])
    source = pa.array([platform.source] * n, pa.string())
    return channel_groups(
        source, pa.array(["cpc"] * n, pa.string()), campaign, rules=ctx.config.channel_rules
    )


def _rows(path: Path, ctx: ImportContext, platform: AdPlatform) -> Iterator[pa.Table]:
    src = _source(path, platform)
    hint_from_file(ctx.problems.numbers, src.delimiter, src.header)
    mapping = map_header(src.header, platform)
    _check(mapping, platform, ctx)
    metrics = {mapping.columns[c] for c in (*NUMBERS, *COUNTS) if c in mapping.columns}
    keys = UniqueKeys(
        [h for h in src.header if h and h not in metrics],
        column=mapping.columns.get("campaign_id", mapping.columns.get("campaign_name")),
    )
    for off, raw in iter_rows(src):
        raw = _drop_footer(raw)
        cols = _parse(raw, mapping, off, ctx)
        n = raw.num_rows
        cols["platform"] = pa.array([platform.platform] * n, pa.string())
        cols["channel"] = _channels(cols, platform, n, ctx)
        cols = ad_derived(cols, n, ctx)
        keys.check({c: raw[c] for c in keys.columns}, ctx.problems, off, n)
        ctx.problems.check()
        if ctx.on_rows:
            ctx.on_rows(n)
        yield pa.table(cols)


def _source(path: Path, platform: AdPlatform) -> TextSource:
    try:
        return sniff(path, _is_header(platform))
    except DataValidationError as exc:
        raise DataValidationError(
            f"no {platform.format} header line found in its first 40 lines",
            file=path.name,
            expected=f"a {platform.description}, e.g. the columns "
            + ", ".join(platform.headers[c][0].title() for c in ("date_day", "campaign_name", "spend")),
        ) from exc


def _reader(platform: AdPlatform):  # noqa: ANN202 - an importer function
    def read(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
        return {"ad_performance": _rows(path, ctx, platform)}

    return read


def detect_platform(path: Path, platform: AdPlatform) -> bool:
    """Whether ``path`` is ``platform``'s export: at least three of its headers and one of its markers
    (names no other platform uses, so Google, Meta and Microsoft reports are never taken for it)."""
    if path.suffix.lower() in (".parquet", ".pq", ".json", ".ndjson", ".jsonl"):
        return False
    try:
        src = sniff(path, _is_header(platform))
    except DataValidationError:
        return False
    names = [norm_header(h) for h in src.header]
    return any(re.search(marker, name) for marker in platform.markers for name in names)


for _platform in PLATFORMS:
    register(
        Format(
            _platform.format,
            ("ad_performance",),
            _reader(_platform),
            _platform.description,
            lambda path, _p=_platform: detect_platform(Path(path), _p),
        )
    )
