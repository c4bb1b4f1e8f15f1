"""Halo through brand search: a mix model with brand-search volume as a mediator.

Upper-funnel channels (display, video, social) raise brand searches, and brand searches raise sales; a mix
model without the mediator credits those sales to brand search (or to the baseline) and understates the
upper funnel. :class:`HaloMMM` fits one joint Bayesian model with two likelihoods over the same periods, on
scaled data (as :mod:`trueroi.mmm.bayes`):

    m_t = base_m_t + sum_{h in halo} b_h * sat_h(adstock_h(x_h))_t + e_m,     e_m ~ Normal(0, sigma_m)
    y_t = baseline_t + sum_c beta_c * sat_c(adstock_c(x_c))_t + g * sat_m(adstock_m(m_t))_t + ... + e_y

with ``base_m_t = exp(a_0 + a_1 trend_t + seasonality_t)``, signed ``b_h ~ Normal(0, 0.5)`` (so a channel
without halo can show an indirect interval around 0), the channels' own adstock and saturation shared
by both equations, and the mediator (brand clicks or brand search impressions, scaled by its mean) with its
own carry-over and saturation. This is the mediation analysis of Baron & Kenny (1986) in the form Chan &
Perry (2017, "Challenges and opportunities in media mix modeling", section 3.2) and Chen et al. (2018,
"Bias correction for paid search in media mix modeling") propose for search: brand query volume as the
mediator between upper-funnel media and sales.

Effects, per posterior draw, over the training window (counterfactual, as Pearl's natural effects):

- direct ROAS of channel c: its own term's contribution / its spend (as :func:`trueroi.mmm.results.
  channel_summary`);
- indirect ROAS of halo channel h: ``g * [sat_m(adstock_m(m)) - sat_m(adstock_m(m - b_h e_h))]`` summed,
  / h's spend: the mediator path with h's brand searches minus the path without them (0 for others);
- total ROAS: direct + indirect;
- ROAS net of halo of the brand-search channel (``mediator_channel``): its own direct contribution plus the
  mediator path of the brand searches no halo channel caused, ``g * sat_m(adstock_m(m - sum_h b_h e_h))``,
  / brand-search spend. It is what brand search earns on the searches that would have happened anyway, the
  credit brand search keeps once the upper funnel is given its share; ``roas_gross_of_halo`` beside it
  credits brand search with the whole mediator path (what a model without the mediator, or last click,
  suggests).

On contribution margin (the convention of :mod:`trueroi.mmm.results`): ``roi = margin x total ROAS - 1``,
``roi_direct = margin x direct ROAS - 1`` and ``roi_indirect = margin x indirect ROAS`` (the spend is
charged once, in the direct part), so ``roi = roi_direct + roi_indirect``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError, UsageError
from trueroi.mmm import results as R
from trueroi.mmm.bayes import ModelSpec, channel_effects, lagged_effects
from trueroi.mmm.checks import fit_warnings
from trueroi.mmm.data import MMMData, prepare
from trueroi.mmm.halo_curves import HaloResponseCurves
from trueroi.mmm.model import MMM
from trueroi.mmm.transformers import lag_stack

__all__ = ["HaloMMM", "HaloSpec", "halo_model"]


@dataclass(frozen=True)
class HaloSpec(ModelSpec):
    """:class:`~trueroi.mmm.bayes.ModelSpec` plus the indices of the halo channels (static)."""

    halo: tuple[int, ...] = ()

    @property
    def model_fn(self) -> Any:
        return halo_model


@dataclass(kw_only=True)  # after MMMData's defaulted fields (organic inputs, treatments)
class HaloData(MMMData):
    """:class:`~trueroi.mmm.data.MMMData` plus the mediator series (brand clicks or impressions), (T,)."""

    mediator_col: str
    mediator: np.ndarray

    def mediator_scaled(self) -> np.ndarray:
        """The mediator divided by its training mean, shape (T,)."""
        return self.mediator / self.mediator[: self.n_train].mean()

    def frame(self) -> pd.DataFrame:
        out = super().frame()
        out[self.mediator_col] = self.mediator
        return out


def halo_data(data: MMMData, mediator_col: str, mediator: np.ndarray, source: str | None) -> HaloData:
    """:class:`HaloData` of checked ``data`` and the mediator column (numeric, checked by ``prepare``)."""
    if (mediator < 0).any() or mediator[: data.n_train].mean() <= 0:
        raise DataValidationError(
            "has negative values or no positive ones",
            file=source,
            column=mediator_col,
            expected="brand clicks or brand search impressions per period (0 or more, not all 0)",
        )
    own = {f.name: getattr(data, f.name) for f in fields(MMMData) if f.init}
    return HaloData(**own, mediator_col=mediator_col, mediator=np.asarray(mediator, dtype=float))


def sample_transform_params(prefix: str, spec: ModelSpec) -> dict[str, Any]:
    """Sample the adstock and saturation parameters (sites ``{prefix}adstock_<p>``, ``{prefix}sat_<p>``)
    from the components' priors; keys without the prefix, as :func:`~trueroi.mmm.bayes.lagged_effects`
    takes them."""
    import numpyro
    import numpyro.distributions as dist

    out = {}
    for kind, comp in (("adstock", spec.adstock), ("sat", spec.saturation)):
        for p in comp.params:
            name, args = comp.priors[p]
            out[f"{kind}_{p}"] = numpyro.sample(f"{prefix}{kind}_{p}", getattr(dist, name)(*args))
    return out


def halo_model(arrays: dict[str, Any], spec: HaloSpec, y: Any = None) -> None:
    """NumPyro model of the mediator and the KPI (see the module docstring). ``arrays`` holds what
    :func:`trueroi.mmm.bayes.mmm_model` takes plus ``mediator`` (T,) and ``mediator_lags`` (L, T, 1)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    n_train = spec.n_train
    with numpyro.plate("channel", arrays["media"].shape[1]):
        params = sample_transform_params("", spec)
        effect = lagged_effects(arrays["media_lags"], params, spec)  # (T, C)
        if spec.prior == "roi":
            roi = numpyro.sample("roi", dist.LogNormal(arrays["roi_mu"], arrays["roi_sigma"]))
            beta = roi * arrays["roi_factor"] / jnp.maximum(effect[:n_train].sum(axis=0), 1e-6)
            beta = numpyro.deterministic("beta", beta)
        else:
            beta = numpyro.sample("beta", dist.HalfNormal(arrays["coef_sigma"]))
    _mediator_likelihood(arrays, effect, spec)
    # the KPI equation: as mmm_model's, plus the mediator path
    med = {k: v[None] for k, v in sample_transform_params("m_", spec).items()}
    med_coef = numpyro.sample("m_coef", dist.HalfNormal(1.0))
    b0 = numpyro.sample("intercept", dist.Normal(np.log(0.6), 0.7))
    log_base = b0 + numpyro.sample("trend", dist.Normal(0.0, 0.5)) * arrays["trend"]
    for name, key, scale in (("season", "fourier", 0.3), ("event", "events", 0.5)):
        if arrays[key].shape[1]:
            coef = numpyro.sample(name, dist.Normal(0.0, scale).expand([arrays[key].shape[1]]).to_event(1))
            log_base = log_base + arrays[key] @ coef
    mu = (
        jnp.exp(log_base)
        + effect @ beta
        + med_coef * lagged_effects(arrays["mediator_lags"], med, spec)[:, 0]
    )
    if arrays["controls"].shape[1]:
        theta = numpyro.sample(
            "control", dist.Normal(0.0, 0.3).expand([arrays["controls"].shape[1]]).to_event(1)
        )
        mu = mu + arrays["controls"] @ theta
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.3))
    numpyro.sample("y", dist.Normal(mu[:n_train], sigma), obs=y)


