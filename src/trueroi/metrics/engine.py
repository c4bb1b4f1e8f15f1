"""The KPI engine: one call answers "what did each channel (campaign, week, ...) cost and return".

Heavy work (joins, attribution, aggregation over touchpoints and orders) runs in the warehouse as Ibis
expressions; only the aggregated rows come back. Comparison periods are matched in pandas on the small
result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.metrics.definitions import ALL_KPIS, EXTRA_KPIS, KPIS, TOTAL_KPIS
from trueroi.metrics.dimensions import TIME_GRAINS, Period, bucket, parse_by, time_grain
from trueroi.metrics.facts import MEASURES, daily_costs, facts, lead_facts, shown_campaigns
from trueroi.workspace import Workspace
from trueroi.workspace.derived import materialized, user_bucket
from trueroi.workspace.rules import norm_campaign

COMPARED = ("spend", "revenue", "margin", "conversions", "roas", "media_roi", "full_roi", "cpa", "sessions")
TOTAL_COMPARED = (*COMPARED, *TOTAL_KPIS)
SPLITTING = ("channel", "campaign", "is_brand", "platform", "funnel_stage")
"""Dimensions that split the costs between rows: a row of such a breakdown may carry allocated costs only."""


@dataclass
class KpiReport:
    """KPI rows for a breakdown, their totals, and the comparison when asked for."""

    attribution_model: str
    currency: str
    period: Period
    dims: list[str]
    rows: pd.DataFrame
    totals: dict[str, Any]
    compare: str | None = None
    compare_period: Period | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON contract of ``trueroi kpis --format json``."""
        return {
            "attribution_model": self.attribution_model,
            "currency": self.currency,
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "compare": None
            if self.compare is None
            else {
                "mode": self.compare,
                "from": self.compare_period.start.isoformat(),
                "to": self.compare_period.end.isoformat(),
            },
            "dimensions": self.dims,
            "rows": self.rows.to_dict(orient="records"),
            "totals": self.totals,
            "notes": self.notes,
        }


def data_range(ws: Workspace) -> Period:
    """First and last local day with ads, orders or tracked sessions (a GA4-only workspace has sessions).

    Raises :class:`~trueroi.errors.WorkspaceError` when the workspace holds none of them.
    """
    ws.require_data()
    spans = []
    for name in ("ad_performance", "orders", "touchpoints"):
        t = ws.table(name)
        df = t.aggregate(lo=t.date_day.min(), hi=t.date_day.max()).execute()
        if df["lo"].notna().iloc[0]:
            spans.append((pd.Timestamp(df["lo"].iloc[0]).date(), pd.Timestamp(df["hi"].iloc[0]).date()))
    return Period(min(s[0] for s in spans), max(s[1] for s in spans))


def _with_dims(ws: Workspace, t: ibis.Table, dims: list[str]) -> ibis.Table:
    grain = time_grain(dims)
    if grain:
        t = t.mutate(**{grain: bucket(t.date_day, grain)})
    if "funnel_stage" in dims or "platform" in dims:
        ads = ws.table("ad_performance")
        look = ads.group_by(norm_campaign(ads.campaign_name).name("lk_campaign")).aggregate(
            lk_platform=ads.platform.arbitrary(), lk_stage=ads.funnel_stage.arbitrary()
        )
        t = t.left_join(look, t.campaign == look.lk_campaign)
        t = t.mutate(platform=t.lk_platform, funnel_stage=t.lk_stage)
    return t


def _aggregate(t: ibis.Table, dims: list[str], metrics: dict[str, ibis.Value]) -> pd.DataFrame:
    grouped = t.group_by(dims).aggregate(**metrics) if dims else t.aggregate(**metrics)
    return grouped.execute()


def _sums(ws: Workspace, f: ibis.Table, dims: list[str], totals: bool = False) -> pd.DataFrame:
    """Summed measures and KPI formulas per row of ``dims``; ``totals`` adds :data:`TOTAL_KPIS` (paid against
    blended figures: a channel counts as paid when it has media spend anywhere in the period)."""
    f = _with_dims(ws, f, dims)
    sums_of = {m: f[m].sum() for m in MEASURES}
    kpis = dict(KPIS)
    if totals:
        paid = f.spend.sum().over(ibis.window(group_by=f.channel)) > 0
        f = f.mutate(
            paid_revenue=ibis.cases((paid, f.revenue), else_=0.0),
            paid_conversions=ibis.cases((paid, f.conversions), else_=0.0),
        )
        sums_of = {m: f[m].sum() for m in (*MEASURES, "paid_revenue", "paid_conversions")}
        kpis.update(TOTAL_KPIS)
    sums = (f.group_by(dims) if dims else f).aggregate(**sums_of)
    return sums.mutate(**{k.name: k.formula(sums) for k in kpis.values()}).execute()


