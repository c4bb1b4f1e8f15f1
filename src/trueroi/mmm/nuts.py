"""NUTS with one compiled program per model shape, run in bounded calls over the chains.

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
  tracing and compiling on the 156-week model, against under a second of tracing for one chain;
- a call advances every chain by at most ``STEP_BUDGET`` leapfrog steps and returns to Python, which keeps
  memory bounded however long the chains (see ``STEP_BUDGET``) and lets a progress callback follow the run.

Chains run ``"vectorized"`` (``vmap``: in lockstep, each step costs the deepest tree of all chains),
``"parallel"`` (``shard_map`` over the local devices, chains split evenly, one after another on each; on CPU
set ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before JAX starts, see
:func:`trueroi.mmm.use_cpu_cores`) or ``"sequential"`` (``lax.map``: one chain after another).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

CHAIN_METHODS = ("auto", "vectorized", "parallel", "sequential")
_PROGRAMS: dict[tuple, Any] = {}
_REPORT: ContextVar[Callable[[int, int], None] | None] = ContextVar("trueroi_nuts_report", default=None)


@contextlib.contextmanager
def reporting(callback: Callable[[int, int], None]) -> Iterator[None]:
    """Within the block, every :func:`sample` without its own ``progress`` reports to ``callback``
    (iterations run, iterations in all): how the CLI shows a progress bar without threading a callback
    through the models."""
    token = _REPORT.set(callback)
    try:
        yield
    finally:
        _REPORT.reset(token)


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
    unless the user configured one already (or set ``TRUEROI_JAX_CACHE=off``); programs that took 0.1 s or
    more to compile are kept."""
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
    # JAX stores only programs that took a second or more to compile; the mode search's and the chains'
    # start take less but are worth a file (together about 1.5 s of a 10 s cold fit)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)


def resolve_chain_method(method: str, chains: int) -> str:
    """``"auto"``: ``"parallel"`` when there are at least two local devices and the chains split evenly
    over them, else ``"sequential"``."""
    if method != "auto":
        return method
    import jax

    n_dev = jax.local_device_count()
    return "parallel" if chains > 1 and n_dev > 1 and chains % min(n_dev, chains) == 0 else "sequential"


CHUNK = 1000
"""Most iterations of one chain in one call (the rows of the call's output buffer)."""
STEP_BUDGET = 4096
"""Leapfrog steps after which a chain stops within a call (it finishes the iteration it is in). XLA's CPU
runtime holds memory for every step of a loop run while another program runs beside it (chains on two
cores) until the call returns, and glibc keeps what is freed: one call for the whole run grew by ~3 MB per
iteration on the 50-geo model, to 14.6 GiB at 4 x 500 after 500; 2 x (90 + 90) peaked at 3.6 GiB in one
call, 0.9 GiB in calls of 4096 steps with the heap trimmed between them (``bench/RESULTS.md``)."""


ELEMENTAL_EMITTERS = (("xla_cpu_use_fusion_emitters", False),)
"""XLA options that make XLA's CPU backend emit each fusion with its older elemental emitters instead of the
MLIR fusion emitters (the default in JAX 0.10). Measured on the 156-week national model (4 x 1000 after
1000, two cores, no compilation cache): compiling its programs took 3.6-4.9 s instead of 5.5-6.5 s and
sampling 3.6-4.1 s instead of 4.3-4.8 s; on the geo model sampling was 20-25% slower per leapfrog step, so
each model chooses (``bench/RESULTS.md``)."""


def supported_options(options: tuple[tuple[str, Any], ...]) -> dict[str, Any] | None:
    """``options`` as ``jax.jit``'s ``compiler_options`` where the backend is the CPU and this XLA knows
    them (checked once by compiling a trivial program), else None: the defaults."""
    return _supported(tuple(options)) if options else None


@functools.cache
def _supported(options: tuple[tuple[str, Any], ...]) -> dict[str, Any] | None:
    import jax

    if jax.default_backend() != "cpu":
        return None
    try:
        jax.jit(lambda x: x + 1, compiler_options=dict(options)).lower(np.float32(0)).compile()
    except jax.errors.JaxRuntimeError:  # an XLA without these options
        return None
    return dict(options)


