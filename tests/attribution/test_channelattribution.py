"""Agreement with ChannelAttribution (Altomare & Loris), the reference implementation in R and Python.

Heuristic models must agree exactly. ChannelAttribution's Markov model simulates paths from the chain, so it
agrees with the exact removal effects only within its Monte-Carlo noise: with ``n`` simulated conversions a
channel visited by a share ``p`` of them has a relative standard error of about ``sqrt((1 - p) / (n p))``; the
tests allow 4 such errors (more for value, whose simulation also draws a conversion value) plus 1 %.

Data: ChannelAttribution's own example data set (``Data.csv``, 10,000 paths over 12 channels) and journeys
generated from known random processes (two seeds and channel sets). The example data is only in
ChannelAttribution's GPL-3 source distribution, so it is not copied into this Apache-2.0 repository: ``make
test`` fetches it from PyPI into ``.cache/peer-data/`` (``tests/attribution/peer_data.py``).
"""

from __future__ import annotations

import ChannelAttribution as ca  # noqa: N813 - test-only peer
import numpy as np
import pandas as pd
import pytest

from trueroi.attribution import attribute, from_paths, get_model

from .peer_data import example_path

NSIM = 300_000
NFOLD = 10


@pytest.fixture(scope="module")
def ca_data() -> pd.DataFrame:
    """A second, larger journey set: 12 channels, paths up to 12 touches."""
    return generated_paths(seed=11, n_users=60_000, n_channels=12)


@pytest.fixture(scope="module")
def ca_example() -> pd.DataFrame:
    """ChannelAttribution's example paths: ``path;total_conversions;total_conversion_value;total_null``."""
    path = example_path()
    if not path.exists():
        pytest.fail(f"{path} is missing: run 'make peer-data' (or 'make test')")
    return pd.read_csv(path, sep=";")


def _ours(frame: pd.DataFrame):
    return from_paths(
        frame.rename(
            columns={
                "total_conversions": "conversions",
                "total_conversion_value": "value",
                "total_null": "nulls",
            }
        )
    )


def generated_paths(seed: int = 7, n_users: int = 40_000, n_channels: int = 6) -> pd.DataFrame:
    """Journeys from a known random process: channel-dependent next-touch, stop and conversion
    probabilities."""
    rng = np.random.default_rng(seed)
    channels = ["Search", "Social", "Email", "Display", "Affiliate", "Direct"]
    channels += [f"Channel {i}" for i in range(len(channels), n_channels)]
    k = len(channels)
    trans = rng.dirichlet(np.ones(k), size=k)
    p_convert = np.array([0.10, 0.03, 0.08, 0.02, 0.05, 0.12] + list(rng.uniform(0.02, 0.1, k - 6)))
    p_stop = np.array([0.25, 0.35, 0.30, 0.45, 0.30, 0.35] + list(rng.uniform(0.25, 0.45, k - 6)))
    start = rng.dirichlet(np.ones(k) * 2)
    rows = {}
    for _ in range(n_users):
        c = rng.choice(k, p=start)
        path = [c]
        while True:
            u = rng.random()
            if u < p_convert[c]:
                outcome = 1
                break
            if u < p_convert[c] + p_stop[c] or len(path) >= 12:
                outcome = 0
                break
            c = rng.choice(k, p=trans[c])
            path.append(c)
        key = " > ".join(channels[i] for i in path)
        conv, val, nul = rows.get(key, (0, 0.0, 0))
        value = float(rng.gamma(2.0, 40.0)) if outcome else 0.0
        rows[key] = (conv + outcome, val + value, nul + (1 - outcome))
    frame = pd.DataFrame(
        [(p, c, v, n) for p, (c, v, n) in rows.items()],
        columns=["path", "total_conversions", "total_conversion_value", "total_null"],
    )
    return frame


