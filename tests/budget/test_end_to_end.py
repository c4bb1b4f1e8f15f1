"""End to end with known truth: simulate weekly data from Hill x geometric-adstock curves, fit trueroi's mix
model, optimise on its posterior curves, and value the plan under the TRUE curves (regret)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from trueroi.budget import ParametricCurves, optimize_budget
from trueroi.budget.optimizer import plan_regret
from trueroi.cli.main import build_app
from trueroi.mmm import MMM
from trueroi.mmm.simulate import simulate

pytestmark = pytest.mark.slow


def _truth(sim, current: np.ndarray) -> ParametricCurves:
    """The simulation's true weekly response: beta * hill(spend / spend_scale; half, slope). Adstock weights
    are normalised, so flat spend settles at itself and the steady state does not depend on the decay."""
    k = sim.media_params["sat_half"] * sim.spend_scale
    slope = sim.media_params["sat_slope"]
    return ParametricCurves(sim.channels, current, "hill", beta=sim.beta, k=k, s=slope)


def _fit(seed: int):
    sim = simulate(seed=seed)
    model = MMM(method="laplace", draws=300, seed=seed)
    return sim, model.fit(sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls)


def test_regret_of_plans_from_a_fitted_mix_model(tmp_path) -> None:
    regrets = []
    for seed in (0, 1, 2):
        sim, model = _fit(seed)
        curves = model.response_curves()
        total = float(curves.current_spend.sum())
        plan = optimize_budget(curves, total)
        result = plan_regret(_truth(sim, curves.current_spend), plan.allocation, total)
        # the plan, chosen from the fitted posterior only, beats the current allocation under the truth
        assert result["true_plan"] > result["true_current"]
        regrets.append(result["regret"])
    # Observed when written: 0.03, 0.22, 0.04 (seed 1's fit misreads two small channels). The median
    # plan keeps over 90% of the achievable gain.
    assert np.median(regrets) < 0.10

    # the CLI reaches the same plan from the saved model directory (no curves.json there)
    model.save(tmp_path / "model")
    args = ["budget", "optimize", str(tmp_path / "model"), "--total", str(total), "--format", "json"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    np.testing.assert_allclose([out["allocation"][c] for c in sim.channels], plan.allocation, rtol=1e-6)
