"""Read a geo experiment: the counterfactual of the treated locations, its uncertainty, and the ROI.

The treated locations are averaged into one series; an estimator from :mod:`trueroi.experiments.synth`
learns it from the control locations over the pre-test periods and predicts it over the test. The average
treatment effect on the treated (ATT) is the mean gap between observed and predicted KPI per treated
location and period.

Inference (``inference=``):

* ``"conformal"``: the conformal test of Chernozhukov, Wüthrich & Zhu (2021, "An exact and robust conformal
  inference method for counterfactual and synthetic controls", JASA 116(536)), as augsynth and GeoLift use:
  under the null of a constant effect ``tau0`` the treated test periods are adjusted by ``tau0``, the
  estimator is refitted on all periods, and the mean test-period residual is compared with the same
  statistic over every cyclic shift of the residuals in time (moving-block permutations). The interval is
  the set of ``tau0`` not rejected, found by bisection.
* ``"analytic"`` (``tbr`` only): the Student-t posterior predictive interval of Kerman, Wang & Vaver (2017).
* ``"placebo"``: placebo-in-space (Abadie, Diamond & Hainmueller 2010): each control location in turn is
  treated as if it had been treated, with the other controls as donors. The p-value is the share of
  placebos whose studentised effect (ATT / pre-test RMSE) is at least as large in absolute value as the
  treated one's, counting the treated itself ((1 + k) / (1 + J)); the interval inverts the placebos'
  studentised effects around the estimate. It needs enough controls for the level (J >= 2 / (1 - level)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.experiments.lift import Interval
from trueroi.experiments.panel import GeoPanel, prepare_panel
from trueroi.experiments.synth import AugmentedSynthControl, TimeBasedRegression, make_estimator

# scipy is imported inside the functions that use it: it takes about half a second to load, and most
# callers of this module (and of the CLI) never need it.

INFERENCE = ("conformal", "analytic", "placebo")
POOR_FIT_R2 = 0.5
POOR_FIT_NRMSE = 0.25


@dataclass(frozen=True)
class GeoResult:
    """The reading of a geo experiment.

    ``att`` is per treated location and test period (KPI units); ``incremental`` is the total over treated
    locations and test periods; ``lift`` is incremental over counterfactual KPI; ``iroas`` is incremental
    KPI per unit of ``spend`` (the change in spend the test caused, negative for a holdout). ``series`` holds
    per period the observed treated aggregate (mean per treated location), its counterfactual and whether
    the period is in the test (``date, observed, counterfactual, test``), for plots; it is not in
    :meth:`to_dict`.
    """

    method: str
    inference: str
    level: float
    start: pd.Timestamp
    end: pd.Timestamp
    treated: list[str]
    n_controls: int
    n_pre: int
    n_post: int
    att: Interval
    lift: Interval
    incremental: Interval
    p_value: float
    pre_fit: dict[str, float]
    counterfactual_total: float
    observed_total: float
    spend: float | None = None
    iroas: Interval | None = None
    weights: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    series: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict following the CLI contract (intervals as ``{"mean", "lower", "upper"}``)."""
        out = {
            "att": self.att.as_dict(),
            "lift": self.lift.as_dict(),
            "incremental": self.incremental.as_dict(),
            "p_value": self.p_value,
            "iroas": self.iroas.as_dict() if self.iroas else None,
            "pre_fit": dict(self.pre_fit),
        }
        out.update(
            method=self.method,
            inference=self.inference,
            level=self.level,
            start=self.start.date().isoformat(),
            end=self.end.date().isoformat(),
            treated=list(self.treated),
            n_controls=self.n_controls,
            n_pre=self.n_pre,
            n_post=self.n_post,
            spend=self.spend,
            counterfactual_total=self.counterfactual_total,
            observed_total=self.observed_total,
            weights=dict(self.weights),
            warnings=list(self.warnings),
        )
        return out


def _refit(estimator: Any) -> Any:
    """A fresh estimator of the same kind, keeping a cross-validated ridge penalty fixed."""
    if isinstance(estimator, AugmentedSynthControl):
        return AugmentedSynthControl(lam=estimator.lam_, fixed_effects=estimator.fixed_effects)
    return type(estimator)()


def window_sums(u: np.ndarray, length: int) -> np.ndarray:
    """Sums of ``length`` consecutive values of ``u`` starting at every position, wrapping around."""
    c = np.concatenate([[0.0], np.cumsum(np.concatenate([u, u[: length - 1]]))])
    return c[length : length + len(u)] - c[: len(u)]


