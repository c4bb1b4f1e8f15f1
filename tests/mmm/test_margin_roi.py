"""One ROI everywhere: the mix model's ROI is on contribution margin (as media ROI in every other command),
with ROAS (incremental revenue per unit of spend) beside it, and no ROI at all when no margin is known."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from trueroi.mmm import MMM, GeoMMM, fit_mix_model, load_model
from trueroi.mmm.simulate import simulate_geo
from trueroi.workspace import Workspace, WorkspaceConfig

BOUNDS = ("mean", "lower", "upper")


def _nulls(block: dict) -> bool:
    return all(block[k] is None for k in BOUNDS)


def test_summary_roi_is_on_margin_with_roas_beside(sim, tmp_path):
    model = MMM(method="laplace", draws=200, seed=0, margin_rate=0.4)
    model.fit(sim.df, date="week", target="revenue", channels=sim.channels)
    s = model.summary()
    assert (s["roi_basis"], s["margin_rate"], s["kpi"]) == ("margin", 0.4, "revenue")
    for c, block in s["channels"].items():
        # ROAS = incremental revenue / spend (what the summary called ROI before); the spend is fixed, so the
        # mean of the ratio is the mean contribution over the spend
        assert block["roas"]["mean"] == pytest.approx(block["contribution"]["mean"] / block["spend"]), c
        # margin ROI = (0.4 x incremental revenue - spend) / spend = 0.4 x ROAS - 1, bound by bound (an
        # increasing linear map keeps quantiles)
        for k in BOUNDS:
            assert block["roi"][k] == pytest.approx(0.4 * block["roas"][k] - 1), (c, k)
            assert block["mroi"][k] == pytest.approx(0.4 * block["mroas"][k] - 1), (c, k)
        assert block["roi"]["lower"] <= block["roi"]["mean"] <= block["roi"]["upper"]
    # the setting is saved with the model and the loaded model says the same
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m").summary()
    assert again["margin_rate"] == 0.4
    first = next(iter(s["channels"]))
    assert again["channels"][first]["roi"]["mean"] == pytest.approx(s["channels"][first]["roi"]["mean"])


def test_without_a_margin_rate_there_is_no_roi_only_roas(sim):
    model = MMM(method="map", seed=0).fit(sim.df, date="week", target="revenue", channels=sim.channels)
    s = model.summary()
    assert s["roi_basis"] == "unknown" and s["margin_rate"] is None
    assert "no margin rate" in s["roi_note"]
    for block in s["channels"].values():
        assert _nulls(block["roi"]) and _nulls(block["mroi"])
        assert block["roas"]["mean"] == pytest.approx(block["contribution"]["mean"] / block["spend"])


def test_a_conversions_kpi_has_no_roi_or_roas(sim):
    df = sim.df.assign(orders=sim.df["revenue"] / 80.0)
    model = MMM(method="map", seed=0, kpi="conversions", margin_rate=0.4)
    s = model.fit(df, date="week", target="orders", channels=sim.channels).summary()
    assert s["roi_basis"] == "none" and s["kpi"] == "conversions"
    for block in s["channels"].values():
        assert _nulls(block["roi"]) and _nulls(block["roas"])
        # incremental conversions per unit of spend, labelled as such
        assert block["per_spend"]["mean"] == pytest.approx(block["contribution"]["mean"] / block["spend"])


def test_geo_summary_is_on_margin_too():
    panel = simulate_geo(seed=3, n_geos=3, n_periods=30, n_channels=2)
    model = GeoMMM(saturation="logistic", method="laplace", draws=60, seed=0, margin_rate=0.5)
    s = model.fit(panel.df, date="week", geo="geo", target="revenue", channels=panel.channels).summary()
    assert s["roi_basis"] == "margin"
    blocks = list(s["channels"].values()) + [b for g in s["geos"].values() for b in g["channels"].values()]
    for block in blocks:
        for k in BOUNDS:
            assert block["roi"][k] == pytest.approx(0.5 * block["roas"][k] - 1)


def _shop(tmp_path, cogs_share: float | None, default_margin: float | None = None) -> Workspace:
    """30 weeks of two channels' spend and one order a day; COGS ``cogs_share`` of revenue (None: unknown)."""
    config = WorkspaceConfig(name="margin", default_margin=default_margin)
    ws = Workspace.init(tmp_path / "ws", config)
    rng = np.random.default_rng(0)
    days = [date(2025, 1, 6) + timedelta(days=i) for i in range(7 * 30)]
    spend = {c: rng.uniform(50, 150, len(days)) for c in ("Search", "Social")}
    ads = pd.DataFrame(
        [
            {
                "date_day": d,
                "platform": "google_ads",
                "campaign_id": c,
                "campaign_name": c,
                "channel": c,
                "currency": "EUR",
                "spend": float(spend[c][i]),
            }
            for c in spend
            for i, d in enumerate(days)
        ]
    )
    revenue = 400 + spend["Search"] * 1.5 + spend["Social"] * 0.8
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(days))],
            "ts": [datetime(d.year, d.month, d.day, 12) for d in days],
            "date_day": days,
            "currency": "EUR",
            "revenue": revenue,
            "cogs": None if cogs_share is None else revenue * cogs_share,
            "status": "paid",
        }
    )
    ws.load({"ad_performance": ads, "orders": orders}, source_format="test", file_name="t", sha256="t")
    return ws


def test_fit_from_a_workspace_takes_the_margin_share_of_its_orders(tmp_path):
    # COGS are 65% of every order's revenue: the contribution margin share is 1 - 0.65 = 0.35
    _shop(tmp_path, cogs_share=0.65).close()
    fit = fit_mix_model(workspace=tmp_path / "ws", method="map")
    assert fit.summary["margin_rate"] == pytest.approx(0.35)
    assert fit.summary["roi_basis"] == "margin"
    block = next(iter(fit.summary["channels"].values()))
    assert block["roi"]["mean"] == pytest.approx(0.35 * block["roas"]["mean"] - 1)
    given = fit_mix_model(workspace=tmp_path / "ws", method="map", margin_rate=0.5)
    assert given.summary["margin_rate"] == 0.5  # a rate given to the fit wins


def test_fit_from_a_workspace_without_cogs_uses_its_default_margin(tmp_path):
    _shop(tmp_path, cogs_share=None, default_margin=0.3).close()
    assert fit_mix_model(workspace=tmp_path / "ws", method="map").summary["margin_rate"] == 0.3


def test_fit_from_a_workspace_without_cogs_or_default_says_so(tmp_path):
    _shop(tmp_path, cogs_share=None).close()
    summary = fit_mix_model(workspace=tmp_path / "ws", method="map").summary
    assert summary["roi_basis"] == "unknown" and "no margin rate" in summary["roi_note"]
