"""Fitters and predictions: parameter recovery on simulated data, closed forms against the papers'
original expressions and Monte Carlo, and invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from trueroi.clv import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from trueroi.clv import predictions as pred
from trueroi.clv.simulate import simulate_beta_geo, simulate_bgbb, simulate_gamma_gamma, simulate_pareto_nbd
from trueroi.errors import DataValidationError, UsageError


def _assert_recovers(model, truth, n_se=4.0) -> None:
    for name, value in zip(model.param_names, truth, strict=True):
        est, se = model.params_[name], model.standard_errors_[name]
        assert np.isfinite(se) and se > 0, name
        assert abs(est - value) < n_se * se, (name, est, value, se)


def test_bgnbd_recovers_simulated_parameters() -> None:
    truth = (0.25, 4.4, 0.8, 2.4)
    d = simulate_beta_geo(truth, 20_000, seed=1)
    _assert_recovers(BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"]), truth)


def test_mbgnbd_recovers_simulated_parameters() -> None:
    truth = (0.5, 6.0, 0.9, 1.6)
    d = simulate_beta_geo(truth, 20_000, modified=True, seed=2)
    _assert_recovers(ModifiedBetaGeoFitter().fit(d["frequency"], d["recency"], d["T"]), truth)


def test_pareto_nbd_recovers_simulated_parameters() -> None:
    truth = (0.55, 10.5, 0.6, 11.7)
    d = simulate_pareto_nbd(truth, 20_000, seed=3)
    _assert_recovers(ParetoNBDFitter().fit(d["frequency"], d["recency"], d["T"]), truth)


def test_bgbb_recovers_simulated_parameters() -> None:
    truth = (1.2, 0.75, 0.66, 2.8)
    d = simulate_bgbb(truth, 30_000, seed=4)
    _assert_recovers(BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["n_periods"]), truth)


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    truth = (6.25, 3.74, 15.44)
    d = simulate_beta_geo((0.5, 4.4, 0.8, 2.4), 20_000, seed=5)
    z = simulate_gamma_gamma(truth, d["frequency"], seed=6)
    _assert_recovers(GammaGammaFitter().fit(d["frequency"], z), truth)


def test_bgnbd_conditional_expectation_matches_paper_form() -> None:
    # FHL 2005a eq. 10 as printed, evaluated with scipy's hyp2f1 for moderate x
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    for x, t_x, T, t in [(0, 0.0, 38.86, 39.0), (1, 1.71, 38.86, 10.0), (7, 29.43, 38.86, 52.0)]:
        z = t / (alpha + T + t)
        bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        denom = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        expected = (a + b + x - 1) / (a - 1) * bracket / denom
        got = pred.beta_geo_conditional_expected(t, (r, alpha, a, b), x, t_x, T)
        assert got == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (BetaGeoFitter, (0.3, 4.0, 0.8, 2.4)),
        (ModifiedBetaGeoFitter, (0.5, 6.0, 0.9, 1.6)),
        (ParetoNBDFitter, (0.55, 10.5, 0.6, 11.7)),
    ],
)
def test_a_brand_new_customer_expects_the_unconditional_curve(model, params) -> None:
    fitted = model()
    fitted.params_ = dict(zip(fitted.param_names, params, strict=True))
    t = np.array([1.0, 10.0, 52.0])
    np.testing.assert_allclose(
        fitted.predict_purchases(t, 0, 0.0, 1e-10), fitted.expected_purchases(t), rtol=1e-6
    )


@pytest.mark.parametrize(
    ("simulate", "model", "params"),
    [
        (lambda p, n, T, s: simulate_beta_geo(p, n, T=T, seed=s), BetaGeoFitter, (0.3, 4.0, 0.8, 2.4)),
        (
            lambda p, n, T, s: simulate_beta_geo(p, n, T=T, modified=True, seed=s),
            ModifiedBetaGeoFitter,
            (0.5, 6.0, 0.9, 1.6),
        ),
        (lambda p, n, T, s: simulate_pareto_nbd(p, n, T=T, seed=s), ParetoNBDFitter, (0.55, 10.5, 0.6, 11.7)),
    ],
)
def test_unconditional_expectation_matches_monte_carlo(simulate, model, params) -> None:
    fitted = model()
    fitted.params_ = dict(zip(fitted.param_names, params, strict=True))
    for horizon in (5.0, 40.0):
        sim = simulate(params, 200_000, horizon, 7)
        se = sim["frequency"].std() / np.sqrt(len(sim))
        assert abs(sim["frequency"].mean() - float(fitted.expected_purchases(horizon))) < 4 * se


def test_bgbb_unconditional_expectation_matches_monte_carlo() -> None:
    params = (1.2, 0.75, 0.66, 2.8)
    sim = simulate_bgbb(params, 200_000, n_periods=6, seed=8)
    se = sim["frequency"].std() / np.sqrt(len(sim))
    assert abs(sim["frequency"].mean() - float(pred.bgbb_expected(6, params))) < 4 * se


def _timelines(kind, params, n, T, horizon, rng):
    """Full purchase timelines over ``T + horizon``: calibration summary at ``T`` and holdout counts."""
    span = T + horizon
    if kind == "pareto":
        r, alpha, s, beta = params
        lam = rng.gamma(r, 1 / alpha, n)
        death = rng.exponential(1 / rng.gamma(s, 1 / beta, n))
        allowed = np.full(n, np.iinfo(np.int64).max)
    else:
        r, alpha, a, b = params
        lam, death = rng.gamma(r, 1 / alpha, n), np.full(n, np.inf)
        allowed = rng.geometric(rng.beta(a, b, n)) - (1 if kind == "mbgnbd" else 0)
    x, t_x, hold = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        times = np.sort(rng.uniform(0, span, rng.poisson(lam[i] * span)))
        times = times[times < death[i]][: allowed[i]]
        cal = times[times <= T]
        x[i], t_x[i] = len(cal), (cal[-1] if len(cal) else 0.0)
        hold[i] = len(times) - len(cal)
    return x, t_x, hold


@pytest.mark.parametrize(
    ("kind", "params", "predict"),
    [
        ("bgnbd", (0.3, 4.0, 0.8, 2.4), pred.beta_geo_conditional_expected),
        (
            "mbgnbd",
            (0.5, 6.0, 0.9, 1.6),
            lambda t, p, x, tx, T: pred.beta_geo_conditional_expected(t, p, x, tx, T, modified=True),
        ),
        ("pareto", (0.55, 10.5, 0.6, 11.7), pred.pareto_conditional_expected),
    ],
)
def test_conditional_expectations_add_up_to_the_holdout_purchases(kind, params, predict) -> None:
    # E[sum_i Y_i] = sum_i E[Y_i | history_i]: simulated holdout totals against summed predictions
    T, horizon = 30.0, 20.0
    x, t_x, hold = _timelines(kind, params, 30_000, T, horizon, np.random.default_rng(9))
    predicted = predict(horizon, params, x, t_x, T)
    assert abs(hold.sum() - predicted.sum()) < 4 * hold.std() * np.sqrt(len(hold))
    for group in (0, 1, 3):  # also by calibration frequency, as in FHL 2005a figure 4
        sel = x == group
        assert abs(hold[sel].mean() - predicted[sel].mean()) < 4 * hold[sel].std() / np.sqrt(sel.sum())


def test_unknown_model_name_is_a_usage_error() -> None:
    from trueroi.clv import get_model

    with pytest.raises(UsageError, match="bgnbd"):
        get_model("nbd")


_params = st.tuples(*[st.floats(0.05, 20.0) for _ in range(4)])
_history = st.tuples(st.integers(0, 200), st.floats(0.0, 1.0), st.floats(0.1, 500.0))


@settings(max_examples=60, deadline=None)
@given(params=_params, history=_history)
def test_probability_alive_lies_in_unit_interval(params, history) -> None:
    x, frac, T = history
    t_x = frac * T if x > 0 else 0.0
    for p in (
        pred.beta_geo_p_alive(params, x, t_x, T),
        pred.beta_geo_p_alive(params, x, t_x, T, modified=True),
        pred.pareto_p_alive(params, x, t_x, T),
    ):
        assert 0.0 <= float(p) <= 1.0


@settings(max_examples=40, deadline=None)
@given(params=_params, history=_history, t1=st.floats(0.1, 100.0), extra=st.floats(0.1, 100.0))
@example(params=(1.0, 1.0, 2.0, 1.0), history=(98, 0.0, 0.125), t1=11.0, extra=1.0)  # scipy hyp2f1 gave inf
def test_expected_purchases_increase_with_the_horizon(params, history, t1, extra) -> None:
    x, frac, T = history
    t_x = frac * T if x > 0 else 0.0
    if abs(params[2] - 1.0) < 1e-3:  # (a - 1) in the denominator of the BG/NBD closed forms
        return
    for f in (
        lambda t: pred.beta_geo_conditional_expected(t, params, x, t_x, T),
        lambda t: pred.beta_geo_conditional_expected(t, params, x, t_x, T, modified=True),
        lambda t: pred.pareto_conditional_expected(t, params, x, t_x, T),
    ):
        short, long = float(f(t1)), float(f(t1 + extra))
        assert np.isfinite(short) and short >= 0
        assert long >= short * (1 - 1e-9)


@settings(max_examples=40, deadline=None)
@given(
    params=st.tuples(*[st.floats(0.1, 20.0) for _ in range(4)]),
    n=st.integers(1, 20),
    x_frac=st.floats(0, 1),
    n_star=st.integers(1, 30),
)
def test_bgbb_probability_alive_and_expectations_are_sane(params, n, x_frac, n_star) -> None:
    if abs(params[2] - 1.0) < 1e-3:
        return
    x = int(round(x_frac * n))
    t_x = n if x > 0 else 0
    p = float(pred.bgbb_p_alive(params, x, t_x, n))
    assert 0.0 <= p <= 1.0
    e1, e2 = (float(pred.bgbb_conditional_expected(k, params, x, t_x, n)) for k in (n_star, n_star + 5))
    assert 0.0 <= e1 <= e2 * (1 + 1e-9) and e2 <= n_star + 5


def test_bgnbd_prediction_stays_finite_in_the_constant_dropout_limit() -> None:
    """With a, b -> inf at fixed p = a/(a+b), BG/NBD becomes a fixed dropout probability p after each
    purchase; its conditional expectation tends to [1 - ((alpha+T)/(alpha+T+p t))^(r+x)] / p (derived by
    taking the hypergeometric series termwise). The exact formula must approach it, and where the
    hypergeometric overflows the prediction must be that limit, not NaN."""
    from trueroi.clv.predictions import beta_geo_conditional_expected, beta_geo_p_alive

    r, alpha, p = 0.4, 8.6, 0.63
    x, t_x, T, t = np.array([0.0, 1.0, 3.0]), np.array([0.0, 10.0, 40.0]), np.array([50.0, 60.0, 80.0]), 52.0

    def limit(a: float, b: float) -> np.ndarray:
        alive = beta_geo_p_alive((r, alpha, a, b), x, t_x, T)
        return (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p * alive

    a = 300.0
    b = a * (1 - p) / p
    moderate = beta_geo_conditional_expected(t, (r, alpha, a, b), x, t_x, T)
    np.testing.assert_allclose(moderate, limit(a, b), rtol=0.02)  # already close at a = 300
    a = 1.26e6
    b = a * (1 - p) / p
    huge = beta_geo_conditional_expected(t, (r, alpha, a, b), x, t_x, T)
    assert np.isfinite(huge).all()
    np.testing.assert_allclose(huge, limit(a, b), rtol=1e-4)


@pytest.mark.parametrize("model", [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter])
def test_customers_first_seen_on_the_last_day_change_nothing_in_the_fit(cdnow, model) -> None:
    # their likelihood is 1 for every parameter value (test_likelihoods), so the maximum stays where it was
    f, r, T = (cdnow[c].to_numpy(float) for c in ("x", "t_x", "T"))
    plain = model().fit(f, r, T)
    with_new = model().fit(np.r_[f, 0, 0], np.r_[r, 0, 0], np.r_[T, 0, 0])
    assert with_new.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)
    for name, value in plain.params_.items():
        assert with_new.params_[name] == pytest.approx(value, rel=1e-5)
    # such a customer is a brand-new one: its expectation is the unconditional curve (FHL 2005a eq. 9)
    t = np.array([1.0, 10.0, 52.0])
    np.testing.assert_allclose(with_new.predict_purchases(t, 0, 0.0, 0.0), with_new.expected_purchases(t))
    a, b = with_new.params_.get("a"), with_new.params_.get("b")
    # alive for sure under BG/NBD and Pareto/NBD; MBG/NBD may drop out at the first purchase: b / (a + b)
    alive = b / (a + b) if model is ModifiedBetaGeoFitter else 1.0
    assert with_new.probability_alive(0, 0.0, 0.0) == pytest.approx(alive, rel=1e-12)


def test_a_fit_where_every_customer_is_brand_new_is_refused() -> None:
    with pytest.raises(DataValidationError, match="T = 0"):
        BetaGeoFitter().fit([0, 0, 0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
