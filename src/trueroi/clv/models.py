"""The CLV fitters, scikit-learn style: settings in ``__init__``, data in ``fit``, learned values end
in ``_``.

- :class:`BetaGeoFitter`: BG/NBD (Fader, Hardie & Lee 2005a).
- :class:`ModifiedBetaGeoFitter`: MBG/NBD (Batislam, Denizel & Filiztekin 2007).
- :class:`ParetoNBDFitter`: Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005).
- :class:`BetaGeoBetaBinomFitter`: BG/BB for discrete opportunities (Fader, Hardie & Shang 2010).
- :class:`GammaGammaFitter`: spend per transaction (Fader, Hardie & Lee 2005b).

Each transaction model is fitted by maximum likelihood with exact gradients; ``standard_errors_`` come
from the inverse observed information (Hessian at the optimum). ``MODELS`` maps the CLI names to classes.
Transaction models also carry ``diagnostics_`` and ``warnings_``: when the data show no heterogeneity in
purchase rate or dropout, the maximum lies at infinity and the fit says so (BG/NBD and MBG/NBD fit the
reduced model explicitly, :mod:`trueroi.clv.boundary`; Pareto/NBD stops at capped shapes). Intervals for
predictions: :mod:`trueroi.clv.uncertainty`.
"""

from __future__ import annotations

import numpy as np

from trueroi.clv import boundary, limits
from trueroi.clv import predictions as pred
from trueroi.clv.base import BaseFitter
from trueroi.clv.likelihoods import (
    RFMData,
    SpendData,
    beta_geo_loglik,
    bgbb_loglik,
    gamma_gamma_loglik,
    pareto_nbd_loglik,
)
from trueroi.errors import ConvergenceError, DataValidationError, UsageError

_WARM_START_ROWS = 50_000
PARETO_SHAPE_CAP = 1e4


