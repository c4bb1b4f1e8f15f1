"""Parametric response curves: saturation x geometric adstock, vectorised over posterior draws.

:class:`ParametricCurves` satisfies :class:`~trueroi.budget.curves.ResponseCurves` without a fitted mix
model. It serves three purposes: known-truth curves for tests and simulations, a way to plan from curves
estimated elsewhere (a ``curves.json`` file, see :func:`load_curves_json`), and the reference the mix model's
own curves are checked against.

A channel's weekly incremental KPI is ``beta * saturation(adstock(spend))`` with the saturations of
:data:`SATURATIONS` and the normalised geometric adstock ``a_t = alpha * a_{t-1} + (1 - alpha) * x_t``
(Jin et al. 2017, "Bayesian methods for media mix modeling with carryover and shape effects", eq. 1 with
weights normalised to sum to one). Normalisation makes the steady state of a flat spend ``x`` equal to ``x``
itself, so :meth:`ParametricCurves.weekly_response` does not depend on ``alpha``; carry-over matters in
:meth:`ParametricCurves.plan_response`, where spend before the plan contributes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trueroi.errors import DataValidationError, UsageError

KPIS = ("revenue", "conversions")


def hill(x: np.ndarray, k: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Hill saturation ``x^s / (x^s + k^s)`` in [0, 1); ``k`` is the half-saturation spend, ``s`` the shape.

    Jin et al. (2017), eq. 4. ``s <= 1`` gives a concave curve, ``s > 1`` an S-shaped one.
    """
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        out = 1.0 / (1.0 + (k / x) ** s)
    return np.where(x > 0, out, 0.0)


