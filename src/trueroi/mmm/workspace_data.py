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
from trueroi.workspace.money import in_base
from trueroi.workspace.rules import sale_orders

if TYPE_CHECKING:
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
        If the workspace has no ad spend or no sales.
    DataValidationError
        If an amount in another currency has no exchange rate for its day.
    """
    ads = ws.table("ad_performance")
    ads = ads.mutate(channel=ads.channel.fill_null("unknown"), week=ads.date_day.truncate("W"))
    ads = in_base(ws, ads, ["spend"], "ad spend")
    spend = ads.group_by(["week", "channel"]).aggregate(spend=ads.spend.sum()).to_pandas()
    orders = sale_orders(ws)
    orders = in_base(ws, orders.mutate(week=orders.date_day.truncate("W")), ["revenue"], "orders")
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
