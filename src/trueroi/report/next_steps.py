"""Next steps of the management report: plain sentences generated from its figures.

Each step names the section of :func:`trueroi.report.management.build_report`'s content its figure comes
from (``source``), a priority and the evidence it rests on, so every sentence can be traced to a number in
the report. Advice about a paid channel comes from :mod:`trueroi.report.recommend` (one step per channel,
from its most credible evidence); the rest report goals, budgets, tracking, headline changes, the mix
model's whole plan, data quality and anomalies.
"""

from __future__ import annotations

from typing import Any

from trueroi.metrics import KPIS
from trueroi.metrics.definitions import TOTAL_KPIS
from trueroi.report.evidence import LABELS
from trueroi.report.html import fmt
from trueroi.report.recommend import ORDER, channel_steps, observed, step

KIND = {"money": "money", "count": "count", "ratio": "ratio", "roi": "pct", "percent": "pct"}


def next_steps(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Plain-word actions generated from the report's numbers, most urgent first (stable within a priority).

    Each step is ``{"text", "source", "priority", "evidence"}``: ``source`` names the report section whose
    figure the sentence quotes (goals, pacing, tracking, experiments, mmm, attribution, channels, kpis,
    quality, anomalies); ``priority`` is high, medium or low; ``evidence`` gives the ``level`` it rests on
    (lift_test, calibrated_mmm, mmm, data_driven_attribution, attribution, platform_reported, observed), a
    ``label`` and the ``figures``. A paid channel gets at most one step, from its most credible evidence
    (:mod:`trueroi.report.recommend`). Money and percentages are formatted as in the report's tables.
    """
    cur = content.get("currency", "")
    advised = channel_steps(content)
    named = {s["evidence"].get("channel") for s in advised}
    steps = (
        _goal_steps(content["goals"]["rows"])
        + _pacing_steps(content["pacing"]["rows"], cur)
        + _tracking_steps(content.get("tracking"), cur)
        + advised
        + _kpi_steps(content["kpis"], cur)
        + _attribution_steps(content["attribution"], named)
        + _mmm_steps(content["mmm"], cur)
        + _quality_steps(content["quality"]["findings"])
        + _anomaly_steps(content["anomalies"]["rows"])
    )
    return sorted(steps, key=lambda s: ORDER[s["priority"]])


def kind_of(kpi: str | None) -> str:
    name = str(kpi or "").split(":")[0].split("/")[0].strip().lower()
    known = KPIS.get(name) or TOTAL_KPIS.get(name)
    return KIND.get(known.kind, "money") if known else "money"


def _status(row: dict[str, Any]) -> str:
    return str(row.get("status") or "").replace("_", " ").replace("-", " ").strip().lower()


def _goal_steps(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for g in rows:
        status = _status(g)
        if status not in ("off track", "at risk"):
            continue
        kind = kind_of(g.get("kpi"))
        days = f" after {g['days_elapsed']} of {g['days_total']} days" if g.get("days_total") else ""
        what = f"{g.get('kpi')} ({g['type']})" if g.get("type") else g.get("kpi")
        text = (
            f"Goal {g['name']} is {status}: {what} stands at "
            f"{fmt(g.get('actual'), kind)} against a target of {fmt(g.get('target'), kind)} "
            f"({fmt(g.get('progress'), 'pct')} reached){days}; the forecast for {g.get('to')} is "
            f"{fmt(g.get('expected'), kind)} ({fmt(g.get('expected_lower'), kind)} to "
            f"{fmt(g.get('expected_upper'), kind)}). "
            + (
                "Shift budget to the channels that drive it or reset the target with the client."
                if status == "off track"
                else "Watch it this week and prepare a correction."
            )
        )
        figures = {k: g.get(k) for k in ("actual", "target", "progress", "expected")}
        evidence = observed("goal tracking: actual to date and the forecast", **figures)
        out.append(step(text, "goals", "high" if status == "off track" else "medium", evidence))
    return out


def _pacing_steps(rows: list[dict[str, Any]], cur: str) -> list[dict[str, Any]]:
    """Budgets pacing over or under (fields of ``trueroi.goals.PacingStatus.to_dict``)."""
    out = []
    for b in rows:
        status = _status(b)
        if status not in ("over", "under"):
            continue
        text = (
            f"Budget {b['name']} is {status}spending: {fmt(b['spend_to_date'], 'money')} of "
            f"{fmt(b['amount'], 'money')} {cur} spent, heading for {fmt(b.get('projected'), 'money')} {cur} "
            f"by {b['to']}"
        )
        if b.get("daily_needed") is not None:
            text += f"; spend {fmt(b['daily_needed'], 'money')} {cur} a day from now on to land on budget"
        figures = {k: b.get(k) for k in ("spend_to_date", "amount", "projected")}
        out.append(step(text + ".", "pacing", "high", observed("budget pacing", **figures)))
    return out


def _tracking_steps(t: dict[str, Any] | None, cur: str) -> list[dict[str, Any]]:
    """When tracking cannot support attribution: say so, and what the platforms claim (labelled)."""
    if not t or t.get("usable", True):
        return []
    claims = "; ".join(
        f"{r['channel']} ROAS {fmt(r.get('platform_roas'), 'ratio')}"
        for r in t.get("platform", [])[:4]
        if r.get("platform_roas") is not None
    )
    text = t["message"] + " No channel advice rests on attributed ROI here."
    if claims:
        text += f" The platforms claim (platform-reported, not measured by us): {claims}."
    figures = {
        "touchpoints": t["touchpoints"],
        "attributed_share": t["attributed_share"],
        "click_ids": t["click_ids"]["conversions"],
        "click_ids_matched": t["click_ids"]["matched"],
    }
    return [step(text, "tracking", "high", observed("tracking coverage", **figures))]


def _kpi_steps(kpis: dict[str, Any], cur: str) -> list[dict[str, Any]]:
    out = []
    by = {r["kpi"]: r for r in kpis["rows"]}
    for name in ("revenue", "margin"):
        r = by.get(name)
        if not r or r["change_pct"] is None or abs(r["change_pct"]) < 0.05:
            continue
        verb = "fell" if r["change_pct"] < 0 else "grew"
        out.append(
            step(
                f"{r['label']} {verb} {fmt(abs(r['change_pct']), 'pct')} year over year "
                f"({fmt(r['value'], 'money')} vs {fmt(r['previous'], 'money')} {cur}).",
                "kpis",
                "medium" if r["change_pct"] < 0 else "low",
                observed("headline KPIs", value=r["value"], previous=r["previous"]),
            )
        )
    return out


def _attribution_steps(section: dict[str, Any], advised: set[str]) -> list[dict[str, Any]]:
    """Channels (without a step of their own) whose ROAS depends on the attribution model: test them."""
    out = []
    for r in section.get("spread", []):
        lo, hi = r["roas_min"], r["roas_max"]
        if r["channel"] in advised or hi <= 0 or (lo > 0 and hi / lo < 2):
            continue
        figures = {k: r[k] for k in ("roas_min", "model_min", "roas_max", "model_max")}
        out.append(
            step(
                f"Channel {r['channel']}'s ROAS ranges from {fmt(lo, 'ratio')} ({r['model_min']}) to "
                f"{fmt(hi, 'ratio')} ({r['model_max']}) across attribution models: its value depends on the "
                "model, so test its incrementality (lift or geo test) before moving budget.",
                "attribution",
                "low",
                {
                    "level": "attribution",
                    "label": LABELS["attribution"],
                    "channel": r["channel"],
                    **figures,  # recorded here first (the report's JSON contract)
                    "figures": figures,  # and where every other step's evidence has them
                },
            )
        )
    return out[:3]


def _mmm_steps(section: dict[str, Any], cur: str) -> list[dict[str, Any]]:
    """The mix model's whole-budget plan (its channels are advised one by one in the channel steps), why an
    unconverged model is not used, or how to get one."""
    if not section.get("available"):
        return [step(section["message"], "mmm", "low", observed("no mix model"))]
    level = "calibrated_mmm" if section.get("calibrated_channels") else "mmm"
    if "budget" not in section:
        figures = {k: section["diagnostics"].get(k) for k in ("r_hat_max", "ess_bulk_min", "divergences")}
        evidence = {"level": level, "label": LABELS[level], "used": False, "figures": figures}
        return [step(section["not_used"], "mmm", "medium", evidence)]
    plan, now = section["budget"], section["budget"]["current_expected"]
    confident = (plan["p_beats_current"] or 0) >= 0.8
    text = (
        f"Reallocating the same weekly budget of {fmt(plan['weekly_total'], 'money')} {cur} as the mix "
        f"model suggests is expected to return {fmt(plan['expected']['mean'], 'money')} {plan['kpi']} a "
        f"week vs {fmt(now['mean'], 'money')} now, with a {fmt(plan['p_beats_current'], 'pct')} "
        "chance of beating the current plan"
        + (": move budget step by step" if confident else ": too uncertain to act on alone; test first")
        + " (where a lift test says otherwise about a channel, its channel step says so)."
    )
    figures = {
        "weekly_total": plan["weekly_total"],
        "expected": plan["expected"]["mean"],
        "current_expected": now["mean"],
        "p_beats_current": plan["p_beats_current"],
    }
    evidence = {"level": level, "label": LABELS[level], "used": True, "figures": figures}
    return [step(text, "mmm", "medium" if confident else "low", evidence)]


TRACKING_CODES = ("days_without_tracking", "orders_without_touch", "utm_unassigned", "offline_unmatched")


def _quality_steps(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for f in found:
        if f["code"] in TRACKING_CODES:
            text = f"Tracking gap: {f['title']}. {f.get('detail', '')} Fix the tag or the UTM tagging."
        elif f["severity"] in ("high", "medium"):
            text = f"Data quality: {f['title']}. {f.get('detail', '')}"
        else:
            continue
        evidence = observed("data-quality check", code=f["code"], count=f.get("count"))
        out.append(step(text.strip(), "quality", "high" if f["severity"] == "high" else "medium", evidence))
    return out


def _anomaly_steps(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The strongest anomaly of each KPI and place, three at most (``trueroi.monitor.Anomaly.to_dict``)."""
    out, seen = [], set()
    for a in sorted(rows, key=lambda r: -(r.get("score") or 0)):
        where = "all" if a["scope"] == "total" else f"{a['scope']} {a['scope_value']}"
        if (a["kpi"], where) in seen:
            continue
        seen.add((a["kpi"], where))
        text = (
            f"Anomaly: {a['kpi']} went {a['direction']} ({where}) on {a.get('hour') or a['day']}: "
            f"{fmt(a['observed'], 'ratio')} against an expected {fmt(a['expected'], 'ratio')} "
            f"(score {fmt(a['score'], 'ratio')}). Check what changed that day."
        )
        figures = {k: a.get(k) for k in ("observed", "expected", "score")}
        evidence = observed("anomaly detection", **figures)
        out.append(step(text, "anomalies", "high" if a.get("severity") == "critical" else "medium", evidence))
        if len(out) == 3:
            break
    return out