def _own_costs(ws: Workspace, period: Period, dims: list[str]) -> pd.DataFrame:
    """Non-media costs booked to a row itself, per row of ``dims`` (``own_costs``, base currency).

    A cost is the row's own when it names a campaign or a channel, or when the workspace's ``fixed`` rule
    books every cost without a channel to one channel; costs shared out by ``spend_share`` or
    ``revenue_share`` are not (:func:`trueroi.metrics.facts.cost_facts` allocates the same costs).
    """
    costs = daily_costs(ws, period.start, period.end)
    ads = ws.table("ad_performance")
    lookup = ads.select(
        l_id=ads.campaign_id,
        l_channel=ads.channel,
        l_campaign=norm_campaign(ads.campaign_name),
        l_brand=ads.is_brand.fill_null(False),
    ).distinct(on="l_id", keep="first")
    j = costs.left_join(lookup, costs.campaign_id == lookup.l_id)
    alloc = ws.config.cost_allocation
    channel = ibis.coalesce(j.l_channel, j.channel)
    if alloc.rule == "fixed":
        channel = ibis.coalesce(channel, ibis.literal(alloc.channel))
    booked = j.filter(channel.notnull()).select(
        date_day=j.date_day,
        channel=channel,
        campaign=j.l_campaign,
        is_brand=j.l_brand.fill_null(False),
        own=j.amount,
    )
    booked = _with_dims(ws, booked, dims)
    out = _aggregate(booked, dims, {"own_costs": booked.own.sum()})
    if time_grain(dims):  # as the KPI rows hold it
        out[time_grain(dims)] = pd.to_datetime(out[time_grain(dims)]).dt.date
    return out


def _without_unknown_full_roi(ws: Workspace, period: Period, df: pd.DataFrame, dims: list[str]) -> list[str]:
    """Null the full ROI of rows whose only costs are allocated shares (no media spend, no cost of their
    own), in place; returns those rows' labels. Rows of a breakdown that does not split costs keep theirs."""
    if df.empty or not set(dims) & set(SPLITTING):
        return []
    booked = _own_costs(ws, period, dims)
    if booked.empty:  # nothing booked to a channel or campaign (an empty frame's dates would not merge)
        own = np.zeros(len(df))
    else:
        own = _merge(df[dims], booked, dims)["own_costs"].fillna(0.0).to_numpy()
    unknown = (df["spend"].fillna(0.0).to_numpy() <= 0) & (own <= 0) & (df["other_costs"].to_numpy() > 0)
    df.loc[unknown, "full_roi"] = float("nan")
    keys = [d for d in dims if d in SPLITTING]
    labels = [" / ".join(map(str, row)) for row in df.loc[unknown, keys].itertuples(index=False)]
    return list(dict.fromkeys(labels))


def _full_roi_note(labels: list[str], rule: str) -> str:
    return (
        f"full ROI is left empty for {', '.join(labels)}: no media spend and no cost booked to it, only a "
        f"share of the costs booked to no channel (allocated by {rule}), so what it costs is unknown"
    )


def _users(ws: Workspace, period: Period, dims: list[str]) -> pd.DataFrame:
    """Distinct users with a session per row of ``dims``, exact, from the stored user keys.

    A user whose touches all share one key (day, channel, campaign, brand flag) is counted once in the row
    that key falls into, so those users are stored as counts per key; only users with several keys are
    counted distinct at query time. Most users of a shop come once, so this is a fraction of the
    touchpoints (one user in ten at demo scale).
    """
    stored = materialized(
        ws, "user_keys", lambda part: _user_keys(ws, part), reads=("touchpoints",), by_user=True
    )
    t = _with_dims(ws, stored.filter(stored.date_day.between(period.start, period.end)), dims)
    single, multi = t.filter(t.user_id.isnull()), t.filter(t.user_id.notnull())
    counted = _aggregate(single, dims, {"users": single.users.sum().cast("float64")})
    distinct = _aggregate(multi, dims, {"users": multi.user_id.nunique().cast("float64")})
    both = pd.concat([counted, distinct], ignore_index=True)
    if not dims:
        return pd.DataFrame({"users": [float(both["users"].fillna(0.0).sum())]})
    return both.groupby(dims, dropna=False, as_index=False)["users"].sum()


