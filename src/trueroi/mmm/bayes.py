"""The NumPyro model of the mix and the engines that fit it (NUTS, MAP, Laplace).

The model, on scaled data (KPI / its mean, spend / its mean per channel):

    y_t = baseline_t + sum_c beta_c * sat_c(adstock_c(x_c))_t + sum_k theta_k z_kt + eps_t,
    baseline_t = exp(b0 + k * trend_t + sum_j gamma_j f_jt + sum_e delta_e d_et)  (never negative),
    eps_t ~ Normal(0, sigma).

Media priors are set either on each channel's ROI (``prior="roi"``, Meridian's reparameterisation: Jin et
al. 2017 and Google Meridian's "ROI priors" where ``beta_c`` follows from a LogNormal ROI and the channel's
spend), or on the coefficients scaled by spend share (``prior="coef"``, as PyMC-Marketing's HalfNormal
priors scaled by spend). Lift tests add ``lift_i ~ Normal(modelled lift_i, se_i)`` terms (Meridian and
PyMC-Marketing's "lift test calibration").

JAX and NumPyro are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trueroi.errors import ConvergenceError
from trueroi.mmm import nuts
from trueroi.mmm.transformers import Component, lag_stack


@dataclass(frozen=True)
class ModelSpec:
    """What the model function needs besides the arrays: components, lags, prior settings and the number of
    training periods (static: it sets array shapes)."""

    adstock: Component
    saturation: Component
    l_max: int
    prior: str
    n_train: int
    # data-dependent prior settings travel as arrays ("roi_mu", ...), so compiled code is shared between fits
    roi_mu: tuple[float, ...] = field(compare=False)
    roi_sigma: tuple[float, ...] = field(compare=False)
    coef_sigma: tuple[float, ...] = field(compare=False)


def _dist(name: str, args: tuple[float, ...]) -> Any:
    import numpyro.distributions as dist

    return getattr(dist, name)(*args)


def channel_effects(media: Any, params: dict[str, Any], spec: ModelSpec) -> Any:
    """``sat(adstock(media))`` for media of shape (T, ...) with parameters broadcast over ``...``."""
    ad = {p: params[f"adstock_{p}"] for p in spec.adstock.params}
    sa = {p: params[f"sat_{p}"] for p in spec.saturation.params}
    return spec.saturation.fn(spec.adstock.fn(media, **ad, l_max=spec.l_max), **sa)


def lagged_effects(lags: Any, params: dict[str, Any], spec: ModelSpec) -> Any:
    """:func:`channel_effects` of data given as its lag stack (L, T, C) or (L, T, ..., C) (see
    :func:`~trueroi.mmm.transformers.lag_stack`): the adstock is one contraction with the normalised lag
    weights, which keeps the compiled density small and fast."""
    import jax.numpy as jnp

    ad = {p: params[f"adstock_{p}"] for p in spec.adstock.params}
    sa = {p: params[f"sat_{p}"] for p in spec.saturation.params}
    w = spec.adstock.weights(**ad, l_max=spec.l_max)  # (L, C)
    w = w / jnp.sum(w, axis=0, keepdims=True)
    if lags.ndim == 3:
        return spec.saturation.fn(jnp.einsum("ltc,lc->tc", lags, w), **sa)
    w = w.reshape((w.shape[0],) + (1,) * (lags.ndim - 2) + w.shape[1:])  # (L, 1, ..., C)
    return spec.saturation.fn((lags * w).sum(axis=0), **sa)


def with_lags(arrays: dict[str, Any], l_max: int) -> dict[str, Any]:
    """``arrays`` plus the lag stacks the density uses: ``media_lags`` (L, T, C) and, with lift tests,
    ``lift_lags`` (L, T, N) of each test's perturbed spend (channels on the last axis; a geo panel's
    (T, G, C) media give (L, T, G, C) and (L, T, G, N))."""
    out = dict(arrays)
    out["media_lags"] = lag_stack(arrays["media"], l_max)
    if "organic" in arrays:  # unpaid media inputs (T, O), see trueroi.mmm.organic
        out["organic_lags"] = lag_stack(arrays["organic"], l_max)
    if "lift_channel" in arrays:
        base = np.take(np.asarray(arrays["media"]), np.asarray(arrays["lift_channel"]), axis=-1)
        out["lift_lags"] = lag_stack(np.maximum(base + np.asarray(arrays["lift_delta"]), 0.0), l_max)
    return out


def mmm_model(arrays: dict[str, Any], spec: ModelSpec, y: Any = None) -> None:
    """NumPyro model. ``arrays`` holds media (T, C), trend (T,), fourier (T, F), controls (T, K),
    events (T, E), roi_factor (C,) = training spend / KPI scale, and optional lift arrays and organic
    inputs (T, O) (:mod:`trueroi.mmm.organic`)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    media = arrays["media"]
    n_channels = media.shape[1]
    params: dict[str, Any] = {}
    with numpyro.plate("channel", n_channels):
        for p in spec.adstock.params:
            params[f"adstock_{p}"] = numpyro.sample(f"adstock_{p}", _dist(*spec.adstock.priors[p]))
        for p in spec.saturation.params:
            params[f"sat_{p}"] = numpyro.sample(f"sat_{p}", _dist(*spec.saturation.priors[p]))
        effect = lagged_effects(arrays["media_lags"], params, spec)  # (T, C)
        n_train = spec.n_train
        if spec.prior == "roi":
            roi = numpyro.sample("roi", dist.LogNormal(arrays["roi_mu"], arrays["roi_sigma"]))
            beta = roi * arrays["roi_factor"] / jnp.maximum(effect[:n_train].sum(axis=0), 1e-6)
            beta = numpyro.deterministic("beta", beta)
        else:
            beta = numpyro.sample("beta", dist.HalfNormal(arrays["coef_sigma"]))
    mu = jnp.exp(log_baseline(arrays)) + effect @ beta
    if "organic_lags" in arrays and arrays["organic_lags"].shape[-1]:
        mu = mu + organic_sample(arrays, spec).sum(axis=-1)
    if arrays["controls"].shape[1]:
        theta = numpyro.sample(
            "control", dist.Normal(0.0, 0.3).expand([arrays["controls"].shape[1]]).to_event(1)
        )
        mu = mu + arrays["controls"] @ theta
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.3))
    numpyro.sample("y", dist.Normal(mu[:n_train], sigma), obs=y)
    if "lift_channel" in arrays:
        _lift_likelihood(arrays, params, beta, effect, spec)


