"""Response curves of a fitted mix model, for the budget planner (``trueroi.budget.curves.ResponseCurves``).

Adstock weights are normalised, so flat spend settles at an adstocked level equal to the spend itself, and
the steady-state weekly response of channel ``c`` to flat weekly spend ``s`` is
``periods_per_week * kpi_scale * beta_c * sat_c(s / periods_per_week / spend_scale_c)``.

A geo model answers for national spend: the planner's weekly spend ``S_c`` on a channel is split over the
geos by their current shares ``w_gc`` (the geo split of the channel's spend in the reference weeks), and the
national response is the sum of the geo curves,

    r_c(S_c) = sum_g periods_per_week * kpi_scale_g * beta_gc
               * sat_c(w_gc S_c / periods_per_week / spend_scale_gc),

still one curve per channel (separable), so the planner's solver applies unchanged. A national model is the
case of one geo with share 1.
"""

from __future__ import annotations

import numpy as np

from trueroi.mmm.results import interval
from trueroi.mmm.transformers import get_adstock, get_saturation


class MMMResponseCurves:
    """Per-draw response curves of a fitted model; satisfies ``trueroi.budget.curves.ResponseCurves``.

    Parameters
    ----------
    channels
        Spend column names, order of the last axis.
    current_spend
        Shape (C,): current weekly spend per channel, base currency (national: summed over geos).
    kpi
        ``"revenue"`` or ``"conversions"``.
    adstock, saturation
        Registry names of the components.
    params
        ``{"adstock_<p>": (D, C), "sat_<p>": (D, C), "beta": (D, C) or, per geo, (D, G, C)}`` on the model's
        scales.
    spend_scale, target_scale
        The scales of the fit: spend per period per unit of scaled media, shape (C,) or per geo (G, C); KPI
        per unit of scaled KPI, a number or per geo (G,).
    period_days
        7 for a weekly model, 1 for a daily one.
    l_max
        Adstock lags, in periods.
    geo_share
        Shape (G, C): the share of each channel's national spend that each geo receives (columns sum to
        1); None for a national model.
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
        target_scale: float | np.ndarray,
        period_days: int,
        l_max: int,
        geo_share: np.ndarray | None = None,
    ) -> None:
        self.channels = list(channels)
        self.current_spend = np.asarray(current_spend, dtype=float)
        self.kpi = kpi
        self._adstock = get_adstock(adstock)
        self._saturation = get_saturation(saturation)
        self._params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        self._ppw = 7 // period_days
        self._l_max = l_max
        self.n_draws = int(self._params["beta"].shape[0])
        n_ch = len(self.channels)
        if geo_share is None:  # national: one geo that receives all spend
            self._beta = self._params["beta"][:, None, :]
            self._spend_scale = np.asarray(spend_scale, dtype=float).reshape(1, n_ch)
            self._target_scale = np.asarray(target_scale, dtype=float).reshape(1)
            self.geo_share = np.ones((1, n_ch))
        else:
            self._beta = self._params["beta"]
            self._spend_scale = np.asarray(spend_scale, dtype=float)
            self._target_scale = np.asarray(target_scale, dtype=float)
            self.geo_share = np.asarray(geo_share, dtype=float)

    @property
    def n_geos(self) -> int:
        """Number of geos the national spend is split over (1 for a national model)."""
        return int(self.geo_share.shape[0])

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
        total: np.ndarray | None = None
        for g in range(self.n_geos):  # one geo at a time: memory stays (D, ..., C)
            media = (spend * self.geo_share[g] / self._ppw / self._spend_scale[g])[None, ...]
            beta = self._beta[:, g].reshape((self.n_draws,) + (1,) * expand + (-1,))
            part = self._ppw * self._target_scale[g] * beta * self._sat(media, expand)
            total = part if total is None else total + part
        return total

    def plan_response(self, plan: np.ndarray) -> np.ndarray:
        """Incremental KPI per plan week with carry-over inside the plan; (W, C) -> (D, W, C)."""
        plan = np.asarray(plan, dtype=float)
        n_weeks = plan.shape[0]
        ad = {p: self._params[f"adstock_{p}"] for p in self._adstock.params}
        sa = {p: self._params[f"sat_{p}"] for p in self._saturation.params}
        total: np.ndarray | None = None
        for g in range(self.n_geos):
            geo_plan = plan * self.geo_share[g] / self._ppw
            per_period = np.repeat(geo_plan, self._ppw, axis=0) / self._spend_scale[g]  # (W * ppw, C)
            x = np.broadcast_to(
                per_period[:, None, :], (per_period.shape[0], self.n_draws, per_period.shape[1])
            )
            effect = self._saturation.fn(self._adstock.fn(x, **ad, l_max=self._l_max), **sa)  # (P, D, C)
            part = effect * self._beta[:, g][None] * self._target_scale[g]
            total = part if total is None else total + part
        resp = total.reshape(n_weeks, self._ppw, self.n_draws, -1).sum(axis=1)  # (W, D, C)
        return np.transpose(resp, (1, 0, 2))

    def curve(self, channel: str, spend_grid: np.ndarray) -> dict[str, np.ndarray]:
        """Mean and 90% interval of the weekly response of one channel over a grid of weekly spend."""
        i = self.channels.index(channel)
        grid = np.zeros((len(spend_grid), len(self.channels)))
        grid[:, i] = spend_grid
        return interval(self.weekly_response(grid)[:, :, i])