def conformal_p_value(estimator: Any, y: np.ndarray, X: np.ndarray, n_pre: int, tau0: float = 0.0) -> float:
    """Conformal p-value of ``H0: effect = tau0`` in every test period (Chernozhukov et al. 2021).

    Parameters
    ----------
    estimator
        A fitted estimator; a fresh one of the same kind (same ridge penalty) is fitted on all periods.
    y, X
        Shapes (T,) and (T, J): treated aggregate and controls over pre and test periods.
    n_pre
        Number of pre-test periods (T0).
    """
    y0 = y.astype(float).copy()
    y0[n_pre:] -= tau0
    refit = _refit(estimator).fit(y0, X)
    u = y0 - refit.predict(X)
    stats = np.abs(window_sums(u, len(y) - n_pre))
    return float(np.mean(stats >= stats[n_pre] * (1 - 1e-10)))


def _conformal_bound(
    estimator: Any,
    y: np.ndarray,
    X: np.ndarray,
    n_pre: int,
    centre: float,
    step: float,
    alpha: float,
    direction: int,
    tol: float,
) -> float:
    inside, outside = centre, centre + direction * step
    for _ in range(40):
        if conformal_p_value(estimator, y, X, n_pre, outside) <= alpha:
            break
        inside, outside = outside, outside + (outside - centre)
    else:
        return direction * float("inf")
    while abs(outside - inside) > tol:
        mid = (inside + outside) / 2
        if conformal_p_value(estimator, y, X, n_pre, mid) > alpha:
            inside = mid
        else:
            outside = mid
    return float((inside + outside) / 2)


def placebo_effects(estimator: Any, panel: GeoPanel) -> np.ndarray:
    """Studentised placebo effects: for each control, ATT / pre-test RMSE with the other controls as donors.

    The real treated locations are left out of every placebo's donor pool; a fitted augmented synthetic
    control keeps its ridge penalty.
    """
    X, n_pre = panel.controls, panel.n_pre
    out = np.empty(X.shape[1])
    for j in range(X.shape[1]):
        donors = np.delete(X, j, axis=1)
        model = _refit(estimator).fit(X[:n_pre, j], donors[:n_pre])
        gap = X[:, j] - model.predict(donors)
        rmse = float(np.sqrt(np.mean(gap[:n_pre] ** 2)))
        out[j] = float(np.mean(gap[n_pre:])) / rmse if rmse > 0 else 0.0
    return out


def placebo_in_space(
    estimator: Any, panel: GeoPanel, att: float, rmse: float, level: float
) -> tuple[float, float, float]:
    """(lower, upper, p-value) of the ATT from placebo-in-space (see the module docstring)."""
    z = placebo_effects(estimator, panel)
    if len(z) < 2 / (1 - level):
        raise UsageError(
            f"placebo inference at level {level} needs at least {int(np.ceil(2 / (1 - level)))} control "
            f"locations, found {len(z)}; use inference 'conformal' or a lower level"
        )
    z_treated = att / rmse if rmse > 0 else 0.0
    p_value = float((1 + np.sum(np.abs(z) >= abs(z_treated) * (1 - 1e-10))) / (1 + len(z)))
    low_q, high_q = np.quantile(z, [(1 - level) / 2, (1 + level) / 2])
    return att - float(high_q) * rmse, att - float(low_q) * rmse, p_value


def _inference(
    estimator: Any, panel: GeoPanel, att: float, rmse: float, level: float, inference: str
) -> tuple[float, float, float]:
    """(lower, upper, p-value) of the ATT."""
    from scipy import stats

    y, X, n_pre, n_post = panel.y, panel.controls, panel.n_pre, panel.n_post
    if inference == "analytic":
        if not isinstance(estimator, TimeBasedRegression):
            raise UsageError("analytic inference is defined for method 'tbr' only; use inference 'conformal'")
        sd = estimator.cumulative_sd(X[n_pre:]) / n_post
        q = float(stats.t.isf((1 - level) / 2, estimator.dof_))
        p = float(2 * stats.t.sf(abs(att) / sd, estimator.dof_)) if sd > 0 else float(att == 0)
        return att - q * sd, att + q * sd, p
    if inference == "placebo":
        return placebo_in_space(estimator, panel, att, rmse, level)
    if inference != "conformal":
        raise UsageError(f"unknown inference {inference!r}; expected one of {', '.join(INFERENCE)}")
    alpha = 1 - level
    step = max(2.0 * rmse / np.sqrt(n_post), 1e-6 * (abs(float(np.mean(y))) + 1.0))
    tol = step * 5e-3
    lower = _conformal_bound(estimator, y, X, n_pre, att, step, alpha, -1, tol)
    upper = _conformal_bound(estimator, y, X, n_pre, att, step, alpha, +1, tol)
    return lower, upper, conformal_p_value(estimator, y, X, n_pre, 0.0)


