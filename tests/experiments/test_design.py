"""Power by simulation and market selection, checked against injected effects and hand relations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trueroi.errors import DataValidationError, UsageError
from trueroi.experiments.design import candidate_sets, power_analysis, power_curve, select_markets
from trueroi.experiments.panel import load_wide
from trueroi.experiments.simulate import simulate_geo_panel

COLS = {"location": "location", "date": "date", "kpi": "kpi"}


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return simulate_geo_panel(n_locations=24, n_periods=140, n_test=1, n_treated=1, noise=0.08, seed=21).data


@pytest.mark.parametrize("method", ["augsynth", "tbr"])
def test_power_grows_with_effect(history: pd.DataFrame, method: str) -> None:
    table = power_analysis(
        history,
        treated=["L003", "L010"],
        duration=14,
        effects=(0.0, 0.02, 0.1, 0.3),
        n_windows=10,
        method=method,
        **COLS,
    )
    power = table.set_index("effect")["power"]
    assert power[0.0] <= 0.3  # alpha 0.1 over 10 overlapping windows
    assert power[0.1] >= power[0.02] - 0.1
    assert power[0.3] == 1.0
    # injecting e multiplies the test-period KPI: the estimated lift moves by e (1 + lift at zero)
    lift = table.set_index("effect")["mean_lift"]
    assert lift[0.1] - lift[0.0] == pytest.approx(0.1 * (1 + lift[0.0]), rel=1e-9)


@pytest.mark.parametrize("method", ["augsynth", "tbr"])
def test_power_simulation_recovers_the_injected_effect_across_histories(method: str) -> None:
    estimates = []
    for seed in range(12):
        sim = simulate_geo_panel(n_locations=20, n_periods=90, n_test=1, n_treated=2, noise=0.08, seed=seed)
        wide = load_wide(sim.data, **COLS)
        curve = power_curve(wide, sim.treated, duration=14, effects=(0.1,), n_windows=1, method=method)
        estimates.append(curve["mean_lift"].iloc[0])
    estimates = np.asarray(estimates)
    assert abs(estimates.mean() - 0.1) < 3 * estimates.std(ddof=1) / np.sqrt(len(estimates)) + 1e-3


def test_unrelated_market_has_less_power(history: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    noisy = history.copy()
    mask = noisy["location"] == "L004"
    noisy.loc[mask, "kpi"] = noisy.loc[mask, "kpi"].mean() * rng.lognormal(0, 0.3, mask.sum())
    wide = load_wide(noisy, **COLS)
    good = power_curve(wide, ["L003"], duration=14, effects=(0.05,), n_windows=10)
    bad = power_curve(wide, ["L004"], duration=14, effects=(0.05,), n_windows=10)
    assert good["power"].iloc[0] > bad["power"].iloc[0]
    assert bad["nrmse"].iloc[0] > 3 * good["nrmse"].iloc[0]


def test_candidate_sets_are_stratified_distinct_and_respect_include_exclude(history: pd.DataFrame) -> None:
    wide = load_wide(history, **COLS)
    sizes = wide.mean().sort_values()
    small, large = set(sizes.index[:8]), set(sizes.index[16:])
    sets = candidate_sets(wide, 3, 10, seed=1)
    assert len({tuple(s) for s in sets}) == len(sets) == 10
    for s in sets:  # one location from each third of the size distribution
        assert len(set(s) & small) == 1 and len(set(s) & large) == 1
    sets = candidate_sets(wide, 3, 5, include=["L000"], exclude=["L001", "L002"], seed=2)
    assert all("L000" in s and "L001" not in s and "L002" not in s for s in sets)
    with pytest.raises(UsageError, match="cannot choose"):
        candidate_sets(wide, 23, 5)


def test_select_markets_ranks_by_power_and_prices_the_test(history: pd.DataFrame) -> None:
    table = select_markets(
        history, n_treated=[2, 3], duration=14, effect=0.1, n_candidates=4, n_windows=4, cpic=5.0, **COLS
    )
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert (np.diff(table["power"].to_numpy()) <= 0).all()
    # investment = effect x counterfactual KPI over the test x cost per incremental KPI
    assert table["investment"].to_numpy() == pytest.approx(0.1 * table["baseline"].to_numpy() * 5.0)
    assert set(table["n_treated"]) == {2, 3}
    budget = float(table["investment"].median())
    within = select_markets(
        history,
        n_treated=[2, 3],
        duration=14,
        effect=0.1,
        n_candidates=4,
        n_windows=4,
        cpic=5.0,
        budget=budget,
        **COLS,
    )
    assert (within["investment"] <= budget).all() and len(within) < len(table)
    with pytest.raises(UsageError, match="budget"):
        select_markets(
            history,
            n_treated=2,
            duration=14,
            effect=0.1,
            n_candidates=2,
            n_windows=2,
            cpic=5.0,
            budget=1.0,
            **COLS,
        )


def test_design_refuses_impossible_requests(history: pd.DataFrame) -> None:
    with pytest.raises(UsageError, match="cannot hold"):
        power_analysis(history, treated=["L003"], duration=139, **COLS)
    with pytest.raises(UsageError, match="not in the data"):
        power_analysis(history, treated=["Paris"], duration=14, **COLS)
    with pytest.raises(UsageError, match="positive relative effect"):
        select_markets(history, effect=0.0, **COLS)
    with pytest.raises(DataValidationError, match="missing dates"):
        power_analysis(
            history[history["date"] != history["date"].iloc[500]], treated=["L003"], duration=14, **COLS
        )
