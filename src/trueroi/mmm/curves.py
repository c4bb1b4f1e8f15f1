"""Response curves of a fitted mix model, for the budget planner (``trueroi.budget.curves.ResponseCurves``).

Adstock weights are normalised, so flat spend settles at an adstocked level equal to the spend itself, and
the steady-state weekly response of channel ``c`` to flat weekly spend ``s`` is
``periods_per_week * kpi_scale * beta_c * sat_c(s / periods_per_week / spend_scale_c)``.
"""

from __future__ import annotations

import numpy as np

from trueroi.mmm.transformers import get_adstock, get_saturation


class MMMResponseCurves:
    """Per-draw response curves of a fitted model; satisfies ``trueroi.budget.curves.ResponseCurves``.

    Parameters
    ----------
    channels
        Spend column names, order of the last axis.
    current_spend
        Shape (C,): current weekly spend per channel, base currency.
    kpi
        ``"revenue"`` or ``"conversions"``.
    adstock, saturation
        Registry names of the components.
    params
        ``{"adstock_<p>": (D, C), "sat_<p>": (D, C), "beta": (D, C)}`` on the model's scales.
    spend_scale, target_scale
        The scales of the fit: spend per period per unit of scaled media, KPI per unit of scaled KPI.
    period_days
        7 for a weekly model, 1 for a daily one.
    l_max
        Adstock lags, in periods.
    """

    def __init__(
        self,
        channels: list[str],
        current_spend: np.ndarray,
        kpi: str,
        adstock: str,
        saturation: str,
        params: dict[str, np.ndarray],
        spend_scale: np.ndarray,
        target_scale: float,
        period_days: int,
        l_max: int,
    ) -> None:
        self.channels = list(channels)
        self.current_spend = np.asarray(current_spend, dtype=float)
        self.kpi = kpi
        self._adstock = get_adstock(adstock)
        self._saturation = get_saturation(saturation)
        self._params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        self._spend_scale = np.asarray(spend_scale, dtype=float)
        self._target_scale = float(target_scale)
        self._ppw = 7 // period_days
        self._l_max = l_max
        self.n_draws = int(self._params["beta"].shape[0])

    def _sat(self, media: np.ndarray, expand: int) -> np.ndarray:
        """Saturation of scaled media shaped (D, ..., C) or broadcastable; params reshaped to match."""
        sa = {
            p: self._params[f"sat_{p}"].reshape((self.n_draws,) + (1,) * expand + (-1,))
            for p in self._saturation.params
        }
        return self._saturation.fn(media, **sa)

    def weekly_response(self, weekly_spend: np.ndarray) -> np.ndarray:
        """Steady-state incremental KPI per week under flat weekly spend; (..., C) -> (D, ..., C)."""
        spend = np.asarray(weekly_spend, dtype=float)
        expand = spend.ndim - 1
        media = (spend / self._ppw / self._spend_scale)[None, ...]
        beta = self._params["beta"].reshape((self.n_draws,) + (1,) * expand + (-1,))
        return self._ppw * self._target_scale * beta * self._sat(media, expand)

    def plan_response(self, plan: np.ndarray) -> np.ndarray:
        """Incremental KPI per plan week with carry-over inside the plan; (W, C) -> (D, W, C)."""
        plan = np.asarray(plan, dtype=float)
        n_weeks = plan.shape[0]
        per_period = np.repeat(plan / self._ppw, self._ppw, axis=0) / self._spend_scale  # (W * ppw, C)
        x = np.broadcast_to(per_period[:, None, :], (per_period.shape[0], self.n_draws, per_period.shape[1]))
        ad = {p: self._params[f"adstock_{p}"] for p in self._adstock.params}
        sa = {p: self._params[f"sat_{p}"] for p in self._saturation.params}
        effect = self._saturation.fn(self._adstock.fn(x, **ad, l_max=self._l_max), **sa)  # (P, D, C)
        resp = effect * self._params["beta"][None] * self._target_scale
        resp = resp.reshape(n_weeks, self._ppw, self.n_draws, -1).sum(axis=1)  # (W, D, C)
        return np.transpose(resp, (1, 0, 2))

    def curve(self, channel: str, spend_grid: np.ndarray) -> dict[str, np.ndarray]:
        """Mean and 90% interval of the weekly response of one channel over a grid of weekly spend."""
        from trueroi.mmm.results import interval

        i = self.channels.index(channel)
        grid = np.zeros((len(spend_grid), len(self.channels)))
        grid[:, i] = spend_grid
        return interval(self.weekly_response(grid)[:, :, i])