BASE_REF = float(np.log(0.6))
"""Log of the reference baseline level (KPI scaled to mean one) at which the baseline's shape priors are
stated: the centre of the intercept's prior."""

BASELINE_TERMS = (("trend", "trend", 0.5), ("season", "fourier", 0.3), ("event", "events", 0.5))
"""Multiplicative baseline terms: (site, array, prior sd of the coefficient at the reference level)."""


def log_baseline(arrays: dict[str, Any]) -> Any:
    """Sample the baseline and return its log, ``b0 + k trend_t + sum_j gamma_j f_jt + sum_e delta_e d_et``.

    The shape coefficients are sampled as swings in KPI units (``<site>_swing``, prior sd as stated in
    :data:`BASELINE_TERMS` at the reference level :data:`BASE_REF`) and turned into the multiplicative
    coefficients ``coef = swing * exp(BASE_REF - b0)`` (deterministic sites ``trend``, ``season``,
    ``event``). With the coefficients sampled directly, the data fix the swing ``exp(b0) * coef`` in KPI
    units, so every coefficient lies on a curved ridge ``coef ~ 1 / exp(b0)`` (correlation -0.9 with the
    intercept on the simulations) and NUTS diverges where the baseline is low and the curvature high, the
    geometry Betancourt & Girolami (2015) fix by reparameterisation; the swing is nearly uncorrelated with
    ``b0`` (``bench/RESULTS.md``, sampler health).
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    b0 = numpyro.sample("intercept", dist.Normal(BASE_REF, 0.7))
    rel = jnp.exp(BASE_REF - b0)
    log_base = b0
    for name, key, scale in BASELINE_TERMS:
        cols = arrays[key]
        if cols.ndim == 1:
            swing = numpyro.sample(f"{name}_swing", dist.Normal(0.0, scale))
            log_base = log_base + numpyro.deterministic(name, swing * rel) * cols
        elif cols.shape[1]:
            prior = dist.Normal(0.0, scale).expand([cols.shape[1]]).to_event(1)
            swing = numpyro.sample(f"{name}_swing", prior)
            log_base = log_base + cols @ numpyro.deterministic(name, swing * rel)
    return log_base


ORGANIC_BETA_SD = 0.3
"""Prior sd (HalfNormal) of an organic input's coefficient: its largest effect per period, as a share of the
mean KPI (the KPI is scaled to mean one)."""
ORGANIC_PREFIX = "organic_"


def organic_sample(arrays: dict[str, Any], spec: ModelSpec) -> Any:
    """Sample the organic terms inside the NumPyro model and return their effect (T, O) on the scaled KPI
    (the parameters are the sites ``organic_adstock_*``, ``organic_sat_*`` and ``organic_beta``)."""
    import numpyro
    import numpyro.distributions as dist

    params: dict[str, Any] = {}
    with numpyro.plate("organic", arrays["organic_lags"].shape[-1]):
        for p in spec.adstock.params:
            site = f"{ORGANIC_PREFIX}adstock_{p}"
            params[f"adstock_{p}"] = numpyro.sample(site, _dist(*spec.adstock.priors[p]))
        for p in spec.saturation.params:
            site = f"{ORGANIC_PREFIX}sat_{p}"
            params[f"sat_{p}"] = numpyro.sample(site, _dist(*spec.saturation.priors[p]))
        beta = numpyro.sample(f"{ORGANIC_PREFIX}beta", dist.HalfNormal(ORGANIC_BETA_SD))
    return lagged_effects(arrays["organic_lags"], params, spec) * beta


def _lift_likelihood(
    arrays: dict[str, Any], params: dict[str, Any], beta: Any, effect: Any, spec: ModelSpec
) -> None:
    """Each lift test: the modelled extra KPI of the test's spend change over its window ~ its measurement."""
    import numpyro
    import numpyro.distributions as dist

    idx = arrays["lift_channel"]  # (N,)
    per_test = {k: v[idx] for k, v in params.items()}
    delta = lagged_effects(arrays["lift_lags"], per_test, spec) - effect[:, idx]
    modelled = beta[idx] * (delta * arrays["lift_window"]).sum(axis=0)
    with numpyro.plate("lift_test", idx.shape[0]):
        numpyro.sample("lift", dist.Normal(modelled, arrays["lift_se"]), obs=arrays["lift_obs"])


