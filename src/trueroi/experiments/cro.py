"""A/B tests on the site (CRO) and what they mean for ROI by channel.

A site change that lifts the conversion rate by ``d`` (relative) converts every channel's traffic at the
higher rate: at the same spend and traffic each channel gets ``1 + d`` times the conversions, revenue and
contribution margin (same order value and margin rate), so its CPA falls to ``CPA / (1 + d)`` and its
ROI rises. A conversion rate going from 2% to 3% is ``d = 0.5``: 50% more conversions for the same spend.
A revenue-per-visitor change scales revenue and margin but leaves the count of conversions as it was.

Ratios follow the project's definitions: CPA = spend / conversions, ROAS = revenue / spend, media ROI =
(contribution margin - spend) / spend; totals are sums divided, never averages of ratios; a zero
denominator gives NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from trueroi.errors import DataValidationError, UsageError
from trueroi.experiments.lift import Interval, _bootstrap_revenue, analyze_lift

# scipy is imported inside the functions that use it: it takes about half a second to load, and most
# callers of this module (and of the CLI) never need it.

METRICS = ("conversion_rate", "revenue_per_visitor")
CHANNEL_COLUMNS = ("channel", "spend", "conversions", "revenue", "margin")


@dataclass(frozen=True)
class AbTestResult:
    """The reading of an A/B test: the variant's relative change of the metric against control."""

    metric: str
    level: float
    control_value: float
    variant_value: float
    relative_change: Interval
    p_value: float
    prob_positive: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "level": self.level,
            "control_value": self.control_value,
            "variant_value": self.variant_value,
            "relative_change": self.relative_change.as_dict(),
            "p_value": self.p_value,
            "prob_positive": self.prob_positive,
        }


def rate_change(before: float, after: float) -> float:
    """Relative change of a rate: ``after / before - 1`` (2% -> 3% gives 0.5)."""
    if before <= 0:
        raise UsageError(f"the rate before is {before}; expected a positive rate")
    return after / before - 1


def _visitor_moments(visitors: int, conversions: int, revenue: float | ArrayLike) -> tuple[float, float]:
    """Mean and variance (ddof 1) of revenue per visitor, visitors without an order counting 0."""
    values = np.atleast_1d(np.asarray(revenue, dtype=float))
    if values.size == 1:  # only a total: every order at the mean order value
        aov = values[0] / conversions if conversions else 0.0
        total, squares = values[0], conversions * aov**2
    else:
        if values.size != conversions:
            raise UsageError(f"got {values.size} order values for {conversions} conversions")
        total, squares = float(values.sum()), float(values @ values)
    mean = total / visitors
    return float(mean), float((squares - visitors * mean**2) / (visitors - 1))


