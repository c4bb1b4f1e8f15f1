"""Every KPI of the engine against an independent pandas computation on the demo shop's Parquet files."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from trueroi.metrics import kpi_report

START, END = date(2026, 7, 1), date(2026, 9, 30)
SALE = ("paid", "fulfilled", "completed", "partially_refunded")


def _read(files, table: str) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in files.parts(table)], ignore_index=True)


def _in_period(frame: pd.DataFrame, col: str = "date_day") -> pd.DataFrame:
    day = pd.to_datetime(frame[col]).dt.date
    return frame[(day >= START) & (day <= END)]


def _eur(frame: pd.DataFrame, fx: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    rates = fx.set_index([pd.to_datetime(fx["date_day"]).dt.date, "currency"])["rate_to_base"]
    keys = list(zip(pd.to_datetime(frame["date_day"]).dt.date, frame["currency"], strict=True))
    rate = np.array([1.0 if cur == "EUR" else rates[(d, cur)] for d, cur in keys])
    return frame.assign(**{c: frame[c] * rate for c in cols})


def _last_non_direct(orders: pd.DataFrame, touches: pd.DataFrame) -> pd.Series:
    pairs = orders[["order_id", "user_id", "ts"]].merge(
        touches[["user_id", "ts", "channel"]].rename(columns={"ts": "t_ts"}), on="user_id"
    )
    pairs = pairs[(pairs["t_ts"] <= pairs["ts"]) & (pairs["t_ts"] >= pairs["ts"] - pd.Timedelta(days=30))]
    pairs = pairs.assign(direct=pairs["channel"].str.lower().isin(["direct", "(direct)"]))
    pairs = pairs.sort_values(["order_id", "direct", "t_ts"], ascending=[True, True, False])
    best = pairs.drop_duplicates("order_id").set_index("order_id")["channel"]
    return orders["order_id"].map(best).fillna("(unattributed)")


def _other_costs(costs: pd.DataFrame, ads_eur: pd.DataFrame) -> pd.Series:
    days = pd.date_range(START, END).date
    daily = []
    for row in costs.itertuples():
        span = pd.date_range(row.period_start, row.period_end).date
        for d in span:
            if START <= d <= END:
                daily.append((d, row.channel, row.amount / len(span)))
    daily = pd.DataFrame(daily, columns=["day", "channel", "amount"])
    spend = (
        ads_eur.assign(day=pd.to_datetime(ads_eur["date_day"]).dt.date)
        .groupby(["day", "channel"])["spend"]
        .sum()
    )
    out: dict[str, float] = {}
    for row in daily[daily["channel"].notna()].itertuples():
        out[row.channel] = out.get(row.channel, 0.0) + row.amount
    loose = daily[daily["channel"].isna()].groupby("day")["amount"].sum()
    for d in days:
        if d in loose.index:
            share = spend.loc[d] / spend.loc[d].sum()
            for ch, s in share.items():
                out[ch] = out.get(ch, 0.0) + loose[d] * s
    return pd.Series(out)


@pytest.fixture(scope="module")
def expected(demo_shop) -> pd.DataFrame:
    files = demo_shop.files
    fx = _read(files, "fx_rates")
    ads = _eur(_in_period(_read(files, "ad_performance")), fx, ["spend", "conversions_value"])
    orders = _in_period(_read(files, "orders"))
    orders = orders[orders["status"].isin(SALE)].copy()
    touches = _read(files, "touchpoints")
    orders["channel"] = _last_non_direct(orders, touches).to_numpy()
    sessions = _in_period(touches)
    g = pd.DataFrame(
        {
            "spend": ads.groupby("channel")["spend"].sum(),
            "impressions": ads.groupby("channel")["impressions"].sum(),
            "clicks": ads.groupby("channel")["clicks"].sum(),
            "platform_conversions": ads.groupby("channel")["conversions"].sum(),
            "revenue": orders.groupby("channel")["revenue"].sum(),
            "cogs": orders.groupby("channel")["cogs"].sum(),
            "conversions": orders.groupby("channel").size(),
            "new_customers": orders.groupby("channel")["is_new_customer"].sum(),
            "sessions": sessions.groupby("channel").size(),
            "engaged": sessions.groupby("channel")["engaged"].sum(),
            "users": sessions.groupby("channel")["user_id"].nunique(),
            "other_costs": _other_costs(_read(files, "costs"), ads),
        }
    ).fillna(0.0)
    spend = g["spend"].where(g["spend"] > 0)
    margin = g["revenue"] - g["cogs"]
    full = g["spend"] + g["other_costs"]
    g["margin"] = margin
    g["roas"] = g["revenue"] / spend
    g["media_roi"] = (margin - g["spend"]) / spend
    g["full_roi"] = (margin - full) / full.where(full > 0)
    g["cpa"] = g["spend"] / g["conversions"].where(g["conversions"] > 0)
    g["cpc"] = g["spend"] / g["clicks"].where(g["clicks"] > 0)
    g["ctr"] = g["clicks"] / g["impressions"].where(g["impressions"] > 0)
    g["aov"] = g["revenue"] / g["conversions"].where(g["conversions"] > 0)
    g["cvr"] = g["conversions"] / g["sessions"].where(g["sessions"] > 0)
    g["bounce_rate"] = 1 - g["engaged"] / g["sessions"].where(g["sessions"] > 0)
    g["new_customer_share"] = g["new_customers"] / g["conversions"].where(g["conversions"] > 0)
    return g


KPIS = [
    "spend",
    "impressions",
    "clicks",
    "platform_conversions",
    "revenue",
    "margin",
    "conversions",
    "new_customers",
    "sessions",
    "users",
    "other_costs",
    "roas",
    "media_roi",
    "full_roi",
    "cpa",
    "cpc",
    "ctr",
    "aov",
    "cvr",
    "bounce_rate",
    "new_customer_share",
]


def test_every_kpi_matches_pandas_by_channel(demo_shop, expected: pd.DataFrame) -> None:
    got = kpi_report(demo_shop.ws, by="channel", start=START, end=END).rows.set_index("channel")
    assert set(got.index) == set(expected.index)
    for kpi in KPIS:
        pd.testing.assert_series_equal(
            got[kpi].astype(float).sort_index(),
            expected[kpi].astype(float).sort_index(),
            check_names=False,
            rtol=1e-6,
            obj=kpi,
        )


def test_totals_match_pandas(demo_shop, expected: pd.DataFrame) -> None:
    totals = kpi_report(demo_shop.ws, start=START, end=END).totals
    for kpi in ("spend", "revenue", "conversions", "sessions", "other_costs"):
        assert totals[kpi] == pytest.approx(expected[kpi].sum(), rel=1e-9)
    margin = expected["margin"].sum()
    spend = expected["spend"].sum()
    assert totals["media_roi"] == pytest.approx((margin - spend) / spend)
