"""A self-contained HTML report of a fitted mix model: decomposition, ROI with intervals, response curves,
media parameters, diagnostics and warnings. Plotly's JavaScript is written inline once, so the page renders
offline (no CDN)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from trueroi.mmm.model import MMM


def write_report(model: MMM, path: str | os.PathLike[str]) -> Path:
    """Write the HTML report of a fitted model to ``path`` and return it."""
    figures = [_decomposition(model), _roi(model), _curves(model)]
    parts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figures)
    ]
    summary = model.summary()
    body = "\n".join(
        [
            f"<h1>Marketing-mix model: {html.escape(model.data_.target_col)}</h1>",
            f"<p>{html.escape(_subtitle(model))}</p>",
            "<h2>Warnings</h2>",
            _warnings(model.warnings_),
            "<h2>Channels</h2>",
            _channel_table(summary["channels"]),
            "<h2>Decomposition over time</h2>",
            parts[0],
            "<h2>ROI and marginal ROI (90% intervals)</h2>",
            parts[1],
            "<h2>Response curves (weekly, steady state, 90% intervals)</h2>",
            parts[2],
            "<h2>Diagnostics</h2>",
            _dict_table(model.diagnostics_),
            "<h2>Media parameters</h2>",
            model.media_parameters().round(4).to_html(index=False, border=0),
        ]
    )
    return write_page(path, "trueroi MMM report", body)


def write_page(path: str | os.PathLike[str], title: str, body: str) -> Path:
    """Write ``body`` as a complete HTML page with the report style; returns the path."""
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}li.warn{color:#a33}"
)


def _subtitle(model: MMM) -> str:
    d = model.data_
    return (
        f"{d.n_periods} periods from {d.dates[0].date()} to {d.dates[-1].date()} "
        f"({d.n_periods - d.n_train} held out); adstock {model.adstock}, saturation {model.saturation}, "
        f"prior {model.prior}, fitted by {model.method} in {model.fit_seconds_:.1f} s."
    )


def _warnings(warnings: list[str]) -> str:
    if not warnings:
        return "<p>None.</p>"
    return "<ul>" + "".join(f"<li class='warn'>{html.escape(w)}</li>" for w in warnings) + "</ul>"


def _channel_table(channels: dict[str, Any]) -> str:
    rows = ["<tr><th>channel</th><th>spend</th><th>contribution</th><th>ROI</th><th>marginal ROI</th></tr>"]
    for c, s in channels.items():
        cells = [f"{s['spend']:,.0f}"] + [
            f"{s[k]['mean']:,.{d}f} [{s[k]['lower']:,.{d}f}, {s[k]['upper']:,.{d}f}]"
            for k, d in (("contribution", 0), ("roi", 2), ("mroi", 2))
        ]
        rows.append(f"<tr><td>{html.escape(c)}</td>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _dict_table(d: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        return "–" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    return (
        "<table>"
        + "".join(f"<tr><td>{html.escape(k)}</td><td>{fmt(v)}</td></tr>" for k, v in d.items())
        + "</table>"
    )


def _decomposition(model: MMM) -> Any:
    import plotly.graph_objects as go

    dec = model.decomposition()
    date = model.data_.date_col
    fig = go.Figure()
    for col in ["baseline", *model.data_.controls_cols, *model.data_.channels]:
        fig.add_trace(go.Scatter(x=dec[date], y=dec[col], name=col, stackgroup="one", mode="none"))
    fig.add_trace(
        go.Scatter(x=dec[date], y=dec["actual"], name="actual", mode="lines", line={"color": "black"})
    )
    return fig.update_layout(height=450, yaxis_title=model.data_.target_col)


def _roi(model: MMM) -> Any:
    import plotly.graph_objects as go

    ch = model.channel_summary_
    names = list(ch)
    fig = go.Figure()
    for key, label in (("roi", "ROI"), ("mroi", "marginal ROI")):
        mean = np.array([ch[c][key]["mean"] for c in names])
        lo = np.array([ch[c][key]["lower"] for c in names])
        hi = np.array([ch[c][key]["upper"] for c in names])
        fig.add_trace(
            go.Bar(
                x=names,
                y=mean,
                name=label,
                error_y={"type": "data", "array": hi - mean, "arrayminus": mean - lo},
            )
        )
    return fig.update_layout(barmode="group", height=400, yaxis_title="incremental KPI per unit of spend")


def add_band(fig: Any, x: np.ndarray, band: dict[str, np.ndarray], name: str, color: str) -> None:
    """A curve's posterior mean as a line over its shaded 90% interval (one legend entry for both)."""
    import plotly.graph_objects as go

    fig.add_trace(
        go.Scatter(
            x=np.r_[x, x[::-1]],
            y=np.r_[band["upper"], band["lower"][::-1]],
            fill="toself",
            fillcolor=color,
            opacity=0.15,
            line={"width": 0, "color": color},
            showlegend=False,
            legendgroup=name,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(x=x, y=band["mean"], name=name, mode="lines", legendgroup=name, line={"color": color})
    )


def _curves(model: MMM) -> Any:
    import plotly.colors
    import plotly.graph_objects as go

    curves = model.response_curves()
    fig = go.Figure()
    palette = plotly.colors.qualitative.Plotly
    for i, c in enumerate(curves.channels):
        color = palette[i % len(palette)]
        top = max(curves.current_spend[i] * 3, 1.0)
        grid = np.linspace(0, top, 60)
        add_band(fig, grid, curves.curve(c, grid), c, color)
        fig.add_trace(
            go.Scatter(
                x=[curves.current_spend[i]],
                y=curves.curve(c, np.array([curves.current_spend[i]]))["mean"],
                mode="markers",
                marker={"color": color, "size": 9},
                name=f"{c} now",
                legendgroup=c,
                showlegend=False,
            )
        )
    return fig.update_layout(height=450, xaxis_title="weekly spend", yaxis_title="weekly incremental KPI")