def _check_heuristics(frame: pd.DataFrame) -> None:
    ref = ca.heuristic_models(
        frame, "path", "total_conversions", var_value="total_conversion_value", flg_pro=False
    ).set_index("channel_name")
    result = attribute(_ours(frame), ["first_click", "last_click", "linear"])
    conv, value = result.wide("conversions"), result.wide("value")
    for ours, theirs in (
        ("first_click", "first_touch"),
        ("last_click", "last_touch"),
        ("linear", "linear_touch"),
    ):
        np.testing.assert_allclose(
            conv[ours], ref.loc[conv.index, f"{theirs}_conversions"], rtol=1e-12, atol=1e-9
        )
        np.testing.assert_allclose(
            value[ours], ref.loc[value.index, f"{theirs}_value"], rtol=1e-12, atol=1e-9
        )


def _check_markov(frame: pd.DataFrame, order: int = 1, seed: int = 1) -> None:
    model = get_model("markov", order=order).fit(_ours(frame))
    ref = ca.markov_model(
        frame,
        "path",
        "total_conversions",
        var_value="total_conversion_value",
        var_null="total_null",
        order=order,
        nsim_start=NSIM,
        nfold=NFOLD,
        seed=seed,
        verbose=False,
        flg_pro=False,
    ).set_index("channel_name")
    ours = model.credits_.set_index("channel")
    total = ours["conversions"].sum()
    n_sim_conv = model.p_conversion_ * NSIM / NFOLD  # conversions in the one simulation run CA reports
    re = model.removal_effects_.set_index("channel")["removal_effect_conversions"]
    # one simulated visit is worth this much credit; tiny channels are seen a handful of times (Poisson)
    per_visit = total / (n_sim_conv * re.sum())
    per_visit_value = ours["value"].sum() / (n_sim_conv * re.sum())
    for ch in ours.index:
        se = np.sqrt((1 - re[ch]) / (n_sim_conv * re[ch]))
        theirs_c, theirs_v = ref.loc[ch, "total_conversions"], ref.loc[ch, "total_conversion_value"]
        c, v = ours.loc[ch, "conversions"], ours.loc[ch, "value"]
        assert abs(c - theirs_c) <= (4 * se + 0.01) * c + 3 * per_visit, ch
        assert abs(v - theirs_v) <= (8 * se + 0.01) * v + 6 * per_visit_value, ch
    assert ref["total_conversions"].sum() == pytest.approx(total, rel=1e-9)


def test_heuristics_match_exactly_on_channelattributions_example_data(ca_example):
    assert len(ca_example) == 10_000 and ca_example["total_conversions"].sum() > 0
    _check_heuristics(ca_example)


def test_first_order_markov_within_simulation_noise_on_channelattributions_example_data(ca_example):
    _check_markov(ca_example, order=1)


def test_heuristics_match_exactly_on_a_second_generated_set(ca_data):
    _check_heuristics(ca_data)


def test_heuristics_match_exactly_on_generated_journeys():
    _check_heuristics(generated_paths())


def test_first_order_markov_within_simulation_noise_on_a_second_generated_set(ca_data):
    _check_markov(ca_data, order=1)


def test_first_order_markov_within_simulation_noise_on_generated_journeys():
    _check_markov(generated_paths(), order=1)


@pytest.mark.slow
@pytest.mark.parametrize("order", [2, 3])
def test_higher_order_markov_within_simulation_noise_on_a_second_generated_set(ca_data, order):
    _check_markov(ca_data, order=order, seed=3)


def test_exact_markov_is_identical_run_to_run_where_simulation_moves(ca_data):
    """The point of the exact solution: same input, same credits, to the last bit; the simulation moves."""
    j = _ours(ca_data)
    a = get_model("markov").fit(j).conversions_
    b = get_model("markov").fit(j).conversions_
    assert np.array_equal(a, b)
    kw = dict(var_null="total_null", nsim_start=30_000, verbose=False, flg_pro=False)
    r1 = ca.markov_model(ca_data, "path", "total_conversions", seed=1, **kw)["total_conversions"].to_numpy()
    r2 = ca.markov_model(ca_data, "path", "total_conversions", seed=2, **kw)["total_conversions"].to_numpy()
    assert not np.allclose(r1, r2, rtol=1e-6)