def fit_counterfactual(panel: GeoPanel, method: str = "augsynth") -> tuple[Any, np.ndarray]:
    """Fit ``method`` on the pre-test periods; return it and the counterfactual for every period (T,)."""
    estimator = make_estimator(method)
    estimator.fit(panel.y[: panel.n_pre], panel.controls[: panel.n_pre])
    return estimator, estimator.predict(panel.controls)


def analyze_panel(
    panel: GeoPanel,
    *,
    method: str = "augsynth",
    inference: str | None = None,
    level: float = 0.9,
    spend: float | None = None,
) -> GeoResult:
    """Read a geo experiment from a checked :class:`GeoPanel` (see :func:`analyze_geo`)."""
    if not 0 < level < 1:
        raise UsageError(f"level is {level}; expected a confidence level strictly between 0 and 1")
    inference = inference or ("analytic" if method == "tbr" else "conformal")
    estimator, cf = fit_counterfactual(panel, method)
    y, n_pre, n_post, k = panel.y, panel.n_pre, panel.n_post, len(panel.treated)
    resid = y[:n_pre] - cf[:n_pre]
    rmse = float(np.sqrt(np.mean(resid**2)))
    sst = float(np.sum((y[:n_pre] - y[:n_pre].mean()) ** 2))
    r2 = 1 - float(resid @ resid) / sst if sst > 0 else float("nan")
    att_mean = float(np.mean(y[n_pre:] - cf[n_pre:]))
    lower, upper, p_value = _inference(estimator, panel, att_mean, rmse, level, inference)
    att = Interval(att_mean, lower, upper)
    cf_mean = float(np.mean(cf[n_pre:]))
    incremental = att.scaled(k * n_post)
    warnings = list(panel.warnings)
    nrmse = rmse / abs(float(np.mean(y[:n_pre]))) if np.mean(y[:n_pre]) else float("inf")
    if (np.isfinite(r2) and r2 < POOR_FIT_R2) or nrmse > POOR_FIT_NRMSE:
        warnings.append(
            f"poor pre-test fit: R2 {r2:.2f}, RMSE {nrmse:.0%} of the mean KPI; the counterfactual "
            "may be biased (try more pre-test periods, other treated locations or method tbr)"
        )
    weights = getattr(estimator, "weights_", None)
    top = {}
    if weights is not None:
        order = np.argsort(-np.abs(weights))[:10]
        top = {panel.locations[i]: float(weights[i]) for i in order if abs(weights[i]) > 1e-6}
    return GeoResult(
        method=method,
        inference=inference,
        level=level,
        start=panel.dates[n_pre],
        end=panel.dates[-1],
        treated=list(panel.treated),
        n_controls=len(panel.locations),
        n_pre=n_pre,
        n_post=n_post,
        att=att,
        lift=att.scaled(1 / cf_mean) if cf_mean else Interval(float("nan"), float("nan"), float("nan")),
        incremental=incremental,
        p_value=p_value,
        pre_fit={"rmse": rmse, "r2": r2},
        counterfactual_total=cf_mean * k * n_post,
        observed_total=float(np.mean(y[n_pre:])) * k * n_post,
        spend=spend,
        iroas=incremental.scaled(1 / spend) if spend else None,
        weights=top,
        warnings=warnings,
        series=pd.DataFrame(
            {
                "date": panel.dates,
                "observed": y,
                "counterfactual": cf,
                "test": np.arange(len(y)) >= n_pre,
            }
        ),
    )


def analyze_geo(
    data: pd.DataFrame,
    *,
    location: str,
    date: str,
    kpi: str,
    treated: Sequence[str],
    start: str | pd.Timestamp,
    end: str | pd.Timestamp | None = None,
    spend: float | None = None,
    method: str = "augsynth",
    inference: str | None = None,
    level: float = 0.9,
    file: str | None = None,
) -> GeoResult:
    """Read a geo experiment from a long panel (one row per location and period).

    Parameters
    ----------
    data
        Columns ``location``, ``date`` and ``kpi`` (KPI in its own unit: conversions, revenue, ...).
    treated
        Locations where the treatment ran.
    start, end
        Test period, inclusive (``end`` defaults to the last date).
    spend
        The change in media spend the test caused over the test period, all treated locations together
        (negative when ads were switched off); gives iROAS = incremental KPI / spend.
    method
        ``augsynth`` (ridge-augmented synthetic control), ``synth`` (plain) or ``tbr``.
    inference
        ``conformal`` (default for the synthetic controls), ``placebo`` (placebo-in-space) or
        ``analytic`` (default for ``tbr``).
    level
        Two-sided level of the intervals.
    file
        File name used in error messages.
    """
    panel = prepare_panel(
        data, location=location, date=date, kpi=kpi, treated=treated, start=start, end=end, file=file
    )
    return analyze_panel(panel, method=method, inference=inference, level=level, spend=spend)
