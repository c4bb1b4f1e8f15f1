"""Bayesian marketing-mix models: adstock x saturation media effects, calibration with lift tests.

Two kinds share one base (:class:`MixModel`): :class:`MMM` fits one national series, :class:`GeoMMM` a geo
panel with hierarchical ROIs; :class:`HaloMMM` and :class:`GeoHaloMMM` add a halo through brand search
(direct, indirect and total ROI). :func:`fit_mix_model` fits any of them from a file, a DataFrame or a
workspace and saves it; :func:`load_model` restores any from its directory; :func:`write_model_report`
writes the HTML report; every kind hands the budget planner national response curves
(``model.response_curves()``; the halo models' are of total effects).

Importing this package is cheap: JAX and NumPyro load only when a model is fitted.
"""

from __future__ import annotations

from trueroi.mmm.base import MixModel
from trueroi.mmm.calibration import read_lift_tests
from trueroi.mmm.fit import MixModelFit, fit_mix_model
from trueroi.mmm.geo import GeoMMM
from trueroi.mmm.halo import HaloMMM
from trueroi.mmm.halo_geo import GeoHaloMMM
from trueroi.mmm.model import MMM
from trueroi.mmm.nuts import use_cpu_cores
from trueroi.mmm.persist import load_model, model_kind, save_model
from trueroi.mmm.report import write_model_report
from trueroi.mmm.transformers import ADSTOCKS, SATURATIONS, get_adstock, get_saturation

__all__ = [
    "ADSTOCKS",
    "MMM",
    "SATURATIONS",
    "GeoHaloMMM",
    "GeoMMM",
    "HaloMMM",
    "MixModel",
    "MixModelFit",
    "fit_mix_model",
    "get_adstock",
    "get_saturation",
    "load_model",
    "model_kind",
    "read_lift_tests",
    "save_model",
    "use_cpu_cores",
    "write_model_report",
]
