"""The BG/NBD family at the edge of its parameter space: no heterogeneity in purchase rate or in dropout.

BG/NBD (Fader, Hardie & Lee 2005a) mixes a Poisson purchase rate over ``Gamma(r, alpha)`` and a dropout
probability over ``Beta(a, b)``. When the data show no heterogeneity in one of them, maximum likelihood runs
off to the edge: ``r, alpha -> inf`` with ``lambda = r / alpha`` fixed (every customer buys at the same
rate) or ``a, b -> inf`` with ``p = a / (a + b)`` fixed (the same dropout probability after every
purchase). The supremum of the likelihood is then the maximum of a *reduced* model with a point mass in
place of the mixing distribution; this module holds that reduced model's likelihood (with exact gradient)
and its closed-form predictions, so a fit can report finite, honest parameters and log-likelihood there.

The limits follow termwise from the mixtures:

- ``Gamma(r+x) alpha^r / (Gamma(r) (alpha+t)^(r+x)) -> lambda^x e^(-lambda t)`` (Poisson likelihood);
- ``B(a, b+x)/B(a, b) -> (1-p)^x`` and ``B(a+1, b+x-1)/B(a, b) -> p (1-p)^(x-1)`` (BG/NBD; MBG/NBD of
  Batislam, Denizel & Filiztekin 2007 shifts ``x`` by one and keeps the second term for ``x = 0``);
- expected purchases in ``(T, T+t]`` of a customer alive at ``T``: with constant ``lambda`` and ``p``,
  ``E[(1 - (1-p)^N) / p]`` for ``N ~ Poisson(lambda t)``, i.e. ``(1 - exp(-lambda p t)) / p``; with gamma
  rates and constant ``p``, ``[1 - ((alpha+T)/(alpha+T+p t))^(r+x)] / p``; with constant ``lambda`` and beta
  dropout, the confluent limit of Gauss's function in FHL 2005a eq. (10):
  ``(a+b+x-1)/(a-1) [1 - 1F1(a-1; a+b+x-1; -lambda t)]``.

A part is either the mixture's parameters (``(r, alpha)``, ``(a, b)``) or its limit (``(lambda,)``,
``(p,)``); the functions below take one of each.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp1f1, psi

from trueroi.clv import predictions as pred
from trueroi.clv.likelihoods import RFMData, _dbeta

RATE_LIMIT = "purchase_rate"
DROPOUT_LIMIT = "dropout"


def _log_g(rate, x, t):
    """``log`` of the purchase part at time ``t`` and its gradient with respect to the rate parameters."""
    if len(rate) == 1:
        (lam,) = rate
        return x * np.log(lam) - lam * t, [x / lam - t]
    r, alpha = rate
    la = np.log(alpha + t)
    value = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * la
    return value, [psi(r + x) - psi(r) + np.log(alpha) - la, r / alpha - (r + x) / (alpha + t)]


def _log_beta_terms(dropout, x, k):
    """The two dropout terms (alive after ``x + k`` purchases; dead right after the last) and gradients."""
    if len(dropout) == 1:
        (p,) = dropout
        n1, n2 = x + k, x + k - 1
        return (n1 * np.log1p(-p), [-n1 / (1 - p)]), (np.log(p) + n2 * np.log1p(-p), [1 / p - n2 / (1 - p)])
    a, b = dropout
    v2 = np.maximum(b + x + k - 1, 1e-300)
    lb0 = betaln(a, b)
    da0, db0 = _dbeta(a, b)
    d1a, d1b = _dbeta(a, b + x + k)
    d2a, d2b = _dbeta(a + 1, v2)
    first = (betaln(a, b + x + k) - lb0, [d1a - da0, d1b - db0])
    second = (betaln(a + 1, v2) - lb0, [d2a - da0, d2b - db0])
    return first, second


def reduced_loglik(rate, dropout, data: RFMData, *, modified: bool = False) -> tuple[float, np.ndarray]:
    """Total log-likelihood of BG/NBD (or MBG/NBD) with either part possibly in its limit, and its gradient.

    Parameters
    ----------
    rate
        ``(r, alpha)`` or ``(lambda,)``: purchases per time unit of every customer.
    dropout
        ``(a, b)`` or ``(p,)``: the dropout probability after each purchase, ``0 < p < 1``.
    data
        Customers (:class:`~trueroi.clv.likelihoods.RFMData`).

    Returns
    -------
    (log_likelihood, gradient)
        Gradient with respect to ``(*rate, *dropout)`` on their natural scale.
    """
    k = 1.0 if modified else 0.0
    x, t_x, T, w = data.x, data.t_x, data.T, data.w
    g_T, dg_T = _log_g(rate, x, T)
    g_t, dg_t = _log_g(rate, x, t_x)
    (b1, db1), (b2, db2) = _log_beta_terms(dropout, x, k)
    has2 = np.ones_like(x, dtype=bool) if modified else x > 0
    l1 = b1 + g_T
    l2 = np.where(has2, b2 + g_t, -np.inf)
    total = np.logaddexp(l1, l2)
    w1, w2 = np.exp(l1 - total), np.exp(l2 - total)
    grad = [np.sum(w * (w1 * d1 + w2 * np.where(has2, d2, 0.0))) for d1, d2 in zip(dg_T, dg_t, strict=True)]
    grad += [np.sum(w * (w1 * d1 + w2 * np.where(has2, d2, 0.0))) for d1, d2 in zip(db1, db2, strict=True)]
    return float(np.sum(w * total)), np.array(grad, dtype=float)


def p_alive(rate, dropout, x, t_x, T, *, modified: bool = False) -> np.ndarray:
    """Probability alive at ``T`` (FHL 2005a eq. 13 with either part in its limit)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(rate) == 1:
        log_ratio = rate[0] * (T - t_x)
    else:
        r, alpha = rate
        log_ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    if len(dropout) == 1:
        (p,) = dropout
        log_odds = np.log(p) - np.log1p(-p) + log_ratio
    else:
        a, b = dropout
        denom = b + x if modified else np.where(x > 0, b + x - 1, 1.0)
        log_odds = np.log(a) - np.log(denom) + log_ratio
    alive = expit(-log_odds)
    return alive if modified else np.where(x > 0, alive, 1.0)


