"""Response curves of total effect (direct + through brand search) for the halo model, for the planner.

The halo model's indirect effects run through one shared mediator, so they are not exactly separable by
channel. The curves here make them separable the way a planner needs, by holding every other source of brand
searches at its reference level: for halo channel ``h`` with weekly spend ``S``, per draw,

    r_h(S) = direct_h(S) + ppw * kpi_scale * g * [sat_m(m_h + b_h e_h(S)) - sat_m(m_h)],
    e_h(S) = sat_h(S / ppw / spend_scale_h),     m_h = m_ref - b_h e_h(S_now),

where ``direct_h`` is the direct term's curve (:class:`~trueroi.mmm.curves.MMMResponseCurves`), ``m_ref``
the mean scaled mediator over the reference weeks and ``S_now`` the current spend: the brand searches that
remain without ``h`` stay as they are, and ``h`` adds its own on top (steady state: adstock weights are
normalised, so flat spend and a flat mediator settle at themselves). The interaction between two halo
channels through the mediator's saturation is left out (second order; the planner moves one channel's
spend against the others'). Channels outside the halo keep their direct curve.

A geo model answers for national spend as :mod:`trueroi.mmm.curves` does: the national spend is split over
the geos by their current shares, each geo's curve is computed on its own scales and mediator level, and the
geo curves are summed.
"""

from __future__ import annotations

import numpy as np

from trueroi.mmm.curves import MMMResponseCurves
from trueroi.mmm.results import interval
from trueroi.mmm.transformers import get_adstock, get_saturation


