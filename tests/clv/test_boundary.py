"""BG/NBD and MBG/NBD at the edge of their parameter space: no heterogeneity in dropout or purchase rate.

Expected values come from outside the fitting code: data simulated with a known constant dropout
probability or purchase rate (the truth the reduced model must recover), the full likelihood evaluated
along the ridge ``a, b -> inf`` (the supremum the reported log-likelihood must equal), the exact closed forms
of FHL 2005a at large but finite shapes (the limits must agree with them), finite differences (gradients),
and lifetimes 0.11.3 run in the same test (its failure is observed, not assumed).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from trueroi.clv import BetaGeoFitter, ModifiedBetaGeoFitter, limits
from trueroi.clv import predictions as pred
from trueroi.clv.likelihoods import RFMData, beta_geo_loglik
from trueroi.clv.simulate import simulate_beta_geo

HUGE = 1e12  # Beta(p * HUGE, (1 - p) * HUGE) draws p itself: a constant dropout probability


def _constant_dropout(r, alpha, p, n, seed) -> pd.DataFrame:
    return simulate_beta_geo((r, alpha, p * HUGE, (1 - p) * HUGE), n, seed=seed)


def _within(est: float, se: float, truth: float, n_se: float = 4.0) -> bool:
    return np.isfinite(se) and se > 0 and abs(est - truth) < n_se * se


@pytest.fixture(scope="module")
def constant_dropout() -> pd.DataFrame:
    # truth: r = 0.4, alpha = 8, p = 0.6 (seed 1: lifetimes does not converge on it, see below)
    return _constant_dropout(0.4, 8.0, 0.6, 5000, seed=1)


def test_constant_dropout_is_detected_and_the_truth_recovered(constant_dropout) -> None:
    d = constant_dropout
    model = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    assert model.diagnostics_["boundary"] == ["dropout"]
    assert model.params_["a"] == np.inf and model.params_["b"] == np.inf
    assert list(model.reduced_params_) == ["r", "alpha", "p"]
    se = model.reduced_standard_errors_
    for name, truth in (("r", 0.4), ("alpha", 8.0), ("p", 0.6)):
        assert _within(model.reduced_params_[name], se[name], truth), name
    assert model.params_["r"] == model.reduced_params_["r"]
    assert any("a, b -> inf" in w and "constant dropout" in w for w in model.warnings_)


def test_the_reported_log_likelihood_is_the_supremum_along_the_ridge(constant_dropout) -> None:
    d = constant_dropout
    model = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    data = RFMData.from_arrays(d["frequency"], d["recency"], d["T"])
    r, alpha, p = (model.reduced_params_[k] for k in ("r", "alpha", "p"))
    along = [beta_geo_loglik((r, alpha, p * k, (1 - p) * k), data)[0] for k in (1e2, 1e3, 1e4, 1e6)]
    # the full model's likelihood climbs towards the reported value as the concentration a + b grows
    assert np.all(np.diff(along) > 0)
    assert all(v <= model.log_likelihood_ + 1e-6 for v in along)
    assert model.log_likelihood_ - along[-1] < 1e-3
    # and no finite point the full fit found beats it by more than the tolerance
    assert model.diagnostics_["interior_log_likelihood"] <= model.log_likelihood_ + 1e-3
    test = model.diagnostics_["tested"][0]
    assert test["limits"] == ["dropout"] and 0.0 <= test["p_value"] <= 1.0


def test_homogeneous_purchase_rate_is_detected_by_mbgnbd() -> None:
    # every customer buys 0.1 times a week (r = 0.1 * HUGE, alpha = HUGE); dropout Beta(0.9, 1.6)
    d = simulate_beta_geo((0.1 * HUGE, HUGE, 0.9, 1.6), 8000, modified=True, seed=6)
    model = ModifiedBetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    assert model.diagnostics_["boundary"] == ["purchase_rate"]
    se = model.reduced_standard_errors_
    for name, truth in (("lambda", 0.1), ("a", 0.9), ("b", 1.6)):
        assert _within(model.reduced_params_[name], se[name], truth), name


def test_a_maximum_just_inside_the_boundary_is_reported_with_its_test() -> None:
    # Same population, another sample: with one boundary parameter the MLE lies inside about half the time
    # (Self & Liang 1987). The fit keeps the interior maximum and says the heterogeneity is not significant.
    d = simulate_beta_geo((0.1 * HUGE, HUGE, 0.9, 1.6), 8000, modified=True, seed=5)
    model = ModifiedBetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    assert model.diagnostics_["boundary"] == []
    test = model.diagnostics_["tested"][0]
    assert test["limits"] == ["purchase_rate"] and test["p_value"] > 0.05
    assert model.params_["r"] > 100 and model.params_["r"] / model.params_["alpha"] == pytest.approx(
        0.1, rel=0.05
    )
    assert any("not significant" in w for w in model.warnings_)


def test_cdnow_is_interior_and_carries_no_warning(cdnow) -> None:
    model = BetaGeoFitter().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert model.diagnostics_["boundary"] == [] and model.warnings_ == []
    assert not hasattr(model, "reduced_params_")


@pytest.mark.parametrize("modified", [False, True])
@pytest.mark.parametrize(
    ("rate", "dropout"), [((0.06,), (0.8, 2.5)), ((0.3, 5.0), (0.35,)), ((0.06,), (0.35,))]
)
def test_reduced_gradient_is_exact(modified, rate, dropout) -> None:
    d = simulate_beta_geo((0.3, 5.0, 0.8, 2.5), 300, seed=11)
    data = RFMData.from_arrays(d["frequency"], d["recency"], d["T"])
    theta = np.array([*rate, *dropout])
    n = len(rate)

    def f(th):
        return limits.reduced_loglik(tuple(th[:n]), tuple(th[n:]), data, modified=modified)[0]

    numeric = []
    for j in range(len(theta)):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        numeric.append((f(up) - f(down)) / (2 * h))
    _, grad = limits.reduced_loglik(rate, dropout, data, modified=modified)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("modified", [False, True])
def test_limit_predictions_agree_with_the_exact_formulas_at_large_shapes(modified) -> None:
    # FHL 2005a eqs. 9, 10, 13 (Batislam et al. 2007 for MBG) evaluated at K = 1e5 times the limit scales
    lam, p, r, alpha, a, b, k = 0.06, 0.35, 0.3, 5.0, 0.8, 2.5, 1e5
    x, t_x, T = np.array([0.0, 1.0, 4.0]), np.array([0.0, 5.0, 30.0]), np.array([20.0, 33.0, 38.0])
    cases = [
        ((lam,), (a, b), (lam * k, k, a, b)),
        ((r, alpha), (p,), (r, alpha, p * k, (1 - p) * k)),
        ((lam,), (p,), (lam * k, k, p * k, (1 - p) * k)),
    ]
    for rate, dropout, full in cases:
        np.testing.assert_allclose(
            limits.conditional_expected(26.0, rate, dropout, x, t_x, T, modified=modified),
            pred.beta_geo_conditional_expected(26.0, full, x, t_x, T, modified=modified),
            rtol=1e-3,
        )
        np.testing.assert_allclose(
            limits.p_alive(rate, dropout, x, t_x, T, modified=modified),
            pred.beta_geo_p_alive(full, x, t_x, T, modified=modified),
            rtol=1e-3,
        )
        t = np.array([4.0, 52.0])
        np.testing.assert_allclose(
            limits.expected(t, rate, dropout, modified=modified),
            pred.beta_geo_expected(t, full, modified=modified),
            rtol=1e-3,
        )


def test_constant_rate_and_dropout_expectation_matches_monte_carlo() -> None:
    # E[X(t)] of a new customer with rate lambda and dropout p after each purchase: (1 - e^(-lambda p t)) / p
    lam, p, t = 0.2, 0.3, 40.0
    sim = simulate_beta_geo((lam * HUGE, HUGE, p * HUGE, (1 - p) * HUGE), 200_000, T=t, seed=12)
    hand = (1 - np.exp(-lam * p * t)) / p
    se = sim["frequency"].std() / np.sqrt(len(sim))
    assert abs(sim["frequency"].mean() - hand) < 4 * se
    assert float(limits.expected(t, (lam,), (p,))) == pytest.approx(hand, rel=1e-12)


def test_no_dropout_at_all_is_reported(tmp_path) -> None:
    # 7 customers buying like clockwork: same rate and nobody drops out (p at its own bound 0)
    from trueroi.clv.data import rfm_summary

    rows = [(f"00{i % 7}", f"2024-0{1 + i % 6}-1{i % 9}") for i in range(60)]
    summary = rfm_summary(pd.DataFrame(rows, columns=["customer_id", "date"]), unit="D")
    model = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    assert "no_dropout" in model.diagnostics_["boundary"]
    assert model.reduced_params_["p"] < 1e-6
    assert any("no customer is seen to drop out" in w for w in model.warnings_)
    # 53 repeat purchases over the customers' 1,108 days of observed life: the Poisson rate estimate
    assert model.reduced_params_["lambda"] == pytest.approx(
        summary["frequency"].sum() / summary["T"].sum(), rel=1e-4
    )


# --- converging where lifetimes fails ---------------------------------------------------------------------


def _lifetimes_fit(cls_name: str, d: pd.DataFrame, **kwargs):
    lifetimes = pytest.importorskip("lifetimes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(lifetimes, cls_name)(**kwargs).fit(d["frequency"], d["recency"], d["T"])


@pytest.mark.parametrize("seed", [1, 3])
def test_lifetimes_fails_on_constant_dropout_where_trueroi_recovers_the_truth(seed) -> None:
    from lifetimes.fitters import ConvergenceError as LifetimesConvergenceError

    truth = {1: (0.4, 8.0, 0.6), 3: (0.25, 4.4, 0.25)}[seed]
    d = _constant_dropout(*truth, 5000, seed=seed)
    with pytest.raises(LifetimesConvergenceError):
        _lifetimes_fit("BetaGeoFitter", d)
    model = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    for name, value in zip(("r", "alpha", "p"), truth, strict=True):
        assert _within(model.reduced_params_[name], model.reduced_standard_errors_[name], value), name
    # lifetimes' own advice, a penalizer, makes it converge, but to a worse (biased) likelihood
    penalized = _lifetimes_fit("BetaGeoFitter", d, penalizer_coef=0.01).params_
    data = RFMData.from_arrays(d["frequency"], d["recency"], d["T"])
    ll_peer = beta_geo_loglik([penalized[k] for k in ("r", "alpha", "a", "b")], data)[0]
    assert model.log_likelihood_ > ll_peer + 1.0


def test_lifetimes_fails_on_the_demo_shop_where_trueroi_converges(demo_shop) -> None:
    from lifetimes.fitters import ConvergenceError as LifetimesConvergenceError

    from trueroi.clv.data import rfm_summary
    from trueroi.clv.roi import order_margins

    tx = order_margins(demo_shop.ws)
    end = pd.Timestamp(pd.to_datetime(tx["date_day"]).max()) + pd.Timedelta(days=1)
    d = rfm_summary(tx, date_col="date_day", amount_col="margin", observation_end=end)
    for peer, ours in (("BetaGeoFitter", BetaGeoFitter), ("ModifiedBetaGeoFitter", ModifiedBetaGeoFitter)):
        with pytest.raises(LifetimesConvergenceError):
            _lifetimes_fit(peer, d)
        model = ours().fit(d["frequency"], d["recency"], d["T"])
        assert model.diagnostics_["boundary"]  # the demo's repeat orders show no beta-mixed dropout
        assert np.isfinite(model.log_likelihood_)
        assert all(np.isfinite(v) and v > 0 for v in model.reduced_params_.values())
        predicted = model.predict_purchases(52.0, d["frequency"], d["recency"], d["T"])
        assert np.isfinite(predicted).all() and (predicted >= 0).all()


@pytest.mark.slow
def test_pareto_nbd_on_the_demo_shop_stops_at_the_shape_caps_near_the_homogeneous_supremum(demo_shop) -> None:
    """Uncapped, this fit ran r, s -> 1e7 for 535 s. With constant purchase rate lambda and dropout rate mu
    the Pareto/NBD likelihood is, written out by hand,
    L = lambda^x [e^-(lambda+mu)T + mu (e^-(lambda+mu)t_x - e^-(lambda+mu)T) / (lambda+mu)];
    its maximum (scipy, two parameters) is the supremum the capped fit must approach from below."""
    from scipy.optimize import minimize

    from trueroi.clv import ParetoNBDFitter
    from trueroi.clv.data import rfm_summary
    from trueroi.clv.roi import order_margins

    tx = order_margins(demo_shop.ws)
    end = pd.Timestamp(pd.to_datetime(tx["date_day"]).max()) + pd.Timedelta(days=1)
    d = rfm_summary(tx, date_col="date_day", amount_col="margin", observation_end=end)
    x, t_x, T = (d[c].to_numpy(float) for c in ("frequency", "recency", "T"))

    def neg_ll(log_theta):
        lam, mu = np.exp(log_theta)
        k = lam + mu
        inner = np.exp(-k * T) + mu * (np.exp(-k * t_x) - np.exp(-k * T)) / k
        return -np.sum(x * np.log(lam) + np.log(inner))

    sup = -minimize(
        neg_ll, np.log([0.05, 0.01]), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10}
    ).fun
    model = ParetoNBDFitter().fit(x, t_x, T)
    assert model.diagnostics_["boundary"] == ["purchase_rate", "dropout"]
    assert any("reached its cap" in w for w in model.warnings_)
    assert sup - 0.05 < model.log_likelihood_ <= sup + 1e-6