class _TransactionModel(BaseFitter):
    """A continuous-time buy-till-you-die model fitted on ``(frequency, recency, T)``."""

    def fit(self, frequency, recency, T, weights=None) -> _TransactionModel:
        """Fit by maximum likelihood.

        Parameters
        ----------
        frequency
            Repeat purchases per customer (the first purchase is not counted).
        recency
            Time from the first to the last purchase (0 without repeat purchases).
        T
            Time from the first purchase to the end of the calibration period; same unit as ``recency``.
            ``T = 0`` (first purchase on the last day) is valid and adds nothing to the likelihood.
        weights
            Customers per row, when identical rows are compressed.

        Returns
        -------
        self
        """
        data = RFMData.from_arrays(frequency, recency, T, weights, partition=True)
        scale = float(data.w.sum())
        if not np.any((data.T > 0) & (data.w > 0)):
            raise DataValidationError(
                "every customer was first seen at the end of the observation period (T = 0), so the data "
                "say nothing about purchasing or dropout",
                column="T",
                expected="customers observed for some time after their first purchase",
            )
        age = float(np.average(data.T, weights=data.w)) if scale > 0 else 1.0
        init, starts, hess_inv0 = self._default_init(), self._starts(age), None
        if self.initial_params is None and len(data.x) > _WARM_START_ROWS:
            init, hess_inv0 = self._warm_start(data, init, starts)
        self.diagnostics_: dict = {"boundary": [], "tested": []}
        self.warnings_: list[str] = []
        try:
            self._fit_params(
                lambda th: self._loglik(th, data), init, scale, starts=starts, hess_inv0=hess_inv0
            )
        except ConvergenceError as exc:
            self._after_fit(data, failure=exc)
        else:
            self._after_fit(data)
        self.n_customers_ = scale
        return self

    def _after_fit(self, data: RFMData, failure: ConvergenceError | None = None) -> None:
        """Hook for boundary checks after the fit; re-raises a failed fit by default."""
        if failure is not None:
            raise failure

    def _warm_start(self, data: RFMData, init, starts):
        """Estimates and curvature on a seeded random subsample: a start a few BFGS steps from the optimum."""
        rows = np.sort(np.random.default_rng(0).choice(len(data.x), _WARM_START_ROWS, replace=False))
        sub = RFMData.from_arrays(data.x[rows], data.t_x[rows], data.T[rows], data.w[rows], partition=True)
        probe = type(self)(tol=1e-6, max_iter=self.max_iter)
        try:
            probe._fit_params(lambda th: probe._loglik(th, sub), init, float(sub.w.sum()), starts=starts)
        except ConvergenceError:
            return init, None
        return tuple(probe.params_[n] for n in self.param_names), probe._log_space_hess_inv()

    def _default_init(self) -> tuple[float, ...]:
        return (1.0, 1.0, 1.0, 1.0)

    def _starts(self, age: float) -> tuple[tuple[float, ...], ...]:
        return ((0.5, age / 4, 0.5, age / 4), (1.0, age, 1.0, 1.0), (0.1, 0.1, 0.1, 0.1))

    def _loglik(self, params, data: RFMData):  # pragma: no cover - overridden
        raise NotImplementedError

    def predict_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """Expected purchases in the next ``t`` time units for customers with the given history."""
        raise NotImplementedError

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """Probability that each customer is still active at the end of the calibration period."""
        raise NotImplementedError

    def expected_purchases(self, t) -> np.ndarray:
        """Expected purchases of a newly acquired customer in ``(0, t]`` (tracking curves)."""
        raise NotImplementedError

    def value_curve(
        self,
        frequency,
        recency,
        T,
        spend,
        *,
        months: int = 12,
        discount_rate: float = 0.01,
        margin: float = 1.0,
        time_unit_days: float = 7.0,
    ) -> np.ndarray:
        """Cumulative discounted value per customer at the end of each of the next ``months`` months.

        Parameters
        ----------
        spend
            Expected value per transaction per customer (e.g. :meth:`GammaGammaFitter.expected_spend`).
        discount_rate
            Monthly discount rate.
        margin
            Contribution-margin share of ``spend``.
        time_unit_days
            Length of the model's time unit in days (7 for weeks, 1 for days).

        Returns
        -------
        Array ``(customers, months)``.
        """
        grid = pred.month_grid(months, time_unit_days)
        f, r, age = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (frequency, recency, T))
        cum = np.column_stack([np.zeros_like(f)] + [self.predict_purchases(t, f, r, age) for t in grid[1:]])
        return pred.discounted_value(
            cum,
            np.broadcast_to(np.asarray(spend, float), f.shape),
            margin=margin,
            discount_rate=discount_rate,
        )

    def customer_lifetime_value(self, frequency, recency, T, spend, **kwargs) -> np.ndarray:
        """Discounted value over the horizon (last column of :meth:`value_curve`; same keywords)."""
        return self.value_curve(frequency, recency, T, spend, **kwargs)[:, -1]