# -- engines ---------------------------------------------------------------------------------------------
_COMPILED: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}


def model_of(spec: Any) -> Any:
    """The NumPyro model a spec belongs to: :func:`mmm_model`, or the spec's own ``model_fn`` (the geo
    model's spec carries it), so the engines below serve every model."""
    return getattr(spec, "model_fn", None) or mmm_model


def xla_options(spec: Any) -> tuple[tuple[str, Any], ...]:
    """XLA compile options for a model's programs: the single-series model compiles and samples faster with
    XLA CPU's elemental emitters (:data:`trueroi.mmm.nuts.ELEMENTAL_EMITTERS`); the geo model samples slower
    with them and keeps XLA's defaults."""
    return nuts.ELEMENTAL_EMITTERS if model_of(spec) is mmm_model else ()


def _compiled(name: str, spec: Any) -> Any:
    """Jitted density functions shared by every fit, so a refit of the same shapes and settings reuses the
    compiled code (the spec is a static argument: components are hashed by identity); compiled with the
    :func:`xla_options` of ``spec``, except ``"potential"``, which runs only inside the sampler's programs
    (they carry the options; JAX takes them only at the outermost ``jit``)."""
    options = () if name == "potential" else xla_options(spec)
    if (name, options) not in _COMPILED:
        import jax
        from numpyro.infer.util import constrain_fn

        def constrain(z: Any, arrays: Any, y: Any, spec: ModelSpec) -> Any:
            return constrain_fn(model_of(spec), (arrays, spec), {"y": y}, z, return_deterministic=True)

        functions = {
            "potential": potential,
            "value_and_grad": jax.value_and_grad(potential),
            "constrain": jax.vmap(constrain, in_axes=(0, None, None, None)),
        }
        _COMPILED[(name, options)] = jax.jit(
            functions[name], static_argnames="spec", compiler_options=nuts.supported_options(options)
        )
    return _COMPILED[(name, options)]