def hill_derivative(x: np.ndarray, k: np.ndarray, s: np.ndarray) -> np.ndarray:
    """d/dx of :func:`hill`: ``s * h * (1 - h) / x``; its limit at x = 0 is inf, 1/k or 0 for s <, =, > 1."""
    h = hill(x, k, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = s * h * (1.0 - h) / x
    at_zero = np.where(s < 1, np.inf, np.where(s == 1, 1.0 / k, 0.0))
    return np.where(x > 0, out, at_zero)


def log_saturation(x: np.ndarray, k: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Logarithmic response ``log(1 + x / k)`` (unbounded, concave); ``s`` is unused."""
    return np.log1p(x / k)


def log_derivative(x: np.ndarray, k: np.ndarray, s: np.ndarray) -> np.ndarray:
    """d/dx of :func:`log_saturation`: ``1 / (k + x)``."""
    return 1.0 / (k + x)


def exponential(x: np.ndarray, k: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Negative-exponential saturation ``1 - exp(-x / k)`` in [0, 1); ``s`` is unused."""
    return -np.expm1(-x / k)


def exponential_derivative(x: np.ndarray, k: np.ndarray, s: np.ndarray) -> np.ndarray:
    """d/dx of :func:`exponential`: ``exp(-x / k) / k``."""
    return np.exp(-x / k) / k


@dataclass(frozen=True)
class Saturation:
    """A saturation curve and its derivative, both ``f(x, k, s)`` with ``x`` in base currency per week."""

    name: str
    value: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


SATURATIONS: dict[str, Saturation] = {
    "hill": Saturation("hill", hill, hill_derivative),
    "log": Saturation("log", log_saturation, log_derivative),
    "exponential": Saturation("exponential", exponential, exponential_derivative),
}


def geometric_adstock(plan: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Normalised geometric adstock of a week-by-week plan, starting from zero carry-over.

    Parameters
    ----------
    plan
        Shape (W, C): spend per week and channel.
    alpha
        Shape (D, C): weekly retention rate in [0, 1) per draw and channel.

    Returns
    -------
    numpy.ndarray
        Shape (D, W, C): ``a_t = alpha * a_{t-1} + (1 - alpha) * x_t`` with ``a_0 = 0``.
    """
    out = np.empty((alpha.shape[0],) + plan.shape)
    level = np.zeros(alpha.shape)
    for week in range(plan.shape[0]):
        level = alpha * level + (1.0 - alpha) * plan[week]
        out[:, week] = level
    return out


class ParametricCurves:
    """Response curves ``beta * saturation(adstock(spend), k, s)`` per channel and draw.

    Parameters
    ----------
    channels
        Channel (spend column) names, C of them.
    current_spend
        Shape (C,): current weekly spend per channel, base currency.
    curve
        Saturation name from :data:`SATURATIONS`, one for all channels or one per channel.
    beta
        Scale: the KPI per week at full saturation (hill, exponential) or per unit of ``log1p`` (log).
    k
        Half-saturation spend (hill) or spend scale (log, exponential), base currency per week.
    s
        Hill shape (ignored by the other curves).
    alpha
        Geometric adstock retention per week, in [0, 1).
    kpi
        ``"revenue"`` or ``"conversions"``.

    Each of ``beta, k, s, alpha`` is a scalar, shape (C,), or shape (D, C) for D posterior draws.
    """

    def __init__(
        self,
        channels: list[str],
        current_spend: Any,
        curve: str | list[str] = "hill",
        beta: Any = 1.0,
        k: Any = 1.0,
        s: Any = 1.0,
        alpha: Any = 0.0,
        kpi: str = "revenue",
    ) -> None:
        self.channels = list(channels)
        n = len(self.channels)
        if n == 0 or len(set(self.channels)) != n:
            raise UsageError(f"channels must be non-empty and unique, got {self.channels}")
        self.current_spend = np.asarray(current_spend, dtype=float).reshape(-1)
        if self.current_spend.shape != (n,) or np.any(self.current_spend < 0):
            raise UsageError(f"current_spend must hold {n} non-negative numbers, got {current_spend!r}")
        curves = [curve] * n if isinstance(curve, str) else list(curve)
        unknown = sorted({c for c in curves if c not in SATURATIONS})
        if len(curves) != n or unknown:
            raise UsageError(f"curve must be one of {sorted(SATURATIONS)} (one or {n}), got {curve!r}")
        if kpi not in KPIS:
            raise UsageError(f"kpi must be one of {KPIS}, got {kpi!r}")
        self.curve = curves
        self.kpi = kpi
        params = {
            name: np.asarray(v, dtype=float) for name, v in dict(beta=beta, k=k, s=s, alpha=alpha).items()
        }
        n_draws = max((p.shape[0] for p in params.values() if p.ndim == 2), default=1)
        for name, value in params.items():
            try:
                params[name] = np.broadcast_to(value, (n_draws, n)).copy()
            except ValueError as exc:
                raise UsageError(
                    f"{name} must be a scalar, ({n},) or ({n_draws}, {n}); got {value.shape}"
                ) from exc
        if np.any(params["k"] <= 0) or np.any(params["s"] <= 0) or np.any(params["beta"] < 0):
            raise UsageError("k and s must be positive and beta non-negative")
        if np.any(params["alpha"] < 0) or np.any(params["alpha"] >= 1):
            raise UsageError("alpha (adstock retention) must lie in [0, 1)")
        self.beta, self.k, self.s, self.alpha = params["beta"], params["k"], params["s"], params["alpha"]
        self.n_draws = n_draws
        self._groups = {name: np.flatnonzero(np.array(curves) == name) for name in SATURATIONS}

    # -- the ResponseCurves protocol ------------------------------------------------------------------
    def weekly_response(self, weekly_spend: np.ndarray) -> np.ndarray:
        """Steady-state incremental KPI per week, shape (D, ..., C), for flat spend of shape (..., C)."""
        return self._apply(np.asarray(weekly_spend, dtype=float), "value")

    def marginal_response(self, weekly_spend: np.ndarray) -> np.ndarray:
        """d(weekly_response)/d(spend) per channel, shape (D, ..., C): KPI per extra unit of weekly spend.

        Not part of the protocol; the optimizer uses it when present instead of finite differences.
        """
        return self._apply(np.asarray(weekly_spend, dtype=float), "derivative")

    def plan_response(self, plan: np.ndarray) -> np.ndarray:
        """Incremental KPI per week of a (W, C) plan, shape (D, W, C), carry-over within the plan only."""
        plan = np.asarray(plan, dtype=float)
        if plan.ndim != 2 or plan.shape[1] != len(self.channels):
            raise UsageError(f"plan must have shape (weeks, {len(self.channels)}), got {plan.shape}")
        level = geometric_adstock(plan, self.alpha)
        out = np.empty_like(level)
        for name, idx in self._groups.items():
            if idx.size:
                sat = SATURATIONS[name]
                k, s = self.k[:, None, idx], self.s[:, None, idx]
                out[..., idx] = self.beta[:, None, idx] * sat.value(level[..., idx], k, s)
        return out

    # -- helpers --------------------------------------------------------------------------------------
    def _apply(self, spend: np.ndarray, kind: str) -> np.ndarray:
        n = len(self.channels)
        if spend.shape[-1:] != (n,):
            raise UsageError(f"spend must end in an axis of {n} channels, got shape {spend.shape}")
        shape = (self.n_draws,) + (1,) * (spend.ndim - 1) + (n,)
        x = spend[None]
        beta, k, s = (p.reshape(shape) for p in (self.beta, self.k, self.s))
        if len(set(self.curve)) == 1:  # one saturation for every channel: no per-group copies
            return beta * getattr(SATURATIONS[self.curve[0]], kind)(x, k, s)
        x = np.broadcast_to(x, (self.n_draws,) + spend.shape)
        out = np.empty(x.shape)
        for name, idx in self._groups.items():
            if idx.size:
                func = getattr(SATURATIONS[name], kind)
                out[..., idx] = beta[..., idx] * func(x[..., idx], k[..., idx], s[..., idx])
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``curves.json`` form of these curves (see :func:`load_curves_json`)."""

        def col(p: np.ndarray, j: int) -> Any:
            values = p[:, j]
            return float(values[0]) if np.all(values == values[0]) else values.tolist()

        return {
            "kpi": self.kpi,
            "channels": [
                {
                    "name": name,
                    "current_spend": float(self.current_spend[j]),
                    "curve": self.curve[j],
                    "beta": col(self.beta, j),
                    "k": col(self.k, j),
                    "s": col(self.s, j),
                    "alpha": col(self.alpha, j),
                }
                for j, name in enumerate(self.channels)
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "curves.json") -> ParametricCurves:
        """Build curves from the ``curves.json`` form; see :func:`load_curves_json`."""
        rows = data.get("channels") if isinstance(data, dict) else None
        if not isinstance(rows, list) or not rows:
            raise DataValidationError(
                "has no non-empty 'channels' list",
                file=source,
                expected='{"kpi": "revenue", "channels": [{"name": ..., ...}]}',
            )
        draws = {len(v) for row in rows for v in row.values() if isinstance(v, list)}
        if len(draws) > 1:
            raise DataValidationError(
                f"parameter lists have different lengths {sorted(draws)}",
                file=source,
                expected="one length D (the number of draws) for every list",
            )
        n_draws = draws.pop() if draws else 1

        def param(name: str, default: float | None) -> np.ndarray:
            cols = []
            for i, row in enumerate(rows, start=1):
                value = row.get(name, default)
                if value is None:
                    raise DataValidationError(f"channel {i} lacks '{name}'", file=source, column=name)
                try:
                    cols.append(np.broadcast_to(np.asarray(value, dtype=float), (n_draws,)))
                except (TypeError, ValueError) as exc:
                    raise DataValidationError(
                        "is not a number or list of numbers", file=source, row=i, column=name, value=value
                    ) from exc
            return np.stack(cols, axis=1)

        try:
            return cls(
                channels=[str(row.get("name", "")) for row in rows],
                current_spend=param("current_spend", None)[0],
                curve=[row.get("curve", "hill") for row in rows],
                beta=param("beta", None),
                k=param("k", None),
                s=param("s", 1.0),
                alpha=param("alpha", 0.0),
                kpi=data.get("kpi", "revenue"),
            )
        except UsageError as exc:
            raise DataValidationError(str(exc), file=source) from exc


def load_curves_json(path: str | Path) -> ParametricCurves:
    """Read a ``curves.json`` file describing :class:`ParametricCurves`.

    The file holds ``{"kpi": "revenue" | "conversions", "channels": [{"name": "search",
    "current_spend": 1200.0, "curve": "hill" | "log" | "exponential", "beta": ..., "k": ..., "s": ...,
    "alpha": ...}, ...]}``. ``beta`` (KPI per week at saturation), ``k`` (spend scale, currency per week),
    ``s`` (Hill shape, default 1) and ``alpha`` (adstock retention, default 0) are numbers, or lists of one
    value per posterior draw (the same length D everywhere).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"{path} not found") from exc
    except json.JSONDecodeError as exc:
        raise DataValidationError(f"is not valid JSON ({exc.msg})", file=str(path), row=exc.lineno) from exc
    return ParametricCurves.from_dict(data, source=str(path))
