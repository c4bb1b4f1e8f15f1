"""Self-contained HTML reports: plotly.js is inlined once, so the file renders with no network at all."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trueroi.metrics.engine import KpiReport

TABLE_COLUMNS = [
    ("spend", "Spend", "money"),
    ("revenue", "Revenue", "money"),
    ("margin", "Margin", "money"),
    ("roas", "ROAS", "ratio"),
    ("media_roi", "Media ROI", "pct"),
    ("full_roi", "Full ROI", "pct"),
    ("cpa", "CPA", "money"),
    ("conversions", "Conversions", "count"),
]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
 color:#222}
h1{color:var(--primary)}h2{border-bottom:2px solid var(--accent);padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.35rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:var(--primary);color:#fff}
tbody tr:nth-child(even){background:#f4f6f8}tr.total td{font-weight:bold;border-top:2px solid #333}
.neg{color:#b00020}.note{color:#555;font-size:.85rem}
"""


def fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, str):
        return html.escape(value)
    if kind == "pct":
        return f"{value * 100:,.1f}%"
    if kind == "ratio":
        return f"{value:,.2f}"
    if kind == "count":
        return f"{value:,.0f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _table(report: KpiReport) -> str:
    dims = report.dims
    cols = list(TABLE_COLUMNS)
    if report.compare:
        cols += [
            ("revenue_change_pct", f"Revenue {report.compare}", "pct"),
            ("media_roi_change", f"Media ROI {report.compare} (pts)", "pct"),
        ]
    head = "".join(f"<th>{html.escape(d.replace('_', ' ').title())}</th>" for d in dims)
    head += "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in cols)
    body = []
    rows = report.rows.to_dict(orient="records")
    for row, css in [(r, "") for r in rows] + [({**report.totals, **dict.fromkeys(dims, "")}, "total")]:
        cells = "".join(
            f"<td>{fmt(row.get(d), 'text') if css == '' else ('Total' if i == 0 else '')}</td>"
            for i, d in enumerate(dims)
        )
        for key, _, kind in cols:
            value = row.get(key)
            neg = ' class="neg"' if isinstance(value, float) and value < 0 and kind == "pct" else ""
            cells += f"<td{neg}>{fmt(value, kind)}</td>"
        body.append(f'<tr class="{css}">{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _paid_vs_blended(report: KpiReport) -> str:
    """A line under the table: the totals' paid-media ROAS and CPA beside the blended MER and CPA."""
    t = report.totals
    if t.get("mer") is None and t.get("paid_roas") is None:
        return ""
    return (
        '<p class="note">Total row: ROAS and CPA there are blended (all revenue and orders, organic, direct '
        f"and e-mail included, over media spend). Paid-media ROAS {fmt(t.get('paid_roas'), 'ratio')} "
        "(revenue attributed to channels with spend / media spend), MER "
        f"{fmt(t.get('mer'), 'ratio')} (all revenue / media spend); paid-media CPA "
        f"{fmt(t.get('paid_cpa'), 'money')}, blended CPA {fmt(t.get('cpa'), 'money')}.</p>"
    )


def _roi_chart(report: KpiReport, truth: dict | None) -> Any:
    import plotly.graph_objects as go

    paid = report.rows[report.rows["spend"] > 0]
    name = paid[report.dims[0]].astype(str) if report.dims else paid.index.astype(str)
    fig = go.Figure()
    fig.add_bar(name=f"Media ROI ({report.attribution_model})", x=name, y=paid["media_roi"] * 100)
    fig.add_bar(name=f"Full ROI ({report.attribution_model})", x=name, y=paid["full_roi"] * 100)
    if truth:
        true_roi = [truth.get(str(n)) for n in name]
        fig.add_bar(
            name="True incremental media ROI (ground truth)",
            x=name,
            y=[None if v is None else v * 100 for v in true_roi],
        )
    fig.update_layout(
        barmode="group",
        yaxis_title="ROI (%)",
        title="ROI by channel: media vs full",
        legend={"orientation": "h", "y": -0.25},
        height=480,
        margin={"t": 60},
    )
    return fig


def kpi_html(
    report: KpiReport,
    *,
    title: str = "trueroi report",
    truth_roi: dict[str, float] | None = None,
    extra_sections: list[tuple[str, str]] | None = None,
    branding: Any = None,
) -> str:
    """An HTML page with the KPI table and a chart of media vs full ROI by the first dimension.

    ``truth_roi`` (channel -> true media ROI) adds a ground-truth bar, for the demo shop.
    ``extra_sections`` are (heading, HTML) pairs appended after the table.
    """
    primary = getattr(branding, "primary_color", "#1f4e79")
    accent = getattr(branding, "accent_color", "#e07b39")
    chart = _roi_chart(report, truth_roi).to_html(
        full_html=False, include_plotlyjs=True, config={"displaylogo": False}
    )
    compare = f" compared with {report.compare_period} ({report.compare})" if report.compare else ""
    sections = "".join(f"<h2>{html.escape(h)}</h2>{body}" for h, body in (extra_sections or []))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>:root{{--primary:{primary};--accent:{accent}}}{CSS}</style></head>
<body><h1>{html.escape(title)}</h1>
<p>Period {report.period}{compare}. Currency {report.currency}. Revenue and conversions attributed by
<b>{html.escape(report.attribution_model)}</b>. ROI on contribution margin (revenue - COGS): media ROI counts
ad spend only, full ROI all marketing costs (agency, salaries, tools, production).</p>
<h2>ROI by channel</h2>{chart}
<h2>KPIs</h2>{_table(report)}
{_paid_vs_blended(report)}
{sections}
<ul class="note">{notes}</ul><p class="note">Generated by trueroi on {stamp}.</p>
</body></html>
"""


def write_kpi_report(path: str | Path, report: KpiReport, **kwargs: Any) -> Path:
    """Write :func:`kpi_html` to ``path``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(kpi_html(report, **kwargs), encoding="utf-8")
    return out
