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
import pandas as pd

from trueroi.errors import UsageError
from trueroi.metrics.definitions import ALL_KPIS, KPIS
from trueroi.metrics.dimensions import TIME_GRAINS, Period, bucket, parse_by, time_grain
from trueroi.metrics.facts import MEASURES, facts, lead_facts
from trueroi.workspace import Workspace
from trueroi.workspace.derived import materialized, user_bucket
from trueroi.workspace.rules import norm_campaign

COMPARED = ("spend", "revenue", "margin", "conversions", "roas", "media_roi", "full_roi", "cpa", "sessions")


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


def _sums(ws: Workspace, f: ibis.Table, dims: list[str]) -> pd.DataFrame:
    f = _with_dims(ws, f, dims)
    sums = (f.group_by(dims) if dims else f).aggregate(**{m: f[m].sum() for m in MEASURES})
    return sums.mutate(**{k.name: k.formula(sums) for k in KPIS.values()}).execute()


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


def _frames(ws: Workspace, period: Period, dims: list[str], model: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """KPI rows for ``dims`` and the one-row totals of the same period (facts computed once)."""
    history = lead_facts(ws, date(1900, 1, 1), period.end).cache()  # leads close weeks later: all history
    f = facts(ws, period.start, period.end, model, leads=history).cache()
    out = []
    for d in (dims, []):
        df = _sums(ws, f, d)
        df = _merge(df, _users(ws, period, d), d)
        df["users"] = df["users"].fillna(0.0)  # a row without sessions has no users
        df = _merge(df, _reach(ws, period, d), d)
        keep = [x for x in d if x not in TIME_GRAINS]
        df = _merge(df, _lead_value(ws, history, d), keep)
        if time_grain(d):
            df[time_grain(d)] = pd.to_datetime(df[time_grain(d)]).dt.date
        out.append(df[d + list(ALL_KPIS)].sort_values(d or ["spend"], kind="stable").reset_index(drop=True))
    return out[0], out[1]


def _compare(cur: pd.DataFrame, prev: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    grain = time_grain(dims)
    keys = list(dims)
    if grain:  # the i-th bucket of one period matches the i-th bucket of the other
        for df in (cur, prev):
            df["_bucket"] = df[grain].rank(method="dense").astype(int)
        keys = [d for d in dims if d != grain] + ["_bucket"]
    prev = prev[keys + list(COMPARED)].rename(columns={k: f"{k}_prev" for k in COMPARED})
    out = cur.merge(prev, on=keys, how="left") if keys else pd.concat([cur, prev], axis=1)
    for k in COMPARED:
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
) -> KpiReport:
    """KPIs for a breakdown of a period.

    Parameters
    ----------
    by
        Dimensions: time grain (day, week, month, quarter, year) and/or channel, campaign, is_brand,
        funnel_stage, platform; ``"channel,week"`` or a list. Empty: totals only.
    start, end
        Inclusive local days; default the whole data range.
    compare
        ``"yoy"`` or ``"previous"``: adds ``<kpi>_prev``, ``<kpi>_change`` and ``<kpi>_change_pct`` for
        the main KPIs.
    attribution
        Attribution model for revenue and conversions (default from the workspace config).
    """
    dims = parse_by(by)
    model = attribution or ws.config.attribution_model
    full = data_range(ws)
    period = Period(start or full.start, end or full.end)
    if compare not in (None, "yoy", "previous"):
        raise UsageError(f"unknown comparison {compare!r}; expected yoy or previous")
    rows, totals_df = _frames(ws, period, dims, model)
    notes = [
        f"revenue, margin and conversions are attributed by {model}; platform_* figures are what the "
        "ad platforms claim (platform-reported)"
    ]
    prev_period = None
    if compare:
        prev_period = period.shifted(compare, time_grain(dims))
        prev_rows, prev_totals = _frames(ws, prev_period, dims, model)
        rows = _compare(rows, prev_rows, dims)
        totals_df = _compare(totals_df, prev_totals, [])
        if prev_period.start < full.start:
            notes.append(f"the comparison period {prev_period} starts before the data ({full.start})")
    totals = {k: v for k, v in totals_df.iloc[0].to_dict().items() if k not in dims}
    return KpiReport(model, ws.config.base_currency, period, dims, rows, totals, compare, prev_period, notes)
