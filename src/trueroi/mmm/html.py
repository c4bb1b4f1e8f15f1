"""The pieces of the mix models' HTML reports: the page with its style, tables and a posterior band.

Plotly's JavaScript goes inline into the first figure (:func:`figures_html`), so a page renders offline (no
CDN). Plotly is imported inside the functions that draw, to keep importing :mod:`trueroi.mmm` cheap.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import numpy as np

from trueroi.io import write_text

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}li.warn{color:#a33}"
)


def write_page(path: str | os.PathLike[str], title: str, body: str) -> Path:
    """Write ``body`` as a complete HTML page with the report style (atomically; the folder is created
    when missing); returns the path."""
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_text(out, page)


def figures_html(figures: list[Any]) -> list[str]:
    """Each plotly figure as an HTML fragment; plotly.js is inlined once, in the first."""
    return [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figures)
    ]


def warnings_list(warnings: list[str]) -> str:
    """The model's warnings as a list (or "None.")."""
    if not warnings:
        return "<p>None.</p>"
    return "<ul>" + "".join(f"<li class='warn'>{html.escape(w)}</li>" for w in warnings) + "</ul>"


CHANNEL_COLUMNS = (
    ("contribution", "contribution", 0),
    ("roi", "ROI on margin", 2),
    ("roas", "ROAS", 2),
    ("mroi", "marginal ROI on margin", 2),
    ("mroas", "marginal ROAS", 2),
    ("per_spend", "KPI per unit of spend", 4),
    ("mper_spend", "marginal KPI per unit of spend", 4),
)


def _interval(s: dict[str, Any], d: int) -> str:
    if s.get("mean") is None:
        return "–"
    return f"{s['mean']:,.{d}f} [{s['lower']:,.{d}f}, {s['upper']:,.{d}f}]"


def channel_table(channels: dict[str, Any]) -> str:
    """The ``channels`` block of a model summary: spend, contribution, ROI on margin, ROAS and their marginal
    figures with 90% intervals (a column only when some channel has it; "–" where it is not known)."""
    blocks = list(channels.values())
    cols = [
        (k, label, d)
        for k, label, d in CHANNEL_COLUMNS
        if any(s.get(k, {}).get("mean") is not None for s in blocks)
    ]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in cols)
    rows = [f"<tr><th>channel</th><th>spend</th>{head}</tr>"]
    for c, s in channels.items():
        cells = [f"{s['spend']:,.0f}"] + [_interval(s[k], d) for k, _, d in cols]
        rows.append(f"<tr><td>{html.escape(c)}</td>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def dict_table(d: dict[str, Any]) -> str:
    """A two-column table of names and values (floats to 4 significant digits, None as a dash)."""

    def fmt(v: Any) -> str:
        if isinstance(v, list):  # trust_problems: phrases
            return html.escape("; ".join(map(str, v)) or "none")
        return "–" if v is None else f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))

    return (
        "<table>"
        + "".join(f"<tr><td>{html.escape(k)}</td><td>{fmt(v)}</td></tr>" for k, v in d.items())
        + "</table>"
    )


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
