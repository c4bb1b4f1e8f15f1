"""Daily and hourly KPI series per scope, built as Ibis aggregations over the workspace.

A *series* is one scope (the whole business, one channel, one campaign) and its additive measures per local
day (or UTC hour): spend, impressions, clicks, attributed conversions and revenue, sessions (touchpoints)
and, for the whole business, orders. KPIs (CPA, ROAS, CTR) are never stored per day: the detectors read
their numerator and denominator, so ratios stay weighted (DESIGN.md, "Definitions").

The daily measures come from :func:`trueroi.metrics.facts.facts`, the same base-grain facts the KPI engine
sums, so a monitored day matches ``trueroi kpis --by day``. Days without a row (a campaign that stopped
spending has no row in the export) are filled with zeros between the scope's first day and the last day.

A zero is only written where it is known (:class:`Coverage`); a value that is not known is NaN, which the
baselines neither judge nor learn from:

* **new series**: before a measure's first non-zero day in a scope (a campaign, a channel, tracking that
  starts later than the ads) it has no history, not a history of zeros;
* **gaps**: a day inside the data's span with no row in any source (ads, tracking, orders) is a gap in the
  exports, not a day of zeros;
* **sources**: outside the days a source covers (an ad export that ends two days before the shop data),
  its measures (:data:`SOURCES`) are not known;
* **the incomplete last day**: the day of the last import, when the data holds it (a day imported while
  it runs is not over), or a last day whose events stop earlier than on every one of the days before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd

from trueroi.metrics import data_range
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
# The measures each source table carries: outside the days a source covers they are not known.
SOURCES: dict[str, tuple[str, ...]] = {
    "ad_performance": ("spend", "impressions", "clicks"),
    "touchpoints": ("sessions",),
    "orders": ("conversions", "revenue", "orders"),
}
SOURCE_LABELS = {"ad_performance": "ad data", "touchpoints": "tracking data", "orders": "shop orders"}
LATE_STOP = pd.Timedelta(hours=1)  # a last day whose events stop this much earlier than every day before


def daily_series(
    ws: Workspace,
    start: date,
    end: date,
    model: str | None = None,
    coverage: Coverage | None = None,
    scopes: Sequence[str] = SCOPES,
) -> pd.DataFrame:
    """Additive measures per local day and scope (NaN where not known, see the module docstring).

    Parameters
    ----------
    ws
        The workspace.
    start, end
        Inclusive local days; pass enough history before the first day to be checked (the baselines read
        eight weeks back).
    model
        Attribution model for ``conversions`` and ``revenue`` (default from the workspace config).
    coverage
        What the data covers (default: :func:`data_coverage` of ``[start, end]``).
    scopes
        The scopes (of :data:`SCOPES`) whose sums are returned beside the leaves (default all).

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
    parts = [leaf.assign(scope="leaf", scope_value=leaf["channel"] + LEAF_SEP + leaf["campaign"])]
    parts += [_scope_sums(leaf, scope) for scope in SCOPES if scope in scopes]
    out = _fill_days(pd.concat(parts, ignore_index=True), end, DAILY_MEASURES)
    orders = _order_counts(ws, start, end).set_index("date_day")["orders"]
    is_total = out["scope"] == "total"
    out["orders"] = np.nan
    out.loc[is_total, "orders"] = out.loc[is_total, "date_day"].map(orders).fillna(0.0)
    out = out.sort_values(["scope", "scope_value", "date_day"], ignore_index=True)
    out = _unknown_as_nan(out, coverage or data_coverage(ws, start, end))
    return _new_series_as_nan(out, [*DAILY_MEASURES, "orders"])


def _scope_sums(leaf: pd.DataFrame, scope: str) -> pd.DataFrame:
    """The leaves summed per day into the total, each channel or each campaign (rows with ``scope``)."""
    if scope == "total":
        return _sum(leaf, [], "total").assign(scope_value=TOTAL, channel=None, campaign=None)
    if scope == "channel":
        named = leaf[~leaf["channel"].isin(_SKIP)]
        return _sum(named, ["channel"], "channel").assign(scope_value=lambda d: d["channel"], campaign=None)
    named = leaf[leaf["campaign"] != NO_CAMPAIGN]
    return _sum(named, ["campaign"], "campaign").assign(scope_value=lambda d: d["campaign"], channel=None)


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
    grouped = df.groupby(keys, sort=False)
    groups = grouped.agg(
        first=("date_day", "min"), channel=("channel", "first"), campaign=("campaign", "first")
    )
    code = grouped.ngroup().to_numpy()
    day = _day_numbers(df["date_day"])
    first = _day_numbers(groups["first"])
    length = _day_numbers(pd.Series([end])).item() - first + 1
    offset = np.concatenate([[0], np.cumsum(length)])
    group = np.repeat(np.arange(len(groups)), length)  # one row per group and day, days in order
    days = first[group] + np.arange(offset[-1]) - offset[group]
    values = np.zeros((offset[-1], len(measures)))
    given = df[list(measures)].to_numpy(dtype=float)
    np.add.at(values, offset[code] + day - first[code], np.where(np.isnan(given), 0.0, given))
    out = {
        "date_day": days.astype("datetime64[D]").astype(object),
        "scope": groups.index.get_level_values(0).to_numpy(dtype=object)[group],
        "scope_value": groups.index.get_level_values(1).to_numpy(dtype=object)[group],
        "channel": groups["channel"].to_numpy(dtype=object)[group],
        "campaign": groups["campaign"].to_numpy(dtype=object)[group],
    }
    out.update({m: values[:, i] for i, m in enumerate(measures)})
    return pd.DataFrame(out, columns=cols)


