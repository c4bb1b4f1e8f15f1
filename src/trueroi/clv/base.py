"""What every CLV fitter shares: maximum likelihood on log parameters, standard errors, not-fitted checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from trueroi.errors import ConvergenceError, NotFittedError

LogLik = Callable[[np.ndarray], tuple[float, np.ndarray]]


def maximize(
    loglik: LogLik,
    init: np.ndarray,
    scale: float,
    *,
    tol: float = 1e-10,
    max_iter: int = 1000,
    starts: tuple[np.ndarray, ...] = (),
    hess_inv0: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> tuple[np.ndarray, float, int]:
    """Maximise ``loglik`` over positive parameters with L-BFGS-B on their logarithms and exact gradients.

    Parameters
    ----------
    loglik
        Parameters (natural scale) -> (total log-likelihood, gradient).
    init
        Starting parameters; ``starts`` are further starting points tried when the first one fails.
    scale
        The total weight (number of customers); the objective is divided by it so tolerances do not depend
        on the size of the data.
    hess_inv0
        Inverse Hessian of that per-customer objective in log parameters near ``init`` (e.g. from a fit on a
        subsample). When given, BFGS starts from it and usually needs only a few iterations.
    upper
        Optional upper bounds (natural scale) per parameter; a maximum on a bound counts as converged when
        the gradient pushes outwards only (projected gradient).

    Returns
    -------
    (params, log_likelihood, iterations)

    Raises
    ------
    ConvergenceError
        When no start reaches a point with a vanishing gradient.
    """

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            ll, grad = loglik(params)
        if not np.isfinite(ll) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(log_params)
        return -ll / scale, -grad * params / scale

    with _one_blas_thread():
        return _maximize(objective, loglik, init, scale, tol, max_iter, starts, hess_inv0, upper)


def _one_blas_thread() -> threadpool_limits:
    """Pin BLAS to one thread while optimising: scipy's L-BFGS-B calls BLAS on vectors of 3 or 4 numbers,
    and OpenBLAS threads on shared cores make each iteration several times slower (4x measured on a
    loaded 2-core machine)."""
    return threadpool_limits(limits=1, user_api="blas")


def _projected(res, upper_log: np.ndarray) -> np.ndarray:
    """The objective's gradient with the components that push against an upper bound set to zero."""
    jac = np.array(res.jac, dtype=float)
    jac[(res.x >= upper_log - 1e-9) & (jac < 0)] = 0.0
    return jac


def _maximize(objective, loglik, init, scale, tol, max_iter, starts, hess_inv0, upper=None):
    from scipy.optimize import minimize

    k = len(init)
    upper_log = np.full(k, 20.0) if upper is None else np.minimum(20.0, np.log(np.asarray(upper, float)))
    best = None
    for i, start in enumerate((np.asarray(init, dtype=float), *starts)):
        x0 = np.minimum(np.log(start), upper_log)
        res = None
        if i == 0 and hess_inv0 is not None:
            res = minimize(
                objective,
                x0,
                jac=True,
                method="BFGS",
                options={"maxiter": max_iter, "gtol": 1e-9, "hess_inv0": hess_inv0},
            )
            if np.any(res.x > upper_log):  # ran past a cap: continue within the bounds from there
                x0, res = np.minimum(res.x, upper_log), None
        if res is None:
            res = minimize(
                objective,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=[(-20.0, u) for u in upper_log],
                options={"maxiter": max_iter, "ftol": 1e-15, "gtol": tol},
            )
        res.jac = _projected(res, upper_log)
        ok = np.isfinite(res.fun) and np.max(np.abs(res.jac)) < 1e-5
        if best is None or res.fun < best.fun:
            best = res
        if ok:
            break
    if best is None or not np.isfinite(best.fun) or np.max(np.abs(best.jac)) >= 1e-5:
        last = "" if best is None else ", ".join(f"{v:.4g}" for v in np.exp(best.x))
        raise ConvergenceError(
            f"maximum likelihood did not converge ({getattr(best, 'message', 'no finite value')}; last "
            f"estimates {last}) on {scale:,.0f} customers; with few customers or no sign of dropout the "
            "maximum may not exist. Check the data (frequency, recency, T in the same time unit), use more "
            "customers, or pass other initial parameters"
        )
    return np.exp(best.x), -best.fun * scale, int(best.nit)


