"""The hierarchical geo model: input checks, output contract, national = sum of geos, CLI, and recovery of
per-geo ROIs on simulated panels with known truth (trueroi.mmm.simulate.simulate_geo), where partial
pooling must beat no pooling on the small geos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main
from trueroi.errors import DataValidationError, NotFittedError, UsageError
from trueroi.mmm.geo import GeoMMM, GeoSpec, prepare_geo
from trueroi.mmm.simulate import GeoSimulation, simulate_geo
from trueroi.mmm.transformers import get_adstock, get_saturation


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
    header = {"kpi", "roi_basis", "margin_rate", "roi_note"}  # what roi means (ROI on margin, or none)
    assert set(s) == {"channels", "geos", "diagnostics", "fit_seconds"} | header
    assert set(s["geos"]) == set(panel.geos)
    for c in panel.channels:
        nat = s["channels"][c]
        assert set(nat) == {"spend", "contribution", "roi", "mroi", "roas", "mroas"}
        assert nat["roas"]["lower"] <= nat["roas"]["mean"] <= nat["roas"]["upper"]
        # contributions add over geos (posterior means are linear), spend as in the data
        geo_contrib = sum(s["geos"][g]["channels"][c]["contribution"]["mean"] for g in panel.geos)
        assert nat["contribution"]["mean"] == pytest.approx(geo_contrib, rel=1e-6)
        assert nat["spend"] == pytest.approx(panel.df[c].sum(), rel=1e-9)
        assert nat["roas"]["mean"] == pytest.approx(nat["contribution"]["mean"] / nat["spend"], rel=1e-6)
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
    weeks = sorted(panel.df["week"].astype(str).unique())
    lifts = tmp_path / "lifts.csv"
    lifts.write_text(
        "channel,geo,start,end,delta_spend,lift,lift_se\n"
        f"{panel.channels[0]},{panel.geos[1]},{weeks[5]},{weeks[9]},-5000,-9000,3000\n"
    )
    args += [
        "--saturation",
        "logistic",
        "--method",
        "map",
        "--holdout-weeks",
        "4",
        "--calibration",
        str(lifts),
    ]
    args += ["--out", str(tmp_path / "m"), "--format", "json"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out["channels"]) == set(panel.channels)
    assert set(out["geos"]) == set(panel.geos)
    for c in panel.channels:
        assert set(out["channels"][c]["mroi"]) == {"mean", "lower", "upper"}
    assert 0 < out["diagnostics"]["holdout_mape"] < 0.5
    assert (tmp_path / "m" / "posterior.npz").is_file()
    again = GeoMMM.load(tmp_path / "m")
    assert again.data_.n_train == 40 - 4
    assert again.lift_tests_["geo"].tolist() == [panel.geos[1]]
    for c, block in again.summary()["channels"].items():
        for k in ("roas", "mroas", "contribution"):
            assert block[k] == pytest.approx(out["channels"][c][k], rel=1e-6)
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
        abs(s[g]["channels"][c]["roas"]["mean"] - sim.roi[g][c]) / sim.roi[g][c]
        for g in small
        for c in sim.channels
    ]
    cover = [
        s[g]["channels"][c]["roas"]["lower"] <= sim.roi[g][c] <= s[g]["channels"][c]["roas"]["upper"]
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


def test_save_and_load_round_trip(fitted: GeoMMM, tmp_path: Path) -> None:
    fitted.save(tmp_path / "geo")
    back = GeoMMM.load(tmp_path / "geo")
    pd.testing.assert_frame_equal(back.roi_table(), fitted.roi_table(), check_exact=False, rtol=1e-9)
    a, b = back.summary(), fitted.summary()
    for c, block in b["channels"].items():
        for k in ("spend", "contribution", "roas", "mroas"):
            assert a["channels"][c][k] == pytest.approx(block[k], rel=1e-9)
    for k, v in b["diagnostics"].items():  # r_hat and ESS are None for a Laplace fit
        assert a["diagnostics"][k] == (None if v is None else pytest.approx(v, rel=1e-9)), k
    assert back.data_.geos == fitted.data_.geos and back.data_.n_train == fitted.data_.n_train
    with pytest.raises(UsageError, match="not a geo model directory"):
        GeoMMM.load(tmp_path)


def test_marginal_roi_is_below_average_roi_under_diminishing_returns(fitted: GeoMMM) -> None:
    """Logistic saturation is concave and zero at zero, so for every draw the return on the last 1% of
    spend is below the average return of all spend (and above zero): mROI < ROI channel by channel."""
    roi = fitted.roi_draws()[1]
    mroi = fitted.mroi_draws(max_draws=10_000)
    assert mroi.shape == roi.shape
    assert (mroi > 0).all() and (mroi < roi).all()
    # a 1% step and a 0.1% step agree (a derivative, not an artefact of the step)
    np.testing.assert_allclose(fitted.mroi_draws(step=0.001, max_draws=10_000), mroi, rtol=0.02)
    s = fitted.summary()["channels"]
    for i, c in enumerate(fitted.data_.channels):
        assert s[c]["mroas"]["mean"] == pytest.approx(mroi[:, i].mean(), rel=1e-9)


def test_holdout_periods_are_predicted_not_fitted(panel: GeoSimulation) -> None:
    model = GeoMMM(saturation="logistic", method="laplace", draws=100, seed=0, holdout_periods=6)
    model.fit(panel.df, date="week", geo="geo", target="revenue", channels=panel.channels)
    assert model.data_.n_train == 40 - 6 and model.spec_.n_train == 34
    d = model.summary()["diagnostics"]
    # the simulator's noise is 4-8% per geo and week: a model that forecasts the held-out weeks lands near it
    assert 0.0 < d["holdout_mape"] < 0.25
    with pytest.raises(UsageError, match="holdout of 35 periods"):
        GeoMMM(method="map", holdout_periods=35).fit(
            panel.df, date="week", geo="geo", target="revenue", channels=panel.channels
        )


def test_decomposition_and_curves_agree_with_the_roi(fitted: GeoMMM, panel: GeoSimulation) -> None:
    """By the ROI parameterisation, a channel's contribution over the fitted window is ROI x spend: the
    decomposition over time and the response curve at today's spend (factor 1) must both add up to it; at
    zero spend the response is zero, and it rises with spend."""
    s = fitted.summary()["channels"]
    dec = fitted.decomposition(max_draws=10_000)
    n = fitted.data_.n_train
    parts = ["baseline", "controls", *panel.channels]
    np.testing.assert_allclose(dec[parts].sum(axis=1), dec["fitted"], rtol=1e-9)
    np.testing.assert_allclose(dec["actual"], panel.df.groupby("week")["revenue"].sum().to_numpy(), rtol=1e-9)
    curves = fitted.contribution_curves(factors=np.array([0.0, 0.5, 1.0, 2.0]), max_draws=10_000)
    for c in panel.channels:
        assert dec[c].iloc[:n].sum() == pytest.approx(s[c]["contribution"]["mean"], rel=1e-4)
        band = curves[c]
        assert band["spend"][2] == pytest.approx(s[c]["spend"], rel=1e-9)
        assert band["mean"][0] == pytest.approx(0.0, abs=1e-6)
        assert band["mean"][2] == pytest.approx(s[c]["contribution"]["mean"], rel=1e-4)
        assert (np.diff(band["mean"]) > 0).all()
        assert band["lower"][2] <= band["mean"][2] <= band["upper"][2]


def test_report_of_a_geo_model(fitted: GeoMMM, tmp_path: Path) -> None:
    fitted.save(tmp_path / "geo")
    result = CliRunner().invoke(build_app(), ["mmm", "report", str(tmp_path / "geo")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "geo" / "report.html").read_text(encoding="utf-8")
    assert "<script src=" not in page and len(page) > 1_000_000  # plotly.js inline: renders offline
    assert page.count('class="plotly-graph-div"') == 3
    roas = fitted.summary()["channels"][fitted.data_.channels[0]]["roas"]
    assert f"{roas['mean']:,.2f} [{roas['lower']:,.2f}, {roas['upper']:,.2f}]" in page


def _implied_lift(model: GeoMMM, channel: str, start: int, end: int, geo: str | None = None) -> float:
    """The fitted model's answer to "remove the channel's spend in periods start..end (in one geo or all)":
    the change of the channel's contribution over those periods, posterior mean, KPI units."""
    from trueroi.mmm.bayes import channel_effects

    i = model.data_.channels.index(channel)
    media = model._arrays(model.data_)["media"]
    moved = media.copy()
    cols = slice(None) if geo is None else model.data_.geos.index(geo)
    moved[start : end + 1, cols, i] = 0.0
    out = []
    for p in model._draw_params(200):
        delta = (
            channel_effects(moved, p, model.spec_)[:, :, i] - channel_effects(media, p, model.spec_)[:, :, i]
        )
        out.append((delta[start : end + 1] * p["beta"][:, i] * model.data_.target_scale).sum())
    return float(np.mean(out))