def _mediator_likelihood(arrays: dict[str, Any], effect: Any, spec: HaloSpec) -> None:
    """The mediator equation: a positive seasonal base plus what the halo channels cause (``effect``: the
    channels' saturated effects, (T, C))."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    n_train, halo = spec.n_train, np.asarray(spec.halo)
    # signed: a channel without halo must be able to show an indirect interval around 0 (a HalfNormal
    # would put every interval above 0)
    with numpyro.plate("halo", len(spec.halo)):
        halo_coef = numpyro.sample("halo_coef", dist.Normal(0.0, 0.5))
    log_m = numpyro.sample("m_intercept", dist.Normal(np.log(0.8), 0.7))
    log_m = log_m + numpyro.sample("m_trend", dist.Normal(0.0, 0.5)) * arrays["trend"]
    if arrays["fourier"].shape[1]:
        m_season = dist.Normal(0.0, 0.3).expand([arrays["fourier"].shape[1]]).to_event(1)
        log_m = log_m + arrays["fourier"] @ numpyro.sample("m_season", m_season)
    m_mu = jnp.exp(log_m) + effect[:, halo] @ halo_coef
    m_sigma = numpyro.sample("m_sigma", dist.HalfNormal(0.3))
    numpyro.sample("mediator_obs", dist.Normal(m_mu[:n_train], m_sigma), obs=arrays["mediator"][:n_train])


# -- effects over posterior draws (NumPy) -----------------------------------------------------------------
def mediator_path(draws: dict[str, np.ndarray], spec: ModelSpec, m: np.ndarray) -> np.ndarray:
    """``g * sat_m(adstock_m(m))`` per draw and period on the KPI's scale, shape (D, T), for a scaled
    mediator series ``m`` of shape (T,) or (D, T) (negative values, from a counterfactual, count as 0)."""
    n_draws = draws["m_coef"].shape[0]
    x = np.broadcast_to(
        np.maximum(m, 0.0).T if m.ndim == 2 else np.maximum(m, 0.0)[:, None], (m.shape[-1], n_draws)
    )
    ad = {p: draws[f"m_adstock_{p}"] for p in spec.adstock.params}
    sa = {p: draws[f"m_sat_{p}"] for p in spec.saturation.params}
    effect = spec.saturation.fn(spec.adstock.fn(x, **ad, l_max=spec.l_max), **sa)  # (T, D)
    return (effect * draws["m_coef"]).T


def media_effects(
    draws: dict[str, np.ndarray], spec: ModelSpec, data: MMMData, spend: np.ndarray | None = None
) -> np.ndarray:
    """``sat_c(adstock_c(x_c))`` per draw, period and channel, shape (D, T, C) (no coefficient)."""
    media = data.media_scaled(spend)
    n_draws = draws["beta"].shape[0]
    x = np.broadcast_to(media[:, None, :], (media.shape[0], n_draws, media.shape[1]))
    return np.transpose(channel_effects(x, R.media_params(draws, spec), spec), (1, 0, 2))


@dataclass
class HaloEffects:
    """Training-window totals per draw (KPI units), from :func:`halo_effects`.

    Attributes
    ----------
    spend
        Shape (C,): training spend per channel.
    direct, indirect, bumped
        Shape (D, C): each channel's own term; its mediator path (0 outside the halo); and direct +
        indirect with that channel's spend 1% higher in every period (for the marginal ROI).
    mediator_path, base_path
        Shape (D,): the whole mediator path; the path of the brand searches no halo channel caused.
    halo_share
        Shape (D,): share of the mediator (training sum) the halo channels caused.
    """

    spend: np.ndarray
    direct: np.ndarray
    indirect: np.ndarray
    bumped: np.ndarray
    mediator_path: np.ndarray
    base_path: np.ndarray
    halo_share: np.ndarray


def halo_effects(draws: dict[str, np.ndarray], spec: HaloSpec, data: HaloData) -> HaloEffects:
    """Direct, indirect (counterfactual: the mediator path with and without each halo channel's brand
    searches) and marginal effects over the training window, per draw."""
    n, scale = data.n_train, data.target_scale
    eff = media_effects(draws, spec, data)
    bump = media_effects(draws, spec, data, data.spend * (1 + R.MROI_STEP))
    direct = (eff * draws["beta"][:, None, :])[:, :n].sum(axis=1) * scale
    bumped = (bump * draws["beta"][:, None, :])[:, :n].sum(axis=1) * scale
    m = np.broadcast_to(data.mediator_scaled(), eff.shape[:2])
    path = mediator_path(draws, spec, m)
    indirect = np.zeros_like(direct)
    parts = np.zeros_like(m)
    for j, h in enumerate(spec.halo):
        part = draws["halo_coef"][:, j, None] * eff[:, :, h]  # (D, T) brand searches h caused
        extra = draws["halo_coef"][:, j, None] * (bump[:, :, h] - eff[:, :, h])
        without = mediator_path(draws, spec, m - part)
        indirect[:, h] = (path - without)[:, :n].sum(axis=1) * scale
        bumped[:, h] += (mediator_path(draws, spec, m + extra) - without)[:, :n].sum(axis=1) * scale
        parts = parts + part
    return HaloEffects(
        spend=data.spend[:n].sum(axis=0),
        direct=direct,
        indirect=indirect,
        bumped=bumped,
        mediator_path=path[:, :n].sum(axis=1) * scale,
        base_path=mediator_path(draws, spec, m - parts)[:, :n].sum(axis=1) * scale,
        halo_share=parts[:, :n].sum(axis=1) / m[:, :n].sum(axis=1),
    )


def halo_channels(
    fx: HaloEffects, channels: list[str], mediator_channel: str | None
) -> dict[str, dict[str, Any]]:
    """Per channel, per unit of spend (ROAS for a revenue KPI), mean and 90% interval: ``roi`` (total),
    ``roi_direct``, ``roi_indirect``, ``mroi`` (total, marginal), ``contribution`` (total) and, for the
    brand-search channel, ``roi_net_of_halo`` and ``roi_gross_of_halo``."""
    f = R._floats
    out = {}
    total = fx.direct + fx.indirect
    for i, c in enumerate(channels):
        s = fx.spend[i]
        block = {
            "spend": float(s),
            "contribution": f(R.interval(total[:, i])),
            "roi": f(R.interval(total[:, i] / s)),
            "mroi": f(R.interval((fx.bumped[:, i] - total[:, i]) / (s * R.MROI_STEP))),
            "roi_direct": f(R.interval(fx.direct[:, i] / s)),
            "roi_indirect": f(R.interval(fx.indirect[:, i] / s)),
        }
        if c == mediator_channel:
            block["roi_net_of_halo"] = f(R.interval((fx.direct[:, i] + fx.base_path) / s))
            block["roi_gross_of_halo"] = f(R.interval((fx.direct[:, i] + fx.mediator_path) / s))
        out[c] = block
    return out


EXTRA_ROIS = ("roi_direct", "roi_indirect", "roi_net_of_halo", "roi_gross_of_halo")


def public_halo_channels(
    blocks: dict[str, dict[str, Any]], kpi: str, margin_rate: float | None
) -> dict[str, dict[str, Any]]:
    """The summary's channel blocks: :func:`~trueroi.mmm.results.public_channels` of the totals, plus
    ``roi_direct`` and ``roi_net_of_halo`` / ``roi_gross_of_halo`` on margin (``margin x ROAS - 1``),
    ``roi_indirect`` on margin without the spend (``margin x ROAS``, so ``roi = roi_direct +
    roi_indirect``), each with its ``roas_*`` (revenue KPI) or ``per_spend_*`` (conversions KPI)."""
    out = R.public_channels(blocks, kpi, margin_rate)
    revenue = kpi == "revenue"
    for c, s in blocks.items():
        for key in EXTRA_ROIS:
            if key not in s:
                continue
            suffix = key.removeprefix("roi_")
            if not revenue:
                out[c][key] = dict(R.NO_INTERVAL)
                out[c][f"per_spend_{suffix}"] = s[key]
                continue
            if margin_rate is None:
                out[c][key] = dict(R.NO_INTERVAL)
            elif key == "roi_indirect":
                out[c][key] = {k: margin_rate * v for k, v in s[key].items()}
            else:
                out[c][key] = R.on_margin(s[key], margin_rate)
            out[c][f"roas_{suffix}"] = s[key]
    return out


# -- the model class ---------------------------------------------------------------------------------------
class HaloMMM(MMM):
    """The national mix model with a halo through brand search (see the module docstring).

    Parameters
    ----------
    halo
        The upper-funnel spend columns that act on the KPI directly and through the mediator.
    mediator
        The column of brand-search volume per period (brand clicks or brand search impressions).
    mediator_channel
        The brand-search spend column, whose ROI net of the halo is reported; None: the one channel outside
        ``halo`` whose name contains "brand", if exactly one does.
    **settings
        Every setting of :class:`~trueroi.mmm.MMM`.
    """

    KIND = "halo"
    PARAMS = (*MMM.PARAMS, "halo", "mediator", "mediator_channel")
    FIT_CALL = "fit(df, date=..., target=..., channels=...) with a mediator column"

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
        target: str,
        channels: list[str],
        controls: list[str] | None = None,
        events: list[str] | None = None,
        lift_tests: pd.DataFrame | str | os.PathLike[str] | None = None,
        source: str | None = None,
    ) -> HaloMMM:
        """Fit to a weekly (or daily) series with a mediator column (see :meth:`trueroi.mmm.MMM.fit`).

        Raises
        ------
        UsageError
            If ``halo`` is empty or names a column that is not a channel, the mediator is a channel, or lift
            tests are given (the halo model does not take them yet).
        """
        self._check_settings()
        if lift_tests is not None:
            raise UsageError("the halo model takes no lift tests yet; fit without --halo to calibrate")
        self._check_roles(list(channels), list(controls or []))
        data = self._prepare(df, date, target, list(channels), controls, events, self.holdout_periods, source)
        return self._fit_data(data, None)

    def _check_roles(self, channels: list[str], controls: list[str]) -> None:
        if not self.halo:
            raise UsageError(
                "no halo channels given; name the upper-funnel spend columns, e.g. display,video"
            )
        unknown = [h for h in self.halo if h not in channels]
        if unknown:
            raise UsageError(f"halo channel(s) {', '.join(unknown)} are not among the channels {channels}")
        if self.mediator in channels or self.mediator in controls:
            raise UsageError(f"the mediator {self.mediator!r} must not also be a channel or control")
        if self.mediator_channel is not None and self.mediator_channel not in channels:
            raise UsageError(
                f"mediator channel {self.mediator_channel!r} is not among the channels {channels}"
            )
        if self.mediator_channel in self.halo:
            raise UsageError(f"the brand-search channel {self.mediator_channel!r} cannot be a halo channel")

    def brand_channel(self, channels: list[str]) -> str | None:
        """``mediator_channel``, or the one non-halo channel whose name contains "brand" (else None)."""
        if self.mediator_channel is not None:
            return self.mediator_channel
        found = [c for c in channels if "brand" in c.lower() and c not in self.halo]
        return found[0] if len(found) == 1 else None

    def _prepare(
        self,
        df: pd.DataFrame,
        date: str,
        target: str,
        channels: list[str],
        controls: Any,
        events: Any,
        holdout: int,
        source: str | None,
    ) -> HaloData:
        """Checked data with the mediator (checked like a control: numeric, no gaps, not constant)."""
        controls = list(controls or [])
        base = prepare(df, date, target, channels, [*controls, self.mediator], events, holdout, source)
        base.controls_cols = controls
        mediator, base.controls = base.controls[:, -1], base.controls[:, :-1]
        return halo_data(base, self.mediator, mediator, source)

    def _spec(self, data: MMMData) -> HaloSpec:
        base = super()._spec(data)
        own = {f.name: getattr(base, f.name) for f in fields(ModelSpec)}
        return HaloSpec(**own, halo=tuple(data.channels.index(h) for h in self.halo))

    def _arrays(self, data: HaloData, spec: ModelSpec | None = None) -> dict[str, Any]:
        arrays = super()._arrays(data, spec)
        arrays["mediator"] = data.mediator_scaled()
        arrays["mediator_lags"] = lag_stack(arrays["mediator"][:, None], self.l_max)
        return arrays

    def _set_fitted(self, data: HaloData, samples: dict[str, np.ndarray], extras: dict[str, Any]) -> None:
        """Store the posterior and compute the direct, indirect and total effects and the diagnostics."""
        self.data_ = data
        self.spec_ = self._spec(data)
        self.posterior_ = samples
        self.extras_ = extras
        draws = R.flatten(samples)
        self._draws = draws
        self.channel_summary_ = R.channel_summary(draws, self.spec_, data)  # direct terms (fit warnings)
        self.effects_ = halo_effects(draws, self.spec_, data)
        self.halo_summary_ = halo_channels(self.effects_, data.channels, self.brand_channel(data.channels))
        self._path = mediator_path(draws, self.spec_, data.mediator_scaled()) * data.target_scale
        mu = R.fitted(draws, self.spec_, data, self.n_fourier) + self._path
        diag = self._sampler_diagnostics()
        diag.update(R.fit_statistics(mu, data))
        diag["ppc_coverage_90"] = R.posterior_predictive_coverage(mu, draws["sigma"], data, self.seed)
        self.diagnostics_ = diag
        self.warnings_ = fit_warnings(self)

    # -- outputs -----------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The JSON contract of :meth:`trueroi.mmm.MMM.summary`, where each channel's ``roi`` (``roas``,
        ``mroi``, ``contribution``) is its total effect, with ``roi_direct`` and ``roi_indirect`` beside it
        (and ``roi_net_of_halo`` / ``roi_gross_of_halo`` for the brand-search channel); plus ``halo``:
        the mediator, the halo channels, the brand-search channel and the share of the mediator the halo
        channels caused (mean and 90% interval)."""
        self._require_fit()
        return {
            "channels": public_halo_channels(self.halo_summary_, self.kpi, self.margin_rate),
            "halo": {
                "mediator": self.mediator,
                "halo_channels": list(self.halo),
                "mediator_channel": self.brand_channel(self.data_.channels),
                "halo_share": R._floats(R.interval(self.effects_.halo_share)),
            },
            "diagnostics": self._diagnostics_summary(),
            "fit_seconds": float(self.fit_seconds_),
            **self._roi_header(),
        }

    def decomposition(self) -> pd.DataFrame:
        """Per period: baseline, controls, each channel's direct term, the mediator path (column named
        after the mediator), fitted and actual (posterior means, KPI units)."""
        out = super().decomposition()
        out.insert(out.columns.get_loc("fitted"), self.mediator, self._path.mean(axis=0))
        out["fitted"] = out["fitted"] + out[self.mediator]
        return out

    def media_parameters(self) -> pd.DataFrame:
        """:meth:`trueroi.mmm.MMM.media_parameters` plus the mediator's rows (channel: the mediator column;
        ``m_adstock_<p>``, ``m_sat_<p>``, ``m_coef``) and each halo channel's ``halo_coef`` (scaled brand
        searches per unit of its saturated effect)."""
        rows = super().media_parameters().to_dict(orient="records")
        names = [f"m_adstock_{p}" for p in self.spec_.adstock.params]
        names += [f"m_sat_{p}" for p in self.spec_.saturation.params] + ["m_coef"]
        for name in names:
            iv = R._floats(R.interval(self._draws[name]))
            rows.append({"channel": self.mediator, "parameter": name, **iv})
        coef = R.interval(self._draws["halo_coef"])
        for j, h in enumerate(self.halo):
            rows.append({"channel": h, "parameter": "halo_coef", **{k: float(v[j]) for k, v in coef.items()}})
        return pd.DataFrame(rows)

    def response_curves(self, reference_weeks: int = 8) -> HaloResponseCurves:
        """Total-effect response curves over posterior draws for the budget planner (direct term plus the
        path through brand search, other brand searches held at their level in the last
        ``reference_weeks`` weeks; see :mod:`trueroi.mmm.halo_curves`)."""
        direct = super().response_curves(reference_weeks)
        data = self.data_
        n_ref = max(1, int(round(reference_weeks * data.periods_per_week)))
        m_ref = float(data.mediator_scaled()[max(0, data.n_train - n_ref) : data.n_train].mean())
        keys = [f"{pre}adstock_{p}" for pre in ("", "m_") for p in self.spec_.adstock.params]
        keys += [f"{pre}sat_{p}" for pre in ("", "m_") for p in self.spec_.saturation.params]
        return HaloResponseCurves(
            direct,
            self.spec_.halo,
            {k: self._draws[k] for k in [*keys, "halo_coef", "m_coef"]},
            m_ref,
            self.adstock,
            self.saturation,
            data.spend_scale,
            data.target_scale,
            data.period_days,
            self.l_max,
        )

    # -- the model directory -----------------------------------------------------------------------------
    def _read_data(self, root: Path, config: dict[str, Any]) -> HaloData:
        frame = pd.read_csv(root / "data.csv")
        return self._prepare(
            frame,
            config["date"],
            config["target"],
            config["channels"],
            config["controls"],
            config["events"],
            len(frame) - config["n_train"],
            str(root / "data.csv"),
        )
