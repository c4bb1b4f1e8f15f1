"""Detecting and fitting the no-heterogeneity limits of BG/NBD and MBG/NBD (see :mod:`trueroi.clv.limits`).

When the maximum of the likelihood lies at infinity (``r, alpha -> inf`` or ``a, b -> inf``), an optimizer
stops somewhere along the ridge (``a = 5e6`` on the demo shop) and its parameters are arbitrary. After a
fit whose gamma shape ``r`` or beta concentration ``a + b`` has grown past :data:`SHAPE_FLAG`, the reduced
model with that mixture replaced by a point mass is fitted explicitly. If its maximum is as high as the
full fit's (within the optimizers' precision: 1e-3, or 1e-8 per customer on large data), the fit sits in the
limit: the reduced model's parameters and log-likelihood are the honest report. Otherwise the interior
maximum is kept and the test against the limit is reported. The likelihood-ratio statistic of the full
against the reduced model, whose null value lies on the boundary of the parameter space, is referred to the
50:50 mixture of chi-square(0) and chi-square(1) (Self & Liang 1987, "Asymptotic properties of maximum
likelihood estimators ... under nonstandard conditions", JASA 82(398), case 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trueroi.clv import limits
from trueroi.clv.base import covariance, maximize
from trueroi.clv.likelihoods import RFMData
from trueroi.errors import ConvergenceError

SHAPE_FLAG = 100.0  # r or a + b beyond this: coefficient of variation of the mixed quantity below ~10%
NO_DROPOUT = 1e-6  # a fitted constant dropout probability below this is at its own bound, 0
# the limit counts as the maximum when its log-likelihood is within max(SAME_LL, SAME_LL_PER_CUSTOMER * n)
# of the full fit's: the optimizer's own precision on millions of customers is about 1e-9 per customer
SAME_LL = 1e-3
SAME_LL_PER_CUSTOMER = 1e-8


@dataclass
class LimitFit:
    """A fitted reduced model: which mixtures are in their limit, the parameters and their covariance."""

    limits: tuple[str, ...]
    names: tuple[str, ...]
    params: np.ndarray
    covariance: np.ndarray
    log_likelihood: float
    notes: list[str] = field(default_factory=list)

    def parts(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(rate, dropout)`` in the form :mod:`trueroi.clv.limits` takes."""
        n_rate = 1 if limits.RATE_LIMIT in self.limits else 2
        values = tuple(float(v) for v in self.params)
        return values[:n_rate], values[n_rate:]


def flagged(params: dict[str, float]) -> tuple[str, ...]:
    """The mixtures whose shape suggests the fit is running to the limit."""
    out = []
    if params["r"] > SHAPE_FLAG:
        out.append(limits.RATE_LIMIT)
    if params["a"] + params["b"] > SHAPE_FLAG:
        out.append(limits.DROPOUT_LIMIT)
    return tuple(out)


