"""What the report knows about each paid channel, from the most credible evidence down.

A recommendation to raise or cut a channel rests on one piece of evidence, and evidence is not equal:

====  =========================  ==========================================================================
rank  level                      what it measures
====  =========================  ==========================================================================
5     ``lift_test``              a saved holdout or geo test of the channel (:mod:`trueroi.experiments.store`)
4     ``calibrated_mmm``         a converged mix model calibrated with a lift test of the channel
3     ``mmm``                    a converged mix model (incremental return from spend variation)
2     ``data_driven_attribution`` Markov or Shapley attribution (who closed or assisted the orders)
1     ``attribution``            a rule-based attribution model (last click, linear, ...)
0     ``platform_reported``      what the ad platforms claim (over-counts; never decides)
====  =========================  ==========================================================================

Each builder reads one section of the report content (:func:`trueroi.report.management.build_report`) and
returns :class:`Evidence` with an action (``raise``, ``cut``, ``keep`` or ``review_costs``), the figures it
rests on and a sentence quoting them. ROI is on contribution margin everywhere: a lift test's or an
attribution model's revenue is turned into margin with the channel's margin share (attributed margin /
attributed revenue in the period), else the report's margin rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trueroi.report.html import fmt

LEVELS: dict[str, int] = {
    "lift_test": 5,
    "calibrated_mmm": 4,
    "mmm": 3,
    "data_driven_attribution": 2,
    "attribution": 1,
    "platform_reported": 0,
    "observed": 0,
}
LABELS: dict[str, str] = {
    "lift_test": "lift test",
    "calibrated_mmm": "mix model calibrated with a lift test",
    "mmm": "mix model",
    "data_driven_attribution": "data-driven attribution",
    "attribution": "rule-based attribution",
    "platform_reported": "platform-reported figures",
    "observed": "observed figures",
}
DATA_DRIVEN = ("markov", "shapley", "shapley_ordered")
PLAN_CHANGE = 0.10
"""A mix-model plan that moves a channel's weekly spend by less than this share keeps it."""
CONFIDENT = 0.8
"""P(the plan beats the current one) from which a mix-model plan is acted on as high priority."""
DIRECTION = {"raise": 1, "keep": 0, "cut": -1}


@dataclass
class Evidence:
    """One piece of evidence about one channel: its level, the action it supports, figures and words."""

    channel: str
    level: str
    action: str
    summary: str
    source: str
    priority: str = "medium"
    figures: dict[str, Any] = field(default_factory=dict)
    spend: float = 0.0

    @property
    def rank(self) -> int:
        """Credibility: 5 (lift test) down to 0 (platform-reported)."""
        return LEVELS[self.level]

    def disagrees_with(self, other: Evidence) -> bool:
        """Whether ``other`` points the channel's spend another way (raise, keep, cut)."""
        mine, theirs = DIRECTION.get(self.action), DIRECTION.get(other.action)
        return mine is not None and theirs is not None and mine != theirs

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "label": LABELS[self.level],
            "channel": self.channel,
            "action": self.action,
            "source": self.source,
            "figures": self.figures,
            "summary": self.summary,
        }


def _pct(value: float | None) -> str:
    return fmt(value, "pct")


def _margin_roi(rate: float | None, roas: float | None) -> float | None:
    return None if rate is None or roas is None else rate * roas - 1.0


def channel_margins(content: dict[str, Any]) -> dict[str, float | None]:
    """Margin share per channel (attributed margin / revenue in the period), else the report's rate."""
    default = (content.get("margin") or {}).get("rate")
    out: dict[str, float | None] = {}
    for r in content["channels"]["rows"]:
        revenue, margin = r.get("revenue"), r.get("margin")
        out[r["channel"]] = margin / revenue if revenue and margin is not None and revenue > 0 else default
    return out


