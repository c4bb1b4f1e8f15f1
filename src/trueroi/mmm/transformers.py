"""Pure media transformations of a mix model: adstock (carry-over) and saturation (diminishing returns).

Every function works on NumPy arrays and on JAX arrays alike (the array module is taken from the input),
so the same code runs inside the NumPyro model, over posterior draws in NumPy, and in the budget planner.

Conventions
-----------
- Time is axis 0 of ``x``: shape ``(T,)`` or ``(T, ...)``; parameters broadcast against ``x.shape[1:]``
  (one value per channel, or per draw and channel).
- Adstock weights are normalised to sum to one by default, so adstock only moves spend in time and keeps
  its total (up to what is carried past the last period), as in Jin et al. (2017) "Bayesian Methods for
  Media Mix Modeling with Carryover and Shape Effects", Google Inc., eq. (1)-(3).
- Saturation functions map non-negative (scaled) media to a dimensionless response; a coefficient of the
  model multiplies them.

Components are declared once in :data:`ADSTOCKS` and :data:`SATURATIONS` and found by name
(:func:`get_adstock`, :func:`get_saturation`), so the CLI, saved model configs and the API share one
vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from trueroi.errors import UsageError

Array = Any  # numpy.ndarray or jax.Array


def _xp(*arrays: Any) -> Any:
    """The array module of the inputs: ``jax.numpy`` if any input is a JAX array, else NumPy."""
    for a in arrays:
        if type(a).__module__.startswith(("jax", "jaxlib")):
            import jax.numpy as jnp

            return jnp
    return np


# -- adstock weights -------------------------------------------------------------------------------------
def geometric_weights(alpha: Array, l_max: int) -> Array:
    """Geometric decay weights ``w_l = alpha**l`` for lags ``l = 0..l_max-1`` (Jin et al. 2017, eq. 1).

    Returns shape ``(l_max, *alpha.shape)``, not normalised.
    """
    xp = _xp(alpha)
    alpha = xp.asarray(alpha)
    lags = xp.arange(l_max).reshape((l_max,) + (1,) * alpha.ndim)
    return alpha[None, ...] ** lags


def delayed_weights(alpha: Array, theta: Array, l_max: int) -> Array:
    """Delayed weights ``w_l = alpha**((l - theta)**2)``, peak at lag ``theta`` (Jin et al. 2017, eq 3)."""
    xp = _xp(alpha, theta)
    alpha, theta = xp.asarray(alpha), xp.asarray(theta)
    shape = xp.broadcast_shapes(alpha.shape, theta.shape)
    lags = xp.arange(l_max).reshape((l_max,) + (1,) * len(shape))
    return alpha[None, ...] ** ((lags - theta[None, ...]) ** 2)


def weibull_pdf_weights(shape: Array, scale: Array, l_max: int) -> Array:
    """Weibull-PDF adstock weights as in Robyn: the Weibull density at lags ``1..l_max`` with scale in lags.

    ``shape`` > 1 gives a delayed peak, ``shape`` <= 1 a decay from the first period. The density is
    evaluated at ``l + 1`` so the weight of the current period is finite for every shape.
    """
    xp = _xp(shape, scale)
    k, lam = xp.asarray(shape), xp.asarray(scale)
    bshape = xp.broadcast_shapes(k.shape, lam.shape)
    t = xp.arange(1, l_max + 1, dtype=float).reshape((l_max,) + (1,) * len(bshape))
    z = t / lam[None, ...]
    return (k[None, ...] / lam[None, ...]) * z ** (k[None, ...] - 1.0) * xp.exp(-(z ** k[None, ...]))


def weibull_cdf_weights(shape: Array, scale: Array, l_max: int) -> Array:
    """Weibull-CDF (survival) adstock weights as in Robyn: ``w_l = prod_{i<=l} (1 - F(i))``, ``w_0 = 1``.

    ``F`` is the Weibull CDF with the given shape and scale (in lags), so the decay rate changes over time.
    """
    xp = _xp(shape, scale)
    k, lam = xp.asarray(shape), xp.asarray(scale)
    bshape = xp.broadcast_shapes(k.shape, lam.shape)
    t = xp.arange(1, l_max, dtype=float).reshape((l_max - 1,) + (1,) * len(bshape))
    survive = xp.exp(-((t / lam[None, ...]) ** k[None, ...]))
    ones = xp.ones((1,) + bshape)
    return xp.concatenate([ones, xp.cumprod(survive, axis=0)], axis=0)


# -- convolution -----------------------------------------------------------------------------------------
def apply_weights(x: Array, weights: Array, normalize: bool = True) -> Array:
    """Carry ``x`` forward in time: ``y_t = sum_l w_l x_{t-l}`` (spend before the first period is zero).

    Parameters
    ----------
    x
        Shape ``(T, ...)``: media per period.
    weights
        Shape ``(L, ...)`` broadcastable against ``x.shape[1:]``.
    normalize
        Divide the weights by their sum, so the total is preserved when nothing is carried past ``T``.
    """
    xp = _xp(x, weights)
    x, w = xp.asarray(x), xp.asarray(weights)
    if normalize:
        w = w / xp.sum(w, axis=0, keepdims=True)
    n_t = x.shape[0]
    out = x * w[0]
    for lag in range(1, min(w.shape[0], n_t)):
        pad = xp.zeros((lag,) + x.shape[1:], dtype=x.dtype)
        shifted = xp.concatenate([pad, x[: n_t - lag]], axis=0)
        out = out + shifted * w[lag]
    return out


def lag_stack(x: np.ndarray, l_max: int) -> np.ndarray:
    """The series and its lags, shape ``(l_max, T, ...)``: ``out[l, t] = x[t - l]`` (zero before the start).

    Adstock of data is then a contraction with the lag weights, ``sum_l w_l out[l]`` (one matrix product
    instead of ``l_max`` shifted copies inside the sampler; the same sum as :func:`apply_weights`).
    """
    x = np.asarray(x, dtype=float)
    out = np.zeros((l_max,) + x.shape)
    for lag in range(min(l_max, x.shape[0])):
        out[lag, lag:] = x[: x.shape[0] - lag]
    return out


def geometric_adstock(x: Array, alpha: Array, l_max: int = 12, normalize: bool = True) -> Array:
    """Geometric adstock (Jin et al. 2017, eq. 1): ``y_t = sum_l alpha**l x_{t-l} / sum_l alpha**l``."""
    return apply_weights(x, geometric_weights(alpha, l_max), normalize)


def delayed_adstock(x: Array, alpha: Array, theta: Array, l_max: int = 12, normalize: bool = True) -> Array:
    """Delayed adstock (Jin et al. 2017, eq. 3) with peak at lag ``theta`` and retention ``alpha``."""
    return apply_weights(x, delayed_weights(alpha, theta, l_max), normalize)


def weibull_adstock(x: Array, shape: Array, scale: Array, l_max: int = 12, normalize: bool = True) -> Array:
    """Weibull-PDF adstock (Robyn, Meta 2021): flexible decay with an optional delayed peak."""
    return apply_weights(x, weibull_pdf_weights(shape, scale, l_max), normalize)


def weibull_cdf_adstock(
    x: Array, shape: Array, scale: Array, l_max: int = 12, normalize: bool = True
) -> Array:
    """Weibull-CDF adstock (Robyn, Meta 2021): decay whose rate changes with time since exposure."""
    return apply_weights(x, weibull_cdf_weights(shape, scale, l_max), normalize)


# -- saturation ------------------------------------------------------------------------------------------
def hill(x: Array, half: Array, slope: Array) -> Array:
    """Hill saturation (Jin et al. 2017, eq. 5): ``x**s / (x**s + K**s)``, 0.5 at ``x = K`` (``half``)."""
    xp = _xp(x, half, slope)
    x = xp.maximum(xp.asarray(x), 0.0)
    positive = x > 0
    ratio = xp.where(positive, x / half, 1.0)  # keeps the gradient finite at zero media
    powered = xp.where(positive, ratio**slope, 0.0)
    return powered / (1.0 + powered)


def logistic(x: Array, lam: Array) -> Array:
    """Logistic saturation as in PyMC-Marketing: ``(1 - exp(-lam x)) / (1 + exp(-lam x))``, in [0, 1)."""
    xp = _xp(x, lam)
    e = xp.exp(-lam * xp.maximum(xp.asarray(x), 0.0))
    return (1.0 - e) / (1.0 + e)


def michaelis_menten(x: Array, k: Array, vmax: Array = 1.0) -> Array:
    """Michaelis-Menten saturation: ``vmax x / (k + x)``, half of ``vmax`` at ``x = k``."""
    xp = _xp(x, k, vmax)
    x = xp.maximum(xp.asarray(x), 0.0)
    return vmax * x / (k + x)


# -- registry --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)  # hashed by identity: registry entries are singletons
class Component:
    """A pluggable media transformation: its function and the names of its parameters, in call order.

    ``priors`` maps each parameter to a NumPyro distribution name and its arguments, on the model's scale
    (media scaled to mean one per channel; lags in periods).
    """

    name: str
    fn: Callable[..., Array]
    params: tuple[str, ...]
    priors: dict[str, tuple[str, tuple[float, ...]]]
    description: str
    weights: Callable[..., Array] | None = None  # adstocks: (params..., l_max) -> lag weights (L, ...)

    def __call__(self, x: Array, **params: Array) -> Array:
        return self.fn(x, **params)


ADSTOCKS: dict[str, Component] = {
    "geometric": Component(
        "geometric",
        geometric_adstock,
        ("alpha",),
        {"alpha": ("Beta", (1.5, 3.0))},
        "alpha**lag, normalised (Jin et al. 2017)",
        geometric_weights,
    ),
    "delayed": Component(
        "delayed",
        delayed_adstock,
        ("alpha", "theta"),
        {"alpha": ("Beta", (1.5, 3.0)), "theta": ("HalfNormal", (2.0,))},
        "alpha**((lag-theta)**2), peak at lag theta (Jin et al. 2017)",
        delayed_weights,
    ),
    "weibull": Component(
        "weibull",
        weibull_adstock,
        ("shape", "scale"),
        {"shape": ("Gamma", (2.0, 2.0)), "scale": ("Gamma", (2.0, 1.0))},
        "Weibull density over lags (Robyn)",
        weibull_pdf_weights,
    ),
    "weibull_cdf": Component(
        "weibull_cdf",
        weibull_cdf_adstock,
        ("shape", "scale"),
        {"shape": ("Gamma", (2.0, 2.0)), "scale": ("Gamma", (2.0, 1.0))},
        "Weibull survival over lags (Robyn)",
        weibull_cdf_weights,
    ),
}

SATURATIONS: dict[str, Component] = {
    "hill": Component(
        "hill",
        hill,
        ("half", "slope"),
        # slope: median 1.2, 95% in (0.55, 2.6), 1.5% below 0.5. Gamma(4, 3) left 6.6% below 0.5, where
        # the curve is nearly flat in spend, the channel acts as a second intercept and half and adstock
        # lose their meaning: a funnel where NUTS diverged (bench/RESULTS.md, sampler health); Robyn bounds
        # the slope below at 0.5 and Meridian fixes it at 1
        {"half": ("LogNormal", (0.0, 0.6)), "slope": ("LogNormal", (0.18, 0.4))},
        "x**s/(x**s+K**s) (Jin et al. 2017)",
    ),
    "logistic": Component(
        "logistic",
        logistic,
        ("lam",),
        {"lam": ("Gamma", (2.0, 2.0))},
        "(1-exp(-lam x))/(1+exp(-lam x)) (PyMC-Marketing)",
    ),
    "michaelis_menten": Component(
        "michaelis_menten",
        michaelis_menten,
        ("k",),
        {"k": ("LogNormal", (0.0, 0.6))},
        "x/(k+x) (Michaelis-Menten)",
    ),
}


def get_adstock(name: str) -> Component:
    """The adstock registered under ``name``; raises :class:`UsageError` naming the known ones."""
    return _lookup(ADSTOCKS, name, "adstock")


def get_saturation(name: str) -> Component:
    """The saturation registered under ``name``; raises :class:`UsageError` naming the known ones."""
    return _lookup(SATURATIONS, name, "saturation")


def _lookup(registry: dict[str, Component], name: str, kind: str) -> Component:
    if name not in registry:
        known = ", ".join(sorted(registry))
        raise UsageError(f"unknown {kind} {name!r}; expected one of: {known}")
    return registry[name]
