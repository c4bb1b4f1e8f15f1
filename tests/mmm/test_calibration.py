"""Lift tests: reading them, and calibration pulling a biased model towards the measured lift."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trueroi.errors import DataValidationError
from trueroi.mmm import MMM, read_lift_tests
from trueroi.mmm.simulate import simulate

GOOD = (
    "channel,start,end,delta_spend,lift,lift_se,experiment_id\n"
    "search,2024-03-04,2024-03-31,-5000,-9000,1500,x1\n"
)


def test_read_lift_tests(tmp_path: Path) -> None:
    path = tmp_path / "lifts.csv"
    path.write_text(GOOD)
    df = read_lift_tests(path)
    assert df.loc[0, "channel"] == "search" and df.loc[0, "delta_spend"] == -5000.0
    assert df.loc[0, "start"] == pd.Timestamp("2024-03-04") and df.loc[0, "experiment_id"] == "x1"


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("channel,start,end,delta_spend,lift\nsearch,2024-03-04,2024-03-31,1,2\n", None, "missing column"),
        (GOOD.replace("2024-03-31", "2024-02-01"), "end", "before start"),
        (GOOD.replace("2024-03-04", "March"), "start", "not a date"),
        (GOOD.replace(",1500,", ",0,"), "lift_se", "not positive"),
        (GOOD.replace(",-9000,", ",lots,"), "lift", "not a number"),
        (GOOD.replace(",-5000,", ",0,"), "delta_spend", "moved no spend"),
    ],
)
def test_bad_lift_files(tmp_path: Path, text: str, column: str | None, message: str) -> None:
    path = tmp_path / "lifts.csv"
    path.write_text(text)
    with pytest.raises(DataValidationError, match=message) as info:
        read_lift_tests(path)
    assert info.value.column == column
    assert str(path) in str(info.value)


def test_calibration_pulls_a_confounded_roi_towards_the_lift_tests() -> None:
    # An unobserved demand driver raises channel_0's spend and revenue together, so the data alone overstate
    # channel_0's ROI. Two holdout tests measure the true lift (from the simulator's known response).
    sim = simulate(seed=5, n_periods=104, confounding=3.0)
    rows = []
    for start in (20, 60):
        delta = -sim.df.channel_0.iloc[start : start + 6].sum()
        lift = sim.lift("channel_0", start, 6, delta)
        rows.append(
            {
                "channel": "channel_0",
                "start": sim.df.week[start],
                "end": sim.df.week[start + 5],
                "delta_spend": delta,
                "lift": lift,
                "lift_se": abs(lift) * 0.1,
            }
        )
    fit = lambda lifts: MMM(method="laplace", draws=200, seed=0).fit(  # noqa: E731
        sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls, lift_tests=lifts
    )
    before = fit(None).summary()["channels"]["channel_0"]["roas"]
    after = fit(pd.DataFrame(rows)).summary()["channels"]["channel_0"]["roas"]
    truth = sim.roi["channel_0"]
    assert before["mean"] > truth * 1.2  # the bias is there
    assert abs(after["mean"] - truth) < 0.5 * abs(before["mean"] - truth)
    assert after["upper"] - after["lower"] < before["upper"] - before["lower"]


def test_lift_test_on_an_unknown_channel(tmp_path: Path) -> None:
    sim = simulate(seed=1, n_periods=40)
    lifts = pd.DataFrame(
        {
            "channel": ["tv"],
            "start": ["2022-02-07"],
            "end": ["2022-02-27"],
            "delta_spend": [100.0],
            "lift": [50.0],
            "lift_se": [10.0],
        }
    )
    with pytest.raises(DataValidationError, match="not a channel of the model"):
        MMM(method="map").fit(sim.df, date="week", target="revenue", channels=sim.channels, lift_tests=lifts)
