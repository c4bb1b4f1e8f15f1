"""Log-likelihoods of the buy-till-you-die and spend models, with exact gradients.

Pure functions: each takes the parameters on their natural scale and a prepared data object and returns
the (weighted) total log-likelihood and its gradient with respect to those parameters. Everything is in
log space (``gammaln``/``betaln``/``logaddexp``) so millions of customers neither overflow nor underflow,
and every term that depends only on the integer frequency ``x`` is computed once per distinct ``x``.

References
----------
- Fader, Hardie & Lee (2005a), "Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD
  Model", Marketing Science 24(2), eq. (6)  (BG/NBD).
- Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for customer base
  analysis", IJRM 24(3)  (MBG/NBD).
- Schmittlein, Morrison & Colombo (1987); Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model
  and Related Expressions", eq. (22)  (Pareto/NBD).
- Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual Setting",
  Marketing Science 29(6), eq. (5)  (BG/BB).
- Fader, Hardie & Lee (2005b), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4);
  Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"  (Gamma-Gamma).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, psi

from trueroi.errors import ConvergenceError, DataValidationError


@dataclass(frozen=True)
class RFMData:
    """Frequency, recency and age of each customer, ready for the likelihoods.

    Attributes
    ----------
    x
        Number of repeat purchases (``frequency``), float array of non-negative integers.
    t_x
        Time of the last purchase since the first (``recency``), in model time units.
    T
        Time from the first purchase to the end of the calibration period (age), same units.
    w
        Weight of each row (1 for one customer; a count when rows are compressed).
    ux, ix, wu
        Distinct values of ``x``, the index of each row's ``x`` in ``ux``, and the weight per distinct ``x``.
    n_zero
        With ``partition=True`` the rows are reordered so that the ``n_zero`` customers without repeat
        purchases come first (their likelihood terms are cheaper); otherwise 0 and rows keep their order.
    """

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    w: np.ndarray
    ux: np.ndarray
    ix: np.ndarray
    wu: np.ndarray
    n_zero: int = 0

    @classmethod
    def from_arrays(cls, frequency, recency, T, weights=None, *, partition: bool = False) -> RFMData:
        """Validate and prepare arrays (``0 <= recency <= T``, ``recency == 0`` where ``frequency == 0``).

        ``partition=True`` reorders rows (customers without repeat purchases first) for faster fitting;
        leave it off where per-row results must keep the input order.
        """
        x = np.asarray(frequency, dtype=float).ravel()
        t_x = np.asarray(recency, dtype=float).ravel()
        age = np.asarray(T, dtype=float).ravel()
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
        if not (len(x) == len(t_x) == len(age) == len(w)):
            raise DataValidationError("frequency, recency, T and weights have different lengths")
        if len(x) == 0:
            raise DataValidationError("no customers to fit", expected="at least one row")
        _check(x, "frequency", (x >= 0) & (x == np.floor(x)), "a non-negative integer")
        _check(t_x, "recency", t_x >= 0, "a non-negative number")
        # T = 0 (first purchase at the very end of the period) is valid: such a customer has x = t_x = 0,
        # and every continuous-time likelihood gives it probability 1 (log-likelihood 0, no information)
        _check(age, "T", age >= 0, "a non-negative number (time since the first purchase)")
        _check(t_x, "recency", t_x <= age * (1 + 1e-9), "recency <= T")
        _check(t_x, "recency", (x > 0) | (t_x == 0), "recency 0 for customers with frequency 0")
        _check(w, "weights", w >= 0, "non-negative weights")
        t_x = np.minimum(t_x, age)
        n_zero = 0
        if partition:
            zero = x == 0
            n_zero = int(zero.sum())
            order = np.concatenate([np.flatnonzero(zero), np.flatnonzero(~zero)])
            x, t_x, age, w = x[order], t_x[order], age[order], w[order]
        xi = x.astype(np.int64)
        counts = np.bincount(xi)
        ux = np.flatnonzero(counts)
        position = np.zeros(len(counts), dtype=np.int64)
        position[ux] = np.arange(len(ux))
        ix = position[xi]
        wu = np.bincount(ix, weights=w, minlength=len(ux))
        return cls(x, t_x, age, w, ux.astype(float), ix, wu, n_zero)


def _check(values: np.ndarray, column: str, ok: np.ndarray, expected: str) -> None:
    bad = ~(ok & np.isfinite(values))
    if bad.any():
        row = int(np.argmax(bad))
        raise DataValidationError(
            "is not valid", row=row + 1, column=column, value=float(values[row]), expected=expected
        )


def _dot(a, b) -> float:
    """Sum of products without BLAS: OpenBLAS threads on shared cores are slower than one pass here."""
    return float(np.multiply(a, b).sum())


def _dbeta(u, v):
    """Partial derivatives of ``betaln(u, v)`` with respect to ``u`` and ``v``."""
    both = psi(u + v)
    return psi(u) - both, psi(v) - both


# --- BG/NBD and MBG/NBD ---------------------------------------------------------------------------------


def beta_geo_loglik(params, data: RFMData, *, modified: bool = False) -> tuple[float, np.ndarray]:
    """Total log-likelihood and gradient of the BG/NBD (or MBG/NBD) model.

    BG/NBD (Fader, Hardie & Lee 2005a, eq. 6)::

        L = B(a, b+x)/B(a, b) * G(T) + 1{x>0} B(a+1, b+x-1)/B(a, b) * G(t_x),
        G(t) = Gamma(r+x) alpha^r / (Gamma(r) (alpha+t)^(r+x))

    MBG/NBD (Batislam et al. 2007) lets a customer drop out right after the first purchase too:
    ``B(a, b+x+1)`` and ``B(a+1, b+x)`` replace the two beta ratios, and the second term counts for ``x = 0``.

    Parameters
    ----------
    params
        ``(r, alpha, a, b)``, all positive.
    data
        Prepared customers (:class:`RFMData`).
    modified
        ``True`` for MBG/NBD.

    Returns
    -------
    (log_likelihood, gradient)
        The weighted sum over customers and its gradient with respect to ``(r, alpha, a, b)``.
    """
    r, alpha, a, b = (float(p) for p in params)
    k = 1.0 if modified else 0.0
    ux, nz = data.ux, data.n_zero
    lb0 = betaln(a, b)
    da0, db0 = _dbeta(a, b)
    has2 = np.ones_like(ux, dtype=bool) if modified else ux > 0
    v2 = np.where(has2, b + ux + k - 1, 1.0)  # safe argument where the term is absent
    a1u = betaln(a, b + ux + k) - lb0
    a2u = np.where(has2, betaln(a + 1, v2) - lb0, -np.inf)
    w_all = data.w
    total_w = float(w_all.sum())
    log_alpha = np.log(alpha)
    # customers with repeat purchases (and, unpartitioned, everyone): the full two-term mixture
    x, t_x, T, w, ix = data.x[nz:], data.t_x[nz:], data.T[nz:], w_all[nz:], data.ix[nz:]
    rx = r + x
    log_aT = np.log(alpha + T)
    log_at = np.log(alpha + t_x)
    a1 = a1u[ix] - rx * log_aT
    a2 = a2u[ix] - rx * log_at
    top = np.maximum(a1, a2)
    e1 = np.exp(a1 - top)
    e2 = np.exp(a2 - top)
    tot = e1 + e2
    w1 = e1 / tot
    w2 = e2 / tot
    ll_rows = _dot(w, top + np.log(tot))
    g_r_rows = _dot(w, w1 * log_aT + w2 * log_at)
    g_alpha_rows = _dot(w * rx, w1 / (alpha + T) + w2 / (alpha + t_x))
    ww1 = np.bincount(ix, weights=w * w1, minlength=len(ux))
    ww2 = np.bincount(ix, weights=w * w2, minlength=len(ux))
    if nz:  # leading customers without repeat purchases: t_x = 0, so the second term is a constant
        T0, w0 = data.T[:nz], w_all[:nz]
        log_aT0 = np.log(alpha + T0)
        b1 = a1u[0] - r * log_aT0
        b2 = a2u[0] - r * log_alpha
        both = np.logaddexp(b1, b2) if modified else b1
        v1 = np.exp(b1 - both) if modified else 1.0
        v2z = 1.0 - v1
        ll_rows += _dot(w0, both)
        g_r_rows += _dot(w0, v1 * log_aT0 + v2z * log_alpha)
        g_alpha_rows += r * _dot(w0, v1 / (alpha + T0) + v2z / alpha)
        ww1[0] += _dot(w0, np.broadcast_to(v1, w0.shape))
        ww2[0] += _dot(w0, np.broadcast_to(v2z, w0.shape))
    lgu = gammaln(r + ux) - gammaln(r)
    ll = float(_dot(data.wu, lgu) + total_w * r * log_alpha + ll_rows)
    d1a, d1b = _dbeta(a, b + ux + k)
    d2a, d2b = _dbeta(a + 1, v2)
    d2a, d2b = np.where(has2, d2a, 0.0), np.where(has2, d2b, 0.0)
    g_r = _dot(data.wu, psi(r + ux) - psi(r)) + total_w * log_alpha - g_r_rows
    g_alpha = total_w * r / alpha - g_alpha_rows
    g_a = _dot(ww1, d1a - da0) + _dot(ww2, d2a - da0)
    g_b = _dot(ww1, d1b - db0) + _dot(ww2, d2b - db0)
    return ll, np.array([g_r, g_alpha, g_a, g_b])


# --- Pareto/NBD -------------------------------------------------------------------------------------------


def _hyp2f1_one(c1, c2, z, max_terms: int = 200_000):
    """``2F1(1, c1; c2; z)`` for ``0 <= z < 1`` and ``0 < c1 < c2``, with its log-derivatives.

    Every term of the series is positive and the ratio of consecutive terms is below ``z``, so summing until
    the next term no longer changes the total is exact to rounding. Customers whose series has converged
    are dropped every 16 terms. Returns ``(log F, dlogF/dc1, dlogF/dc2, dlogF/dz)``.
    """
    c1, c2, z = (np.array(v, dtype=float) for v in np.broadcast_arrays(c1, c2, z))
    out = [np.ones(z.shape), np.zeros(z.shape), np.zeros(z.shape), np.zeros(z.shape)]
    idx = np.arange(len(z))
    total, d_c1, d_c2, d_z = (o.copy() for o in out)
    u = c1 / c2  # (c1)_n / (c2)_n z^(n-1) at n = 1
    s1, s2 = 1.0 / c1, 1.0 / c2  # sum_{k<n} 1/(c_i+k), including k = 0 for the n = 1 term
    for n in range(1, max_terms):
        term = u * z
        total += term
        d_c1 += term * s1
        d_c2 -= term * s2
        d_z += n * u
        u *= (c1 + n) / (c2 + n) * z
        s1 += 1.0 / (c1 + n)
        s2 += 1.0 / (c2 + n)
        if n % 16 == 0 or n == max_terms - 1:
            keep = term > 1e-17 * total
            if not keep.all():
                for o, v in zip(out, (total, d_c1, d_c2, d_z), strict=True):
                    o[idx[~keep]] = v[~keep]
                idx = idx[keep]
                if len(idx) == 0:
                    break
                total, d_c1, d_c2, d_z, u, s1, s2, c1, c2, z = (
                    v[keep] for v in (total, d_c1, d_c2, d_z, u, s1, s2, c1, c2, z)
                )
    else:
        raise ConvergenceError("the Pareto/NBD hypergeometric series did not converge; rescale time units")
    total, d_c1, d_c2, d_z = out
    return np.log(total), d_c1 / total, d_c2 / total, d_z / total


def _pareto_log_tail(r, alpha, s, beta, x, t):
    """``log J(t)`` with ``J(t) = int_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` and its gradient.

    Derived from Fader & Hardie (2005, eq. 22) with Euler's transformation, which turns the
    hypergeometric function into ``2F1(1, c1; r+s+x+1; z)`` with a positive, geometrically decreasing
    series. Returns ``(log J, [d/dr, d/dalpha, d/ds, d/dbeta])``.
    """
    ap = r + s + x
    la, lb = np.log(alpha + t), np.log(beta + t)
    c2 = ap + 1.0
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        log_g, g1, g2, gz = _hyp2f1_one(r + x, c2, z)
        log_j = -(r + x) * la - s * lb + log_g - np.log(ap)
        grad = [
            -la + g1 + g2 - 1 / ap,
            -(r + x) / (alpha + t) + gz * (beta + t) / (alpha + t) ** 2,
            -lb + g2 - 1 / ap,
            -s / (beta + t) - gz / (alpha + t),
        ]
    else:
        z = (beta - alpha) / (beta + t)
        log_g, g1, g2, gz = _hyp2f1_one(np.full_like(x, s + 1.0), c2, z)
        log_j = (1 - r - x) * la - (s + 1) * lb + log_g - np.log(ap)
        grad = [
            -la + g2 - 1 / ap,
            (1 - r - x) / (alpha + t) - gz / (beta + t),
            -lb + g1 + g2 - 1 / ap,
            -(s + 1) / (beta + t) + gz * (alpha + t) / (beta + t) ** 2,
        ]
    return log_j, grad


def pareto_terms(params, data: RFMData):
    """Per-customer pieces of the Pareto/NBD likelihood (Fader & Hardie 2005, eq. 22).

    ``L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [exp(B1) + s (J(t_x) - J(T))]`` with
    ``B1 = -(r+x) log(alpha+T) - s log(beta+T)``. Returns ``(log_const, B1, log_second, grads)`` where
    ``log_second = log(s (J(t_x) - J(T)))`` and ``grads`` holds the gradients of ``B1`` and ``log_second``.
    """
    r, alpha, s, beta = (float(p) for p in params)
    x = data.x
    lj_tx, gj_tx = _pareto_log_tail(r, alpha, s, beta, x, data.t_x)
    lj_T, gj_T = _pareto_log_tail(r, alpha, s, beta, x, data.T)
    q = np.exp(np.minimum(lj_T - lj_tx, 0.0))
    gap = q < 1.0
    one_minus_q = np.where(gap, 1.0 - q, 1.0)
    log_diff = np.where(gap, lj_tx + np.log(one_minus_q), -np.inf)
    g_second = [np.where(gap, (gt - q * gT) / one_minus_q, 0.0) for gt, gT in zip(gj_tx, gj_T, strict=True)]
    g_second[2] = g_second[2] + 1.0 / s
    log_second = np.log(s) + log_diff
    la_T, lb_T = np.log(alpha + data.T), np.log(beta + data.T)
    b1 = -(r + x) * la_T - s * lb_T
    g_b1 = [-la_T, -(r + x) / (alpha + data.T), -lb_T, -s / (beta + data.T)]
    log_const = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return log_const, b1, log_second, (g_b1, g_second)


def pareto_nbd_loglik(params, data: RFMData) -> tuple[float, np.ndarray]:
    """Total log-likelihood and gradient of the Pareto/NBD model with respect to ``(r, alpha, s, beta)``."""
    r, alpha, s, beta = (float(p) for p in params)
    log_const, b1, log_second, (g_b1, g_second) = pareto_terms(params, data)
    top = np.maximum(b1, log_second)
    e1, e2 = np.exp(b1 - top), np.exp(log_second - top)
    tot = e1 + e2
    w1, w2 = e1 / tot, e2 / tot
    w = data.w
    ll = float(_dot(w, log_const + top + np.log(tot)))
    const_grad = [
        _dot(data.wu, psi(r + data.ux) - psi(r)) + w.sum() * np.log(alpha),
        w.sum() * r / alpha,
        w.sum() * np.log(beta),
        w.sum() * s / beta,
    ]
    grad = np.array([const_grad[i] + _dot(w, w1 * g_b1[i] + w2 * g_second[i]) for i in range(4)])
    return ll, grad


# --- BG/BB ------------------------------------------------------------------------------------------------


def _bgbb_terms(params, x, t_x, n):
    """The log terms of the BG/BB likelihood per row: column 0 alive through ``n``, column ``1+i`` dead
    after period ``t_x + i``; masked entries are ``-inf``. Also returns the beta arguments for gradients."""
    al, be, ga, de = (float(p) for p in params)
    width = int(np.max(n - t_x)) if len(n) else 0
    i = np.arange(max(width, 1))[None, :]
    valid = i < (n - t_x)[:, None]
    pu = np.concatenate([(be + n - x)[:, None], np.where(valid, be + t_x[:, None] - x[:, None] + i, 1.0)], 1)
    ga_arg = np.concatenate([np.full((len(x), 1), ga), np.full(valid.shape, ga + 1)], 1)
    de_arg = np.concatenate([(de + n)[:, None], np.where(valid, de + t_x[:, None] + i, 1.0)], 1)
    mask = np.concatenate([np.ones((len(x), 1), dtype=bool), valid], 1)
    xa = (al + x)[:, None]
    terms = betaln(xa, pu) - betaln(al, be) + betaln(ga_arg, de_arg) - betaln(ga, de)
    return np.where(mask, terms, -np.inf), mask, (xa, pu, ga_arg, de_arg)


def bgbb_row_loglik(params, x, t_x, n) -> np.ndarray:
    """Log-likelihood of each row of the BG/BB model (see :func:`bgbb_loglik`)."""
    x, t_x, n = (np.asarray(v, dtype=float).ravel() for v in np.broadcast_arrays(x, t_x, n))
    terms, _, _ = _bgbb_terms(params, x, t_x, n)
    top = terms.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(terms - top).sum(axis=1, keepdims=True))).ravel()


def bgbb_loglik(params, x, t_x, n, weights=None) -> tuple[float, np.ndarray]:
    """Total log-likelihood and gradient of the BG/BB model (Fader, Hardie & Shang 2010, eq. 5).

    ``L = B(alpha+x, beta+n-x)/B(alpha,beta) B(gamma, delta+n)/B(gamma,delta)
    + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha,beta) B(gamma+1, delta+t_x+i)/B(gamma,delta)``.

    Parameters
    ----------
    params
        ``(alpha, beta, gamma, delta)``.
    x, t_x, n
        Transactions, period of the last transaction and number of opportunities (integers) per row.
    weights
        Number of customers per row (compressed data), default 1.
    """
    al, be, ga, de = (float(p) for p in params)
    x, t_x, n = (np.asarray(v, dtype=float).ravel() for v in (x, t_x, n))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    terms, mask, (xa, pu, ga_arg, de_arg) = _bgbb_terms(params, x, t_x, n)
    top = terms.max(axis=1, keepdims=True)
    e = np.where(mask, np.exp(terms - top), 0.0)
    tot = e.sum(axis=1, keepdims=True)
    ll = float(_dot(w, (top + np.log(tot)).ravel()))
    share = e / tot * w[:, None]
    dxa, dpu = _dbeta(xa, pu)
    dga, dde = _dbeta(ga_arg, de_arg)
    d_ab = _dbeta(al, be)
    d_gd = _dbeta(ga, de)
    grad = np.array(
        [
            np.sum(share * (dxa - d_ab[0])),
            np.sum(share * (dpu - d_ab[1])),
            np.sum(share * (dga - d_gd[0])),
            np.sum(share * (dde - d_gd[1])),
        ]
    )
    return ll, grad


# --- Gamma-Gamma ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendData:
    """Repeat customers prepared for the Gamma-Gamma likelihood: ``x`` transactions with mean ``zbar``."""

    x: np.ndarray
    zbar: np.ndarray
    w: np.ndarray
    ux: np.ndarray
    ix: np.ndarray
    wu: np.ndarray
    log_z: np.ndarray
    log_x: np.ndarray

    @classmethod
    def from_arrays(cls, x, zbar, weights=None) -> SpendData:
        x = np.asarray(x, dtype=float).ravel()
        zbar = np.asarray(zbar, dtype=float).ravel()
        w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
        xi = x.astype(np.int64)
        counts = np.bincount(xi)
        ux = np.flatnonzero(counts)
        position = np.zeros(len(counts), dtype=np.int64)
        position[ux] = np.arange(len(ux))
        ix = position[xi]
        wu = np.bincount(ix, weights=w, minlength=len(ux))
        return cls(x, zbar, w, ux.astype(float), ix, wu, np.log(zbar), np.log(x))


def gamma_gamma_loglik(params, x, zbar=None, weights=None) -> tuple[float, np.ndarray]:
    """Total log-likelihood and gradient of the Gamma-Gamma spend model.

    The average spend ``zbar`` of a customer with ``x`` transactions has density (Fader, Hardie & Lee 2005b;
    Fader & Hardie 2013, eq. 4)::

        f(zbar | p, q, v, x) = Gamma(px+q) / (Gamma(px) Gamma(q)) v^q zbar^(px-1) x^(px) / (v + x zbar)^(px+q)

    where ``v`` is the paper's scale ``gamma``. Only customers with ``x > 0`` and ``zbar > 0`` belong here.
    ``x`` may be a prepared :class:`SpendData` (then ``zbar`` and ``weights`` are not given).
    """
    p, q, v = (float(t) for t in params)
    d = x if isinstance(x, SpendData) else SpendData.from_arrays(x, zbar, weights)
    w, x, zbar, ux, wu = d.w, d.x, d.zbar, d.ux, d.wu
    pxu = p * ux
    log_vz = np.log(v + x * zbar)
    px = p * x
    ll_u = gammaln(pxu + q) - gammaln(pxu) - gammaln(q) + q * np.log(v)
    ll = float(_dot(wu, ll_u) + _dot(w, (px - 1) * d.log_z + px * d.log_x - (px + q) * log_vz))
    psi_u = psi(pxu + q)
    g_p = _dot(wu, ux * (psi_u - psi(pxu))) + _dot(w * x, d.log_z + d.log_x - log_vz)
    g_q = _dot(wu, psi_u - psi(q) + np.log(v)) - _dot(w, log_vz)
    g_v = w.sum() * q / v - _dot(w, (px + q) / (v + x * zbar))
    return ll, np.array([g_p, g_q, g_v])