def _split(theta: np.ndarray, n_rate: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    return tuple(theta[:n_rate]), tuple(theta[n_rate:])


def fit_limit(
    data: RFMData,
    which: tuple[str, ...],
    *,
    modified: bool,
    start: dict[str, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> LimitFit:
    """Maximum likelihood of the reduced model with the mixtures in ``which`` replaced by point masses.

    The optimizer works on ``log`` of every positive parameter and, for ``p``, on the log odds
    ``log(p / (1 - p))``; standard errors come from the observed information in natural parameters.
    """
    rate_limit, dropout_limit = limits.RATE_LIMIT in which, limits.DROPOUT_LIMIT in which
    n_rate = 1 if rate_limit else 2
    names = (("lambda",) if rate_limit else ("r", "alpha")) + (("p",) if dropout_limit else ("a", "b"))
    s = start or {}
    mean_rate = float(np.average(data.x + 1, weights=data.w) / np.average(data.T + 1, weights=data.w))
    rate0 = (
        [s["r"] / s["alpha"]]
        if rate_limit and "r" in s
        else [mean_rate]
        if rate_limit
        else [
            s.get("r", 1.0),
            s.get("alpha", 1.0),
        ]
    )
    p0 = s["a"] / (s["a"] + s["b"]) if "a" in s else 0.3
    drop0 = [p0 / (1 - p0)] if dropout_limit else [s.get("a", 1.0), s.get("b", 1.0)]

    def natural(theta: np.ndarray) -> np.ndarray:
        if not dropout_limit:
            return theta
        out = theta.copy()
        out[-1] = theta[-1] / (1 + theta[-1])  # odds -> p
        return out

    def loglik(theta: np.ndarray) -> tuple[float, np.ndarray]:
        nat = natural(theta)
        ll, grad = limits.reduced_loglik(*_split(nat, n_rate), data, modified=modified)
        if dropout_limit:
            grad = grad.copy()
            grad[-1] *= 1 / (1 + theta[-1]) ** 2
        return ll, grad

    scale = float(data.w.sum())
    starts = tuple(
        np.array(v) for v in ([*rate0[:-1], rate0[-1] * 2, *drop0], [*rate0, *[d * 0.5 for d in drop0]])
    )
    theta, ll, _ = maximize(
        loglik, np.array([*rate0, *drop0]), scale, tol=tol, max_iter=max_iter, starts=starts
    )
    params = natural(theta)
    cov = covariance(lambda th: limits.reduced_loglik(*_split(th, n_rate), data, modified=modified), params)
    return LimitFit(tuple(which), names, params, cov, ll)


def chi_bar_p_value(statistic: float) -> float:
    """p-value of a likelihood-ratio statistic, one parameter on the boundary: 0.5 chi2(0) + 0.5 chi2(1)."""
    from scipy.stats import chi2

    return 1.0 if statistic <= 0 else float(0.5 * chi2.sf(statistic, 1))


def message(fit: LimitFit, *, unit: str = "time unit") -> str:
    """A sentence that says which limit the fit sits in and what the model reduces to."""
    params = dict(zip(fit.names, fit.params, strict=True))
    parts = []
    if limits.RATE_LIMIT in fit.limits:
        parts.append(
            "the purchase rate is the same for every customer: r, alpha -> inf with lambda = r/alpha = "
            f"{params['lambda']:.4g} purchases per {unit} (Poisson purchasing, no gamma heterogeneity)"
        )
    if limits.DROPOUT_LIMIT in fit.limits:
        parts.append(
            "dropout is the same for every customer: a, b -> inf with p = a/(a+b) = "
            f"{params['p']:.4g} fixed (a constant dropout probability after each purchase, no beta "
            "heterogeneity)"
        )
    return "; ".join(parts) + "; the model reduces to that limit, whose parameters are reported"


def try_limits(
    data: RFMData,
    full_params: dict[str, float] | None,
    full_ll: float | None,
    *,
    modified: bool,
    tol: float,
    max_iter: int,
) -> tuple[LimitFit | None, dict]:
    """After a full fit (or a failed one, ``full_params is None``), fit the flagged limits.

    Returns the accepted limit (or None) and a diagnostics dict with what was tried.
    """
    if full_params is None:
        candidates = [
            (limits.DROPOUT_LIMIT,),
            (limits.RATE_LIMIT,),
            (limits.RATE_LIMIT, limits.DROPOUT_LIMIT),
        ]
    else:
        which = flagged(full_params)
        if not which:
            return None, {"boundary": [], "tested": []}
        candidates = [which] + ([(w,) for w in which] if len(which) == 2 else [])
    tested, accepted = [], []
    same = max(SAME_LL, SAME_LL_PER_CUSTOMER * float(data.w.sum()))
    for which in candidates:
        try:
            fit = fit_limit(data, which, modified=modified, start=full_params, tol=tol, max_iter=max_iter)
        except ConvergenceError:
            continue
        stat = None if full_ll is None else max(2 * (full_ll - fit.log_likelihood), 0.0)
        tested.append(
            {
                "limits": list(which),
                "log_likelihood": fit.log_likelihood,
                "lr_statistic": stat,
                # a joint test of two boundary parameters needs a chi-bar mixture with estimated weights
                "p_value": chi_bar_p_value(stat) if stat is not None and len(which) == 1 else None,
            }
        )
        if full_ll is None or fit.log_likelihood >= full_ll - same:
            accepted.append(fit)
    if not accepted:
        return None, {"boundary": [], "tested": tested}
    top = max(f.log_likelihood for f in accepted)
    # among the fits as good as the best one, the most reduced (fewest free parameters)
    best = max((f for f in accepted if f.log_likelihood >= top - same), key=lambda f: len(f.limits))
    return best, {"boundary": list(best.limits), "tested": tested}
