"""The hierarchical geo model: input checks, output contract, national = sum of geos, CLI, and recovery of
per-geo ROIs on simulated panels with known truth (trueroi.mmm.simulate.simulate_geo), where partial
pooling must beat no pooling on the small geos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main
from trueroi.errors import DataValidationError, NotFittedError, UsageError
from trueroi.mmm.geo import GeoMMM
from trueroi.mmm.simulate import GeoSimulation, simulate_geo


@pytest.fixture(scope="module")
def panel() -> GeoSimulation:
    return simulate_geo(seed=5, n_geos=4, n_periods=40, n_channels=2)


@pytest.fixture(scope="module")
def fitted(panel: GeoSimulation) -> GeoMMM:
    model = GeoMMM(saturation="logistic", method="laplace", draws=100, seed=0)
    return model.fit(panel.df, date="week", geo="geo", target="revenue", channels=panel.channels)


def test_simulated_truth_adds_up(panel: GeoSimulation) -> None:
    # national ROI = summed contribution / summed spend = spend-weighted mean of the geo ROIs
    spend = panel.df.groupby("geo")[panel.channels].sum()
    for c in panel.channels:
        weighted = sum(panel.roi[g][c] * spend.loc[g, c] for g in panel.geos) / spend[c].sum()
        assert panel.national_roi[c] == pytest.approx(weighted, rel=1e-9)
    sizes = sorted(panel.size.values())
    assert sizes[-1] / sizes[0] > 2  # geos of different sizes


def test_summary_contract_and_national_is_the_sum_of_geos(fitted: GeoMMM, panel: GeoSimulation) -> None:
    s = fitted.summary()
    assert set(s) == {"channels", "geos", "diagnostics", "fit_seconds"}
    assert set(s["geos"]) == set(panel.geos)
    for c in panel.channels:
        nat = s["channels"][c]
        assert set(nat) == {"spend", "contribution", "roi"}
        assert nat["roi"]["lower"] <= nat["roi"]["mean"] <= nat["roi"]["upper"]
        # contributions add over geos (posterior means are linear), spend as in the data
        geo_contrib = sum(s["geos"][g]["channels"][c]["contribution"]["mean"] for g in panel.geos)
        assert nat["contribution"]["mean"] == pytest.approx(geo_contrib, rel=1e-6)
        assert nat["spend"] == pytest.approx(panel.df[c].sum(), rel=1e-9)
        assert nat["roi"]["mean"] == pytest.approx(nat["contribution"]["mean"] / nat["spend"], rel=1e-6)
    assert s["diagnostics"]["r2"] > 0.3
    table = fitted.roi_table()
    assert len(table) == (len(panel.geos) + 1) * len(panel.channels)


def test_not_fitted_and_bad_settings(panel: GeoSimulation) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        GeoMMM().summary()
    with pytest.raises(UsageError, match="pooling"):
        GeoMMM(pooling="full").fit(
            panel.df, date="week", geo="geo", target="revenue", channels=panel.channels
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="geo"), "unknown geo column"),
        (lambda d: d.iloc[1:], "exactly one row per period"),
        (lambda d: d.assign(channel_0=np.where(d.index == 7, -5.0, d["channel_0"])), "negative spend"),
        (lambda d: d.assign(revenue=np.where(d.index == 3, np.nan, d["revenue"])), "missing"),
    ],
)
def test_bad_panels_are_clear_errors(panel: GeoSimulation, change, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        GeoMMM(method="map").fit(
            change(panel.df), date="week", geo="geo", target="revenue", channels=panel.channels
        )


def test_cli_fit_with_geo(panel: GeoSimulation, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "panel.csv"
    panel.df.to_csv(csv, index=False)
    args = ["mmm", "fit", str(csv), "--geo", "geo", "--channels", ",".join(panel.channels)]
    args += ["--saturation", "logistic", "--method", "map", "--out", str(tmp_path / "m"), "--format", "json"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out["channels"]) == set(panel.channels)
    assert set(out["geos"]) == set(panel.geos)
    assert (tmp_path / "m" / "posterior.npz").is_file()
    with pytest.raises(SystemExit) as info:
        main([*args[:4], "region", *args[5:-3], str(tmp_path / "bad"), "--format", "json"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "region" in err
    assert not (tmp_path / "bad").exists()  # nothing half-written


def _errors(sim: GeoSimulation, model: GeoMMM) -> tuple[float, float]:
    model.fit(sim.df, date="week", geo="geo", target="revenue", channels=sim.channels)
    s = model.summary()["geos"]
    small = [g for g in sim.geos if sim.size[g] < np.median(list(sim.size.values()))]
    errs = [
        abs(s[g]["channels"][c]["roi"]["mean"] - sim.roi[g][c]) / sim.roi[g][c]
        for g in small
        for c in sim.channels
    ]
    cover = [
        s[g]["channels"][c]["roi"]["lower"] <= sim.roi[g][c] <= s[g]["channels"][c]["roi"]["upper"]
        for g in sim.geos
        for c in sim.channels
    ]
    return float(np.mean(errs)), float(np.mean(cover))


@pytest.mark.slow
def test_partial_pooling_beats_no_pooling_on_small_geos() -> None:
    # 10 geos over 78 weeks, geo ROIs spread 15% (log-sd) around the national ones; the small half of the
    # geos are too noisy to pin their ROIs alone, so borrowing strength across geos must help them
    # (observed small-geo ROI error, pooled vs alone: seeds 0, 1, 2: 17.0/35.8%, 30.5/31.1%, 13.8/28.3%).
    settings = dict(saturation="logistic", method="nuts", draws=200, tune=200, chains=2, seed=0)
    pooled, alone, covers = [], [], []
    for seed in (0, 1, 2):
        sim = simulate_geo(seed=seed, n_geos=10, n_periods=78, n_channels=3, roi_spread=0.15, noise=0.05)
        err, cover = _errors(sim, GeoMMM(pooling="partial", **settings))
        pooled.append(err)
        covers.append(cover)
        alone.append(_errors(sim, GeoMMM(pooling="none", **settings))[0])
        print(
            f"seed {seed}: small-geo ROI error pooled {err:.1%} vs no pooling {alone[-1]:.1%}, "
            f"coverage {cover:.0%}"
        )
    assert np.mean(pooled) < 0.85 * np.mean(alone)  # clearly better on average
    assert all(p < 1.1 * a for p, a in zip(pooled, alone, strict=True))  # and never clearly worse
    assert np.mean(covers) >= 0.75  # true geo ROIs inside the 90% intervals for most geo-channels
