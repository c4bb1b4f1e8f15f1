"""A small fitted model shared by the tests of one module (Laplace: seconds, not minutes)."""

from __future__ import annotations

import pytest

from trueroi.mmm import MMM
from trueroi.mmm.simulate import Simulation, simulate


@pytest.fixture(scope="session")
def sim() -> Simulation:
    return simulate(seed=3, n_periods=112)


@pytest.fixture(scope="session")
def fitted(sim: Simulation) -> MMM:
    model = MMM(method="laplace", draws=200, holdout_periods=8, seed=0)
    return model.fit(sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls)
