"""One recommendation per paid channel, from its most credible evidence (:mod:`trueroi.report.evidence`).

The most credible evidence about a channel decides what the report says about it: raise, cut (or fix), keep
or review its costs; evidence lower down that points the spend another way is named in the same sentence,
with why it loses. A channel never gets two recommendations, so the report can never say "cut" and "raise"
about the same channel. Attribution alone never recommends raising a channel (it does not measure what the
channel adds), and platform-reported figures never decide anything.
"""

from __future__ import annotations

from typing import Any

from trueroi.report.evidence import LABELS, Evidence, channel_evidence

ORDER = {"high": 0, "medium": 1, "low": 2}
MANAGEMENT_STEPS = 5
"""How many next steps the report leads with; the rest go to its appendix."""


def step(text: str, source: str, priority: str, evidence: dict[str, Any]) -> dict[str, Any]:
    """A next step: its sentence, the report section its figures are in, a priority and its evidence."""
    return {"text": text, "source": source, "priority": priority, "evidence": evidence}


def observed(label: str, **figures: Any) -> dict[str, Any]:
    """The evidence of a step that reports a measured figure (a goal, a budget, a finding), not an effect."""
    return {"level": "observed", "label": label, "figures": figures}


def _lead(e: Evidence) -> str:
    ch = e.channel
    if e.action == "raise":
        return f"Raise {ch} step by step: {e.summary}."
    if e.action == "cut":
        return f"Cut or fix {ch} (targeting, bids, landing pages): {e.summary}."
    if e.action == "review_costs":
        return f"Channel {ch} {e.summary}: review the agency, production and tool costs it carries."
    return f"Keep {ch}'s spend: {e.summary}."


VERBS = {"raise": "raising it", "cut": "cutting it", "keep": "keeping it"}


def _against(best: Evidence, others: list[Evidence]) -> str:
    if not others:
        return ""
    said = "; ".join(f"{LABELS[o.level]} points to {VERBS[o.action]} ({o.summary})" for o in others)
    return f" By contrast, {said}; the {LABELS[best.level]} is the more credible evidence."


def _attribution_caveat(best: Evidence) -> str:
    if best.level in ("attribution", "data_driven_attribution") and best.action == "cut":
        return (
            " Attribution credits the touches that closed orders, not what the channel adds: test its "
            "incrementality (lift or geo test) before cutting the budget."
        )
    return ""


def channel_step(channel: str, items: list[Evidence]) -> dict[str, Any] | None:
    """The one step about ``channel`` from its evidence (most credible first), or None when all agree it
    should be kept as it is."""
    best = items[0]
    against = [e for e in items[1:] if best.disagrees_with(e)]
    if best.action == "keep" and not against:
        costs = next((e for e in items if e.action == "review_costs"), None)
        if costs is None:
            return None
        best = costs
    text = _lead(best) + _against(best, against) + _attribution_caveat(best)
    priority = best.priority if best.action != "keep" else "medium"
    evidence = {**best.to_dict(), "disagreeing": [e.to_dict() for e in against]}
    return step(text, best.source, priority, evidence)


def channel_steps(content: dict[str, Any]) -> list[dict[str, Any]]:
    """One step per paid channel whose evidence calls for action (or whose evidence disagrees), most
    credible evidence and most spend first."""
    evidence = channel_evidence(content)
    found = []
    for channel, items in evidence.items():
        s = channel_step(channel, items)
        if s is not None:
            found.append((-items[0].rank, -items[0].spend, s))
    found.sort(key=lambda x: (x[0], x[1]))
    return [s for _, _, s in found]


def split(steps: list[dict[str, Any]], limit: int = MANAGEMENT_STEPS) -> tuple[list, list]:
    """The steps sorted by priority (stable), cut into the ``limit`` the report leads with and the rest."""
    ordered = sorted(steps, key=lambda s: ORDER[s["priority"]])
    return ordered[:limit], ordered[limit:]
