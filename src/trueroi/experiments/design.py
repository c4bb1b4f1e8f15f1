"""Designing geo experiments on historical data: power by simulation and market selection.

Power (as GeoLift does it): for each of ``n_windows`` past windows of ``duration`` periods, the treated
locations' KPI in the window is multiplied by ``1 + effect``, the experiment is read with the chosen method
using only data up to the window's end, and the test counts as a detection when its p-value is at most
``alpha``. Power is the share of windows with a detection; ``effect = 0`` gives the false-positive rate.

Market selection draws candidate sets of treated locations (stratified by size so that each set spans
small and large markets), computes each set's power and imbalance on the history, and ranks them: highest
power first, then the smallest effect estimated when nothing was injected (``abs_lift_in_zero``), then
the best pre-test fit. With a cost per incremental KPI (``cpic``) the investment a set needs to produce the
effect is ``effect x counterfactual KPI x cpic``, and sets above ``budget`` are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.experiments.geo import conformal_p_value
from trueroi.experiments.panel import load_wide
from trueroi.experiments.synth import TimeBasedRegression, make_estimator

# scipy is imported inside the functions that use it: it takes about half a second to load, and most
# callers of this module (and of the CLI) never need it.


@dataclass(frozen=True)
class WindowReading:
    """One simulated test: its p-value, estimated relative lift and pre-test fit (normalised RMSE)."""

    p_value: float
    lift: float
    nrmse: float
    baseline: float


def _p_value(estimator: object, y: np.ndarray, X: np.ndarray, n_pre: int) -> float:
    from scipy import stats

    if isinstance(estimator, TimeBasedRegression):
        n_post = len(y) - n_pre
        gap = float(np.sum(y[n_pre:] - estimator.predict(X[n_pre:])))
        sd = estimator.cumulative_sd(X[n_pre:])
        return (
            float(2 * stats.t.sf(abs(gap) / sd, estimator.dof_)) if sd > 0 else float(gap == 0 and n_post > 0)
        )
    return conformal_p_value(estimator, y, X, n_pre, 0.0)


def simulate_window(
    y: np.ndarray, X: np.ndarray, n_pre: int, effects: Sequence[float], method: str
) -> list[WindowReading]:
    """Read one historical window with each injected relative effect (the fit is shared across effects).

    Parameters
    ----------
    y, X
        Shapes (T,) and (T, J): treated aggregate and controls, the last ``T - n_pre`` periods the test.
    effects
        Relative effects to inject into ``y`` over the test periods.
    """
    estimator = make_estimator(method).fit(y[:n_pre], X[:n_pre])
    cf = estimator.predict(X)
    pre_resid = y[:n_pre] - cf[:n_pre]
    level = abs(float(np.mean(y[:n_pre]))) or 1.0
    nrmse = float(np.sqrt(np.mean(pre_resid**2))) / level
    baseline = float(np.sum(cf[n_pre:]))
    out = []
    for effect in effects:
        y_eff = y.copy()
        y_eff[n_pre:] *= 1 + effect
        lift = float(np.sum(y_eff[n_pre:] - cf[n_pre:]) / baseline) if baseline else float("nan")
        out.append(WindowReading(_p_value(estimator, y_eff, X, n_pre), lift, nrmse, baseline))
    return out


def _window_ends(n_periods: int, duration: int, n_windows: int, step: int, min_pre: int) -> list[int]:
    ends = [n_periods - w * step for w in range(n_windows)]
    ends = [e for e in ends if e - duration >= min_pre]
    if not ends:
        raise UsageError(
            f"{n_periods} periods cannot hold a {duration}-period test after {min_pre} pre-test periods; "
            "use a shorter duration or more history"
        )
    return ends


def power_curve(
    wide: pd.DataFrame,
    treated: Sequence[str],
    *,
    duration: int,
    effects: Sequence[float],
    alpha: float = 0.1,
    n_windows: int = 8,
    step: int | None = None,
    method: str = "augsynth",
    min_pre: int = 10,
) -> pd.DataFrame:
    """Power of a test on ``treated`` for each effect, by simulation over past windows of a wide panel.

    Returns
    -------
    pandas.DataFrame
        One row per effect: ``effect``, ``power`` (share of windows with p <= alpha), ``mean_lift``
        (mean estimated relative lift), ``windows``, ``nrmse`` (mean pre-test RMSE / mean KPI),
        ``baseline`` (mean counterfactual KPI over the test, treated locations together).
    """
    if duration < 1:
        raise UsageError(f"duration is {duration}; expected at least one period")
    if not 0 < alpha < 1:
        raise UsageError(f"alpha is {alpha}; expected a significance level between 0 and 1")
    missing = [t for t in treated if t not in wide.columns]
    if missing:
        raise UsageError(f"treated location(s) {', '.join(missing)} not in the data")
    controls = [c for c in wide.columns if c not in set(treated)]
    if len(controls) < 2:
        raise UsageError(f"{len(controls)} control locations; expected at least 2")
    y_all, X_all = wide[list(treated)].to_numpy(float).mean(axis=1), wide[controls].to_numpy(float)
    ends = _window_ends(len(wide), duration, n_windows, step or max(1, duration // 3), min_pre)
    readings = [simulate_window(y_all[:e], X_all[:e], e - duration, effects, method) for e in ends]
    rows = []
    for i, effect in enumerate(effects):
        cell = [r[i] for r in readings]
        rows.append(
            {
                "effect": effect,
                "power": float(np.mean([c.p_value <= alpha for c in cell])),
                "mean_lift": float(np.mean([c.lift for c in cell])),
                "windows": len(cell),
                "nrmse": float(np.mean([c.nrmse for c in cell])),
                "baseline": float(np.mean([c.baseline for c in cell])) * len(treated),
            }
        )
    return pd.DataFrame(rows)


def power_analysis(
    data: pd.DataFrame,
    *,
    location: str,
    date: str,
    kpi: str,
    treated: Sequence[str],
    duration: int,
    effects: Sequence[float] = (0.0, 0.05, 0.1, 0.15, 0.2),
    alpha: float = 0.1,
    n_windows: int = 8,
    step: int | None = None,
    method: str = "augsynth",
    file: str | None = None,
) -> pd.DataFrame:
    """Power by simulation on historical data (long panel); see :func:`power_curve` for the output."""
    wide = load_wide(data, location=location, date=date, kpi=kpi, file=file)
    return power_curve(
        wide,
        [str(t) for t in treated],
        duration=duration,
        effects=effects,
        alpha=alpha,
        n_windows=n_windows,
        step=step,
        method=method,
    )


def candidate_sets(
    wide: pd.DataFrame,
    n_treated: int,
    n_candidates: int,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    seed: int | np.random.Generator | None = 0,
) -> list[list[str]]:
    """Distinct candidate treatment sets, each stratified by location size (mean KPI).

    Locations in ``include`` are in every set; those in ``exclude`` in none.
    """
    rng = np.random.default_rng(seed)
    pool = [c for c in wide.mean().sort_values().index if c not in set(exclude) and c not in set(include)]
    free = n_treated - len(include)
    if free < 0 or free > len(pool) or len(wide.columns) - n_treated - len(exclude) < 2:
        raise UsageError(
            f"cannot choose {n_treated} treated locations from {len(wide.columns)} ({len(include)} forced, "
            f"{len(exclude)} excluded) and keep at least 2 controls"
        )
    strata = np.array_split(np.array(pool, dtype=object), max(free, 1))
    seen: set[tuple[str, ...]] = set()
    out = []
    for _ in range(20 * n_candidates):
        picked = [str(rng.choice(s)) for s in strata if len(s)][:free] if free else []
        key = tuple(sorted(list(include) + picked))
        if key not in seen:
            seen.add(key)
            out.append(list(key))
        if len(out) == n_candidates:
            break
    return out


def select_markets(
    data: pd.DataFrame,
    *,
    location: str,
    date: str,
    kpi: str,
    n_treated: int | Sequence[int] = 3,
    duration: int = 14,
    effect: float = 0.1,
    alpha: float = 0.1,
    n_candidates: int = 20,
    n_windows: int = 5,
    budget: float | None = None,
    cpic: float | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    method: str = "augsynth",
    seed: int | None = 0,
    file: str | None = None,
) -> pd.DataFrame:
    """Rank candidate treatment sets by power and imbalance for a given effect, duration and budget.

    Parameters
    ----------
    n_treated
        Size(s) of the treated set to consider.
    duration
        Test length in periods.
    effect
        Relative effect the test should detect (0.1 = +10%).
    budget, cpic
        Budget available and cost per incremental unit of KPI; with both, sets whose investment
        (``effect x baseline KPI x cpic``) exceeds the budget are left out.

    Returns
    -------
    pandas.DataFrame
        One row per candidate, best first: ``rank, locations`` (comma-separated), ``n_treated, power,
        false_positive_rate, abs_lift_in_zero, nrmse, baseline, investment``.
    """
    if effect <= 0:
        raise UsageError(f"effect is {effect}; expected the positive relative effect the test should detect")
    wide = load_wide(data, location=location, date=date, kpi=kpi, file=file)
    sizes = [n_treated] if isinstance(n_treated, int) else list(n_treated)
    rows = []
    for size in sizes:
        for cand in candidate_sets(wide, size, n_candidates, include=include, exclude=exclude, seed=seed):
            curve = power_curve(
                wide,
                cand,
                duration=duration,
                effects=(0.0, effect),
                alpha=alpha,
                n_windows=n_windows,
                method=method,
            )
            null, alt = curve.iloc[0], curve.iloc[1]
            rows.append(
                {
                    "locations": ",".join(cand),
                    "n_treated": size,
                    "power": alt["power"],
                    "false_positive_rate": null["power"],
                    "abs_lift_in_zero": abs(null["mean_lift"]),
                    "nrmse": null["nrmse"],
                    "baseline": null["baseline"],
                    "investment": effect * null["baseline"] * cpic if cpic is not None else float("nan"),
                }
            )
    table = pd.DataFrame(rows)
    if budget is not None and cpic is not None:
        table = table[table["investment"] <= budget]
        if table.empty:
            raise UsageError(
                f"no candidate fits the budget {budget:,.0f}; raise it, shorten the test or "
                "detect a smaller effect"
            )
    table = table.sort_values(
        ["power", "abs_lift_in_zero", "nrmse"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
