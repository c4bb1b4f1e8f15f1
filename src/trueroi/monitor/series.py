"""Daily and hourly KPI series per scope, built as Ibis aggregations over the workspace.

A *series* is one scope (the whole business, one channel, one campaign) and its additive measures per local
day (or UTC hour): spend, impressions, clicks, attributed conversions and revenue, sessions (touchpoints)
and, for the whole business, orders. KPIs (CPA, ROAS, CTR) are never stored per day: the detectors read
their numerator and denominator, so ratios stay weighted (DESIGN.md, "Definitions").

The daily measures come from :func:`trueroi.metrics.facts.facts`, the same base-grain facts the KPI engine
sums, so a monitored day matches ``trueroi kpis --by day``. Days without a row (a campaign that stopped
spending has no row in the export) are filled with zeros between the scope's first day and the last day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from trueroi.metrics.facts import UNALLOCATED, UNATTRIBUTED, facts
from trueroi.workspace import Workspace
from trueroi.workspace.rules import sale_orders

SCOPES = ("total", "channel", "campaign")  # what users watch; "leaf" is internal
DAILY_MEASURES = ("spend", "impressions", "clicks", "conversions", "revenue", "sessions")
HOURLY_MEASURES = ("sessions", "orders")
TOTAL = "(all)"
NO_CAMPAIGN = "(none)"
LEAF_SEP = " / "
_SKIP = (UNATTRIBUTED, UNALLOCATED)


def daily_series(ws: Workspace, start: date, end: date, model: str | None = None) -> pd.DataFrame:
    """Additive measures per local day and scope.

    Parameters
    ----------
    ws
        The workspace.
    start, end
        Inclusive local days; pass enough history before the first day to be checked (the baselines read
        eight weeks back).
    model
        Attribution model for ``conversions`` and ``revenue`` (default from the workspace config).

    Returns
    -------
    DataFrame
        ``date_day, scope, scope_value, channel, campaign`` and the columns of :data:`DAILY_MEASURES`
        (base currency for money) plus ``orders`` (sale orders of the day, total scope only; NaN
        elsewhere). ``scope`` is total, channel, campaign, or leaf: the finest grain (one channel x
        campaign pair, ``scope_value`` "channel / campaign"), from which ratio KPIs build mix-adjusted
        expectations for the coarser scopes. ``scope_value`` is ``(all)`` for the total, the channel, or
        the normalised campaign name. One row per scope and day from the scope's first day to ``end``.
    """
    f = facts(ws, start, end, model or ws.config.attribution_model)
    f = f.mutate(campaign=f.campaign.fill_null(NO_CAMPAIGN))
    leaf = f.group_by(["date_day", "channel", "campaign"]).aggregate(
        **{m: f[m].sum() for m in DAILY_MEASURES}
    )
    leaf = leaf.execute()
    leaf["date_day"] = pd.to_datetime(leaf["date_day"]).dt.date
    parts = [
        leaf.assign(scope="leaf", scope_value=leaf["channel"] + LEAF_SEP + leaf["campaign"]),
        _sum(leaf, [], "total").assign(scope_value=TOTAL, channel=None, campaign=None),
    ]
    named = leaf[~leaf["channel"].isin(_SKIP)]
    parts.append(
        _sum(named, ["channel"], "channel").assign(scope_value=lambda d: d["channel"], campaign=None)
    )
    named = leaf[leaf["campaign"] != NO_CAMPAIGN]
    parts.append(
        _sum(named, ["campaign"], "campaign").assign(scope_value=lambda d: d["campaign"], channel=None)
    )
    out = _fill_days(pd.concat(parts, ignore_index=True), end, DAILY_MEASURES)
    orders = _order_counts(ws, start, end)
    out = out.merge(orders, on=["date_day", "scope"], how="left")
    is_total = out["scope"] == "total"
    out.loc[is_total, "orders"] = out.loc[is_total, "orders"].fillna(0.0)
    return out.sort_values(["scope", "scope_value", "date_day"], ignore_index=True)


def _sum(leaf: pd.DataFrame, keys: list[str], scope: str) -> pd.DataFrame:
    g = leaf.groupby(["date_day", *keys], as_index=False)[list(DAILY_MEASURES)].sum()
    return g.assign(scope=scope)


def _order_counts(ws: Workspace, start: date, end: date) -> pd.DataFrame:
    o = sale_orders(ws, start, end)
    df = o.group_by("date_day").aggregate(orders=o.count().cast("float64")).execute()
    df["date_day"] = pd.to_datetime(df["date_day"]).dt.date
    df["scope"] = "total"
    return df


def _fill_days(df: pd.DataFrame, end: date, measures: tuple[str, ...]) -> pd.DataFrame:
    """One row per scope and day from the scope's first day to ``end``, missing days as zeros."""
    keys = ["scope", "scope_value"]
    cols = ["date_day", *keys, "channel", "campaign", *measures]
    if df.empty:
        return pd.DataFrame(columns=cols)
    groups = df.groupby(keys, sort=False).agg(
        first=("date_day", "min"), channel=("channel", "first"), campaign=("campaign", "first")
    )
    index = pd.MultiIndex.from_tuples(
        [(s, v, d) for (s, v), first in groups["first"].items() for d in pd.date_range(first, end).date],
        names=[*keys, "date_day"],
    )
    out = df.groupby([*keys, "date_day"])[list(measures)].sum().reindex(index, fill_value=0.0).reset_index()
    out = out.join(groups[["channel", "campaign"]], on=keys)
    return out[cols]


def hourly_series(ws: Workspace, start: date, end: date) -> pd.DataFrame:
    """Tracking volume per UTC hour for the whole business: sessions (touchpoints) and orders.

    Parameters
    ----------
    start, end
        Inclusive local days (``date_day``); every hour from the first to the last hour with data is
        returned, empty hours as zeros.

    Returns
    -------
    DataFrame
        ``hour`` (naive UTC timestamp at the start of the hour), ``scope`` (total), ``scope_value``,
        ``sessions``, ``orders``. Empty when the timestamps carry no time of day (every ``ts`` at midnight).
    """
    parts = []
    for name, measure in (("touchpoints", "sessions"), ("orders", "orders")):
        t = ws.table(name)
        t = t.filter(t.date_day.between(start, end), t.ts.notnull())
        g = t.group_by(t.ts.truncate("h").name("hour")).aggregate(**{measure: t.count().cast("float64")})
        parts.append(g.execute().set_index("hour"))
    df = parts[0].join(parts[1], how="outer")
    if df.empty or (pd.DatetimeIndex(df.index).hour == 0).all():
        return pd.DataFrame(columns=["hour", "scope", "scope_value", *HOURLY_MEASURES])
    idx = pd.DatetimeIndex(df.index).tz_localize(None) if pd.DatetimeIndex(df.index).tz else df.index
    df.index = pd.DatetimeIndex(idx)
    hours = pd.date_range(df.index.min(), df.index.max(), freq="h")
    df = df.reindex(hours).fillna(0.0).rename_axis("hour").reset_index()
    df["scope"], df["scope_value"] = "total", TOTAL
    return df[["hour", "scope", "scope_value", *HOURLY_MEASURES]]


def history_start(first_day: date, days: int) -> date:
    """The first day to read so that ``first_day`` has ``days`` days of history before it."""
    return first_day - timedelta(days=days)
