"""Invariants of every model, checked on random journeys (hypothesis) and on exact brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueroi.attribution import attribute, from_paths, get_model, model_names
from trueroi.attribution.shapley import characteristic_function, mobius, shapley_value, subset_sum

LETTERS = ["Search", "Email", "Display", "Social", "Direct", "Affiliate"]


@st.composite
def journey_sets(draw, min_channels: int = 1, max_channels: int = 5):
    k = draw(st.integers(min_channels, max_channels))
    labels = LETTERS[:k]
    n = draw(st.integers(1, 8))
    paths, conv, value, nulls = [], [], [], []
    for _ in range(n):
        path = draw(st.lists(st.sampled_from(labels), min_size=1, max_size=6))
        paths.append(" > ".join(path))
        c = draw(st.integers(0, 4))
        conv.append(c)
        value.append(draw(st.floats(0, 500, allow_nan=False)) if c else 0.0)
        nulls.append(draw(st.integers(0, 4)))
    return paths, conv, value, nulls


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL_SETTINGS = {"markov": {"order": 1}}


@SETTINGS
@given(journey_sets(), st.integers(1, 3))
def test_credits_sum_to_totals(data, order):
    j = from_paths(*data)
    result = attribute(j, "all", {"markov": {"order": order}})
    sums = result.credits.groupby("model")[["conversions", "value"]].sum()
    has_conv = j.total_conversions > 0
    for model, row in sums.iterrows():
        assert row["conversions"] == pytest.approx(j.total_conversions if has_conv else 0.0, abs=1e-9), model
        if model != "markov" or has_conv:
            assert row["value"] == pytest.approx(j.total_value, rel=1e-9, abs=1e-6), model
    assert (result.credits["conversions"] >= -1e-12).all()


@SETTINGS
@given(journey_sets(min_channels=2))
def test_channel_on_no_converting_path_gets_zero(data):
    paths, conv, value, nulls = data
    # add a channel that only appears in journeys without conversions
    paths = paths + ["Search > Newcomer", "Newcomer"]
    conv, value, nulls = conv + [0, 0], value + [0.0, 0.0], nulls + [2, 1]
    j = from_paths(paths, conv, value, nulls)
    for name in model_names():
        if name == "markov":
            continue  # a chain can pass through a channel on its way to a conversion; see the next test
        credit = get_model(name).fit(j).credits_.set_index("channel").loc["Newcomer"]
        assert credit["conversions"] == 0 and credit["value"] == 0, name


@SETTINGS
@given(journey_sets(min_channels=2), st.integers(1, 3))
def test_markov_gives_zero_to_a_channel_that_only_ends_lost_journeys(data, order):
    # Markov generalises beyond observed paths, so "on no converting path" is not enough for zero credit;
    # a channel from which every observed transition leads to (null) can never be on a simulated conversion.
    paths, conv, value, nulls = data
    j = from_paths(paths + ["Search > Dead End"], conv + [0], value + [0.0], nulls + [3])
    credit = get_model("markov", order=order).fit(j).credits_.set_index("channel").loc["Dead End"]
    assert credit["conversions"] == pytest.approx(0.0, abs=1e-9)


@SETTINGS
@given(journey_sets(), st.permutations(list(range(6))))
def test_relabeling_channels_permutes_the_result(data, perm):
    paths, conv, value, nulls = data
    # "Direct" keeps its name: it means something to last non-direct click
    rename = {LETTERS[i]: "Direct" if LETTERS[i] == "Direct" else f"ch{perm[i]}" for i in range(6)}
    renamed = [" > ".join(rename[c] for c in p.split(" > ")) for p in paths]
    a = attribute(from_paths(paths, conv, value, nulls), "all").credits
    b = attribute(from_paths(renamed, conv, value, nulls), "all").credits
    b = b.assign(channel=b["channel"].map({v: k for k, v in rename.items()}))
    merged = a.merge(b, on=["model", "channel"], suffixes=("_a", "_b"))
    assert len(merged) == len(a) == len(b)
    np.testing.assert_allclose(merged["conversions_a"], merged["conversions_b"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(merged["value_a"], merged["value_b"], rtol=1e-9, atol=1e-7)


@SETTINGS
@given(journey_sets())
def test_identical_results_run_to_run(data):
    a = attribute(from_paths(*data), "all").credits
    b = attribute(from_paths(*data), "all").credits
    assert a.equals(b)


def brute_force_shapley(v: np.ndarray, n: int) -> np.ndarray:
    """Average marginal contribution over all n! orderings (the definition, Shapley 1953)."""
    phi = np.zeros(n)
    for order in itertools.permutations(range(n)):
        mask = 0
        for i in order:
            phi[i] += v[mask | (1 << i)] - v[mask]
            mask |= 1 << i
    return phi / math.factorial(n)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_transform_shapley_equals_permutation_definition(n, seed):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=1 << n)
    v[0] = 0.0
    np.testing.assert_allclose(shapley_value(v), brute_force_shapley(v, n), rtol=1e-9, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 10), st.integers(0, 2**32 - 1))
def test_mobius_inverts_subset_sum(n, seed):
    f = np.random.default_rng(seed).normal(size=1 << n)
    np.testing.assert_allclose(mobius(subset_sum(f)), f, atol=1e-9)
    # subset sum by definition on a few masks
    g = subset_sum(f)
    for s in np.random.default_rng(seed).integers(0, 1 << n, size=5):
        want = sum(f[t] for t in range(1 << n) if t & s == t)
        assert g[s] == pytest.approx(want, abs=1e-9)


def test_shapley_is_exact_with_twenty_channels():
    """20 channels (2^20 coalitions): the transform route equals the closed form of the conversions game.

    For v(S) = sum of conversions of journeys whose channel set lies within S, the Harsanyi dividend of
    a set T
    is the conversions of journeys with exactly that set, so phi_i = sum over journeys containing i of
    conversions / (number of distinct channels) (Zhao et al. 2018, eq. 6), computed here with plain Python.
    """
    rng = np.random.default_rng(2024)
    channels = [f"c{i:02d}" for i in range(20)]
    paths, conv = [], []
    for _ in range(3000):
        k = int(rng.integers(1, 8))
        paths.append(" > ".join(rng.choice(channels, size=k)))
        conv.append(int(rng.integers(0, 3)))
    j = from_paths(paths, conv, np.asarray(conv) * 10.0, np.ones(len(paths)))
    assert j.n_channels == 20
    v = characteristic_function(j, "conversions")
    assert len(v) == 2**20
    phi = shapley_value(v)
    closed = dict.fromkeys(channels, 0.0)
    for p, c in zip(paths, conv, strict=True):
        distinct = set(p.split(" > "))
        for ch in distinct:
            closed[ch] += c / len(distinct)
    np.testing.assert_allclose(phi, [closed[ch] for ch in j.channels], rtol=1e-9)
    model = get_model("shapley").fit(j)
    np.testing.assert_allclose(model.conversions_, phi, rtol=1e-9)
    rate = get_model("shapley", game="conversion_rate").fit(j)
    assert rate.conversions_.sum() == pytest.approx(sum(conv), rel=1e-9)