def test_calibration_pulls_the_modelled_lift_to_the_measured_one() -> None:
    """A holdout of channel_1 in weeks 10-17 measured without bias (the simulator's true lift, 5% standard
    error): the calibrated model's answer to the same holdout lands near the measurement (observed on seed 7:
    -182.5k uncalibrated, -169.0k calibrated, measured -166.6k)."""
    import pandas as pd

    panel = simulate_geo(seed=7, n_geos=4, n_periods=40, n_channels=2)
    kw = dict(date="week", geo="geo", target="revenue", channels=panel.channels)
    weeks = sorted(panel.df["week"].unique())
    delta_spend, lift = panel.true_lift("channel_1", 10, 17, factor=0.0)
    assert delta_spend < 0 and lift < 0
    tests = pd.DataFrame(
        {
            "channel": ["channel_1"],
            "start": [weeks[10]],
            "end": [weeks[17]],
            "delta_spend": [delta_spend],
            "lift": [lift],
            "lift_se": [abs(lift) * 0.05],
        }
    )
    base = GeoMMM(saturation="logistic", method="map", seed=0).fit(panel.df, **kw)
    cal = GeoMMM(saturation="logistic", method="map", seed=0).fit(panel.df, lift_tests=tests, **kw)
    before = abs(_implied_lift(base, "channel_1", 10, 17) - lift)
    after = abs(_implied_lift(cal, "channel_1", 10, 17) - lift)
    assert after < before / 3 and after < abs(lift) * 0.05


