"""The management report's layout: sections, tables and charts, described once and drawn twice.

:func:`sections` turns the report content of :func:`trueroi.report.management.build_report` into
:class:`Section` objects holding formatted :class:`Table` cells and :class:`Chart` data, so the HTML
(:mod:`trueroi.report.management_html`) and the PDF (:mod:`trueroi.report.pdf`) show the same figures with
the same formatting. :func:`to_plotly` draws a chart as an interactive plotly figure; :func:`to_png` draws it
with matplotlib on an Agg canvas of its own (no ``pyplot``, no global backend change).
"""

from __future__ import annotations

import io
from typing import Any

from trueroi.report.family_sections import family_sections
from trueroi.report.layout import Chart, Section, Series, Table, cell, generic_table, table
from trueroi.report.longterm_sections import longterm_sections
from trueroi.report.more_sections import (
    STEP_COLUMNS,
    appendix_section,
    experiments_section,
    step_rows,
    tracking_section,
)
from trueroi.report.next_steps import kind_of

__all__ = [  # the layout types are part of this module's face: the HTML and PDF writers import them here
    "PALETTE",
    "Chart",
    "Section",
    "Series",
    "Table",
    "cell",
    "report_charts",
    "sections",
    "table",
    "to_plotly",
    "to_png",
]

PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974")


def _paid(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if (r.get("spend") or 0) > 0]


def roi_chart(content: dict[str, Any]) -> Chart | None:
    """Media vs full ROI (%) of each channel with spend."""
    rows = _paid(content["channels"]["rows"])
    if not rows:
        return None
    model = content["channels"]["attribution_model"]
    return Chart(
        "roi",
        f"Media vs full ROI by channel ({model})",
        [r["channel"] for r in rows],
        [
            Series("Media ROI", [r["media_roi"] for r in rows]),
            Series("Full ROI", [r["full_roi"] for r in rows]),
        ],
        "ROI on margin (%)",
        scale=100.0,
    )


def attribution_chart(content: dict[str, Any]) -> Chart | None:
    """ROAS of each paid channel under each attribution model."""
    section = content["attribution"]
    if not section.get("available") or not section.get("spend"):
        return None
    channels = [c for c in section["channels"] if c in section["spend"]]
    series = [Series(m, [section["roas"][m].get(c) for c in channels]) for m in section["models"]]
    return Chart("attribution", "ROAS by attribution model", channels, series, "ROAS (revenue / spend)")


def mmm_chart(content: dict[str, Any]) -> Chart | None:
    """Mix-model ROI on margin (%) with its 90% interval; ROAS when no margin rate is known. None for a fit
    the report does not use (it did not converge)."""
    section = content["mmm"]
    if not section.get("available") or not section.get("used", True):
        return None
    rows = section["channels"]
    on_margin = any(r.get("roi") is not None for r in rows)
    key, name = ("roi", "ROI on margin") if on_margin else ("roas", "ROAS: incremental revenue / spend")
    return Chart(
        "mmm",
        f"Mix-model {'ROI on margin' if on_margin else 'ROAS'} by channel (90% interval)",
        [r["channel"] for r in rows],
        [
            Series(
                name,
                [r.get(key) for r in rows],
                [r.get(f"{key}_lower") for r in rows],
                [r.get(f"{key}_upper") for r in rows],
            )
        ],
        "ROI on margin (%)" if on_margin else "revenue per unit of spend",
        scale=100.0 if on_margin else 1.0,
    )


def budget_chart(content: dict[str, Any]) -> Chart | None:
    """Current vs recommended weekly spend per channel (only from a fit the report uses)."""
    section = content["mmm"]
    if not section.get("available") or "budget" not in section:
        return None
    rows = section["budget"]["rows"]
    return Chart(
        "budget",
        "Weekly spend: current vs recommended",
        [r["channel"] for r in rows],
        [
            Series("Current", [r["current"] for r in rows]),
            Series("Recommended", [r["recommended"] for r in rows]),
        ],
        f"Spend per week ({content['currency']})",
    )