def _user_keys(ws: Workspace, part: tuple[int, int] | None = None) -> ibis.Table:
    """Per key (day, channel, campaign, brand flag): ``users`` counted for users with that key alone
    (``user_id`` null), and one row per key of each user with several keys (``user_id`` set); only the users
    of hash bucket ``part`` when given (a key's counts from several buckets add up)."""
    tp = ws.table("touchpoints")
    tp = tp.filter(tp.user_id.notnull())
    if part is not None:
        tp = tp.filter(user_bucket(tp.user_id, part[1]) == part[0])
    keys = tp.select(
        "user_id",
        "date_day",
        channel=tp.channel.fill_null("(unknown)"),
        campaign=norm_campaign(tp.campaign),
        is_brand=tp.is_brand.fill_null(False),
    ).distinct()
    keys = keys.mutate(n_keys=keys.count().over(ibis.window(group_by=keys.user_id)))
    base = ["date_day", "channel", "campaign", "is_brand"]
    alone = keys.filter(keys.n_keys == 1)
    single = alone.group_by(base).aggregate(users=alone.count())
    single = single.select(*base, user_id=ibis.null("string"), users=single.users)
    multi = keys.filter(keys.n_keys > 1)
    multi = multi.select(*base, user_id=multi.user_id, users=ibis.literal(1, "int64"))
    return single.union(multi)


def _reach(ws: Workspace, period: Period, dims: list[str]) -> pd.DataFrame:
    ads = ws.table("ad_performance")
    ads = ads.filter(ads.date_day.between(period.start, period.end))
    ads = ads.mutate(
        campaign=norm_campaign(ads.campaign_name),
        is_brand=ads.is_brand.fill_null(False),
        channel=ads.channel.fill_null("(unknown)"),
    )
    ads = _with_dims(ws, ads, dims)
    reach = ibis.cases((ads.count() == 1, ads.reach.max().cast("float64")), else_=ibis.null("float64"))
    return _aggregate(ads, dims, {"reach": reach})


def _lead_value(ws: Workspace, history: ibis.Table, dims: list[str]) -> pd.DataFrame:
    """Close rate x average deal value from the lead facts of all history, per non-time dimension."""
    keep = [d for d in dims if d not in TIME_GRAINS]
    lf = _with_dims(ws, history, keep)
    df = _aggregate(lf, keep, {"leads": lf.leads.sum(), "deals": lf.deals.sum(), "dv": lf.deal_value.sum()})
    close = df["deals"] / df["leads"].where(df["leads"] > 0)
    avg = df["dv"] / df["deals"].where(df["deals"] > 0)
    df["lead_value"] = close * avg
    return df[keep + ["lead_value"]]


