"""One compiled NUTS program per model shape: warm-up and sampling of every chain in a single XLA call.

NumPyro's ``MCMC`` closes over the data, so its compiled sampler is specific to one data set and (with
``chain_method="sequential"``) compiled again for every chain. Here the sampler is built from NumPyro's
functional HMC/NUTS kernels (``numpyro.infer.hmc.hmc``; NUTS of Hoffman & Gelman 2014 with Stan's windowed
step-size and mass-matrix adaptation) with the data as arguments, so:

- one compilation serves every chain and every data set of the same shape and settings;
- the compiled program goes to JAX's persistent compilation cache (``~/.cache/trueroi/jax``, or the
  directory in ``TRUEROI_JAX_CACHE``; ``TRUEROI_JAX_CACHE=off`` turns it off), as PyTensor keeps its compiled
  C code between runs, so a second fit of the same shape in a new process skips compilation;
- chains are not vectorised by default: ``vmap`` turns every ``cond`` of the NUTS tree builder into a
  ``select`` of both branches, which made the traced program about 130,000 operations and cost 20-40 s of
  tracing and compiling on the 156-week model, against under a second of tracing for one chain.

Chains run ``"vectorized"`` (``vmap``: in lockstep, each step costs the deepest tree of all chains),
``"parallel"`` (``pmap`` over the local devices, chains split evenly; on CPU set
``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before JAX starts, see
:func:`trueroi.mmm.use_cpu_cores`) or ``"sequential"`` (``lax.map``: one chain after another, one compile).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CHAIN_METHODS = ("auto", "vectorized", "parallel", "sequential")
_PROGRAMS: dict[tuple, Any] = {}


def use_cpu_cores(n: int | None = None) -> bool:
    """Expose ``n`` CPU cores (default: all) as JAX devices, so ``chain_method="parallel"`` runs chains on
    them at the same time. Works only before JAX starts (call it first thing in a script or CLI command;
    importing trueroi never does it); returns False, changing nothing, when JAX is already running or
    ``XLA_FLAGS`` already sets a device count."""
    import sys

    flags = os.environ.get("XLA_FLAGS", "")
    if "jax" in sys.modules or "xla_force_host_platform_device_count" in flags:
        return False
    count = n or os.cpu_count() or 1
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
    return True


def enable_compilation_cache() -> None:
    """Point JAX's persistent compilation cache at ``$TRUEROI_JAX_CACHE`` or ``~/.cache/trueroi/jax``
    unless the user configured one already (or set ``TRUEROI_JAX_CACHE=off``)."""
    import jax

    setting = os.environ.get("TRUEROI_JAX_CACHE", "")
    if setting.lower() in ("off", "0", "false", "no") or jax.config.jax_compilation_cache_dir:
        return
    path = Path(setting) if setting else Path.home() / ".cache" / "trueroi" / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: run without the cache
        return
    jax.config.update("jax_compilation_cache_dir", str(path))


def resolve_chain_method(method: str, chains: int) -> str:
    """``"auto"``: ``"parallel"`` when there are at least two local devices and the chains split evenly
    over them, else ``"sequential"``."""
    if method != "auto":
        return method
    import jax

    n_dev = jax.local_device_count()
    return "parallel" if chains > 1 and n_dev > 1 and chains % min(n_dev, chains) == 0 else "sequential"


def _program(
    potential: Callable[..., Any],
    static: Any,
    draws: int,
    tune: int,
    chains: int,
    chain_method: str,
    target_accept: float,
    dense_mass: bool,
    max_tree_depth: int,
    n_data: int,
) -> Any:
    """The compiled ``(init, keys, *data) -> (z, diverging, num_steps)`` sampler for these settings."""
    key = (
        potential,
        static,
        draws,
        tune,
        chains,
        chain_method,
        target_accept,
        dense_mass,
        max_tree_depth,
        n_data,
    )
    if key in _PROGRAMS:
        return _PROGRAMS[key]
    import jax
    from numpyro.infer.hmc import hmc

    init_kernel, sample_kernel = hmc(
        potential_fn_gen=lambda *data: lambda z: potential(z, *data, static), algo="NUTS"
    )

    def one_chain(z0: Any, rng_key: Any, *data: Any) -> tuple[Any, Any, Any]:
        state = init_kernel(
            z0,
            tune,
            dense_mass=dense_mass,
            target_accept_prob=target_accept,
            max_tree_depth=max_tree_depth,
            model_args=data,
            rng_key=rng_key,
        )

        def warm(s: Any, _: Any) -> tuple[Any, None]:
            return sample_kernel(s, model_args=data), None

        def draw(s: Any, _: Any) -> tuple[Any, tuple[Any, Any, Any]]:
            s = sample_kernel(s, model_args=data)
            return s, (s.z, s.diverging, s.num_steps)

        state, _ = jax.lax.scan(warm, state, None, length=tune)
        return jax.lax.scan(draw, state, None, length=draws)[1]

    if chain_method == "vectorized":
        run = jax.vmap(one_chain, in_axes=(0, 0) + (None,) * n_data)
    elif chain_method == "sequential":

        def run(z0: Any, keys: Any, *data: Any) -> Any:
            return jax.lax.map(lambda zk: one_chain(zk[0], zk[1], *data), (z0, keys))
    else:
        run = _parallel(one_chain, chains, n_data)
    compiled = jax.jit(run) if chain_method != "parallel" else run
    _PROGRAMS[key] = compiled
    return compiled


def _parallel(one_chain: Callable[..., Any], chains: int, n_data: int) -> Callable[..., Any]:
    """Chains split over the local devices (``pmap``), one after another within a device."""
    import jax

    n_dev = min(jax.local_device_count(), chains)
    per_dev = chains // n_dev

    def inner(z0: Any, keys: Any, *data: Any) -> Any:  # chains of one device one after another
        return jax.lax.map(lambda zk: one_chain(zk[0], zk[1], *data), (z0, keys))

    mapped = jax.pmap(inner, in_axes=(0, 0) + (None,) * n_data)

    def run(z0: Any, keys: Any, *data: Any) -> Any:
        split = jax.tree_util.tree_map(lambda a: a.reshape((n_dev, per_dev) + a.shape[1:]), (z0, keys))
        out = mapped(*split, *data)
        return jax.tree_util.tree_map(lambda a: a.reshape((chains,) + a.shape[2:]), out)

    return run


def sample(
    potential: Callable[..., Any],
    static: Any,
    data: tuple[Any, ...],
    init: dict[str, Any],
    *,
    draws: int,
    tune: int,
    chains: int,
    chain_method: str = "auto",
    target_accept: float = 0.9,
    dense_mass: bool = True,
    max_tree_depth: int = 10,
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Run NUTS on ``potential(z, *data, static)`` (the negative log density in the unconstrained space).

    Parameters
    ----------
    potential
        A module-level function (it keys the cache of compiled programs), ``static`` hashable.
    data
        Arrays (or pytrees of arrays) passed to the potential; shapes, not values, decide whether a
        compiled program is reused.
    init
        ``{site: (chains, ...)}`` unconstrained starting points.

    Returns
    -------
    samples, extras
        Unconstrained draws ``{site: (chains, draws, ...)}``; ``divergences`` (total after warm-up),
        ``mean_tree_steps`` (leapfrog steps per draw), ``chain_method``.
    """
    import jax

    enable_compilation_cache()
    method = resolve_chain_method(chain_method, chains)
    run = _program(
        potential, static, draws, tune, chains, method, target_accept, dense_mass, max_tree_depth, len(data)
    )
    keys = jax.random.split(jax.random.PRNGKey(seed), chains)
    z, diverging, steps = run(init, keys, *data)
    samples = {k: np.asarray(v) for k, v in z.items()}
    extras = {
        "divergences": int(np.asarray(diverging).sum()),
        "mean_tree_steps": float(np.asarray(steps).mean()),
        "chain_method": method,
    }
    return samples, extras
