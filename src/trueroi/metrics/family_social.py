"""Organic social KPIs from ``social_posts``, per day, platform, account, post or post type.

Account days (``level`` "page") and posts count the same impressions twice, so each figure of an account is
taken from its account days where they report it in the period and from its posts otherwise (a page export
with impressions and followers, a post export with link clicks, say). Then, per row:

- impressions, engagements, clicks (link clicks to the site), reactions, comments, shares are summed;
  engagement_rate = engagements / impressions;
- reach is never summed: a row shows it only where it holds one reported figure (one post, or one account on
  one day), else null;
- followers is the follower count on the last day of the row that reports one, per account, summed over
  accounts; follower_growth = followers gained - followers lost in the row (null where gains are unknown);
- posts counts the posts published in the row.
"""

from __future__ import annotations

import ibis
import pandas as pd

from trueroi.metrics.dimensions import Period
from trueroi.metrics.family_base import FamilySpec, aggregate, family_table, ratio, with_grain
from trueroi.workspace import Workspace

SUMMED = ("impressions", "engagements", "clicks", "reactions", "comments", "shares", "video_views")
LEVELED = (*SUMMED, "reach", "followers_gained", "followers_lost")
ACCOUNT = ("platform", "account")
KPIS = ("posts", "reach", "impressions", "engagements", "engagement_rate", "followers", "follower_growth")
KPIS += ("clicks", "reactions", "comments", "shares", "video_views", "revenue")
POST_DIMS = ("post", "post_type")


def _leveled(t: ibis.Table, posts_only: bool) -> ibis.Table:
    """Each figure from the account's days where they report it in the period, else from its posts.

    An account is a platform's account name; where a platform's account days name no account (Meta's page
    export does not), all of that platform's rows are one account.
    """
    if posts_only:
        return t.filter(t.level == "post")
    unnamed = (
        ((t.level == "page") & t.account.isnull()).cast("int64").max().over(ibis.window(group_by=t.platform))
    )
    t = t.mutate(_account=ibis.cases((unnamed == 1, ibis.literal("*")), else_=t.account.fill_null("")))
    account = ibis.window(group_by=[t.platform, t._account])
    effective = {}
    for m in LEVELED:
        from_days = ((t.level == "page") & t[m].notnull()).cast("int64").max().over(account)
        use = ibis.cases((t.level == "page", from_days == 1), else_=from_days == 0)
        effective[m] = ibis.cases((use, t[m]), else_=ibis.null("int64"))
    return t.mutate(**effective).drop("_account")


def social_rows(ws: Workspace, period: Period, dims: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Summed figures, rates, reach where reported once, followers and growth per row of ``dims``."""
    t = family_table(ws, "social_posts")
    t = t.filter(t.date_day.between(period.start, period.end))
    t = t.mutate(channel=t.channel.fill_null("Organic Social"), post=t.post_id)
    t = with_grain(_leveled(t, bool(set(dims) & set(POST_DIMS))), dims)
    metrics = {m: t[m].sum() for m in (*SUMMED, "followers_gained", "followers_lost")}
    metrics |= {
        "posts": t.post_id.nunique(),
        "_reach_rows": t.reach.count(),
        "_reach": t.reach.max(),
        "_gain_rows": t.followers_gained.count(),
    }
    if "post" in dims:
        metrics |= {"title": t.title.max(), "permalink": t.permalink.max()}
    df = aggregate(t, dims, metrics)
    df = _merge(df, _followers(t, dims), dims)
    return _rates(df), []


def _followers(t: ibis.Table, dims: list[str]) -> pd.DataFrame:
    """Per row: each account's follower count on its last day with one, summed over the accounts."""
    f = t.filter(t.followers.notnull())
    keys = [*dims, *[k for k in ACCOUNT if k not in dims]]
    w = ibis.window(group_by=[f[k] for k in keys], order_by=ibis.desc(f.date_day))
    f = f.mutate(_n=ibis.row_number().over(w))
    last = f.filter(f._n == 0)
    return aggregate(last, dims, {"followers": last.followers.sum()})


def _merge(left: pd.DataFrame, right: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    if not dims:
        return left.assign(followers=right["followers"].iloc[0] if len(right) else None)
    return left.merge(right, on=dims, how="left")


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in (*SUMMED, "followers_gained", "followers_lost", "followers", "posts", "_reach", "_reach_rows"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["reach"] = df["_reach"].where(df["_reach_rows"] == 1)
    df["engagement_rate"] = ratio(df["engagements"], df["impressions"])
    growth = df["followers_gained"] - df["followers_lost"].fillna(0.0)
    df["follower_growth"] = growth.where(df["_gain_rows"] > 0)
    return df.drop(columns=["_reach", "_reach_rows", "_gain_rows"])


def finish(df: pd.DataFrame) -> pd.DataFrame:
    """Revenue per link click where the breakdown has revenue."""
    df = df.copy()
    if "revenue" in df:
        df["revenue_per_click"] = ratio(df["revenue"], df["clicks"])
    return df


SPEC = FamilySpec(
    name="social",
    label="organic social",
    table="social_posts",
    formats="meta-insights, linkedin-pages or social",
    channel="Organic Social",
    dimensions=("platform", "account", *POST_DIMS),
    money_dims=("day", "week", "month", "quarter", "year", "channel"),
    compared=(
        "impressions",
        "engagements",
        "engagement_rate",
        "followers",
        "follower_growth",
        "clicks",
        "revenue",
    ),
    kpis=KPIS,
    rows=social_rows,
    finish=finish,
    money_note="revenue, margin and ROI are known per channel and day, not per platform, account or post",
    cost_hint="import content production, community management and tool subscriptions as costs with channel "
    "Organic Social",
)
