"""Simulated marketing-mix data with known truth, for parameter-recovery tests and benchmarks.

The generating process follows the structure of Jin et al. (2017), section 4 (simulation): spend series
with flights and noise, adstock then saturation per channel, a trending seasonal baseline, controls and
Gaussian noise. Each channel's effect is scaled so that its true ROI (contribution over the series divided
by its spend, the definition :mod:`trueroi.mmm.results` uses) equals the value asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trueroi.mmm.transformers import geometric_adstock, get_adstock, get_saturation, hill


@dataclass
class Simulation:
    """A simulated series and its truth.

    Attributes
    ----------
    df
        Columns ``week``, ``revenue``, one spend column per channel, ``control_<k>``.
    roi
        True ROI per channel (incremental revenue / spend over the whole series).
    """

    df: pd.DataFrame
    channels: list[str]
    controls: list[str]
    roi: dict[str, float]
    adstock: str
    saturation: str
    media_params: dict[str, np.ndarray]
    beta: np.ndarray
    spend_scale: np.ndarray
    l_max: int
    contributions: np.ndarray = field(repr=False)
    organic: dict[str, float] = field(default_factory=dict)
    """True contribution of each organic input over the series (revenue units); empty without."""

    def effect(self, spend: np.ndarray) -> np.ndarray:
        """True contribution per period and channel of a spend matrix (T, C)."""
        ad = get_adstock(self.adstock)
        sat = get_saturation(self.saturation)
        x = spend / self.spend_scale
        a = {p: self.media_params[f"adstock_{p}"] for p in ad.params}
        s = {p: self.media_params[f"sat_{p}"] for p in sat.params}
        return sat.fn(ad.fn(x, **a, l_max=self.l_max), **s) * self.beta

    def lift(self, channel: str, start: int, periods: int, delta_spend: float) -> float:
        """True incremental revenue in periods ``start..start+periods-1`` when ``delta_spend`` in total is
        added evenly to ``channel`` over those periods (what a perfect lift test would measure)."""
        i = self.channels.index(channel)
        spend = self.df[self.channels].to_numpy(dtype=float)
        bumped = spend.copy()
        bumped[start : start + periods, i] = np.maximum(
            bumped[start : start + periods, i] + delta_spend / periods, 0
        )
        diff = self.effect(bumped)[:, i] - self.effect(spend)[:, i]
        return float(diff[start : start + periods].sum())


def simulate(
    seed: int = 0,
    n_periods: int = 156,
    rois: tuple[float, ...] = (2.5, 1.2, 0.6, 3.0, 1.8),
    alphas: tuple[float, ...] = (0.2, 0.5, 0.7, 0.3, 0.4),
    halves: tuple[float, ...] = (0.8, 1.2, 1.0, 0.6, 1.5),
    slopes: tuple[float, ...] = (1.2, 1.0, 1.5, 1.0, 1.3),
    n_controls: int = 2,
    noise: float = 0.04,
    confounding: float = 0.0,
    l_max: int = 8,
    start: str = "2022-01-03",
    organic: float = 0.0,
) -> Simulation:
    """Simulate weekly revenue for geometric adstock and Hill saturation with known ROIs.

    Parameters
    ----------
    seed
        Seed of the generator; the same seed gives the same data.
    rois, alphas, halves, slopes
        Per channel: true ROI, geometric decay, Hill half-saturation (in multiples of mean spend), Hill slope.
    noise
        Standard deviation of the noise as a share of mean revenue.
    confounding
        Strength of an unobserved demand driver that raises both channel 0's spend and revenue; above zero
        the data alone overstate channel 0's ROI (for calibration tests).
    organic
        Above zero: one unpaid input ``organic_0`` (e-mails sent, say) whose volume moves with channel 0's
        spend, with geometric adstock (0.5) and Hill saturation (half 1, slope 1), adding ``organic`` times
        the baseline's revenue over the series (truth in ``Simulation.organic``); left out of a model, it
        inflates channel 0's ROI. Drawn from its own generator: the rest of the data stays as without it.
    """
    rng = np.random.default_rng(seed)
    n_ch = len(rois)
    alphas, halves, slopes = alphas[:n_ch], halves[:n_ch], slopes[:n_ch]  # defaults cover up to 5 channels
    channels = [f"channel_{i}" for i in range(n_ch)]
    t = np.arange(n_periods)
    season = np.sin(2 * np.pi * t * 7 / 365.25)
    demand = np.convolve(rng.standard_normal(n_periods + 4), np.ones(5) / 5, mode="valid")
    spend = np.empty((n_periods, n_ch))
    for i in range(n_ch):
        level = rng.uniform(2_000, 20_000)
        walk = np.exp(np.cumsum(rng.normal(0, 0.08, n_periods)))
        flights = np.where(rng.uniform(size=n_periods) < 0.2 + 0.1 * i, 0.2, 1.0)
        seasonal = 1 + 0.3 * rng.uniform() * season
        spend[:, i] = level * walk * flights * seasonal * rng.lognormal(0, 0.25, n_periods)
    if confounding:
        spend[:, 0] *= np.exp(confounding * demand)
    spend_scale = spend.mean(axis=0)
    media_params = {
        "adstock_alpha": np.asarray(alphas, float),
        "sat_half": np.asarray(halves, float),
        "sat_slope": np.asarray(slopes, float),
    }
    ad, sat = get_adstock("geometric"), get_saturation("hill")
    raw = sat.fn(
        ad.fn(spend / spend_scale, alpha=media_params["adstock_alpha"], l_max=l_max),
        half=media_params["sat_half"],
        slope=media_params["sat_slope"],
    )
    beta = np.asarray(rois) * spend.sum(axis=0) / raw.sum(axis=0)
    contrib = raw * beta
    base_level = 1.5 * contrib.sum(axis=1).mean()
    baseline = base_level * np.exp(0.15 * t / n_periods + 0.12 * season)
    controls = rng.standard_normal((n_periods, n_controls))
    control_effect = controls @ rng.uniform(-0.04, 0.04, n_controls) * base_level
    confound = confounding * 0.08 * base_level * demand
    revenue = baseline + contrib.sum(axis=1) + control_effect + confound
    organic_volume, organic_contrib = _organic(seed, spend[:, 0], baseline, organic, l_max)
    revenue = revenue + organic_contrib
    revenue = revenue + rng.normal(0, noise * revenue.mean(), n_periods)
    df = pd.DataFrame({"week": pd.date_range(start, periods=n_periods, freq="7D"), "revenue": revenue})
    for i, c in enumerate(channels):
        df[c] = spend[:, i]
    control_names = [f"control_{k}" for k in range(n_controls)]
    for k, c in enumerate(control_names):
        df[c] = controls[:, k]
    if organic > 0:
        df["organic_0"] = organic_volume
    return Simulation(
        df,
        channels,
        control_names,
        dict(zip(channels, map(float, rois), strict=True)),
        "geometric",
        "hill",
        media_params,
        beta,
        spend_scale,
        l_max,
        contrib,
        {"organic_0": float(organic_contrib.sum())} if organic > 0 else {},
    )


def _organic(
    seed: int, paid: np.ndarray, baseline: np.ndarray, share: float, l_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """An organic input's volume (moving with ``paid``) and its contribution, ``share`` of the baseline's
    total (zeros when ``share`` is 0)."""
    if share <= 0:
        return np.zeros_like(paid), np.zeros_like(paid)
    rng = np.random.default_rng([seed, 7])
    n = paid.shape[0]
    volume = 5_000 * (paid / paid.mean()) ** 0.8 * rng.lognormal(0, 0.3, n)
    raw = hill(geometric_adstock(volume / volume.mean(), 0.5, l_max=l_max), half=1.0, slope=1.0)
    return volume, raw * share * baseline.sum() / raw.sum()


@dataclass
class GeoSimulation:
    """A simulated geo panel and its truth.

    Attributes
    ----------
    df
        Long format: ``week``, ``geo``, ``revenue``, one spend column per channel, ``control_<k>``.
    roi
        True ROI per geo and channel, ``{geo: {channel: roi}}`` (contribution / spend over the series).
    national_roi
        True ROI per channel over all geos (summed contribution / summed spend).
    size
        Relative size of each geo (share of national spend and baseline revenue).
    """

    df: pd.DataFrame
    geos: list[str]
    channels: list[str]
    controls: list[str]
    roi: dict[str, dict[str, float]]
    national_roi: dict[str, float]
    size: dict[str, float]
    response: dict[str, Any] = field(default_factory=dict, repr=False)

    def true_lift(
        self, channel: str, start: int, end: int, factor: float = 0.0, geo: str | None = None
    ) -> tuple[float, float]:
        """What a lift test would measure without noise: spend on ``channel`` in periods ``start..end``
        (inclusive) multiplied by ``factor`` in ``geo`` (or every geo). Returns ``(delta_spend, lift)``:
        the spend change and the true change of the channel's contribution over those periods."""
        r, i = self.response, self.channels.index(channel)
        ad, sat = get_adstock("geometric"), get_saturation("hill")
        total_spend = total_lift = 0.0
        for name in [geo] if geo is not None else self.geos:
            spend = r["spend"][name][:, i]
            moved = spend.copy()
            moved[start : end + 1] *= factor
            now, then = (
                r["k"][name][i]
                * sat.fn(
                    ad.fn(x / spend.mean(), alpha=r["alpha"][i], l_max=r["l_max"]),
                    half=r["half"][i],
                    slope=r["slope"][i],
                )
                for x in (spend, moved)
            )
            total_spend += float((moved - spend).sum())
            total_lift += float((then - now)[start : end + 1].sum())
        return total_spend, total_lift


