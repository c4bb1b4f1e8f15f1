"""Bayesian marketing-mix models: adstock x saturation media effects, calibration with lift tests.

Importing this package is cheap: JAX and NumPyro load only when a model is fitted.
"""

from __future__ import annotations

from trueroi.mmm.calibration import read_lift_tests
from trueroi.mmm.model import MMM
from trueroi.mmm.nuts import use_cpu_cores
from trueroi.mmm.persist import load_model
from trueroi.mmm.transformers import ADSTOCKS, SATURATIONS, get_adstock, get_saturation

__all__ = [
    "ADSTOCKS",
    "MMM",
    "SATURATIONS",
    "get_adstock",
    "get_saturation",
    "load_model",
    "read_lift_tests",
    "use_cpu_cores",
]
