"""What a plan is worth: objectives, per-draw outcomes, marginal returns and their uncertainty.

Everything here is a pure function of a :class:`~trueroi.budget.curves.ResponseCurves` object and a weekly
spend vector (base currency per week, one entry per channel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trueroi.budget.curves import ResponseCurves
from trueroi.errors import UsageError

OBJECTIVES = ("revenue", "margin", "profit")
INTERVAL = 0.90


@dataclass(frozen=True)
class Objective:
    """A linear value of the response, per draw: ``a * sum_c r_c(x_c) - b * sum_c x_c``.

    ``a`` is ``value_per_kpi`` and ``b`` is ``cost_per_spend``.

    ``revenue`` maximises the model's KPI itself (revenue, or conversions for a conversions model);
    ``margin`` maximises contribution margin (``margin_rate`` x revenue); ``profit`` maximises margin minus
    media spend, which may leave budget unspent where a channel does not pay back.
    """

    name: str
    value_per_kpi: float
    cost_per_spend: float

    @classmethod
    def build(cls, name: str, kpi: str, margin_rate: float | None = None) -> Objective:
        """The objective ``name`` for a model of ``kpi``.

        Raises
        ------
        UsageError
            On an unknown name, or margin / profit without a margin rate in (0, 1] or on a conversions model.
        """
        if name not in OBJECTIVES:
            raise UsageError(f"objective {name!r} is unknown; expected one of {', '.join(OBJECTIVES)}")
        if name == "revenue":
            return cls(name, 1.0, 0.0)
        if kpi != "revenue":
            raise UsageError(f"objective {name!r} needs a revenue model; this model's KPI is {kpi!r}")
        if margin_rate is None:
            raise UsageError(
                f"objective {name!r} needs a margin rate (contribution margin per unit of revenue, e.g. "
                "0.35): give one or set default_margin in the workspace's trueroi.toml"
            )
        if not 0 < margin_rate <= 1:
            raise UsageError(f"margin rate must lie in (0, 1], got {margin_rate}")
        return cls(name, float(margin_rate), 1.0 if name == "profit" else 0.0)


def parse_risk(risk: str) -> float | None:
    """``"mean"`` -> None (expected value); ``"q10"`` -> 0.10 (maximise the 10% quantile over draws)."""
    if risk == "mean":
        return None
    if risk.startswith("q"):
        try:
            level = float(risk[1:]) / 100.0
        except ValueError:
            level = -1.0
        if 0 < level < 0.5:
            return level
    raise UsageError(f"risk {risk!r} is unknown; expected 'mean' or a lower quantile like 'q10' or 'q25'")


def marginal_matrix(curves: ResponseCurves, spend: np.ndarray) -> np.ndarray:
    """d(weekly response)/d(spend), shape (D, ..., C), for weekly spend of shape (..., C).

    Uses ``curves.marginal_response`` when the object offers one, else central finite differences with a
    step of 1e-6 relative to the spend (one-sided near zero).
    """
    spend = np.asarray(spend, dtype=float)
    if hasattr(curves, "marginal_response"):
        return np.asarray(curves.marginal_response(spend))
    scale = np.maximum(np.abs(spend), np.maximum(np.asarray(curves.current_spend, dtype=float), 1.0) * 1e-3)
    step = 1e-6 * scale
    down = np.where(spend >= step, spend - step, spend)
    up = spend + step
    both = np.asarray(curves.weekly_response(np.stack([up, down])))
    return (both[:, 0] - both[:, 1]) / (up - down)


def draw_values(
    curves: ResponseCurves, spend: np.ndarray, objective: Objective, weeks: int = 1
) -> np.ndarray:
    """Objective value of flat weekly spend over ``weeks`` weeks, per draw: shape (D,) for spend (C,)."""
    spend = np.asarray(spend, dtype=float)
    kpi = np.asarray(curves.weekly_response(spend)).sum(axis=-1)
    return weeks * (objective.value_per_kpi * kpi - objective.cost_per_spend * spend.sum(axis=-1))


@dataclass(frozen=True)
class Outcome:
    """A plan's objective over the horizon: mean, 90% interval over draws, P(it beats the current plan)."""

    mean: float
    lower: float
    upper: float
    p_beats_current: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {"mean": self.mean, "lower": self.lower, "upper": self.upper}


def summarize(draws: np.ndarray, baseline: np.ndarray | None = None) -> Outcome:
    """Mean, equal-tailed 90% interval and, given per-draw ``baseline`` values, P(draw > baseline draw).

    The comparison is paired by draw: both plans are valued under the same posterior draw of the curves.
    """
    tail = (1 - INTERVAL) / 2
    lower, upper = np.quantile(draws, [tail, 1 - tail])
    p_beats = None if baseline is None else float(np.mean(draws > baseline))
    return Outcome(float(np.mean(draws)), float(lower), float(upper), p_beats)


def mroi(curves: ResponseCurves, spend: np.ndarray, objective: Objective) -> np.ndarray:
    """Marginal return per extra unit of weekly spend, posterior mean, shape (C,).

    Revenue (or conversions) per currency unit for ``revenue``; contribution margin per currency unit for
    ``margin`` and ``profit`` (break-even at 1).
    """
    return objective.value_per_kpi * marginal_matrix(curves, spend).mean(axis=0)
