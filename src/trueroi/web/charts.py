"""Plotly figures (plain dicts: ``{"data": [...], "layout": {...}}``) of library results, drawn in the page
by ``static/charts.js`` with the plotly.js bundled in the plotly package. Only shapes are made here; every
number comes from the result given."""

from __future__ import annotations

from typing import Any

from trueroi.io import jsonable

PALETTE = ("#1f4e79", "#e07b39", "#3a9d5d", "#b3261e", "#7b5ea7", "#2a9fb0", "#c9a227", "#6b7280")
BASE_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
    "height": 380,
    "legend": {"orientation": "h", "y": -0.2},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
}


def figure(data: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    """The figure as plain JSON (missing numbers, NaN included, as null: JSON has no NaN)."""
    return jsonable({"data": data, "layout": {**BASE_LAYOUT, **layout}})


def grouped_bars(
    categories: list[str], series: dict[str, list[float | None]], title: str, **layout: Any
) -> dict[str, Any]:
    """One bar per category and series, side by side."""
    bars = [
        {"type": "bar", "name": name, "x": categories, "y": values, "marker": {"color": PALETTE[i % 8]}}
        for i, (name, values) in enumerate(series.items())
    ]
    return figure(bars, barmode="group", yaxis={"title": {"text": title}}, **layout)


def interval_bars(channels: dict[str, Any], keys: tuple[tuple[str, str], ...], title: str) -> dict[str, Any]:
    """Bars of ``{mean, lower, upper}`` per channel for each ``(key, label)``, the interval as error bars."""
    names = list(channels)
    data = []
    for i, (key, label) in enumerate(keys):
        stats = [channels[c].get(key) or {} for c in names]
        mean = [s.get("mean") for s in stats]
        data.append(
            {
                "type": "bar",
                "name": label,
                "x": names,
                "y": mean,
                "marker": {"color": PALETTE[i % 8]},
                "error_y": {
                    "type": "data",
                    "array": [_gap(s.get("upper"), s.get("mean")) for s in stats],
                    "arrayminus": [_gap(s.get("mean"), s.get("lower")) for s in stats],
                },
            }
        )
    return figure(data, barmode="group", yaxis={"title": {"text": title}})


def _gap(high: float | None, low: float | None) -> float | None:
    return None if high is None or low is None else high - low


def decomposition(dec: dict[str, Any], kpi: str) -> dict[str, Any]:
    """Stacked areas of baseline and each channel's contribution per period, with the actual KPI."""
    data = [
        {
            "type": "scatter",
            "mode": "none",
            "stackgroup": "one",
            "name": name,
            "x": dec["date"],
            "y": values,
            "fillcolor": PALETTE[i % 8] if i else "#c7ccd6",
        }
        for i, (name, values) in enumerate(dec["series"].items())
    ]
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "actual",
            "x": dec["date"],
            "y": dec["actual"],
            "line": {"color": "#1d2330"},
        }
    )
    return figure(data, height=420, yaxis={"title": {"text": kpi}})


def response_curves(curves: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each channel's response curve with its 90% band, today's point (circle) and the optimal point of
    the optimizer's plan at today's total (diamond)."""
    data: list[dict[str, Any]] = []
    for i, (channel, c) in enumerate(curves.items()):
        color = PALETTE[i % 8]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": channel,
                "legendgroup": channel,
                "x": c["spend"],
                "y": c["mean"],
                "line": {"color": color},
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": c["spend"] + c["spend"][::-1],
                "y": c["upper"] + c["lower"][::-1],
                "fill": "toself",
                "line": {"width": 0},
                "fillcolor": color,
                "opacity": 0.15,
                "showlegend": False,
                "legendgroup": channel,
                "hoverinfo": "skip",
            }
        )
        for key, symbol in (("current", "circle"), ("optimal", "diamond")):
            if c.get(key):
                data.append(
                    {
                        "type": "scatter",
                        "mode": "markers",
                        "x": [c[key][0]],
                        "y": [c[key][1]],
                        "name": f"{channel} {key}",
                        "legendgroup": channel,
                        "showlegend": False,
                        "marker": {
                            "color": color,
                            "size": 10,
                            "symbol": symbol,
                            "line": {"color": "#fff", "width": 1},
                        },
                    }
                )
    return figure(
        data,
        height=460,
        xaxis={"title": {"text": "weekly spend (circle: now, diamond: optimal)"}},
        yaxis={"title": {"text": "weekly incremental KPI"}},
    )


def fit_chart(dec: dict[str, Any], kpi: str) -> dict[str, Any]:
    """Actual against fitted KPI per period (the fit diagnostic)."""
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "actual",
            "x": dec["date"],
            "y": dec["actual"],
            "line": {"color": "#1d2330"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "fitted",
            "x": dec["date"],
            "y": dec["fitted"],
            "line": {"color": PALETTE[1], "dash": "dot"},
        },
    ]
    return figure(data, height=320, yaxis={"title": {"text": kpi}})
