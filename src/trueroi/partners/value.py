"""Is it worth it: per partner, the commission paid against the incremental margin its conversions bring.

For each partner over a period: the commission (after reversals), the revenue and contribution margin of
the orders credited to it (after refunds, times the credit; see :mod:`trueroi.partners.commission`), and
the share of those conversions that are incremental, from the best evidence at hand (``source="auto"``
takes the first that exists):

1. ``lift``: the latest saved lift test (:mod:`trueroi.experiments.store`) of the partner's name or its
   rule's channel: with relative lift ``r`` (test rate / control rate - 1), the share of the exposed group's
   conversions the partner caused is ``r / (1 + r)`` (clipped to [0, 1]);
2. ``mmm``: the mix model in ``model_dir`` (:func:`trueroi.mmm.load_model`) with a channel named like the
   partner or its rule's channel, whose spend is the commission: incremental revenue = the channel's ROAS
   (mean) x the partner's commission, incremental margin = that x the partner's margin rate (margin /
   revenue of its orders); the share is incremental revenue / credited revenue;
3. ``journeys``: the share of the partner's credited orders (by credit) whose buyer had no other touch
   inside the lookback window before the partner's click: a customer already in a journey (a search, an
   e-mail, a direct visit) before a voucher or cashback click would probably have bought anyway. It is an
   upper bound of the incremental share, not a measurement: run a lift test to know.

``roi_on_commission = (incremental margin - commission) / commission``; a partner whose incremental share is
below ``threshold`` (default 0.5) is flagged ``mostly_not_incremental``: its commissions mostly pay for
sales that would have happened anyway.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.experiments.store import list_experiments
from trueroi.io import jsonable
from trueroi.mmm import load_model
from trueroi.partners.crediting import Period
from trueroi.partners.rules import PartnerRule
from trueroi.partners.statements import Lines, compute_lines
from trueroi.workspace import Workspace

SOURCES = ("auto", "lift", "mmm", "journeys")
ROW_KEYS = [
    "partner",
    "orders",
    "commission",
    "revenue",
    "margin",
    "incremental_share",
    "incremental_margin",
    "roi_on_commission",
    "source",
    "evidence",
    "mostly_not_incremental",
]


def _names(rule: PartnerRule) -> set[str]:
    return {n.strip().lower() for n in (rule.partner, rule.channel) if n}


def _lift_share(tests: pd.DataFrame, rule: PartnerRule) -> tuple[float, str] | None:
    if tests.empty:
        return None
    mine = tests[tests["channel"].astype(str).str.strip().str.lower().isin(_names(rule))]
    mine = mine[np.isfinite(mine["relative_lift"].astype(float))]
    if mine.empty:
        return None
    test = mine.sort_values("created_at").iloc[-1]
    rel = float(test["relative_lift"])
    share = min(max(rel / (1.0 + rel), 0.0), 1.0) if rel > -1 else 0.0
    period = f"{pd.Timestamp(test['start']).date()}..{pd.Timestamp(test['end']).date()}"
    return share, f"lift test {test['name']!r} ({period}): relative lift {rel:.3f}"


def _mmm_roas(summary: dict[str, Any] | None, rule: PartnerRule) -> tuple[float, str] | None:
    if summary is None:
        return None
    names = _names(rule)
    for channel, block in summary.get("channels", {}).items():
        roas = (block.get("roas") or {}).get("mean")
        if channel.strip().lower() in names and roas is not None and np.isfinite(roas):
            return float(
                roas
            ), f"mix model channel {channel!r}: ROAS {float(roas):.2f} per unit of commission"
    return None


def _journey_shares(ws: Workspace, computed: Lines) -> dict[str, float]:
    """Per partner: the credit-weighted share of its orders whose buyer had no other touch in the window
    before the partner's last click (Ibis over the tagged touches)."""
    lines = computed.frame
    lines = lines[(lines["kind"] == "order") & (lines["state"] != "excluded")]
    if lines.empty or "order" not in computed.tagged:
        return {}
    tagged = computed.tagged["order"]
    mem = ibis.memtable(
        pd.DataFrame({"_p": lines["partner"], "_id": lines["id"], "_ts": lines["ts"], "_c": lines["credit"]})
    )
    orders = ws.table("orders").select(_oid="order_id", _user="user_id")
    lo = ibis.interval(days=computed.program.lookback_days)
    events = mem.inner_join(orders, mem._id == orders._oid).view()
    own = events.inner_join(
        tagged,
        [
            events._user == tagged.user_id,
            tagged.partner == events._p,
            tagged.ts <= events._ts,
            tagged.ts >= events._ts - lo,
        ],
    )
    clicks = own.group_by("_p", "_id", "_user", "_ts", "_c").aggregate(_click=own.ts.max()).view()
    before = clicks.inner_join(
        tagged,
        [
            clicks._user == tagged.user_id,
            tagged.ts < clicks._click,
            tagged.ts >= clicks._ts - lo,
            tagged.partner.isnull() | (tagged.partner != clicks._p),
        ],
    )
    prior = before.select("_p", "_id").distinct()
    return _shares(clicks, prior)


def _shares(clicks: ibis.Table, prior: ibis.Table) -> dict[str, float]:
    p = prior.select(_pp="_p", _pid="_id", _prior=ibis.literal(1.0))
    joined = clicks.left_join(p, [clicks._p == p._pp, clicks._id == p._pid])
    per = joined.group_by(partner=joined._p).aggregate(
        total=joined._c.sum(), prior=(joined._c * joined._prior.fill_null(0.0)).sum()
    )
    frame = per.execute()
    return {
        str(r.partner): 1.0 - float(r.prior) / float(r.total)
        for r in frame.itertuples()
        if float(r.total) > 0
    }


