"""The demo shop: deterministic, realistic in the ways that matter, and honest about its ground truth."""

from __future__ import annotations

import hashlib
import zoneinfo

import numpy as np
import pandas as pd
import pytest

from trueroi.demo import generate
from trueroi.demo.spec import PAID


def _read(files, table: str) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in files.parts(table)], ignore_index=True)


def _digest(files) -> str:
    h = hashlib.sha256()
    for table in ("ad_performance", "orders", "touchpoints", "conversions", "costs", "fx_rates"):
        for part in files.parts(table):
            h.update(pd.read_parquet(part).to_csv(index=False).encode())
    return h.hexdigest()


def test_same_seed_same_data_other_seed_other_data(tmp_path) -> None:
    a = generate(tmp_path / "a", seed=3, scale=0.01)
    b = generate(tmp_path / "b", seed=3, scale=0.01)
    c = generate(tmp_path / "c", seed=4, scale=0.01)
    assert _digest(a) == _digest(b)
    assert a.truth == b.truth
    assert _digest(a) != _digest(c)


def test_two_years_twelve_channels_and_campaigns(demo_shop) -> None:
    tp = _read(demo_shop.files, "touchpoints")
    ads = _read(demo_shop.files, "ad_performance")
    assert tp["channel"].nunique() >= 12
    assert ads["date_day"].nunique() == 730
    assert ads.groupby("channel")["campaign_name"].nunique().min() >= 2
    assert set(ads["funnel_stage"]) == {"upper", "mid", "lower"}
    assert ads["is_brand"].any() and not ads["is_brand"].all()
    paid = tp[tp["channel"].isin([c.name for c in PAID])]
    assert paid["click_id"].notna().all() and paid["source"].notna().all() and paid["medium"].notna().all()


def test_platforms_over_claim_conversions(demo_shop) -> None:
    ads = _read(demo_shop.files, "ad_performance")
    claimed = ads.groupby("channel")["conversions"].sum()
    truth = demo_shop.truth["channels"]
    caused = sum(ch["incremental_orders"] for ch in truth.values())
    assert claimed.sum() > 2 * caused  # together the platforms claim far more than paid media caused
    retargeting = truth["Social Retargeting"]["incremental_orders"]
    assert claimed["Social Retargeting"] > 3 * retargeting  # view-through and poached orders


def test_truth_spend_matches_the_data(demo_shop) -> None:
    ads = _read(demo_shop.files, "ad_performance")
    fx = _read(demo_shop.files, "fx_rates").set_index("date_day")["rate_to_base"]
    rate = np.where(ads["currency"] == "EUR", 1.0, ads["date_day"].map(fx))
    spend = (ads["spend"] * rate).groupby(ads["channel"]).sum()
    for name, truth in demo_shop.truth["channels"].items():
        assert spend[name] == pytest.approx(truth["spend"], rel=2e-3)


def test_realised_truth_matches_the_expected_response(tmp_path) -> None:
    # incremental revenue drawn from Poisson(expected orders) x order values should land near its expectation
    truth = generate(tmp_path / "big", seed=11, scale=0.5).truth
    for name, ch in truth["channels"].items():
        if ch["incremental_orders"] > 2000:
            paid_share = 0.925  # cancelled and refunded orders do not count
            assert ch["incremental_revenue"] / (
                ch["expected_incremental_revenue"] * paid_share
            ) == pytest.approx(1.0, abs=0.08), name


def test_seasonality_peaks_in_q4(demo_shop) -> None:
    orders = _read(demo_shop.files, "orders")
    orders = orders[orders["is_new_customer"]]  # first orders follow demand; repeats follow their own clock
    month = pd.to_datetime(orders["date_day"]).dt.month
    per_day = orders.groupby(month).size() / orders.groupby(month)["date_day"].nunique()
    assert per_day.loc[[11, 12]].mean() > 1.2 * per_day.loc[[2, 3, 4, 5, 6]].mean()


def test_days_are_cut_in_the_workspace_time_zone(demo_shop) -> None:
    orders = _read(demo_shop.files, "orders")
    local = orders["ts"].dt.tz_localize("UTC").dt.tz_convert(zoneinfo.ZoneInfo("Europe/Berlin")).dt.date
    agree = (local == orders["date_day"]).mean()
    assert agree > 0.999  # exact but for the hour of the two daylight-saving nights


def test_leads_close_offline_weeks_later(demo_shop) -> None:
    cv = _read(demo_shop.files, "conversions")
    leads = cv[cv["type"] == "lead"].set_index("click_id")["ts"]
    won = cv[cv["type"] == "deal_won"]
    assert len(won) > 0 and won["is_offline"].all() and (won["value"] > 0).all()
    lag = (won["ts"].to_numpy() - leads.loc[won["click_id"]].to_numpy()) / np.timedelta64(1, "D")
    assert lag.min() >= 13.9 and lag.max() <= 60.1


def test_costs_cover_every_non_media_category(demo_shop) -> None:
    costs = _read(demo_shop.files, "costs")
    assert {"agency_fee", "salaries", "tools", "production"} <= set(costs["category"])
    assert costs["channel"].isna().any() and costs["channel"].notna().any()


def test_lagged_content_channel_ramps_up(demo_shop) -> None:
    # organic search is lifted by content production with a slow carry-over: its truth is recorded
    content = demo_shop.truth["content"]
    assert content["channel"] == "Organic Search" and content["incremental_revenue"] > 0
    assert content["adstock_decay_per_day"] > 0.95
