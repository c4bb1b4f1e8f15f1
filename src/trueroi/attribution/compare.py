"""Run several attribution models on the same journeys and lay their credits side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trueroi.attribution.base import AttributionModel
from trueroi.attribution.journeys import Journeys
from trueroi.attribution.registry import get_model, model_names


@dataclass
class AttributionResult:
    """Credits of one or more models on one set of journeys.

    Attributes
    ----------
    credits
        Long table ``model, channel, conversions, value`` (every model lists every channel).
    total_conversions, total_value
        Totals of the journeys; each model's credits sum to them.
    models
        The fitted models by name (for removal effects, transition matrices, position credits...).
    """

    credits: pd.DataFrame
    total_conversions: float
    total_value: float
    models: dict[str, AttributionModel] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: ``{"results": {model: {channel: {"conversions", "value"}}}, totals}``."""
        results: dict[str, dict[str, dict[str, float]]] = {}
        for row in self.credits.itertuples(index=False):
            results.setdefault(row.model, {})[row.channel] = {
                "conversions": float(row.conversions),
                "value": float(row.value),
            }
        return {
            "results": results,
            "total_conversions": float(self.total_conversions),
            "total_value": float(self.total_value),
        }

    def wide(self, what: str = "conversions") -> pd.DataFrame:
        """Channels as rows, models as columns (in the order they were run) for ``conversions`` or
        ``value``."""
        order = list(dict.fromkeys(self.credits["model"]))
        table = self.credits.pivot(index="channel", columns="model", values=what)
        return table[order]


def resolve_models(models: str | Sequence[str]) -> list[str]:
    """``"all"`` or a comma-separated string or a list of names, validated against the registry."""
    names = model_names()
    if isinstance(models, str):
        models = names if models.strip().lower() == "all" else [m for m in models.split(",") if m.strip()]
    resolved = []
    for m in models:
        get_model(m)  # raises UsageError for an unknown name
        resolved.append(m.strip().lower())
    return resolved


def attribute(
    journeys: Journeys,
    models: str | Sequence[str] = "all",
    settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> AttributionResult:
    """Fit the named models (default: all registered) on ``journeys``.

    Parameters
    ----------
    journeys
        The journeys to credit.
    models
        ``"all"``, one name, a comma-separated string or a list of registry names.
    settings
        Optional settings per model name, e.g. ``{"markov": {"order": 2}, "time_decay":
        {"half_life_days": 3}}``.
    """
    frames, fitted = [], {}
    for name in resolve_models(models):
        model = get_model(name, **dict((settings or {}).get(name, {}))).fit(journeys)
        fitted[name] = model
        frames.append(model.credits_.assign(model=name))
    credits = pd.concat(frames, ignore_index=True)[["model", "channel", "conversions", "value"]]
    return AttributionResult(credits, journeys.total_conversions, journeys.total_value, fitted)
