"""Save a fitted mix model to a directory and load it back, whatever its kind.

A model directory holds:

- ``config.json``: ``kind`` (``"national"``, ``"geo"``, ``"halo"`` or ``"geo_halo"``: the national or geo
  model with a halo through brand search, whose params name its halo channels and mediator; a directory
  written before the kind was recorded is national), ``format_version``, the model's settings
  (``params``), the column roles (national and halo: ``date``, ``target``, ``channels``, ``controls``,
  ``events``, ``n_train``; geo and geo halo: ``columns``, ``geos``, ``channels``, ``controls``), the fit's
  seconds and sampler extras;
- ``posterior.npz``: every posterior array, shaped (chain, draw, ...);
- ``data.csv``: the series (or the long geo panel) the model was fitted on, the holdout included, with the
  user's column names;
- ``lift_tests.csv``: the lift tests it was calibrated with, if any;
- ``summary.json``: the JSON summary (national: plus warnings and media parameters), for people and other
  tools.

Everything else (contributions, curves, diagnostics) is recomputed from these on load.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from trueroi.errors import UsageError
from trueroi.mmm.base import FORMAT_VERSION, MixModel, read_config
from trueroi.mmm.geo import GeoMMM
from trueroi.mmm.halo import HaloMMM
from trueroi.mmm.halo_geo import GeoHaloMMM
from trueroi.mmm.model import MMM

__all__ = ["FORMAT_VERSION", "KINDS", "load_model", "model_kind", "save_model"]

KINDS: dict[str, type[MixModel]] = {
    MMM.KIND: MMM,
    GeoMMM.KIND: GeoMMM,
    HaloMMM.KIND: HaloMMM,
    GeoHaloMMM.KIND: GeoHaloMMM,
}
"""The model class of each ``kind`` a model directory can hold."""


def save_model(model: MixModel, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (fitted, either kind) to the directory ``path`` (created if missing); returns it."""
    return model.save(path)


def model_kind(path: str | os.PathLike[str]) -> str:
    """``"national"`` or ``"geo"``: the kind of model saved in the directory ``path``.

    Raises
    ------
    UsageError
        If ``path`` is not a model directory or holds a kind this version does not know.
    """
    return _known_kind(Path(path), read_config(path))


def load_model(path: str | os.PathLike[str]) -> MixModel:
    """Restore a fitted model from a directory written by ``save``: an :class:`~trueroi.mmm.MMM` or a
    :class:`~trueroi.mmm.geo.GeoMMM`, as its ``config.json`` says (nothing is refitted).

    Raises
    ------
    UsageError
        If ``path`` is not a model directory, or holds an unknown kind or format version.
    """
    root = Path(path)
    config = read_config(root)
    return KINDS[_known_kind(root, config)]._restore(root, config)


def _known_kind(root: Path, config: dict[str, Any]) -> str:
    kind = config["kind"]
    if kind not in KINDS:
        known = ", ".join(KINDS)
        raise UsageError(f"{root} holds a model of kind {kind!r}; this version reads {known} models")
    return kind
