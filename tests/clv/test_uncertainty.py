"""Prediction intervals from parameter draws: coverage on simulated data with known truth, and properties.

The coverage test is the outside check: data are simulated from known parameters many times; each time
the model is fitted and a nominal 90% interval computed for quantities whose true value follows from the
true parameters (the closed forms of FHL 2005a eqs. 10 and Fader, Hardie & Lee 2005b eq. 5 evaluated at the
truth); the share of intervals that contain the truth must be close to 90%.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from trueroi.clv import BetaGeoFitter, GammaGammaFitter
from trueroi.clv import predictions as pred
from trueroi.clv.simulate import simulate_beta_geo, simulate_gamma_gamma
from trueroi.clv.uncertainty import intervals
from trueroi.errors import UsageError

TRUTH = (0.25, 4.4, 0.8, 2.4)
SPEND = (6.25, 3.74, 15.44)
COHORT = 250
PROFILE = (2.0, 25.0, 38.0)  # a customer with 2 repeat purchases, the last at week 25, observed 38 weeks


def _purchases(horizon, f, r, T):
    def fn(models, rows):
        return models[0].predict_purchases(horizon, f[rows], r[rows], T[rows])

    return fn


def test_interval_narrows_like_one_over_root_n() -> None:
    widths = []
    for n in (1_000, 16_000):
        d = simulate_beta_geo(TRUTH, n, seed=21)
        model = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
        f, r, T = (np.array([v]) for v in PROFILE)
        per, _ = intervals(_purchases(52.0, f, r, T), [model], 1, n_draws=400, seed=1)
        assert per.loc[0, "lower"] < per.loc[0, "estimate"] < per.loc[0, "upper"]
        widths.append(per.loc[0, "upper"] - per.loc[0, "lower"])
    # 16 times the customers: the standard error of the MLE, and so the width, shrinks about 4 times
    assert 2.5 < widths[0] / widths[1] < 6.0


def test_levels_nest_seeds_repeat_and_groups_add_up(cdnow) -> None:
    model = BetaGeoFitter().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    f, r, T = (cdnow[c].to_numpy(float) for c in ("x", "t_x", "T"))
    fn = _purchases(39.0, f, r, T)
    groups = np.where(f > 0, "repeat", "one-off")
    narrow, g50 = intervals(fn, [model], len(f), level=0.5, n_draws=200, seed=3, groups=groups)
    wide, g99 = intervals(fn, [model], len(f), level=0.99, n_draws=200, seed=3, groups=groups)
    again, _ = intervals(fn, [model], len(f), level=0.5, n_draws=200, seed=3)
    assert (wide["lower"] <= narrow["lower"]).all() and (wide["upper"] >= narrow["upper"]).all()
    pd.testing.assert_frame_equal(narrow, again)
    assert narrow.loc[0, "estimate"] == pytest.approx(1.226, abs=5e-4)  # FHL 2005a, customer 1
    # group totals are sums of the customers' estimates: 946 repeat buyers, 1,411 one-off buyers
    assert list(g50["group"]) == ["one-off", "repeat"] and list(g50["customers"]) == [1411, 946]
    assert g50["estimate"].sum() == pytest.approx(narrow["estimate"].sum())
    assert (g99["lower"] < g50["lower"]).all() and (g50["lower"] < g50["estimate"]).all()


def test_bad_levels_are_usage_errors(cdnow) -> None:
    model = BetaGeoFitter().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    with pytest.raises(UsageError, match="between 0 and 1"):
        intervals(lambda m, rows: np.zeros(1), [model], 1, level=90)


def _coverage(truth, spend_truth, n_customers, reps) -> dict[str, float]:
    rng = np.random.default_rng(2024)
    hits = {"profile_purchases": 0, "cohort_purchases": 0, "profile_clv": 0}
    f0, r0, T0 = (np.array([v]) for v in PROFILE)
    for _ in range(reps):
        d = simulate_beta_geo(truth, n_customers, seed=rng)
        f, r, T = (d[c].to_numpy(float) for c in ("frequency", "recency", "T"))
        z = simulate_gamma_gamma(spend_truth, f, seed=rng)
        bg = BetaGeoFitter().fit(f, r, T)
        gg = GammaGammaFitter().fit(f, np.nan_to_num(z))
        true_params = truth
        targets = {
            "profile_purchases": (
                _purchases(52.0, f0, r0, T0),
                [bg],
                1,
                float(pred.beta_geo_conditional_expected(52.0, true_params, *PROFILE)),
            ),
            "cohort_purchases": (  # the total of a cohort: the first 250 customers
                _purchases(26.0, f, r, T),
                [bg],
                COHORT,
                float(pred.beta_geo_conditional_expected(26.0, true_params, f, r, T)[:COHORT].sum()),
            ),
        }
        true_spend = float(pred.gamma_gamma_expected_spend(spend_truth, 2.0, 40.0))
        true_clv = _true_clv(true_params, true_spend)
        targets["profile_clv"] = (
            lambda ms, rows: ms[0].customer_lifetime_value(
                f0, r0, T0, ms[1].expected_spend(np.array([2.0]), np.array([40.0])), months=12
            ),
            [bg, gg],
            1,
            true_clv,
        )
        for name, (fn, models, n, true_value) in targets.items():
            if name == "cohort_purchases":
                _, per = intervals(fn, models, n, n_draws=200, seed=rng, groups=np.zeros(n, dtype=int))
            else:
                per, _ = intervals(fn, models, n, n_draws=200, seed=rng)
            hits[name] += int(per.loc[0, "lower"] <= true_value <= per.loc[0, "upper"])
    return {k: v / reps for k, v in hits.items()}


def _true_clv(params, spend: float) -> float:
    """12-month discounted value (1% a month) of the profile at the true parameters, written out:
    expected purchases up to the end of each month (FHL 2005a eq. 10), differenced and discounted."""
    months = np.arange(13) * (365.25 / 12) / 7
    cum = np.array(
        [0.0] + [float(pred.beta_geo_conditional_expected(t, params, *PROFILE)) for t in months[1:]]
    )
    return float(np.sum(np.diff(cum) / 1.01 ** np.arange(1, 13)) * spend)


@pytest.mark.slow
def test_nominal_90_percent_intervals_cover_the_truth_about_90_percent_of_the_time() -> None:
    reps = 150
    coverage = _coverage(TRUTH, SPEND, 2000, reps)
    tolerance = 3 * np.sqrt(0.9 * 0.1 / reps)  # three binomial standard errors (0.073)
    for name, observed in coverage.items():
        assert abs(observed - 0.9) < tolerance, (name, observed)


def test_cli_predict_intervals_and_groups_in_json(tmp_path, cdnow, capsys) -> None:
    from typer.testing import CliRunner

    from trueroi.cli.main import build_app

    path = tmp_path / "summary.csv"
    frame = cdnow.rename(
        columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    )
    frame.assign(channel=np.where(frame["customer_id"] % 3 == 0, "Email", "Search")).to_csv(path, index=False)
    app = build_app()
    args = ["clv", "predict", str(path), "--summary", "--horizon", "39", "--draws", "100", "--format", "json"]
    result = CliRunner().invoke(app, [*args, "--interval", "0.9"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)[0]
    assert first["expected_purchases_lower"] < 1.226 < first["expected_purchases_upper"]
    assert first["clv_lower"] < first["clv"] < first["clv_upper"]
    result = CliRunner().invoke(app, [*args, "--group-by", "channel"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["interval"] == 0.9 and payload["draws"] == 100
    groups = {g["group"]: g for g in payload["groups"]}
    assert groups["Email"]["customers"] == int((frame["customer_id"] % 3 == 0).sum())
    assert sum(g["customers"] for g in groups.values()) == 2357
    for g in groups.values():
        assert g["expected_purchases_lower"] < g["expected_purchases"] < g["expected_purchases_upper"]
        assert g["clv_lower"] < g["clv"] < g["clv_upper"]

    from trueroi.cli.main import main

    with pytest.raises(SystemExit) as info:
        main([*args, "--group-by", "nope"])
    assert info.value.code == 2
    assert "nope" in capsys.readouterr().err
