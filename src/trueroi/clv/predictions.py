"""Closed-form predictions of the CLV models: expected purchases, probability alive, expected spend, CLV.

Pure functions of the parameters and each customer's ``(x, t_x, T)``; the fitters in
:mod:`trueroi.clv.models` call them with their fitted parameters. Time is in the unit the model was fitted
in (weeks for the CDNOW examples).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, expit, gammaln
from scipy.special import hyp2f1 as _scipy_hyp2f1

from trueroi.clv.likelihoods import RFMData, bgbb_row_loglik, pareto_terms

DAYS_PER_MONTH = 365.25 / 12


def hyp2f1(a, b, c, z) -> np.ndarray:
    """Gauss's ``2F1(a, b; c; z)`` for ``0 <= z < 1``: scipy's, with a direct power series where scipy
    returns a non-finite value (it does for some large ``c``, e.g. ``2F1(2, 1; 101; 0.914)``)."""
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, c, z)))
    out = np.array(_scipy_hyp2f1(a, b, c, z), dtype=float)
    bad = ~np.isfinite(out)
    if bad.any():
        out[bad] = _hyp2f1_series(a[bad], b[bad], c[bad], z[bad])
    return out if out.ndim else out[()]


def _hyp2f1_series(a, b, c, z, max_terms: int = 1_000_000) -> np.ndarray:
    total, term = np.ones_like(z), np.ones_like(z)
    for n in range(max_terms):
        term = term * (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            return total
    return np.full_like(z, np.nan)


def _arrays(*values):
    return tuple(np.asarray(v, dtype=float) for v in values)


# --- BG/NBD and MBG/NBD ---------------------------------------------------------------------------------


def beta_geo_p_alive(params, x, t_x, T, *, modified: bool = False) -> np.ndarray:
    """Probability that a customer is still alive at ``T`` (Fader, Hardie & Lee 2005a, eq. 13).

    BG/NBD: ``1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``; MBG/NBD (Batislam et al. 2007):
    ``1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))``.
    """
    r, alpha, a, b = params
    x, t_x, T = _arrays(x, t_x, T)
    denom = b + x if modified else np.where(x > 0, b + x - 1, 1.0)
    log_odds = np.log(a) - np.log(denom) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    p = expit(-log_odds)
    return p if modified else np.where(x > 0, p, 1.0)


def beta_geo_conditional_expected(t, params, x, t_x, T, *, modified: bool = False) -> np.ndarray:
    """Expected purchases in ``(T, T+t]`` for a customer with history ``(x, t_x, T)`` (FHL 2005a, eq. 10).

    ``E = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] P(alive)`` with
    ``z = t/(alpha+T+t)``. Euler's transformation rewrites the bracket as
    ``1 - ((alpha+T)/(alpha+T+t))^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, whose parameters do not grow with
    ``x``, so heavy buyers neither overflow nor lose precision. MBG/NBD shifts ``b+x`` by one.
    """
    r, alpha, a, b = params
    t, x, t_x, T = _arrays(t, x, t_x, T)
    k = 1.0 if modified else 0.0
    z = t / (alpha + T + t)
    c = a + b + x - 1 + k
    with np.errstate(over="ignore", invalid="ignore"):
        bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (a - 1) * hyp2f1(a + b - 1 + k - r, a - 1, c, z)
        expected = c / (a - 1) * bracket
    expected = np.where(np.isfinite(expected), expected, _constant_dropout_limit(t, r, alpha, a, b, x, T))
    return expected * beta_geo_p_alive(params, x, t_x, T, modified=modified)


def _constant_dropout_limit(t, r, alpha, a, b, x, T) -> np.ndarray:
    """The conditional expectation as ``a, b -> inf`` with ``p = a / (a + b)`` fixed (a fixed dropout
    probability after each purchase), where the hypergeometric overflows.

    Termwise, ``(b+x)_j / (a+b+x-1)_j -> q^j`` with ``q = 1 - p``, so ``2F1(r+x, b+x; a+b+x-1; z) ->
    (1 - q z)^-(r+x)`` and ``(a+b+x-1)/(a-1) -> 1/p``; with ``z = t/(alpha+T+t)`` this gives
    ``E = [1 - ((alpha+T)/(alpha+T+p t))^(r+x)] / p`` (the same limit holds for the MBG/NBD shift).
    """
    p = a / (a + b)
    return -np.expm1((r + x) * (np.log(alpha + T) - np.log(alpha + T + p * t))) / p


def beta_geo_expected(t, params, *, modified: bool = False) -> np.ndarray:
    """Expected purchases of a new customer in ``(0, t]`` (FHL 2005a, eq. 9; Batislam et al. 2007)."""
    r, alpha, a, b = params
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    if modified:
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b + 1, a + b, z))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


# --- Pareto/NBD -------------------------------------------------------------------------------------------


def _growth(c: float, log_ratio: np.ndarray) -> np.ndarray:
    """``(1 - exp(c * log_ratio)) / c``, continuous at ``c = 0`` where it is ``-log_ratio``."""
    if abs(c) < 1e-12:
        return -log_ratio
    return -np.expm1(c * log_ratio) / c


def pareto_p_alive(params, x, t_x, T) -> np.ndarray:
    """Probability alive at ``T`` under the Pareto/NBD (Fader & Hardie 2005, eq. 18), in log space."""
    x, t_x, T = np.broadcast_arrays(*_arrays(x, t_x, T))
    data = RFMData.from_arrays(x, t_x, T)
    _, b1, log_second, _ = pareto_terms(params, data)
    return np.exp(b1 - np.logaddexp(b1, log_second)).reshape(x.shape)


def pareto_conditional_expected(t, params, x, t_x, T) -> np.ndarray:
    """Expected purchases in ``(T, T+t]`` given ``(x, t_x, T)`` (Fader & Hardie 2005, eq. 21).

    ``E = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)``, with the limit
    ``(r+x)(beta+T)/(alpha+T) log((beta+T+t)/(beta+T))`` at ``s = 1``.
    """
    r, alpha, s, beta = params
    t, x, t_x, T = _arrays(t, x, t_x, T)
    grow = _growth(s - 1, np.log(beta + T) - np.log(beta + T + t))
    return (r + x) * (beta + T) / (alpha + T) * grow * pareto_p_alive(params, x, t_x, T)


def pareto_expected(t, params) -> np.ndarray:
    """Expected purchases of a new customer in ``(0, t]``.

    ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]`` (Fader & Hardie 2005, eq. 17).
    """
    r, alpha, s, beta = params
    t = np.asarray(t, dtype=float)
    return r * beta / alpha * _growth(s - 1, np.log(beta) - np.log(beta + t))


# --- BG/BB ------------------------------------------------------------------------------------------------


def bgbb_p_alive(params, x, t_x, n) -> np.ndarray:
    """Probability alive in period ``n+1`` (Fader, Hardie & Shang 2010, eq. 11)."""
    al, be, ga, de = params
    x, t_x, n = np.broadcast_arrays(*_arrays(x, t_x, n))
    log_alive = betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n + 1) - betaln(ga, de)
    return np.exp(log_alive - bgbb_row_loglik(params, x, t_x, n).reshape(np.shape(x)))


def bgbb_conditional_expected(n_star, params, x, t_x, n) -> np.ndarray:
    """Expected transactions in the next ``n_star`` periods given ``(x, t_x, n)`` (FHS 2010, eq. 13)."""
    al, be, ga, de = params
    n_star, x, t_x, n = np.broadcast_arrays(*_arrays(n_star, x, t_x, n))
    log_l = bgbb_row_loglik(params, x, t_x, n).reshape(np.shape(x))
    head = betaln(al + x + 1, be + n - x) - betaln(al, be) - log_l + gammaln(ga + de) - gammaln(1 + de)
    diff = np.exp(gammaln(1 + de + n) - gammaln(ga + de + n)) - np.exp(
        gammaln(1 + de + n + n_star) - gammaln(ga + de + n + n_star)
    )
    return np.exp(head) * de / (ga - 1) * diff


def bgbb_expected(n, params) -> np.ndarray:
    """Expected transactions of a new customer in ``n`` opportunities (FHS 2010, eq. 7)."""
    al, be, ga, de = params
    n = np.asarray(n, dtype=float)
    ratio = np.exp(gammaln(ga + de) - gammaln(ga + de + n) + gammaln(1 + de + n) - gammaln(1 + de))
    return al / (al + be) * de / (ga - 1) * (1 - ratio)


# --- spend and value --------------------------------------------------------------------------------------


def gamma_gamma_expected_spend(params, x, zbar) -> np.ndarray:
    """Expected average transaction value given ``x`` transactions with mean ``zbar`` (FHL 2005b, eq. 5).

    ``E[M | p, q, v, x, zbar] = (p (v + x zbar)) / (p x + q - 1)``, a weighted mean of the population mean
    ``p v / (q - 1)`` and the customer's own ``zbar``; customers without repeat purchases get the former.
    """
    p, q, v = params
    x, zbar = _arrays(x, zbar)
    zbar = np.where(x > 0, zbar, 0.0)
    return p * (v + x * zbar) / (p * x + q - 1)


def discounted_value(
    cumulative_purchases: np.ndarray, spend: np.ndarray, *, margin: float = 1.0, discount_rate: float = 0.0
) -> np.ndarray:
    """Cumulative discounted margin per customer and month from expected cumulative purchases.

    Parameters
    ----------
    cumulative_purchases
        Array ``(customers, months + 1)``: expected purchases from now up to the end of month ``0..months``
        (column 0 is zero).
    spend
        Expected value per transaction per customer (revenue; ``margin`` turns it into contribution margin).
    margin
        Contribution-margin share of revenue (1 when ``spend`` is already margin).
    discount_rate
        Monthly discount rate; month ``i`` is discounted by ``(1 + discount_rate)^i``.

    Returns
    -------
    Array ``(customers, months)``: discounted value up to the end of each month.
    """
    per_month = np.diff(cumulative_purchases, axis=1)
    factors = (1.0 + discount_rate) ** -np.arange(1, per_month.shape[1] + 1)
    return np.cumsum(per_month * factors, axis=1) * (np.asarray(spend, dtype=float)[:, None] * margin)


def month_grid(months: int, time_unit_days: float) -> np.ndarray:
    """Ends of months ``0..months`` in model time units (a month is 365.25/12 days)."""
    return np.arange(months + 1) * DAYS_PER_MONTH / time_unit_days
