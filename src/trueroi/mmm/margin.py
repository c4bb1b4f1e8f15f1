"""The margin rate a mix model's ROI is computed with, taken from a workspace.

ROI everywhere in trueroi is on contribution margin (revenue - COGS). A mix model of revenue turns its
incremental revenue into margin with one rate: the contribution margin share of the workspace's sales
(``1 - sum(cogs) / sum(revenue)`` over the sale orders that carry a COGS, base currency), or the workspace's
``default_margin`` when no order carries one. Importing this module loads Ibis (through the workspace
package), which fitting from a file never needs: :mod:`trueroi.mmm.fit` imports it only for a workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from trueroi.workspace.money import in_base
from trueroi.workspace.rules import sale_orders

if TYPE_CHECKING:
    from trueroi.workspace import Workspace


@dataclass(frozen=True)
class MarginRate:
    """A contribution margin rate (share of revenue, 0 to 1, or None when unknown) and where it comes from."""

    rate: float | None
    source: str


def workspace_margin_rate(ws: Workspace, start: date | None = None, end: date | None = None) -> MarginRate:
    """The workspace's contribution margin share of revenue on the days ``[start, end]`` (default: all).

    From the sale orders with a COGS (``1 - sum(cogs) / sum(revenue)``, base currency); when none has one
    (or every COGS is 0, which an export without costs writes), the workspace's ``default_margin``; else
    None. A share outside (0, 1] (COGS above revenue) is not a usable rate: None, with the reason.
    """
    orders = sale_orders(ws, start, end)
    orders = orders.filter(orders.cogs.notnull(), orders.revenue.notnull())
    orders = in_base(ws, orders, ["revenue", "cogs"], "orders")
    sums = orders.aggregate(
        n=orders.count(), revenue=orders.revenue.sum(), cogs=orders.cogs.sum()
    ).to_pandas()
    n, revenue, cogs = (sums[c].iloc[0] for c in ("n", "revenue", "cogs"))
    default = ws.config.default_margin
    if n and revenue and revenue > 0 and cogs and cogs > 0:
        share = 1.0 - float(cogs) / float(revenue)
        if 0 < share <= 1:
            return MarginRate(share, f"contribution margin share of {int(n):,} sale orders with COGS")
        return MarginRate(None, f"the orders' COGS exceed their revenue (margin share {share:.1%})")
    if default is not None:
        return MarginRate(float(default), "default_margin of the workspace config (no COGS in the orders)")
    return MarginRate(None, "no COGS in the orders and no default_margin in the workspace config")
