"""Intervals for predictions: parameter draws from the asymptotic normal distribution of the MLE.

A fitted model's estimates are approximately normal with the inverse observed information as covariance
(``covariance_``, from the exact-gradient Hessian). Drawing the parameters from that distribution on the
log scale (logit for a probability, so draws stay in range; the delta method carries the covariance over)
and recomputing a prediction for every draw gives its sampling distribution; the percentiles are the
interval (the "simulation" or Krinsky-Robb method: Krinsky & Robb 1986, "On approximating the statistical
properties of elasticities", REStat 68(4)). The intervals describe the uncertainty of the *expected* value
(purchases, CLV) that comes from estimating the parameters, not the Poisson noise of one customer's actual
future purchases.

The transaction model and the Gamma-Gamma spend model are fitted on separate likelihoods that factorise
under the spend-independence assumption of Fader, Hardie & Lee (2005b), so their draws are independent.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from trueroi.errors import UsageError

CHUNK = 50_000  # customers per block, so draws x customers never needs more than ~draws * CHUNK floats


def _names_values_cov(model) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """The free parameters of a fitted model, their estimates, covariance and which are probabilities
    (the reduced model's ``p`` in a limit; every other parameter is positive)."""
    reduced = getattr(model, "reduced_params_", None)
    if reduced:
        names = tuple(reduced)
        is_prob = np.array([n == "p" for n in names])
        return names, np.array(list(reduced.values())), np.asarray(model.reduced_covariance_), is_prob
    names = tuple(model.param_names)
    values = np.array([model.params_[n] for n in names])
    return names, values, np.asarray(model.covariance_), np.zeros(len(names), dtype=bool)


def drawable(model) -> bool:
    """Whether parameters can be drawn for ``model``: finite estimates and a finite covariance (a singular
    information matrix, e.g. on a few hundred customers, has none)."""
    _, values, cov, _ = _names_values_cov(model)
    return bool(np.all(np.isfinite(cov)) and np.all(np.isfinite(values)))


def draw_models(model, n_draws: int, rng: np.random.Generator) -> list:
    """``n_draws`` copies of a fitted model whose parameters are drawn from the MLE's asymptotic normal.

    Positive parameters are drawn as ``log`` normal, a probability ``p`` as logit normal, with the
    covariance carried over by the delta method. Raises :class:`UsageError` when the model has no finite
    covariance (e.g. a singular information matrix).
    """
    names, values, cov, is_prob = _names_values_cov(model)
    if not drawable(model):
        raise UsageError(
            f"{type(model).__name__} has no finite standard errors (singular information at the estimates), "
            "so prediction intervals cannot be drawn; fit on more customers or leave intervals off"
        )
    values = np.where(is_prob, np.clip(values, 1e-12, 1 - 1e-12), values)
    # d transform / d parameter: 1/theta for log, 1/(p (1-p)) for logit
    jac = 1.0 / np.where(is_prob, values * (1 - values), values)
    center = np.log(values)
    center[is_prob] -= np.log1p(-values[is_prob])
    cov_t = cov * np.outer(jac, jac)
    cov_t = (cov_t + cov_t.T) / 2
    eigval, eigvec = np.linalg.eigh(cov_t)
    root = eigvec * np.sqrt(np.clip(eigval, 0.0, None))
    z = center + rng.standard_normal((n_draws, len(names))) @ root.T
    draws = np.exp(np.where(is_prob, 0.0, z))
    draws[:, is_prob] = 1.0 / (1.0 + np.exp(-z[:, is_prob]))
    return [_with_params(model, names, row) for row in draws]


def _with_params(model, names: tuple[str, ...], row: np.ndarray):
    out = copy.copy(model)
    values = dict(zip(names, (float(v) for v in row), strict=True))
    if getattr(model, "reduced_params_", None):
        out.reduced_params_ = values
        out.params_ = {k: values.get(k, v) for k, v in model.params_.items()}
    else:
        out.params_ = values
    return out


def intervals(
    predict: Callable[[Sequence, slice], np.ndarray],
    models: Sequence,
    n_rows: int,
    *,
    level: float = 0.9,
    n_draws: int = 500,
    seed: int | np.random.Generator = 0,
    groups: np.ndarray | pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Point estimates and equal-tailed intervals of a per-customer prediction, and of its group totals.

    Parameters
    ----------
    predict
        ``predict(models, rows)`` -> array of the prediction for customers ``rows`` (a slice) given fitted
        ``models`` (one per entry of ``models``, e.g. ``(transaction_model, spend_model)``).
    models
        The fitted models whose parameter uncertainty enters.
    n_rows
        Number of customers.
    level
        Coverage of the interval, e.g. 0.9 for the 5th to 95th percentile.
    n_draws
        Parameter draws; the Monte Carlo error of a percentile shrinks as ``1/sqrt(n_draws)``.
    seed
        Seed or generator (the same seed gives the same intervals).
    groups
        Optional group label per customer (acquisition channel, cohort): totals per group get intervals too.

    Returns
    -------
    (per_customer, per_group)
        ``per_customer``: ``estimate, lower, upper`` per row; ``per_group`` (None without ``groups``):
        ``group, customers, estimate, lower, upper`` where ``estimate`` is the group total.
    """
    if not 0 < level < 1:
        raise UsageError(f"interval level {level} must lie strictly between 0 and 1, e.g. 0.9")
    if n_draws < 2:
        raise UsageError(f"need at least 2 parameter draws for an interval, got {n_draws}")
    rng = np.random.default_rng(seed)
    drawn = list(zip(*[draw_models(m, n_draws, rng) for m in models], strict=True))
    tails = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    codes, labels = (None, None) if groups is None else pd.factorize(np.asarray(groups), sort=True)
    group_draws = None if codes is None else np.zeros((n_draws, len(labels)))
    group_point = None if codes is None else np.zeros(len(labels))
    point, lower, upper = (np.empty(n_rows) for _ in range(3))
    for start in range(0, n_rows, CHUNK):
        rows = slice(start, min(start + CHUNK, n_rows))
        here = np.asarray(predict(models, rows), dtype=float)
        sample = np.vstack([np.asarray(predict(d, rows), dtype=float) for d in drawn])
        point[rows] = here
        lower[rows], upper[rows] = np.percentile(sample, tails, axis=0)
        if codes is not None:
            block = codes[rows]
            group_point += np.bincount(block, weights=here, minlength=len(labels))
            for i in range(n_draws):
                group_draws[i] += np.bincount(block, weights=sample[i], minlength=len(labels))
    per_customer = pd.DataFrame({"estimate": point, "lower": lower, "upper": upper})
    if codes is None:
        return per_customer, None
    lo, hi = np.percentile(group_draws, tails, axis=0)
    per_group = pd.DataFrame(
        {
            "group": labels,
            "customers": np.bincount(codes, minlength=len(labels)),
            "estimate": group_point,
            "lower": lo,
            "upper": hi,
        }
    )
    return per_customer, per_group