class _Unconstrained:
    """The model's density in the unconstrained space, built without NumPyro's eager initialisation
    (which compiles every operation one by one and takes tens of seconds on a small CPU)."""

    def __init__(self, arrays: dict[str, Any], y: np.ndarray, spec: ModelSpec) -> None:
        import jax
        from numpyro import handlers

        nuts.enable_compilation_cache()  # before the first compilation (the mode search's)
        self.arrays = _to_jax(with_lags(arrays, spec.l_max))
        self.y, self.spec = _to_jax({"y": y})["y"], spec

        def latent_values(arrays: dict[str, Any], y: Any) -> dict[str, Any]:
            tr = handlers.trace(handlers.seed(model_of(spec), 0)).get_trace(arrays, spec, y=y)
            return {k: v["value"] for k, v in tr.items() if v["type"] == "sample" and not v["is_observed"]}

        # the data as arguments, not constants: nothing runs (NumPyro checks constant arguments eagerly)
        shapes = jax.eval_shape(latent_values, self.arrays, self.y)
        self.shapes = {k: tuple(v.shape) for k, v in shapes.items()}
        self.sizes = {k: int(np.prod(s)) for k, s in self.shapes.items()}

    def value_and_grad(self, flat: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = _compiled("value_and_grad", self.spec)(
            self.unflatten(flat), self.arrays, self.y, self.spec
        )
        return float(value), np.concatenate(
            [np.asarray(grad[k], dtype=float).reshape(-1) for k in self.shapes]
        )

    def unflatten(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """(..., n) flat vectors -> {site: (..., *shape)} float32 arrays."""
        flat = np.asarray(flat, dtype=np.float32)
        out, i = {}, 0
        for k, shape in self.shapes.items():
            out[k] = flat[..., i : i + self.sizes[k]].reshape(flat.shape[:-1] + shape)
            i += self.sizes[k]
        return out

    def constrain(self, z: dict[str, Any], batch: int = 64) -> dict[str, np.ndarray]:
        """Constrained values (and deterministic sites) of a batch of unconstrained points, batch axis 0.

        Mapped ``batch`` points at a time: the vectorised model holds its intermediates (the media lag stack
        and its transforms) once per point, so memory stays bounded by the batch; and on this project's CPUs
        (JAX 0.10 / XLA CPU) the vectorised geo model mapped 128 or more points at once returned
        deterministic sites (``beta``) up to 5% off, where 64 at a time agree with one at a time and with a
        float64 NumPy computation to float32 precision (tested).
        """
        z = {k: np.asarray(v) for k, v in z.items()}  # sliced and padded here, not by one-off XLA programs
        n = next(iter(z.values())).shape[0]
        size = min(batch, n)
        parts: list[dict[str, np.ndarray]] = []
        for lo in range(0, n, size):
            chunk = {k: v[lo : lo + size] for k, v in z.items()}
            m = next(iter(chunk.values())).shape[0]
            if m < size:  # pad the last chunk to the compiled shape (no second compilation)
                pad = size - m
                chunk = {k: np.concatenate([v, np.repeat(v[-1:], pad, axis=0)]) for k, v in chunk.items()}
            out = _compiled("constrain", self.spec)(chunk, self.arrays, self.y, self.spec)
            parts.append({k: np.asarray(v)[:m] for k, v in out.items() if k not in ("y", "lift")})
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def init(self, rng: np.random.Generator, radius: float, batch: tuple[int, ...] = ()) -> dict[str, Any]:
        """Uniform starting points in (-radius, radius), unconstrained (as NumPyro's init_to_uniform)."""
        return {k: rng.uniform(-radius, radius, batch + s).astype(np.float32) for k, s in self.shapes.items()}


def potential(z: dict[str, Any], arrays: dict[str, Any], y: Any, spec: ModelSpec) -> Any:
    """Negative log posterior density of :func:`mmm_model` at unconstrained ``z``."""
    from numpyro.infer.util import potential_energy

    return potential_energy(model_of(spec), (arrays, spec), {"y": y}, z)


def fit_posterior(
    method: str,
    arrays: dict[str, Any],
    y: np.ndarray,
    spec: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    chain_method: str,
    target_accept: float,
    seed: int,
    **nuts_options: Any,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Posterior draws by ``method``: ``"nuts"`` (:func:`run_nuts`, with ``nuts_options``), ``"laplace"``
    (``draws`` from the Gaussian at the mode) or ``"map"`` (the mode alone), see :func:`run_map`."""
    if method == "nuts":
        return run_nuts(
            arrays,
            y,
            spec,
            draws=draws,
            tune=tune,
            chains=chains,
            chain_method=chain_method,
            target_accept=target_accept,
            seed=seed,
            **nuts_options,
        )
    return run_map(arrays, y, spec, seed=seed, laplace_draws=draws if method == "laplace" else 0)


RETRY_TARGET_ACCEPT = 0.99
"""Target acceptance of the second run when the first diverged too often (see :func:`run_nuts`)."""
RETRY_DIVERGENCE_SHARE = 0.0
"""Share of draws above which a NUTS run's divergences call for a second run at a higher target acceptance:
any divergence, as any makes :func:`trueroi.mmm.checks.trust_problems` call the fit not to be trusted."""


def needs_retry(divergences: int, n_draws: int, target_accept: float, retry: float | None) -> bool:
    """Whether a run with ``divergences`` of ``n_draws`` should be repeated at ``retry`` acceptance."""
    too_many = divergences > RETRY_DIVERGENCE_SHARE * max(n_draws, 1)
    return bool(too_many and retry is not None and retry > target_accept)


def run_nuts(
    arrays: dict[str, Any],
    y: np.ndarray,
    spec: ModelSpec,
    *,
    draws: int,
    tune: int,
    chains: int,
    chain_method: str,
    target_accept: float,
    seed: int,
    dense_mass: bool = True,
    init: dict[str, Any] | None = None,
    init_at_mode: bool = True,
    retry_target_accept: float | None = RETRY_TARGET_ACCEPT,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Sample with NUTS (Hoffman & Gelman 2014) through :func:`trueroi.mmm.nuts.sample`; returns samples
    (chain, draw, ...) and extras. ``init``: unconstrained starting points ``{site: (chains, ...)}``;
    by default each chain starts at the posterior mode (one BFGS run) plus Normal(0, 0.1) jitter, so no
    chain begins in a corner of the prior where it can get stuck (uniform in (-0.5, 0.5), NumPyro's
    ``init_to_uniform``, if the mode search fails or ``init_at_mode`` is False: a centred hierarchical
    model's mode sits in the neck of its funnel, where chains get stuck).

    When more than :data:`RETRY_DIVERGENCE_SHARE` of the draws diverged, the chains are run again from
    the same starts with ``target_accept = retry_target_accept`` (smaller steps, as Stan's and PyMC's
    advice for divergences; None: never): extras then hold ``divergences_first_run`` and the
    ``target_accept`` used. Extras also hold ``divergences_per_chain``.
    """

    model = _Unconstrained(arrays, y, spec)
    rng = np.random.default_rng(seed)
    if init is None:
        best = _find_mode(model, rng, restarts=1) if init_at_mode else None
        if best is None:
            init = model.init(rng, 0.5, (chains,))
        else:
            init = model.unflatten(best.x + rng.normal(0.0, 0.1, (chains, best.x.shape[0])))

    def sample(accept: float) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        z, extras = nuts.sample(
            _compiled("potential", spec),  # jitted: traced once, not at every use inside the sampler
            spec,
            (model.arrays, model.y),
            init,
            draws=draws,
            tune=tune,
            chains=chains,
            chain_method=chain_method,
            target_accept=accept,
            dense_mass=dense_mass,
            seed=seed,
            xla_options=xla_options(spec),
        )
        extras["divergences_per_chain"] = [int(n) for n in extras.pop("diverging").sum(axis=1)]
        extras["target_accept"] = float(accept)
        return z, extras

    z, extras = sample(target_accept)
    first = extras["divergences"]
    if needs_retry(first, chains * draws, target_accept, retry_target_accept):
        z, extras = sample(float(retry_target_accept))  # type: ignore[arg-type]
        extras["divergences_first_run"] = first
    flat = {k: v.reshape((chains * draws,) + v.shape[2:]) for k, v in z.items()}
    samples = {k: v.reshape((chains, draws) + v.shape[1:]) for k, v in model.constrain(flat).items()}
    return samples, extras


def run_map(
    arrays: dict[str, Any],
    y: np.ndarray,
    spec: ModelSpec,
    *,
    seed: int,
    laplace_draws: int = 0,
    restarts: int = 3,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Posterior mode by BFGS in the unconstrained space, with several starts; with ``laplace_draws`` > 0,
    draws from the Laplace approximation (a Gaussian at the mode with the inverse Hessian as covariance,
    MacKay 2003, ch. 27) mapped back to the constrained space."""

    model = _Unconstrained(arrays, y, spec)
    rng = np.random.default_rng(seed)
    best = _find_mode(model, rng, restarts)
    if best is None:
        raise ConvergenceError(
            "the posterior mode search failed from every start (non-finite density); check "
            "the data for extreme values or use method='nuts'"
        )
    fun = _objective(model)
    extras: dict[str, Any] = {
        "divergences": 0,
        "map_converged": bool(best.success),
        "map_loss": float(best.fun),
    }
    if laplace_draws <= 0:
        flats = best.x[None, :]
    else:
        cov = _inverse_pd(_hessian(lambda f: fun(f)[1], best.x))
        flats = rng.multivariate_normal(best.x, cov, size=laplace_draws, method="eigh")
    samples = {k: v[None, ...] for k, v in model.constrain(model.unflatten(flats)).items()}
    return samples, extras


def _objective(model: _Unconstrained) -> Any:
    def fun(flat: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = model.value_and_grad(flat)
        if not (np.isfinite(value) and np.isfinite(grad).all()):  # outside the support: push the search back
            return 1e30, np.zeros_like(grad)
        return value, grad

    return fun


def _find_mode(model: _Unconstrained, rng: np.random.Generator, restarts: int) -> Any:
    """The best BFGS result over ``restarts`` starts (first in (-0.5, 0.5), then (-1.5, 1.5)), or None."""
    from scipy.optimize import minimize

    fun = _objective(model)
    z0 = rng.uniform(-0.5, 0.5, sum(model.sizes.values()))
    best = None
    for start in range(restarts):
        x0 = z0 if start == 0 else rng.uniform(-1.5, 1.5, z0.shape[0])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # line-search probes far outside the support
            res = minimize(fun, x0, jac=True, method="BFGS", options={"maxiter": 2000, "gtol": 1e-4})
        if np.isfinite(res.fun) and res.fun < 1e29 and (best is None or res.fun < best.fun):
            best = res
    return best


def _hessian(grad: Any, x: np.ndarray, step: float = 1e-2) -> np.ndarray:
    """Hessian by central differences of the compiled gradient (no second compilation), symmetrised."""
    n = x.shape[0]
    hess = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = step
        hess[i] = (grad(x + e) - grad(x - e)) / (2 * step)
    return (hess + hess.T) / 2


def _inverse_pd(hessian: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric matrix with eigenvalues floored, so the Laplace covariance is valid."""
    sym = (hessian + hessian.T) / 2
    vals, vecs = np.linalg.eigh(sym)
    vals = np.maximum(vals, 1e-6 + 1e-9 * max(vals.max(), 0.0))
    return (vecs / vals) @ vecs.T


def _to_jax(arrays: dict[str, Any]) -> dict[str, Any]:
    """Device arrays, cast by NumPy and put on the device as they are (``jnp.asarray`` would compile a
    small program per array)."""
    import jax

    return jax.device_put(
        {k: np.asarray(v, dtype=np.int32 if k == "lift_channel" else np.float32) for k, v in arrays.items()}
    )