def simulate_geo(
    seed: int = 0,
    n_geos: int = 10,
    n_periods: int = 104,
    n_channels: int = 3,
    roi_spread: float = 0.3,
    n_controls: int = 1,
    noise: float = 0.04,
    l_max: int = 8,
    start: str = "2022-01-03",
) -> GeoSimulation:
    """Simulate weekly revenue of ``n_geos`` regions sharing adstock and saturation shapes, with ROIs that
    vary by geo around a national ROI (log-normal, sd ``roi_spread``), as in the hierarchical geo model of
    Sun et al. (2017), "Geo-level Bayesian Hierarchical Media Mix Modeling", Google Inc.

    Geo sizes span a factor of about 20 (log-uniform); noise is ``noise`` of mean revenue in the largest geo
    and grows as ``1 / sqrt(size)`` in smaller ones (fewer customers, more relative noise), so small geos
    alone say little about their ROIs.
    """
    rng = np.random.default_rng(seed)
    channels = [f"channel_{i}" for i in range(n_channels)]
    geos = [f"geo_{g:02d}" for g in range(n_geos)]
    national = rng.uniform(0.8, 3.0, n_channels)
    alphas = rng.uniform(0.2, 0.6, n_channels)
    halves = rng.uniform(0.7, 1.4, n_channels)
    slopes = rng.uniform(1.0, 1.5, n_channels)
    size = np.exp(rng.uniform(np.log(0.05), 0.0, n_geos))
    t = np.arange(n_periods)
    season = np.sin(2 * np.pi * t * 7 / 365.25)
    levels = rng.uniform(2_000, 20_000, n_channels)
    ad, sat = get_adstock("geometric"), get_saturation("hill")
    frames, roi, contrib_all, spend_all = [], {}, [], []
    response: dict[str, Any] = {
        "alpha": alphas,
        "half": halves,
        "slope": slopes,
        "l_max": l_max,
        "spend": {},
        "k": {},
    }
    control_coef = rng.uniform(-0.04, 0.04, n_controls)
    controls = rng.standard_normal((n_periods, n_controls))  # national drivers (e.g. price index)
    for g, name in enumerate(geos):
        spend = np.empty((n_periods, n_channels))
        for i in range(n_channels):
            walk = np.exp(np.cumsum(rng.normal(0, 0.08, n_periods)))
            flights = np.where(rng.uniform(size=n_periods) < 0.2 + 0.1 * i, 0.2, 1.0)
            spend[:, i] = size[g] * levels[i] * walk * flights * rng.lognormal(0, 0.25, n_periods)
        x = spend / spend.mean(axis=0)
        raw = sat.fn(ad.fn(x, alpha=alphas, l_max=l_max), half=halves, slope=slopes)
        geo_roi = national * np.exp(roi_spread * rng.standard_normal(n_channels))
        contrib = raw * geo_roi * spend.sum(axis=0) / raw.sum(axis=0)
        response["spend"][name], response["k"][name] = spend, geo_roi * spend.sum(axis=0) / raw.sum(axis=0)
        base_level = 1.5 * contrib.sum(axis=1).mean()
        baseline = base_level * np.exp(0.15 * t / n_periods + 0.12 * season)
        revenue = baseline + contrib.sum(axis=1) + controls @ control_coef * base_level
        sd = noise / np.sqrt(size[g]) * revenue.mean()
        revenue = revenue + rng.normal(0, sd, n_periods)
        frame = pd.DataFrame({"week": pd.date_range(start, periods=n_periods, freq="7D"), "geo": name})
        frame["revenue"] = revenue
        for i, c in enumerate(channels):
            frame[c] = spend[:, i]
        for k in range(n_controls):
            frame[f"control_{k}"] = controls[:, k]
        frames.append(frame)
        roi[name] = dict(zip(channels, map(float, geo_roi), strict=True))
        contrib_all.append(contrib.sum(axis=0))
        spend_all.append(spend.sum(axis=0))
    national_roi = np.sum(contrib_all, axis=0) / np.sum(spend_all, axis=0)
    return GeoSimulation(
        pd.concat(frames, ignore_index=True),
        geos,
        channels,
        [f"control_{k}" for k in range(n_controls)],
        roi,
        dict(zip(channels, map(float, national_roi), strict=True)),
        dict(zip(geos, map(float, size), strict=True)),
        response,
    )