class HaloResponseCurves:
    """Per-draw total-effect response curves; satisfies ``trueroi.budget.curves.ResponseCurves``.

    Parameters
    ----------
    direct
        The direct terms' curves (every channel; a geo model's carry its ``geo_share``).
    halo
        Indices of the halo channels in ``direct.channels``.
    params
        ``{"halo_coef": (D, H), "m_coef": (D,), "m_adstock_<p>": (D,), "m_sat_<p>": (D,)}`` and the
        channels' ``"adstock_<p>"``, ``"sat_<p>"`` (D, C), on the model's scales.
    mediator_ref
        The mediator's reference level per period on its scale (mean over the reference weeks): a number,
        or per geo (G,).
    adstock, saturation, spend_scale, target_scale, period_days, l_max
        As for :class:`~trueroi.mmm.curves.MMMResponseCurves` (national (C,) and a number, or per geo
        (G, C) and (G,)).
    """

    def __init__(
        self,
        direct: MMMResponseCurves,
        halo: tuple[int, ...],
        params: dict[str, np.ndarray],
        mediator_ref: float | np.ndarray,
        adstock: str,
        saturation: str,
        spend_scale: np.ndarray,
        target_scale: float | np.ndarray,
        period_days: int,
        l_max: int,
    ) -> None:
        self._direct = direct
        self.channels = direct.channels
        self.current_spend = direct.current_spend
        self.kpi = direct.kpi
        self.n_draws = direct.n_draws
        self._halo = tuple(halo)
        self._p = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        self._share = np.asarray(direct.geo_share, dtype=float)  # (G, C)
        n_geo = self._share.shape[0]
        self._m_ref = np.asarray(mediator_ref, dtype=float).reshape(n_geo)
        self._adstock, self._saturation = get_adstock(adstock), get_saturation(saturation)
        self._scale = np.asarray(spend_scale, dtype=float).reshape(n_geo, len(self.channels))
        self._kpi_scale = np.asarray(target_scale, dtype=float).reshape(n_geo)
        self._ppw = 7 // period_days
        self._l_max = l_max

    def _sat(self, x: np.ndarray, prefix: str, index: int | None) -> np.ndarray:
        """Saturation of ``x`` shaped (D, ...) with the draws' parameters of a channel (or the mediator)."""
        sa = {}
        for p in self._saturation.params:
            v = self._p[f"{prefix}sat_{p}"]
            v = v if index is None else v[:, index]
            sa[p] = v.reshape((-1,) + (1,) * (x.ndim - 1))
        return self._saturation.fn(x, **sa)

    def _media(self, spend: np.ndarray, g: int, i: int) -> np.ndarray:
        """Scaled media per period of geo ``g`` and channel ``i`` for national weekly ``spend``."""
        return spend * self._share[g, i] / self._ppw / self._scale[g, i]

    def _m_without(self, g: int, i: int, j: int) -> np.ndarray:
        """Per draw (D,): geo ``g``'s mediator level without halo channel ``i``'s (halo position ``j``)
        brand searches at current spend."""
        now = np.full((self.n_draws,), self._media(self.current_spend[i], g, i))
        return self._m_ref[g] - self._p["halo_coef"][:, j] * self._sat(now, "", i)

    def weekly_response(self, weekly_spend: np.ndarray) -> np.ndarray:
        """Steady-state total incremental KPI per week under flat weekly spend; (..., C) -> (D, ..., C)."""
        spend = np.asarray(weekly_spend, dtype=float)
        out = np.array(self._direct.weekly_response(spend), dtype=float)
        expand = (1,) * (spend.ndim - 1)
        g_coef = self._p["m_coef"].reshape((-1,) + expand)
        for j, i in enumerate(self._halo):
            coef = self._p["halo_coef"][:, j].reshape((-1,) + expand)
            for g in range(self._share.shape[0]):
                x = np.broadcast_to(self._media(spend[..., i], g, i), (self.n_draws,) + spend.shape[:-1])
                base = self._m_without(g, i, j).reshape((-1,) + expand)
                m = np.maximum(base + coef * self._sat(x, "", i), 0.0)
                extra = self._sat(m, "m_", None) - self._sat(np.maximum(base, 0.0), "m_", None)
                out[..., i] += self._ppw * self._kpi_scale[g] * g_coef * extra
        return out

    def plan_response(self, plan: np.ndarray) -> np.ndarray:
        """Total incremental KPI per plan week with carry-over inside the plan; (W, C) -> (D, W, C).

        As the direct curves, spend before the plan contributes nothing; the mediator without the channel
        is settled at its level before the plan starts (``l_max`` periods of it precede the plan)."""
        plan = np.asarray(plan, dtype=float)
        out = np.array(self._direct.plan_response(plan), dtype=float)
        for j, i in enumerate(self._halo):
            for g in range(self._share.shape[0]):
                out[:, :, i] += self._plan_indirect(plan[:, i], g, i, j)
        return out

    def _plan_indirect(self, weekly: np.ndarray, g: int, i: int, j: int) -> np.ndarray:
        """(D, W): the mediator path's extra KPI per plan week in geo ``g`` from halo channel ``i``."""
        n_weeks, lead = weekly.shape[0], self._l_max
        x = np.repeat(self._media(weekly, g, i), self._ppw)  # (P,) per period
        ad = {p: self._p[f"adstock_{p}"][:, i] for p in self._adstock.params}
        xs = np.broadcast_to(x[:, None], (x.shape[0], self.n_draws))
        e = self._sat(self._adstock.fn(xs, **ad, l_max=self._l_max).T, "", i)  # (D, P)
        base = self._m_without(g, i, j)[:, None]
        with_h = np.concatenate(
            [np.repeat(base, lead, axis=1), base + self._p["halo_coef"][:, j, None] * e], 1
        )
        without = np.repeat(base, lead + x.shape[0], axis=1)
        ad_m = {p: self._p[f"m_adstock_{p}"] for p in self._adstock.params}
        path = [
            self._sat(self._adstock.fn(np.maximum(m, 0.0).T, **ad_m, l_max=self._l_max).T, "m_", None)
            for m in (with_h, without)
        ]
        extra = (path[0] - path[1])[:, lead:] * self._p["m_coef"][:, None] * self._kpi_scale[g]
        return extra.reshape(self.n_draws, n_weeks, self._ppw).sum(axis=2)

    def curve(self, channel: str, spend_grid: np.ndarray) -> dict[str, np.ndarray]:
        """Mean and 90% interval of the weekly total response of one channel over a grid of weekly spend."""
        i = self.channels.index(channel)
        grid = np.zeros((len(spend_grid), len(self.channels)))
        grid[:, i] = spend_grid
        return interval(self.weekly_response(grid)[:, :, i])
