"""Scenarios: compare named weekly plans side by side; draw the response curves with each plan's points."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from trueroi.budget.curves import ResponseCurves
from trueroi.budget.evaluate import INTERVAL, Objective, draw_values, summarize
from trueroi.errors import DataValidationError, UsageError


def plan_vector(curves: ResponseCurves, plan: Mapping[str, float], name: str = "plan") -> np.ndarray:
    """A ``{channel: weekly spend}`` mapping as a (C,) vector in the model's channel order.

    Raises
    ------
    UsageError
        If the plan names an unknown channel, omits one, or holds a negative or non-numeric spend.
    """
    channels = list(curves.channels)
    unknown = sorted(set(plan) - set(channels))
    missing = [c for c in channels if c not in plan]
    if unknown or missing:
        raise UsageError(
            f"plan {name!r}: "
            + "; ".join(
                part
                for part in (
                    f"unknown channels {unknown}" if unknown else "",
                    f"missing channels {missing}" if missing else "",
                )
                if part
            )
            + f"; expected weekly spend for each of {channels}"
        )
    try:
        x = np.array([float(plan[c]) for c in channels])
    except (TypeError, ValueError) as exc:
        raise UsageError(f"plan {name!r}: spends must be numbers, got {plan}") from exc
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise UsageError(f"plan {name!r}: spends must be finite and non-negative, got {plan}")
    return x


def read_plan_file(path: str | Path) -> dict[str, float]:
    """Read a plan: ``{"channel": spend, ...}`` or the output of ``trueroi budget optimize --format json``
    (its ``allocation`` is used)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"plan file {path} not found") from exc
    except json.JSONDecodeError as exc:
        raise DataValidationError(f"is not valid JSON ({exc.msg})", file=str(path), row=exc.lineno) from exc
    if isinstance(data, dict) and isinstance(data.get("allocation"), dict):
        data = data["allocation"]
    if not isinstance(data, dict):
        raise DataValidationError(
            "is not a JSON object", file=str(path), expected='{"channel": weekly spend, ...}'
        )
    return data


def compare_plans(
    curves: ResponseCurves,
    plans: Mapping[str, np.ndarray],
    *,
    objective: str = "revenue",
    margin_rate: float | None = None,
    weeks: int = 1,
) -> list[dict[str, Any]]:
    """Value several weekly plans under the same posterior draws.

    Parameters
    ----------
    plans
        Name -> weekly spend (C,). The current allocation is added as ``current`` when absent.
    objective, margin_rate, weeks
        What ``expected`` measures and over how many weeks (see :class:`~trueroi.budget.evaluate.Objective`).

    Returns
    -------
    list of dict
        One row per plan: ``name``, ``allocation`` (channel -> weekly spend), ``spend`` (weekly total),
        ``expected`` (objective over the horizon: mean, lower, upper of the 90% interval), ``kpi`` (the
        incremental KPI over the horizon, same keys), ``roas`` (incremental KPI per currency unit of spend),
        ``roi`` (media ROI: (margin - spend) / spend, when a margin rate is known) and ``p_beats_current``
        (share of draws in which the plan's objective exceeds the current plan's).
    """
    obj = Objective.build(objective, curves.kpi, margin_rate)
    kpi_only = Objective("revenue", 1.0, 0.0)
    current = np.asarray(curves.current_spend, dtype=float)
    named = {"current": current, **dict(plans)}
    base = draw_values(curves, current, obj, weeks)
    rows = []
    for name, x in named.items():
        x = np.asarray(x, dtype=float)
        kpi_draws = draw_values(curves, x, kpi_only, weeks)
        spend = float(x.sum())
        roas = float(kpi_draws.mean()) / (spend * weeks) if spend > 0 else None
        roi = None
        if margin_rate is not None and curves.kpi == "revenue" and spend > 0:
            roi = (margin_rate * float(kpi_draws.mean()) - spend * weeks) / (spend * weeks)
        rows.append(
            {
                "name": name,
                "allocation": dict(zip(curves.channels, x.tolist(), strict=True)),
                "spend": spend,
                "expected": summarize(draw_values(curves, x, obj, weeks)).to_dict(),
                "kpi": summarize(kpi_draws).to_dict(),
                "roas": roas,
                "roi": roi,
                "p_beats_current": summarize(draw_values(curves, x, obj, weeks), base).p_beats_current,
            }
        )
    return rows


def response_chart(curves: ResponseCurves, plans: Mapping[str, np.ndarray], points: int = 60) -> Any:
    """A plotly figure: each channel's weekly response curve (posterior mean and 90% band) over spend, with a
    marker for each plan's spend on it."""
    from plotly.subplots import make_subplots

    channels = list(curves.channels)
    named = {"current": np.asarray(curves.current_spend, dtype=float), **dict(plans)}
    top = np.max(np.stack(list(named.values())), axis=0) * 1.5
    top = np.where(top > 0, top, 1.0)
    grid = np.linspace(0.0, 1.0, points)[:, None] * top
    draws = np.asarray(curves.weekly_response(grid))
    tail = (1 - INTERVAL) / 2
    mean, low, high = (
        draws.mean(axis=0),
        np.quantile(draws, tail, axis=0),
        np.quantile(draws, 1 - tail, axis=0),
    )
    cols = min(3, len(channels))
    rows = -(-len(channels) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=channels)
    for j in range(len(channels)):
        r, c = j // cols + 1, j % cols + 1
        x = grid[:, j].tolist()
        fig.add_scatter(
            x=x + x[::-1],
            y=high[:, j].tolist() + low[::-1, j].tolist(),
            fill="toself",
            line={"width": 0},
            opacity=0.2,
            showlegend=False,
            hoverinfo="skip",
            row=r,
            col=c,
        )
        fig.add_scatter(
            x=x,
            y=mean[:, j].tolist(),
            mode="lines",
            line={"color": "#1f4e79"},
            showlegend=False,
            row=r,
            col=c,
        )
        for k, (plan_name, spend) in enumerate(named.items()):
            at = np.asarray(curves.weekly_response(np.asarray(spend, dtype=float))).mean(axis=0)[j]
            fig.add_scatter(
                x=[float(spend[j])],
                y=[float(at)],
                mode="markers",
                name=plan_name,
                legendgroup=plan_name,
                showlegend=j == 0,
                marker={"size": 10, "symbol": k % 20},
                row=r,
                col=c,
            )
    fig.update_layout(
        title=f"Weekly response ({curves.kpi}) by spend, with each plan's point", height=320 * rows
    )
    return fig