def _day_numbers(days: pd.Series) -> np.ndarray:
    """Days (``datetime.date`` or timestamps) as day numbers since 1970-01-01."""
    return pd.to_datetime(days).to_numpy(dtype="datetime64[D]").astype(np.int64)


def hourly_series(ws: Workspace, start: date, end: date, coverage: Coverage | None = None) -> pd.DataFrame:
    """Tracking volume per UTC hour for the whole business: sessions (touchpoints) and orders.

    Parameters
    ----------
    start, end
        Inclusive local days (``date_day``); every hour from the first to the last hour with data is
        returned, empty hours as zeros, hours of local days the data does not cover (gaps, a source's
        edges, the incomplete last day: :class:`Coverage`, default :func:`data_coverage`) as NaN.

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
    days = _local(df["hour"], ws.config.timezone).dt.date
    df = _unknown_as_nan(df, coverage or data_coverage(ws, start, end), days)
    return df[["hour", "scope", "scope_value", *HOURLY_MEASURES]]


def _unknown_as_nan(df: pd.DataFrame, cov: Coverage, days: pd.Series | None = None) -> pd.DataFrame:
    """NaN for each source's measures on the days it does not cover, on gaps and on incomplete days.

    ``days``: the local day of each row (default the ``date_day`` column).
    """
    code, distinct = pd.factorize(df["date_day"] if days is None else days)  # each distinct day judged once
    distinct = pd.Series(pd.to_datetime(distinct).date if days is None else distinct)
    for source, measures in SOURCES.items():
        unknown = cov.unknown(source, distinct)[code]
        df.loc[unknown, [m for m in measures if m in df]] = np.nan
    return df


def _new_series_as_nan(df: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """NaN for each measure of each scope before its first non-zero day (rows sorted by scope, day)."""
    scope, value = df["scope"].to_numpy(), df["scope_value"].to_numpy()
    new_scope = np.ones(len(df), dtype=bool)
    new_scope[1:] = (scope[1:] != scope[:-1]) | (value[1:] != value[:-1])
    scope_start = np.maximum.accumulate(np.where(new_scope, np.arange(len(df)), 0))
    for m in measures:
        seen = np.cumsum(df[m].fillna(0.0).to_numpy() != 0)
        before = np.where(scope_start > 0, seen[scope_start - 1], 0)  # non-zero days of earlier scopes
        df.loc[seen - before == 0, m] = np.nan
    return df


@dataclass(frozen=True)
class Coverage:
    """Which local days the data covers (see the module docstring).

    ``spans``: first and last day with rows, per source table that has any; ``gaps``: days inside the
    span of all the data (within the days asked for) without a row in any source; ``incomplete_from``: the
    first day whose data is not complete (None when the last day is), and why (``incomplete_why``).
    """

    spans: dict[str, tuple[date, date]]
    gaps: tuple[date, ...] = ()
    incomplete_from: date | None = None
    incomplete_why: str = ""
    asked: tuple[date, date] | None = field(default=None, compare=False)

    def unknown(self, source: str, days: pd.Series) -> np.ndarray:
        """Boolean mask: the days (``datetime.date``) on which ``source``'s measures are not known."""
        if source not in self.spans:
            return np.ones(len(days), dtype=bool)
        first, last = self.spans[source]
        out = ((days < first) | (days > last) | days.isin(set(self.gaps))).to_numpy()
        if self.incomplete_from is not None:
            out |= (days >= self.incomplete_from).to_numpy()
        return out

    def notes(self, start: date, end: date) -> list[str]:
        """What in ``[start, end]`` is not judged, and why: one line per gap, source edge or partial day."""
        out = [
            f"no data at all on {a}" + (f" to {b}" if b != a else "") + " (a gap in the exports, not zeros): "
            "not judged"
            for a, b in _runs([d for d in self.gaps if start <= d <= end])
        ]
        if self.spans:
            data_first = min(f for f, _ in self.spans.values())
            data_last = max(last for _, last in self.spans.values())
            for source, (first, last) in self.spans.items():
                what = f"the {SOURCE_LABELS[source]} ({source})"
                *most, final = SOURCES[source]
                measures = f"{', '.join(most)} and {final}" if most else final
                if last < data_last and last < end:
                    out.append(f"{what} ends on {last}, before the rest of the data ({data_last}): its "
                               f"{measures} after it are not known and not judged")  # fmt: skip
                if first > data_first and first > start:
                    out.append(f"{what} starts on {first}: its {measures} before it are not judged")
        if self.incomplete_from is not None and self.incomplete_from <= end + timedelta(days=1):
            # also when it is the day after the range: the reason the newest judged day is the one before
            out.append(f"{self.incomplete_from} is incomplete ({self.incomplete_why}): not judged")
        return out


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges."""
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def data_coverage(ws: Workspace, start: date, end: date) -> Coverage:
    """The :class:`Coverage` of ``[start, end]``: source spans, gap days in it, the incomplete day."""
    spans, seen = {}, set()
    for source in SOURCES:
        t = ws.table(source)
        span = t.aggregate(lo=t.date_day.min(), hi=t.date_day.max()).execute()
        if span["lo"].isna().iloc[0]:
            continue
        spans[source] = (pd.Timestamp(span["lo"].iloc[0]).date(), pd.Timestamp(span["hi"].iloc[0]).date())
        inside = t.filter(t.date_day.between(start, end)).select("date_day").distinct().execute()
        seen |= set(pd.to_datetime(inside["date_day"]).dt.date)
    if not spans:
        return Coverage({}, asked=(start, end))
    first = max(start, min(f for f, _ in spans.values()))
    last = min(end, max(lst for _, lst in spans.values()))
    gaps = tuple(d for d in pd.date_range(first, last).date if d not in seen) if first <= last else ()
    incomplete, why = _incomplete(ws, max(lst for _, lst in spans.values()), spans)
    return Coverage(spans, gaps, incomplete, why, asked=(start, end))


def _incomplete(ws: Workspace, last: date, spans: dict[str, tuple[date, date]]) -> tuple[date | None, str]:
    """The first incomplete day of the data ending on ``last``, and why (None, "" when it is complete)."""
    imports = ws.table("imports")
    into = ibis.or_(*[imports.target_table.contains(s) for s in SOURCES])
    loaded = imports.filter((imports.status == "loaded") & into).loaded_at.max().execute()
    if loaded is not None and not pd.isna(loaded):
        day = _local(pd.Series([pd.Timestamp(loaded)]), ws.config.timezone).dt.date.iloc[0]
        if min(f for f, _ in spans.values()) <= day <= last:
            return day, f"the data was imported on {day}, before the day was over"
    stops = _last_events(ws, last)
    if last not in stops.index or len(stops) < 4:
        return None, ""
    before = stops.drop(last)
    if stops[last] < before.min() - LATE_STOP:
        stop = (pd.Timestamp(0) + stops[last]).strftime("%H:%M")
        return last, f"its data stops at {stop}, earlier than on every day before"
    return None, ""


def _last_events(ws: Workspace, last: date) -> pd.Series:
    """Local time of day of the last tracked session or order, per day of the 8 days up to ``last``."""
    parts = []
    for name in ("touchpoints", "orders"):
        t = ws.table(name)
        t = t.filter(t.date_day.between(last - timedelta(days=7), last), t.ts.notnull())
        parts.append(t.group_by("date_day").aggregate(ts=t.ts.max()).execute())
    df = pd.concat(parts, ignore_index=True)
    if df.empty:
        return pd.Series(dtype="timedelta64[ns]")
    local = _local(df["ts"], ws.config.timezone)
    df["stop"] = local - local.dt.normalize()
    df["date_day"] = pd.to_datetime(df["date_day"]).dt.date
    stops = df.groupby("date_day")["stop"].max()
    return stops if (stops > pd.Timedelta(0)).any() else pd.Series(dtype="timedelta64[ns]")


def _local(ts: pd.Series, tz: str) -> pd.Series:
    """Naive UTC timestamps as local (time zone ``tz``) naive timestamps."""
    ts = pd.to_datetime(ts)
    ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
    return ts.dt.tz_convert(tz).dt.tz_localize(None)


def last_complete_day(ws: Workspace) -> date:
    """The newest local day whose data is complete (see the module docstring): the default day to judge."""
    span = data_range(ws)
    cov = data_coverage(ws, span.end, span.end)
    if cov.incomplete_from is None or cov.incomplete_from > span.end:
        return span.end
    return max(span.start, cov.incomplete_from - timedelta(days=1))


def history_start(first_day: date, days: int) -> date:
    """The first day to read so that ``first_day`` has ``days`` days of history before it."""
    return first_day - timedelta(days=days)
