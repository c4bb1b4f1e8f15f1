"""Reading experiments: one entry point per reading a face offers (CLI command, web route).

Each function takes plain arguments (numbers, strings, dates, file paths or DataFrames, a workspace or its
directory), does the whole task (reading the input file, counting a tagged test in the warehouse, saving
the result to the workspace table ``experiments``) and returns a result whose ``to_dict()`` is the JSON
the faces serve and whose ``rows()`` are the rows they show as a table or CSV:

* :func:`read_holdout_test` (``trueroi experiment lift``): a holdout test from counts or campaign tags;
* :func:`read_geo_test` (``experiment geo``): a geo experiment from a panel CSV;
* :func:`read_cro_test` (``experiment cro``): a site A/B test and its projection onto channels;
* :func:`experiment_list` (``experiment list``); ``experiment export-lifts`` is
  :func:`trueroi.experiments.store.export_lifts`.

Planning tests (``experiment plan``, ``power``, ``select-markets``) is :mod:`trueroi.experiments.planning`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trueroi.errors import UsageError
from trueroi.experiments.cro import CHANNEL_COLUMNS, AbTestResult, project_cro, read_ab_test
from trueroi.experiments.geo import GeoResult, analyze_geo
from trueroi.experiments.lift import LiftResult, analyze_lift
from trueroi.experiments.panel import PanelLike, read_panel
from trueroi.experiments.store import (
    WorkspaceLike,
    list_experiments,
    opened,
    record_from_geo,
    record_from_lift,
    save_experiment,
)
from trueroi.experiments.warehouse import holdout_counts
from trueroi.io import jsonable, read_csv

HOLDOUT_METRICS = (
    "lift",
    "incremental_conversions",
    "p_value",
    "prob_positive",
    "incremental_revenue",
    "iroas",
    "cost_per_incremental_conversion",
)
GEO_METRICS = ("att", "lift", "incremental", "p_value", "iroas")
AB_METRICS = ("relative_change", "p_value", "prob_positive")
COUNTS = ("test_users", "test_conversions", "control_users", "control_conversions")


def interval_rows(payload: dict[str, Any], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One row per metric in ``keys``, as the faces show a reading.

    An interval gives ``metric, mean, lower, upper``, a number ``metric, mean``; metrics that are absent
    or ``None`` are left out.
    """
    rows = []
    for key in keys:
        value = payload.get(key)
        if isinstance(value, dict) and "mean" in value:
            rows.append({"metric": key, **value})
        elif value is not None:
            rows.append({"metric": key, "mean": value})
    return rows


