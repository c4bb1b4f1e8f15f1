"""Where the planner gets its response curves: a fitted mix model, or a ``curves.json`` file."""

from __future__ import annotations

from pathlib import Path

from trueroi.budget.curves import ResponseCurves
from trueroi.budget.parametric import load_curves_json
from trueroi.errors import UsageError

CURVES_FILE = "curves.json"


def load_response_curves(model_dir: str | Path) -> ResponseCurves:
    """Response curves from ``model_dir``.

    A directory holding ``curves.json`` (see :func:`~trueroi.budget.parametric.load_curves_json`) gives
    :class:`~trueroi.budget.parametric.ParametricCurves`; any other directory is opened as a fitted mix
    model with ``trueroi.mmm.load_model(model_dir).response_curves()``.

    Raises
    ------
    UsageError
        If the directory is missing, or holds neither ``curves.json`` nor a model ``trueroi.mmm`` can load.
    """
    path = Path(model_dir)
    if not path.is_dir():
        raise UsageError(
            f"model directory {path} not found; fit one with 'trueroi mmm fit' or write {CURVES_FILE}"
        )
    if (path / CURVES_FILE).is_file():
        return load_curves_json(path / CURVES_FILE)
    try:
        from trueroi.mmm import load_model
    except ImportError as exc:
        raise UsageError(
            f"{path} holds no {CURVES_FILE} and the mix model package (trueroi.mmm) cannot load models here "
            f"({exc}); write a {CURVES_FILE} describing the response curves"
        ) from exc
    curves = load_model(path).response_curves()
    if not isinstance(curves, ResponseCurves):
        raise UsageError(f"the model in {path} did not return response curves the planner understands")
    return curves
