"""Likelihoods: exact gradients against finite differences, closed forms against numerical integration,
and stability on extreme inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln

from trueroi.clv.likelihoods import (
    RFMData,
    beta_geo_loglik,
    bgbb_loglik,
    gamma_gamma_loglik,
    pareto_nbd_loglik,
)
from trueroi.clv.simulate import simulate_beta_geo, simulate_pareto_nbd
from trueroi.errors import DataValidationError


def _central_diff(f, theta, rel=1e-6):
    theta = np.asarray(theta, dtype=float)
    out = np.empty_like(theta)
    for j in range(len(theta)):
        h = rel * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        out[j] = (f(up) - f(down)) / (2 * h)
    return out


@pytest.fixture(scope="module")
def small() -> RFMData:
    d = simulate_beta_geo((0.3, 5.0, 0.8, 2.5), 400, seed=11)
    return RFMData.from_arrays(d["frequency"], d["recency"], d["T"])


@pytest.mark.parametrize("modified", [False, True])
@pytest.mark.parametrize("theta", [(0.3, 5.0, 0.8, 2.5), (2.0, 0.7, 3.0, 0.4)])
def test_beta_geo_gradient_is_exact(small, modified, theta) -> None:
    _, grad = beta_geo_loglik(theta, small, modified=modified)
    numeric = _central_diff(lambda t: beta_geo_loglik(t, small, modified=modified)[0], theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("theta", [(0.55, 10.5, 0.6, 11.7), (0.5, 3.0, 1.2, 40.0), (1.5, 60.0, 0.4, 2.0)])
def test_pareto_gradient_is_exact_on_both_branches(theta) -> None:
    d = simulate_pareto_nbd((0.55, 10.5, 0.6, 11.7), 300, seed=5)
    data = RFMData.from_arrays(d["frequency"], d["recency"], d["T"])
    _, grad = pareto_nbd_loglik(theta, data)
    numeric = _central_diff(lambda t: pareto_nbd_loglik(t, data)[0], theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("theta", [(0.55, 10.5, 0.6, 11.7), (0.5, 3.0, 1.2, 40.0), (1.5, 60.0, 0.4, 2.0)])
def test_pareto_likelihood_equals_direct_integration(theta) -> None:
    # L = E[lambda^x e^{-lambda T}] E[e^{-mu T}] + int_{t_x}^T E[lambda^x e^{-lambda u}] E[mu e^{-mu u}] du,
    # with the gamma expectations written out (Fader & Hardie 2005, eqs. 3-5), integrated by quadrature.
    r, alpha, s, beta = theta
    for x, t_x, T in [(0, 0.0, 38.0), (3, 20.5, 38.0), (25, 37.9, 38.0), (1, 0.2, 30.0)]:

        def lam(u, x=x):
            return np.exp(gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + u))

        alive = lam(T) * (beta / (beta + T)) ** s
        dead, _ = integrate.quad(
            lambda u, lam=lam: lam(u) * s * beta**s / (beta + u) ** (s + 1), t_x, T, epsabs=0, epsrel=1e-12
        )
        ll, _ = pareto_nbd_loglik(theta, RFMData.from_arrays([x], [t_x], [T]))
        assert ll == pytest.approx(np.log(alive + dead), rel=1e-10)


def test_bgbb_and_gamma_gamma_gradients_are_exact() -> None:
    x, t_x, n, w = [0, 1, 2, 3, 6, 2], [0, 1, 4, 5, 6, 2], [6, 6, 6, 6, 6, 6], [30, 10, 5, 4, 8, 2]
    theta = (1.2, 0.75, 0.66, 2.8)
    _, grad = bgbb_loglik(theta, x, t_x, n, w)
    np.testing.assert_allclose(
        grad, _central_diff(lambda t: bgbb_loglik(t, x, t_x, n, w)[0], theta), rtol=1e-5
    )
    f, z = np.array([1, 2, 5, 9, 1]), np.array([10.0, 25.5, 40.0, 12.0, 300.0])
    theta = (6.0, 3.7, 15.0)
    _, grad = gamma_gamma_loglik(theta, f, z)
    np.testing.assert_allclose(
        grad, _central_diff(lambda t: gamma_gamma_loglik(t, f, z)[0], theta), rtol=1e-5
    )


def test_bgnbd_single_customer_by_hand() -> None:
    # FHL 2005a eq. 6 for x=2, t_x=30.43, T=38.86 at the published estimates, written out term by term.
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    from scipy.special import beta as B
    from scipy.special import gamma as G

    common = G(r + 2) * alpha**r / G(r)
    expected = B(a, b + 2) / B(a, b) * common / (alpha + 38.86) ** (r + 2) + B(a + 1, b + 1) / B(
        a, b
    ) * common / (alpha + 30.43) ** (r + 2)
    ll, _ = beta_geo_loglik((r, alpha, a, b), RFMData.from_arrays([2], [30.43], [38.86]))
    assert ll == pytest.approx(np.log(expected), rel=1e-12)


@pytest.mark.parametrize("theta", [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 3.0, 0.7)])
def test_a_customer_first_seen_on_the_last_day_has_likelihood_one(theta) -> None:
    # x = t_x = T = 0. BG/NBD (FHL 2005a eq. 6): B(a, b)/B(a, b) * Gamma(r) alpha^r / (Gamma(r) alpha^r) = 1.
    # MBG/NBD: B(a, b+1)/B(a, b) + B(a+1, b)/B(a, b) = b/(a+b) + a/(a+b) = 1. Pareto/NBD (Fader & Hardie
    # 2005 eq. 22): alpha^r beta^s / (alpha^r beta^s) plus an integral over (t_x, T) = (0, 0), i.e. 1 + 0.
    # Log-likelihood 0 and gradient 0 whatever the parameters: such a customer carries no information.
    data = RFMData.from_arrays([0], [0.0], [0.0])
    for ll, grad in (
        beta_geo_loglik(theta, data),
        beta_geo_loglik(theta, data, modified=True),
        pareto_nbd_loglik(theta, data),
    ):
        assert ll == pytest.approx(0.0, abs=1e-12)
        np.testing.assert_allclose(grad, 0.0, atol=1e-12)


def test_extreme_customers_stay_finite() -> None:
    # heavy buyers and long histories would overflow Gamma(r+x) and (alpha+T)^(r+x) outside log space
    x = np.array([0, 1, 5000, 20000])
    t_x = np.array([0.0, 1.0, 3600.0, 3649.0])
    T = np.array([3650.0, 3650.0, 3650.0, 3650.0])
    data = RFMData.from_arrays(x, t_x, T)
    for ll, grad in (
        beta_geo_loglik((0.5, 20.0, 0.8, 3.0), data),
        beta_geo_loglik((0.5, 20.0, 0.8, 3.0), data, modified=True),
        pareto_nbd_loglik((0.5, 20.0, 0.8, 30.0), data),
    ):
        assert np.isfinite(ll) and np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    ("f", "r", "T", "column"),
    [
        ([-1], [0.0], [1.0], "frequency"),
        ([1.5], [0.5], [1.0], "frequency"),
        ([1], [2.0], [1.0], "recency"),
        ([0], [0.5], [1.0], "recency"),
        ([0], [0.0], [-1.0], "T"),
        ([1], [np.nan], [1.0], "recency"),
    ],
)
def test_invalid_summaries_name_row_and_column(f, r, T, column) -> None:
    with pytest.raises(DataValidationError) as info:
        RFMData.from_arrays(f, r, T)
    assert info.value.column == column and info.value.row == 1
