"""Geo experiments: known injected effects, placebo tests, relations between outputs, and bad panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from trueroi.errors import DataValidationError, UsageError
from trueroi.experiments.geo import analyze_geo, window_sums
from trueroi.experiments.simulate import simulate_geo_panel

COLS = {"location": "location", "date": "date", "kpi": "kpi"}


def _run(sim, **kwargs):
    return analyze_geo(sim.data, treated=sim.treated, start=sim.start, **COLS, **kwargs)


def test_window_sums_match_a_plain_loop() -> None:
    u = np.array([1.0, -2.0, 3.0, 0.5, 4.0])
    expected = [sum(u[(s + i) % 5] for i in range(3)) for s in range(5)]
    assert window_sums(u, 3) == pytest.approx(expected)


@pytest.mark.parametrize("method", ["augsynth", "synth", "tbr"])
def test_recovers_a_known_effect_on_a_quiet_panel(method: str) -> None:
    sim = simulate_geo_panel(
        n_locations=30, n_periods=100, n_test=20, n_treated=3, effect=0.10, noise=0.002, seed=3
    )
    r = _run(sim, method=method, spend=2_000.0)
    assert r.att.mean == pytest.approx(sim.att, rel=0.05)
    assert r.att.lower <= sim.att <= r.att.upper
    assert r.p_value < 0.05
    # relations written out: incremental = ATT x treated locations x test periods, iROAS = incremental / spend
    assert r.incremental.mean == pytest.approx(r.att.mean * 3 * 20)
    assert r.incremental.mean == pytest.approx(sim.incremental, rel=0.05)
    assert r.iroas.mean == pytest.approx(r.incremental.mean / 2_000.0)
    assert r.lift.mean == pytest.approx(r.incremental.mean / r.counterfactual_total)
    assert r.lift.mean == pytest.approx(0.10, abs=0.01)
    assert r.pre_fit["r2"] > 0.9
    assert r.n_pre == 80 and r.n_post == 20 and r.n_controls == 27
    test = r.series[r.series["test"]]
    assert len(test) == 20 and (test["observed"] - test["counterfactual"]).mean() == pytest.approx(r.att.mean)


def _plain_scm_att(sim) -> float:
    """An independent plain synthetic control (demeaned, simplex weights by SLSQP) as the peer estimate."""
    wide = sim.data.pivot(index="date", columns="location", values="kpi")
    y = wide[sim.treated].mean(axis=1).to_numpy()
    X = wide.drop(columns=sim.treated).to_numpy()
    pre = wide.index < sim.start
    yc, Xc = y - y[pre].mean(), X - X[pre].mean(axis=0)
    j = X.shape[1]
    w = minimize(
        lambda w: np.sum((yc[pre] - Xc[pre] @ w) ** 2),
        np.full(j, 1 / j),
        method="SLSQP",
        bounds=[(0, 1)] * j,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"ftol": 1e-12, "maxiter": 500},
    ).x
    return float(np.mean(yc[~pre] - Xc[~pre] @ w))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_augsynth_agrees_with_an_independent_plain_synthetic_control(seed: int) -> None:
    sim = simulate_geo_panel(n_locations=25, n_periods=90, n_test=14, n_treated=2, effect=0.05, seed=seed)
    r = _run(sim, method="augsynth")
    peer = _plain_scm_att(sim)
    width = r.att.upper - r.att.lower
    assert abs(r.att.mean - peer) < 0.25 * width  # ridge augmentation moves the estimate a little at most
    assert r.att.lower <= sim.att <= r.att.upper


@pytest.mark.parametrize("method", ["augsynth", "tbr"])
def test_coverage_bias_and_false_positives_in_simulation(method: str) -> None:
    """60 simulated experiments: nominal 90% intervals, unbiased ATT, 10% rejections without effect."""
    n = 60
    hits, errors, rejections = 0, [], 0
    for seed in range(n):
        sim = simulate_geo_panel(n_locations=25, n_periods=70, n_test=10, n_treated=3, effect=0.04, seed=seed)
        r = _run(sim, method=method, level=0.9)
        hits += r.att.lower <= sim.att <= r.att.upper
        errors.append(r.att.mean - sim.att)
        null = simulate_geo_panel(
            n_locations=25, n_periods=70, n_test=10, n_treated=3, effect=0.0, seed=1000 + seed
        )
        rejections += _run(null, method=method).p_value <= 0.1
    errors = np.asarray(errors)
    assert 0.78 <= hits / n <= 0.98  # binomial sd of a 90% rate over 60 runs: 0.039
    assert abs(errors.mean()) < 3 * errors.std() / np.sqrt(n)
    assert rejections / n <= 0.2


@pytest.mark.slow
@pytest.mark.parametrize("method", ["augsynth", "tbr"])
def test_coverage_and_false_positive_rate_over_300_experiments(method: str) -> None:
    n = 300
    hits, errors, rejections = 0, [], 0
    for seed in range(n):
        sim = simulate_geo_panel(n_locations=30, n_periods=80, n_test=14, n_treated=3, effect=0.05, seed=seed)
        r = _run(sim, method=method)
        hits += r.att.lower <= sim.att <= r.att.upper
        errors.append(r.att.mean - sim.att)
        null = simulate_geo_panel(n_locations=30, n_periods=80, n_test=14, n_treated=3, seed=5000 + seed)
        rejections += _run(null, method=method).p_value <= 0.1
    errors = np.asarray(errors)
    assert 0.85 <= hits / n <= 0.95  # 90% nominal, sd 0.017
    assert abs(errors.mean()) < 3 * errors.std() / np.sqrt(n)
    assert 0.04 <= rejections / n <= 0.15  # alpha 0.10


def test_placebo_in_time_and_in_space_find_nothing() -> None:
    rejections, estimates = 0, []
    for seed in range(20):
        sim = simulate_geo_panel(n_locations=30, n_periods=100, n_test=20, n_treated=3, effect=0.3, seed=seed)
        # in time: a fake test in the weeks before the real one, on the real treated locations
        fake_start = sim.start - pd.Timedelta(days=20)
        r = analyze_geo(
            sim.data, treated=sim.treated, start=fake_start, end=sim.start - pd.Timedelta(days=1), **COLS
        )
        rejections += r.p_value <= 0.1
        estimates.append(r.lift.mean)
        # in space: drop the treated locations (+30%) and pretend two controls were treated
        rest = sim.data[~sim.data["location"].isin(sim.treated)]
        fake = sorted(rest["location"].unique())[:2]
        r = analyze_geo(rest, treated=fake, start=sim.start, **COLS)
        rejections += r.p_value <= 0.1
        estimates.append(r.lift.mean)
    assert rejections / 40 <= 0.2  # alpha 0.1
    assert abs(np.mean(estimates)) < 0.01  # vs the +30% real effect


def test_design_warnings() -> None:
    sim = simulate_geo_panel(n_locations=12, n_periods=30, n_test=10, n_treated=2, seed=1)
    r = _run(sim)
    text = " ".join(r.warnings)
    assert "pre-test periods" in text and "locations" in text
    rng = np.random.default_rng(0)
    noisy = sim.data.copy()
    mask = noisy["location"] == sim.treated[0]
    noisy.loc[mask, "kpi"] = rng.uniform(0, 400, mask.sum())  # unrelated to any control
    r = analyze_geo(noisy, treated=sim.treated[:1], start=sim.start, **COLS)
    assert any("poor pre-test fit" in w for w in r.warnings)


@pytest.fixture
def panel() -> pd.DataFrame:
    return simulate_geo_panel(n_locations=8, n_periods=40, n_test=10, n_treated=2, seed=0).data


def test_missing_dates_are_named(panel: pd.DataFrame) -> None:
    holed = panel.drop(index=panel.index[(panel["location"] == "L003") & (panel["date"] == "2024-01-15")])
    with pytest.raises(DataValidationError, match=r"L003.*2024-01-15"):
        analyze_geo(holed, treated=["L001"], start="2024-02-01", **COLS)
    gap = panel[panel["date"] != "2024-01-20"]
    with pytest.raises(DataValidationError, match=r"missing dates.*2024-01-20"):
        analyze_geo(gap, treated=["L001"], start="2024-02-01", **COLS)


def test_unknown_treated_location_is_named(panel: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match=r"Berlin not in the data"):
        analyze_geo(panel, treated=["L001", "Berlin"], start="2024-02-01", **COLS)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2023-12-01", None), ("2024-03-01", None), ("2024-02-01", "2024-04-01"), ("2024-01-01", None)],
)
def test_test_period_outside_the_data_is_refused(panel: pd.DataFrame, start: str, end: str | None) -> None:
    with pytest.raises(UsageError, match="not inside the data|pre-test periods"):
        analyze_geo(panel, treated=["L001"], start=start, end=end, **COLS)


def test_malformed_panels_are_refused(panel: pd.DataFrame) -> None:
    with pytest.raises(DataValidationError, match="twice"):
        analyze_geo(pd.concat([panel, panel.head(1)]), treated=["L001"], start="2024-02-01", **COLS)
    bad = panel.astype({"kpi": object})
    bad.loc[5, "kpi"] = "n/a"
    with pytest.raises(DataValidationError, match="row 6, column kpi"):
        analyze_geo(bad, treated=["L001"], start="2024-02-01", **COLS)
    with pytest.raises(DataValidationError, match="column 'sales' is missing"):
        analyze_geo(
            panel, treated=["L001"], start="2024-02-01", location="location", date="date", kpi="sales"
        )
    with pytest.raises(UsageError, match="before its start"):
        analyze_geo(panel, treated=["L001"], start="2024-02-01", end="2024-01-25", **COLS)
    with pytest.raises(UsageError, match="analytic inference"):
        analyze_geo(panel, treated=["L001"], start="2024-02-01", inference="analytic", **COLS)


def test_placebo_in_space_inference_covers_and_controls_false_positives() -> None:
    hits, rejections, n = 0, 0, 40
    for seed in range(n):
        sim = simulate_geo_panel(n_locations=25, n_periods=70, n_test=10, n_treated=3, effect=0.05, seed=seed)
        r = _run(sim, method="tbr", inference="placebo")
        hits += r.att.lower <= sim.att <= r.att.upper
        null = simulate_geo_panel(n_locations=25, n_periods=70, n_test=10, n_treated=3, seed=700 + seed)
        rejections += _run(null, method="tbr", inference="placebo").p_value <= 0.1
    assert 0.75 <= hits / n <= 1.0  # 90% nominal
    assert rejections / n <= 0.25  # alpha 0.1


def test_placebo_p_value_bottoms_out_at_one_over_controls_plus_one() -> None:
    sim = simulate_geo_panel(n_locations=25, n_periods=70, n_test=10, n_treated=3, effect=0.5, seed=1)
    r = _run(sim, method="synth", inference="placebo")
    assert r.p_value == pytest.approx(1 / (22 + 1))  # the treated effect beats all 22 placebos
    small = simulate_geo_panel(n_locations=12, n_periods=40, n_test=5, n_treated=2, seed=1)
    with pytest.raises(UsageError, match="placebo inference"):
        _run(small, inference="placebo", level=0.9)


def test_weekly_panels_work_like_daily_ones() -> None:
    sim = simulate_geo_panel(
        n_locations=30, n_periods=104, n_test=8, n_treated=3, effect=0.1, seed=3, freq="W"
    )
    r = _run(sim)
    assert (r.n_pre, r.n_post) == (96, 8) and not r.warnings
    assert r.att.lower <= sim.att <= r.att.upper and r.p_value < 0.05
