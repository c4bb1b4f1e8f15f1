"""SEO KPIs from ``search_console`` (and ``rankings``), per day, query, page, country, device or brand.

- clicks and impressions are summed; ctr = clicks / impressions;
- position is the impression-weighted average position: sum over rows of (average position x impressions) /
  impressions (``sum_position`` / impressions), over queries and days alike, never an average of averages;
- is_brand: a query that matches one of the workspace's brand terms; anonymized queries (the bulk export's
  null query) have none.

Search Console counts the same impressions in several breakdowns (the UI download's Queries, Countries and
Dates files; the site and URL tables of the bulk export), so each answer reads ONE of them: among the
``(aggregation, dimensions)`` the table holds in the period, one that has every dimension asked for, by URL
only when pages are asked for, covering the most days, daily rows before period totals, and the fewest other
dimensions. Rows covering a range of days (the UI's Queries/Pages files) count only when the whole range lies
in the period, and in the time bucket of their first day.

The extras: ``movers`` (the queries that gained and lost the most clicks against the previous period and a
year before), ``pages`` (landing pages by the revenue of orders whose last non-direct touch was an organic
search visit to them, with their sessions and Search Console figures) and ``visibility`` (the latest
visibility index and keyword rankings per tool and domain).
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from trueroi.metrics.dimensions import Period, time_grain
from trueroi.metrics.family_base import FamilySpec, aggregate, family_table, ratio, with_grain
from trueroi.metrics.family_pages import organic_pages
from trueroi.metrics.family_rankings import visibility
from trueroi.workspace import Workspace

DIMS = ("query", "page", "country", "device", "is_brand", "search_type", "site")
NEEDS = {"query": "query", "is_brand": "query", "page": "page", "country": "country", "device": "device"}
KPIS = ("clicks", "impressions", "ctr", "position", "revenue", "revenue_per_click")
MOVERS = 10


def brand_pattern(ws: Workspace) -> str | None:
    """One case-insensitive regular expression of the workspace's brand terms (None without terms)."""
    terms = ws.config.brand_terms
    return "(?i)" + "|".join(f"(?:{t})" for t in terms) if terms else None


def in_period(t: ibis.Table, period: Period) -> ibis.Table:
    """Rows whose days lie wholly in ``period``."""
    return t.filter(t.date_day >= period.start, t.period_end <= period.end)


def grains(t: ibis.Table) -> pd.DataFrame:
    """The ``(aggregation, dimensions)`` of the rows of ``t``: how many days each covers and whether its
    rows are days or ranges."""
    g = t.group_by(["aggregation", "dimensions"]).aggregate(
        ranges=(t.period_end > t.date_day).cast("int64").sum(),
        days=t.date_day.nunique(),
        lo=t.date_day.min(),
        hi=t.period_end.max(),
    )
    df = g.execute()
    span = (pd.to_datetime(df["hi"]) - pd.to_datetime(df["lo"])).dt.days + 1
    df["covered"] = span.where(df["ranges"] > 0, df["days"])
    return df


def choose_grain(available: pd.DataFrame, dims: list[str]) -> tuple[str, str] | None:
    """The ``(aggregation, dimensions)`` to answer ``dims`` from (see the module docstring), or None."""
    wanted = {NEEDS[d] for d in dims if d in NEEDS}
    timed = time_grain(dims) is not None
    best, best_key = None, None
    for row in available.itertuples(index=False):
        have = set(filter(None, str(row.dimensions).split(",")))
        if not wanted <= have:
            continue
        by_page = row.aggregation == "page"
        key = (by_page != ("page" in wanted), -int(row.covered), timed and row.ranges > 0, len(have))
        if best_key is None or key < best_key:
            best, best_key = (str(row.aggregation), str(row.dimensions)), key
    return best