class BetaGeoFitter(_TransactionModel):
    """BG/NBD model (Fader, Hardie & Lee 2005a): Poisson purchasing with gamma heterogeneity (``r, alpha``)
    and a beta-geometric dropout after each repeat purchase (``a, b``).

    Parameters
    ----------
    initial_params
        Starting values by name (``r, alpha, a, b``); defaults try several starts.
    tol
        Gradient tolerance of L-BFGS-B on the per-customer log-likelihood.
    max_iter
        Iteration limit per start.

    Attributes
    ----------
    params_, standard_errors_, covariance_, log_likelihood_, n_customers_, n_iter_
    """

    param_names = ("r", "alpha", "a", "b")
    modified = False

    def _loglik(self, params, data):
        return beta_geo_loglik(params, data, modified=self.modified)

    def _after_fit(self, data: RFMData, failure: ConvergenceError | None = None) -> None:
        """Fit the no-heterogeneity limits when the fit runs off towards them (:mod:`trueroi.clv.boundary`).

        In a limit, ``params_`` holds ``inf`` for the parameters that diverge, ``reduced_params_`` the
        finite parameters of the reduced model (``lambda`` and/or ``p``), and ``log_likelihood_`` its maximum
        (the supremum of the full model); ``diagnostics_`` and ``warnings_`` say so.
        """
        full = None if failure is not None else dict(self.params_)
        full_ll = None if failure is not None else self.log_likelihood_
        fit, diagnostics = boundary.try_limits(
            data, full, full_ll, modified=self.modified, tol=self.tol, max_iter=self.max_iter
        )
        self.diagnostics_ = diagnostics
        if fit is None:
            if failure is not None:
                raise failure
            if diagnostics["tested"]:
                test = diagnostics["tested"][0]
                p_value = "n/a" if test["p_value"] is None else f"{test['p_value']:.3g}"
                verdict = (
                    "not significant" if test["p_value"] is None or test["p_value"] > 0.05 else "significant"
                )
                self.warnings_.append(
                    f"the fit approaches the no-heterogeneity limit ({', '.join(test['limits'])}) but its "
                    f"maximum lies inside, at a large shape (likelihood-ratio statistic against the limit "
                    f"{test['lr_statistic']:.3g}, p = {p_value}: the heterogeneity is {verdict}); the "
                    "estimates lie on a flat ridge, read them with care"
                )
            return
        self._store_limit(fit, full_ll)

    def _store_limit(self, fit: boundary.LimitFit, full_ll: float | None) -> None:
        rate, dropout = fit.parts()
        se = np.sqrt(np.where(np.diag(fit.covariance) > 0, np.diag(fit.covariance), np.nan))
        by_name = dict(zip(fit.names, se, strict=True))
        inf = float("inf")
        self.params_ = {
            "r": rate[0] if len(rate) == 2 else inf,
            "alpha": rate[1] if len(rate) == 2 else inf,
            "a": dropout[0] if len(dropout) == 2 else inf,
            "b": dropout[1] if len(dropout) == 2 else inf,
        }
        self.standard_errors_ = {n: float(by_name.get(n, np.nan)) for n in self.param_names}
        self.covariance_ = np.full((4, 4), np.nan)
        self.reduced_params_ = {n: float(v) for n, v in zip(fit.names, fit.params, strict=True)}
        self.reduced_standard_errors_ = {n: float(v) for n, v in by_name.items()}
        self.reduced_covariance_ = fit.covariance
        self.log_likelihood_ = fit.log_likelihood
        self.diagnostics_["interior_log_likelihood"] = full_ll
        self.warnings_.append(boundary.message(fit))
        if self.reduced_params_.get("p", 1.0) < boundary.NO_DROPOUT:
            # p itself sits on its bound: nobody is seen to drop out; its standard error means nothing
            self.reduced_standard_errors_["p"] = float("nan")
            self.reduced_covariance_ = fit.covariance.copy()
            self.reduced_covariance_[-1, :] = self.reduced_covariance_[:, -1] = 0.0  # intervals hold p at 0
            self.diagnostics_["boundary"].append("no_dropout")
            self.warnings_.append(
                "p is at 0: no customer is seen to drop out, so the model reduces to purchasing without "
                "dropout; predictions assume every customer stays active"
            )

    def _parts(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(rate, dropout)``: ``(r, alpha)`` or ``(lambda,)`` and ``(a, b)`` or ``(p,)``."""
        params = self._check_fitted()
        reduced = getattr(self, "reduced_params_", {})
        rate = (params["r"], params["alpha"]) if np.isfinite(params["r"]) else (reduced["lambda"],)
        dropout = (params["a"], params["b"]) if np.isfinite(params["a"]) else (reduced["p"],)
        return rate, dropout

    def predict_purchases(self, t, frequency, recency, T) -> np.ndarray:
        return limits.conditional_expected(t, *self._parts(), frequency, recency, T, modified=self.modified)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        return limits.p_alive(*self._parts(), frequency, recency, T, modified=self.modified)

    def expected_purchases(self, t) -> np.ndarray:
        return limits.expected(t, *self._parts(), modified=self.modified)


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """MBG/NBD model (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but a customer may also drop out
    right after the first purchase, so customers without repeat purchases are not certainly alive."""

    modified = True


class ParetoNBDFitter(_TransactionModel):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): Poisson purchasing with gamma heterogeneity
    (``r, alpha``) and an exponential lifetime with gamma heterogeneity (``s, beta``). The likelihood is
    eq. (22) of Fader & Hardie (2005), evaluated in log space (see :mod:`trueroi.clv.likelihoods`)."""

    param_names = ("r", "alpha", "s", "beta")
    # Without heterogeneity in the purchase or dropout rate the maximum runs off to r (or s) -> inf, where
    # the hypergeometric series converge ever more slowly (535 s on the small demo shop). The shapes are
    # capped at PARETO_SHAPE_CAP (coefficient of variation 1%), where the model is practically that limit.
    upper_bounds = (PARETO_SHAPE_CAP, np.inf, PARETO_SHAPE_CAP, np.inf)

    def _loglik(self, params, data):
        return pareto_nbd_loglik(params, data)

    def _after_fit(self, data: RFMData, failure: ConvergenceError | None = None) -> None:
        if failure is not None:
            raise failure
        capped = {"r": limits.RATE_LIMIT, "s": limits.DROPOUT_LIMIT}
        what = {"r": "purchase rate", "s": "dropout rate"}
        for name, label in capped.items():
            if self.params_[name] >= PARETO_SHAPE_CAP * (1 - 1e-6):
                self.diagnostics_["boundary"].append(label)
                self.warnings_.append(
                    f"{name} reached its cap {PARETO_SHAPE_CAP:g}: the {what[name]} is practically the same "
                    f"for every customer (no gamma heterogeneity); the maximum lies at {name} -> inf and is "
                    "approximated at the cap, where the standard errors of that pair mean little"
                )

    def predict_purchases(self, t, frequency, recency, T) -> np.ndarray:
        return pred.pareto_conditional_expected(t, self._params(), frequency, recency, T)

    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        return pred.pareto_p_alive(self._params(), frequency, recency, T)

    def expected_purchases(self, t) -> np.ndarray:
        return pred.pareto_expected(t, self._params())


class BetaGeoBetaBinomFitter(BaseFitter):
    """BG/BB model (Fader, Hardie & Shang 2010) for discrete transaction opportunities: a beta-Bernoulli
    purchase probability (``alpha, beta``) and a beta-geometric dropout per period (``gamma, delta``).

    ``fit`` takes ``frequency`` (transactions), ``recency`` (period of the last one, 0 if none) and
    ``n_periods`` (opportunities), all integers; identical rows are compressed before fitting.
    """

    param_names = ("alpha", "beta", "gamma", "delta")

    def fit(self, frequency, recency, n_periods, weights=None) -> BetaGeoBetaBinomFitter:
        x, t_x, n = (np.asarray(v, dtype=float).ravel() for v in (frequency, recency, n_periods))
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
        for name, v in (("frequency", x), ("recency", t_x), ("n_periods", n)):
            if np.any(v < 0) or np.any(v != np.floor(v)):
                raise DataValidationError("must hold non-negative integers", column=name)
        if np.any(x > t_x) or np.any(t_x > n) or np.any((x > 0) & (t_x == 0)):
            raise DataValidationError("needs frequency <= recency <= n_periods", column="recency")
        rows, inverse = np.unique(np.column_stack([x, t_x, n]), axis=0, return_inverse=True)
        counts = np.bincount(inverse.ravel(), weights=w)
        scale = float(w.sum())
        self._fit_params(
            lambda th: bgbb_loglik(th, rows[:, 0], rows[:, 1], rows[:, 2], counts),
            (1.0, 1.0, 1.0, 1.0),
            scale,
            starts=((0.5, 0.5, 0.5, 2.0), (2.0, 2.0, 2.0, 2.0)),
        )
        self.n_customers_ = scale
        return self

    def predict_purchases(self, n_star, frequency, recency, n_periods) -> np.ndarray:
        """Expected transactions in the next ``n_star`` opportunities (FHS 2010, eq. 13)."""
        return pred.bgbb_conditional_expected(n_star, self._params(), frequency, recency, n_periods)

    def probability_alive(self, frequency, recency, n_periods) -> np.ndarray:
        """Probability of being alive in period ``n_periods + 1`` (FHS 2010, eq. 11)."""
        return pred.bgbb_p_alive(self._params(), frequency, recency, n_periods)

    def expected_purchases(self, n) -> np.ndarray:
        """Expected transactions of a new customer in ``n`` opportunities (FHS 2010, eq. 7)."""
        return pred.bgbb_expected(n, self._params())


class GammaGammaFitter(BaseFitter):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005b; Fader & Hardie 2013): transaction values are
    gamma(``p``, ``nu``) with ``nu`` gamma(``q``, ``v``) across customers (``v`` is the papers' ``gamma``).

    Fitted on customers with at least one repeat purchase; it assumes spend does not depend on frequency.
    """

    param_names = ("p", "q", "v")

    def fit(self, frequency, monetary_value, weights=None) -> GammaGammaFitter:
        """Fit on repeat customers: ``frequency > 0`` and ``monetary_value`` (mean repeat spend) ``> 0``."""
        x = np.asarray(frequency, dtype=float).ravel()
        z = np.asarray(monetary_value, dtype=float).ravel()
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
        keep = (x > 0) & (z > 0) & np.isfinite(z)
        if keep.sum() < 2:
            raise DataValidationError(
                f"only {int(keep.sum())} customer(s) with repeat purchases and positive monetary_value",
                column="monetary_value",
                expected="at least 2 repeat customers with spend > 0",
            )
        data = SpendData.from_arrays(x[keep], z[keep], w[keep])
        mean = float(np.average(data.zbar, weights=data.w))
        init, starts, hess_inv0 = (
            self._init((1.0, 1.0, 1.0)),
            ((2.0, 2.0, mean), (10.0, 3.0, 10 * mean)),
            None,
        )
        if self.initial_params is None and len(data.x) > _WARM_START_ROWS:
            rows = np.sort(np.random.default_rng(0).choice(len(data.x), _WARM_START_ROWS, replace=False))
            sub = SpendData.from_arrays(data.x[rows], data.zbar[rows], data.w[rows])
            probe = GammaGammaFitter(tol=1e-6, max_iter=self.max_iter)
            try:
                probe._fit_params(
                    lambda th: gamma_gamma_loglik(th, sub), init, float(sub.w.sum()), starts=starts
                )
                init, hess_inv0 = (
                    tuple(probe.params_[n] for n in self.param_names),
                    probe._log_space_hess_inv(),
                )
            except ConvergenceError:
                pass
        self._fit_params(
            lambda th: gamma_gamma_loglik(th, data),
            init,
            float(data.w.sum()),
            starts=starts,
            hess_inv0=hess_inv0,
        )
        self.n_customers_ = float(data.w.sum())
        return self

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """Expected average transaction value per customer (population mean where ``frequency == 0``)."""
        return pred.gamma_gamma_expected_spend(self._params(), frequency, monetary_value)


MODELS: dict[str, type[_TransactionModel]] = {
    "bgnbd": BetaGeoFitter,
    "pareto": ParetoNBDFitter,
    "mbgnbd": ModifiedBetaGeoFitter,
}


def get_model(name: str, **settings) -> _TransactionModel:
    """The transaction model registered under ``name`` (``bgnbd``, ``pareto``, ``mbgnbd``)."""
    try:
        return MODELS[name](**settings)
    except KeyError:
        raise UsageError(f"unknown CLV model {name!r}; choose one of {', '.join(MODELS)}") from None
