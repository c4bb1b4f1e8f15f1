"""Lifetime-value ROI: acquisition channel by last non-direct touch, CLV/CAC per channel, cohort retention.

Expected values are worked out by hand in each test from the rows it loads.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from trueroi.clv.roi import acquisition_channels, clv_by_channel, cohort_retention


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _load(workspace, orders: list[tuple], touches: list[tuple]) -> None:
    order_frame = pd.DataFrame(
        orders, columns=["order_id", "customer_id", "user_id", "ts", "revenue", "status"]
    )
    order_frame["ts"] = order_frame["ts"].map(_ts)
    order_frame["date_day"] = order_frame["ts"].dt.date
    order_frame["currency"] = "EUR"
    order_frame["cogs"] = order_frame["revenue"] * 0.5
    touch_frame = pd.DataFrame(touches, columns=["user_id", "ts", "channel"])
    touch_frame["ts"] = touch_frame["ts"].map(_ts)
    workspace.load(
        {"orders": order_frame, "touchpoints": touch_frame},
        source_format="test",
        file_name="t.csv",
        sha256="x",
    )


def test_acquisition_channel_is_last_non_direct_touch_within_lookback(workspace) -> None:
    orders = [
        ("o1", "c1", "u1", "2024-03-10 12:00", 100.0, "paid"),
        ("o2", "c1", "u1", "2024-04-10 12:00", 50.0, "paid"),  # later order: ignored for acquisition
        ("o3", "c2", "u2", "2024-03-10 12:00", 80.0, "paid"),
        ("o4", "c3", "u3", "2024-03-10 12:00", 80.0, "paid"),
        ("o5", "c4", "u4", "2024-03-10 12:00", 80.0, "paid"),
        ("o6", "c5", "u5", "2024-03-01 12:00", 10.0, "cancelled"),  # not a sale: first sale is o7
        ("o7", "c5", "u5", "2024-03-20 12:00", 90.0, "paid"),
    ]
    touches = [
        ("u1", "2024-03-01 09:00", "Paid Search"),
        ("u1", "2024-03-08 09:00", "Email"),  # last non-direct before o1
        ("u1", "2024-03-10 11:00", "direct"),  # direct (case-insensitive): skipped
        ("u1", "2024-03-11 09:00", "Social"),  # after the first order
        ("u2", "2024-01-15 09:00", "Display"),  # 55 days before: outside 30-day lookback
        ("u2", "2024-03-09 09:00", "Direct"),
        ("u3", "2024-01-01 09:00", "Affiliate"),  # outside lookback, nothing else
        ("u5", "2024-02-28 09:00", "Paid Social"),  # before the cancelled order, 21 days before o7
        ("u5", "2024-03-19 09:00", "Organic Search"),
    ]
    _load(workspace, orders, touches)
    got = acquisition_channels(workspace)
    assert list(got.columns) == ["customer_id", "channel"]
    assert dict(zip(got["customer_id"], got["channel"], strict=True)) == {
        "c1": "Email",
        "c2": "Direct",
        "c3": "(none)",
        "c4": "(none)",
        "c5": "Organic Search",
    }


def test_clv_by_channel_hand_computed() -> None:
    clv = pd.Series({"a": 100.0, "b": 300.0, "c": 50.0, "d": 0.0})
    channels = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d"], "channel": ["Email", "Email", "Search", "Direct"]}
    )
    spend = {"Email": 100.0, "Search": 200.0}
    got = clv_by_channel(clv, channels, spend, horizon_months=10).set_index("channel")
    assert list(got.reset_index().columns) == [
        "channel",
        "customers",
        "avg_clv",
        "total_clv",
        "cac",
        "clv_cac",
        "payback_months",
    ]
    # Email: 2 customers, total 400, avg 200, CAC 100/2 = 50, CLV/CAC 4;
    # value accrues 200/10 = 20 a month, so CAC 50 is reached after 2.5 months
    assert got.loc["Email", "customers"] == 2
    assert got.loc["Email", "total_clv"] == 400.0
    assert got.loc["Email", "avg_clv"] == 200.0
    assert got.loc["Email", "cac"] == 50.0
    assert got.loc["Email", "clv_cac"] == 4.0
    assert got.loc["Email", "payback_months"] == pytest.approx(2.5)
    # Search: CAC 200 > CLV 50: CLV/CAC 0.25 and no payback within the horizon
    assert got.loc["Search", "clv_cac"] == 0.25
    assert np.isnan(got.loc["Search", "payback_months"])
    # Direct: no spend known -> CAC and ratios null
    assert np.isnan(got.loc["Direct", "cac"]) and np.isnan(got.loc["Direct", "clv_cac"])


def test_payback_uses_the_value_curve_when_given() -> None:
    curve = pd.DataFrame([[10.0, 30.0, 60.0], [30.0, 50.0, 60.0]], index=["a", "b"], columns=[1, 2, 3])
    channels = pd.DataFrame({"customer_id": ["a", "b"], "channel": ["Email", "Email"]})
    got = clv_by_channel(pd.Series({"a": 60.0, "b": 60.0}), channels, {"Email": 90.0}, value_curve=curve)
    # average curve 20, 40, 60; CAC 45 is reached a quarter of the way through month 3
    assert got.loc[0, "payback_months"] == pytest.approx(2.25)


def test_cohort_retention_by_month(workspace) -> None:
    orders = [
        ("o1", "c1", "u1", "2024-01-05 10:00", 10.0, "paid"),
        ("o2", "c2", "u2", "2024-01-20 10:00", 10.0, "paid"),
        ("o3", "c1", "u1", "2024-02-03 10:00", 10.0, "paid"),
        ("o4", "c1", "u1", "2024-02-23 10:00", 10.0, "paid"),
        ("o5", "c2", "u2", "2024-03-03 10:00", 10.0, "refunded"),
        ("o6", "c3", "u3", "2024-02-10 10:00", 10.0, "paid"),
        ("o7", "c3", "u3", "2024-03-10 10:00", 10.0, "paid"),
    ]
    _load(workspace, orders, [])
    got = cohort_retention(workspace)
    rows = [(str(r.cohort), r.period, r.customers, r.active, r.retention) for r in got.itertuples()]
    assert rows == [
        ("2024-01-01", 0, 2, 2, 1.0),
        ("2024-01-01", 1, 2, 1, 0.5),  # c1 in February; c2's March order was refunded
        ("2024-02-01", 0, 1, 1, 1.0),
        ("2024-02-01", 1, 1, 1, 1.0),
    ]


def _shop(workspace, n: int = 400, seed: int = 3) -> pd.DataFrame:
    """Orders of ``n`` customers over a year (Poisson buyers), each reached by one channel a day before."""
    rng = np.random.default_rng(seed)
    rows, touches = [], []
    channels = ["Email", "Paid Search", "Social"]
    for i in range(n):
        first = pd.Timestamp("2024-01-01 10:00") + pd.Timedelta(days=int(rng.integers(0, 180)))
        rate = rng.gamma(0.5, 1 / 10)  # purchases per day
        days = np.sort(rng.uniform(0, 365, rng.poisson(rate * 365)))
        for k, day in enumerate([0.0, *days]):
            ts = (first + pd.Timedelta(days=float(day))).floor("s")
            if ts > pd.Timestamp("2024-12-31"):
                break
            revenue = float(rng.gamma(4.0, 15.0))
            rows.append((f"o{i}_{k}", f"c{i}", f"u{i}", ts, revenue, "paid"))
        touches.append((f"u{i}", first - pd.Timedelta(days=1), channels[i % 3]))
    orders = pd.DataFrame(rows, columns=["order_id", "customer_id", "user_id", "ts", "revenue", "status"])
    orders["date_day"] = orders["ts"].dt.date
    orders["currency"] = "EUR"
    orders["cogs"] = orders["revenue"] * 0.6
    workspace.load(
        {"orders": orders, "touchpoints": pd.DataFrame(touches, columns=["user_id", "ts", "channel"])},
        source_format="test",
        file_name="shop.csv",
        sha256="shop",
    )
    return orders


def test_customer_values_match_the_same_pipeline_run_by_hand(workspace) -> None:
    from trueroi.clv import BetaGeoFitter, GammaGammaFitter
    from trueroi.clv.data import rfm_summary
    from trueroi.clv.roi import clv_roi, customer_values, order_margins

    orders = _shop(workspace)
    margins = order_margins(workspace)
    assert margins["margin"].sum() == pytest.approx((orders["revenue"] * 0.4).sum())
    values, curve = customer_values(workspace, months=6, discount_rate=0.01)
    # the same steps in plain pandas/numpy
    tx = orders.assign(margin=orders["revenue"] - orders["cogs"])
    end_of_last_day = pd.Timestamp(pd.to_datetime(tx["date_day"]).max()) + pd.Timedelta(days=1)
    summary = rfm_summary(tx, date_col="date_day", amount_col="margin", observation_end=end_of_last_day)
    f, r, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    bg = BetaGeoFitter().fit(f, r, T)
    gg = GammaGammaFitter().fit(f, summary["monetary_value"])
    spend = gg.expected_spend(f, summary["monetary_value"].to_numpy())
    weeks = np.arange(7) * (365.25 / 12) / 7
    cum = np.column_stack([bg.predict_purchases(t, f, r, T) if t else np.zeros_like(f) for t in weeks])
    per_month = np.diff(cum, axis=1) / 1.01 ** np.arange(1, 7)
    expected = per_month.sum(axis=1) * spend
    np.testing.assert_allclose(values.set_index("customer_id").loc[summary.index, "clv"], expected, rtol=1e-9)
    assert curve.shape == (len(summary), 6)
    roi = clv_roi(workspace, {"Email": 1000.0, "Paid Search": 3000.0, "Social": 500.0}, months=6)
    assert sorted(roi["channel"]) == ["Email", "Paid Search", "Social"]
    assert roi["customers"].sum() == len(summary)
    assert roi["total_clv"].sum() == pytest.approx(expected.sum())
    email = roi.set_index("channel").loc["Email"]
    assert email["cac"] == pytest.approx(1000.0 / email["customers"])


def test_missing_cogs_without_default_margin_is_refused(workspace) -> None:
    from trueroi.clv.roi import order_margins
    from trueroi.errors import DataValidationError

    _load(workspace, [("o1", "c1", "u1", "2024-03-10 12:00", 100.0, "paid")], [])
    workspace.con.raw_sql("UPDATE orders SET cogs = NULL")
    with pytest.raises(DataValidationError, match="default_margin"):
        order_margins(workspace)


def test_clv_roi_intervals_bracket_each_channel_total(workspace) -> None:
    from trueroi.clv.roi import clv_roi

    _shop(workspace)
    spend = {"Email": 1000.0, "Paid Search": 3000.0, "Social": 500.0}
    plain = clv_roi(workspace, spend, months=6)
    got = clv_roi(workspace, spend, months=6, interval=0.9, n_draws=60)
    pd.testing.assert_frame_equal(got[plain.columns], plain)  # the intervals add columns, change nothing
    assert (got["total_clv_lower"] < got["total_clv"]).all() and (
        got["total_clv"] < got["total_clv_upper"]
    ).all()
    assert got["avg_clv_upper"].to_numpy() == pytest.approx(
        (got["total_clv_upper"] / got["customers"]).to_numpy()
    )


def _counted(fit, name: str, calls: list[str]):
    """``fit`` that notes ``name`` in ``calls`` each time it runs."""

    def counted(self, *args, **kwargs):
        calls.append(name)
        return fit(self, *args, **kwargs)

    return counted


def test_clv_roi_fits_the_models_once_for_values_and_intervals(workspace, monkeypatch) -> None:
    from trueroi.clv import BetaGeoFitter, GammaGammaFitter
    from trueroi.clv.roi import channel_clv_intervals, clv_roi, customer_values, fit_workspace

    calls: list[str] = []
    for cls in (BetaGeoFitter, GammaGammaFitter):
        monkeypatch.setattr(cls, "fit", _counted(cls.fit, cls.__name__, calls))
    _shop(workspace)
    spend = {"Email": 1000.0, "Paid Search": 3000.0, "Social": 500.0}
    got = clv_roi(workspace, spend, months=6, interval=0.9, n_draws=40)
    assert calls == ["BetaGeoFitter", "GammaGammaFitter"]  # was fitted twice: values, then intervals
    # the same numbers from models fitted once by hand and handed to both steps
    fitted = fit_workspace(workspace)
    values, _ = customer_values(fitted=fitted, months=6)
    assert got["total_clv"].sum() == pytest.approx(values["clv"].sum())
    channels = acquisition_channels(workspace)
    bands = channel_clv_intervals(workspace, channels, fitted=fitted, months=6, n_draws=40).set_index(
        "channel"
    )
    assert got.set_index("channel")["total_clv_lower"].to_dict() == pytest.approx(
        bands["total_clv_lower"].to_dict()
    )
