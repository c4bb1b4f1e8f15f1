"""Counterfactual estimators for geo experiments, found by name in :data:`ESTIMATORS`.

Each estimator learns, from periods without treatment, how the treated aggregate ``y`` (shape (T0,))
relates to the control locations ``X`` (shape (T0, J)), and predicts ``y`` without treatment for any
periods of ``X``. They follow the scikit-learn contract: settings in ``__init__``, ``fit`` returns self,
learned values end in ``_``.

* :class:`AugmentedSynthControl`: ridge-augmented synthetic control (Ben-Michael, Feller & Rothstein 2021,
  "The Augmented Synthetic Control Method", JASA 116(536), eq. 14 with the ridge outcome model of section
  4), with unit fixed effects (each series minus its pre-period mean), as the R packages augsynth and
  GeoLift run it by default. The penalty is chosen by rolling-origin cross-validation over the pre-period
  with the one-standard-error rule, as augsynth does.
* :class:`SyntheticControl`: the same without the ridge correction (Abadie, Diamond & Hainmueller 2010).
* :class:`TimeBasedRegression`: Google's time-based regression (Kerman, Wang & Vaver 2017, "Estimating ad
  effectiveness using geo experiments in a time-based regression framework"): ordinary least squares of
  the treated aggregate on the control aggregate, ``y_t = a + b x_t + e_t``, with the posterior predictive
  (Student-t) interval of the cumulative effect.
"""

from __future__ import annotations

import numpy as np

from trueroi.errors import NotFittedError, UsageError

# scipy is imported inside the functions that use it: it takes about half a second to load, and most
# callers of this module (and of the CLI) never need it.


