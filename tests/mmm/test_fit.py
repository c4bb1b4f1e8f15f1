"""fit_mix_model: the one call behind ``trueroi mmm fit`` (national or geo, file or DataFrame, holdout weeks
in periods, the model directory), with fast MAP fits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trueroi.errors import DataValidationError, UsageError
from trueroi.mmm import MMM, GeoMMM, fit_mix_model, load_model
from trueroi.mmm.simulate import simulate, simulate_geo


def test_a_daily_csv_holds_out_seven_days_a_week(tmp_path: Path) -> None:
    sim = simulate(seed=2, n_periods=70, rois=(2.0, 1.0))
    daily = sim.df.assign(week=pd.date_range("2024-01-01", periods=70, freq="D"))
    daily.to_csv(tmp_path / "daily.csv", index=False)
    result = fit_mix_model(
        tmp_path / "daily.csv", channels=sim.channels, holdout_weeks=2, method="map", out=tmp_path / "m"
    )
    assert isinstance(result.model, MMM) and result.kind == "national"
    assert result.model.data_.n_train == 70 - 14  # 2 weeks of days
    assert result.out == tmp_path / "m" and isinstance(load_model(tmp_path / "m"), MMM)
    payload = result.to_dict()
    assert list(payload) == [
        "channels",
        "diagnostics",
        "fit_seconds",
        "kpi",
        "roi_basis",
        "margin_rate",
        "roi_note",
    ]
    rows = result.rows()
    assert [r["channel"] for r in rows] == sim.channels
    assert rows[0]["spend"] == pytest.approx(daily[sim.channels[0]].iloc[:56].sum())
    assert rows[0]["roi_mean"] == payload["channels"][sim.channels[0]]["roi"]["mean"]
    assert any("MAP" in w for w in result.warnings)


def test_a_geo_column_fits_the_geo_model() -> None:
    panel = simulate_geo(seed=5, n_geos=3, n_periods=30, n_channels=2)
    result = fit_mix_model(
        panel.df, geo="geo", channels=panel.channels, saturation="logistic", holdout_weeks=3, method="map"
    )
    assert isinstance(result.model, GeoMMM) and result.kind == "geo" and result.out is None
    assert result.model.data_.n_train == 30 - 3
    assert list(result.to_dict()) == ["channels", "geos", "diagnostics", "fit_seconds"] + [
        "kpi",
        "roi_basis",
        "margin_rate",
        "roi_note",
    ]
    rows = result.rows()
    assert len(rows) == (1 + 3) * 2 and rows[0]["geo"] == "national"
    assert set(rows[0]) == {"geo", "channel", "spend", "roi_mean", "roi_lower", "roi_upper", "roas_mean"}
    # national spend of a channel: every geo's training spend summed
    spend = panel.df[panel.df["week"] < sorted(panel.df["week"].unique())[-3]][panel.channels[0]].sum()
    assert rows[0]["spend"] == pytest.approx(spend)


def test_choices_that_cannot_work_are_usage_errors(tmp_path: Path) -> None:
    panel = simulate_geo(seed=5, n_geos=3, n_periods=30, n_channels=2)
    with pytest.raises(UsageError, match="geo model takes no event"):
        fit_mix_model(panel.df, geo="geo", channels=panel.channels, events=["control_0"], method="map")
    with pytest.raises(UsageError, match="needs a long panel"):
        fit_mix_model(None, geo="geo", channels=panel.channels, method="map")
    with pytest.raises(UsageError, match="holdout_weeks must be 0 or more"):
        fit_mix_model(panel.df, channels=panel.channels, holdout_weeks=-1)
    with pytest.raises(DataValidationError, match="file not found"):
        fit_mix_model(tmp_path / "missing.csv", channels=["a"], out=tmp_path / "m")
    assert not (tmp_path / "m").exists()  # nothing written
