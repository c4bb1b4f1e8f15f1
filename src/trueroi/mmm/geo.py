"""Geo-level mix model with hierarchical pooling of channel ROIs across regions.

Each geo ``g`` has its own ROI per channel ``c``, drawn from a national distribution (partial pooling, as
in Sun et al. 2017, "Geo-level Bayesian Hierarchical Media Mix Modeling", Google Inc., and Google
Meridian's geo models), written non-centred so NUTS samples it without a funnel (Betancourt & Girolami
2015):

    log roi_gc = mu_c + tau_c * eps_gc,   eps_gc ~ Normal(0, 1),
    mu_c ~ Normal(log ROI prior median, ROI prior log-sd),   tau_c ~ HalfNormal(tau_scale),

adstock and saturation shapes are shared by all geos (one set per channel) and applied to spend scaled by
each geo and channel's mean, so a small geo saturates at its own scale. Each geo has its own baseline level
and noise; trend, seasonality and control coefficients are shared. With ``pooling="none"`` every geo's ROI
has the independent prior LogNormal(log median, log-sd) instead (the no-pooling comparison).

On the scaled data (each geo's KPI divided by its mean, media by its geo-channel mean):

    y_tg = exp(b0_g + k trend_t + f_t . gamma) + sum_c beta_gc sat_c(adstock_c(x_tgc))
           + z_t . theta + eps_tg,   eps_tg ~ Normal(0, sigma_g),
    beta_gc = roi_gc * spend_gc / (kpi_scale_g * sum_t sat_c(adstock_c(x_tgc)))  (Meridian's ROI
    reparameterisation: the contribution over the training window equals roi * spend).
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
from trueroi.mmm.base import MixModel
from trueroi.mmm.bayes import channel_effects, lagged_effects
from trueroi.mmm.calibration import geo_lift_arrays, read_lift_tests
from trueroi.mmm.checks import sampler_warnings
from trueroi.mmm.curves import MMMResponseCurves
from trueroi.mmm.geo_data import GeoData, prepare_geo, with_holdout
from trueroi.mmm.transformers import Component, get_adstock, get_saturation

POOLINGS = ("partial", "none")


@dataclass(frozen=True)
class GeoSpec:
    """Static settings of the geo model (hashable: compiled code is shared between fits)."""

    adstock: Component
    saturation: Component
    l_max: int
    pooling: str
    n_train: int
    tau_scale: float = 0.5
    centered: bool = False

    @property
    def model_fn(self) -> Any:
        return geo_model


def geo_model(arrays: dict[str, Any], spec: GeoSpec, y: Any = None) -> None:
    """NumPyro model. ``arrays``: media_lags (L, T, G, C), trend (T,), fourier (T, F), controls (T, K),
    roi_factor (G, C) = training spend / KPI scale, roi_mu, roi_sigma (C,)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    lags = arrays["media_lags"]
    n_geo, n_ch = lags.shape[2], lags.shape[3]
    params: dict[str, Any] = {}
    with numpyro.plate("channel", n_ch):
        for p in spec.adstock.params:
            params[f"adstock_{p}"] = numpyro.sample(f"adstock_{p}", _dist(*spec.adstock.priors[p]))
        for p in spec.saturation.params:
            params[f"sat_{p}"] = numpyro.sample(f"sat_{p}", _dist(*spec.saturation.priors[p]))
        if spec.pooling == "partial":
            mu = numpyro.sample("roi_log_mean", dist.Normal(arrays["roi_mu"], arrays["roi_sigma"]))
            tau = numpyro.sample("roi_log_sd", dist.HalfNormal(spec.tau_scale))
    if spec.pooling == "partial" and spec.centered:
        log_roi = numpyro.sample("roi_log", dist.Normal(mu, tau).expand([n_geo, n_ch]).to_event(2))
    elif spec.pooling == "partial":
        eps = numpyro.sample("roi_raw", dist.Normal(0.0, 1.0).expand([n_geo, n_ch]).to_event(2))
        log_roi = mu + tau * eps
    else:
        log_roi = numpyro.sample(
            "roi_log",
            dist.Normal(arrays["roi_mu"], arrays["roi_sigma"]).expand([n_geo, n_ch]).to_event(2),
        )
    roi = numpyro.deterministic("roi", jnp.exp(log_roi))  # (G, C)
    effect = lagged_effects(lags, params, spec)  # (T, G, C)
    n = spec.n_train
    beta = numpyro.deterministic("beta", roi * arrays["roi_factor"] / jnp.maximum(effect[:n].sum(0), 1e-6))
    b0 = numpyro.sample("intercept", dist.Normal(np.log(0.6), 0.7).expand([n_geo]).to_event(1))
    log_base = b0[None, :] + numpyro.sample("trend", dist.Normal(0.0, 0.5)) * arrays["trend"][:, None]
    if arrays["fourier"].shape[1]:
        gamma = numpyro.sample(
            "season", dist.Normal(0.0, 0.3).expand([arrays["fourier"].shape[1]]).to_event(1)
        )
        log_base = log_base + (arrays["fourier"] @ gamma)[:, None]
    mean = jnp.exp(log_base) + (effect * beta).sum(axis=2)
    if arrays["controls"].shape[1]:
        theta = numpyro.sample(
            "control", dist.Normal(0.0, 0.3).expand([arrays["controls"].shape[1]]).to_event(1)
        )
        mean = mean + (arrays["controls"] @ theta)[:, None]
    extra = getattr(spec, "extra_mean", None)
    if extra is not None:  # a term another model adds (trueroi.mmm.halo_geo: the brand-search mediator path)
        mean = mean + extra(arrays, effect)
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.3).expand([n_geo]).to_event(1))
    numpyro.sample("y", dist.Normal(mean[:n], sigma).to_event(2), obs=y)
    if "lift_channel" in arrays:  # each lift test: modelled extra KPI over its window ~ its measurement
        idx = arrays["lift_channel"]  # (N,)
        per_test = {k: v[idx] for k, v in params.items()}
        delta = lagged_effects(arrays["lift_lags"], per_test, spec) - effect[:, :, idx]  # (T, G, N)
        kpi = (delta * beta[:, idx][None] * arrays["lift_geo_scale"][None, :, None]).sum(axis=1)  # (T, N)
        modelled = (kpi * arrays["lift_window"]).sum(axis=0)
        with numpyro.plate("lift_test", idx.shape[0]):
            numpyro.sample("lift", dist.Normal(modelled, arrays["lift_se"]), obs=arrays["lift_obs"])


