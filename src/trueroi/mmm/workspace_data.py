"""The weekly series of a mix model built from a workspace: spend per channel and sales revenue per week.

Spend comes from ``ad_performance`` (summed by ``channel`` and the Monday-started week of ``date_day``),
revenue from ``orders`` (``revenue`` summed by the week of ``date_day``, statuses in
:data:`~trueroi.workspace.schema.SALE_STATUSES` or null). Amounts in another currency than the workspace's
base currency are converted with ``fx_rates`` of the same day first; a missing rate is an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from trueroi.errors import WorkspaceError
from trueroi.workspace.schema import SALE_STATUSES

if TYPE_CHECKING:
    import ibis

    from trueroi.workspace import Workspace

WEEK_COL = "week"
TARGET_COL = "revenue"


def weekly_series(ws: Workspace) -> pd.DataFrame:
    """One row per week (Monday): ``week``, ``revenue`` and one spend column per channel (base currency).

    Weeks without spend on a channel hold 0; the series covers every full week (Monday to Sunday inside
    the days of ``ad_performance``) from the first to the last week with both spend and orders.

    Raises
    ------
    WorkspaceError
        If the workspace has no ad spend or no sales, or an amount has no exchange rate.
    """
    base = ws.config.base_currency
    ads = ws.table("ad_performance")
    ads = ads.mutate(channel=ads.channel.fill_null("unknown"), week=ads.date_day.truncate("W"))
    ads = _to_base(ws, ads, "spend", base)
    spend = ads.group_by(["week", "channel"]).aggregate(spend=ads.spend.sum()).to_pandas()
    orders = ws.table("orders")
    orders = orders.filter(orders.status.isin(SALE_STATUSES) | orders.status.isnull())
    orders = _to_base(ws, orders.mutate(week=orders.date_day.truncate("W")), "revenue", base)
    revenue = orders.group_by("week").aggregate(revenue=orders.revenue.sum()).to_pandas()
    if spend.empty or revenue.empty:
        raise WorkspaceError(
            "the workspace needs ad spend (ad_performance) and sales (orders) to fit a mix model;"
            " import them first, or pass a weekly DATA.csv"
        )
    wide = spend.pivot_table(index="week", columns="channel", values="spend", aggfunc="sum", fill_value=0.0)
    wide.columns = [str(c) for c in wide.columns]
    revenue = revenue.set_index("week")["revenue"]
    days = ads.aggregate(lo=ads.date_day.min(), hi=ads.date_day.max()).to_pandas().iloc[0]
    start = max(pd.Timestamp(wide.index.min()), pd.Timestamp(revenue.index.min()))
    end = min(pd.Timestamp(wide.index.max()), pd.Timestamp(revenue.index.max()))
    if start < pd.Timestamp(days["lo"]):  # a partial first week (data start mid-week) would look like a dip
        start += pd.Timedelta(days=7)
    if end + pd.Timedelta(days=6) > pd.Timestamp(days["hi"]):
        end -= pd.Timedelta(days=7)
    weeks = pd.date_range(start, end, freq="7D")
    wide.index, revenue.index = pd.to_datetime(wide.index), pd.to_datetime(revenue.index)
    out = pd.DataFrame({WEEK_COL: weeks, TARGET_COL: revenue.reindex(weeks).fillna(0.0).to_numpy()})
    for c in wide.columns:
        out[c] = wide[c].reindex(weeks).fillna(0.0).to_numpy()
    return out


def _to_base(ws: Workspace, table: ibis.Table, col: str, base: str | None) -> ibis.Table:
    """``table`` with ``col`` in the base currency (rows already in it are kept as they are)."""
    if base is None:
        return table
    foreign = table.filter(table.currency != base).count().execute()
    if not foreign:
        return table
    fx = ws.table("fx_rates").select("date_day", "currency", "rate_to_base")
    joined = table.left_join(fx, [table.date_day == fx.date_day, table.currency == fx.currency])
    rate = (joined.currency == base).ifelse(1.0, joined.rate_to_base)
    missing = joined.filter(rate.isnull()).count().execute()
    if missing:
        raise WorkspaceError(
            f"{missing} rows of {col} are in a currency other than {base} with no fx_rates entry"
            " for their day; import fx_rates first"
        )
    return joined.mutate(**{col: joined[col] * rate}).select(*table.columns)
