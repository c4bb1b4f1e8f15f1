"""Halo through brand search on a geo panel: the geo model with brand-search volume per geo as a mediator.

The national halo model (:mod:`trueroi.mmm.halo`) carried to the hierarchical geo model
(:mod:`trueroi.mmm.geo`): per geo ``g``, on each geo's scales (KPI, spend and mediator divided by their
geo means),

    m_tg = exp(a_g + a_1 trend_t + seasonality_t) + sum_{h in halo} b_h sat_h(adstock_h(x_tgh)) + e_m,
    y_tg = (the geo model's mean) + g * sat_m(adstock_m(m_tg)) + e_y,

with the halo coefficients ``b_h``, the mediator's carry-over, saturation and coefficient ``g`` shared by all
geos (each geo has its own mediator level ``a_g`` and noise). Direct, indirect and total effects and brand
search's ROI net of halo are defined as in :mod:`trueroi.mmm.halo`, computed per geo and summed over geos
for the national figures (summed contribution over summed spend). Its response curves for the budget
planner are of total effects (:mod:`trueroi.mmm.halo_curves`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.mmm import results as R
from trueroi.mmm.bayes import channel_effects, lagged_effects
from trueroi.mmm.geo import GeoMMM, GeoSpec
from trueroi.mmm.geo_data import GeoData, prepare_geo, with_holdout
from trueroi.mmm.halo import (
    HaloEffects,
    HaloMMM,
    halo_channels,
    public_halo_channels,
    sample_transform_params,
)
from trueroi.mmm.halo_curves import HaloResponseCurves
from trueroi.mmm.transformers import lag_stack

__all__ = ["GeoHaloMMM", "GeoHaloSpec"]

MAX_DRAWS = 500
"""Posterior draws (evenly spaced) the effects are computed over, so memory stays bounded on big panels."""


@dataclass(frozen=True)
class GeoHaloSpec(GeoSpec):
    """:class:`~trueroi.mmm.geo.GeoSpec` plus the halo channels; adds the mediator to the geo model."""

    halo: tuple[int, ...] = ()

    def extra_mean(self, arrays: dict[str, Any], effect: Any) -> Any:
        """Inside :func:`~trueroi.mmm.geo.geo_model`: the mediator's likelihood, and the mediator path
        (T, G) added to the KPI's mean. ``effect``: the channels' saturated effects (T, G, C)."""
        import jax.numpy as jnp
        import numpyro
        import numpyro.distributions as dist

        n, n_geo = self.n_train, effect.shape[1]
        with numpyro.plate("halo", len(self.halo)):  # signed, as in the national model
            halo_coef = numpyro.sample("halo_coef", dist.Normal(0.0, 0.5))
        a = numpyro.sample("m_intercept", dist.Normal(np.log(0.8), 0.7).expand([n_geo]).to_event(1))
        log_m = a[None, :] + numpyro.sample("m_trend", dist.Normal(0.0, 0.5)) * arrays["trend"][:, None]
        if arrays["fourier"].shape[1]:
            season = dist.Normal(0.0, 0.3).expand([arrays["fourier"].shape[1]]).to_event(1)
            log_m = log_m + (arrays["fourier"] @ numpyro.sample("m_season", season))[:, None]
        m_mu = jnp.exp(log_m) + (effect[:, :, np.asarray(self.halo)] * halo_coef).sum(axis=2)
        m_sigma = numpyro.sample("m_sigma", dist.HalfNormal(0.3).expand([n_geo]).to_event(1))
        obs = arrays["mediator"][:n]
        numpyro.sample("mediator_obs", dist.Normal(m_mu[:n], m_sigma).to_event(2), obs=obs)
        med = {k: v[None] for k, v in sample_transform_params("m_", self).items()}
        coef = numpyro.sample("m_coef", dist.HalfNormal(1.0))
        return coef * lagged_effects(arrays["mediator_lags"], med, self)[..., 0]


@dataclass
class GeoHaloData(GeoData):
    """:class:`~trueroi.mmm.geo_data.GeoData` plus the mediator per period and geo, (T, G)."""

    mediator_col: str
    mediator: np.ndarray

    def mediator_scaled(self) -> np.ndarray:
        """The mediator divided by each geo's training mean, (T, G)."""
        return self.mediator / np.maximum(self.mediator[: self.n_train].mean(axis=0), 1e-12)


