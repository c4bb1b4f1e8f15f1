"""The compiled NUTS driver (trueroi.mmm.nuts) on a target with a known answer: an independent Gaussian with
means given as data and standard deviations 1 and 10 (truth set in the test), and reuse of the compiled
program when only the data's values change."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trueroi.mmm import nuts

SCALE = (1.0, 10.0)


def gaussian(z: dict[str, Any], mean: Any, scale: tuple[float, float]) -> Any:
    import jax.numpy as jnp

    return 0.5 * jnp.sum(((z["x"] - mean) / jnp.asarray(scale)) ** 2)


def _run(
    mean: np.ndarray, method: str, xla_options: tuple[tuple[str, Any], ...] = ()
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    init = {"x": np.zeros((2, 2), dtype=np.float32)}
    return nuts.sample(
        gaussian,
        SCALE,
        (np.asarray(mean, dtype=np.float32),),
        init,
        draws=600,
        tune=300,
        chains=2,
        chain_method=method,
        dense_mass=False,
        seed=1,
        xla_options=xla_options,
    )


@pytest.mark.parametrize("method", ["sequential", "vectorized"])
def test_samples_a_known_gaussian_and_reuses_the_compiled_program(method: str) -> None:
    samples, extras = _run(np.array([3.0, -20.0]), method)
    x = samples["x"].reshape(-1, 2)
    assert samples["x"].shape == (2, 600, 2)
    # Monte Carlo error of a mean over ~1000 effective draws is ~3% of the sd; allow 25%
    assert np.all(np.abs(x.mean(axis=0) - [3.0, -20.0]) < 0.25 * np.array(SCALE))
    assert x.std(axis=0) == pytest.approx(SCALE, rel=0.15)
    assert extras["divergences"] == 0
    assert extras["chain_method"] == method
    compiled = len(nuts._PROGRAMS)
    moved, _ = _run(np.array([-1.0, 50.0]), method)  # new values, same shapes: no new program
    assert len(nuts._PROGRAMS) == compiled
    assert np.all(np.abs(moved["x"].reshape(-1, 2).mean(axis=0) - [-1.0, 50.0]) < 0.25 * np.array(SCALE))


def test_compile_options_are_checked_then_used() -> None:
    import jax

    assert nuts.supported_options(()) is None
    assert nuts.supported_options((("xla_cpu_no_such_option", True),)) is None  # unknown to XLA: defaults
    if jax.default_backend() == "cpu":
        assert nuts.supported_options(nuts.ELEMENTAL_EMITTERS) == dict(nuts.ELEMENTAL_EMITTERS)
    samples, extras = _run(np.array([3.0, -20.0]), "sequential", nuts.ELEMENTAL_EMITTERS)
    x = samples["x"].reshape(-1, 2)
    assert np.all(np.abs(x.mean(axis=0) - [3.0, -20.0]) < 0.25 * np.array(SCALE))
    assert x.std(axis=0) == pytest.approx(SCALE, rel=0.15)
    assert extras["divergences"] == 0


def test_auto_picks_sequential_on_one_device() -> None:
    import jax

    expected = "parallel" if jax.local_device_count() > 1 else "sequential"
    assert nuts.resolve_chain_method("auto", 2) == expected
    assert nuts.resolve_chain_method("vectorized", 4) == "vectorized"


def test_draws_do_not_depend_on_how_the_run_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls end after a leapfrog budget or a buffer of draws; the chains carry on where they stopped, so
    a run cut into calls of a few steps gives the very draws of a run in few calls."""
    whole, _ = _run(np.array([3.0, -20.0]), "sequential")
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(nuts, "_PROGRAMS", {})
    monkeypatch.setattr(nuts, "STEP_BUDGET", 5)
    monkeypatch.setattr(nuts, "CHUNK", 7)
    init = {"x": np.zeros((2, 2), dtype=np.float32)}
    with nuts.reporting(lambda done, total: calls.append((done, total))):  # as the CLI's progress bar
        cut, _ = nuts.sample(
            gaussian,
            SCALE,
            (np.array([3.0, -20.0], dtype=np.float32),),
            init,
            draws=600,
            tune=300,
            chains=2,
            chain_method="sequential",
            dense_mass=False,
            seed=1,
        )
    np.testing.assert_allclose(cut["x"], whole["x"], rtol=1e-5, atol=1e-5)
    # 1800 chain-iterations of <= 7 each: many calls, progress never goes back, ends at the total
    assert len(calls) >= 1800 // (2 * 7)
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:], strict=False))
    assert calls[-1] == (1800, 1800)


PARALLEL = """
import json, sys
from trueroi.mmm.nuts import use_cpu_cores
assert use_cpu_cores(2)
import jax, numpy as np
from trueroi.mmm import nuts
sys.path.insert(0, {here!r})
from test_nuts import gaussian, SCALE
out = {{}}
for method in ("parallel", "sequential"):
    z, extras = nuts.sample(gaussian, SCALE, (np.array([3.0, -20.0], dtype=np.float32),),
        {{"x": np.zeros((4, 2), dtype=np.float32)}}, draws=300, tune=200, chains=4, chain_method=method,
        dense_mass=False, seed=3)
    out[method] = z["x"].tolist()
print(json.dumps({{"devices": jax.local_device_count(), **out}}))
"""


def test_parallel_chains_on_two_devices_match_sequential_ones() -> None:
    """Chains split over two CPU devices (shard_map) run the same computation as one after another on one
    device: same draws, in the same chain order."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = PARALLEL.format(here=str(Path(__file__).parent))
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["devices"] == 2
    parallel, sequential = np.array(out["parallel"]), np.array(out["sequential"])
    assert parallel.shape == (4, 300, 2)
    np.testing.assert_allclose(parallel, sequential, rtol=1e-5, atol=1e-5)
    assert not np.allclose(parallel[0], parallel[1])  # four different chains, not one copied
