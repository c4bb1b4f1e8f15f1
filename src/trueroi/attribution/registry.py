"""Attribution models by name: the one vocabulary the CLI, configuration files and the API share.

Importing this module imports every built-in model module, whose ``@register_model`` decorators fill
:data:`~trueroi.attribution.base.MODELS`; models registered elsewhere join them on import.
"""

from __future__ import annotations

from typing import Any

from trueroi.attribution import heuristics, markov, shapley
from trueroi.attribution.base import MODELS, AttributionModel
from trueroi.errors import UsageError

BUILTIN_MODULES = (heuristics, markov, shapley)
BUILTIN_ORDER = (
    "first_click",
    "last_click",
    "last_non_direct_click",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
    "shapley_ordered",
)


def model_names() -> list[str]:
    """Registered model names: the built-in ones in their documented order, then any others by
    registration."""
    return [m for m in BUILTIN_ORDER if m in MODELS] + [m for m in MODELS if m not in BUILTIN_ORDER]


def get_model(name: str, **settings: Any) -> AttributionModel:
    """A new, unfitted model by registry name, with its settings.

    Raises
    ------
    UsageError
        For an unknown name; the message lists the known ones.
    """
    key = name.strip().lower()
    if key not in MODELS:
        raise UsageError(
            f"unknown attribution model {name!r}; expected one of {', '.join(model_names())} or 'all'"
        )
    return MODELS[key](**settings)
