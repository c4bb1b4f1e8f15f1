"""Next steps of the management report: plain sentences generated from its figures.

Each step names the section of :func:`trueroi.report.management.build_report`'s content its figure comes
from (``source``) and a priority, so every sentence can be traced to a number in the report.
"""

from __future__ import annotations

from typing import Any

from trueroi.metrics import KPIS
from trueroi.report.html import fmt

KIND = {"money": "money", "count": "count", "ratio": "ratio", "roi": "pct", "percent": "pct"}


def next_steps(content: dict[str, Any]) -> list[dict[str, str]]:
    """Plain-word actions generated from the report's numbers, most urgent first.

    Each step is ``{"text", "source", "priority"}``: ``source`` names the report section whose figure the
    sentence quotes (goals, pacing, kpis, channels, attribution, mmm, quality, anomalies); ``priority`` is
    high, medium or low. Money and percentages are formatted as in the report's tables.
    """
    cur = content.get("currency", "")
    steps = (
        _goal_steps(content["goals"]["rows"])
        + _pacing_steps(content["pacing"]["rows"], cur)
        + _channel_steps(content["channels"]["rows"])
        + _kpi_steps(content["kpis"], cur)
        + _attribution_steps(content["attribution"])
        + _mmm_steps(content["mmm"], cur)
        + _quality_steps(content["quality"]["findings"])
        + _anomaly_steps(content["anomalies"]["rows"])
    )
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(steps, key=lambda s: order[s["priority"]])


def _step(text: str, source: str, priority: str) -> dict[str, str]:
    return {"text": text, "source": source, "priority": priority}


def kind_of(kpi: str | None) -> str:
    known = KPIS.get(str(kpi or "").split(":")[0].split("/")[0].strip().lower())
    return KIND.get(known.kind, "money") if known else "money"


def _status(row: dict[str, Any]) -> str:
    return str(row.get("status") or "").replace("_", " ").replace("-", " ").strip().lower()


def _goal_steps(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
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
        out.append(_step(text, "goals", "high" if status == "off track" else "medium"))
    return out


def _pacing_steps(rows: list[dict[str, Any]], cur: str) -> list[dict[str, str]]:
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
        out.append(_step(text + ".", "pacing", "high"))
    return out


def _channel_steps(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    paid = [r for r in rows if (r.get("spend") or 0) > 0 and r.get("media_roi") is not None]
    for r in sorted(paid, key=lambda r: r["media_roi"]):
        ch, media, full = r["channel"], r["media_roi"], r.get("full_roi")
        if media < 0:
            out.append(
                _step(
                    f"Channel {ch} returns a media ROI of {fmt(media, 'pct')} on margin while its ROAS is "
                    f"{fmt(r.get('roas'), 'ratio')}: cut or fix it (targeting, bids, landing pages).",
                    "channels",
                    "high" if media < -0.25 else "medium",
                )
            )
        elif full is not None and full < 0:
            out.append(
                _step(
                    f"Channel {ch} pays back its media spend (media ROI {fmt(media, 'pct')}) but not its "
                    "full "
                    f"cost (full ROI {fmt(full, 'pct')}): review the agency, production and tool costs it "
                    "carries.",
                    "channels",
                    "medium",
                )
            )
    return out


def _kpi_steps(kpis: dict[str, Any], cur: str) -> list[dict[str, str]]:
    out = []
    by = {r["kpi"]: r for r in kpis["rows"]}
    for name in ("revenue", "margin"):
        r = by.get(name)
        if not r or r["change_pct"] is None or abs(r["change_pct"]) < 0.05:
            continue
        verb = "fell" if r["change_pct"] < 0 else "grew"
        out.append(
            _step(
                f"{r['label']} {verb} {fmt(abs(r['change_pct']), 'pct')} year over year "
                f"({fmt(r['value'], 'money')} vs {fmt(r['previous'], 'money')} {cur}).",
                "kpis",
                "medium" if r["change_pct"] < 0 else "low",
            )
        )
    return out


def _attribution_steps(section: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for r in section.get("spread", []):
        lo, hi = r["roas_min"], r["roas_max"]
        if hi <= 0 or (lo > 0 and hi / lo < 2):
            continue
        out.append(
            _step(
                f"Channel {r['channel']}'s ROAS ranges from {fmt(lo, 'ratio')} ({r['model_min']}) to "
                f"{fmt(hi, 'ratio')} ({r['model_max']}) across attribution models: its value depends on the "
                "model, so test its incrementality (lift or geo test) before moving budget.",
                "attribution",
                "low",
            )
        )
    return out[:3]


def _mmm_steps(section: dict[str, Any], cur: str) -> list[dict[str, str]]:
    if not section.get("available"):
        return [_step(section["message"], "mmm", "low")]
    plan, cur_ = section["budget"], section["budget"]["current_expected"]
    confident = (plan["p_beats_current"] or 0) >= 0.8
    out = [
        _step(
            f"Reallocating the same weekly budget of {fmt(plan['weekly_total'], 'money')} {cur} as the mix "
            f"model suggests is expected to return {fmt(plan['expected']['mean'], 'money')} {plan['kpi']} a "
            f"week vs {fmt(cur_['mean'], 'money')} now, with a {fmt(plan['p_beats_current'], 'pct')} "
            "chance of beating the current plan"
            + (
                ": move budget step by step." if confident else ": too uncertain to act on alone; test first."
            ),
            "mmm",
            "medium" if confident else "low",
        )
    ]
    for r in plan["rows"]:
        change = r.get("change")
        if change is None or abs(change) < 0.1:
            continue
        verb = "raising" if change > 0 else "cutting"
        out.append(
            _step(
                f"The mix model suggests {verb} {r['channel']} from {fmt(r['current'], 'money')} to "
                f"{fmt(r['recommended'], 'money')} {cur} a week ({change * 100:+,.1f}%): its marginal return "
                f"is {fmt(r['mroi_current'], 'ratio')} per {cur} at current spend.",
                "mmm",
                "medium" if confident else "low",
            )
        )
    return out


TRACKING_CODES = ("days_without_tracking", "orders_without_touch", "utm_unassigned", "offline_unmatched")


def _quality_steps(found: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for f in found:
        if f["code"] in TRACKING_CODES:
            text = f"Tracking gap: {f['title']}. {f.get('detail', '')} Fix the tag or the UTM tagging."
        elif f["severity"] in ("high", "medium"):
            text = f"Data quality: {f['title']}. {f.get('detail', '')}"
        else:
            continue
        out.append(_step(text.strip(), "quality", "high" if f["severity"] == "high" else "medium"))
    return out


def _anomaly_steps(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
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
        out.append(_step(text, "anomalies", "high" if a.get("severity") == "critical" else "medium"))
        if len(out) == 3:
            break
    return out
