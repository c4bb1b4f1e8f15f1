"""Adstock and saturation against values computed by hand, on NumPy and JAX, plus the spend-preservation
property of normalised adstock."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueroi.errors import UsageError
from trueroi.mmm.transformers import (
    ADSTOCKS,
    SATURATIONS,
    delayed_adstock,
    geometric_adstock,
    get_adstock,
    get_saturation,
    hill,
    logistic,
    michaelis_menten,
    weibull_adstock,
    weibull_cdf_adstock,
)

IMPULSE = np.array([1.0, 0.0, 0.0, 0.0])


def test_geometric_impulse_by_hand() -> None:
    # weights alpha**l = 1, 0.5, 0.25 for l = 0, 1, 2; their sum is 1.75
    np.testing.assert_allclose(geometric_adstock(IMPULSE, 0.5, l_max=3, normalize=False), [1, 0.5, 0.25, 0])
    np.testing.assert_allclose(
        geometric_adstock(IMPULSE, 0.5, l_max=3), [1 / 1.75, 0.5 / 1.75, 0.25 / 1.75, 0]
    )


def test_geometric_series_by_hand() -> None:
    # y0 = 10; y1 = 20 + 0.5 * 10 = 25; y2 = 0 + 0.5 * 20 = 10 (lag 2 is beyond l_max = 2)
    np.testing.assert_allclose(
        geometric_adstock(np.array([10.0, 20.0, 0.0]), 0.5, l_max=2, normalize=False), [10, 25, 10]
    )


def test_delayed_peaks_at_theta() -> None:
    # alpha**((l - theta)**2) with alpha = 0.5, theta = 1: 0.5**1, 0.5**0, 0.5**1
    np.testing.assert_allclose(delayed_adstock(IMPULSE, 0.5, 1.0, l_max=3, normalize=False), [0.5, 1, 0.5, 0])


def test_weibull_pdf_weights_by_hand() -> None:
    # shape 1, scale 1: the exponential density exp(-t) at t = 1, 2, 3
    expected = [math.exp(-1), math.exp(-2), math.exp(-3), 0]
    np.testing.assert_allclose(
        weibull_adstock(IMPULSE, 1.0, 1.0, l_max=3, normalize=False), expected, rtol=1e-12
    )
    # shape 2, scale 2: (k/lam) (t/lam)**(k-1) exp(-(t/lam)**k) = 0.5 exp(-0.25) at t=1 and exp(-1) at t=2
    got = weibull_adstock(IMPULSE, 2.0, 2.0, l_max=2, normalize=False)
    np.testing.assert_allclose(got[:2], [0.5 * math.exp(-0.25), math.exp(-1)], rtol=1e-12)


def test_weibull_cdf_weights_by_hand() -> None:
    # shape 1, scale 1: survival exp(-t); w0 = 1, w1 = exp(-1), w2 = exp(-1) * exp(-2)
    got = weibull_cdf_adstock(IMPULSE, 1.0, 1.0, l_max=3, normalize=False)
    np.testing.assert_allclose(got, [1, math.exp(-1), math.exp(-3), 0], rtol=1e-12)


def test_saturations_by_hand() -> None:
    assert hill(np.array(3.0), 3.0, 1.7) == pytest.approx(0.5)
    assert hill(np.array(2.0), 1.0, 2.0) == pytest.approx(4 / 5)
    assert hill(np.array(0.0), 1.0, 0.5) == 0.0
    assert logistic(np.array(1.0), 1.0) == pytest.approx(math.tanh(0.5))  # (1-e^-x)/(1+e^-x) = tanh(x/2)
    assert michaelis_menten(np.array(3.0), 1.0, 2.0) == pytest.approx(1.5)  # 2 * 3 / (1 + 3)


def test_channels_broadcast_like_separate_calls() -> None:
    x = np.array([[1.0, 5.0], [2.0, 0.0], [0.0, 3.0]])
    both = geometric_adstock(x, np.array([0.3, 0.6]), l_max=3)
    np.testing.assert_allclose(both[:, 0], geometric_adstock(x[:, 0], 0.3, l_max=3))
    np.testing.assert_allclose(both[:, 1], geometric_adstock(x[:, 1], 0.6, l_max=3))


def test_jax_gives_the_same_values_and_finite_gradients() -> None:
    import jax
    import jax.numpy as jnp

    x = np.array([[1.0, 5.0], [2.0, 0.0], [0.0, 3.0], [4.0, 1.0]])
    for comp in ADSTOCKS.values():
        params = {p: np.array([1.5, 2.0]) if p != "alpha" else np.array([0.3, 0.6]) for p in comp.params}
        got = comp.fn(jnp.asarray(x), **{k: jnp.asarray(v) for k, v in params.items()}, l_max=3)
        np.testing.assert_allclose(np.asarray(got), comp.fn(x, **params, l_max=3), rtol=1e-5)
    for comp in SATURATIONS.values():
        params = {p: jnp.array([0.8, 1.5]) for p in comp.params}
        grad = jax.grad(lambda h, c=comp, p=params: c.fn(jnp.asarray(x), **{**p, c.params[0]: h}).sum())(
            params[comp.params[0]]
        )
        assert np.isfinite(np.asarray(grad)).all(), comp.name


@settings(max_examples=60, deadline=None)
@given(
    spend=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=30),
    a=st.floats(0.01, 0.99),
    b=st.floats(0.3, 5.0),
    l_max=st.integers(1, 12),
    name=st.sampled_from(sorted(ADSTOCKS)),
)
def test_normalised_adstock_preserves_total_spend(
    spend: list[float], a: float, b: float, l_max: int, name: str
) -> None:
    x = np.array(spend + [0.0] * l_max)  # room for the carry-over to land inside the series
    comp = get_adstock(name)
    params = dict(
        zip(
            comp.params,
            (a, b) if name == "delayed" else (b, b) if len(comp.params) == 2 else (a,),
            strict=True,
        )
    )
    out = comp.fn(x, **params, l_max=l_max)
    assert out.sum() == pytest.approx(x.sum(), rel=1e-9, abs=1e-6)
    assert (out >= 0).all()


def test_unknown_component_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="geometric"):
        get_adstock("exponential")
    with pytest.raises(UsageError, match="hill, logistic, michaelis_menten"):
        get_saturation("tanh")