def _merge(left: pd.DataFrame, right: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    if not dims:  # one-row right side: broadcast its values onto every left row
        return left.assign(**{c: right[c].iloc[0] if len(right) else None for c in right.columns})
    return left.merge(right, on=dims, how="left")


def _with_extras(
    ws: Workspace, period: Period, history: ibis.Table, df: pd.DataFrame, d: list[str]
) -> pd.DataFrame:
    """``df`` with the KPIs computed outside the sums: distinct users, reach and lead value."""
    df = _merge(df, _users(ws, period, d), d)
    df["users"] = df["users"].fillna(0.0)  # a row without sessions has no users
    df = _merge(df, _reach(ws, period, d), d)
    keep = [x for x in d if x not in TIME_GRAINS]
    return _merge(df, _lead_value(ws, history, d), keep)


def _frames(
    ws: Workspace, period: Period, dims: list[str], model: str, extras: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """KPI rows for ``dims``, the one-row totals of the same period (facts computed once) and the labels of
    the rows whose full ROI is unknown (see :func:`_without_unknown_full_roi`); without ``extras`` users,
    reach and lead value are left null (not computed)."""
    history = lead_facts(ws, date(1900, 1, 1), period.end).cache()  # leads close weeks later: all history
    f = facts(ws, period.start, period.end, model, leads=history).cache()
    out = []
    for d in (dims, []):
        df = _sums(ws, f, d, totals=not d)
        if extras:
            df = _with_extras(ws, period, history, df, d)
        else:
            df = df.assign(**{k: float("nan") for k in EXTRA_KPIS})
        if time_grain(d):
            df[time_grain(d)] = pd.to_datetime(df[time_grain(d)]).dt.date
        columns = d + list(ALL_KPIS) + ([] if d else list(TOTAL_KPIS))
        out.append(df[columns].sort_values(d or ["spend"], kind="stable").reset_index(drop=True))
    unknown = _without_unknown_full_roi(ws, period, out[0], dims)
    return out[0], out[1], unknown


def _compare(
    cur: pd.DataFrame, prev: pd.DataFrame, dims: list[str], compared: tuple[str, ...] = COMPARED
) -> pd.DataFrame:
    grain = time_grain(dims)
    keys = list(dims)
    if grain:  # the i-th bucket of one period matches the i-th bucket of the other
        for df in (cur, prev):
            df["_bucket"] = df[grain].rank(method="dense").astype(int)
        keys = [d for d in dims if d != grain] + ["_bucket"]
    prev = prev[keys + list(compared)].rename(columns={k: f"{k}_prev" for k in compared})
    out = cur.merge(prev, on=keys, how="left") if keys else pd.concat([cur, prev], axis=1)
    for k in compared:
        out[f"{k}_change"] = out[k] - out[f"{k}_prev"]
        base = out[f"{k}_prev"].abs()
        out[f"{k}_change_pct"] = out[f"{k}_change"] / base.where(base > 0)
    return out.drop(columns=["_bucket"], errors="ignore")


def kpi_report(
    ws: Workspace,
    *,
    by: str | list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    compare: str | None = None,
    attribution: str | None = None,
    extras: bool = True,
) -> KpiReport:
    """KPIs for a breakdown of a period.

    Parameters
    ----------
    by
        Dimensions: time grain (day, week, month, quarter, year) and/or channel, campaign, is_brand,
        funnel_stage, platform; ``"channel,week"`` or a list. Empty: totals only. Campaigns are grouped
        by their normalised name and shown in the spelling the ad platforms use most
        (:func:`~trueroi.metrics.facts.shown_campaigns`).
    start, end
        Inclusive local days; default the whole data range.
    compare
        ``"yoy"`` or ``"previous"``: adds ``<kpi>_prev``, ``<kpi>_change`` and ``<kpi>_change_pct`` for
        the main KPIs.
    attribution
        Attribution model for revenue and conversions (default from the workspace config).
    extras
        Compute distinct users, reach and lead value (``users``, ``reach``, ``lead_value``); False leaves
        them null and skips their queries (the management report shows none of them).
    """
    dims = parse_by(by)
    model = attribution or ws.config.attribution_model
    full = data_range(ws)
    period = Period(start or full.start, end or full.end)
    if compare not in (None, "yoy", "previous"):
        raise UsageError(f"unknown comparison {compare!r}; expected yoy or previous")
    rows, totals_df, unknown = _frames(ws, period, dims, model, extras)
    notes = [
        f"revenue, margin and conversions are attributed by {model}; platform_* figures are what the "
        "ad platforms claim (platform-reported)"
    ]
    if unknown:
        notes.append(_full_roi_note(unknown, ws.config.cost_allocation.rule))
    prev_period = None
    if compare:
        prev_period = period.shifted(compare, time_grain(dims))
        prev_rows, prev_totals, _ = _frames(ws, prev_period, dims, model, extras)
        rows = _compare(rows, prev_rows, dims)
        totals_df = _compare(totals_df, prev_totals, [], TOTAL_COMPARED)
        if prev_period.start < full.start:
            notes.append(f"the comparison period {prev_period} starts before the data ({full.start})")
    totals = {k: v for k, v in totals_df.iloc[0].to_dict().items() if k not in dims}
    if "campaign" in dims:  # grouped by the normalised key, shown in the platforms' spelling
        rows["campaign"] = shown_campaigns(ws, rows["campaign"])
    return KpiReport(model, ws.config.base_currency, period, dims, rows, totals, compare, prev_period, notes)
