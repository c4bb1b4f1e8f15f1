"""Peer check: our ridge-augmented synthetic control against pysyncon's AugSynth (a port of R augsynth).

pysyncon balances units around the per-period control mean but has no unit fixed effects, so it is fed
series already demeaned by their pre-test means, which is what augsynth's ``fixedeff = TRUE`` (GeoLift's
default) does. With the same ridge penalty both compute Ben-Michael et al. (2021) eq. 14, so weights and
ATT must agree to solver precision; with each package's own cross-validated penalty the ATTs must agree
within a small share of our conformal interval.
"""

from __future__ import annotations

import numpy as np
import pysyncon
import pytest

from trueroi.experiments.geo import analyze_panel, fit_counterfactual
from trueroi.experiments.panel import prepare_panel
from trueroi.experiments.simulate import simulate_geo_panel


def _peer(sim, lam: float | None) -> tuple[float, np.ndarray, list[str]]:
    data = sim.data.copy()
    pre = data["date"] < sim.start
    data["kpi"] = data["kpi"] - data["location"].map(data[pre].groupby("location")["kpi"].mean())
    data["t"] = (data["date"] - data["date"].min()).dt.days
    times = sorted(data["t"].unique())
    t0 = int(data.loc[~pre, "t"].min())
    controls = sorted(set(data["location"]) - set(sim.treated))
    prep = pysyncon.Dataprep(
        foo=data,
        predictors=[],
        predictors_op="mean",
        dependent="kpi",
        unit_variable="location",
        time_variable="t",
        treatment_identifier=sim.treated[0],
        controls_identifier=controls,
        time_predictors_prior=[t for t in times if t < t0],
        time_optimize_ssr=[t for t in times if t < t0],
    )
    model = pysyncon.AugSynth()
    model.fit(prep, lambda_=lam, use_covariates=False)
    att = model.att(time_period=[t for t in times if t >= t0])["att"]
    return float(att), np.asarray(model.W, dtype=float), controls


@pytest.mark.parametrize("seed", [0, 5])
def test_same_penalty_gives_the_same_weights_and_att(seed: int) -> None:
    sim = simulate_geo_panel(n_locations=15, n_periods=60, n_test=10, n_treated=1, effect=0.05, seed=seed)
    panel = prepare_panel(
        sim.data, location="location", date="date", kpi="kpi", treated=sim.treated, start=sim.start
    )
    ours, cf = fit_counterfactual(panel, "augsynth")
    att = float(np.mean(panel.y[panel.n_pre :] - cf[panel.n_pre :]))
    peer_att, peer_w, controls = _peer(sim, ours.lam_)
    assert controls == panel.locations
    assert ours.weights_ == pytest.approx(peer_w, abs=1e-5)
    assert att == pytest.approx(peer_att, abs=1e-5 * float(np.mean(panel.y)))


def test_own_cross_validation_gives_close_estimates() -> None:
    sim = simulate_geo_panel(n_locations=15, n_periods=60, n_test=10, n_treated=1, effect=0.05, seed=2)
    panel = prepare_panel(
        sim.data, location="location", date="date", kpi="kpi", treated=sim.treated, start=sim.start
    )
    result = analyze_panel(panel)
    peer_att, _, _ = _peer(sim, None)
    assert abs(result.att.mean - peer_att) < 0.25 * (result.att.upper - result.att.lower)
