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


def _run(mean: np.ndarray, method: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
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


def test_auto_picks_sequential_on_one_device() -> None:
    import jax

    expected = "parallel" if jax.local_device_count() > 1 else "sequential"
    assert nuts.resolve_chain_method("auto", 2) == expected
    assert nuts.resolve_chain_method("vectorized", 4) == "vectorized"