def _dist(name: str, args: tuple[float, ...]) -> Any:
    import numpyro.distributions as dist

    return getattr(dist, name)(*args)


class GeoMMM(MixModel):
    """Hierarchical geo-level mix model (see the module docstring); scikit-learn contract.

    Parameters
    ----------
    adstock, saturation, l_max, roi_prior, n_fourier, method, draws, tune, chains, chain_method,
    target_accept, kpi, seed, margin_rate
        As in :class:`~trueroi.mmm.MMM`; ``roi_prior`` ``(median, log_sd)`` is the prior of the national
        log-ROI mean ``mu_c`` (with ``pooling="none"``: of every geo's ROI).
    pooling
        ``"partial"`` (hierarchical, default) or ``"none"`` (each geo on its own).
    tau_scale
        Scale of the HalfNormal prior on the spread of log-ROIs across geos.
    dense_mass
        Dense mass matrix for NUTS. Off by default: with one ROI per geo and channel there are hundreds of
        parameters, and a dense matrix estimated from a short warm-up made NUTS hit its maximum tree depth
        (about 970 leapfrog steps per draw against 97 with a diagonal one, same ROI error, on a 10-geo
        panel).
    centered
        Sample ``log roi_gc ~ Normal(mu_c, tau_c)`` directly instead of the non-centred default; can be
        faster when every geo's data pin its ROIs down, worse when some geos say little (funnel).
    holdout_periods
        The last periods are kept out of the fit and predicted: ``diagnostics_["holdout_mape"]``.
    """

    KIND = "geo"
    PARAMS = (
        "adstock",
        "saturation",
        "l_max",
        "pooling",
        "roi_prior",
        "tau_scale",
        "n_fourier",
        "method",
        "draws",
        "tune",
        "chains",
        "chain_method",
        "target_accept",
        "dense_mass",
        "centered",
        "holdout_periods",
        "kpi",
        "seed",
        "margin_rate",
    )
    FIT_CALL = "fit(df, date=..., geo=..., target=..., channels=...)"

    def __init__(
        self,
        adstock: str = "geometric",
        saturation: str = "hill",
        l_max: int = 8,
        pooling: str = "partial",
        roi_prior: tuple[float, float] = (1.0, 1.0),
        tau_scale: float = 0.5,
        n_fourier: int = 2,
        method: str = "nuts",
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        chain_method: str = "auto",
        target_accept: float = 0.9,
        dense_mass: bool = False,
        centered: bool = False,
        holdout_periods: int = 0,
        kpi: str = "revenue",
        seed: int = 0,
        margin_rate: float | None = None,
    ) -> None:
        super().__init__(
            adstock=adstock,
            saturation=saturation,
            l_max=l_max,
            roi_prior=roi_prior,
            n_fourier=n_fourier,
            method=method,
            draws=draws,
            tune=tune,
            chains=chains,
            chain_method=chain_method,
            target_accept=target_accept,
            holdout_periods=holdout_periods,
            kpi=kpi,
            seed=seed,
            margin_rate=margin_rate,
        )
        self.pooling = pooling
        self.tau_scale = tau_scale
        self.dense_mass = dense_mass
        self.centered = centered

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
    ) -> GeoMMM:
        """Fit to a long panel: one row per period and geo with ``date``, ``geo``, ``target``, the spend
        columns (base currency) and national ``controls``; ``lift_tests`` calibrates (see
        :mod:`trueroi.mmm.calibration`: national tests, or one geo's with a ``geo`` column). Returns
        ``self`` with ``posterior_``, ``data_``, ``fit_seconds_``, ``diagnostics_`` and ``warnings_``."""
        self._check_settings()
        data = with_holdout(
            prepare_geo(df, date, geo, target, list(channels), controls, source), self.holdout_periods
        )
        self.columns_ = {"date": date, "geo": geo, "target": target}
        return self._fit_data(data, lift_tests)

    def _check_settings(self) -> None:
        super()._check_settings()
        if self.pooling not in POOLINGS:
            raise UsageError(f"unknown pooling {self.pooling!r}; expected one of: {', '.join(POOLINGS)}")
        median, sd = self.roi_prior
        if median <= 0 or sd <= 0:
            raise UsageError(f"the ROI prior needs a positive median and spread, got {(median, sd)}")

    def _spec(self, data: GeoData) -> GeoSpec:
        return GeoSpec(
            get_adstock(self.adstock),
            get_saturation(self.saturation),
            self.l_max,
            self.pooling,
            data.n_train,
            self.tau_scale,
            self.centered,
        )

    def _read_lifts(self, lift_tests: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
        lifts = read_lift_tests(lift_tests)
        if "geo" in lifts.columns:
            lifts["geo"] = lifts["geo"].astype("string")
        return lifts

    def _lift_arrays(self, lifts: pd.DataFrame, data: GeoData) -> dict[str, Any]:
        kpi_scale = float(data.target_scale.sum())
        arrays = geo_lift_arrays(
            lifts,
            data.dates,
            data.n_train,
            data.geos,
            data.channels,
            data.spend,
            data.spend_scale,
            kpi_scale,
        )
        return {**arrays, "lift_geo_scale": data.target_scale / kpi_scale}

    def _nuts_options(self) -> dict[str, Any]:
        return {
            "dense_mass": self.dense_mass,
            "init_at_mode": not (self.centered and self.pooling == "partial"),
            # no automatic rerun at a higher target acceptance (the national model's, issue 22): not
            # measured on the geo model, whose fits take minutes; the trust warning says when to rerun
            "retry_target_accept": None,
        }

    def _set_fitted(self, data: GeoData, samples: dict[str, np.ndarray], extras: dict[str, Any]) -> None:
        self.data_, self.spec_, self.posterior_, self.extras_ = data, self._spec(data), samples, extras
        self.diagnostics_ = self._diagnostics()
        self.warnings_ = sampler_warnings(self)

    def _arrays(self, data: GeoData, spec: GeoSpec | None = None) -> dict[str, Any]:
        n_ch, n = len(data.channels), data.n_train
        days = (data.dates - data.dates[0]).days.to_numpy(dtype=float)
        angle = 2 * np.pi * days / 365.25
        fourier = [f(k * angle) for k in range(1, self.n_fourier + 1) for f in (np.sin, np.cos)]
        ctrl = data.controls[:n]
        std = np.where(ctrl.std(axis=0) > 0, ctrl.std(axis=0), 1.0) if ctrl.size else np.ones(0)
        return {
            "media": data.spend / data.spend_scale,
            "trend": np.arange(len(data.dates)) / max(n - 1, 1),
            "fourier": np.column_stack(fourier) if fourier else np.zeros((len(data.dates), 0)),
            "controls": (data.controls - ctrl.mean(axis=0)) / std if ctrl.size else data.controls,
            "roi_factor": data.spend[:n].sum(axis=0) / data.target_scale[:, None],
            "roi_mu": np.full(n_ch, np.log(self.roi_prior[0])),
            "roi_sigma": np.full(n_ch, float(self.roi_prior[1])),
        }

    def _diagnostics(self) -> dict[str, Any]:
        diag = self._sampler_diagnostics()
        mu = self._fitted(max_draws=200).mean(axis=0)  # (T, G)
        y, n = self.data_.target[: self.data_.n_train], self.data_.n_train
        resid = y - mu[:n]
        diag["r2"] = float(1 - (resid**2).sum() / ((y - y.mean(axis=0)) ** 2).sum())
        diag["mape"] = float(np.mean(np.abs(resid / y)[y != 0]))
        diag["holdout_mape"] = None
        if n < len(self.data_.dates):
            held = self.data_.target[n:]
            diag["holdout_mape"] = float(np.mean(np.abs((held - mu[n:]) / held)[held != 0]))
        return diag

    def _fitted(self, max_draws: int) -> np.ndarray:
        """Expected KPI (D, T, G) for up to ``max_draws`` evenly spaced posterior draws, KPI units."""
        arrays = self._arrays(self.data_)
        out = []
        for params in self._draw_params(max_draws):
            base, controls, media = self._parts(params, arrays)
            out.append((base + controls[:, None] + media.sum(axis=2)) * self.data_.target_scale)
        return np.stack(out)

    def _parts(
        self, params: dict[str, np.ndarray], arrays: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One draw's expected KPI on the scaled data, split: baseline (T, G), controls (T,) and each
        channel's contribution (T, G, C)."""
        log_base = params["intercept"][None, :] + params["trend"] * arrays["trend"][:, None]
        if arrays["fourier"].shape[1]:
            log_base = log_base + (arrays["fourier"] @ params["season"])[:, None]
        controls = np.zeros(len(arrays["trend"]))
        if arrays["controls"].shape[1]:
            controls = arrays["controls"] @ params["control"]
        media = channel_effects(arrays["media"], params, self.spec_) * params["beta"][None]
        return np.exp(log_base), controls, media

    # -- outputs -----------------------------------------------------------------------------------------
    def roi_draws(self) -> tuple[np.ndarray, np.ndarray]:
        """ROI draws per geo (D, G, C) and national (D, C): contribution over the training window / spend.
        National ROI weights each geo's ROI by its spend (summed contribution over summed spend)."""
        self._require_fit()
        roi = R.flatten(self.posterior_)["roi"]
        spend = self.data_.spend[: self.data_.n_train].sum(axis=0)  # (G, C)
        national = (roi * spend).sum(axis=1) / np.maximum(spend.sum(axis=0), 1e-12)
        return roi, national

    def mroi_draws(self, step: float = 0.01, max_draws: int = 1000) -> np.ndarray:
        """National marginal ROI per channel (D, C): extra contribution over the training window when every
        geo's spend on the channel rises by ``step`` (1%), per unit of extra spend."""
        self._require_fit()
        extra_spend = step * self.data_.spend[: self.data_.n_train].sum(axis=(0, 1))  # (C,)
        contrib = self._contributions(np.array([1.0, 1.0 + step]), max_draws)  # (D, 2, C)
        return (contrib[:, 1] - contrib[:, 0]) / np.maximum(extra_spend, 1e-12)

    def _contributions(self, factors: np.ndarray, max_draws: int) -> np.ndarray:
        """Each channel's contribution over the training window, KPI units, summed over geos, when every
        geo's spend is multiplied by each factor: (D, K, C)."""
        n = self.data_.n_train
        media = self._arrays(self.data_)["media"]
        scale = self.data_.target_scale[None, :, None]
        draws = self._draw_params(max_draws)
        out = np.empty((len(draws), len(factors), len(self.data_.channels)))
        for d, p in enumerate(draws):
            for k, f in enumerate(factors):
                effect = channel_effects(media * f, p, self.spec_)[:n]
                out[d, k] = (effect * p["beta"][None] * scale).sum(axis=(0, 1))
        return out

    def _draw_params(self, max_draws: int) -> list[dict[str, np.ndarray]]:
        draws = R.flatten(self.posterior_)
        total = draws["beta"].shape[0]
        pick = np.unique(np.linspace(0, total - 1, min(max_draws, total)).astype(int))
        return [{k: v[d] for k, v in draws.items()} for d in pick]

    def decomposition(self, max_draws: int = 200) -> pd.DataFrame:
        """National KPI over time split into ``baseline`` (trend, seasonality, geo levels), ``controls``
        and each channel, posterior means summed over geos, with ``actual`` and ``fitted``; KPI units."""
        self._require_fit()
        arrays = self._arrays(self.data_)
        scale = self.data_.target_scale  # (G,)
        parts: dict[str, list[np.ndarray]] = {"baseline": [], "controls": []}
        parts.update({c: [] for c in self.data_.channels})
        for params in self._draw_params(max_draws):
            base, controls, media = self._parts(params, arrays)
            parts["baseline"].append((base * scale).sum(axis=1))
            parts["controls"].append(controls * scale.sum())
            per_channel = (media * scale[None, :, None]).sum(axis=1)  # (T, C)
            for i, c in enumerate(self.data_.channels):
                parts[c].append(per_channel[:, i])
        out = pd.DataFrame({k: np.mean(v, axis=0) for k, v in parts.items()})
        out.insert(0, "date", self.data_.dates)
        out["fitted"] = out.drop(columns="date").sum(axis=1)
        out["actual"] = self.data_.target.sum(axis=1)
        return out

    def contribution_curves(
        self, factors: np.ndarray | None = None, max_draws: int = 100
    ) -> dict[str, dict[str, np.ndarray]]:
        """National response per channel over the training window: contribution when every geo's spend on
        the channel is multiplied by each of ``factors`` (default 0 to 3 times today's). Per channel:
        ``spend`` (total training spend at each factor) and ``mean``, ``lower``, ``upper`` (90%)."""
        self._require_fit()
        grid = np.linspace(0.0, 3.0, 25) if factors is None else np.asarray(factors, dtype=float)
        n = self.data_.n_train
        rows = self._contributions(grid, max_draws)  # (D, K, C)
        spend = self.data_.spend[:n].sum(axis=(0, 1))
        out = {}
        for i, c in enumerate(self.data_.channels):
            band = R.interval(rows[:, :, i])
            out[c] = {"spend": grid * spend[i], **{k: np.asarray(v) for k, v in band.items()}}
        return out

    def response_curves(self, reference_weeks: int = 8) -> MMMResponseCurves:
        """National weekly response curves over posterior draws for the budget planner: the sum of the geo
        curves, national spend split over the geos as in the last ``reference_weeks`` weeks of the training
        data (see :mod:`trueroi.mmm.curves`). Current spend is the national mean weekly spend of those
        weeks; a channel without spend in them is split as over the whole training window."""
        self._require_fit()
        data, n = self.data_, self.data_.n_train
        per_week = 7.0 / data.period_days
        n_ref = max(1, int(round(reference_weeks * per_week)))
        by_geo = data.spend[max(0, n - n_ref) : n].mean(axis=0) * per_week  # (G, C) weekly
        current = by_geo.sum(axis=0)
        basis = np.where(current > 0, by_geo, data.spend[:n].sum(axis=0))
        share = basis / np.maximum(basis.sum(axis=0), 1e-300)
        draws = R.flatten(self.posterior_)
        keys = (
            [f"adstock_{p}" for p in self.spec_.adstock.params]
            + [f"sat_{p}" for p in self.spec_.saturation.params]
            + ["beta"]
        )
        return MMMResponseCurves(
            data.channels,
            current,
            self.kpi,
            self.adstock,
            self.saturation,
            {k: draws[k] for k in keys},
            data.spend_scale,
            data.target_scale,
            data.period_days,
            self.l_max,
            geo_share=share,
        )

    def summary(self) -> dict[str, Any]:
        """National ``channels`` in the shape of :meth:`MMM.summary` (spend, contribution, roi on margin,
        roas, mroi, mroas; 90% intervals), ``geos`` with spend, contribution, roi and roas per geo,
        ``diagnostics``, ``fit_seconds`` and what roi means (``kpi``, ``roi_basis``, ``margin_rate``,
        ``roi_note``)."""
        roi, national = self.roi_draws()
        mroi = self.mroi_draws()
        spend = self.data_.spend[: self.data_.n_train].sum(axis=0)

        def block(r: np.ndarray, s: float) -> dict[str, Any]:
            return {
                "spend": float(s),
                "contribution": _floats(R.interval(r * s)),
                "roi": _floats(R.interval(r)),
            }

        channels, kpi, rate = self.data_.channels, self.kpi, self.margin_rate
        national_blocks = {
            c: {**block(national[:, i], spend[:, i].sum()), "mroi": _floats(R.interval(mroi[:, i]))}
            for i, c in enumerate(channels)
        }
        return {
            "channels": R.public_channels(national_blocks, kpi, rate),
            "geos": {
                g: {
                    "channels": R.public_channels(
                        {c: block(roi[:, j, i], spend[j, i]) for i, c in enumerate(channels)}, kpi, rate
                    )
                }
                for j, g in enumerate(self.data_.geos)
            },
            "diagnostics": self._diagnostics_summary(),
            "fit_seconds": float(self.fit_seconds_),
            **self._roi_header(),
        }

    def roi_table(self) -> pd.DataFrame:
        """One row per geo (and ``"national"``) and channel: spend, ROI mean and 90% interval."""
        return pd.DataFrame(roi_rows(self.summary()))

    # -- the model directory -----------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {
            "columns": self.columns_,
            "geos": self.data_.geos,
            "channels": self.data_.channels,
            "controls": self.data_.controls_cols,
        }

    def _data_frame(self) -> pd.DataFrame:
        """The fitted panel back in the long layout, with the user's column names (holdout included)."""
        d, cols = self.data_, self.columns_
        n_t, n_g = len(d.dates), len(d.geos)
        frame = pd.DataFrame(
            {
                cols["date"]: np.repeat(d.dates.strftime("%Y-%m-%d"), n_g),
                cols["geo"]: np.tile(d.geos, n_t),
                cols["target"]: d.target.reshape(-1),
            }
        )
        for i, c in enumerate(d.channels):
            frame[c] = d.spend[:, :, i].reshape(-1)
        for i, c in enumerate(d.controls_cols):
            frame[c] = np.repeat(d.controls[:, i], n_g)
        return frame

    def _read_data(self, root: Path, config: dict[str, Any]) -> GeoData:
        cols = config["columns"]
        self.columns_ = cols
        panel = pd.read_csv(root / "data.csv", dtype={cols["geo"]: str})
        data = prepare_geo(
            panel,
            cols["date"],
            cols["geo"],
            cols["target"],
            config["channels"],
            config["controls"],
            str(root / "data.csv"),
        )
        return with_holdout(data, self.holdout_periods)


def roi_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of :meth:`GeoMMM.roi_table` from a geo model's summary: ``geo`` (``"national"`` first),
    ``channel``, ``spend``, the ROI's (on margin) ``mean``, ``lower`` and ``upper``, and ``roas_mean``."""

    def row(geo: str, c: str, v: dict[str, Any]) -> dict[str, Any]:
        return {"geo": geo, "channel": c, "spend": v["spend"], **v["roi"], "roas_mean": v["roas"]["mean"]}

    rows = [row("national", c, v) for c, v in summary["channels"].items()]
    for g, block in summary["geos"].items():
        rows += [row(g, c, v) for c, v in block["channels"].items()]
    return rows


def _floats(d: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(v) for k, v in d.items()}
