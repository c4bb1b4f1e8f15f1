"""RFM summaries, calibration/holdout split and holdout checks.

The CDNOW transaction sample shipped with lifetimes must reproduce the published 2,357-customer,
39-week calibration summary (cdnow_customers_summary_with_transactions.csv); small logs are worked out by
hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trueroi.clv import BetaGeoFitter
from trueroi.clv.data import calibration_holdout, holdout_check, rfm_summary, tracking
from trueroi.errors import DataValidationError, UsageError

from .conftest import lifetimes_datasets


@pytest.fixture(scope="module")
def cdnow_log() -> pd.DataFrame:
    raw = pd.read_csv(
        lifetimes_datasets() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw


def test_cdnow_log_reproduces_the_published_calibration_summary(cdnow_log, cdnow) -> None:
    got = rfm_summary(cdnow_log, amount_col="amount", observation_end="1997-09-30")
    assert len(got) == 2357
    ref = cdnow.set_index("ID")
    np.testing.assert_array_equal(got["frequency"].to_numpy(), ref["x"].to_numpy())
    # the shipped summary is rounded to 2 decimals
    np.testing.assert_allclose(got["recency"].to_numpy(), ref["t_x"].to_numpy(), atol=0.005 + 1e-9)
    np.testing.assert_allclose(got["T"].to_numpy(), ref["T"].to_numpy(), atol=0.005 + 1e-9)
    np.testing.assert_allclose(got["monetary_value"].to_numpy(), ref["zbar"].to_numpy(), atol=0.005 + 1e-9)


def test_rfm_summary_by_hand_in_days_and_weeks() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "date": [
                "2024-01-01",
                "2024-01-01 18:00",
                "2024-01-15",
                "2024-01-29",
                "2024-01-10",
                "2024-02-10",
            ],
            "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 3.0],
        }
    )
    days = rfm_summary(log, amount_col="amount", observation_end="2024-02-05", unit="D")
    # a: purchase days Jan 1 (15 in two orders), Jan 15, Jan 29 -> 2 repeats, recency 28, T 35, mean 30
    assert days.loc["a"].tolist() == [2, 28.0, 35.0, 30.0]
    assert days.loc["b"].tolist() == [0, 0.0, 26.0, 0.0]
    assert "c" not in days.index  # first purchase after the observation end
    weeks = rfm_summary(log, observation_end="2024-02-05", unit="W")
    assert weeks.loc["a", "recency"] == 4.0 and weeks.loc["a", "T"] == 5.0
    assert "monetary_value" not in weeks.columns


def test_calibration_holdout_split_by_hand() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c"],
            "date": ["2024-01-01", "2024-01-08", "2024-01-20", "2024-01-25", "2024-01-03", "2024-01-18"],
            "amount": [1.0, 2.0, 3.0, 5.0, 4.0, 6.0],
        }
    )
    got = calibration_holdout(log, "2024-01-14", observation_end="2024-01-28", amount_col="amount", unit="D")
    assert list(got.index) == ["a", "b"]  # c arrives in the holdout period
    assert got.loc["a", ["frequency_cal", "recency_cal", "T_cal", "monetary_value_cal"]].tolist() == [
        1,
        7.0,
        13.0,
        2.0,
    ]
    assert got.loc["a", ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]].tolist() == [
        2,
        4.0,
        14.0,
    ]
    assert got.loc["b", "frequency_holdout"] == 0


def test_holdout_check_on_cdnow_tracks_the_actual_purchases(cdnow_log) -> None:
    split = calibration_holdout(cdnow_log, "1997-09-30", observation_end="1998-06-30")
    model = BetaGeoFitter().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    check = holdout_check(model, split)
    assert check["frequency_cal"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert check["customers"].sum() == 2357
    # FHL 2005a figure 4: the conditional expectations follow the holdout means group by group
    assert np.all(np.abs(check["predicted"] - check["actual"]) < 0.6)
    assert np.corrcoef(check["predicted"], check["actual"])[0, 1] > 0.98
    curve = tracking(model, cdnow_log, calibration_end="1997-09-30", observation_end="1998-06-30")
    assert len(curve) == 77 and (np.diff(curve["actual"]) >= 0).all()
    # cumulative repeat purchases at the end of week 78: predicted within 10% of actual
    last = curve.iloc[-1]
    assert abs(last["predicted"] - last["actual"]) / last["actual"] < 0.10


def test_bad_logs_name_the_column() -> None:
    with pytest.raises(DataValidationError, match="date"):
        rfm_summary(pd.DataFrame({"customer_id": ["a"], "date": ["not a date"]}))
    with pytest.raises(DataValidationError, match="amount"):
        rfm_summary(
            pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"], "amount": ["x"]}), amount_col="amount"
        )
    with pytest.raises(DataValidationError, match="customer_id"):
        rfm_summary(pd.DataFrame({"date": ["2024-01-01"]}))
    with pytest.raises(UsageError):
        rfm_summary(pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"]}), unit="M")


def test_mixed_utc_offsets_are_converted_to_utc_before_cutting_days() -> None:
    # a Shopify column across the daylight-saving change of 2025-03-30: +0100 before, +0200 after
    log = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "b"],
            "date": [
                "2025-03-29 10:00:00 +0100",  # 09:00 UTC, March 29
                "2025-04-02 09:00:00 +0200",  # 07:00 UTC, April 2
                "2025-04-06 00:30:00 +0200",  # 22:30 UTC, April 5 (local April 6)
                "2025-04-10 12:00:00 +0200",  # 10:00 UTC, April 10
            ],
        }
    )
    got = rfm_summary(log, unit="D")
    # a: March 29 and April 5 (UTC) -> 1 repeat, recency 7 days, T 12 days to April 10
    assert got.loc["a"].tolist() == [1, 7.0, 12.0]
    assert got.loc["b"].tolist() == [1, 8.0, 8.0]


def test_a_date_that_cannot_be_parsed_names_row_and_column() -> None:
    log = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "date": ["2025-03-29 10:00:00 +0100", "2025-04-02", "31.02.x"]}
    )
    with pytest.raises(DataValidationError) as info:
        rfm_summary(log)
    assert (info.value.row, info.value.column, info.value.value) == (3, "date", "31.02.x")
    empty = pd.DataFrame({"customer_id": ["a", "b"], "date": ["2025-03-29", None]})
    with pytest.raises(DataValidationError, match="row 2, column date: is empty"):
        rfm_summary(empty)


def test_line_item_rows_count_once_per_order_on_the_row_with_the_date() -> None:
    from trueroi.clv.data import prepare_transactions

    lines = pd.DataFrame(
        {
            "Name": ["#1", "#1", "#2", "#3", "#3", "#3"],
            "Email": ["a", "a", "b", "a", "a", "a"],
            "Created at": [
                "2025-01-01 10:00 +0100",
                "",
                "2025-01-02 10:00 +0100",
                "2025-01-08 10:00 +0100",
                "",
                "",
            ],
            "Total": ["30.00", "", "12.50", "40.00", None, None],
        }
    )
    got = prepare_transactions(
        lines, customer_col="Email", date_col="Created at", amount_col="Total", order_col="Name"
    )
    assert got["Name"].tolist() == ["#1", "#2", "#3"]
    assert got["Total"].tolist() == [30.0, 12.5, 40.0]
    # an empty date on an order that has no dated row is still an error, at its row in the file
    broken = lines.assign(Name=["#1", "#1", "#2", "#3", "#3", "#4"])
    with pytest.raises(DataValidationError) as info:
        prepare_transactions(broken, customer_col="Email", date_col="Created at", order_col="Name")
    assert (info.value.row, info.value.column) == (6, "Created at")