# -- lift tests --------------------------------------------------------------------------------------------
def _lift_figures(t: dict[str, Any], margin: float | None, per_order: float | None) -> dict[str, Any]:
    """iROAS (revenue tests) and ROI on margin with the test's interval, from one saved test row."""
    d = t["delta_spend"]
    bounds = sorted((t["lift_lower"], t["lift_upper"]))
    figures = {k: t[k] for k in ("name", "kind", "kpi", "start", "end", "delta_spend", "lift")}
    figures.update(lift_lower=bounds[0], lift_upper=bounds[1], level=t.get("level"))
    if t["kpi"] == "revenue":
        iroas = sorted(x / d for x in (t["lift"], *bounds))  # a holdout removes spend: both signs flip
        figures.update(iroas=t["lift"] / d, iroas_lower=iroas[0], iroas_upper=iroas[2], margin_rate=margin)
        roi = [_margin_roi(margin, x) for x in (figures["iroas"], iroas[0], iroas[2])]
    elif t["kpi"] == "conversions" and per_order is not None:
        roi = [(x * per_order - d) / d for x in (t["lift"], *bounds)]
        roi = [roi[0], *sorted(roi[1:])]
        figures.update(margin_per_order=per_order)
    else:
        roi = [None, None, None]
    figures.update(roi=roi[0], roi_lower=roi[1], roi_upper=roi[2])
    return figures


def lift_evidence(content: dict[str, Any]) -> list[Evidence]:
    """The latest saved lift test of each channel (see the ``experiments`` section)."""
    rows = [r for r in (content.get("experiments") or {}).get("rows", []) if r.get("used")]
    margins = channel_margins(content)
    totals = {r["kpi"]: r["value"] for r in content["kpis"]["rows"]}
    per_order = (
        totals["margin"] / totals["conversions"]
        if totals.get("margin") is not None and totals.get("conversions")
        else None
    )
    out = []
    for t in rows:
        f = _lift_figures(t, margins.get(t["channel"], (content.get("margin") or {}).get("rate")), per_order)
        action = _lift_action(f)
        sign = 1.0 if f["delta_spend"] > 0 else -1.0  # a holdout removed spend: its lift is what was lost
        what = f"{fmt(sign * f['lift'], 'money')} incremental {t['kpi']}"
        summary = (
            f"a {t['kind']} test ({t['name']}, {t['start']} to {t['end']}) measured {what} for "
            f"{fmt(abs(f['delta_spend']), 'money')} of spend"
        )
        if f.get("iroas") is not None:
            summary += f": iROAS {fmt(f['iroas'], 'ratio')}"
        if f["roi"] is not None:
            summary += f", ROI on margin {_pct(f['roi'])} ({_pct(f['roi_lower'])} to {_pct(f['roi_upper'])})"
        elif t["kpi"] == "revenue":
            summary += " (no margin rate known: ROI on margin unknown)"
        priority = "high" if action in ("raise", "cut") else "medium"
        out.append(Evidence(t["channel"], "lift_test", action, summary, "experiments", priority, f))
    return out


def _lift_action(f: dict[str, Any]) -> str:
    if f["roi_lower"] is not None and f["roi_upper"] is not None:
        return "raise" if f["roi_lower"] > 0 else "cut" if f["roi_upper"] < 0 else "keep"
    if f.get("iroas_upper") is not None and f["iroas_upper"] < 1:  # loses money even at a 100% margin
        return "cut"
    return "keep"


# -- the mix model -----------------------------------------------------------------------------------------
def mmm_evidence(content: dict[str, Any]) -> list[Evidence]:
    """Per channel of a converged mix model: its budget plan's direction, ROI on margin and ROAS."""
    section = content.get("mmm") or {}
    if not section.get("available") or not section.get("used", True) or "budget" not in section:
        return []
    plan = section["budget"]
    confident = (plan.get("p_beats_current") or 0) >= CONFIDENT
    moves = {r["channel"]: r for r in plan["rows"]}
    calibrated = set(section.get("calibrated_channels") or [])
    out = []
    for r in section["channels"]:
        move = moves.get(r["channel"])
        if move is None or move.get("change") is None:
            continue
        change = move["change"]
        action = "raise" if change >= PLAN_CHANGE else "cut" if change <= -PLAN_CHANGE else "keep"
        if not confident:  # a plan that may well do worse than today's is no ground to move a channel
            action = "keep"
        level = "calibrated_mmm" if r["channel"] in calibrated else "mmm"
        figures = {
            **{k: r.get(k) for k in ("roi", "roi_lower", "roi_upper", "roas", "roas_lower", "roas_upper")},
            "current": move["current"],
            "recommended": move["recommended"],
            "change": change,
            "marginal_revenue_per_spend": move.get("mroi_current"),
            "p_beats_current": plan.get("p_beats_current"),
        }
        roi = (
            f"ROI on margin {_pct(r.get('roi'))} ({_pct(r.get('roi_lower'))} to {_pct(r.get('roi_upper'))})"
            if r.get("roi") is not None
            else "ROI on margin unknown (no margin rate)"
        )
        lead = (
            "the mix model's plan moves it"
            if confident
            else "the mix model cannot tell whether moving budget pays (its plan beats the current one with "
            f"a {fmt(plan.get('p_beats_current'), 'pct')} chance); its plan would move it"
        )
        summary = (
            f"{lead} from {fmt(move['current'], 'money')} to "
            f"{fmt(move['recommended'], 'money')} a week ({change * 100:+,.1f}%), at a marginal return of "
            f"{fmt(move.get('mroi_current'), 'ratio')} revenue per unit of spend; over the fitted history "
            f"{roi}, ROAS {fmt(r.get('roas'), 'ratio')}"
        )
        priority = "high" if confident and action != "keep" else "medium"
        out.append(
            Evidence(r["channel"], level, action, summary, "mmm", priority, figures, r.get("spend") or 0)
        )
    return out


