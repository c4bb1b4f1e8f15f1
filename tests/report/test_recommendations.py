"""Recommendations that agree: each channel's step rests on its most credible evidence (lift test > converged
mix model > data-driven attribution > last click), names it, states what disagrees, and never contradicts
another step; an unconverged mix model is not used; without tracking, no channel is judged on attribution."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from trueroi.experiments.store import EXPERIMENTS, ExperimentRecord, save_experiment
from trueroi.report.management import build_report
from trueroi.workspace import Workspace, WorkspaceConfig
from trueroi.workspace.config import CostAllocation

SP = "Social Prospecting"
SPEND_ACTIONS = ("raise", "cut", "keep")


def _steps(content: dict) -> list[dict]:
    return content["next_steps"] + content["next_steps_appendix"]


def _channel_steps(content: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for s in _steps(content):
        if s["evidence"].get("action") in (*SPEND_ACTIONS, "review_costs"):
            out.setdefault(s["evidence"]["channel"], []).append(s)
    return out


def _fit(shop, tmp_path_factory, name: str, **settings):
    from trueroi.mmm import MMM
    from trueroi.mmm.workspace_data import weekly_series

    df = weekly_series(shop.ws)
    channels = [c for c in df.columns if c not in ("week", "revenue")]
    model = MMM(seed=1, **settings).fit(df, date="week", target="revenue", channels=channels)
    return model, model.save(tmp_path_factory.mktemp("mmm") / name)


@pytest.fixture(scope="module")
def paying_model(branded_shop, tmp_path_factory):
    """A fast MAP fit that says Social Prospecting pays: its ROI prior holds it near a ROAS of 4 (the
    demo's truth is 3.4), so the plan raises it as the issue's demo model did."""
    return _fit(branded_shop, tmp_path_factory, "paying", method="map", roi_prior={SP: (4.0, 0.05)})[1]


def _report(shop, model_dir):
    return build_report(shop.ws, "2026-Q3", model_dir=model_dir, goals=[], pacing=[], anomalies=[])


def test_a_channel_the_mix_model_says_pays_is_not_cut(branded_shop, paying_model):
    content = _report(branded_shop, paying_model)
    plan = {r["channel"]: r for r in content["mmm"]["budget"]["rows"]}
    assert plan[SP]["change"] > 0.10 and content["mmm"]["used"]  # the model says: raise it
    steps = _channel_steps(content)
    (sp,) = steps[SP]
    assert sp["evidence"]["level"] == "mmm" and sp["evidence"]["action"] == "raise"
    assert sp["text"].startswith(f"Raise {SP} step by step: the mix model's plan moves it")
    # attribution says it loses money; that is stated, and the mix model wins
    assert {d["level"] for d in sp["evidence"]["disagreeing"]} >= {"data_driven_attribution"}
    assert (
        "points to cutting it" in sp["text"] and "the mix model is the more credible evidence" in sp["text"]
    )
    assert sp["evidence"]["figures"]["change"] == pytest.approx(plan[SP]["change"])
    for channel, found in steps.items():  # one recommendation per channel: never "cut" and "raise"
        assert len(found) == 1, channel
    for s in _steps(content):  # every step names what it rests on
        assert s["source"] and s["evidence"]["level"] and s["evidence"]["label"], s["text"]
    assert len(content["next_steps"]) <= 5


def test_an_uncertain_mix_model_keeps_channels_instead_of_cutting_them(branded_shop, tmp_path_factory):
    """The everyday fast fit (Laplace): its plan beats today's with well under 80% probability, so it moves no
    channel; where attribution says cut, the step says keep and names the disagreement."""
    _, path = _fit(branded_shop, tmp_path_factory, "laplace", method="laplace", draws=100)
    content = _report(branded_shop, path)
    assert content["mmm"]["budget"]["p_beats_current"] < 0.8
    steps = _channel_steps(content)
    assert not any(s["evidence"]["action"] in ("raise", "cut") for found in steps.values() for s in found)
    (sp,) = steps[SP]
    assert sp["text"].startswith(f"Keep {SP}'s spend: the mix model cannot tell whether moving budget pays")
    assert sp["evidence"]["disagreeing"]  # attribution's "cut" is named, not followed


@pytest.fixture
def lift_test(branded_shop):
    """A holdout test of Social Prospecting saved in the workspace (removed afterwards): 1,000 EUR of spend
    bought 200 EUR of revenue (90% interval 100 to 300)."""
    record = ExperimentRecord(
        experiment_id="sp-holdout",
        name="SP holdout",
        kind="holdout",
        channel=SP,
        kpi="revenue",
        start=date(2026, 6, 1),
        end=date(2026, 6, 28),
        delta_spend=1000.0,
        lift=200.0,
        lift_se=60.8,
        lift_lower=100.0,
        lift_upper=300.0,
        level=0.9,
        relative_lift=0.01,
        p_value=0.01,
        iroas=0.2,
        details="{}",
        created_at=datetime.now(UTC).replace(tzinfo=None),
    )
    save_experiment(branded_shop.ws, record)
    yield record
    EXPERIMENTS.delete(branded_shop.ws, experiment_id=record.experiment_id)


def test_a_saved_lift_test_overrides_the_mix_model_for_its_channel(branded_shop, paying_model, lift_test):
    content = _report(branded_shop, paying_model)
    (row,) = content["experiments"]["rows"]
    assert row["used"] and row["channel"] == SP
    (sp,) = _channel_steps(content)[SP]
    channel = next(r for r in content["channels"]["rows"] if r["channel"] == SP)
    share = channel["margin"] / channel["revenue"]
    # by hand: iROAS 200 / 1,000 = 0.2; ROI on margin = 0.2 x margin share - 1 (at most -80%): cut it
    f = sp["evidence"]["figures"]
    assert (sp["evidence"]["level"], sp["evidence"]["action"], sp["source"]) == (
        "lift_test",
        "cut",
        "experiments",
    )
    assert f["iroas"] == pytest.approx(0.2) and f["roi"] == pytest.approx(0.2 * share - 1)
    assert (f["roi_lower"], f["roi_upper"]) == pytest.approx((0.1 * share - 1, 0.3 * share - 1))
    assert sp["priority"] == "high" and sp["text"].startswith(f"Cut or fix {SP}")
    # the mix model said raise: the disagreement is stated and the lift test wins
    assert "mmm" in {d["level"] for d in sp["evidence"]["disagreeing"]}
    assert (
        "mix model points to raising it" in sp["text"] and "the lift test is the more credible" in sp["text"]
    )
    # the mix model's whole-budget step stays, and says lift tests override it per channel
    assert any(s["source"] == "mmm" and "lift test" in s["text"] for s in _steps(content))


def test_an_unconverged_mix_model_is_not_used(branded_shop, tmp_path_factory, tmp_path):
    """A NUTS fit whose two chains disagree (R-hat far above 1.05) and with 36 divergences: shown with its
    diagnostics and why it is not used; the advice falls back to attribution."""
    from trueroi.mmm import load_model

    model, path = _fit(branded_shop, tmp_path_factory, "base", method="laplace", draws=100)
    chain = model.posterior_
    shifted = {k: np.concatenate([v, v * (3.0 if k == "roi" else 1.0)], axis=0) for k, v in chain.items()}
    model.method, model.chains, model.draws = "nuts", 2, 100
    model.posterior_, model.extras_ = shifted, {"divergences": 36}
    bad = model.save(tmp_path / "unconverged")
    diag = load_model(bad).summary()["diagnostics"]
    assert diag["r_hat_max"] > 1.05 and diag["divergences"] == 36
    content = _report(branded_shop, bad)
    mmm = content["mmm"]
    assert mmm["available"] and mmm["used"] is False and "budget" not in mmm
    assert f"R-hat up to {diag['r_hat_max']:.2f}" in mmm["not_used"]
    assert "36 divergent transitions (18.0% of 200 draws" in mmm["not_used"]
    steps = _steps(content)
    assert any(s["source"] == "mmm" and s["text"] == mmm["not_used"] for s in steps)
    for found in _channel_steps(content).values():
        assert found[0]["evidence"]["level"] in ("data_driven_attribution", "attribution")
    from trueroi.report.management_html import management_html

    page = management_html(content)
    assert "is not used for advice" in page and "r_hat_max" in page and 'data-chart="budget"' not in page


def _untracked(tmp_path) -> Workspace:
    """Ads of two channels and orders for two days, CRM deals with GCLIDs, an agency fee without a channel
    (allocated by revenue share); no touchpoints at all."""
    config = WorkspaceConfig(name="untracked", cost_allocation=CostAllocation(rule="revenue_share"))
    ws = Workspace.init(tmp_path / "ws", config)
    days = [date(2026, 7, 1), date(2026, 7, 2)]
    ads = pd.DataFrame(
        [
            {
                "date_day": d,
                "platform": platform,
                "campaign_id": channel,
                "campaign_name": channel,
                "channel": channel,
                "currency": "EUR",
                "spend": spend,
                "clicks": 50,
                "impressions": 1000,
                "conversions": claimed,
                "conversions_value": value,
            }
            for d in days
            for platform, channel, spend, claimed, value in (
                ("google_ads", "Paid Search", 100.0, 4.0, 400.0),
                ("meta_ads", "Paid Social", 50.0, 3.0, 250.0),
            )
        ]
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "ts": [datetime(2026, 7, 1, 10), datetime(2026, 7, 1, 12), datetime(2026, 7, 2, 9)],
            "date_day": [days[0], days[0], days[1]],
            "currency": "EUR",
            "revenue": [300.0, 200.0, 500.0],
            "cogs": [150.0, 100.0, 250.0],
            "status": "paid",
        }
    )
    deals = pd.DataFrame(
        {
            "conversion_id": ["d1", "d2", "d3"],
            "click_id": ["gclid-a", "gclid-b", "gclid-c"],
            "ts": [datetime(2026, 7, 1, 15)] * 3,
            "date_day": [days[0]] * 3,
            "type": "deal_won",
            "value": [1000.0, 2000.0, 500.0],
            "currency": "EUR",
            "order_id": ["o1", None, None],
            "is_offline": True,
        }
    )
    costs = pd.DataFrame(
        [
            {
                "period_start": days[0],
                "period_end": days[1],
                "category": "agency_fee",
                "amount": 80.0,
                "currency": "EUR",
            }
        ]
    )
    ws.load(
        {"ad_performance": ads, "orders": orders, "conversions": deals, "costs": costs},
        source_format="test",
        file_name="untracked",
        sha256="untracked",
    )
    return ws


def test_without_tracking_no_channel_is_judged_on_attribution(tmp_path):
    ws = _untracked(tmp_path)
    try:
        content = build_report(ws, "2026-07-01..2026-07-02", goals=[], pacing=[], anomalies=[])
    finally:
        ws.close()
    t = content["tracking"]
    assert (t["usable"], t["touchpoints"], t["attributed_share"]) == (False, 0, 0.0)
    # click ids: three deals carry a GCLID, none can match a tracked click (there is none); one names an order
    assert (t["click_ids"]["conversions"], t["click_ids"]["matched"], t["click_ids"]["orders"]) == (3, 0, 1)
    # platform-claimed ROAS by hand: Paid Search 800 / 200 = 4.0, Paid Social 500 / 100 = 5.0
    claims = {r["channel"]: r["platform_roas"] for r in t["platform"]}
    assert claims == pytest.approx({"Paid Search": 4.0, "Paid Social": 5.0})
    assert "platform-reported" in t["platform_label"]
    steps = _steps(content)
    assert not _channel_steps(content)  # no "cut" at -100% ROI, no advice from attribution at all
    (first,) = [s for s in steps if s["source"] == "tracking"]
    assert first["priority"] == "high" and first["text"].startswith(
        "Attribution is impossible without tracking"
    )
    assert "1,000 EUR of the period's revenue is (unattributed)" in first["text"]
    assert "3 conversions of the period carry a click id and 0 of them match a tracked click" in first["text"]
    assert "Paid Social ROAS 5.00" in first["text"] and "platform-reported" in first["text"]
    # the agency fee went to (unattributed) by revenue share: its only cost is allocated, so no full ROI
    rows = {r["channel"]: r for r in content["channels"]["rows"]}
    assert rows["(unattributed)"]["full_roi"] is None
    assert any("(unattributed)" in n and "full ROI" in n for n in content["kpis"]["notes"])
