"""Data-quality reconciliation: where the workspace's data disagrees with itself.

Each check is a small function ``check(ws) -> list[Finding]`` built on Ibis expressions, so it runs on any
backend the workspace uses; :func:`findings` runs them all and sorts the results worst first. Money is
converted to the base currency through ``fx_rates`` before it is summed.

Checks
------
``platform_overclaim``      platform-claimed conversions and value vs shop orders, per platform, with the
                            ratio and its trend (last 7 days vs first 7 days)
``orders_without_touch``    sale orders whose user has no touchpoint (and orders without any user id)
``utm_unassigned``          touchpoints with missing source/medium or a channel of ``Unassigned``
``utm_mixed_case``          one source, medium or campaign in several cases (``Facebook``/``facebook``)
``days_without_tracking``   days with orders or spend but no touchpoint
``duplicate_order_ids``     an order id loaded more than once
``offline_unmatched``       offline conversions whose click id matches no touchpoint (match rate)
``refunds_cancellations``   refunded and cancelled orders and their share of revenue
``spend_without_clicks``    ad rows with spend but no clicks
``channel_unmatched``       channel names in costs or ads that no other table uses ("Shopping" in the ledger
                            beside the platforms' "Paid Shopping"), with the known name each may mean
``orders_unlinked``         sale orders no tracked purchase's transaction id names, and their revenue share
                            (:mod:`trueroi.quality.joins`)
``channel_rule_split``      spend and sessions of one GA4 group on two names because of a channel rule
                            (:mod:`trueroi.quality.joins`)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis

from trueroi.ingest.channels import close_channel, known_channels
from trueroi.quality.base import EXAMPLES, SEVERITIES, Finding, in_base, scalar, severity
from trueroi.quality.joins import check_channel_rule_split, check_orders_unlinked
from trueroi.workspace.money import to_base
from trueroi.workspace.rules import is_sale

if TYPE_CHECKING:
    from trueroi.workspace import Workspace


def _rank(f: Finding) -> tuple[int, int]:
    return (SEVERITIES.index(f.severity), -f.count)


def findings(ws: Workspace) -> list[Finding]:
    """Every finding of every check on the workspace, worst first (severity, then count)."""
    out: list[Finding] = []
    for check in CHECKS:
        out.extend(check(ws))
    return sorted(out, key=_rank)


@dataclass(frozen=True)
class QualityReport:
    """Every finding on a workspace, worst first."""

    findings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``trueroi quality --format json``: ``{"findings": [finding, ...]}``."""
        return {"findings": [f.to_dict() for f in self.findings]}

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per finding, its first three examples joined with "; " (CSV and tables)."""
        return [{**f.to_dict(), "examples": "; ".join(f.examples[:3])} for f in self.findings]


def quality_report(ws: Workspace) -> QualityReport:
    """Every finding of every check on a workspace that holds data (see :func:`findings`).

    Raises
    ------
    WorkspaceError
        When the workspace holds no ads, orders or touchpoints.
    """
    ws.require_data()
    return QualityReport(findings(ws))


def worst(found: list[Finding], n: int = 3) -> list[Finding]:
    """The ``n`` worst findings (for the KPI table of ``trueroi demo``)."""
    return sorted(found, key=_rank)[:n]


def check_platform_overclaim(ws: Workspace) -> list[Finding]:
    ads, orders = ws.table("ad_performance"), ws.table("orders")
    if scalar(ads.count()) == 0 or scalar(orders.count()) == 0:
        return []
    sales = in_base(ws, orders.filter(is_sale(orders.status)), ["revenue"])
    shop = sales.group_by("date_day").aggregate(orders=sales.count(), revenue=sales.revenue.sum()).execute()
    claims = in_base(ws, ads, ["conversions_value"])
    per_day = (
        claims.group_by(["platform", "date_day"])
        .aggregate(conv=claims.conversions.sum(), value=claims.conversions_value.sum())
        .execute()
    )
    if per_day.empty or shop.empty:
        return []
    merged = per_day.merge(shop, on="date_day", how="left").fillna({"orders": 0, "revenue": 0.0})
    total_orders, total_revenue = float(shop.orders.sum()), float(shop.revenue.sum())
    examples = []
    for platform, grp in merged.groupby("platform"):
        conv = float(grp.conv.sum())
        ratio = conv / total_orders if total_orders else None
        vratio = float(grp.value.sum()) / total_revenue if total_revenue else None
        trend = _trend(grp)
        examples.append(
            f"{platform}: claims {conv:,.1f} conversions vs {total_orders:,.0f} shop orders "
            f"({_x(ratio)}), value {_x(vratio)} of shop revenue{trend}"
        )
    all_conv = float(merged.conv.sum())
    combined = all_conv / total_orders if total_orders else None
    daily = merged.groupby("date_day").agg(conv=("conv", "sum"), orders=("orders", "first"))
    days_over = int((daily.conv > daily.orders).sum())
    severity = "low" if combined is None or combined <= 1.05 else "high" if combined >= 1.5 else "medium"
    return [
        Finding(
            "platform_overclaim",
            severity,
            f"Ad platforms claim {_x(combined)} the shop's orders",
            days_over,
            examples,
            f"Sum of platform-claimed conversions {all_conv:,.1f} vs {total_orders:,.0f} sale orders; "
            f"{days_over} day(s) where platforms claim more than the shop sold. Platforms count "
            "view-throughs and overlapping credit; judge channels on attributed or incremental figures.",
        )
    ]


def _x(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def _trend(grp: Any) -> str:
    days = grp.sort_values("date_day")
    if len(days) < 14:
        return ""
    first, last = days.head(7), days.tail(7)
    r1 = first.conv.sum() / first.orders.sum() if first.orders.sum() else None
    r2 = last.conv.sum() / last.orders.sum() if last.orders.sum() else None
    if r1 is None or r2 is None:
        return ""
    return f"; ratio first week {r1:.2f}x -> last week {r2:.2f}x"


def check_orders_without_touch(ws: Workspace) -> list[Finding]:
    orders, touches = ws.table("orders"), ws.table("touchpoints")
    sales = orders.filter(is_sale(orders.status))
    total = scalar(sales.count())
    if not total or scalar(touches.count()) == 0:
        return []
    # an anti join: one hash of the touches' users, no distinct list built and joined back (a null user_id
    # matches nothing, so orders without one are lost too)
    lost = sales.anti_join(touches, sales.user_id == touches.user_id)
    counts = lost.aggregate(n=lost.count(), no_user=lost.user_id.isnull().sum()).execute().iloc[0]
    n, no_user = int(counts["n"]), int(counts["no_user"] or 0)
    if not n:
        return []
    ids = lost.select("order_id").limit(EXAMPLES).execute()["order_id"].tolist()
    share = n / total
    return [
        Finding(
            "orders_without_touch",
            severity(share, 0.3, 0.1),
            f"{share:.0%} of orders have no touchpoint",
            int(n),
            [f"order {i}" for i in ids],
            f"{n} of {total} sale orders match no touchpoint by user_id ({no_user} have no user_id at all); "
            "they cannot be attributed to any channel.",
        )
    ]


def check_utm(ws: Workspace) -> list[Finding]:
    tp = ws.table("touchpoints")
    total = scalar(tp.count())
    if not total:
        return []
    out = []
    bad = tp.filter(
        tp.source.isnull() | tp.medium.isnull() | (tp.medium == "(not set)") | (tp.channel == "Unassigned")
    )
    n = scalar(bad.count())
    if n:
        top = (
            bad.group_by(["source", "medium"])
            .aggregate(n=bad.count())
            .order_by(ibis.desc("n"))
            .limit(EXAMPLES)
        )
        ex = [f"{r.source} / {r.medium}: {r.n:,} touches" for r in top.execute().itertuples()]
        out.append(
            Finding(
                "utm_unassigned",
                severity(n / total, 0.1, 0.02),
                f"{n / total:.1%} of touchpoints have missing or unknown UTM values",
                int(n),
                ex,
                "Missing source/medium or a medium no channel rule knows ends in 'Unassigned'; tag "
                "links with utm_source and utm_medium, or add a channel rule.",
            )
        )
    variants = []
    for col in ("source", "medium", "campaign"):
        values = tp.filter(tp[col].notnull()).select(col).distinct()  # a few thousand names, then lower-cased
        grp = values.group_by(key=values[col].lower()).aggregate(
            k=values[col].nunique(), names=values[col].collect(distinct=True)
        )
        for row in grp.filter(grp.k > 1).limit(EXAMPLES).execute().itertuples():
            variants.append(f"{col}: {' / '.join(sorted(map(str, row.names)))}")
    if variants:
        out.append(
            Finding(
                "utm_mixed_case",
                "medium",
                "One UTM value written in several cases",
                len(variants),
                variants[:EXAMPLES],
                "Case variants split one source or campaign into several rows; "
                "trueroi lower-cases at import, so these came from a direct load.",
            )
        )
    return out


def check_days_without_tracking(ws: Workspace) -> list[Finding]:
    orders, ads, tp = ws.table("orders"), ws.table("ad_performance"), ws.table("touchpoints")
    active = orders.select("date_day").union(ads.filter(ads.spend > 0).select("date_day")).distinct()
    tracked = tp.select(tday=tp.date_day).distinct()
    missing = active.left_join(tracked, active.date_day == tracked.tday).filter(lambda t: t.tday.isnull())
    days = sorted(missing.date_day.execute().tolist())
    if not days or scalar(tp.count()) == 0 and scalar(orders.count()) == 0:
        return []
    n_active = scalar(active.count())
    return [
        Finding(
            "days_without_tracking",
            "high" if len(days) / n_active >= 0.05 else "medium",
            f"{len(days)} day(s) with orders or spend but no tracking data",
            len(days),
            [_day(d) for d in days[:EXAMPLES]],
            f"{len(days)} of {n_active} active days have no touchpoint: a broken tag or a missing export.",
        )
    ]


def _day(value: Any) -> str:
    return str(value.date() if hasattr(value, "date") else value)


def check_duplicate_orders(ws: Workspace) -> list[Finding]:
    orders = ws.table("orders")
    dup = orders.group_by("order_id").aggregate(n=orders.count()).filter(lambda t: t.n > 1)
    n = scalar(dup.count())
    if not n:
        return []
    ex = [
        f"order {r.order_id}: {r.n} rows"
        for r in dup.order_by(ibis.desc("n")).limit(EXAMPLES).execute().itertuples()
    ]
    return [
        Finding(
            "duplicate_order_ids",
            "high",
            f"{n} order id(s) appear more than once",
            int(n),
            ex,
            "Duplicated orders inflate revenue and conversions; check overlapping exports.",
        )
    ]


def check_offline_match(ws: Workspace) -> list[Finding]:
    conv, tp = ws.table("conversions"), ws.table("touchpoints")
    off = conv.filter(conv.is_offline & conv.click_id.notnull())
    total = scalar(off.count())
    if not total:
        return []
    unmatched = off.anti_join(tp, off.click_id == tp.click_id)
    n = scalar(unmatched.count())
    if not n:
        return []
    rate = 1 - n / total
    ex = [f"{r.type} click {r.click_id}" for r in unmatched.limit(EXAMPLES).execute().itertuples()]
    sev = "high" if rate < 0.5 else "medium" if rate < 0.8 else "low"
    return [
        Finding(
            "offline_unmatched",
            sev,
            f"Offline conversions match clicks at {rate:.0%}",
            int(n),
            ex,
            f"{n} of {total} offline conversions carry a click id found in no touchpoint; import the "
            "sessions of those clicks or check the click-id column.",
        )
    ]


def check_refunds(ws: Workspace) -> list[Finding]:
    """Refunded and cancelled orders: their share of all orders and their revenue in the base currency.

    An order whose revenue is not known in the base currency is counted but not summed, and said so: one
    without an exchange rate for its day, and one stored with revenue 0 (a shop export that nets the refund
    out of the order's revenue, as Shopify's ``Refunded Amount`` does, leaves a fully refunded order at 0,
    and "0.00 EUR" would be false).
    """
    orders = to_base(ws, ws.table("orders"), ["revenue"])
    total = scalar(orders.count())
    if not total:
        return []
    lost = orders.filter(orders.status.isin(("refunded", "cancelled", "partially_refunded")))
    n = scalar(lost.count())
    if not n:
        return []
    by = (
        lost.group_by("status")
        .aggregate(
            n=lost.count(),
            rev=lost.revenue.sum(),
            no_rate=lost._fx_missing.sum(),
            zero=((lost.revenue == 0) & ~lost._fx_missing).sum(),
        )
        .order_by("status")
        .execute()
    )
    ex = [_refund_line(r, ws.config.base_currency) for r in by.itertuples()]
    share = n / total
    detail = (
        "Refunded and cancelled orders are kept but excluded from revenue; a high share points at "
        "fraud, returns or test orders."
    )
    if by["zero"].sum():
        detail += (
            " Orders stored with revenue 0 had the refund subtracted by the export (e.g. Shopify's Refunded "
            "Amount), so what was refunded is not in the warehouse."
        )
    title = f"{share:.0%} of orders are refunded or cancelled"
    return [Finding("refunds_cancellations", severity(share, 0.2, 0.08), title, int(n), ex, detail)]


def _refund_line(r: Any, currency: str) -> str:
    """``refunded: 3 orders, 40.00 EUR (and 2 with revenue 0, amount unknown)`` for one status."""
    unknown = [
        f"{int(k)} {what}"
        for k, what in ((r.zero, "with revenue 0"), (r.no_rate, "without an exchange rate for its day"))
        if k
    ]
    head = f"{r.status}: {r.n} orders"
    if int(r.zero) + int(r.no_rate) == r.n:
        return f"{head}, amount unknown ({', '.join(unknown)})"
    rev = 0.0 if r.rev is None or r.rev != r.rev else float(r.rev)  # null or NaN: nothing summed
    known = f"{head}, {rev:,.2f} {currency}"
    return f"{known} (and {', '.join(unknown)}, amount unknown)" if unknown else known


def check_spend_without_clicks(ws: Workspace) -> list[Finding]:
    ads = ws.table("ad_performance")
    rows = ads.filter((ads.spend > 0) & ((ads.clicks == 0) | ads.clicks.isnull()))
    n = scalar(rows.count())
    if not n:
        return []
    ex = [
        f"{r.date_day:%Y-%m-%d} {r.platform} {r.campaign_name or r.campaign_id}: {r.spend:,.2f} {r.currency}"
        for r in rows.order_by(ibis.desc("spend")).limit(EXAMPLES).execute().itertuples()
    ]
    return [
        Finding(
            "spend_without_clicks",
            "medium" if n > 3 else "low",
            f"{n} ad row(s) with spend but no clicks",
            int(n),
            ex,
            "Spend without clicks is normal for video/display but a tracking gap for search.",
        )
    ]


CHANNEL_TABLES = ("costs", "ad_performance", "touchpoints")


def _channels(ws: Workspace, table: str) -> set[str]:
    t = ws.table(table)
    names = t.filter(t.channel.notnull()).select("channel").distinct().execute()["channel"]
    return {c for c in names if c}


def check_channel_names(ws: Workspace) -> list[Finding]:
    """Channels of the cost ledger or the ad rows that no other table uses (sessions may have channels of
    their own: organic, direct and e-mail traffic has no spend)."""
    used = {table: _channels(ws, table) for table in CHANNEL_TABLES}
    examples, costs_alone = [], 0
    for table in ("costs", "ad_performance"):
        others = set().union(*(used[t] for t in CHANNEL_TABLES if t != table))
        vocabulary = known_channels(ws.config.channel_rules, others)
        for name in sorted(used[table] - others):
            guess = close_channel(name, vocabulary - {name})
            examples.append(f"{table}: {name!r}" + (f" (did you mean {guess!r}?)" if guess else ""))
            costs_alone += table == "costs"
    if not examples:
        return []
    return [
        Finding(
            "channel_unmatched",
            "medium" if costs_alone else "low",
            f"{len(examples)} channel name(s) used by only one table",
            len(examples),
            examples[:EXAMPLES],
            "A channel no other table uses is a channel of its own: costs booked to it meet no spend or "
            "revenue, ad spend on it no sessions. Use the same name everywhere, or a channel rule.",
        )
    ]


CHECKS: tuple[Callable[[Workspace], list[Finding]], ...] = (
    check_platform_overclaim,
    check_orders_without_touch,
    check_utm,
    check_days_without_tracking,
    check_duplicate_orders,
    check_offline_match,
    check_refunds,
    check_spend_without_clicks,
    check_channel_names,
    check_orders_unlinked,
    check_channel_rule_split,
)
