"""The MMM's contract (scikit-learn style), its checks on bad input, and its outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trueroi.budget.curves import ResponseCurves
from trueroi.errors import DataValidationError, NotFittedError, UsageError
from trueroi.mmm import MMM
from trueroi.mmm.simulate import Simulation, simulate


def _fit(df: pd.DataFrame, sim: Simulation, **kw) -> MMM:
    return MMM(**{"method": "map", **kw}).fit(
        df, date="week", target="revenue", channels=sim.channels, controls=sim.controls
    )


def test_not_fitted_error_says_what_to_do() -> None:
    model = MMM()
    for call in (model.summary, model.decomposition, model.response_curves, model.media_parameters):
        with pytest.raises(NotFittedError, match="call fit"):
            call()


def test_init_only_stores_settings() -> None:
    model = MMM(adstock="weibull", draws=10, seed=7)
    assert model.get_params()["adstock"] == "weibull" and model.get_params()["seed"] == 7
    assert not hasattr(model, "posterior_")


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        (lambda df: df.assign(channel_1=5.0), "channel_1", "constant"),
        (lambda df: df.assign(control_0=1.0), "control_0", "constant"),
        (lambda df: df.head(15), None, "too few periods"),
        (lambda df: df.assign(channel_2=df.channel_2.where(df.index != 7)), "channel_2", "missing"),
        (lambda df: df.assign(revenue=df.revenue.where(df.index != 3)), "revenue", "missing"),
        (lambda df: df.assign(channel_0=df.channel_0.where(df.index != 4, -10.0)), "channel_0", "negative"),
        (lambda df: df.drop(columns="channel_3"), "channel_3", "unknown column"),
        (lambda df: df.drop(index=10), "week", "breaks the series"),
        (lambda df: df.assign(week="not a date"), "week", "not a date"),
    ],
)
def test_bad_input_gives_a_clear_error(sim: Simulation, change, column: str | None, message: str) -> None:
    with pytest.raises(DataValidationError, match=message) as info:
        _fit(change(sim.df.copy()), sim)
    assert info.value.column == column
    if message in ("missing", "negative"):
        assert info.value.row is not None


def test_unknown_components_and_settings_are_usage_errors(sim: Simulation) -> None:
    for kw in ({"adstock": "exp"}, {"saturation": "tanh"}, {"method": "vi"}, {"prior": "flat"}):
        with pytest.raises(UsageError):
            _fit(sim.df, sim, **kw)


def test_fit_returns_self_with_learned_attributes(fitted: MMM, sim: Simulation) -> None:
    assert isinstance(fitted, MMM)
    post = fitted.posterior_
    assert post["roi"].shape == (1, 200, len(sim.channels))  # (chain, draw, channel)
    assert post["adstock_alpha"].min() > 0 and post["adstock_alpha"].max() < 1
    assert fitted.fit_seconds_ > 0


def test_summary_follows_the_cli_contract(fitted: MMM, sim: Simulation) -> None:
    summary = fitted.summary()
    assert list(summary) == [
        "channels",
        "diagnostics",
        "fit_seconds",
        "kpi",
        "roi_basis",
        "margin_rate",
        "roi_note",
    ]
    assert list(summary["channels"]) == sim.channels
    for s in summary["channels"].values():
        assert set(s) == {"spend", "contribution", "roi", "roas", "mroi", "mroas"}
        for key in ("contribution", "roas", "mroas"):
            assert s[key]["lower"] <= s[key]["mean"] <= s[key]["upper"]
    assert set(summary["diagnostics"]) == {
        "r_hat_max",
        "ess_bulk_min",
        "divergences",
        "r2",
        "mape",
        "holdout_mape",
        "trusted",  # added by issue 22 (sampler health)
        "trust_problems",
        "target_accept",
    }
    # spend is the training spend, summed by hand from the data (the last 8 weeks are the holdout)
    assert summary["channels"]["channel_0"]["spend"] == pytest.approx(sim.df.channel_0.iloc[:-8].sum())


def test_fit_quality_on_simulated_data(fitted: MMM) -> None:
    d = fitted.diagnostics_
    # the simulator's noise is 4% of mean revenue: a right model fits to a few percent, in and out of sample
    assert d["r2"] > 0.8 and d["mape"] < 0.06 and d["holdout_mape"] < 0.10
    assert 0.7 < d["ppc_coverage_90"] <= 1.0


def test_decomposition_adds_up(fitted: MMM, sim: Simulation) -> None:
    dec = fitted.decomposition()
    parts = dec[["baseline", *sim.controls, *sim.channels]].sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-9)
    assert (dec["baseline"] > 0).all()  # the baseline is never negative
    assert (dec[sim.channels] >= 0).all().all()
    assert dec["holdout"].sum() == 8


def test_response_curves_satisfy_the_budget_contract(fitted: MMM, sim: Simulation) -> None:
    curves = fitted.response_curves(reference_weeks=4)
    assert isinstance(curves, ResponseCurves)
    assert curves.channels == sim.channels and curves.n_draws == 200 and curves.kpi == "revenue"
    np.testing.assert_allclose(curves.current_spend, sim.df[sim.channels].iloc[-12:-8].mean().to_numpy())
    grid = np.stack([curves.current_spend * f for f in (0.0, 0.5, 1.0, 2.0)])  # (4, C)
    resp = curves.weekly_response(grid)
    assert resp.shape == (200, 4, len(sim.channels))
    assert np.all(resp[:, 0] == 0) and np.all(np.diff(resp, axis=1) >= 0)  # zero at zero, increasing


def test_plan_response_settles_at_the_weekly_response(fitted: MMM) -> None:
    # with normalised adstock, flat spend held longer than l_max weeks reaches the steady state exactly
    curves = fitted.response_curves()
    plan = np.tile(curves.current_spend, (fitted.l_max + 3, 1))
    by_week = curves.plan_response(plan)
    assert by_week.shape == (200, plan.shape[0], len(curves.channels))
    np.testing.assert_allclose(by_week[:, -1], curves.weekly_response(curves.current_spend), rtol=1e-6)
    assert np.all(by_week[:, 0] <= by_week[:, -1] + 1e-9)  # carry-over builds up


def test_plan_response_over_history_matches_the_contributions(fitted: MMM, sim: Simulation) -> None:
    # two code paths: the curves on the training spend and the model's own contributions
    curves = fitted.response_curves()
    history = sim.df[sim.channels].to_numpy()[:-8]
    total = curves.plan_response(history).sum(axis=1).mean(axis=0)
    expected = [fitted.summary()["channels"][c]["contribution"]["mean"] for c in sim.channels]
    np.testing.assert_allclose(total, expected, rtol=1e-6)


def test_same_seed_same_result(sim: Simulation) -> None:
    short = sim.df.head(60)
    a = _fit(short, sim, seed=4).summary()["channels"]
    b = _fit(short, sim, seed=4).summary()["channels"]
    assert a == b


def test_warnings_in_words(sim: Simulation) -> None:
    df = sim.df.copy()
    df["channel_4"] = 1000.0 + (np.arange(len(df)) % 2)  # barely varies
    model = _fit(df, sim)
    assert any("channel_4 has too little spend variation" in w for w in model.warnings_)
    assert any("MAP" in w for w in model.warnings_)


def test_daily_model_answers_in_weekly_units() -> None:
    sim = simulate(seed=2, n_periods=120, rois=(2.0, 1.0))
    df = sim.df.assign(week=pd.date_range("2023-01-02", periods=120, freq="D"))  # the same series, daily
    model = MMM(method="map", l_max=4).fit(df, date="week", target="revenue", channels=sim.channels)
    assert model.data_.period_days == 1
    curves = model.response_curves(reference_weeks=2)
    # current weekly spend = 7 x the mean daily spend of the last 14 days
    np.testing.assert_allclose(curves.current_spend, 7 * df[sim.channels].iloc[-14:].mean().to_numpy())
    flat = curves.plan_response(np.tile(curves.current_spend, (3, 1)))  # 21 days > l_max: settled
    np.testing.assert_allclose(flat[:, -1], curves.weekly_response(curves.current_spend), rtol=1e-6)


def test_sampler_warnings_in_words(fitted: MMM) -> None:
    import copy

    from trueroi.mmm.checks import fit_warnings

    bad = copy.copy(fitted)
    bad.method = "nuts"
    bad.diagnostics_ = {**fitted.diagnostics_, "divergences": 7, "r_hat_max": 1.31, "ess_bulk_min": 42.0}
    text = " ".join(fit_warnings(bad))
    assert "7 divergent transitions" in text
    assert "R-hat up to 1.310" in text and "not converged" in text
    assert "effective sample size down to 42" in text
    assert "LAPLACE" not in text