def goals_chart(content: dict[str, Any]) -> Chart | None:
    """Each goal's progress and expected end value as a share of its target."""
    rows = [g for g in content["goals"]["rows"] if g.get("target")]
    if not rows:
        return None
    return Chart(
        "goals",
        "Goals: progress and forecast (% of target)",
        [str(g["name"]) for g in rows],
        [
            Series("Progress", [g.get("progress") for g in rows]),
            Series(
                "Forecast at period end",
                [_share(g.get("expected"), g["target"]) for g in rows],
                [_share(g.get("expected_lower"), g["target"]) for g in rows],
                [_share(g.get("expected_upper"), g["target"]) for g in rows],
            ),
        ],
        "% of target",
        scale=100.0,
        horizontal=True,
    )


def _share(value: float | None, target: float) -> float | None:
    return None if value is None or not target else value / target


def report_charts(content: dict[str, Any]) -> dict[str, Chart]:
    """Every chart the content supports, by key (goals, roi, attribution, mmm, budget)."""
    makers = (goals_chart, roi_chart, attribution_chart, mmm_chart, budget_chart)
    return {c.key: c for c in (m(content) for m in makers) if c is not None}


def _scaled(values: list[float | None] | None, scale: float) -> list[float | None] | None:
    return None if values is None else [None if v is None else v * scale for v in values]


