"""What the mix-model page shows of a fitted model under a workspace's ``models/`` folder, from the
library: the model's summary (ROI and mROI with intervals, fit diagnostics; what ``trueroi mmm fit``
prints), its decomposition over time and response curves (what ``trueroi mmm report`` draws), and the
optimal point of each curve: the plan of :func:`trueroi.budget.planning.plan_budget` at today's total
(``trueroi budget optimize MODEL --total <current>``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trueroi.budget.planning import plan_budget
from trueroi.errors import NotFittedError, UsageError
from trueroi.io import jsonable
from trueroi.mmm import load_model
from trueroi.server.cache import RESULTS

MODELS_DIR = "models"
SUMMARY_FILE = "summary.json"  # written by every fit; its presence marks a fitted model directory
CURVE_POINTS = 40


def list_models(workspace_dir: str | os.PathLike[str]) -> list[str]:
    """Names of the fitted models under ``WORKSPACE/models/`` (folders holding a fit), sorted."""
    root = Path(workspace_dir) / MODELS_DIR
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / SUMMARY_FILE).is_file())


def model_dir(workspace_dir: str | os.PathLike[str], name: str) -> Path:
    """The folder of the fitted model ``name`` under ``WORKSPACE/models/`` (a plain name, no path)."""
    known = list_models(workspace_dir)
    if name not in known:
        found = ", ".join(known) or "none fitted yet"
        raise NotFittedError(f"no fitted mix model {name!r} in the workspace's models folder ({found})")
    return Path(workspace_dir) / MODELS_DIR / name


@dataclass(frozen=True)
class ModelView:
    """A fitted model as the page shows it.

    ``summary``: the fit's JSON (channels with spend, contribution, roi/roas/mroi/mroas ``{mean, lower,
    upper}``, diagnostics, kpi, roi basis); ``decomposition``: ``{date: [...], series: {name: [...]},
    actual: [...], fitted: [...]}`` per period in the KPI's unit; ``curves``: per channel ``{spend: grid,
    mean, lower, upper, current: [spend, response], optimal: [spend, response]}`` (weekly spend and
    weekly incremental KPI); ``plan``: the optimizer's plan at today's total (``trueroi budget optimize``
    JSON); ``warnings``: what the fit warned about."""

    name: str
    summary: dict[str, Any]
    decomposition: dict[str, Any]
    curves: dict[str, dict[str, Any]]
    plan: dict[str, Any] | None
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)


def model_view(workspace_dir: str | os.PathLike[str], name: str) -> ModelView:
    """The fitted model ``name`` of the workspace in ``workspace_dir`` (cached while neither changes)."""
    directory = model_dir(workspace_dir, name)
    stamp = (directory / SUMMARY_FILE).stat().st_mtime_ns
    return RESULTS.get(workspace_dir, "model", (name, stamp), lambda: _model_view(workspace_dir, directory))


def _model_view(workspace_dir: str | os.PathLike[str], directory: Path) -> ModelView:
    model = load_model(directory)
    if not hasattr(model, "decomposition"):
        raise UsageError(f"model {directory.name!r} is a geo model; the page shows national models")
    summary = jsonable(model.summary())
    curves = model.response_curves()
    current = {c: float(s) for c, s in zip(curves.channels, curves.current_spend, strict=True)}
    try:
        plan = plan_budget(directory, sum(current.values()), workspace=workspace_dir).to_dict()
    except UsageError:
        plan = None  # e.g. no spend in the reference weeks: the curves are shown without optimal points
    optimal = {row["channel"]: row["recommended"] for row in (plan or {}).get("explanation", [])}
    return ModelView(
        directory.name,
        summary,
        _decomposition(model),
        {c: _curve(curves, c, current[c], optimal.get(c)) for c in curves.channels},
        plan,
        list(getattr(model, "warnings_", []) or []),
    )


def _decomposition(model: Any) -> dict[str, Any]:
    dec = model.decomposition()
    date = model.data_.date_col
    parts = ["baseline", *model.data_.controls_cols, *model.data_.channels]
    return jsonable(
        {
            "date": [str(d)[:10] for d in dec[date]],
            "series": {p: dec[p].tolist() for p in parts},
            "actual": dec["actual"].tolist(),
            "fitted": dec["fitted"].tolist(),
        }
    )


def _curve(curves: Any, channel: str, current: float, optimal: float | None) -> dict[str, Any]:
    top = max(current * 3, (optimal or 0) * 1.5, 1.0)
    grid = np.linspace(0, top, CURVE_POINTS)
    band = curves.curve(channel, grid)

    def point(spend: float | None) -> list[float] | None:
        if spend is None:
            return None
        return [spend, float(curves.curve(channel, np.array([spend]))["mean"][0])]

    return jsonable(
        {
            "spend": grid.tolist(),
            "mean": band["mean"].tolist(),
            "lower": band["lower"].tolist(),
            "upper": band["upper"].tolist(),
            "current": point(current),
            "optimal": point(optimal),
        }
    )
