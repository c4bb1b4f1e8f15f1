"""Journeys and per-order credits built from the workspace tables with Ibis (DuckDB here)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from trueroi.attribution import AttributionModel, from_paths, order_credits
from trueroi.attribution.credits import proportional_channel_weights, touch_shares
from trueroi.attribution.warehouse import build_journeys

T = pd.Timestamp


@pytest.fixture
def shop(workspace):
    """Three users. Expected journeys, worked out by hand from the rows below (lookback 30 days):

    u1: Display 01-01 is 35 days before order o1 (02-05) -> outside the window, dropped;
        Non-Brand Search 01-20 and Direct 02-05 (same instant as o1, counts) -> o1 path "Non-Brand
        Search > Direct";
        Email 02-10 and Social 02-20 come before o2 (02-20 12:00) -> "Email > Social Retargeting".
        Affiliate 03-01 follows the last order -> null journey "Affiliate".
    u2: order o3 is cancelled (not a sale) -> "Social Prospecting > Direct" is a null journey.
    u3: lead conversion c1 (type lead) is not an order; with source="orders" u3's touch is a null.
    Order o4 belongs to a user without touches -> no journey.
    """
    tp = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u1", "u1", "u1", "u2", "u2", "u3"],
            "ts": [
                T("2024-01-01"),
                T("2024-01-20"),
                T("2024-02-05"),
                T("2024-02-10"),
                T("2024-02-20"),
                T("2024-03-01"),
                T("2024-01-05"),
                T("2024-01-06"),
                T("2024-01-02"),
            ],
            "channel": [
                "Display",
                "Non-Brand Search",
                "Direct",
                "Email",
                "Social Retargeting",
                "Affiliate",
                "Social Prospecting",
                "Direct",
                "Email",
            ],
            "campaign": ["d1", "nb1", None, "news", "rt", "aff", "pros", None, "news"],
            "is_brand": [False] * 9,
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "user_id": ["u1", "u1", "u2", "u9"],
            "ts": [T("2024-02-05"), T("2024-02-20 12:00"), T("2024-01-06"), T("2024-01-06")],
            "currency": ["EUR"] * 4,
            "revenue": [100.0, 50.0, 80.0, 10.0],
            "cogs": [40.0, 20.0, 30.0, 5.0],
            "status": ["paid", None, "cancelled", "paid"],
        }
    )
    conversions = pd.DataFrame(
        {
            "conversion_id": ["c1"],
            "user_id": ["u3"],
            "ts": [T("2024-03-20")],
            "type": ["lead"],
            "value": [5.0],
        }
    )
    workspace.load({"touchpoints": tp}, source_format="test", file_name="tp", sha256="tp")
    workspace.load({"orders": orders}, source_format="test", file_name="o", sha256="o")
    workspace.load({"conversions": conversions}, source_format="test", file_name="c", sha256="c")
    return workspace


def summary(j) -> list[tuple]:
    return sorted(zip(j.path_strings(), j.conversions, j.value, j.nulls, strict=True))


def test_journeys_from_orders_with_lookback(shop):
    j = build_journeys(shop)
    assert summary(j) == [
        ("Affiliate", 0, 0, 1),
        ("Email", 0, 0, 1),
        ("Email > Social Retargeting", 1, 50, 0),
        ("Non-Brand Search > Direct", 1, 100, 0),
        ("Social Prospecting > Direct", 0, 0, 1),
    ]
    meta = j.journey_meta.set_index("event_id")
    assert set(meta.index.dropna()) == {"o1", "o2"}


def test_longer_lookback_keeps_the_old_touch(shop):
    j = build_journeys(shop, lookback_days=40)
    assert ("Display > Non-Brand Search > Direct", 1, 100, 0) in summary(j)


def test_lookback_per_conversion_type_and_conversions_source(shop):
    # the lead c1 on 03-20 sees u3's Email of 01-02 (78 days before) only with a 90-day window for leads;
    # with 30 days the touch is too old for the lead and, coming before it, is no null journey either
    short = summary(build_journeys(shop, source="conversions"))
    assert not any(p == "Email" for p, *_ in short)
    long = summary(build_journeys(shop, source="conversions", lookback_by_type={"lead": 90}))
    assert ("Email", 1, 5, 0) in long


def test_a_period_keeps_whole_journeys_with_touches_before_its_start(shop):
    # journeys ending on or after the start keep every touch of their window, however long before the start
    j = build_journeys(shop, start=datetime(2024, 2, 5), lookback_days=40)
    assert summary(j) == [
        ("Affiliate", 0, 0, 1),  # u1's touch after its last order: a null journey ending 03-01
        ("Display > Non-Brand Search > Direct", 1, 100, 0),  # o1 at the start; Display 35 days before it
        ("Email > Social Retargeting", 1, 50, 0),
    ]  # u2's and u3's null journeys end in January: outside the period
    # the longest window of a conversion type counts: the lead's 90 days reach 78 days before the start
    leads = build_journeys(
        shop, source="conversions", lookback_by_type={"lead": 90}, start=datetime(2024, 3, 20)
    )
    assert summary(leads) == [("Email", 1, 5, 0)]


def test_exclude_direct_keeps_all_direct_journeys_only(shop):
    j = build_journeys(shop, exclude_direct=True)
    paths = [p for p, *_ in summary(j)]
    assert "Non-Brand Search" in paths and "Social Prospecting" in paths
    assert not any("Direct" in p for p in paths)


def test_order_credits_rule_based_are_exact(shop):
    lndc = order_credits(shop, "last_non_direct_click")
    assert lndc[["order_id", "channel", "credit"]].values.tolist() == [
        ["o1", "Non-Brand Search", 1.0],
        ["o2", "Social Retargeting", 1.0],
    ]
    lin = order_credits(shop, "linear")
    assert lin.groupby("order_id")["credit"].sum().tolist() == [1.0, 1.0]
    assert set(lin.columns) == {"order_id", "channel", "campaign", "is_brand", "credit"}
    assert lin.set_index(["order_id", "channel"]).loc[("o1", "Non-Brand Search"), "campaign"] == "nb1"


def test_order_credits_markov_sum_to_one_per_order(shop):
    credits = order_credits(shop, "markov", lookback_days=40)
    assert set(credits["order_id"]) == {"o1", "o2"}
    assert np.allclose(credits.groupby("order_id")["credit"].sum(), 1.0)
    assert (credits["credit"] >= 0).all()


def test_proportional_weights_recover_known_allocation():
    """Targets made by a known proportional split are reproduced exactly by the fitted weights (IPF).

    Journeys "a > b" (2 conversions) and "b > c" (1): with weights a=1, b=3, c=1 the split is
    a = 2*1/4 = 0.5, b = 2*3/4 + 1*3/4 = 2.25, c = 1/4 = 0.25.
    """
    j = from_paths(["a > b", "b > c"], [2, 1], [0, 0], [0, 0])
    targets = np.array([0.5, 2.25, 0.25])
    lam = proportional_channel_weights(j, targets)
    assert lam / lam[0] == pytest.approx([1.0, 3.0, 1.0], rel=1e-8)
    shares = touch_shares(j, FixedTotals(targets))
    conv = shares * np.repeat(j.conversions, j.lengths)
    assert np.bincount(j.codes, conv) == pytest.approx(targets, rel=1e-8)


class FixedTotals(AttributionModel):
    """A stand-in model whose channel totals are given (not per-journey exact)."""

    name = "fixed_totals_for_test"
    per_journey_exact = False

    def __init__(self, totals):
        self.totals = totals

    def _credit(self, journeys):
        return self.totals, self.totals * 0


def test_order_credits_empty_workspace(workspace):
    out = order_credits(workspace, "linear")
    assert out.empty and list(out.columns) == ["order_id", "channel", "campaign", "is_brand", "credit"]


def test_journeys_that_span_stream_batches_are_folded_whole():
    """Sorted touch rows arriving in batches of 1 and 2 rows give the same journeys as one table.

    By hand: journey "c:o1" = Email (2 days before its end) > Search (0.5 days before), converted, value 10;
    journey "n:u2" = Display, its own end (age 0), not converted. Channels sorted by name: Display 0, Email 1,
    Search 2 -> codes [1, 2, 0], offsets [0, 2, 3].
    """
    import pyarrow as pa

    from trueroi.attribution.warehouse import journeys_from_arrow, journeys_from_batches

    end = T("2025-03-10 12:00")
    table = pa.table(
        {
            "journey_id": ["c:o1", "c:o1", "n:u2"],
            "ts": [end - pd.Timedelta(days=2), end - pd.Timedelta(hours=12), T("2025-03-11")],
            "channel": ["Email", " Search", "Display"],
            "end_ts": [end, end, T("2025-03-11")],
            "value": [10.0, 10.0, None],
            "converted": [True, True, False],
        }
    )
    for batches in (table.to_batches(max_chunksize=1), table.to_batches(max_chunksize=2)):
        j = journeys_from_batches(batches)
        assert j.channels == ("Display", "Email", "Search")
        assert j.offsets.tolist() == [0, 2, 3]
        assert j.codes.tolist() == [1, 2, 0]
        assert j.conversions.tolist() == [1.0, 0.0] and j.value.tolist() == [10.0, 0.0]
        assert j.nulls.tolist() == [0.0, 1.0]
        np.testing.assert_allclose(j.age_days, [2.0, 0.5, 0.0])
    whole = journeys_from_arrow(table)
    assert whole.offsets.tolist() == [0, 2, 3] and whole.codes.tolist() == [1, 2, 0]


def _journey_table(j):
    """One row per journey (its id, path, conversion and value), sorted by id: comparable across orders."""
    return (
        j.journey_meta[["journey_id"]]
        .assign(path=j.path_strings(), conversions=j.conversions, value=j.value)
        .sort_values("journey_id")
        .reset_index(drop=True)
    )


def test_partitioned_build_gives_the_same_journeys(shop):
    """Users split into hash buckets (one query each) give the same journeys as one query, in any count."""
    whole = _journey_table(build_journeys(shop, partitions=1))
    assert whole.journey_id.tolist() == ["c:o1", "c:o2", "n:u1", "n:u2", "n:u3"]
    for n in (2, 3, 7):
        assert _journey_table(build_journeys(shop, partitions=n)).equals(whole)


def test_partitioned_build_gives_the_same_credits_on_the_demo(demo_shop):
    """Every model credits the same conversions and value whether the journeys came in one bucket or five."""
    from trueroi.attribution import get_model, model_names

    one = build_journeys(demo_shop.ws, with_meta=False, partitions=1)
    five = build_journeys(demo_shop.ws, with_meta=False, partitions=5)
    assert one.n_journeys == five.n_journeys and one.channels == five.channels
    assert five.n_journeys > 10_000
    for name in model_names():
        a, b = get_model(name).fit(one), get_model(name).fit(five)
        np.testing.assert_allclose(a.conversions_, b.conversions_, rtol=1e-9, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(a.value_, b.value_, rtol=1e-9, atol=1e-6, err_msg=name)


def test_partitions_must_be_positive(shop):
    from trueroi.errors import UsageError

    with pytest.raises(UsageError, match="partitions must be at least 1"):
        build_journeys(shop, partitions=0)
