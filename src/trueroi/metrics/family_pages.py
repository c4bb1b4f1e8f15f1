"""Landing pages by organic revenue: what each page earns from organic search, beside its Search Console
figures.

An order counts for a page when its last non-direct touch (within the workspace's lookback window) was a
session of an organic search channel that landed on the page; its revenue and margin are in the base
currency. Pages are matched by path (scheme, host, query string, fragment and a trailing slash left out), so
Search Console's ``https://www.shop.de/jacken/`` meets the tracked ``https://shop.de/jacken?utm_source=x``.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from trueroi.metrics.dimensions import Period
from trueroi.metrics.family_base import family_table, ratio
from trueroi.workspace import Workspace
from trueroi.workspace.money import in_base
from trueroi.workspace.rules import last_touch, sale_orders

PAGES = 20
ORGANIC = ("Organic Search",)


def page_path(url: ibis.StringValue) -> ibis.StringValue:
    """The lower-cased path of a URL without query string, fragment or trailing slash (``/`` for the home)."""
    path = url.lower().re_replace(r"^[a-z][a-z0-9+.-]*://[^/]*", "").re_replace(r"[?#].*$", "")
    path = path.re_replace(r"/+$", "")
    return ibis.cases((path == "", ibis.literal("/")), else_=path)


def organic_pages(
    ws: Workspace, period: Period, page_grain: tuple[str, str] | None, with_orders: bool, notes: list[str]
) -> list[dict[str, Any]]:
    """The :data:`PAGES` landing pages with the most organic revenue in ``period``: ``page`` (path), orders,
    revenue, margin, sessions, and Search Console clicks, impressions, ctr and position (when a grain by page
    is loaded)."""
    if not with_orders:
        return []
    earned = _earned(ws, period)
    if earned.empty:
        notes.append(f"no order in {period} has an organic search visit as its last non-direct touch")
        return []
    top = earned.sort_values(["revenue", "page"], ascending=[False, True]).head(PAGES)
    paths = top["page"].tolist()
    top = top.merge(_sessions(ws, period, paths), on="page", how="left")
    if page_grain is not None:
        top = top.merge(_search(ws, period, page_grain, paths), on="page", how="left")
    else:
        notes.append("no Search Console rows by page in the period: pages show no clicks or position")
    top["revenue_per_session"] = ratio(top["revenue"], top["sessions"])
    return top.to_dict(orient="records")


def _earned(ws: Workspace, period: Period) -> pd.DataFrame:
    orders = in_base(ws, sale_orders(ws, period.start, period.end), ["revenue", "cogs"], "orders")
    events = orders.select(
        event_key=orders.order_id,
        user_id=orders.user_id,
        event_ts=orders.ts,
        revenue=orders.revenue,
        margin=orders.revenue - orders.cogs.fill_null(0.0),
    )
    tp = ws.table("touchpoints")
    last = last_touch(events, tp, lookback_days=ws.config.lookback_days)
    last = last.filter(last.channel.isin(list(ORGANIC)))
    landed = tp.filter(tp.channel.isin(list(ORGANIC)), tp.user_id.notnull()).select(
        l_user="user_id", l_ts="ts", l_page="landing_page"
    )
    j = last.left_join(landed, [last.user_id == landed.l_user, last.touch_ts == landed.l_ts])
    per_order = j.group_by(["event_key", "revenue", "margin"]).aggregate(landing=j.l_page.min())
    per_order = per_order.mutate(page=page_path(per_order.landing.fill_null("(not set)")))
    g = per_order.group_by("page").aggregate(
        orders=per_order.count(), revenue=per_order.revenue.sum(), margin=per_order.margin.sum()
    )
    return g.execute()


def _sessions(ws: Workspace, period: Period, paths: list[str]) -> pd.DataFrame:
    tp = ws.table("touchpoints")
    tp = tp.filter(tp.channel.isin(list(ORGANIC)), tp.date_day.between(period.start, period.end))
    tp = tp.mutate(page=page_path(tp.landing_page.fill_null("(not set)")))
    tp = tp.filter(tp.page.isin(paths))
    return tp.group_by("page").aggregate(sessions=tp.count()).execute()


def _search(ws: Workspace, period: Period, grain: tuple[str, str], paths: list[str]) -> pd.DataFrame:
    sc = family_table(ws, "search_console")
    sc = sc.filter(
        sc.date_day >= period.start,
        sc.period_end <= period.end,
        sc.aggregation == grain[0],
        sc.dimensions == grain[1],
        sc.page.notnull(),
    )
    sc = sc.mutate(path=page_path(sc.page))
    sc = sc.filter(sc.path.isin(paths))
    g = sc.group_by(sc.path.name("page")).aggregate(
        clicks=sc.clicks.sum(),
        impressions=sc.impressions.sum(),
        sum_position=sc.sum_position.sum(),
        pos_impressions=ibis.cases((sc.sum_position.notnull(), sc.impressions), else_=0).sum(),
    )
    df = g.execute()
    df["ctr"] = ratio(df["clicks"], df["impressions"])
    df["position"] = ratio(df["sum_position"], df["pos_impressions"])
    return df.drop(columns=["sum_position", "pos_impressions"])