def read_ab_test(
    control_visitors: int,
    control_conversions: int,
    variant_visitors: int,
    variant_conversions: int,
    *,
    control_revenue: float | ArrayLike | None = None,
    variant_revenue: float | ArrayLike | None = None,
    metric: str = "conversion_rate",
    level: float = 0.9,
    n_bootstrap: int = 4000,
    seed: int | None = 0,
) -> AbTestResult:
    """Read an A/B test of conversion rate or revenue per visitor.

    Conversion rate: the holdout statistics of :func:`trueroi.experiments.lift.analyze_lift` with the
    variant as test group (Katz interval of the ratio, pooled z-test, Beta-Binomial probability).
    Revenue per visitor: Welch's t-test on revenue per visitor and a seeded bootstrap interval of the
    ratio of means; revenue is each group's total, or one value per order.
    """
    if metric not in METRICS:
        raise UsageError(f"metric is {metric!r}; expected one of {', '.join(METRICS)}")
    if metric == "conversion_rate":
        r = analyze_lift(
            variant_visitors, variant_conversions, control_visitors, control_conversions, level=level
        )
        return AbTestResult(
            metric, level, r.control_rate.mean, r.test_rate.mean, r.lift, r.p_value, r.prob_positive
        )
    from scipy import stats

    if control_revenue is None or variant_revenue is None:
        raise UsageError("metric revenue_per_visitor needs the revenue of both groups")
    analyze_lift(variant_visitors, variant_conversions, control_visitors, control_conversions, level=level)
    mean_c, var_c = _visitor_moments(control_visitors, control_conversions, control_revenue)
    mean_v, var_v = _visitor_moments(variant_visitors, variant_conversions, variant_revenue)
    p_value = float(
        stats.ttest_ind_from_stats(
            mean_v,
            np.sqrt(var_v),
            variant_visitors,
            mean_c,
            np.sqrt(var_c),
            control_visitors,
            equal_var=False,
        ).pvalue
    )
    rng = np.random.default_rng(seed)
    draws_v = _bootstrap_revenue(variant_visitors, variant_conversions, variant_revenue, n_bootstrap, rng)
    draws_c = _bootstrap_revenue(control_visitors, control_conversions, control_revenue, n_bootstrap, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (draws_v / variant_visitors) / (draws_c / control_visitors) - 1
    low, high = np.nanquantile(ratio, [(1 - level) / 2, (1 + level) / 2])
    change = Interval(mean_v / mean_c - 1 if mean_c else float("nan"), float(low), float(high))
    return AbTestResult(metric, level, mean_c, mean_v, change, p_value)


def _ratios(frame: pd.DataFrame, suffix: str) -> None:
    spend = frame["spend"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        conv = frame[f"conversions{suffix}"].astype(float)
        frame[f"cpa{suffix}"] = np.where(conv > 0, spend / conv.where(conv > 0, 1.0), np.nan)
        positive = spend.where(spend > 0, np.nan)
        frame[f"roas{suffix}"] = frame[f"revenue{suffix}"] / positive
        frame[f"roi{suffix}"] = (frame[f"margin{suffix}"] - spend) / positive


def project_cro(
    channels: pd.DataFrame, change: float | Interval, *, metric: str = "conversion_rate"
) -> pd.DataFrame:
    """Project a site-wide change onto each channel's conversions, CPA, ROAS and media ROI.

    Parameters
    ----------
    channels
        One row per channel with ``channel, spend, conversions, revenue, margin`` over the same period
        (money in base currency; margin = contribution margin attributed to the channel).
    change
        Relative change of the tested metric (0.5 = +50%), or an :class:`Interval` to also get the
        projections at its lower and upper bounds.
    metric
        ``conversion_rate`` (conversions, revenue and margin scale) or ``revenue_per_visitor`` (revenue and
        margin scale, conversions stay).

    Returns
    -------
    pandas.DataFrame
        One row per channel plus a ``total`` row: the inputs, ``*_after`` for conversions, revenue and
        margin, ``cpa``, ``roas``, ``roi`` before and after, and with an interval ``roi_after_lower`` /
        ``roi_after_upper`` and ``conversions_after_lower`` / ``_upper``.
    """
    if metric not in METRICS:
        raise UsageError(f"metric is {metric!r}; expected one of {', '.join(METRICS)}")
    missing = [c for c in CHANNEL_COLUMNS if c not in channels.columns]
    if missing:
        raise DataValidationError(
            f"column(s) {', '.join(missing)} missing",
            column=missing[0],
            expected="channel, spend, conversions, revenue, margin",
        )
    interval = (
        change if isinstance(change, Interval) else Interval(float(change), float(change), float(change))
    )
    if interval.lower <= -1:
        raise UsageError(f"a relative change of {interval.lower} would remove every conversion")
    frame = channels[list(CHANNEL_COLUMNS)].copy()
    total = frame[list(CHANNEL_COLUMNS[1:])].sum().to_dict()
    frame = pd.concat([frame, pd.DataFrame([{"channel": "total", **total}])], ignore_index=True)
    scaled = ["conversions", "revenue", "margin"] if metric == "conversion_rate" else ["revenue", "margin"]
    for column in ("conversions", "revenue", "margin"):
        factor = 1 + interval.mean if column in scaled else 1.0
        frame[f"{column}_after"] = frame[column].astype(float) * factor
    frame = frame.rename(
        columns={"conversions": "conversions_before", "revenue": "revenue_before", "margin": "margin_before"}
    )
    _ratios(frame, "_before")
    _ratios(frame, "_after")
    if isinstance(change, Interval):
        for bound in ("lower", "upper"):
            factor = 1 + getattr(interval, bound)
            conv = frame["conversions_before"] * (factor if "conversions" in scaled else 1.0)
            frame[f"conversions_after_{bound}"] = conv
            frame[f"roi_after_{bound}"] = (frame["margin_before"] * factor - frame["spend"]) / frame[
                "spend"
            ].where(frame["spend"] > 0, np.nan)
    return frame