# -- attribution -------------------------------------------------------------------------------------------
def attribution_evidence(content: dict[str, Any]) -> list[Evidence]:
    """Media ROI on margin under the first data-driven model of the attribution section (Markov, Shapley)."""
    section = content.get("attribution") or {}
    if not section.get("available") or not section.get("spend"):
        return []
    model = next((m for m in DATA_DRIVEN if m in section["models"]), None)
    if model is None:
        return []
    margins = channel_margins(content)
    out = []
    for ch, spend in section["spend"].items():
        roas = section["roas"][model].get(ch)
        roi = _margin_roi(margins.get(ch), roas)
        if roi is None:
            continue
        summary = (
            f"under {model} attribution it returns a media ROI of {_pct(roi)} on margin "
            f"(ROAS {fmt(roas, 'ratio')})"
        )
        action = "cut" if roi < 0 else "keep"
        priority = "high" if roi < -0.25 else "medium"
        figures = {"model": model, "roas": roas, "media_roi": roi, "margin_rate": margins.get(ch)}
        out.append(
            Evidence(ch, "data_driven_attribution", action, summary, "attribution", priority, figures, spend)
        )
    return out


def channel_row_evidence(content: dict[str, Any]) -> list[Evidence]:
    """Media and full ROI of each paid channel under the KPI tables' attribution model (``channels``)."""
    model = content["channels"].get("attribution_model", "last_non_direct_click")
    level = "data_driven_attribution" if model in DATA_DRIVEN else "attribution"
    out = []
    for r in content["channels"]["rows"]:
        media, full = r.get("media_roi"), r.get("full_roi")
        if not (r.get("spend") or 0) > 0 or media is None:
            continue
        figures = {"model": model, "roas": r.get("roas"), "media_roi": media, "full_roi": full}
        if media < 0:
            summary = (
                f"under {model} attribution it returns a media ROI of {_pct(media)} on margin "
                f"(ROAS {fmt(r.get('roas'), 'ratio')})"
            )
            action, priority = "cut", "high" if media < -0.25 else "medium"
        elif full is not None and full < 0:
            summary = (
                f"pays back its media spend (media ROI {_pct(media)}) but not its full cost "
                f"(full ROI {_pct(full)})"
            )
            action, priority = "review_costs", "medium"
        else:
            summary = f"under {model} attribution it returns a media ROI of {_pct(media)} on margin"
            action, priority = "keep", "low"
        out.append(Evidence(r["channel"], level, action, summary, "channels", priority, figures, r["spend"]))
    return out


def channel_evidence(content: dict[str, Any]) -> dict[str, list[Evidence]]:
    """Every channel's evidence, most credible first (attribution is left out when tracking cannot carry
    it)."""
    found = lift_evidence(content) + mmm_evidence(content)
    if (content.get("tracking") or {}).get("usable", True):
        found += attribution_evidence(content) + channel_row_evidence(content)
    spend = {r["channel"]: r.get("spend") or 0.0 for r in content["channels"]["rows"]}
    out: dict[str, list[Evidence]] = {}
    for e in found:
        e.spend = spend.get(e.channel, e.spend)
        out.setdefault(e.channel, []).append(e)
    for items in out.values():
        items.sort(key=lambda e: -e.rank)  # stable: within a level, the order of the builders above
    return out
