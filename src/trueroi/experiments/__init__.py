"""Incrementality experiments: holdout lift tests, geo experiments, CRO tests, design and calibration.

* :mod:`~trueroi.experiments.lift`: holdout (conversion-lift) tests and sample-size planning.
* :mod:`~trueroi.experiments.geo`: geo experiments read with :mod:`~trueroi.experiments.synth` estimators
  (ridge-augmented synthetic control, synthetic control, time-based regression) and conformal inference,
  on panels checked by :mod:`~trueroi.experiments.panel`.
* :mod:`~trueroi.experiments.design`: power by simulation on historical data and market selection.
* :mod:`~trueroi.experiments.cro`: site A/B tests and their projection onto ROI by channel.
* :mod:`~trueroi.experiments.warehouse`: holdout-test counts from the warehouse for a tagged campaign.
* :mod:`~trueroi.experiments.store`: the workspace table ``experiments`` and the lift CSV the mix model reads.
* :mod:`~trueroi.experiments.readouts` and :mod:`~trueroi.experiments.planning`: one entry point per task
  the faces offer (read a holdout, geo or CRO test, list the stored experiments; plan a holdout test, geo
  power and market selection), each returning a result with ``to_dict()``.
"""

from __future__ import annotations

from trueroi.experiments.cro import project_cro, rate_change, read_ab_test
from trueroi.experiments.design import power_analysis, select_markets
from trueroi.experiments.geo import GeoResult, analyze_geo
from trueroi.experiments.lift import Interval, LiftResult, analyze_lift, minimum_detectable_lift, sample_size
from trueroi.experiments.planning import (
    GeoPower,
    HoldoutPlan,
    MarketSelection,
    choose_markets,
    geo_power,
    plan_holdout_test,
)
from trueroi.experiments.readouts import (
    CroReadout,
    ExperimentList,
    GeoReadout,
    HoldoutReadout,
    experiment_list,
    read_cro_test,
    read_geo_test,
    read_holdout_test,
)
from trueroi.experiments.store import export_lifts, list_experiments, save_experiment
from trueroi.experiments.synth import ESTIMATORS
from trueroi.experiments.warehouse import holdout_counts

__all__ = [
    "ESTIMATORS",
    "CroReadout",
    "ExperimentList",
    "GeoPower",
    "GeoReadout",
    "GeoResult",
    "HoldoutPlan",
    "HoldoutReadout",
    "Interval",
    "LiftResult",
    "MarketSelection",
    "analyze_geo",
    "analyze_lift",
    "choose_markets",
    "experiment_list",
    "export_lifts",
    "geo_power",
    "holdout_counts",
    "list_experiments",
    "minimum_detectable_lift",
    "plan_holdout_test",
    "power_analysis",
    "project_cro",
    "rate_change",
    "read_ab_test",
    "read_cro_test",
    "read_geo_test",
    "read_holdout_test",
    "sample_size",
    "save_experiment",
    "select_markets",
]