def seo_rows(ws: Workspace, period: Period, dims: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Clicks, impressions, CTR and impression-weighted position per row of ``dims`` in ``period``."""
    sc = family_table(ws, "search_console")
    current = in_period(sc, period)
    choice = choose_grain(grains(current), dims)
    notes: list[str] = []
    if choice is None:
        empty = pd.DataFrame(columns=[*dims, "clicks", "impressions", "sum_position", "pos_impressions"])
        if len(current.limit(1).execute()):
            notes.append(f"no Search Console rows are broken down by {', '.join(dims)} in {period}")
        return _rates(empty), notes
    t = current.filter(current.aggregation == choice[0], current.dimensions == choice[1])
    notes += _partial_note(sc, period, choice)
    t = with_brand(ws, t, notes) if "is_brand" in dims else t
    t = with_grain(t.mutate(channel=t.channel.fill_null("Organic Search")), dims)
    df = aggregate(t, dims, measures(t))
    if time_grain(dims) and _has_ranges(t):
        notes.append("rows covering a range of days count in the time bucket of their first day")
    return _rates(df), notes


def measures(t: ibis.Table) -> dict[str, ibis.Value]:
    """Sums every SEO KPI is a ratio of."""
    return {
        "clicks": t.clicks.sum(),
        "impressions": t.impressions.sum(),
        "sum_position": t.sum_position.sum(),
        "pos_impressions": ibis.cases((t.sum_position.notnull(), t.impressions), else_=0).sum(),
    }


def _has_ranges(t: ibis.Table) -> bool:
    return bool(
        t.aggregate(n=(t.period_end > t.date_day).cast("int64").sum()).execute()["n"].fillna(0).iloc[0]
    )


def with_brand(ws: Workspace, t: ibis.Table, notes: list[str]) -> ibis.Table:
    """``t`` with ``is_brand`` from its query and the workspace's brand terms (null: an anonymized query)."""
    pattern = brand_pattern(ws)
    if pattern is None:
        notes.append("the workspace names no brand terms (brand_terms in trueroi.toml): is_brand is unknown")
        return t.mutate(is_brand=ibis.null("boolean"))
    return t.mutate(
        is_brand=ibis.cases((t.query.isnull(), ibis.null("boolean")), else_=t.query.re_search(pattern))
    )


def _partial_note(sc: ibis.Table, period: Period, choice: tuple[str, str]) -> list[str]:
    t = sc.filter(sc.aggregation == choice[0], sc.dimensions == choice[1])
    cut = t.filter(
        t.date_day <= period.end,
        t.period_end >= period.start,
        (t.date_day < period.start) | (t.period_end > period.end),
    )
    n = int(cut.count().execute())
    if not n:
        return []
    return [f"{n} Search Console row(s) covering days inside and outside {period} are left out"]


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in ("clicks", "impressions", "sum_position", "pos_impressions"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["ctr"] = ratio(df["clicks"], df["impressions"])
    df["position"] = ratio(df["sum_position"], df["pos_impressions"])
    return df.drop(columns=["sum_position", "pos_impressions"])


def finish(df: pd.DataFrame) -> pd.DataFrame:
    """Organic revenue per Search Console click (where the breakdown has revenue)."""
    df = df.copy()
    if "revenue" in df:
        df["revenue_per_click"] = ratio(df["revenue"], df["clicks"])
    return df


def movers(ws: Workspace, period: Period, limit: int = MOVERS) -> dict[str, Any]:
    """The queries with the largest click gains and losses against the previous period and a year before
    (``available`` false where the other period holds no Search Console rows of the same breakdown)."""
    sc = family_table(ws, "search_console")
    choice = choose_grain(grains(in_period(sc, period)), ["query"])
    out: dict[str, Any] = {}
    for mode in ("previous", "yoy"):
        other = period.shifted(mode, None)
        entry = {"from": other.start.isoformat(), "to": other.end.isoformat(), "winners": [], "losers": []}
        entry["available"] = choice is not None and _has_rows(sc, other, choice)
        if entry["available"]:
            entry |= _moved(sc, period, other, choice, limit)
        out[mode] = entry
    return out


def _has_rows(sc: ibis.Table, period: Period, choice: tuple[str, str]) -> bool:
    t = in_period(sc, period)
    return len(t.filter(t.aggregation == choice[0], t.dimensions == choice[1]).limit(1).execute()) > 0


def _by_query(sc: ibis.Table, period: Period, choice: tuple[str, str], suffix: str) -> ibis.Table:
    t = in_period(sc, period)
    t = t.filter(t.aggregation == choice[0], t.dimensions == choice[1], t.query.notnull())
    m = measures(t)
    return t.group_by(t.query.name(f"query{suffix}")).aggregate(**{f"{k}{suffix}": v for k, v in m.items()})


def _moved(
    sc: ibis.Table, period: Period, other: Period, choice: tuple[str, str], limit: int
) -> dict[str, Any]:
    cur, prev = _by_query(sc, period, choice, ""), _by_query(sc, other, choice, "_prev")
    j = cur.outer_join(prev, cur.query == prev.query_prev)
    j = j.select(
        query=ibis.coalesce(j.query, j.query_prev),
        clicks=j.clicks.fill_null(0),
        clicks_prev=j.clicks_prev.fill_null(0),
        impressions=j.impressions.fill_null(0),
        impressions_prev=j.impressions_prev.fill_null(0),
        position=j.sum_position / j.pos_impressions.nullif(0),
        position_prev=j.sum_position_prev / j.pos_impressions_prev.nullif(0),
    )
    j = j.mutate(clicks_change=j.clicks - j.clicks_prev)
    j = j.mutate(
        _up=ibis.row_number().over(order_by=[ibis.desc("clicks_change"), "query"]),
        _down=ibis.row_number().over(order_by=["clicks_change", "query"]),
    )
    top = j.filter((j._up < limit) | (j._down < limit)).execute()
    cols = ["query", "clicks", "clicks_prev", "clicks_change", "impressions", "impressions_prev"]
    cols += ["position", "position_prev"]
    winners = top[(top["_up"] < limit) & (top["clicks_change"] > 0)].sort_values("_up")
    losers = top[(top["_down"] < limit) & (top["clicks_change"] < 0)].sort_values("_down")
    return {
        "winners": winners[cols].to_dict(orient="records"),
        "losers": losers[cols].to_dict(orient="records"),
    }


def extras(ws: Workspace, period: Period, money: Any) -> dict[str, Any]:
    """Movers, pages by organic revenue and visibility for ``period``."""
    notes: list[str] = []
    sc = family_table(ws, "search_console")
    page_grain = choose_grain(grains(in_period(sc, period)), ["page"])
    pages = organic_pages(ws, period, page_grain, money.available, notes)
    return {
        "movers": movers(ws, period),
        "pages": pages,
        "visibility": visibility(ws, period),
        "notes": notes,
    }


SPEC = FamilySpec(
    name="seo",
    label="SEO",
    table="search_console",
    formats="search-console or rankings",
    channel="Organic Search",
    dimensions=DIMS,
    money_dims=("day", "week", "month", "quarter", "year", "channel"),
    compared=("clicks", "impressions", "ctr", "position", "revenue"),
    kpis=KPIS,
    rows=seo_rows,
    finish=finish,
    money_note="revenue, margin and ROI are known per channel and day, not per query, page, country or "
    "device; see pages for organic revenue by landing page",
    cost_hint="import SEO tool subscriptions, content production and agency hours as costs with channel "
    "Organic Search",
    extras=extras,
)