def _summary_of(model_dir: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    return None if model_dir is None else load_model(model_dir).summary()


@dataclass(frozen=True)
class PartnerValue:
    """Per partner: commission against incremental margin (see the module docstring)."""

    start: date
    end: date
    as_of: date
    currency: str
    threshold: float
    rows_: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi partners value --format json``: ``from, to, as_of, currency, threshold``
        and ``partners``: per partner its ``orders, commission, revenue, margin, incremental_share,
        incremental_margin, roi_on_commission, source, evidence, mostly_not_incremental``."""
        return jsonable(
            {
                "from": self.start,
                "to": self.end,
                "as_of": self.as_of,
                "currency": self.currency,
                "threshold": self.threshold,
                "partners": self.rows_,
            }
        )

    def rows(self) -> list[dict[str, Any]]:
        return jsonable(self.rows_)


def _evidence(
    rule: PartnerRule,
    source: str,
    tests: pd.DataFrame,
    summary: dict[str, Any] | None,
    journeys: dict[str, float],
) -> tuple[str, Any, str] | None:
    """``(source, share or ROAS, words)`` from the first evidence source that has something."""
    order = ("lift", "mmm", "journeys") if source == "auto" else (source,)
    for kind in order:
        if kind == "lift" and (found := _lift_share(tests, rule)) is not None:
            return "lift", *found
        if kind == "mmm" and (found := _mmm_roas(summary, rule)) is not None:
            return "mmm", *found
        if kind == "journeys" and rule.partner in journeys:
            share = journeys[rule.partner]
            return "journeys", share, f"{1 - share:.0%} of its buyers were in a journey before its click"
    return None


def _row(rule: PartnerRule, lines: pd.DataFrame, found: tuple | None, threshold: float) -> dict[str, Any]:
    counted = lines[lines["state"] != "excluded"]
    commission = float(counted["commission"].sum())
    revenue = float(counted["revenue"].sum(min_count=1)) if counted["revenue"].notna().any() else None
    margin = float(counted["margin"].sum(min_count=1)) if counted["margin"].notna().any() else None
    row = dict.fromkeys(ROW_KEYS) | {
        "partner": rule.partner,
        "orders": int((counted["kind"] == "order").sum()),
    }
    row |= {"commission": commission, "revenue": revenue, "margin": margin, "mostly_not_incremental": False}
    if found is None or margin is None:
        row["evidence"] = (
            "no evidence: no saved lift test, mix model channel or journeys"
            if margin is not None
            else ("no margin known (a lead partner)")
        )
        return row
    source, value, words = found
    if source == "mmm":
        incremental_revenue = value * commission
        rate = margin / revenue if revenue else 0.0
        share = incremental_revenue / revenue if revenue else None
        incremental_margin = incremental_revenue * rate
    else:
        share, incremental_margin = value, value * margin
    roi = (incremental_margin - commission) / commission if commission > 0 else None
    row |= {"incremental_share": share, "incremental_margin": incremental_margin, "roi_on_commission": roi}
    row |= {"source": source, "evidence": words}
    row["mostly_not_incremental"] = share is not None and share < threshold
    return row


def partner_value(
    ws: Workspace,
    month: str | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    source: str = "auto",
    model_dir: str | os.PathLike[str] | None = None,
    threshold: float = 0.5,
    as_of: date | None = None,
) -> PartnerValue:
    """Commission against incremental margin per partner over ``month`` (or ``start`` to ``end``).

    Parameters
    ----------
    source
        ``auto`` (lift test, then mix model, then journeys), ``lift``, ``mmm`` or ``journeys``.
    model_dir
        A fitted mix model's directory (for ``mmm``).
    threshold
        Partners whose incremental share is below it are flagged ``mostly_not_incremental``.

    Raises
    ------
    UsageError
        For an unknown source, ``mmm`` without a model, a bad period or threshold.
    """
    if source not in SOURCES:
        raise UsageError(f"source is {source!r}; expected one of {', '.join(SOURCES)}")
    if source == "mmm" and model_dir is None:
        raise UsageError("source 'mmm' needs the directory of a fitted mix model")
    if not 0 <= threshold <= 1:
        raise UsageError(f"threshold must lie in [0, 1], got {threshold}")
    period = _period(month, start, end)
    computed = compute_lines(ws, period, as_of)
    tests = list_experiments(ws) if source in ("auto", "lift") else pd.DataFrame()
    summary = _summary_of(model_dir) if source in ("auto", "mmm") else None
    journeys = _journey_shares(ws, computed) if source in ("auto", "journeys") else {}
    rows = []
    for rule in computed.rules:
        lines = computed.frame[computed.frame["partner"] == rule.partner]
        rows.append(_row(rule, lines, _evidence(rule, source, tests, summary, journeys), threshold))
    return PartnerValue(period.start, period.end, computed.as_of, ws.config.base_currency, threshold, rows)


def _period(month: str | None, start: date | None, end: date | None) -> Period:
    if month is not None:
        if start is not None or end is not None:
            raise UsageError("give a month or a start and end day, not both")
        return Period.month(month)
    if start is None or end is None:
        raise UsageError("give a month (YYYY-MM) or both a start and an end day")
    if end < start:
        raise UsageError(f"end {end} is before start {start}")
    if (end - start) > timedelta(days=366):
        raise UsageError("the period may span at most a year")
    return Period(start, end)
