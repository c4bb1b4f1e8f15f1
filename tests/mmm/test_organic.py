"""Organic media and treatments: recovery of a simulated organic input's known contribution, the bias of
the paid ROI when it is left out, a promotion's known effect per unit, persistence and the budget planner.

Laplace fits (seconds): the claims are about point estimates and 90% intervals of a well-identified model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trueroi.mmm import MMM
from trueroi.mmm.simulate import Simulation, simulate

ROIS = (2.5, 1.2, 0.6)
PROMO_LIFT = 3_000.0  # revenue per promotion week, added by hand below


@pytest.fixture(scope="module")
def sim() -> Simulation:
    """Three paid channels and one organic input adding 15% of the baseline's revenue, plus a promotion
    dummy worth PROMO_LIFT a week."""
    sim = simulate(seed=11, n_periods=156, rois=ROIS, organic=0.15)
    promo = (np.random.default_rng(5).uniform(size=156) < 0.25).astype(float)
    sim.df["promo"] = promo
    sim.df["revenue"] = sim.df["revenue"] + PROMO_LIFT * promo
    return sim


def _fit(sim: Simulation, **roles: list[str]) -> MMM:
    model = MMM(method="laplace", draws=400, seed=0)
    return model.fit(
        sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls, **roles
    )


@pytest.fixture(scope="module")
def with_organic(sim: Simulation) -> MMM:
    return _fit(sim, organic=["organic_0"], treatments=["promo"])


@pytest.fixture(scope="module")
def without_organic(sim: Simulation) -> MMM:
    return _fit(sim, treatments=["promo"])


def _roi_error(model: MMM, sim: Simulation) -> float:
    roas = {c: s["roas"]["mean"] for c, s in model.summary()["channels"].items()}
    return float(np.mean([abs(roas[c] - t) / t for c, t in sim.roi.items()]))


def test_the_organic_contribution_interval_covers_the_truth(with_organic: MMM, sim: Simulation) -> None:
    block = with_organic.summary()["organic"]["organic_0"]
    truth = sim.organic["organic_0"]  # the simulator's, over all 156 weeks (no holdout)
    assert block["contribution"]["lower"] <= truth <= block["contribution"]["upper"]
    share = truth / sim.df["revenue"].sum()
    assert block["share"]["lower"] <= share <= block["share"]["upper"]
    assert block["volume"] == pytest.approx(sim.df["organic_0"].sum())
    assert "organic_0" not in with_organic.summary()["channels"]  # no spend, no ROI


def test_omitting_the_organic_input_biases_the_paid_roi(
    with_organic: MMM, without_organic: MMM, sim: Simulation
) -> None:
    """The organic input moves with channel 0's spend: left out, channel 0 takes its credit."""
    truth = sim.roi["channel_0"]
    biased = without_organic.summary()["channels"]["channel_0"]["roas"]["mean"]
    fair = with_organic.summary()["channels"]["channel_0"]["roas"]["mean"]
    assert biased - truth > 2 * abs(fair - truth)
    assert _roi_error(with_organic, sim) < _roi_error(without_organic, sim)


def test_modelling_organic_costs_the_paid_roi_nothing(with_organic: MMM, sim: Simulation) -> None:
    """The paid ROI error with the organic input modelled is no worse than a plain fit of the same series
    without any organic effect (the same spend: the simulator draws the organic input apart)."""
    plain = simulate(seed=11, n_periods=156, rois=ROIS)
    plain.df["promo"] = sim.df["promo"]
    plain.df["revenue"] = plain.df["revenue"] + PROMO_LIFT * sim.df["promo"]
    assert _roi_error(with_organic, sim) <= _roi_error(_fit(plain, treatments=["promo"]), plain) + 0.05


def test_a_promotion_is_reported_per_unit_and_in_total(with_organic: MMM, sim: Simulation) -> None:
    block = with_organic.summary()["treatments"]["promo"]
    assert block["effect_per_unit"]["lower"] <= PROMO_LIFT <= block["effect_per_unit"]["upper"]
    weeks = sim.df["promo"].sum()
    assert block["contribution"]["mean"] == pytest.approx(block["effect_per_unit"]["mean"] * weeks)


def test_organic_and_treatments_round_trip(with_organic: MMM, tmp_path: Path) -> None:
    from trueroi.mmm import load_model

    loaded = load_model(with_organic.save(tmp_path / "m"))
    assert loaded.summary()["organic"] == with_organic.summary()["organic"]
    assert loaded.summary()["treatments"] == with_organic.summary()["treatments"]
    assert loaded.data_.organic_cols == ["organic_0"] and loaded.data_.treatment_cols == ["promo"]


def test_the_budget_planner_plans_paid_channels_only(with_organic: MMM, sim: Simulation) -> None:
    curves = with_organic.response_curves()
    assert list(curves.channels) == sim.channels  # the organic input stays at its observed level
    assert "organic_0" in with_organic.decomposition().columns
