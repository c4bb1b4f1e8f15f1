"""Holdout (conversion-lift) tests: one group sees the ads, a randomly held-out control group does not.

The control group's conversion rate, scaled to the test group's size, is the baseline: what the test group
would have converted without the ads. Everything else follows from it:

* incremental conversions ``I = n_t (p_t - p_c)``, relative lift ``p_t / p_c - 1``;
* incremental revenue ``R_t - R_c n_t / n_c``, iROAS ``= incremental revenue / spend`` and cost per
  incremental conversion ``= spend / I``.

Intervals: exact (Clopper & Pearson 1934) for each group's rate, Newcombe's hybrid score interval
(Newcombe 1998, method 10) for the difference of rates and hence for ``I``, the Katz log interval with 0.5
added to the counts (Katz et al. 1978) for the rate ratio and hence for the relative lift, and a seeded
bootstrap for revenue. The p-value is the pooled two-proportion z-test; the Bayesian probability of a
positive lift uses independent uniform Beta(1, 1) priors on both rates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from trueroi.errors import UsageError

# scipy is imported inside the functions that use it: it takes about half a second to load, and most
# callers of this module (and of the CLI) never need it.

ALTERNATIVES = ("two-sided", "larger")


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval at the result's level (bounds may be inf)."""

    mean: float
    lower: float
    upper: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "lower": self.lower, "upper": self.upper}

    def scaled(self, factor: float) -> Interval:
        """The interval of ``factor * x`` (bounds swap when ``factor`` is negative)."""
        low, high = sorted((self.lower * factor, self.upper * factor))
        return Interval(self.mean * factor, low, high)


@dataclass(frozen=True)
class LiftResult:
    """The reading of a holdout test. Rates are conversions per user; money is in the input currency."""

    level: float
    test_users: int
    test_conversions: int
    control_users: int
    control_conversions: int
    test_rate: Interval
    control_rate: Interval
    baseline_conversions: float
    rate_difference: Interval
    incremental_conversions: Interval
    lift: Interval
    p_value: float
    prob_positive: float
    spend: float | None = None
    incremental_revenue: Interval | None = None
    iroas: Interval | None = None
    cost_per_incremental_conversion: Interval | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; intervals become ``{"mean", "lower", "upper"}`` and missing ones ``None``."""
        out = asdict(self)
        return out


def _check_counts(users: int, conversions: int, name: str) -> None:
    if users <= 0:
        raise UsageError(f"{name} users is {users}; expected a positive number of users")
    if conversions < 0 or conversions > users:
        raise UsageError(
            f"{name} conversions is {conversions}; expected between 0 and the {users} {name} users"
        )


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise UsageError(f"level is {level}; expected a confidence level strictly between 0 and 1, e.g. 0.9")


def clopper_pearson(count: int, nobs: int, level: float = 0.9) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a binomial proportion ``count / nobs``."""
    from scipy import stats

    alpha = 1 - level
    low = 0.0 if count == 0 else float(stats.beta.ppf(alpha / 2, count, nobs - count + 1))
    high = 1.0 if count == nobs else float(stats.beta.isf(alpha / 2, count + 1, nobs - count))
    return low, high


def wilson(count: int, nobs: int, level: float = 0.9) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927)."""
    from scipy import stats

    z = float(stats.norm.isf((1 - level) / 2))
    p = count / nobs
    centre = (p + z * z / (2 * nobs)) / (1 + z * z / nobs)
    half = z / (1 + z * z / nobs) * np.sqrt(p * (1 - p) / nobs + z * z / (4 * nobs * nobs))
    return float(centre - half), float(centre + half)


def newcombe_difference(
    count1: int, nobs1: int, count2: int, nobs2: int, level: float = 0.9
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``p1 - p2`` (Newcombe 1998, method 10)."""
    p1, p2 = count1 / nobs1, count2 / nobs2
    l1, u1 = wilson(count1, nobs1, level)
    l2, u2 = wilson(count2, nobs2, level)
    diff = p1 - p2
    return float(diff - np.hypot(p1 - l1, u2 - p2)), float(diff + np.hypot(u1 - p1, p2 - l2))


