"""Where the planner gets its response curves: a fitted mix model (either kind), or a ``curves.json`` file."""

from __future__ import annotations

import os
from pathlib import Path

from trueroi.budget.curves import ResponseCurves
from trueroi.budget.parametric import load_curves_json
from trueroi.errors import UsageError
from trueroi.mmm import load_model

CURVES_FILE = "curves.json"


def load_response_curves(model_dir: str | os.PathLike[str]) -> ResponseCurves:
    """Response curves from ``model_dir``.

    A directory holding ``curves.json`` (see :func:`~trueroi.budget.parametric.load_curves_json`) gives
    :class:`~trueroi.budget.parametric.ParametricCurves`; any other directory is opened as a fitted mix
    model, national or geo, with ``trueroi.mmm.load_model(model_dir).response_curves()`` (a geo model gives
    the national sum of its geo curves, see :mod:`trueroi.mmm.curves`).

    Raises
    ------
    UsageError
        If the directory is missing, or holds neither ``curves.json`` nor a fitted mix model.
    """
    path = Path(model_dir)
    if not path.is_dir():
        raise UsageError(
            f"model directory {path} not found; fit a mix model there or write a {CURVES_FILE} into it"
        )
    if (path / CURVES_FILE).is_file():
        return load_curves_json(path / CURVES_FILE)
    curves = load_model(path).response_curves()
    if not isinstance(curves, ResponseCurves):
        raise UsageError(f"the model in {path} did not return response curves the planner understands")
    return curves