def conditional_expected(t, rate, dropout, x, t_x, T, *, modified: bool = False) -> np.ndarray:
    """Expected purchases in ``(T, T+t]`` given ``(x, t_x, T)``, either part possibly in its limit."""
    t, x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, t_x, T)))
    if len(rate) == 2 and len(dropout) == 2:
        return pred.beta_geo_conditional_expected(t, (*rate, *dropout), x, t_x, T, modified=modified)
    k = 1.0 if modified else 0.0
    if len(dropout) == 1:
        (p,) = dropout
        if len(rate) == 1:
            alive_part = -np.expm1(-rate[0] * p * t) / p
        else:
            r, alpha = rate
            alive_part = -np.expm1((r + x) * (np.log(alpha + T) - np.log(alpha + T + p * t))) / p
    else:
        a, b = dropout
        c = a + b + x - 1 + k
        alive_part = c / (a - 1) * (1 - hyp1f1(a - 1, c, -rate[0] * t))
    return alive_part * p_alive(rate, dropout, x, t_x, T, modified=modified)


def expected(t, rate, dropout, *, modified: bool = False) -> np.ndarray:
    """Expected purchases of a new customer in ``(0, t]`` (FHL 2005a eq. 9 in the limits)."""
    t = np.asarray(t, dtype=float)
    if len(rate) == 2 and len(dropout) == 2:
        return pred.beta_geo_expected(t, (*rate, *dropout), modified=modified)
    zero = np.zeros_like(t)
    tiny = np.full_like(t, 1e-300)
    return conditional_expected(t, rate, dropout, zero, zero, tiny, modified=modified)


def rate_mean(rate) -> float:
    """Mean purchase rate of the population (``r / alpha`` or ``lambda``)."""
    return float(rate[0]) if len(rate) == 1 else float(rate[0] / rate[1])


def dropout_mean(dropout) -> float:
    """Mean dropout probability (``a / (a + b)`` or ``p``)."""
    return float(dropout[0]) if len(dropout) == 1 else float(dropout[0] / (dropout[0] + dropout[1]))