def katz_ratio(count1: int, nobs1: int, count2: int, nobs2: int, level: float = 0.9) -> tuple[float, float]:
    """Log (Katz) interval for the rate ratio ``p1 / p2`` with 0.5 added to counts and sizes."""
    from scipy import stats

    c1, n1, c2, n2 = count1 + 0.5, nobs1 + 0.5, count2 + 0.5, nobs2 + 0.5
    log_ratio = np.log((c1 / n1) / (c2 / n2))
    half = float(stats.norm.isf((1 - level) / 2)) * np.sqrt(1 / c1 - 1 / n1 + 1 / c2 - 1 / n2)
    return float(np.exp(log_ratio - half)), float(np.exp(log_ratio + half))


def two_proportion_p_value(
    count1: int, nobs1: int, count2: int, nobs2: int, alternative: str = "two-sided"
) -> float:
    """Pooled two-proportion z-test of ``p1 = p2`` (``larger``: against ``p1 > p2``)."""
    from scipy import stats

    pooled = (count1 + count2) / (nobs1 + nobs2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / nobs1 + 1 / nobs2))
    if se == 0:
        return 1.0
    z = (count1 / nobs1 - count2 / nobs2) / se
    return float(2 * stats.norm.sf(abs(z)) if alternative == "two-sided" else stats.norm.sf(z))


