"""Simulated mix data with a halo through brand search, with known direct, indirect and total ROI.

The generating process is the mediation model of :mod:`trueroi.mmm.halo` (Baron & Kenny 1986; in media mix
models, Chan & Perry 2017, "Challenges and opportunities in media mix modeling", section 3.2 on brand search
as a mediator, and Google's "paid search with query volume" model, Chen et al. 2018): upper-funnel channels
raise brand searches, brand searches raise revenue, and every paid channel (brand search included) also
acts on revenue directly. Spend follows :func:`trueroi.mmm.simulate.simulate` (flights, drift, noise);
every channel has geometric adstock and Hill saturation.

The truth is computed counterfactually, exactly as the model's summary defines it:

- direct ROI of channel c: its own term's contribution over the series / its spend;
- indirect ROI of halo channel h: (mediator path with the brand searches h caused) - (the same path with
  them removed), summed over the series / h's spend;
- total ROI: direct + indirect;
- brand search's ROI net of halo: (its direct term + the mediator path of the brand searches no halo
  channel caused) / brand search spend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trueroi.mmm.transformers import get_adstock, get_saturation

L_MAX = 8


@dataclass
class HaloSimulation:
    """A simulated weekly series with a brand-search mediator, and its truth.

    Attributes
    ----------
    df
        Columns ``week``, ``revenue``, one spend column per channel, ``brand_clicks`` (the mediator).
    channels, halo
        All spend columns, and those that raise brand searches.
    mediator, mediator_channel
        The mediator column (``brand_clicks``) and the brand-search spend column.
    roi_direct, roi_indirect, roi_total
        True incremental revenue per unit of spend (ROAS) over the whole series, per channel (indirect is 0
        for channels outside ``halo``).
    roi_net_of_halo
        True ROAS of the brand-search channel on the brand searches the halo channels did not cause.
    halo_share
        Share of brand clicks the halo channels caused over the series.
    """

    df: pd.DataFrame
    channels: list[str]
    halo: list[str]
    mediator: str
    mediator_channel: str
    roi_direct: dict[str, float]
    roi_indirect: dict[str, float]
    roi_total: dict[str, float]
    roi_net_of_halo: float
    halo_share: float
    parts: dict[str, np.ndarray] = field(repr=False, default_factory=dict)


def _effects(x: np.ndarray, alpha: np.ndarray, half: np.ndarray, slope: np.ndarray) -> np.ndarray:
    ad, sat = get_adstock("geometric"), get_saturation("hill")
    return sat.fn(ad.fn(x, alpha=alpha, l_max=L_MAX), half=half, slope=slope)


def _spend(rng: np.random.Generator, n_periods: int, n_ch: int) -> np.ndarray:
    """Spend with drift, flights and noise (as :func:`trueroi.mmm.simulate.simulate`)."""
    t = np.arange(n_periods)
    season = np.sin(2 * np.pi * t * 7 / 365.25)
    spend = np.empty((n_periods, n_ch))
    for i in range(n_ch):
        level = rng.uniform(3_000, 20_000)
        walk = np.exp(np.cumsum(rng.normal(0, 0.08, n_periods)))
        flights = np.where(rng.uniform(size=n_periods) < 0.2 + 0.05 * i, 0.2, 1.0)
        spend[:, i] = level * walk * flights * (1 + 0.2 * season) * rng.lognormal(0, 0.25, n_periods)
    return spend


def _truth(
    channels: list[str],
    spend: np.ndarray,
    direct: np.ndarray,
    parts: np.ndarray,
    clicks: np.ndarray,
    path: Any,
) -> tuple[dict[str, float], dict[str, float], float]:
    """True direct and indirect ROAS per channel (halo channels first, brand search third) and brand
    search's ROAS net of halo, counterfactually: the mediator path with and without each halo channel's
    brand clicks (``parts``, (T, H)); ``path`` maps a brand-click series to the path's revenue per period."""
    total = spend.sum(axis=0)
    indirect = [(path(clicks) - path(clicks - parts[:, j])).sum() for j in range(parts.shape[1])]
    roi_direct = {c: float(direct[:, i].sum() / total[i]) for i, c in enumerate(channels)}
    roi_indirect = {
        c: float(indirect[i] / total[i]) if i < len(indirect) else 0.0 for i, c in enumerate(channels)
    }
    net = (direct[:, 2].sum() + path(clicks - parts.sum(axis=1)).sum()) / total[2]
    return roi_direct, roi_indirect, float(net)


