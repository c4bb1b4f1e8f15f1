"""Every registered component and prior style fits end to end; events enter the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from trueroi.mmm import MMM
from trueroi.mmm.simulate import simulate


@pytest.mark.parametrize(
    ("adstock", "saturation", "prior"),
    [("delayed", "logistic", "roi"), ("weibull", "michaelis_menten", "coef"), ("weibull_cdf", "hill", "roi")],
)
def test_components_fit_end_to_end(adstock: str, saturation: str, prior: str) -> None:
    sim = simulate(seed=8, n_periods=70, rois=(2.0, 1.0, 0.5))
    model = MMM(adstock=adstock, saturation=saturation, prior=prior, method="map", l_max=6)
    model.fit(sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls)
    params = model.media_parameters()
    assert set(params["parameter"]) >= {f"adstock_{p}" for p in model.spec_.adstock.params}
    assert model.diagnostics_["r2"] > 0.6  # simulated with 4% noise; every component can fit it reasonably
    for s in model.summary()["channels"].values():
        assert s["roas"]["mean"] > 0 and np.isfinite(s["mroas"]["mean"])


def test_event_dummies_lift_the_baseline() -> None:
    sim = simulate(seed=9, n_periods=90)
    df = sim.df.copy()
    event = np.zeros(len(df))
    event[[10, 30, 50, 70, 85]] = 1.0
    df["promo"] = event
    df["revenue"] = df["revenue"] * (1 + 0.25 * event)  # +25% revenue in promo weeks
    model = MMM(method="map").fit(df, date="week", target="revenue", channels=sim.channels, events=["promo"])
    coef = float(model.posterior_["event"].reshape(-1)[0])
    # the baseline carries about 60% of revenue, so +25% revenue is about log(1 + 0.25 / 0.6) = 0.35 on it
    assert 0.15 < coef < 0.6