class _Program:
    """The compiled pieces of one sampler: ``init`` (the chains' states) and ``advance`` (up to ``n``
    more iterations of each chain, fewer once it has taken ``STEP_BUDGET`` leapfrog steps; returns the new
    states, the iterations run and their draws in a ``CHUNK``-row buffer). Chains are mapped one after
    another (``lax.map``) or in lockstep (``vmap``); with ``"parallel"`` each device maps its share of the
    chains (``shard_map``). ``n`` is an argument, so one compilation serves every call."""

    def __init__(
        self,
        potential: Callable[..., Any],
        static: Any,
        tune: int,
        chains: int,
        method: str,
        target_accept: float,
        dense_mass: bool,
        max_tree_depth: int,
        n_data: int,
        xla_options: tuple[tuple[str, Any], ...],
    ) -> None:
        import jax
        import jax.numpy as jnp
        from numpyro.infer.hmc import hmc

        init_kernel, sample_kernel = hmc(
            potential_fn_gen=lambda *data: lambda z: potential(z, *data, static), algo="NUTS"
        )

        def init(z0: Any, rng_key: Any, *data: Any) -> Any:
            return init_kernel(
                z0,
                tune,
                dense_mass=dense_mass,
                target_accept_prob=target_accept,
                max_tree_depth=max_tree_depth,
                model_args=data,
                rng_key=rng_key,
            )

        def advance(state: Any, n: Any, *data: Any) -> Any:
            def more(carry: Any) -> Any:
                return (carry[1] < n) & (carry[2] < STEP_BUDGET)

            def step(carry: Any) -> Any:
                s, i, steps, out = carry
                s = sample_kernel(s, model_args=data)
                new = (s.z, s.diverging, s.num_steps)
                out = jax.tree_util.tree_map(lambda buf, x: buf.at[i].set(x), out, new)
                return s, i + 1, steps + s.num_steps, out

            like = (state.z, state.diverging, state.num_steps)
            out = jax.tree_util.tree_map(
                lambda x: jnp.zeros((CHUNK,) + jnp.shape(x), jnp.result_type(x)), like
            )
            state, i, _, out = jax.lax.while_loop(more, step, (state, 0, 0, out))
            return state, i, out

        def over_chains(fn: Callable[..., Any]) -> Callable[..., Any]:
            """``fn``'s first two arguments (start and key, or state and ``n``) per chain, data shared."""
            if method == "vectorized":
                return jax.vmap(fn, in_axes=(0, 0) + (None,) * n_data)

            def mapped(*args: Any) -> Any:
                return jax.lax.map(lambda head: fn(*head, *args[2:]), args[:2])

            return mapped

        self.mesh = None
        if method == "parallel":  # the chains' axis split over the devices, the data on every one
            from jax.sharding import Mesh, PartitionSpec

            devices = jax.local_devices()[:chains]
            n_dev = max(d for d in range(1, len(devices) + 1) if chains % d == 0)
            self.mesh = Mesh(np.array(devices[:n_dev]), ("chain",))

        options = supported_options(xla_options)

        def compile_(fn: Callable[..., Any]) -> Any:
            if self.mesh is None:
                return jax.jit(fn, compiler_options=options)
            by_chain, whole = PartitionSpec("chain"), PartitionSpec()
            return jax.jit(
                jax.shard_map(
                    fn,
                    mesh=self.mesh,
                    in_specs=(by_chain, by_chain) + (whole,) * n_data,
                    out_specs=by_chain,
                    check_vma=False,
                ),
                compiler_options=options,
            )

        self.init = compile_(over_chains(init))
        self.advance = compile_(over_chains(advance))


def _trim() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; nothing elsewhere)."""
    import ctypes

    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)


def _run_chains(
    program: _Program,
    state: Any,
    data: tuple[Any, ...],
    tune: int,
    draws: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[Any, Any, Any]:
    """Warm-up and draws of the chains in ``state`` in bounded calls; ``(chains, draws, ...)`` arrays."""
    import jax

    chains, total = len(state.i), tune + draws
    taken = np.zeros(chains, dtype=np.int32)  # iterations each chain has run
    pieces: list[list[Any]] = [[] for _ in range(chains)]
    while (taken < total).any():
        state, done, out = program.advance(state, np.minimum(total - taken, CHUNK), *data)
        done, out = np.asarray(done), jax.tree_util.tree_map(np.asarray, out)
        for c in range(chains):  # keep the draws after warm-up
            first = max(tune - taken[c], 0)
            if done[c] > first:
                pieces[c].append(jax.tree_util.tree_map(lambda a, c=c, f=first, d=done[c]: a[c, f:d], out))
        taken += done
        _trim()
        if progress is not None:
            progress(int(taken.sum()), chains * total)
    per_chain = [jax.tree_util.tree_map(lambda *a: np.concatenate(a), *p) for p in pieces]
    return jax.tree_util.tree_map(lambda *a: np.stack(a), *per_chain)


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
    progress: Callable[[int, int], None] | None = None,
    xla_options: tuple[tuple[str, Any], ...] = (),
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
    progress
        Called after every call with (iterations run, iterations in all), summed over the chains; by
        default the callback of an enclosing :func:`reporting` block, if any.
    xla_options
        ``(name, value)`` XLA compile options for the sampler's programs (e.g. :data:`ELEMENTAL_EMITTERS`),
        used where :func:`supported_options` finds them supported.

    Returns
    -------
    samples, extras
        Unconstrained draws ``{site: (chains, draws, ...)}``; ``divergences`` (total after warm-up),
        ``diverging`` (chains, draws) flags of the divergent draws, ``mean_tree_steps`` (leapfrog steps
        per draw), ``chain_method``.
    """
    import jax

    enable_compilation_cache()
    method = resolve_chain_method(chain_method, chains)
    key = (potential, static, tune, chains, method, target_accept, dense_mass, max_tree_depth, len(data))
    key += (tuple(xla_options),)
    if key not in _PROGRAMS:  # one per process and settings
        _PROGRAMS[key] = _Program(*key)
    program = _PROGRAMS[key]
    # one raw threefry key (two uint32 words) per chain, drawn by NumPy: no XLA program to split a key
    keys = np.random.default_rng(seed).integers(0, 2**32, (chains, 2), dtype=np.uint32)
    start = ({k: np.asarray(v, dtype=np.float32) for k, v in init.items()}, keys)
    if program.mesh is None:
        data, start = jax.device_put(data), jax.device_put(start)
    else:  # data on every device once (not sent again at every call), chains' starts split over them
        from jax.sharding import NamedSharding, PartitionSpec

        data = jax.device_put(data, NamedSharding(program.mesh, PartitionSpec()))
        start = jax.device_put(start, NamedSharding(program.mesh, PartitionSpec("chain")))
    state = program.init(*start, *data)
    z, diverging, steps = _run_chains(program, state, data, tune, draws, progress or _REPORT.get())
    samples = {k: np.asarray(v) for k, v in z.items()}
    extras = {
        "divergences": int(np.asarray(diverging).sum()),
        "diverging": np.asarray(diverging, dtype=bool),
        "mean_tree_steps": float(np.asarray(steps).mean()),
        "chain_method": method,
    }
    return samples, extras
