"""Reading journeys: the two file layouts, their equivalence, and clear errors on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueroi.attribution import attribute, from_paths, model_names, read_paths_csv
from trueroi.errors import DataValidationError

CHANNELS = ["Search", "Email", "Display", "Direct"]


def write_both_layouts(tmp: Path, users: list[list[tuple[str, int, float]]]) -> tuple[Path, Path]:
    """Write the same journeys as a touchpoint file and as an aggregated file.

    ``users`` holds, per user, touches (channel, conversion flag, value) one day apart. The aggregated file is
    derived independently of the library: split each user's touches after every converting touch.
    """
    rows, agg = [], {}
    for u, touches in enumerate(users):
        journey: list[str] = []
        for k, (ch, conv, val) in enumerate(touches):
            rows.append(
                {
                    "user_id": f"u{u}",
                    "ts": pd.Timestamp("2024-01-01") + pd.Timedelta(days=k),
                    "channel": ch,
                    "conversion": conv,
                    "value": val if conv else 0.0,
                }
            )
            journey.append(ch)
            if conv:
                key = " > ".join(journey)
                c, v, n = agg.get(key, (0, 0.0, 0))
                agg[key] = (c + 1, v + val, n)
                journey = []
        if journey:
            key = " > ".join(journey)
            c, v, n = agg.get(key, (0, 0.0, 0))
            agg[key] = (c, v, n + 1)
    touch_file, agg_file = tmp / "touches.csv", tmp / "paths.csv"
    pd.DataFrame(rows).to_csv(touch_file, index=False)
    pd.DataFrame(
        [(p, c, v, n) for p, (c, v, n) in agg.items()], columns=["path", "conversions", "value", "nulls"]
    ).to_csv(agg_file, index=False)
    return touch_file, agg_file


touch = st.tuples(st.sampled_from(CHANNELS), st.integers(0, 1), st.floats(1, 300, allow_nan=False).map(round))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(touch, min_size=1, max_size=7), min_size=1, max_size=12))
def test_touchpoint_and_aggregated_layouts_agree(tmp_path_factory, users):
    tmp = tmp_path_factory.mktemp("layouts")
    touch_file, agg_file = write_both_layouts(tmp, users)
    a, b = read_paths_csv(touch_file), read_paths_csv(agg_file)
    assert a.total_conversions == b.total_conversions
    assert a.total_value == pytest.approx(b.total_value)
    # time decay is the one model that reads timestamps, which only the touchpoint layout has
    models = [m for m in model_names() if m != "time_decay"]
    ra = attribute(a, models, {"markov": {"order": 2}}).credits.sort_values(
        ["model", "channel"], ignore_index=True
    )
    rb = attribute(b, models, {"markov": {"order": 2}}).credits.sort_values(
        ["model", "channel"], ignore_index=True
    )
    pd.testing.assert_frame_equal(ra[["model", "channel"]], rb[["model", "channel"]])
    np.testing.assert_allclose(ra["conversions"], rb["conversions"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ra["value"], rb["value"], rtol=1e-9, atol=1e-6)


def test_touchpoint_layout_splits_journeys_at_conversions(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text(
        "user_id,ts,channel,conversion,value\n"
        "u1,2024-01-01T10:00:00Z,Search,0,\n"
        "u1,2024-01-02T10:00:00Z,Email,1,50\n"
        "u1,2024-01-03T10:00:00Z,Display,0,\n"
        "u2,2024-01-01T09:00:00Z,Direct,1,20\n"
        "u1,2024-01-01T12:00:00Z,Social,0,\n"  # out of order on purpose
    )
    j = read_paths_csv(f)
    assert sorted(zip(j.path_strings(), j.conversions, j.value, j.nulls, strict=True)) == [
        ("Direct", 1, 20, 0),
        ("Display", 0, 0, 1),
        ("Search > Social > Email", 1, 50, 0),
    ]
    # ages: Search is 1 day before the conversion, Social 22 hours
    ages = dict(zip(np.asarray(j.channels)[j.codes], j.age_days, strict=True))
    assert ages["Search"] == pytest.approx(1.0) and ages["Social"] == pytest.approx(22 / 24)


def test_aggregated_layout_strips_blanks_and_defaults_value_and_nulls(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("path,conversions\n Search >Email ,2\nEmail,1\n")
    j = read_paths_csv(f)
    assert j.path_strings() == ["Search > Email", "Email"]
    assert j.total_value == 0 and j.nulls.sum() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("path,conversions\nSearch,two\n", "row 1, column conversions: 'two' is not a number"),
        ("path,conversions,nulls\nSearch,1,-3\n", "row 1, column nulls"),
        ("path,conversions\n,1\n", "row 1, column path"),
        ("user_id,ts,channel,conversion\nu1,yesterday,Search,1\n", "row 1, column ts"),
        ("user_id,ts,channel,conversion\nu1,2024-01-01,,1\n", "row 1, column channel"),
        ("a,b\n1,2\n", "matches no journeys layout"),
    ],
)
def test_bad_files_name_file_row_and_column(tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(DataValidationError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        read_paths_csv(f)
    assert "bad.csv" in str(err.value)


def test_to_paths_round_trip():
    j = from_paths(["a > b", "a > b", "c"], [1, 2, 0], [5, 6, 0], [0, 1, 4])
    agg = j.to_paths()
    assert agg.to_dict("list") == {
        "path": ["a > b", "c"],
        "conversions": [3.0, 0.0],
        "value": [11.0, 0.0],
        "nulls": [1.0, 4.0],
    }
    assert j.aggregate().n_journeys == 2


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=8), st.integers(0, 3), st.integers(0, 3)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_fast_aggregate_equals_text_aggregation(rows):
    paths = [" > ".join(p) for p, _, _ in rows]
    conv = [c for _, c, _ in rows]
    nulls = [n for _, _, n in rows]
    j = from_paths(paths, conv, [c * 7.0 for c in conv], nulls)
    fast = j.aggregate()
    by_text = {}
    for p, c, n in zip(paths, conv, nulls, strict=True):  # aggregation written out in plain Python
        cc, vv, nn = by_text.get(p, (0, 0.0, 0))
        by_text[p] = (cc + c, vv + 7.0 * c, nn + n)
    got = {
        p: (c, v, n)
        for p, c, v, n in zip(fast.path_strings(), fast.conversions, fast.value, fast.nulls, strict=True)
    }
    assert got == by_text
    pd.testing.assert_frame_equal(
        attribute(fast, "all").credits, attribute(from_paths(j.to_paths()), "all").credits
    )


def test_aggregate_mixes_integer_keys_and_text_for_long_paths():
    # 40 touches do not fit a 63-bit key in base 3; they merge through their text, the short ones through keys
    long = " > ".join(["a", "b"] * 20)
    j = from_paths(
        ["a > b", "b", long, "a > b", long, "b > a"],
        [1, 2, 7, 3, 1, 0],
        [1, 2, 7, 3, 1, 0],
        [0, 1, 0, 1, 2, 5],
    )
    got = {
        p: (c, n)
        for p, c, n in zip(
            j.aggregate().path_strings(), j.aggregate().conversions, j.aggregate().nulls, strict=True
        )
    }
    assert got == {"a > b": (4, 1), "b": (2, 1), long: (8, 2), "b > a": (0, 5)}
