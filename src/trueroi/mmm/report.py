"""Self-contained HTML reports of fitted mix models. :func:`write_model_report` writes the report of
either kind; :func:`write_report` is the national model's (decomposition, ROI with intervals, response curves,
media parameters, diagnostics and warnings), :func:`~trueroi.mmm.geo_report.write_geo_report` the geo
model's. Plotly's JavaScript is written inline once, so the page renders offline (no CDN)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import numpy as np

from trueroi.errors import UsageError
from trueroi.mmm.base import MixModel
from trueroi.mmm.geo import GeoMMM
from trueroi.mmm.geo_report import write_geo_report
from trueroi.mmm.html import add_band, channel_table, dict_table, figures_html, warnings_list, write_page
from trueroi.mmm.model import MMM
from trueroi.mmm.persist import load_model

REPORT_FILE = "report.html"


def write_model_report(
    model: MixModel | str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> Path:
    """Write the HTML report of a fitted model of either kind and return its path.

    Parameters
    ----------
    model
        A fitted :class:`~trueroi.mmm.MMM` or :class:`~trueroi.mmm.geo.GeoMMM`, or the directory of a saved
        one (read with :func:`~trueroi.mmm.load_model`).
    out
        The HTML file to write; for a model directory it defaults to ``report.html`` inside it.

    Raises
    ------
    UsageError
        If ``model`` is a fitted model and ``out`` is missing, or the directory holds no model.
    """
    if isinstance(model, MixModel):
        if out is None:
            raise UsageError("the report of a model in memory needs a file to write (out)")
    else:
        directory = Path(model)
        model = load_model(directory)
        out = directory / REPORT_FILE if out is None else out
    if isinstance(model, GeoMMM):
        return write_geo_report(model, out)
    return write_report(model, out)


def write_report(model: MMM, path: str | os.PathLike[str]) -> Path:
    """Write the HTML report of a fitted national model to ``path`` and return it."""
    parts = figures_html([_decomposition(model), _roi(model), _curves(model)])
    summary = model.summary()
    body = "\n".join(
        [
            f"<h1>Marketing-mix model: {html.escape(model.data_.target_col)}</h1>",
            f"<p>{html.escape(_subtitle(model))}</p>",
            "<h2>Warnings</h2>",
            warnings_list(model.warnings_),
            "<h2>Channels</h2>",
            channel_table(summary["channels"]),
            "<h2>Decomposition over time</h2>",
            parts[0],
            "<h2>Incremental KPI per unit of spend: ROAS and marginal ROAS for revenue (90% intervals)</h2>",
            parts[1],
            "<h2>Response curves (weekly, steady state, 90% intervals)</h2>",
            parts[2],
            "<h2>Diagnostics</h2>",
            dict_table(model.diagnostics_),
            "<h2>Media parameters</h2>",
            model.media_parameters().round(4).to_html(index=False, border=0),
        ]
    )
    return write_page(path, "trueroi MMM report", body)


def _subtitle(model: MMM) -> str:
    d = model.data_
    return (
        f"{d.n_periods} periods from {d.dates[0].date()} to {d.dates[-1].date()} "
        f"({d.n_periods - d.n_train} held out); adstock {model.adstock}, saturation {model.saturation}, "
        f"prior {model.prior}, fitted by {model.method} in {model.fit_seconds_:.1f} s."
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
    for key, label in (("roi", "ROAS"), ("mroi", "marginal ROAS")):
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
