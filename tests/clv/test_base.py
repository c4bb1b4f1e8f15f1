"""Shared fitting plumbing: the Hessian by differences of the exact gradient."""

from __future__ import annotations

import numpy as np
import pytest

from trueroi.clv.base import hessian


def _binomial(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """3 successes and 1 failure: log L = 3 log p + log(1 - p), defined for 0 < p < 1 only."""
    (p,) = theta
    return 3 * np.log(p) + np.log1p(-p), np.array([3 / p - 1 / (1 - p)])


def test_hessian_matches_the_second_derivative() -> None:
    p = 0.75
    assert hessian(_binomial, np.array([p]))[0, 0] == pytest.approx(-3 / p**2 - 1 / (1 - p) ** 2, rel=1e-5)


def test_hessian_steps_backwards_at_the_edge_of_the_parameter_space() -> None:
    # p within the relative step (1e-6) of 1: a forward step would leave (0, 1), where log1p(-p) is NaN
    p = 1 - 2e-7
    h = 1e-6 * p
    gradient = lambda q: 3 / q - 1 / (1 - q)  # noqa: E731
    got = hessian(_binomial, np.array([p]))[0, 0]
    assert got == pytest.approx((gradient(p - h) - gradient(p)) / -h, rel=1e-9)
    assert np.isfinite(got) and got < 0