def to_plotly(chart: Chart, colors: tuple[str, ...] = PALETTE) -> Any:
    """An interactive plotly figure of ``chart`` (grouped bars, error bars where given)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, s in enumerate(chart.series):
        values = _scaled(s.values, chart.scale)
        error = None
        if s.lower is not None and s.upper is not None:
            lo, hi = _scaled(s.lower, chart.scale), _scaled(s.upper, chart.scale)
            error = {
                "type": "data",
                "symmetric": False,
                "array": [None if h is None or v is None else h - v for h, v in zip(hi, values, strict=True)],
                "arrayminus": [
                    None if w is None or v is None else v - w for w, v in zip(lo, values, strict=True)
                ],
            }
        xy = (
            {"y": chart.categories, "x": values} if chart.horizontal else {"x": chart.categories, "y": values}
        )
        bar = {"error_x" if chart.horizontal else "error_y": error} if error else {}
        fig.add_bar(
            name=s.name,
            marker_color=colors[i % len(colors)],
            orientation="h" if chart.horizontal else "v",
            **xy,
            **bar,
        )
    axis = {"title": chart.y_title}
    fig.update_layout(
        barmode="group",
        title=chart.title,
        legend={"orientation": "h", "y": -0.25},
        height=max(380, 60 * len(chart.categories)) if chart.horizontal else 440,
        margin={"t": 60},
        font={"family": "system-ui, sans-serif"},
        **({"xaxis": axis} if chart.horizontal else {"yaxis": axis}),
    )
    return fig


def to_png(chart: Chart, colors: tuple[str, ...] = PALETTE, width_in: float = 7.0, dpi: int = 150) -> bytes:
    """``chart`` drawn by matplotlib as PNG bytes, on an Agg canvas of its own."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n, k = len(chart.categories), max(1, len(chart.series))
    height = 3.2 if not chart.horizontal else max(2.2, 0.5 * n + 1.2)
    fig = Figure(figsize=(width_in, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pos = np.arange(n, dtype=float)
    width = 0.8 / k
    for i, s in enumerate(chart.series):
        values = np.array([np.nan if v is None else v for v in _scaled(s.values, chart.scale)], dtype=float)
        offset = pos - 0.4 + width * (i + 0.5)
        err = None
        if s.lower is not None and s.upper is not None:
            lo = np.array([np.nan if v is None else v for v in _scaled(s.lower, chart.scale)], dtype=float)
            hi = np.array([np.nan if v is None else v for v in _scaled(s.upper, chart.scale)], dtype=float)
            err = np.nan_to_num(np.vstack([values - lo, hi - values]).clip(min=0))
        draw = ax.barh if chart.horizontal else ax.bar
        extra = {"xerr": err} if chart.horizontal else {"yerr": err}
        draw(
            offset,
            np.nan_to_num(values),
            width,
            label=s.name,
            color=colors[i % len(colors)],
            capsize=2 if err is not None else 0,
            **extra,
        )
    labels = [c if len(c) <= 18 else c[:17] + "." for c in chart.categories]
    if chart.horizontal:
        ax.set_yticks(pos, labels, fontsize=7)
        ax.set_xlabel(chart.y_title, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="#333", linewidth=0.6)
    else:
        ax.set_xticks(pos, labels, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel(chart.y_title, fontsize=8)
        ax.axhline(0, color="#333", linewidth=0.6)
    ax.tick_params(axis="both", labelsize=7)
    ax.set_title(chart.title, fontsize=10)
    ax.legend(fontsize=6, ncols=min(k, 5), loc="best", frameon=False)
    ax.grid(axis="x" if chart.horizontal else "y", color="#ddd", linewidth=0.5)
    ax.set_axisbelow(True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def sections(content: dict[str, Any]) -> list[Section]:
    """The report's sections in reading order, with formatted tables and chart data."""
    charts = report_charts(content)
    makers = (
        _steps_section,
        _goals_section,
        _kpis_section,
        _channels_section,
        tracking_section,
        experiments_section,
        _attribution_section,
        _mmm_section,
        _quality_section,
        _anomalies_section,
        appendix_section,
    )
    out = [m(content, charts) for m in makers]
    at = [s.key for s in out].index("mmm") + 1  # the long-term view follows the mix model
    out = out[:at] + longterm_sections(content, charts) + out[at:]
    at = [s.key for s in out].index("channels") + 1  # the channels' own KPIs follow their ROI
    return out[:at] + family_sections(content, charts) + out[at:]


def _steps_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    rows = step_rows(content["next_steps"])
    more = len(content.get("next_steps_appendix") or [])
    intro = (
        "Actions generated from the figures of this report; 'From' names the section each figure is in and "
        "'Evidence' what the action rests on (a lift test over a converged mix model over attribution)."
    )
    if more:
        intro += f" {more} more in the appendix at the end."
    return Section(
        "next_steps",
        "Next steps",
        intro,
        tables=[table("", rows, STEP_COLUMNS)] if rows else [],
        message="" if rows else "Nothing to act on.",
    )


def _goals_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    goals, pacing = content["goals"], content["pacing"]
    value = lambda r: kind_of(r.get("kpi"))  # noqa: E731 - the kind follows each goal's KPI
    kpi_key = "label" if goals["rows"] and "label" in goals["rows"][0] else "kpi"
    cols = [
        ("name", "Goal", "text"),
        (kpi_key, "KPI", "text"),
        ("scope", "Scope", "text"),
        ("horizon", "Horizon", "text"),
        ("from", "From", "text"),
        ("to", "To", "text"),
        ("target", "Target", value),
        ("actual", "Actual", value),
        ("progress", "Progress", "pct"),
        ("expected", "Forecast", value),
        ("expected_lower", "Low", value),
        ("expected_upper", "High", value),
        ("status", "Status", "text"),
    ]
    tables = [table("Goals", goals["rows"], cols)] if goals["rows"] else []
    if pacing["rows"]:
        known = all(k in pacing["rows"][0] for k, _, _ in PACING_COLUMNS)
        tables.append(
            table("Budget pacing", pacing["rows"], PACING_COLUMNS)
            if known
            else generic_table("Budget pacing", pacing["rows"])
        )
    message = " ".join(m for m in (goals.get("message", ""), pacing.get("message", "")) if m)
    return Section(
        "goals",
        "Goals and budget pacing",
        "Progress to date, the forecast at the goal's end with its interval, and the status.",
        charts=[charts["goals"]] if "goals" in charts else [],
        tables=tables,
        message=message,
    )


PACING_COLUMNS = [
    ("name", "Budget", "text"),
    ("scope", "Scope", "text"),
    ("from", "From", "text"),
    ("to", "To", "text"),
    ("amount", "Budget", "money"),
    ("spend_to_date", "Spent", "money"),
    ("expected_to_date", "Planned to date", "money"),
    ("projected", "Projected", "money"),
    ("projected_lower", "Low", "money"),
    ("projected_upper", "High", "money"),
    ("status", "Pacing", "text"),
    ("daily_needed", "Daily to land", "money"),
]


def _kpis_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    kpis = content["kpis"]
    rows = [{**r, "change_kind": "pts" if r["change_unit"] == "pts" else "signed_pct"} for r in kpis["rows"]]
    cols = [
        ("label", "KPI", "text"),
        ("value", "This period", lambda r: r["kind"]),
        ("previous", "Last year", lambda r: r["kind"]),
        ("change_pct", "Change", lambda r: r["change_kind"]),
    ]
    cmp_ = kpis["compare"]
    return Section(
        "kpis",
        "Headline KPIs",
        f"{content['period']['from']} to {content['period']['to']} vs {cmp_['from']} to {cmp_['to']} (year "
        f"over year); money in {content['currency']}; attributed by {content['attribution_model']}; ROI "
        "changes in percentage points.",
        tables=[table("", rows, cols)],
        message=kpis.get("message", ""),
    )


def _channels_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    cols = [
        ("channel", "Channel", "text"),
        ("spend", "Spend", "money"),
        ("revenue", "Revenue", "money"),
        ("margin", "Margin", "money"),
        ("conversions", "Conv.", "count"),
        ("roas", "ROAS", "ratio"),
        ("cpa", "CPA", "money"),
        ("media_roi", "Media ROI", "pct"),
        ("full_roi", "Full ROI", "pct"),
    ]
    notes = [n for n in content["kpis"].get("notes", []) if "full ROI" in n]
    if not (content.get("tracking") or {}).get("usable", True):
        notes.insert(0, "Attributed revenue here reflects missing tracking, not the channels: see Tracking.")
    return Section(
        "channels",
        "Media vs full ROI by channel",
        "ROI on contribution margin (revenue - COGS): media ROI counts ad spend only, full ROI all marketing "
        "costs (agency, salaries, tools, production), shown only where the channel's own costs are known. "
        f"Attribution: {content['channels']['attribution_model']}.",
        charts=[charts["roi"]] if "roi" in charts else [],
        tables=[table("", content["channels"]["rows"], cols)],
        message=" ".join(n[:1].upper() + n[1:] + "." for n in notes),
    )


def _attribution_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    a = content["attribution"]
    if not a.get("available"):
        return Section("attribution", "Attribution comparison", message=a.get("message", ""))
    models = a["models"]
    rows = [
        {"channel": c, "spend": a["spend"].get(c), **{m: a["roas"][m].get(c) for m in models}}
        for c in a["channels"]
        if c in a["spend"]
    ]
    roas = table(
        "ROAS by model (paid channels)",
        rows,
        [("channel", "Channel", "text"), ("spend", "Spend", "money")]
        + [(m, m.replace("_", " "), "ratio") for m in models],
    )
    rows = [{"channel": c, **{m: a["conversions"][m].get(c) for m in models}} for c in a["channels"]]
    conv = table(
        "Attributed conversions by model",
        rows,
        [("channel", "Channel", "text")] + [(m, m.replace("_", " "), "ratio") for m in models],
    )
    return Section(
        "attribution",
        "Attribution comparison",
        f"The period's {cell(a['total_conversions'], 'count')} orders ({cell(a['total_value'], 'money')} "
        f"{content['currency']}) credited to channels by each model; every model's column sums to these "
        "totals. These are the orders with a touch in the lookback window (the attribution engine's "
        "journeys); the KPI tables above also count orders without any touch, as (unattributed). ROAS = "
        "attributed revenue / the channel's media spend in the period.",
        charts=[charts["attribution"]] if "attribution" in charts else [],
        tables=[roas, conv],
    )


MMM_COLUMNS = [
    ("channel", "Channel", "text"),
    ("spend", "Spend", "money"),
    ("contribution", "Contribution", "money"),
    ("roi", "ROI on margin", "pct"),
    ("roi_lower", "5%", "pct"),
    ("roi_upper", "95%", "pct"),
    ("roas", "ROAS", "ratio"),
    ("mroas", "Marginal ROAS", "ratio"),
]
PLAN_COLUMNS = [
    ("channel", "Channel", "text"),
    ("current", "Current / week", "money"),
    ("recommended", "Recommended / week", "money"),
    ("change", "Change", "signed_pct"),
    ("reason", "Why", "text"),
]


def _diagnostic_value(value: Any) -> Any:
    """A diagnostics entry as a table cell: words for ``trusted`` and ``trust_problems`` (issue 22)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(map(str, value)) or "none"
    return value


def _mmm_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    m = content["mmm"]
    heading = "Mix model and budget recommendation"
    if not m.get("available"):
        return Section("mmm", heading, message=m["message"])
    d = m["diagnostics"]
    margin = (
        f"ROI on margin uses a margin rate of {cell(m['margin_rate'], 'pct')} ({m.get('margin_source')})"
        if m.get("margin_rate") is not None
        else "no margin rate is known, so ROI on margin is not given (ROAS only)"
    )
    intro = (
        f"Model in {m['dir']} (whole fitted history, not only this period), fitted by {m.get('method')}: "
        f"incremental {m['kpi']} with 90% intervals; {margin}; ROAS = incremental revenue / spend. "
        f"R2 {cell(d.get('r2'), 'ratio')}, MAPE {cell(d.get('mape'), 'pct')}, R-hat "
        f"{cell(d.get('r_hat_max'), 'ratio')}, divergences {cell(d.get('divergences'), 'count')}, "
        f"ESS {cell(d.get('ess_bulk_min'), 'count')}."
    )
    diagnostics = table(
        "Diagnostics",
        [{"name": k, "value": _diagnostic_value(v)} for k, v in d.items()],
        [("name", "", "text"), ("value", "", "ratio")],
    )
    if "budget" not in m:  # not converged: its figures are shown to diagnose it, not to act on
        return Section(
            "mmm",
            heading,
            intro,
            tables=[
                table("Mix-model figures (not used: see above)", m["channels"], MMM_COLUMNS),
                diagnostics,
            ],
            message=m.get("not_used", ""),
        )
    b = m["budget"]
    intro += (
        f" Budget plan: the same weekly total of {cell(b['weekly_total'], 'money')} {content['currency']}, "
        f"expected {cell(b['expected']['mean'], 'money')} vs {cell(b['current_expected']['mean'], 'money')} "
        f"now (P(beats current) {cell(b['p_beats_current'], 'pct')})."
    )
    return Section(
        "mmm",
        heading,
        intro,
        charts=[charts[k] for k in ("mmm", "budget") if k in charts],
        tables=[
            table("Mix-model ROI", m["channels"], MMM_COLUMNS),
            table("Budget recommendation", b["rows"], PLAN_COLUMNS),
        ],
    )


def _quality_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    rows = content["quality"]["findings"]
    cols = [
        ("severity", "Severity", "text"),
        ("title", "Finding", "text"),
        ("count", "Count", "count"),
        ("detail", "Detail", "text"),
    ]
    return Section(
        "quality",
        "Data quality",
        "Where the workspace's data disagrees with itself (all loaded data).",
        tables=[table("", rows, cols)] if rows else [],
        message="" if rows else "No data-quality findings.",
    )


ANOMALY_COLUMNS = [
    ("day", "Day", "text"),
    ("kpi", "KPI", "text"),
    ("scope", "Scope", "text"),
    ("scope_value", "Where", "text"),
    ("direction", "Direction", "text"),
    ("observed", "Observed", "ratio"),
    ("expected", "Expected", "ratio"),
    ("lower", "Low", "ratio"),
    ("upper", "High", "ratio"),
    ("score", "Score", "ratio"),
    ("severity", "Severity", "text"),
]
MAX_ANOMALIES = 25


def _anomalies_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    a = content["anomalies"]
    rows = sorted(a["rows"], key=lambda r: -(r.get("score") or 0))
    intro = ""
    if len(rows) > MAX_ANOMALIES:
        intro = (
            f"{len(rows)} anomalies in the period; the {MAX_ANOMALIES} strongest (highest score) are shown."
        )
        rows = rows[:MAX_ANOMALIES]
    known = rows and all(k in rows[0] for k, _, _ in ANOMALY_COLUMNS)
    tables = [table("", rows, ANOMALY_COLUMNS) if known else generic_table("", rows)] if rows else []
    return Section("anomalies", "Anomalies in the period", intro, tables=tables, message=a.get("message", ""))
