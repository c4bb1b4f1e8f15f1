"""Counterfactual estimators against independent solvers and formulas (scipy SLSQP, statsmodels OLS)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import minimize

from trueroi.errors import NotFittedError, UsageError
from trueroi.experiments.synth import (
    AugmentedSynthControl,
    SyntheticControl,
    TimeBasedRegression,
    make_estimator,
    ridge_correction,
    simplex_weights,
)


def _slsqp_simplex(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The synthetic-control QP solved independently with SLSQP."""
    j = X.shape[1]
    res = minimize(
        lambda w: np.sum((y - X @ w) ** 2),
        np.full(j, 1 / j),
        jac=lambda w: -2 * X.T @ (y - X @ w),
        bounds=[(0, 1)] * j,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    return res.x


def test_simplex_weights_recover_an_exact_convex_combination() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8))
    w_true = np.array([0.5, 0.3, 0.2, 0, 0, 0, 0, 0])
    w = simplex_weights(X, X @ w_true)
    assert w == pytest.approx(w_true, abs=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simplex_weights_match_slsqp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, 12)).cumsum(axis=0)
    y = X[:, :3].mean(axis=1) + rng.normal(0, 1.0, 50) + 0.5
    w, w_ref = simplex_weights(X, y), _slsqp_simplex(X, y)
    assert w.sum() == pytest.approx(1.0)
    assert (w >= 0).all()
    loss, loss_ref = np.sum((y - X @ w) ** 2), np.sum((y - X @ w_ref) ** 2)
    assert loss == pytest.approx(loss_ref, rel=1e-6)
    assert w == pytest.approx(w_ref, abs=1e-4)


def test_ridge_correction_equals_augsynth_time_space_formula() -> None:
    """Ben-Michael et al. (2021) eq. 14 as augsynth codes it, in T0 x T0 form: r'(X_c'X_c + lam I)^-1 X_c'."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 12))  # T0 x J
    r = rng.normal(size=30)
    lam = 3.7
    x_c = (X - X.mean(axis=1, keepdims=True)).T  # J x T0, centred by the control mean of each period
    expected = r @ np.linalg.inv(x_c.T @ x_c + lam * np.eye(30)) @ x_c.T
    got = ridge_correction(X, r, lam)
    assert got == pytest.approx(expected, abs=1e-10)
    assert got.sum() == pytest.approx(0.0, abs=1e-10)  # augmented weights still sum to one
    assert np.abs(ridge_correction(X, r, 1e12)).max() < 1e-9  # infinite penalty: plain synthetic control


def test_augmented_fit_is_at_least_as_good_as_synth_in_sample() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 15)).cumsum(axis=0)
    y = 1.5 * X[:, 0] - 0.4 * X[:, 1] + rng.normal(0, 0.2, 40)  # outside the convex hull
    synth = SyntheticControl().fit(y, X)
    aug = AugmentedSynthControl(lam=1.0).fit(y, X)
    assert np.mean((y - aug.predict(X)) ** 2) < 0.5 * np.mean((y - synth.predict(X)) ** 2)
    assert aug.weights_.sum() == pytest.approx(1.0)
    cv = AugmentedSynthControl().fit(y, X)
    assert cv.lam_ > 0


def test_tbr_matches_statsmodels_ols() -> None:
    rng = np.random.default_rng(6)
    X = 50 + rng.normal(size=(70, 10)).cumsum(axis=0)
    x = X.mean(axis=1)
    y = 3.0 + 0.8 * x + rng.normal(0, 1.0, 70)
    pre, post = slice(0, 56), slice(56, 70)
    tbr = TimeBasedRegression().fit(y[pre], X[pre])
    ols = sm.OLS(y[pre], sm.add_constant(x[pre])).fit()
    assert tbr.coef_ == pytest.approx(ols.params, rel=1e-9)
    assert tbr.sigma_ == pytest.approx(np.sqrt(ols.scale), rel=1e-9)
    assert tbr.predict(X[post]) == pytest.approx(ols.predict(sm.add_constant(x[post])), rel=1e-9)
    # Var(sum of 14 future y) = 14 sigma^2 + v' Cov(beta) v, v = the summed design rows
    v = sm.add_constant(x[post]).sum(axis=0)
    expected = np.sqrt(14 * ols.scale + v @ ols.cov_params() @ v)
    assert tbr.cumulative_sd(X[post]) == pytest.approx(expected, rel=1e-9)


def test_estimators_refuse_to_predict_before_fit_and_unknown_names() -> None:
    with pytest.raises(NotFittedError):
        AugmentedSynthControl().predict(np.ones((3, 2)))
    with pytest.raises(NotFittedError):
        TimeBasedRegression().predict(np.ones((3, 2)))
    with pytest.raises(UsageError, match="unknown geo method"):
        make_estimator("causalimpact")
    with pytest.raises(UsageError, match="shape"):
        SyntheticControl().fit(np.ones(4), np.ones((5, 2)))
