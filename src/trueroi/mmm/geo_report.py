"""A self-contained HTML report of a fitted geo mix model: national channels with ROI and marginal ROI,
national decomposition over time, ROI per geo, national response curves, warnings and diagnostics. Plotly's
JavaScript is written inline once, so the page renders offline (no CDN)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trueroi.mmm.html import add_band, channel_table, dict_table, figures_html, warnings_list, write_page

if TYPE_CHECKING:
    from trueroi.mmm.geo import GeoMMM


def write_geo_report(model: GeoMMM, path: str | os.PathLike[str]) -> Path:
    """Write the HTML report of a fitted :class:`~trueroi.mmm.geo.GeoMMM` to ``path`` and return it."""
    summary = model.summary()
    parts = figures_html([_decomposition(model), _roi_by_geo(model, summary), _curves(model)])
    d = model.data_
    subtitle = (
        f"{len(d.geos)} geos, {len(d.dates)} periods from {d.dates[0].date()} to {d.dates[-1].date()} "
        f"({len(d.dates) - d.n_train} held out); adstock {model.adstock}, saturation {model.saturation}, "
        f"pooling {model.pooling}; fitted by {model.method} in {model.fit_seconds_:.1f} s."
    )
    body = "\n".join(
        [
            f"<h1>Geo mix model: {html.escape(model.columns_['target'])}</h1>",
            f"<p>{html.escape(subtitle)}</p>",
            "<h2>Warnings</h2>",
            warnings_list(model.warnings_),
            "<h2>National channels (90% intervals)</h2>",
            channel_table(summary["channels"]),
            "<h2>National decomposition over time</h2>",
            parts[0],
            f"<h2>{html.escape(_ratio(summary)[1])} per geo (posterior mean and 90% interval; national as a "
            "line)</h2>",
            parts[1],
            "<h2>National response curves (contribution over the fitted window, 90% intervals)</h2>",
            parts[2],
            "<h2>Diagnostics</h2>",
            dict_table(model.diagnostics_),
        ]
    )
    return write_page(path, "trueroi geo MMM report", body)


def _decomposition(model: GeoMMM) -> Any:
    import plotly.graph_objects as go

    dec = model.decomposition()
    fig = go.Figure()
    for col in ["baseline", "controls", *model.data_.channels]:
        fig.add_trace(go.Scatter(x=dec["date"], y=dec[col], name=col, stackgroup="one", mode="none"))
    fig.add_trace(
        go.Scatter(x=dec["date"], y=dec["actual"], name="actual", mode="lines", line={"color": "black"})
    )
    return fig.update_layout(height=450, yaxis_title=model.columns_["target"])


def _roi_by_geo(model: GeoMMM, summary: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    channels = model.data_.channels
    key, label = _ratio(summary)
    for g in model.data_.geos:
        block = summary["geos"][g]["channels"]
        mean = np.array([block[c][key]["mean"] for c in channels], dtype=float)
        lo = np.array([block[c][key]["lower"] for c in channels], dtype=float)
        hi = np.array([block[c][key]["upper"] for c in channels], dtype=float)
        fig.add_trace(
            go.Scatter(
                x=channels,
                y=mean,
                name=g,
                mode="markers",
                error_y={"type": "data", "array": hi - mean, "arrayminus": mean - lo},
            )
        )
    national = [summary["channels"][c][key]["mean"] for c in channels]
    fig.add_trace(
        go.Scatter(x=channels, y=national, name="national", mode="lines+markers", line={"color": "black"})
    )
    return fig.update_layout(height=450, yaxis_title=label, scattermode="group")


def _ratio(summary: dict[str, Any]) -> tuple[str, str]:
    """The per-geo figure to chart: ROI on margin when the summary has it, else ROAS or KPI per spend."""
    return {
        "margin": ("roi", "ROI on margin"),
        "unknown": ("roas", "ROAS (incremental revenue / spend; no margin rate known)"),
        "none": ("per_spend", "incremental KPI per unit of spend"),
    }[summary["roi_basis"]]


def _curves(model: GeoMMM) -> Any:
    import plotly.colors
    import plotly.graph_objects as go

    curves = model.contribution_curves()
    palette = plotly.colors.qualitative.Plotly
    fig = go.Figure()
    for i, (c, band) in enumerate(curves.items()):
        add_band(fig, band["spend"], band, c, palette[i % len(palette)])
    return fig.update_layout(
        height=450, xaxis_title="spend over the fitted window", yaxis_title="contribution"
    )
