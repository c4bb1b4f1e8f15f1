"""The management report's layout: sections, tables and charts, described once and drawn twice.

:func:`sections` turns the report content of :func:`trueroi.report.management.build_report` into
:class:`Section` objects holding formatted :class:`Table` cells and :class:`Chart` data, so the HTML
(:mod:`trueroi.report.management_html`) and the PDF (:mod:`trueroi.report.pdf`) show the same figures with
the same formatting. :func:`to_plotly` draws a chart as an interactive plotly figure; :func:`to_png` draws it
with matplotlib on an Agg canvas of its own (no ``pyplot``, no global backend change).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from trueroi.report.html import fmt
from trueroi.report.next_steps import kind_of

PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974")


@dataclass
class Series:
    """One bar series: a name, one value per category (None: no bar) and optional error bar ends."""

    name: str
    values: list[float | None]
    lower: list[float | None] | None = None
    upper: list[float | None] | None = None


@dataclass
class Chart:
    """Grouped bars over categories. ``scale`` multiplies values for display (100 for percentages)."""

    key: str
    title: str
    categories: list[str]
    series: list[Series]
    y_title: str
    scale: float = 1.0
    horizontal: bool = False
    notes: list[str] = field(default_factory=list)


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
    """Mix-model ROI (incremental KPI per unit spend) with its 90% interval."""
    section = content["mmm"]
    if not section.get("available"):
        return None
    rows = section["channels"]
    return Chart(
        "mmm",
        "Mix-model ROI by channel (90% interval)",
        [r["channel"] for r in rows],
        [
            Series(
                f"Incremental {section['kpi']} per unit spend",
                [r["roi"] for r in rows],
                [r["roi_lower"] for r in rows],
                [r["roi_upper"] for r in rows],
            )
        ],
        f"{section['kpi']} per unit spend",
    )


def budget_chart(content: dict[str, Any]) -> Chart | None:
    """Current vs recommended weekly spend per channel."""
    section = content["mmm"]
    if not section.get("available"):
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


# ----------------------------------------------------------------------------------------------------
# Tables and sections


@dataclass
class Table:
    """Formatted cells: ``header`` labels, ``align`` ("left"/"right") and ``negative`` flags per cell."""

    title: str
    header: list[str]
    align: list[str]
    cells: list[list[str]]
    negative: list[list[bool]]


@dataclass
class Section:
    """A report section: heading, a line of context, its charts and tables, and a message when empty."""

    key: str
    heading: str
    intro: str = ""
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    message: str = ""


def cell(value: Any, kind: str) -> str:
    """Plain text of one value: ``text`` as is, numbers as ``trueroi.report.html.fmt`` formats them."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, dict):  # a scope: {"channel": ..., "campaign": ...}
        return ", ".join(f"{k} {v}" for k, v in value.items() if v is not None) or "all"
    if kind == "text" or isinstance(value, str | bool):
        return str(value)
    if kind == "signed_pct":
        return f"{value * 100:+,.1f}%"
    if kind == "pts":
        return f"{value * 100:+,.1f} pts"
    return fmt(value, kind)


def table(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str, Any]]) -> Table:
    """A :class:`Table` of ``rows``; a column's kind is a string or a function of the row giving one."""
    kinds = [[k(r) if callable(k) else k for _, _, k in columns] for r in rows]
    return Table(
        title,
        [label for _, label, _ in columns],
        ["left" if k == "text" else "right" for _, _, k in columns],
        [
            [cell(r.get(key), kind) for (key, _, _), kind in zip(columns, ks, strict=True)]
            for r, ks in zip(rows, kinds, strict=True)
        ],
        [
            [_negative(r.get(key), kind) for (key, _, _), kind in zip(columns, ks, strict=True)]
            for r, ks in zip(rows, kinds, strict=True)
        ],
    )


