"""Multi-touch attribution: journeys, rule-based models, exact Markov and exact Shapley, side by side.

Typical use::

    from trueroi.attribution import read_paths_csv, attribute
    result = attribute(read_paths_csv("paths.csv"), "all")
    result.wide("conversions")

Models are found by name in one registry (:func:`get_model`, :func:`model_names`): ``first_click``,
``last_click``, ``last_non_direct_click``, ``linear``, ``time_decay``, ``position_based``, ``markov``,
``shapley``, ``shapley_ordered``.

From a workspace: :func:`build_journeys` (Ibis: touchpoints joined to orders or conversions within the
lookback window), :func:`order_credits` (per-order credits for the KPI engine) and
:mod:`trueroi.attribution.report` (conversion paths report). ROAS and ROI by model are KPIs over these
credits: :mod:`trueroi.metrics.by_model`.
"""

from trueroi.attribution.analysis import credit_journeys, load_journeys
from trueroi.attribution.base import MODELS, AttributionModel, register_model
from trueroi.attribution.compare import AttributionResult, attribute, resolve_models
from trueroi.attribution.credits import order_credits
from trueroi.attribution.journeys import Journeys, from_paths, from_touchpoints, read_paths_csv
from trueroi.attribution.registry import get_model, model_names
from trueroi.attribution.warehouse import build_journeys, journeys_expr

__all__ = [
    "MODELS",
    "AttributionModel",
    "AttributionResult",
    "Journeys",
    "attribute",
    "build_journeys",
    "credit_journeys",
    "from_paths",
    "from_touchpoints",
    "get_model",
    "journeys_expr",
    "load_journeys",
    "model_names",
    "order_credits",
    "read_paths_csv",
    "register_model",
    "resolve_models",
]