def _brand_clicks(
    rng: np.random.Generator, eff: np.ndarray, season: np.ndarray, halo_share: float, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """Brand clicks: a trending seasonal base with its own noise, plus what the halo channels cause (their
    saturated effects ``eff``, (T, 2), split 60/40 of ``halo_share``). Returns (parts (T, 2), clicks (T,))."""
    n_periods = eff.shape[0]
    base = 10_000 * np.exp(0.1 * season + 0.1 * np.arange(n_periods) / n_periods)
    weights = np.array([0.6, 0.4]) * halo_share / (1 - halo_share) * base.mean() / eff.mean(axis=0)
    parts = eff * weights
    return parts, base * np.exp(rng.normal(0, noise, n_periods)) + parts.sum(axis=1)


def simulate_halo(
    seed: int = 0,
    n_periods: int = 104,
    halo_share: float = 0.35,
    direct_roas: tuple[float, float, float, float] = (1.0, 0.8, 2.0, 1.5),
    mediator_share: float = 0.25,
    mediator_noise: float = 0.08,
    noise: float = 0.03,
    start: str = "2022-01-03",
) -> HaloSimulation:
    """Simulate weekly revenue, spend on four channels and brand clicks with a known halo.

    Channels: ``display_spend`` and ``video_spend`` (halo channels), ``brand_search_spend`` (the brand-search
    channel, direct effect only) and ``generic_search_spend``.

    Parameters
    ----------
    seed
        Seed of the generator; the same seed gives the same data.
    halo_share
        Share of brand clicks the two halo channels cause over the series (0: no halo in the truth).
    direct_roas
        True direct ROAS of each channel, in the order above.
    mediator_share
        Share of revenue the brand-search volume path brings over the series.
    mediator_noise, noise
        Noise of brand clicks and of revenue, as shares of their means.
    """
    rng = np.random.default_rng(seed)
    channels = ["display_spend", "video_spend", "brand_search_spend", "generic_search_spend"]
    halo = channels[:2]
    t = np.arange(n_periods)
    season = np.sin(2 * np.pi * t * 7 / 365.25)
    spend = _spend(rng, n_periods, len(channels))
    scale = spend.mean(axis=0)
    eff = _effects(spend / scale, np.array([0.5, 0.6, 0.2, 0.3]), np.array([1.0, 1.2, 0.8, 1.0]), 1.2)
    parts, clicks = _brand_clicks(rng, eff[:, :2], season, halo_share, mediator_noise)
    m_scale = clicks.mean()  # the model scales the mediator by its mean, so the truth uses the same scale

    def path(m: np.ndarray) -> np.ndarray:
        return _effects(np.maximum(m, 0)[:, None] / m_scale, np.array([0.3]), np.array([0.9]), 1.5)[:, 0]

    direct = eff * np.asarray(direct_roas) * spend.sum(axis=0) / eff.sum(axis=0)
    base_revenue = 2.0 * direct.sum(axis=1).mean() * np.exp(0.12 * season + 0.1 * t / n_periods)
    g = mediator_share * (base_revenue.mean() + direct.sum(axis=1).mean()) / (1 - mediator_share)
    g /= path(clicks).mean()
    revenue = base_revenue + direct.sum(axis=1) + g * path(clicks)
    revenue = revenue + rng.normal(0, noise * revenue.mean(), n_periods)
    roi_direct, roi_indirect, net = _truth(channels, spend, direct, parts, clicks, lambda m: g * path(m))
    df = pd.DataFrame({"week": pd.date_range(start, periods=n_periods, freq="7D"), "revenue": revenue})
    for i, c in enumerate(channels):
        df[c] = spend[:, i]
    df["brand_clicks"] = clicks
    return HaloSimulation(
        df,
        channels,
        halo,
        "brand_clicks",
        channels[2],
        roi_direct,
        roi_indirect,
        {c: roi_direct[c] + roi_indirect[c] for c in channels},
        float(net),
        float(parts.sum() / clicks.sum()),
        {"halo_clicks": parts, "mediator_path": g * path(clicks)},
    )


@dataclass
class GeoHaloSimulation:
    """A long geo panel (``geo`` column) of independent :func:`simulate_halo` series, and its national
    truth (summed contributions over summed spend; the halo share over all brand clicks)."""

    df: pd.DataFrame
    channels: list[str]
    halo: list[str]
    mediator: str
    mediator_channel: str
    roi_direct: dict[str, float]
    roi_indirect: dict[str, float]
    roi_total: dict[str, float]
    roi_net_of_halo: float
    halo_share: float


def simulate_geo_halo(
    seed: int = 0, n_geos: int = 4, n_periods: int = 104, halo_share: float = 0.35
) -> GeoHaloSimulation:
    """Simulate ``n_geos`` geos, each a :func:`simulate_halo` series with its own seed (its own spend
    levels, so geos differ in size and true ROAS), and the national truth."""
    sims = [simulate_halo(seed * 1000 + g, n_periods, halo_share) for g in range(n_geos)]
    first = sims[0]
    spend = {c: [float(s.df[c].sum()) for s in sims] for c in first.channels}

    def pooled(per_geo: list[float], c: str) -> float:
        return float(np.dot(per_geo, spend[c]) / sum(spend[c]))

    direct = {c: pooled([s.roi_direct[c] for s in sims], c) for c in first.channels}
    indirect = {c: pooled([s.roi_indirect[c] for s in sims], c) for c in first.channels}
    brand = first.mediator_channel
    clicks = [float(s.df[first.mediator].sum()) for s in sims]
    df = pd.concat([s.df.assign(geo=f"geo_{g}") for g, s in enumerate(sims)], ignore_index=True)
    return GeoHaloSimulation(
        df,
        first.channels,
        first.halo,
        first.mediator,
        brand,
        direct,
        indirect,
        {c: direct[c] + indirect[c] for c in first.channels},
        pooled([s.roi_net_of_halo for s in sims], brand),
        float(np.dot([s.halo_share for s in sims], clicks) / sum(clicks)),
    )