def test_a_biased_geo_lift_moves_that_geo(panel: GeoSimulation) -> None:
    """A lift test in one geo claiming three times the true lift raises that geo's ROI far more than the
    others' (the test's spend change is in that geo only)."""
    import pandas as pd

    kw = dict(date="week", geo="geo", target="revenue", channels=panel.channels)
    geo, c = panel.geos[0], panel.channels[0]
    weeks = sorted(panel.df["week"].unique())
    delta_spend, lift = panel.true_lift(c, 8, 15, factor=0.0, geo=geo)
    tests = pd.DataFrame(
        {
            "channel": [c],
            "geo": [geo],
            "start": [weeks[8]],
            "end": [weeks[15]],
            "delta_spend": [delta_spend],
            "lift": [3 * lift],
            "lift_se": [abs(lift) * 0.1],
        }
    )
    base = GeoMMM(saturation="logistic", method="map", seed=0).fit(panel.df, **kw)
    cal = GeoMMM(saturation="logistic", method="map", seed=0).fit(panel.df, lift_tests=tests, **kw)
    ratio = {
        g: cal.summary()["geos"][g]["channels"][c]["roas"]["mean"]
        / base.summary()["geos"][g]["channels"][c]["roas"]["mean"]
        for g in panel.geos
    }
    assert ratio[geo] > 1.5
    assert ratio[geo] > 1.5 * max(v for g, v in ratio.items() if g != geo)
    bad = tests.assign(geo=["nowhere"])
    with pytest.raises(DataValidationError, match="not a geo of the model") as info:
        GeoMMM(method="map").fit(panel.df, lift_tests=bad, **kw)
    assert info.value.row == 1 and info.value.column == "geo"


def test_draws_are_constrained_in_batches_to_float32_precision(panel: GeoSimulation) -> None:
    """250 unconstrained points mapped 64 at a time (last chunk padded) equal one at a time, and ``beta`` (a
    deterministic site: ROI x spend / summed media effect) equals a float64 NumPy computation from the same
    constrained ROI and media parameters. (Mapping 128 or more at once gave betas up to 5% off on this
    project's CPUs, JAX 0.10.)"""
    from trueroi.mmm import bayes
    from trueroi.mmm.bayes import channel_effects

    model = GeoMMM(saturation="logistic", method="map", seed=0)
    data = prepare_geo(panel.df, "week", "geo", "revenue", panel.channels)
    spec = GeoSpec(
        get_adstock("geometric"), get_saturation("logistic"), 8, "partial", data.n_train, 0.5, False
    )
    arrays = model._arrays(data)
    u = bayes._Unconstrained(arrays, data.target / data.target_scale, spec)
    z = u.init(np.random.default_rng(1), 1.0, batch=(250,))
    batched, single = u.constrain(z), u.constrain(z, batch=1)
    assert set(batched) == set(single) and batched["roi"].shape == (250, len(panel.geos), 2)
    for k in single:
        np.testing.assert_allclose(batched[k], single[k], rtol=1e-5, err_msg=k)
    for d in range(0, 250, 7):
        p = {k: np.asarray(v[d], dtype=float) for k, v in batched.items()}
        effect = channel_effects(arrays["media"], p, spec)[: data.n_train].sum(axis=0)
        np.testing.assert_allclose(batched["beta"][d], p["roi"] * arrays["roi_factor"] / effect, rtol=1e-5)