def _thin(draws: dict[str, np.ndarray], max_draws: int) -> dict[str, np.ndarray]:
    total = next(iter(draws.values())).shape[0]
    pick = np.unique(np.linspace(0, total - 1, min(max_draws, total)).astype(int))
    return {k: v[pick] for k, v in draws.items()}


def geo_path(draws: dict[str, np.ndarray], spec: GeoSpec, m: np.ndarray) -> np.ndarray:
    """``g * sat_m(adstock_m(m))`` per draw, period and geo, (D, T, G), of a scaled mediator (T, G) or
    (D, T, G) (negative values count as 0)."""
    n_draws = draws["m_coef"].shape[0]
    m = np.maximum(m, 0.0)
    x = np.broadcast_to(
        np.moveaxis(m, 0, 1) if m.ndim == 3 else m[:, None, :], (m.shape[-2], n_draws, m.shape[-1])
    )
    ad = {p: draws[f"m_adstock_{p}"][:, None] for p in spec.adstock.params}
    sa = {p: draws[f"m_sat_{p}"][:, None] for p in spec.saturation.params}
    effect = spec.saturation.fn(spec.adstock.fn(x, **ad, l_max=spec.l_max), **sa)  # (T, D, G)
    return np.moveaxis(effect, 1, 0) * draws["m_coef"][:, None, None]


def geo_effects(draws: dict[str, np.ndarray], spec: GeoHaloSpec, data: GeoHaloData) -> list[HaloEffects]:
    """Per geo, the training-window totals of :class:`~trueroi.mmm.halo.HaloEffects` (KPI units)."""
    n, scale = data.n_train, data.target_scale  # (G,)
    media = data.spend / data.spend_scale  # (T, G, C)
    params = {k: draws[k][:, None, :] for k in R.media_params(draws, spec)}

    def effects(factor: float) -> np.ndarray:  # (D, T, G, C)
        x = np.broadcast_to(
            (media * factor)[:, None], (media.shape[0], draws["beta"].shape[0], *media.shape[1:])
        )
        return np.moveaxis(channel_effects(x, params, spec), 1, 0)

    eff, bump = effects(1.0), effects(1.0 + R.MROI_STEP)
    beta = draws["beta"][:, None]  # (D, 1, G, C)
    direct = (eff * beta)[:, :n].sum(axis=1) * scale[None, :, None]  # (D, G, C)
    bumped = (bump * beta)[:, :n].sum(axis=1) * scale[None, :, None]
    m = np.broadcast_to(data.mediator_scaled(), eff.shape[:3])
    path = geo_path(draws, spec, m)
    indirect, parts = np.zeros_like(direct), np.zeros_like(m)
    for j, h in enumerate(spec.halo):
        coef = draws["halo_coef"][:, j, None, None]
        part = coef * eff[..., h]
        without = geo_path(draws, spec, m - part)
        indirect[..., h] = (path - without)[:, :n].sum(axis=1) * scale
        extra = geo_path(draws, spec, m + coef * (bump[..., h] - eff[..., h]))
        bumped[..., h] += (extra - without)[:, :n].sum(axis=1) * scale
        parts = parts + part
    base = geo_path(draws, spec, m - parts)[:, :n].sum(axis=1) * scale
    m_scale = data.mediator[:n].mean(axis=0)  # (G,): back to the mediator's units for the halo share
    caused = (parts[:, :n] * m_scale).sum(axis=1)  # (D, G)
    return [
        HaloEffects(
            spend=data.spend[:n, g].sum(axis=0),
            direct=direct[:, g],
            indirect=indirect[:, g],
            bumped=bumped[:, g],
            mediator_path=path[:, :n, g].sum(axis=1) * scale[g],
            base_path=base[:, g],
            halo_share=caused[:, g] / data.mediator[:n, g].sum(),
        )
        for g in range(len(data.geos))
    ]


def national(per_geo: list[HaloEffects], mediator: np.ndarray) -> HaloEffects:
    """The national totals of per-geo effects (sums; the halo share weighted by each geo's mediator)."""
    weight = mediator.sum(axis=0) / mediator.sum()  # (G,)
    return HaloEffects(
        spend=sum(fx.spend for fx in per_geo),
        direct=sum(fx.direct for fx in per_geo),
        indirect=sum(fx.indirect for fx in per_geo),
        bumped=sum(fx.bumped for fx in per_geo),
        mediator_path=sum(fx.mediator_path for fx in per_geo),
        base_path=sum(fx.base_path for fx in per_geo),
        halo_share=sum(w * fx.halo_share for w, fx in zip(weight, per_geo, strict=True)),
    )


