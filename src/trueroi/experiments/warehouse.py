"""Holdout-test counts straight from the warehouse, for a campaign whose exposures are tagged.

A conversion-lift test on an ad platform logs which users were eligible: the exposed (test) group sees the
campaign, the control group is served a placeholder (a PSA or a "ghost" impression logged without an ad).
When both are tagged in ``touchpoints.campaign`` (e.g. ``spring_test`` and ``spring_holdout``), this
module builds, as one Ibis expression, each group's users, converters and revenue over the test period:

* a user belongs to a group when they have a touchpoint with that group's tag in ``[start, end]``; users
  with both tags are contaminated and left out (their number is reported);
* a user converts when they have a sale order (paid or fulfilled; see ``trueroi.metrics.credits``) on or
  after their first tagged touchpoint and by ``end``; revenue is net order revenue converted to the
  workspace base currency with ``fx_rates`` first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from trueroi.errors import UsageError, WorkspaceError
from trueroi.workspace.money import check_rates, to_base
from trueroi.workspace.rules import sale_orders

GROUPS = ("test", "control")


def _tagged_users(ws: Any, test_tag: str, control_tag: str, start: date, end: date) -> ibis.Table:
    t = ws.table("touchpoints")
    tag = t.campaign.strip().lower()
    tagged = t.filter(t.date_day.between(start, end), tag.isin([test_tag, control_tag]))
    tagged = tagged.mutate(group=ibis.cases((tag == test_tag, "test"), else_="control"))
    return tagged.group_by("user_id").aggregate(
        first_ts=tagged.ts.min(), n_groups=tagged.group.nunique(), group=tagged.group.max()
    )


def holdout_groups(ws: Any, *, test_tag: str, control_tag: str, start: date, end: date) -> ibis.Table:
    """Ibis expression: one row per group (``group, users, conversions, revenue``) of a tagged holdout test.

    Parameters
    ----------
    ws
        The workspace (touchpoints, orders and fx_rates are read).
    test_tag, control_tag
        ``touchpoints.campaign`` values (case and surrounding spaces ignored) of the exposed and the
        control group.
    start, end
        Test period, inclusive local days.
    """
    users = _tagged_users(ws, test_tag, control_tag, start, end)
    clean = users.filter(users.n_groups == 1)
    orders = to_base(ws, sale_orders(ws, start, end), ["revenue"])
    joined = clean.inner_join(orders, clean.user_id == orders.user_id)
    joined = joined.filter(joined.ts >= joined.first_ts)
    spent = joined.group_by("user_id").aggregate(order_revenue=joined.revenue.sum())
    per_user = clean.left_join(spent, clean.user_id == spent.user_id).select(clean.group, spent.order_revenue)
    return per_user.group_by("group").aggregate(
        users=per_user.count(),
        conversions=per_user.order_revenue.notnull().sum(),
        revenue=per_user.order_revenue.sum().coalesce(0.0),
    )


def holdout_counts(
    ws: Any, *, test_tag: str, control_tag: str, start: date | str, end: date | str
) -> dict[str, Any]:
    """Run :func:`holdout_groups` and return the keyword arguments of ``analyze_lift`` plus diagnostics.

    Returns
    -------
    dict
        ``test_users, test_conversions, control_users, control_conversions, test_revenue, control_revenue``
        (base currency) and ``excluded_users`` (users carrying both tags).

    Raises
    ------
    UsageError
        If the tags are equal or the dates reversed.
    WorkspaceError
        If a group has no users in the period.
    """
    test_tag, control_tag = test_tag.strip().lower(), control_tag.strip().lower()
    start_d, end_d = date.fromisoformat(str(start)), date.fromisoformat(str(end))
    if test_tag == control_tag:
        raise UsageError(f"test and control tags are both {test_tag!r}; expected two different campaign tags")
    if end_d < start_d:
        raise UsageError(f"test end {end_d} is before its start {start_d}")
    check_rates(ws, sale_orders(ws, start_d, end_d), "orders of the test period")
    frame = holdout_groups(ws, test_tag=test_tag, control_tag=control_tag, start=start_d, end=end_d).execute()
    rows = {row["group"]: row for row in frame.to_dict(orient="records")}
    for group, tag in zip(GROUPS, (test_tag, control_tag), strict=True):
        if group not in rows or not rows[group]["users"]:
            raise WorkspaceError(
                f"no user has a touchpoint tagged {tag!r} between {start_d} and {end_d}; check the tag "
                "(touchpoints.campaign) and the dates"
            )
    users = _tagged_users(ws, test_tag, control_tag, start_d, end_d)
    excluded = int(users.filter(users.n_groups > 1).count().execute())
    return {
        "test_users": int(rows["test"]["users"]),
        "test_conversions": int(rows["test"]["conversions"]),
        "control_users": int(rows["control"]["users"]),
        "control_conversions": int(rows["control"]["conversions"]),
        "test_revenue": float(rows["test"]["revenue"]),
        "control_revenue": float(rows["control"]["revenue"]),
        "excluded_users": excluded,
    }
