"""Save a fitted mix model to a directory and load it back.

A model directory holds:

- ``config.json``: the model's settings, the column roles, the fit's method, seconds and sampler extras;
- ``posterior.npz``: every posterior array, shaped (chain, draw, ...);
- ``data.csv``: the series the model was fitted on (the holdout included), with the user's column names;
- ``lift_tests.csv``: the lift tests it was calibrated with, if any;
- ``summary.json``: the CLI's JSON summary plus warnings and media parameters, for people and other tools.

Everything else (contributions, curves, diagnostics) is recomputed from these on load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.io import jsonable

if TYPE_CHECKING:
    from trueroi.mmm.model import MMM

FORMAT_VERSION = 1


def save_model(model: MMM, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` (fitted) to the directory ``path`` (created if missing); returns the path."""

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    data = model.data_
    config = {
        "format_version": FORMAT_VERSION,
        "params": model.get_params(),
        "date": data.date_col,
        "target": data.target_col,
        "channels": data.channels,
        "controls": data.controls_cols,
        "events": data.events_cols,
        "n_train": data.n_train,
        "fit_seconds": model.fit_seconds_,
        "extras": model.extras_,
    }
    (out / "config.json").write_text(json.dumps(jsonable(config), indent=2))
    np.savez_compressed(out / "posterior.npz", **model.posterior_)
    frame = data.frame()
    frame[data.date_col] = frame[data.date_col].dt.strftime("%Y-%m-%d")
    frame.to_csv(out / "data.csv", index=False)
    if getattr(model, "lift_tests_", None) is not None:
        model.lift_tests_.to_csv(out / "lift_tests.csv", index=False, date_format="%Y-%m-%d")
    summary = {
        **model.summary(),
        "warnings": model.warnings_,
        "ppc_coverage_90": model.diagnostics_.get("ppc_coverage_90"),
        "media_parameters": model.media_parameters().to_dict(orient="records"),
    }
    (out / "summary.json").write_text(json.dumps(jsonable(summary), indent=2))
    return out


def load_model(path: str | os.PathLike[str]) -> MMM:
    """Restore a fitted :class:`~trueroi.mmm.model.MMM` from a directory written by ``save``.

    Raises
    ------
    UsageError
        If ``path`` is not a model directory or was written by an unknown format version.
    """
    from trueroi.mmm.data import prepare
    from trueroi.mmm.model import MMM

    root = Path(path)
    if not (root / "config.json").is_file() or not (root / "posterior.npz").is_file():
        raise UsageError(
            f"{root} is not a model directory: expected config.json and posterior.npz there; "
            "write one with `trueroi mmm fit ... --out DIR`"
        )
    config = json.loads((root / "config.json").read_text())
    if config.get("kind") == "geo":
        raise UsageError(f"{root} holds a geo model; read it with trueroi.mmm.geo.GeoMMM.load")
    if config.get("format_version") != FORMAT_VERSION:
        raise UsageError(
            f"{root} holds model format {config.get('format_version')}, expected {FORMAT_VERSION}"
        )
    params = config["params"]
    if isinstance(params.get("roi_prior"), list):
        params["roi_prior"] = tuple(params["roi_prior"])
    elif isinstance(params.get("roi_prior"), dict):
        params["roi_prior"] = {k: tuple(v) for k, v in params["roi_prior"].items()}
    model = MMM(**params)
    frame = pd.read_csv(root / "data.csv")
    holdout = len(frame) - config["n_train"]
    data = prepare(
        frame,
        config["date"],
        config["target"],
        config["channels"],
        config["controls"],
        config["events"],
        holdout,
        source=str(root / "data.csv"),
    )
    with np.load(root / "posterior.npz") as npz:
        samples = {k: npz[k] for k in npz.files}
    if (root / "lift_tests.csv").is_file():
        from trueroi.mmm.calibration import read_lift_tests

        model.lift_tests_ = read_lift_tests(root / "lift_tests.csv")
    model.fit_seconds_ = float(config["fit_seconds"])
    model._set_fitted(data, samples, config.get("extras", {}))
    return model
