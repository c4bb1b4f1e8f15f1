"""Report sections about what the advice rests on: tracking coverage, saved lift tests, and the next steps'
evidence (the management list and its appendix).

Each builder takes the report content (:func:`trueroi.report.management.build_report`) and the report's
charts, as the builders of :func:`trueroi.report.charts.sections` do, and returns a
:class:`~trueroi.report.layout.Section`.
"""

from __future__ import annotations

from typing import Any

from trueroi.report.layout import Chart, Section, cell, table

STEP_COLUMNS = [
    ("n", "#", "count"),
    ("priority", "Priority", "text"),
    ("text", "Next step", "text"),
    ("evidence_label", "Evidence", "text"),
    ("source", "From", "text"),
]


def step_rows(steps: list[dict[str, Any]], first: int = 1) -> list[dict[str, Any]]:
    """Table rows of next steps, numbered from ``first``, with the evidence's label as a column."""
    return [
        {**s, "n": first + i, "evidence_label": (s.get("evidence") or {}).get("label", "")}
        for i, s in enumerate(steps)
    ]


def appendix_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    """The next steps beyond the first few the report leads with."""
    rest = content.get("next_steps_appendix") or []
    rows = step_rows(rest, first=len(content["next_steps"]) + 1)
    return Section(
        "appendix",
        "Appendix: more next steps",
        "The remaining actions, in the same order of priority; each names its section and evidence.",
        tables=[table("", rows, STEP_COLUMNS)] if rows else [],
        message="" if rows else "No further steps.",
    )


PLATFORM_COLUMNS = [
    ("channel", "Channel", "text"),
    ("spend", "Spend", "money"),
    ("platform_conversions", "Conv. (platform)", "count"),
    ("platform_value", "Value (platform)", "money"),
    ("platform_roas", "ROAS (platform)", "ratio"),
]
CLICK_COLUMNS = [
    ("type", "Conversion type", "text"),
    ("with_click_id", "With a click id", "count"),
    ("matched", "Matched to a tracked click", "count"),
]


def tracking_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    """How much revenue tracking attributes; without tracking, the platforms' claims (labelled) and
    click-id matching."""
    t = content.get("tracking")
    if not t:
        return Section("tracking", "Tracking and attribution coverage", message="Not measured.")
    tables = []
    if not t["usable"] and t["platform"]:
        tables.append(
            table(f"What the platforms claim ({t['platform_label']})", t["platform"], PLATFORM_COLUMNS)
        )
    if t["click_ids"]["by_type"]:
        tables.append(table("Click ids of conversions", t["click_ids"]["by_type"], CLICK_COLUMNS))
    intro = (
        f"{cell(t['touchpoints'], 'count')} touchpoints in the workspace; "
        f"{cell(t['attributed_revenue'], 'money')} of {cell(t['revenue'], 'money')} {content['currency']} "
        "of the period's revenue reaches a channel."
    )
    return Section(
        "tracking", "Tracking and attribution coverage", intro, tables=tables, message=t["message"]
    )


EXPERIMENT_COLUMNS = [
    ("name", "Test", "text"),
    ("kind", "Kind", "text"),
    ("channel", "Channel", "text"),
    ("start", "From", "text"),
    ("end", "To", "text"),
    ("kpi", "KPI", "text"),
    ("delta_spend", "Spend change", "money"),
    ("lift", "Lift", "money"),
    ("lift_lower", "Low", "money"),
    ("lift_upper", "High", "money"),
    ("iroas", "iROAS", "ratio"),
    ("used", "Used", "text"),
]


def experiments_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    """The saved lift tests; 'Used' marks the one per channel the advice rests on."""
    e = content.get("experiments") or {}
    rows = e.get("rows") or []
    return Section(
        "experiments",
        "Lift tests",
        "Saved holdout and geo tests: the most credible evidence of what a channel adds. The latest finished "
        "test of each channel is used (its ROI on margin is in the next steps)."
        if rows
        else "",
        tables=[table("", rows, EXPERIMENT_COLUMNS)] if rows else [],
        message=e.get("message", "No lift test is saved in this workspace."),
    )