def simplex_weights(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights ``w >= 0`` with ``sum(w) = 1`` minimising ``||y - X w||^2`` (the synthetic-control QP).

    Solved as non-negative least squares (Lawson-Hanson) with the sum-to-one constraint appended as a
    heavily weighted row, then renormalised.

    Parameters
    ----------
    X
        Shape (T, J): control series (columns) over the fitting periods.
    y
        Shape (T,): the series to match.
    """
    from scipy.optimize import nnls

    scale = max(float(np.sqrt(np.mean(X**2))), 1e-12)
    heavy = 1e3 * np.sqrt(X.shape[0])
    A = np.vstack([X / scale, np.full((1, X.shape[1]), heavy)])
    b = np.concatenate([y / scale, [heavy]])
    w, _ = nnls(A, b, maxiter=50 * X.shape[1])
    total = w.sum()
    return w / total if total > 0 else np.full(X.shape[1], 1.0 / X.shape[1])


def ridge_correction(X: np.ndarray, residual: np.ndarray, lam: float) -> np.ndarray:
    """Ridge adjustment of synthetic-control weights (Ben-Michael et al. 2021, eq. 14).

    ``w_aug - w_scm = (Xc' Xc + lam I_J)^{-1} Xc' r`` with ``Xc`` the control series centred per period
    (rows of ``X`` minus their mean over controls) and ``r = y - X w_scm`` the synthetic control's
    pre-period imbalance. The correction sums to zero, so the weights still sum to one (they may be
    negative: the estimator extrapolates).
    """
    Xc = X - X.mean(axis=1, keepdims=True)
    gram = Xc.T @ Xc
    gram[np.diag_indices_from(gram)] += lam
    return np.linalg.solve(gram, Xc.T @ residual)


class _Estimator:
    """Shared fixed-effects bookkeeping and the not-fitted check."""

    name = "base"

    def _require_fit(self) -> None:
        if not hasattr(self, "weights_") and not hasattr(self, "coef_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(y, X) first")

    @staticmethod
    def _check(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, X = np.asarray(y, dtype=float), np.asarray(X, dtype=float)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise UsageError(f"y has shape {y.shape} and X {X.shape}; expected (T,) and (T, J)")
        return y, X


class SyntheticControl(_Estimator):
    """Synthetic control on demeaned series: non-negative donor weights summing to one.

    Parameters
    ----------
    fixed_effects
        Subtract each series' mean over the fitting periods first (a level shift between the treated
        aggregate and its synthetic control is then allowed).
    """

    name = "synth"

    def __init__(self, *, fixed_effects: bool = True) -> None:
        self.fixed_effects = fixed_effects

    def _centre(self, y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.y_mean_ = float(y.mean()) if self.fixed_effects else 0.0
        self.x_mean_ = X.mean(axis=0) if self.fixed_effects else np.zeros(X.shape[1])
        return y - self.y_mean_, X - self.x_mean_

    def fit(self, y: np.ndarray, X: np.ndarray) -> SyntheticControl:
        y, X = self._check(y, X)
        yc, Xc = self._centre(y, X)
        self.weights_ = simplex_weights(Xc, yc)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Counterfactual treated aggregate for the periods (rows) of ``X``, shape (T,)."""
        self._require_fit()
        return self.y_mean_ + (np.asarray(X, dtype=float) - self.x_mean_) @ self.weights_


class AugmentedSynthControl(SyntheticControl):
    """Ridge-augmented synthetic control (Ben-Michael, Feller & Rothstein 2021).

    Parameters
    ----------
    lam
        Ridge penalty; ``None`` chooses it by cross-validation at the first ``fit`` and keeps it for later
        fits (as the conformal refits need).
    fixed_effects
        Demean each series over the fitting periods first.
    n_lambda, n_folds
        Size of the penalty grid (from the largest squared singular value of the centred controls down by
        a factor 1e-6) and number of rolling-origin folds (one-step-ahead forecasts of the last pre-periods).
    """

    name = "augsynth"

    def __init__(
        self, *, lam: float | None = None, fixed_effects: bool = True, n_lambda: int = 15, n_folds: int = 8
    ) -> None:
        super().__init__(fixed_effects=fixed_effects)
        self.lam = lam
        self.n_lambda = n_lambda
        self.n_folds = n_folds

    def fit(self, y: np.ndarray, X: np.ndarray) -> AugmentedSynthControl:
        y, X = self._check(y, X)
        lam = self.lam if self.lam is not None else getattr(self, "lam_", None)
        if lam is None:
            lam = self._cross_validate(y, X)
        self.lam_ = float(lam)
        yc, Xc = self._centre(y, X)
        self.scm_weights_ = simplex_weights(Xc, yc)
        self.weights_ = self.scm_weights_ + ridge_correction(Xc, yc - Xc @ self.scm_weights_, self.lam_)
        return self

    def _cross_validate(self, y: np.ndarray, X: np.ndarray) -> float:
        """Penalty with the smallest one-step-ahead error within one standard error of the best.

        Each fold fits the synthetic control on periods ``< t`` and forecasts period ``t``; the ridge
        corrections of all penalties come from one eigendecomposition of the fold's Gram matrix.
        """
        t0 = len(y)
        centred = X - X.mean(axis=0)
        centred = centred - centred.mean(axis=1, keepdims=True)
        top = float(np.linalg.eigvalsh(centred.T @ centred)[-1]) or 1.0
        grid = top * np.logspace(0, -6, self.n_lambda)
        folds = list(range(max(3, t0 - self.n_folds), t0))
        if not folds:
            return float(grid[0])
        errors = np.empty((len(grid), len(folds)))
        for j, t in enumerate(folds):
            fold = SyntheticControl(fixed_effects=self.fixed_effects).fit(y[:t], X[:t])
            yc, Xc = y[:t] - fold.y_mean_, X[:t] - fold.x_mean_
            M = Xc - Xc.mean(axis=1, keepdims=True)
            eigval, eigvec = np.linalg.eigh(M.T @ M)
            b = eigvec.T @ (M.T @ (yc - Xc @ fold.weights_))
            xt = X[t] - fold.x_mean_
            corrections = ((xt @ eigvec) * b) @ (1.0 / (np.maximum(eigval, 0)[:, None] + grid[None, :]))
            errors[:, j] = (y[t] - fold.y_mean_ - xt @ fold.weights_ - corrections) ** 2
        mse = errors.mean(axis=1)
        se = errors.std(axis=1, ddof=1) / np.sqrt(len(folds)) if len(folds) > 1 else np.zeros(len(grid))
        best = int(np.argmin(mse))
        within = np.flatnonzero(mse <= mse[best] + se[best])
        return float(grid[within.min()])  # the largest penalty (grid descends) within one SE


class TimeBasedRegression(_Estimator):
    """Time-based regression (Kerman, Wang & Vaver 2017): ``y_t = a + b x_t`` with ``x_t`` the control mean.

    After ``fit``: ``coef_`` = (a, b), ``sigma_`` the residual standard deviation, ``xtx_inv_`` the inverse
    Gram matrix of the pre-period design and ``dof_`` its residual degrees of freedom, which the Student-t
    posterior predictive of the cumulative effect needs.
    """

    name = "tbr"

    def fit(self, y: np.ndarray, X: np.ndarray) -> TimeBasedRegression:
        y, X = self._check(y, X)
        design = np.column_stack([np.ones(len(y)), X.mean(axis=1)])
        self.coef_, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ self.coef_
        self.dof_ = max(len(y) - 2, 1)
        self.sigma_ = float(np.sqrt(resid @ resid / self.dof_))
        self.xtx_inv_ = np.linalg.pinv(design.T @ design)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self._require_fit()
        X = np.asarray(X, dtype=float)
        return self.coef_[0] + self.coef_[1] * X.mean(axis=1)

    def cumulative_sd(self, X_post: np.ndarray) -> float:
        """Predictive sd of the cumulative counterfactual over the periods of ``X_post``.

        ``sigma * sqrt(T1 + v' (Z'Z)^{-1} v)`` with ``v`` the sum of the test-period design rows.
        """
        self._require_fit()
        v = np.array([X_post.shape[0], float(np.asarray(X_post).mean(axis=1).sum())])
        return self.sigma_ * float(np.sqrt(X_post.shape[0] + v @ self.xtx_inv_ @ v))


ESTIMATORS: dict[str, type[_Estimator]] = {
    "augsynth": AugmentedSynthControl,
    "synth": SyntheticControl,
    "tbr": TimeBasedRegression,
}


def make_estimator(name: str) -> _Estimator:
    """A fresh estimator by registry name (``augsynth``, ``synth``, ``tbr``)."""
    if name not in ESTIMATORS:
        raise UsageError(f"unknown geo method {name!r}; expected one of {', '.join(ESTIMATORS)}")
    return ESTIMATORS[name]()