def _negative(value: Any, kind: str) -> bool:
    """Red for a negative ROI or share; changes are not coloured (a falling CPA is good news)."""
    return isinstance(value, int | float) and value < 0 and kind == "pct"


def _guess_kind(key: str, value: Any) -> str:
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return "text"
    if any(w in key for w in ("pct", "share", "progress", "rate")):
        return "pct"
    return "count" if isinstance(value, int) else "money"


def generic_table(title: str, rows: list[dict[str, Any]], limit: int = 9) -> Table:
    """A table of dicts whose keys the report does not know in advance (pacing, anomalies)."""
    keys = [k for k in rows[0] if not isinstance(rows[0][k], dict | list)][:limit] if rows else []
    columns = [(k, k.replace("_", " ").capitalize(), _guess_kind(k, rows[0][k])) for k in keys]
    return table(title, rows, columns)


def sections(content: dict[str, Any]) -> list[Section]:
    """The report's sections in reading order, with formatted tables and chart data."""
    charts = report_charts(content)
    makers = (
        _steps_section,
        _goals_section,
        _kpis_section,
        _channels_section,
        _attribution_section,
        _mmm_section,
        _quality_section,
        _anomalies_section,
    )
    return [m(content, charts) for m in makers]


def _steps_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    rows = [{**s, "n": i + 1} for i, s in enumerate(content["next_steps"])]
    cols = [
        ("n", "#", "count"),
        ("priority", "Priority", "text"),
        ("text", "Next step", "text"),
        ("source", "From", "text"),
    ]
    return Section(
        "next_steps",
        "Next steps",
        "Actions generated from the figures of this report; 'From' names the section each figure is in.",
        tables=[table("", rows, cols)] if rows else [],
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
    return Section(
        "channels",
        "Media vs full ROI by channel",
        "ROI on contribution margin (revenue - COGS): media ROI counts ad spend only, full ROI all marketing "
        "costs (agency, salaries, tools, production). "
        f"Attribution: {content['channels']['attribution_model']}.",
        charts=[charts["roi"]] if "roi" in charts else [],
        tables=[table("", content["channels"]["rows"], cols)],
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


def _mmm_section(content: dict[str, Any], charts: dict[str, Chart]) -> Section:
    m = content["mmm"]
    if not m.get("available"):
        return Section("mmm", "Mix model and budget recommendation", message=m["message"])
    cols = [
        ("channel", "Channel", "text"),
        ("spend", "Spend", "money"),
        ("contribution", "Contribution", "money"),
        ("roi", "ROI", "ratio"),
        ("roi_lower", "5%", "ratio"),
        ("roi_upper", "95%", "ratio"),
        ("mroi", "Marginal ROI", "ratio"),
    ]
    b = m["budget"]
    plan_cols = [
        ("channel", "Channel", "text"),
        ("current", "Current / week", "money"),
        ("recommended", "Recommended / week", "money"),
        ("change", "Change", "signed_pct"),
        ("reason", "Why", "text"),
    ]
    d = m["diagnostics"]
    intro = (
        f"Model in {m['dir']} (whole fitted history, not only this period): incremental {m['kpi']} per unit "
        "of "
        f"spend with its 90% interval; R2 {cell(d.get('r2'), 'ratio')}, MAPE {cell(d.get('mape'), 'pct')}. "
        f"Budget plan: the same weekly total of {cell(b['weekly_total'], 'money')} {content['currency']}, "
        f"expected {cell(b['expected']['mean'], 'money')} vs "
        f"{cell(b['current_expected']['mean'], 'money')} now "
        f"(P(beats current) {cell(b['p_beats_current'], 'pct')})."
    )
    return Section(
        "mmm",
        "Mix model and budget recommendation",
        intro,
        charts=[charts[k] for k in ("mmm", "budget") if k in charts],
        tables=[
            table("Mix-model ROI", m["channels"], cols),
            table("Budget recommendation", b["rows"], plan_cols),
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
