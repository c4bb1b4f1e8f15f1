"""Multi-touch attribution: journeys, rule-based models, exact Markov and exact Shapley, side by side.

Typical use::

    from trueroi.attribution import read_paths_csv, attribute
    result = attribute(read_paths_csv("paths.csv"), "all")
    result.wide("conversions")

Models are found by name in one registry (:func:`get_model`, :func:`model_names`): ``first_click``,
``last_click``, ``last_non_direct_click``, ``linear``, ``time_decay``, ``position_based``, ``markov``,
``shapley``, ``shapley_ordered``.

From a workspace: :func:`build_journeys` (Ibis: touchpoints joined to orders or conversions within the
lookback window), :func:`order_credits` (per-order credits for the KPI engine), :mod:`trueroi.attribution.roi`
(ROAS and ROI by model, with the spread between models) and :mod:`trueroi.attribution.report` (conversion
paths report).
"""

from trueroi.attribution.base import MODELS, AttributionModel, get_model, model_names, register_model
from trueroi.attribution.compare import AttributionResult, attribute, resolve_models
from trueroi.attribution.journeys import Journeys, from_paths, from_touchpoints, is_direct, read_paths_csv

__all__ = [
    "MODELS",
    "AttributionModel",
    "AttributionResult",
    "Journeys",
    "attribute",
    "from_paths",
    "from_touchpoints",
    "get_model",
    "is_direct",
    "model_names",
    "read_paths_csv",
    "register_model",
    "resolve_models",
]


def __getattr__(name: str):  # lazy: the warehouse side pulls in Ibis
    if name in ("build_journeys", "journeys_expr", "order_credits"):
        from trueroi.attribution import credits, warehouse

        return getattr(warehouse if name != "order_credits" else credits, name)
    raise AttributeError(f"module 'trueroi.attribution' has no attribute {name!r}")
