"""Planning entry points: a holdout test's users against statsmodels, geo power and market selection."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

from trueroi.errors import UsageError
from trueroi.experiments.planning import choose_markets, geo_power, plan_holdout_test

from .helpers import exact_panel


@pytest.mark.parametrize("alternative", ["two-sided", "larger"])
def test_plan_matches_statsmodels_both_ways(alternative: str) -> None:
    plan = plan_holdout_test(0.03, lift=0.15, control_ratio=0.5, alternative=alternative)
    peer = samplesize_proportions_2indep_onetail(
        0.03 * 0.15, 0.03, 0.8, ratio=0.5, alpha=0.05, alternative=alternative
    )
    assert plan.test_users == math.ceil(peer)
    assert plan.control_users == math.ceil(plan.test_users * 0.5)
    back = plan_holdout_test(0.03, test_users=plan.test_users, control_ratio=0.5, alternative=alternative)
    # the detectable lift for those users needs exactly those users in the peer's formula
    assert samplesize_proportions_2indep_onetail(
        0.03 * back.lift, 0.03, 0.8, ratio=0.5, alpha=0.05, alternative=alternative
    ) == pytest.approx(plan.test_users, rel=1e-6)
    assert back.to_dict()["alternative"] == alternative


def test_plan_refusals_and_an_undetectable_lift() -> None:
    with pytest.raises(UsageError, match="either a lift"):
        plan_holdout_test(0.02)
    with pytest.raises(UsageError, match="either a lift"):
        plan_holdout_test(0.02, lift=0.1, test_users=100)
    hopeless = plan_holdout_test(0.5, test_users=3)  # even 0.5 -> 1.0 needs more users
    assert hopeless.rows()[0]["lift"] == math.inf and hopeless.to_dict()["lift"] is None


def test_power_on_an_exact_panel_reads_back_the_injected_effect(tmp_path) -> None:
    path, frame = exact_panel(tmp_path, effect=0.0)
    result = geo_power(
        path,
        location="region",
        date="day",
        kpi="orders",
        treated=["T"],
        duration=6,
        effects=[0.0, 0.3],
        n_windows=3,
        method="synth",
    )
    rows = result.rows()
    # the synthetic control matches T exactly, so each window's estimated lift is the injected effect
    assert [r["effect"] for r in rows] == [0.0, 0.3]
    assert [r["mean_lift"] for r in rows] == pytest.approx([0.0, 0.3], abs=1e-6)
    assert all(r["windows"] == 3 for r in rows)
    # baseline: T's KPI over the 6-day test of each window (ends at days 60, 58, 56), averaged
    t = frame[frame["region"] == "T"]["orders"].to_numpy()
    expected = np.mean([t[end - 6 : end].sum() for end in (60, 58, 56)])
    assert rows[0]["baseline"] == pytest.approx(expected, rel=1e-6)
    out = result.to_dict()
    assert (out["treated"], out["duration"], out["method"]) == (["T"], 6, "synth")
    assert out["power"] == rows


def test_market_selection_keeps_the_top_sets_within_the_budget(tmp_path) -> None:
    path, _ = exact_panel(tmp_path)
    args = {"location": "region", "date": "day", "kpi": "orders", "duration": 6, "method": "synth"}
    best = choose_markets(path, effect=0.2, n_treated=1, n_candidates=4, n_windows=2, cpic=2.0, top=2, **args)
    rows = best.rows()
    assert [r["rank"] for r in rows] == [1, 2]
    for r in rows:  # investment = effect x counterfactual KPI x cost per incremental KPI
        assert r["investment"] == pytest.approx(0.2 * r["baseline"] * 2.0)
    assert best.to_dict()["markets"] == rows and best.to_dict()["effect"] == 0.2
    with pytest.raises(UsageError, match="no candidate fits the budget"):
        choose_markets(
            path, effect=0.2, n_treated=1, n_candidates=4, n_windows=2, cpic=2.0, budget=1.0, **args
        )
