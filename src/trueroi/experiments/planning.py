"""Planning experiments: one entry point per planning task a face offers (CLI command, web route).

* :func:`plan_holdout_test` (``trueroi experiment plan``): users a holdout test needs, or the lift a number
  of users can detect;
* :func:`geo_power` (``experiment power``): power of a geo test by simulation on the history;
* :func:`choose_markets` (``experiment select-markets``): candidate sets of treated locations, ranked.

Each returns a result whose ``to_dict()`` is the JSON the faces serve and whose ``rows()`` are the rows
they show as a table or CSV.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trueroi.errors import UsageError
from trueroi.experiments.design import power_analysis, select_markets
from trueroi.experiments.lift import minimum_detectable_lift, sample_size
from trueroi.experiments.panel import PanelLike, read_panel
from trueroi.io import jsonable

HISTORY = "a CSV file of historical KPI, one row per location and period"


@dataclass(frozen=True)
class HoldoutPlan:
    """Users a holdout test needs for a lift, or the lift a number of test users can detect."""

    baseline_rate: float
    lift: float
    test_users: int
    control_users: int
    alpha: float
    power: float
    control_ratio: float
    alternative: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi experiment plan --format json`` (an undetectable lift is ``None``)."""
        return jsonable(self.rows()[0])

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "baseline_rate": self.baseline_rate,
                "lift": self.lift,
                "test_users": self.test_users,
                "control_users": self.control_users,
                "alpha": self.alpha,
                "power": self.power,
                "control_ratio": self.control_ratio,
                "alternative": self.alternative,
            }
        ]


def plan_holdout_test(
    baseline_rate: float,
    *,
    lift: float | None = None,
    test_users: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    control_ratio: float = 1.0,
    alternative: str = "two-sided",
) -> HoldoutPlan:
    """Plan a holdout test: test users needed for ``lift``, or the lift ``test_users`` can detect.

    Give exactly one of ``lift`` (relative, 0.1 = +10%) and ``test_users``. The test users needed are
    rounded up, and so are the control users (``control_ratio`` per test user); see
    :func:`~trueroi.experiments.lift.sample_size` for the formula. ``alternative`` is ``"two-sided"`` or
    ``"larger"`` (a one-sided test for a positive lift).
    """
    if (lift is None) == (test_users is None):
        raise UsageError(
            "give either a lift (to get the users needed) or a number of test users (to get the "
            "detectable lift)"
        )
    settings = {"alpha": alpha, "power": power, "control_ratio": control_ratio, "alternative": alternative}
    if lift is not None:
        test_n, detectable = math.ceil(sample_size(baseline_rate, lift, **settings)), lift
    else:
        test_n = int(test_users or 0)
        detectable = minimum_detectable_lift(baseline_rate, test_n, **settings)
    return HoldoutPlan(
        baseline_rate=baseline_rate,
        lift=detectable,
        test_users=test_n,
        control_users=math.ceil(test_n * control_ratio),
        alpha=alpha,
        power=power,
        control_ratio=control_ratio,
        alternative=alternative,
    )


@dataclass(frozen=True)
class GeoPower:
    """Power of a geo test by simulation.

    ``table`` holds one row per effect (columns as :func:`~trueroi.experiments.design.power_curve`).
    """

    treated: list[str]
    duration: int
    alpha: float
    method: str
    table: pd.DataFrame = field(repr=False)

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_dict(orient="records")

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi experiment power --format json``."""
        return jsonable(
            {
                "treated": list(self.treated),
                "duration": self.duration,
                "alpha": self.alpha,
                "method": self.method,
                "power": self.rows(),
            }
        )


def geo_power(
    data: PanelLike,
    *,
    location: str,
    date: str,
    kpi: str,
    treated: Sequence[str],
    duration: int,
    effects: Sequence[float] = (0.0, 0.05, 0.1, 0.15, 0.2),
    alpha: float = 0.1,
    n_windows: int = 8,
    method: str = "augsynth",
) -> GeoPower:
    """Power of a geo test on ``treated`` over ``duration`` periods, by simulation on the history.

    Each relative effect in ``effects`` is injected into ``n_windows`` past windows of the panel (a CSV
    file or DataFrame); see :func:`~trueroi.experiments.design.power_analysis`.
    """
    frame, file = read_panel(data, HISTORY)
    table = power_analysis(
        frame,
        location=location,
        date=date,
        kpi=kpi,
        treated=list(treated),
        duration=duration,
        effects=list(effects),
        alpha=alpha,
        n_windows=n_windows,
        method=method,
        file=file,
    )
    return GeoPower(list(treated), duration, alpha, method, table)


@dataclass(frozen=True)
class MarketSelection:
    """Candidate sets of treated locations, best first.

    ``table`` holds the ``top`` ones, columns as :func:`~trueroi.experiments.design.select_markets`
    returns them.
    """

    effect: float
    duration: int
    alpha: float
    method: str
    table: pd.DataFrame = field(repr=False)

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_dict(orient="records")

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi experiment select-markets --format json``."""
        return jsonable(
            {
                "effect": self.effect,
                "duration": self.duration,
                "alpha": self.alpha,
                "method": self.method,
                "markets": self.rows(),
            }
        )


def choose_markets(
    data: PanelLike,
    *,
    location: str,
    date: str,
    kpi: str,
    duration: int,
    effect: float = 0.1,
    n_treated: int | Sequence[int] = 3,
    n_candidates: int = 20,
    budget: float | None = None,
    cpic: float | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    alpha: float = 0.1,
    n_windows: int = 5,
    method: str = "augsynth",
    seed: int = 0,
    top: int = 10,
) -> MarketSelection:
    """Rank candidate sets of treated locations by power and imbalance and keep the ``top`` ones.

    The panel is a CSV file or DataFrame; see :func:`~trueroi.experiments.design.select_markets` for the
    other parameters.
    """
    frame, file = read_panel(data, HISTORY)
    table = select_markets(
        frame,
        location=location,
        date=date,
        kpi=kpi,
        n_treated=n_treated if isinstance(n_treated, int) else list(n_treated),
        duration=duration,
        effect=effect,
        alpha=alpha,
        n_candidates=n_candidates,
        n_windows=n_windows,
        budget=budget,
        cpic=cpic,
        include=list(include),
        exclude=list(exclude),
        method=method,
        seed=seed,
        file=file,
    )
    return MarketSelection(effect, duration, alpha, method, table.head(top))