class GeoHaloMMM(GeoMMM):
    """The geo model with a halo through brand search (see the module docstring).

    Parameters
    ----------
    halo, mediator, mediator_channel
        As for :class:`~trueroi.mmm.HaloMMM`; ``mediator`` is a column of the long panel (per geo and period).
    **settings
        Every setting of :class:`~trueroi.mmm.geo.GeoMMM`.
    """

    KIND = "geo_halo"
    PARAMS = (*GeoMMM.PARAMS, "halo", "mediator", "mediator_channel")

    def __init__(
        self,
        halo: list[str] | tuple[str, ...] = (),
        mediator: str = "brand_clicks",
        mediator_channel: str | None = None,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self.halo = list(halo)
        self.mediator = mediator
        self.mediator_channel = mediator_channel

    def fit(
        self,
        df: pd.DataFrame,
        *,
        date: str,
        geo: str,
        target: str,
        channels: list[str],
        controls: list[str] | None = None,
        lift_tests: pd.DataFrame | str | os.PathLike[str] | None = None,
        source: str | None = None,
    ) -> GeoHaloMMM:
        """Fit to a long panel with a mediator column (see :meth:`trueroi.mmm.geo.GeoMMM.fit`)."""
        self._check_settings()
        if lift_tests is not None:
            raise UsageError("the halo model takes no lift tests yet; fit without --halo to calibrate")
        roles = HaloMMM(halo=self.halo, mediator=self.mediator, mediator_channel=self.mediator_channel)
        roles._check_roles(list(channels), list(controls or []))
        self.columns_ = {"date": date, "geo": geo, "target": target}
        data = self._prepare(df, list(channels), list(controls or []), source)
        return self._fit_data(with_holdout(data, self.holdout_periods), None)

    def _prepare(
        self, df: pd.DataFrame, channels: list[str], controls: list[str], source: str | None
    ) -> GeoHaloData:
        """The checked panel, the mediator checked with it (as a control: numeric, no gaps) and then read
        per geo and period."""
        cols = self.columns_
        data = prepare_geo(
            df, cols["date"], cols["geo"], cols["target"], channels, [*controls, self.mediator], source
        )
        frame = df.assign(_geo=df[cols["geo"]].astype(str), _date=pd.to_datetime(df[cols["date"]]))
        frame = frame.sort_values(["_geo", "_date"])
        mediator = frame[self.mediator].to_numpy(float).reshape(len(data.geos), len(data.dates)).T
        if (mediator < 0).any() or (mediator.mean(axis=0) <= 0).any():
            raise UsageError(
                f"the mediator {self.mediator!r} must be 0 or more, and positive on average in every geo"
            )
        return GeoHaloData(
            data.dates,
            data.geos,
            data.channels,
            controls,
            data.spend,
            data.target,
            data.controls[:, :-1],
            data.n_train,
            data.period_days,
            self.mediator,
            mediator,
        )

    def _spec(self, data: GeoData) -> GeoHaloSpec:
        base = super()._spec(data)
        own = {k: getattr(base, k) for k in base.__dataclass_fields__}
        return GeoHaloSpec(**own, halo=tuple(data.channels.index(h) for h in self.halo))

    def _arrays(self, data: GeoHaloData, spec: GeoSpec | None = None) -> dict[str, Any]:
        arrays = super()._arrays(data, spec)
        arrays["mediator"] = data.mediator_scaled()
        arrays["mediator_lags"] = lag_stack(arrays["mediator"][..., None], self.l_max)
        return arrays

    def _set_fitted(self, data: GeoHaloData, samples: dict[str, np.ndarray], extras: dict[str, Any]) -> None:
        self.data_, self.spec_, self.posterior_, self.extras_ = data, self._spec(data), samples, extras
        self._draws = _thin(R.flatten(samples), MAX_DRAWS)
        self.geo_effects_ = geo_effects(self._draws, self.spec_, data)
        self.effects_ = national(self.geo_effects_, data.mediator[: data.n_train])
        self._path = geo_path(self._draws, self.spec_, data.mediator_scaled()) * data.target_scale
        super()._set_fitted(data, samples, extras)

    def brand_channel(self) -> str | None:
        """``mediator_channel``, or the one non-halo channel whose name contains "brand" (else None)."""
        if self.mediator_channel is not None:
            return self.mediator_channel
        found = [c for c in self.data_.channels if "brand" in c.lower() and c not in self.halo]
        return found[0] if len(found) == 1 else None

    def _fitted(self, max_draws: int) -> np.ndarray:
        """:meth:`trueroi.mmm.geo.GeoMMM._fitted` plus the mediator path, over the same draws."""
        draws = _thin(R.flatten(self.posterior_), max_draws)  # the draws GeoMMM._draw_params picks
        path = geo_path(draws, self.spec_, self.data_.mediator_scaled()) * self.data_.target_scale
        return super()._fitted(max_draws) + path

    # -- outputs -----------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """As :meth:`trueroi.mmm.geo.GeoMMM.summary`, with each channel's ``roi`` its total effect beside
        ``roi_direct`` and ``roi_indirect`` (and ``roi_net_of_halo`` for brand search), national and per
        geo, and the ``halo`` block of :meth:`trueroi.mmm.HaloMMM.summary`."""
        self._require_fit()
        channels, brand, kpi, rate = self.data_.channels, self.brand_channel(), self.kpi, self.margin_rate
        blocks = halo_channels(self.effects_, channels, brand)
        return {
            "channels": public_halo_channels(blocks, kpi, rate),
            "geos": {
                g: {"channels": public_halo_channels(halo_channels(fx, channels, brand), kpi, rate)}
                for g, fx in zip(self.data_.geos, self.geo_effects_, strict=True)
            },
            "halo": {
                "mediator": self.mediator,
                "halo_channels": list(self.halo),
                "mediator_channel": brand,
                "halo_share": R._floats(R.interval(self.effects_.halo_share)),
            },
            "diagnostics": self._diagnostics_summary(),
            "fit_seconds": float(self.fit_seconds_),
            **self._roi_header(),
        }

    def decomposition(self, max_draws: int = 200) -> pd.DataFrame:
        """:meth:`trueroi.mmm.geo.GeoMMM.decomposition` plus the mediator path (column named after the
        mediator), summed over geos."""
        out = super().decomposition(max_draws)
        out.insert(out.columns.get_loc("fitted"), self.mediator, self._path.mean(axis=0).sum(axis=1))
        out["fitted"] = out["fitted"] + out[self.mediator]
        return out

    def response_curves(self, reference_weeks: int = 8) -> HaloResponseCurves:
        """National total-effect response curves for the budget planner: the geo direct curves
        (:meth:`trueroi.mmm.geo.GeoMMM.response_curves`) plus each halo channel's path through brand search
        per geo, other brand searches held at each geo's level in the last ``reference_weeks`` weeks (see
        :mod:`trueroi.mmm.halo_curves`)."""
        direct = super().response_curves(reference_weeks)
        data, n = self.data_, self.data_.n_train
        n_ref = max(1, int(round(reference_weeks * 7.0 / data.period_days)))
        m_ref = data.mediator_scaled()[max(0, n - n_ref) : n].mean(axis=0)  # (G,)
        draws = R.flatten(self.posterior_)  # the draws of the direct curves
        keys = [f"{pre}adstock_{p}" for pre in ("", "m_") for p in self.spec_.adstock.params]
        keys += [f"{pre}sat_{p}" for pre in ("", "m_") for p in self.spec_.saturation.params]
        return HaloResponseCurves(
            direct,
            self.spec_.halo,
            {k: draws[k] for k in [*keys, "halo_coef", "m_coef"]},
            m_ref,
            self.adstock,
            self.saturation,
            data.spend_scale,
            data.target_scale,
            data.period_days,
            self.l_max,
        )

    # -- the model directory -----------------------------------------------------------------------------
    def _data_frame(self) -> pd.DataFrame:
        frame = super()._data_frame()
        frame[self.mediator] = self.data_.mediator.reshape(-1)
        return frame

    def _read_data(self, root: Path, config: dict[str, Any]) -> GeoHaloData:
        self.columns_ = cols = config["columns"]
        panel = pd.read_csv(root / "data.csv", dtype={cols["geo"]: str})
        data = self._prepare(panel, config["channels"], config["controls"], str(root / "data.csv"))
        return with_holdout(data, self.holdout_periods)
