"""A saved model directory loads back to the same model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trueroi.budget.curves import ResponseCurves
from trueroi.errors import UsageError
from trueroi.mmm import MMM, load_model


def test_save_load_round_trip(fitted: MMM, tmp_path: Path) -> None:
    fitted.save(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} >= {
        "config.json",
        "posterior.npz",
        "data.csv",
        "summary.json",
    }
    loaded = load_model(tmp_path / "model")
    assert loaded.get_params() == fitted.get_params()
    for name, values in fitted.posterior_.items():
        np.testing.assert_array_equal(loaded.posterior_[name], values)
    assert _flat(loaded.summary()) == pytest.approx(
        _flat(fitted.summary()), rel=1e-12, nan_ok=True
    )  # data.csv is text
    assert loaded.summary()["roi_note"] == fitted.summary()["roi_note"]
    assert loaded.warnings_ == fitted.warnings_
    np.testing.assert_allclose(loaded.decomposition()["fitted"], fitted.decomposition()["fitted"])
    curves = loaded.response_curves()
    assert isinstance(curves, ResponseCurves)
    spend = fitted.response_curves().current_spend
    np.testing.assert_allclose(curves.weekly_response(spend), fitted.response_curves().weekly_response(spend))


def test_loading_something_else_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a model directory"):
        load_model(tmp_path)


def _flat(d: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        elif isinstance(v, str | list | bool):  # words (kpi, roi_note, trust_problems) compared as such
            continue
        else:
            out[prefix + k] = float("nan") if v is None else v
    return out
