"""Simulate customer summaries from each CLV model with known parameters (seeded, vectorised).

Used for parameter-recovery tests and benchmarks: each function draws the latent traits of every customer,
then their purchase history up to age ``T``, and returns the summary the fitters take.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _ages(rng: np.random.Generator, n: int, T) -> np.ndarray:
    if T is None:
        return rng.uniform(26.0, 39.0, size=n)
    return np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()


def _last_of(rng: np.random.Generator, x: np.ndarray, count: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Time of the ``x``-th of ``count`` uniform arrivals on ``[0, span]`` (0 when ``x == 0``)."""
    pos = x > 0
    out = np.zeros_like(span)
    out[pos] = span[pos] * rng.beta(x[pos], count[pos] - x[pos] + 1)
    return out


def simulate_beta_geo(
    params, n: int, *, T=None, modified: bool = False, seed: int | np.random.Generator = 0
) -> pd.DataFrame:
    """Customers under BG/NBD (FHL 2005a) or MBG/NBD (Batislam et al. 2007).

    Purchases follow a Poisson process with rate ``lambda ~ Gamma(r, rate=alpha)``; after each repeat
    purchase (and, for MBG/NBD, also right after the first) the customer drops out with probability
    ``p ~ Beta(a, b)``.

    Parameters
    ----------
    params
        ``(r, alpha, a, b)``.
    n
        Number of customers.
    T
        Age of each customer (scalar or array); default uniform on [26, 39] time units, as in CDNOW.
    seed
        Seed or generator.

    Returns
    -------
    DataFrame with ``frequency, recency, T``.
    """
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    age = _ages(rng, n, T)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    allowed = rng.geometric(p) - (1 if modified else 0)  # purchases made before dropping out
    count = rng.poisson(lam * age)
    x = np.minimum(count, allowed)
    t_x = _last_of(rng, x, count, age)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": t_x, "T": age})


def simulate_pareto_nbd(params, n: int, *, T=None, seed: int | np.random.Generator = 0) -> pd.DataFrame:
    """Customers under the Pareto/NBD: Poisson purchasing at ``lambda ~ Gamma(r, rate=alpha)`` until an
    exponential lifetime with rate ``mu ~ Gamma(s, rate=beta)`` ends (Schmittlein et al. 1987)."""
    r, alpha, s, beta = params
    rng = np.random.default_rng(seed)
    age = _ages(rng, n, T)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    active = np.minimum(rng.exponential(1.0 / mu), age)
    x = rng.poisson(lam * active)
    t_x = _last_of(rng, x, x, active)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": t_x, "T": age})


def simulate_bgbb(params, n: int, *, n_periods: int = 6, seed: int | np.random.Generator = 0) -> pd.DataFrame:
    """Customers under the BG/BB (Fader, Hardie & Shang 2010): in each of ``n_periods`` opportunities an
    alive customer transacts with probability ``p ~ Beta(alpha, beta)`` and then, before the next period,
    dies with probability ``theta ~ Beta(gamma, delta)``.

    Returns
    -------
    DataFrame with ``frequency, recency, n_periods`` (integers).
    """
    al, be, ga, de = params
    rng = np.random.default_rng(seed)
    p = rng.beta(al, be, size=n)
    theta = rng.beta(ga, de, size=n)
    alive_periods = np.minimum(rng.geometric(theta) - 1, n_periods)
    period = np.arange(1, n_periods + 1)[None, :]
    buys = (rng.random((n, n_periods)) < p[:, None]) & (period <= alive_periods[:, None])
    x = buys.sum(axis=1)
    t_x = np.where(x > 0, (buys * period).max(axis=1), 0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "n_periods": np.full(n, n_periods)})


def simulate_gamma_gamma(params, frequency, *, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Mean spend per customer under the Gamma-Gamma model: ``nu ~ Gamma(q, rate=v)`` per customer and the
    mean of ``x`` transactions, each ``Gamma(p, rate=nu)``, which is ``Gamma(p x, rate=x nu)``; NaN where
    ``x == 0``."""
    p, q, v = params
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1.0 / v, size=x.shape)
    out = np.full(x.shape, np.nan)
    pos = x > 0
    out[pos] = rng.gamma(p * x[pos], 1.0 / (x[pos] * nu[pos]))
    return out