def hessian(loglik: LogLik, params: np.ndarray, rel_step: float = 1e-6) -> np.ndarray:
    """Hessian of the log-likelihood by forward differences of its exact gradient (natural scale).

    One gradient per parameter; the truncation error is of the order of ``rel_step`` relative, far below
    the sampling error that standard errors describe. Where the forward step leaves the parameter space
    (a probability within ``rel_step`` of 1), the step is taken backwards.
    """
    params = np.asarray(params, dtype=float)
    k = len(params)
    out = np.empty((k, k))
    base = loglik(params)[1]
    for j in range(k):
        h = rel_step * max(abs(params[j]), 1e-8)
        for step in (h, -h):
            moved = params.copy()
            moved[j] += step
            with np.errstate(invalid="ignore", divide="ignore"):
                value, grad = loglik(moved)
            if np.isfinite(value) and np.all(np.isfinite(grad)):
                break
        out[:, j] = (grad - base) / step
    return (out + out.T) / 2


def covariance(loglik: LogLik, params: np.ndarray) -> np.ndarray:
    """Asymptotic covariance of the MLE: the inverse of the observed information (NaN if singular)."""
    info = -hessian(loglik, params)
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)
    if np.any(np.diag(cov) <= 0):
        return np.full_like(info, np.nan)
    return cov


class BaseFitter:
    """Common plumbing of the fitters: parameter dictionaries, standard errors and the not-fitted check.

    Subclasses set ``param_names`` and implement ``fit``, which must call :meth:`_store`.
    """

    param_names: tuple[str, ...] = ()
    upper_bounds: tuple[float, ...] | None = None  # natural-scale caps per parameter (None: log bound 20)

    def __init__(
        self, *, initial_params: dict[str, float] | None = None, tol: float = 1e-10, max_iter: int = 1000
    ) -> None:
        self.initial_params = initial_params
        self.tol = tol
        self.max_iter = max_iter

    def _init(self, default: tuple[float, ...]) -> np.ndarray:
        if self.initial_params is None:
            return np.array(default, dtype=float)
        return np.array([float(self.initial_params[n]) for n in self.param_names])

    def _fit_params(
        self,
        loglik: LogLik,
        default: tuple[float, ...],
        scale: float,
        starts: tuple[tuple[float, ...], ...] = (),
        *,
        with_covariance: bool = True,
        hess_inv0: np.ndarray | None = None,
    ) -> None:
        init = self._init(default)
        params, ll, nit = maximize(
            loglik,
            init,
            scale,
            tol=self.tol,
            max_iter=self.max_iter,
            starts=tuple(np.array(s, dtype=float) for s in starts),
            hess_inv0=hess_inv0,
            upper=None if self.upper_bounds is None else np.array(self.upper_bounds, dtype=float),
        )
        cov = covariance(loglik, params) if with_covariance else np.full((len(params), len(params)), np.nan)
        self.params_ = dict(zip(self.param_names, (float(p) for p in params), strict=True))
        self.covariance_ = cov
        self.standard_errors_ = dict(
            zip(self.param_names, (float(v) for v in np.sqrt(np.diag(cov))), strict=True)
        )
        self.log_likelihood_ = float(ll)
        self._scale = scale
        self.n_iter_ = nit

    def _log_space_hess_inv(self) -> np.ndarray | None:
        """Inverse Hessian of the per-customer negative log-likelihood in log parameters (for warm starts)."""
        cov = getattr(self, "covariance_", None)
        if cov is None or not np.all(np.isfinite(cov)):
            return None
        theta = np.array([self.params_[n] for n in self.param_names])
        h = cov / np.outer(theta, theta) * self._scale
        h = (h + h.T) / 2
        return h if np.all(np.linalg.eigvalsh(h) > 0) else None

    def _check_fitted(self) -> dict[str, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(...) first")
        return self.params_

    def _params(self) -> tuple[float, ...]:
        params = self._check_fitted()
        return tuple(params[n] for n in self.param_names)

    def summary(self) -> Any:
        """A DataFrame with each parameter's estimate, standard error and 95% interval (Wald)."""
        import pandas as pd

        params = self._check_fitted()
        se = self.standard_errors_
        return pd.DataFrame(
            {
                "estimate": [params[n] for n in self.param_names],
                "std_error": [se[n] for n in self.param_names],
                "lower_95": [params[n] - 1.959964 * se[n] for n in self.param_names],
                "upper_95": [params[n] + 1.959964 * se[n] for n in self.param_names],
            },
            index=list(self.param_names),
        )

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}({inner})"
        return f"{type(self).__name__}()"