@lru_cache(maxsize=8)
def _gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] (cached: computing them is an eigenproblem)."""
    return np.polynomial.legendre.leggauss(nodes)


def _beta_quadrature(a: float, b: float, other: tuple[float, float], nodes: int) -> float:
    """``int f(x) I_x(other) dx`` for ``f`` the Beta(a, b) density and ``I_x`` the other's CDF.

    Gauss-Legendre between the 1e-17 and 1 - 1e-16 quantiles of Beta(a, b), where all of its mass lies.
    """
    from scipy import special

    low, high = special.betaincinv(a, b, 1e-17), special.betaincinv(a, b, 1 - 1e-16)
    z, w = _gauss_legendre(nodes)
    x = low + (high - low) * (z + 1) / 2
    log_pdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b)
    return float((high - low) / 2 * np.sum(w * np.exp(log_pdf) * special.betainc(*other, x)))


def prob_test_better(
    test_conversions: int, test_users: int, control_conversions: int, control_users: int, nodes: int = 400
) -> float:
    """Posterior probability that the test rate exceeds the control rate, under Beta(1, 1) priors.

    ``P(p_t > p_c) = int f_t(x) F_c(x) dx = 1 - int f_c(x) F_t(x) dx`` (``f`` posterior densities, ``F``
    their CDFs), integrated against the narrower posterior so that the other factor is smooth on the
    quadrature range.
    """
    test = (1.0 + test_conversions, 1.0 + test_users - test_conversions)
    control = (1.0 + control_conversions, 1.0 + control_users - control_conversions)

    def variance(a: float, b: float) -> float:
        return a * b / ((a + b) ** 2 * (a + b + 1))

    if variance(*test) <= variance(*control):
        p = _beta_quadrature(*test, control, nodes)
    else:
        p = 1.0 - _beta_quadrature(*control, test, nodes)
    return float(np.clip(p, 0.0, 1.0))


def _inverse_interval(numerator: float, estimate: Interval) -> Interval:
    """Interval of ``numerator / x`` from an interval of ``x`` (unbounded when ``x`` may be <= 0)."""
    mean = numerator / estimate.mean if estimate.mean > 0 else float("inf")
    if estimate.lower > 0:
        return Interval(mean, numerator / estimate.upper, numerator / estimate.lower)
    low = numerator / estimate.upper if estimate.upper > 0 else float("inf")
    return Interval(mean, low, float("inf"))


def _bootstrap_revenue(
    users: int, conversions: int, revenue: float | ArrayLike, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap draws of a group's total revenue.

    With per-conversion order values, a draw resamples both the number of converters (binomial, as
    resampling users does) and the values (nonparametric); with only a total, the mean order value is held
    fixed and only the number of converters varies.
    """
    counts = rng.binomial(users, conversions / users, size=n_boot).astype(float)
    values = np.atleast_1d(np.asarray(revenue, dtype=float))
    if values.size == 1:
        aov = values[0] / conversions if conversions else 0.0
        return counts * aov
    if values.size != conversions:
        raise UsageError(
            f"got {values.size} order values for {conversions} conversions; pass one value per conversion "
            "or the group's total revenue"
        )
    means = np.empty(n_boot)
    batch = max(1, 2_000_000 // values.size)
    for start in range(0, n_boot, batch):
        stop = min(n_boot, start + batch)
        idx = rng.integers(0, values.size, size=(stop - start, values.size))
        means[start:stop] = values[idx].mean(axis=1)
    return counts * means


def _revenue_intervals(
    users_t: int,
    conv_t: int,
    users_c: int,
    conv_c: int,
    revenue_t: float | ArrayLike,
    revenue_c: float | ArrayLike,
    spend: float | None,
    level: float,
    n_bootstrap: int,
    seed: int | None,
) -> tuple[Interval, Interval | None]:
    rng = np.random.default_rng(seed)
    scale = users_t / users_c
    point = float(np.sum(revenue_t) - np.sum(revenue_c) * scale)
    draws = _bootstrap_revenue(users_t, conv_t, revenue_t, n_bootstrap, rng) - scale * _bootstrap_revenue(
        users_c, conv_c, revenue_c, n_bootstrap, rng
    )
    alpha = 1 - level
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    incremental = Interval(point, float(low), float(high))
    iroas = incremental.scaled(1 / spend) if spend else None
    return incremental, iroas


def analyze_lift(
    test_users: int,
    test_conversions: int,
    control_users: int,
    control_conversions: int,
    *,
    test_revenue: float | ArrayLike | None = None,
    control_revenue: float | ArrayLike | None = None,
    spend: float | None = None,
    level: float = 0.9,
    alternative: str = "two-sided",
    n_bootstrap: int = 4000,
    seed: int | None = 0,
) -> LiftResult:
    """Read a holdout test.

    Parameters
    ----------
    test_users, test_conversions
        Users in the exposed (test) group and how many of them converted.
    control_users, control_conversions
        The same for the held-out control group.
    test_revenue, control_revenue
        Either each group's total revenue (a number, in the account currency) or one order value per
        conversion (array); with arrays the revenue bootstrap also resamples order values.
    spend
        Media spend on the test group during the test (account currency); gives iROAS and cost per
        incremental conversion.
    level
        Two-sided confidence level of every interval (0.9 gives 5%-95%).
    alternative
        ``"two-sided"`` or ``"larger"`` (test rate above control) for the z-test p-value.
    n_bootstrap, seed
        Bootstrap replicates for the revenue interval and the seed of its generator.

    Returns
    -------
    LiftResult
    """
    _check_counts(test_users, test_conversions, "test")
    _check_counts(control_users, control_conversions, "control")
    _check_level(level)
    if alternative not in ALTERNATIVES:
        raise UsageError(f"alternative is {alternative!r}; expected one of {', '.join(ALTERNATIVES)}")
    if spend is not None and spend < 0:
        raise UsageError(f"spend is {spend}; expected a non-negative amount")
    if (test_revenue is None) != (control_revenue is None):
        raise UsageError("give revenue for both groups (test and control) or for neither")
    p_t, p_c = test_conversions / test_users, control_conversions / control_users
    diff_low, diff_high = newcombe_difference(
        test_conversions, test_users, control_conversions, control_users, level
    )
    difference = Interval(p_t - p_c, diff_low, diff_high)
    incremental = difference.scaled(test_users)
    ratio_low, ratio_high = katz_ratio(
        test_conversions, test_users, control_conversions, control_users, level
    )
    lift = Interval(p_t / p_c - 1 if p_c > 0 else float("inf"), ratio_low - 1, ratio_high - 1)
    revenue = iroas = cpic = None
    if test_revenue is not None:
        revenue, iroas = _revenue_intervals(
            test_users,
            test_conversions,
            control_users,
            control_conversions,
            test_revenue,
            control_revenue,
            spend,
            level,
            n_bootstrap,
            seed,
        )
    if spend is not None:
        cpic = _inverse_interval(spend, incremental)
    return LiftResult(
        level=level,
        test_users=test_users,
        test_conversions=test_conversions,
        control_users=control_users,
        control_conversions=control_conversions,
        test_rate=Interval(p_t, *clopper_pearson(test_conversions, test_users, level)),
        control_rate=Interval(p_c, *clopper_pearson(control_conversions, control_users, level)),
        baseline_conversions=p_c * test_users,
        rate_difference=difference,
        incremental_conversions=incremental,
        lift=lift,
        p_value=two_proportion_p_value(
            test_conversions, test_users, control_conversions, control_users, alternative
        ),
        prob_positive=prob_test_better(test_conversions, test_users, control_conversions, control_users),
        spend=spend,
        incremental_revenue=revenue,
        iroas=iroas,
        cost_per_incremental_conversion=cpic,
    )


# -- planning ------------------------------------------------------------------------------------------
def _z_alpha(alpha: float, alternative: str) -> float:
    from scipy import stats

    if alternative not in ALTERNATIVES:
        raise UsageError(f"alternative is {alternative!r}; expected one of {', '.join(ALTERNATIVES)}")
    return float(stats.norm.isf(alpha / 2 if alternative == "two-sided" else alpha))


def sample_size(
    baseline_rate: float,
    relative_lift: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    control_ratio: float = 1.0,
    alternative: str = "two-sided",
) -> float:
    """Test-group users needed to detect a relative lift with the pooled z-test (normal approximation).

    ``n_t = (z_a s_0 + z_b s_1)^2 / d^2`` with ``d = p_c * relative_lift``, ``s_0`` the standard deviation
    under the null (pooled rate) and ``s_1`` under the alternative, per user of the test group (Fleiss,
    Levin & Paik 2003, ch. 4, without continuity correction). The control group needs
    ``control_ratio * n_t`` users.

    Parameters
    ----------
    baseline_rate
        Expected conversion rate of the control group (0-1).
    relative_lift
        Relative lift to detect (0.1 = +10%).
    alpha, power
        Significance level and power (0-1).
    control_ratio
        Control users per test user (0.1 for a 10% holdout of a test group of the same size x 10).
    alternative
        ``"two-sided"`` or ``"larger"``.
    """
    from scipy import stats

    if not 0 < baseline_rate < 1:
        raise UsageError(f"baseline rate is {baseline_rate}; expected a conversion rate between 0 and 1")
    p_c = baseline_rate
    p_t = p_c * (1 + relative_lift)
    if relative_lift == 0 or not 0 < p_t < 1:
        raise UsageError(
            f"relative lift {relative_lift} gives a test rate of {p_t}; expected a non-zero "
            "lift that keeps the rate between 0 and 1"
        )
    if control_ratio <= 0:
        raise UsageError(f"control ratio is {control_ratio}; expected a positive number")
    pooled = (p_t + control_ratio * p_c) / (1 + control_ratio)
    s_null = np.sqrt(pooled * (1 - pooled) * (1 + 1 / control_ratio))
    s_alt = np.sqrt(p_t * (1 - p_t) + p_c * (1 - p_c) / control_ratio)
    z_a, z_b = _z_alpha(alpha, alternative), float(stats.norm.ppf(power))
    return float(((z_a * s_null + z_b * s_alt) / (p_t - p_c)) ** 2)


def minimum_detectable_lift(
    baseline_rate: float,
    test_users: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    control_ratio: float = 1.0,
    alternative: str = "two-sided",
) -> float:
    """Smallest positive relative lift that ``test_users`` test users detect with the given power.

    Inverts :func:`sample_size` numerically (Brent's method).
    """
    from scipy.optimize import brentq

    if test_users <= 0:
        raise UsageError(f"test users is {test_users}; expected a positive number")
    high = (1 - 1e-9) / baseline_rate - 1
    if (
        sample_size(
            baseline_rate,
            high,
            alpha=alpha,
            power=power,
            control_ratio=control_ratio,
            alternative=alternative,
        )
        > test_users
    ):
        return float("inf")

    def gap(lift: float) -> float:
        return (
            sample_size(
                baseline_rate,
                lift,
                alpha=alpha,
                power=power,
                control_ratio=control_ratio,
                alternative=alternative,
            )
            - test_users
        )

    return float(brentq(gap, 1e-9, high, xtol=1e-12, rtol=1e-10))
