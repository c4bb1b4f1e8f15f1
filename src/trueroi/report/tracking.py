"""The report's tracking section: can the period's revenue be attributed at all, and what else is there.

Attribution needs tracked journeys (touchpoints: GA4 sessions, tracked clicks). A client with ad and shop
data but no tracking has all revenue "(unattributed)", so every paid channel's attributed ROI is -100%:
that measures the missing tracking, not the channels. This section says so and lists what can be used
instead: the platforms' own claims (platform-reported, labelled), a mix model (it needs no tracking), and the
click ids of conversions (``conversions.click_id``, e.g. a CRM export's GCLIDs) matched against the click ids
of tracked clicks (``touchpoints.click_id``; ad platform exports hold no click ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from trueroi.metrics.dimensions import Period
from trueroi.metrics.facts import UNATTRIBUTED
from trueroi.report.html import fmt

if TYPE_CHECKING:
    from trueroi.workspace import Workspace

MIN_ATTRIBUTED = 0.5
"""Share of the period's revenue that must reach a channel for attributed ROI to support channel advice."""
PLATFORM_COLUMNS = ("channel", "spend", "platform_conversions", "platform_value", "platform_roas")


def click_id_matches(ws: Workspace, period: Period) -> dict[str, Any]:
    """Conversions of the period that carry a click id, and how many of those a tracked click carries too.

    Returns ``conversions`` (with a click id), ``matched``, ``orders`` (conversions that name an order) and
    ``by_type``: one row per conversion type with ``type``, ``with_click_id`` and ``matched``.
    """
    cv = ws.table("conversions")
    cv = cv.filter(cv.click_id.notnull(), cv.date_day.between(period.start, period.end))
    tp = ws.table("touchpoints")
    ids = tp.filter(tp.click_id.notnull()).select(k_click=tp.click_id).distinct()
    hit = cv.left_join(ids, cv.click_id == ids.k_click)
    counts = (
        hit.group_by(type=hit.type.fill_null("(none)"))
        .aggregate(
            with_click_id=hit.count(),
            matched=hit.k_click.notnull().cast("int64").sum(),
            orders=hit.order_id.notnull().cast("int64").sum(),
        )
        .order_by("type")
        .to_pandas()
    )
    rows = [
        {"type": r.type, "with_click_id": int(r.with_click_id), "matched": int(r.matched)}
        for r in counts.itertuples()
    ]
    return {
        "conversions": int(counts["with_click_id"].sum()),
        "matched": int(counts["matched"].sum()),
        "orders": int(counts["orders"].sum()),
        "by_type": rows,
    }


def tracking_section(ws: Workspace, period: Period, rows: pd.DataFrame, currency: str) -> dict[str, Any]:
    """How much of the period's revenue tracking attributes, click-id matches and platform claims.

    ``rows`` are the period's KPI rows by channel (:func:`trueroi.metrics.kpi_report`). ``usable`` is False
    when the workspace holds no touchpoints or less than :data:`MIN_ATTRIBUTED` of the revenue reaches a
    channel: then no channel advice rests on attributed figures.
    """
    tp = ws.table("touchpoints")
    touchpoints = int(tp.count().to_pandas())
    revenue = float(rows["revenue"].fillna(0.0).sum()) if len(rows) else 0.0
    lost = rows.loc[rows["channel"] == UNATTRIBUTED, "revenue"].fillna(0.0).sum() if len(rows) else 0.0
    share = (revenue - float(lost)) / revenue if revenue > 0 else None
    usable = touchpoints > 0 and (share is None or share >= MIN_ATTRIBUTED)
    clicks = click_id_matches(ws, period)
    paid = rows[rows["spend"].fillna(0.0) > 0] if len(rows) else rows
    platform = paid[list(PLATFORM_COLUMNS)].to_dict(orient="records") if len(paid) else []
    platform.sort(key=lambda r: -(r["spend"] or 0.0))
    section = {
        "usable": usable,
        "touchpoints": touchpoints,
        "revenue": revenue,
        "attributed_revenue": revenue - float(lost),
        "attributed_share": share,
        "click_ids": clicks,
        "platform": platform,
        "platform_label": "platform-reported: what the ad platforms claim for themselves (they over-count)",
    }
    section["message"] = tracking_message(section, currency)
    return section


def tracking_message(t: dict[str, Any], currency: str) -> str:
    """The section's finding in words."""
    c = t["click_ids"]
    clicks = (
        f"{c['conversions']:,} conversions of the period carry a click id and {c['matched']:,} of them match "
        "a tracked click"
        if c["conversions"]
        else "no conversion of the period carries a click id"
    )
    if t["touchpoints"] == 0:
        return (
            "Attribution is impossible without tracking: the workspace holds no touchpoints (no GA4 export, "
            f"no tracked sessions), so all {fmt(t['revenue'], 'money')} {currency} of the period's revenue "
            "is (unattributed) and every paid channel's attributed ROI shows -100%, which measures the "
            "missing tracking, not the channels. What can be used instead: the platforms' own claims "
            "(platform-reported, they over-count), a mix model of weekly spend and revenue (it needs no "
            f"tracking), and click-id matching: {clicks}."
        )
    share = t["attributed_share"]
    if not t["usable"]:
        return (
            f"Only {fmt(share, 'pct')} of the period's revenue reaches a channel; "
            f"{fmt(t['revenue'] - t['attributed_revenue'], 'money')} {currency} has no touchpoint in the "
            "lookback window (tracking gaps, or orders that cannot be linked to sessions), so attributed ROI "
            "understates every channel and no channel advice rests on it. Check that orders carry the "
            f"tracked user or transaction id; {clicks}."
        )
    if share is None:
        return f"The period has no revenue to attribute; {clicks}."
    return f"{fmt(share, 'pct')} of the period's revenue is attributed to a channel; {clicks}."