# -- holdout tests -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HoldoutReadout:
    """A read holdout test.

    ``excluded_users`` (users carrying both tags) is set when the test was counted from campaign tags,
    ``experiment_id`` when it was saved to the workspace.
    """

    result: LiftResult
    excluded_users: int | None = None
    experiment_id: str | None = None

    def _payload(self) -> dict[str, Any]:
        payload = self.result.to_dict()
        if self.excluded_users is not None:
            payload["excluded_users"] = self.excluded_users
        return payload

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi experiment lift --format json``: every field of :class:`LiftResult`."""
        return jsonable(self._payload())

    def rows(self) -> list[dict[str, Any]]:
        """Lift, incremental conversions, p-value, ... as ``metric, mean, lower, upper`` rows."""
        return interval_rows(self._payload(), HOLDOUT_METRICS)


def _holdout_counts(
    counts: tuple[int | None, ...],
    test_tag: str | None,
    control_tag: str | None,
    start: Any,
    end: Any,
    workspace: WorkspaceLike,
) -> tuple[dict[str, Any], int | None]:
    """The four counts (and the groups' revenue) given, or counted in the workspace from the tags."""
    if test_tag or control_tag:
        if not (test_tag and control_tag and start and end):
            raise UsageError(
                "reading a test from the workspace needs both campaign tags (test and control) and the "
                "test's start and end"
            )
        with opened(workspace) as ws:
            found = holdout_counts(ws, test_tag=test_tag, control_tag=control_tag, start=start, end=end)
        return found, found.pop("excluded_users")
    if any(c is None for c in counts):
        raise UsageError(
            "give the users and conversions of both groups (test and control), or the test and control "
            "campaign tags with the test's start and end to count them in the workspace"
        )
    return dict(zip(COUNTS, counts, strict=True)), None


def read_holdout_test(
    test_users: int | None = None,
    test_conversions: int | None = None,
    control_users: int | None = None,
    control_conversions: int | None = None,
    *,
    test_tag: str | None = None,
    control_tag: str | None = None,
    start: Any = None,
    end: Any = None,
    test_revenue: float | None = None,
    control_revenue: float | None = None,
    spend: float | None = None,
    level: float = 0.9,
    seed: int = 0,
    save: bool = False,
    channel: str | None = None,
    kpi: str = "conversions",
    name: str | None = None,
    delta_spend: float | None = None,
    workspace: WorkspaceLike = None,
) -> HoldoutReadout:
    """Read a holdout (conversion-lift) test and optionally store it for the mix model's calibration.

    Parameters
    ----------
    test_users, test_conversions, control_users, control_conversions
        The groups' counts; or leave them out and give ``test_tag`` and ``control_tag`` (values of
        ``touchpoints.campaign``) with ``start`` and ``end`` to count the groups, their conversions and
        their revenue (base currency) in the workspace (:func:`~trueroi.experiments.warehouse.holdout_counts`;
        the revenue given is then ignored).
    test_revenue, control_revenue, spend
        The groups' revenue and the media spend on the test group (gives iROAS and cost per incremental
        conversion).
    level, seed
        Two-sided confidence level of the intervals; seed of the revenue bootstrap.
    save, channel, kpi, name, delta_spend
        With ``save``, the test is added to the workspace table ``experiments``: it needs the ``channel``
        tested and the test's ``start`` and ``end``; ``kpi`` (``conversions`` or ``revenue``) picks the
        lift stored and ``delta_spend`` the spend change (default: ``spend``).
    workspace
        An open workspace or its directory (``None``: ``$TRUEROI_WORKSPACE`` or the current directory);
        used only to count tags or to save.
    """
    if save and not (channel and start and end):
        raise UsageError("saving a holdout test needs its channel, start and end to place it in time")
    counts, excluded = _holdout_counts(
        (test_users, test_conversions, control_users, control_conversions),
        test_tag,
        control_tag,
        start,
        end,
        workspace,
    )
    if excluded is not None:
        test_revenue, control_revenue = counts.pop("test_revenue"), counts.pop("control_revenue")
    result = analyze_lift(
        *(counts[k] for k in COUNTS),
        test_revenue=test_revenue,
        control_revenue=control_revenue,
        spend=spend,
        level=level,
        seed=seed,
    )
    experiment_id = None
    if save:
        record = record_from_lift(
            result, channel=channel or "", start=start, end=end, kpi=kpi, name=name, delta_spend=delta_spend
        )
        with opened(workspace) as ws:
            experiment_id = save_experiment(ws, record)
    return HoldoutReadout(result, excluded, experiment_id)


# -- geo tests ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GeoReadout:
    """A read geo experiment (``experiment_id`` when it was saved to the workspace)."""

    result: GeoResult
    experiment_id: str | None = None

    @property
    def warnings(self) -> list[str]:
        return list(self.result.warnings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi experiment geo --format json`` (:meth:`GeoResult.to_dict`)."""
        return jsonable(self.result.to_dict())

    def rows(self) -> list[dict[str, Any]]:
        """ATT, lift, incremental KPI, p-value and iROAS as ``metric, mean, lower, upper`` rows."""
        return interval_rows(self.result.to_dict(), GEO_METRICS)


def read_geo_test(
    data: PanelLike,
    *,
    location: str,
    date: str,
    kpi: str,
    treated: Sequence[str],
    start: Any,
    end: Any = None,
    spend: float | None = None,
    method: str = "augsynth",
    inference: str | None = None,
    level: float = 0.9,
    save: bool = False,
    channel: str | None = None,
    name: str | None = None,
    delta_spend: float | None = None,
    workspace: WorkspaceLike = None,
) -> GeoReadout:
    """Read a geo experiment from a long panel and optionally store it for the mix model's calibration.

    Parameters
    ----------
    data
        A CSV file (or DataFrame) with one row per location and period: columns ``location``, ``date``
        and ``kpi`` as named.
    treated, start, end, spend, method, inference, level
        As for :func:`~trueroi.experiments.geo.analyze_geo`.
    save, channel, name, delta_spend
        With ``save``, the test is added to the workspace table ``experiments``; it needs the ``channel``
        tested; ``delta_spend`` defaults to ``spend``; the lift is stored in the unit ``kpi``.
    workspace
        An open workspace or its directory; used only to save.
    """
    if save and not channel:
        raise UsageError("saving a geo test needs the channel it tested")
    frame, file = read_panel(data, "a CSV file with one row per location and period")
    result = analyze_geo(
        frame,
        location=location,
        date=date,
        kpi=kpi,
        treated=list(treated),
        start=start,
        end=end,
        spend=spend,
        method=method,
        inference=inference,
        level=level,
        file=file,
    )
    experiment_id = None
    if save:
        record = record_from_geo(result, channel=channel or "", kpi=kpi, name=name, delta_spend=delta_spend)
        with opened(workspace) as ws:
            experiment_id = save_experiment(ws, record)
    return GeoReadout(result, experiment_id)


# -- CRO tests ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CroReadout:
    """A read site A/B test and, when channels were given, its projection onto them."""

    test: AbTestResult
    projection: pd.DataFrame | None = field(default=None, repr=False)

    def test_rows(self) -> list[dict[str, Any]]:
        """Relative change, p-value and probability of a positive change as ``metric, mean, ...`` rows."""
        return interval_rows(self.test.to_dict(), AB_METRICS)

    def projection_rows(self) -> list[dict[str, Any]]:
        """One row per channel plus ``total`` (see :func:`~trueroi.experiments.cro.project_cro`)."""
        return [] if self.projection is None else self.projection.to_dict(orient="records")

    def rows(self) -> list[dict[str, Any]]:
        """The projection rows, or without channels one row: ``metric, mean, lower, upper, p_value``."""
        change = self.test.relative_change.as_dict()
        return self.projection_rows() or [
            {"metric": self.test.metric, **change, "p_value": self.test.p_value}
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi experiment cro --format json``: ``test`` and ``projection`` (or null)."""
        projection = None if self.projection is None else self.projection_rows()
        return jsonable({"test": self.test.to_dict(), "projection": projection})


def read_cro_test(
    control_visitors: int,
    control_conversions: int,
    variant_visitors: int,
    variant_conversions: int,
    *,
    control_revenue: float | None = None,
    variant_revenue: float | None = None,
    metric: str = "conversion_rate",
    channels: str | os.PathLike[str] | pd.DataFrame | None = None,
    level: float = 0.9,
) -> CroReadout:
    """Read a site A/B test and project its effect onto each channel's conversions, CPA and ROI.

    ``channels`` is a CSV file (or DataFrame) with ``channel, spend, conversions, revenue, margin`` per
    channel (base currency); see :func:`~trueroi.experiments.cro.read_ab_test` and
    :func:`~trueroi.experiments.cro.project_cro`.
    """
    result = read_ab_test(
        control_visitors,
        control_conversions,
        variant_visitors,
        variant_conversions,
        control_revenue=control_revenue,
        variant_revenue=variant_revenue,
        metric=metric,
        level=level,
    )
    if channels is None:
        return CroReadout(result)
    if not isinstance(channels, pd.DataFrame):
        channels = read_csv(
            channels,
            required=CHANNEL_COLUMNS,
            expected="a CSV file with columns " + ", ".join(CHANNEL_COLUMNS),
        )
    return CroReadout(result, project_cro(channels, result.relative_change, metric=metric))


# -- the stored experiments ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExperimentList:
    """The experiments stored in a workspace, oldest first (every column but ``details``)."""

    table: pd.DataFrame = field(repr=False)

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_dict(orient="records")

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON of ``trueroi experiment list --format json`` (a list of experiments)."""
        return jsonable(self.rows())


def experiment_list(workspace: WorkspaceLike = None) -> ExperimentList:
    """The experiments stored in the workspace (an open one or its directory)."""
    with opened(workspace) as ws:
        return ExperimentList(list_experiments(ws).drop(columns=["details"]))
