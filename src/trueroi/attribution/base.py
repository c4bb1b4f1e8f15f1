"""The interface every attribution model follows, and the decorator that registers a model by name.

A model follows the scikit-learn contract: settings go to ``__init__``, :meth:`AttributionModel.fit` takes
:class:`~trueroi.attribution.journeys.Journeys` and returns ``self``, learned values end in ``_``. After
``fit``,
``conversions_`` and ``value_`` hold each channel's credit (aligned with ``channels_``); they sum to the
journeys' total conversions and total value. Models are looked up by name in
:mod:`trueroi.attribution.registry`, which imports every built-in model module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from trueroi.attribution.journeys import Journeys
from trueroi.errors import NotFittedError

MODELS: dict[str, type[AttributionModel]] = {}


def register_model(cls: type[AttributionModel]) -> type[AttributionModel]:
    """Class decorator: make a model available under ``cls.name`` (CLI, config and API share the name)."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no name")
    MODELS[cls.name] = cls
    return cls


class AttributionModel:
    """Base class: subclasses set ``name`` and implement :meth:`_credit`."""

    name: ClassVar[str] = ""
    #: True when each conversion's credit over its own touches is exact (rule-based models, Shapley)
    per_journey_exact: ClassVar[bool] = True

    def fit(self, journeys: Journeys) -> Self:
        """Credit the journeys' conversions and value to channels; returns ``self``."""
        conv, value = self._credit(journeys)
        self.channels_ = journeys.channels
        self.conversions_ = np.asarray(conv, dtype=np.float64)
        self.value_ = np.asarray(value, dtype=np.float64)
        self.total_conversions_ = journeys.total_conversions
        self.total_value_ = journeys.total_value
        return self

    def _credit(self, journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "conversions_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(journeys) first")

    @property
    def credits_(self) -> pd.DataFrame:
        """Columns ``channel``, ``conversions``, ``value``: one row per channel, in channel order."""
        self._check_fitted()
        return pd.DataFrame(
            {"channel": list(self.channels_), "conversions": self.conversions_, "value": self.value_}
        )

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def weighted_bincount(codes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``weights`` per code 0..n-1."""
    return np.bincount(codes, weights=weights, minlength=n).astype(np.float64)[:n]


def segment_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each non-empty segment ``offsets[j]:offsets[j+1]``."""
    if len(offsets) <= 1:
        return np.zeros(0, dtype=np.float64)
    return np.add.reduceat(values, offsets[:-1])


ModelFactory = Callable[..., AttributionModel]
