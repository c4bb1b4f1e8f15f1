"""Small journey sets whose credits are derived by hand; the derivation is written next to each case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trueroi.attribution import from_paths, from_touchpoints, get_model
from trueroi.attribution.markov import build_chain, removal_effects


def credits(model: str, journeys, **settings) -> dict[str, float]:
    frame = get_model(model, **settings).fit(journeys).credits_
    return dict(zip(frame["channel"], frame["conversions"], strict=True))


def values(model: str, journeys, **settings) -> dict[str, float]:
    frame = get_model(model, **settings).fit(journeys).credits_
    return dict(zip(frame["channel"], frame["value"], strict=True))


# -- rule-based ---------------------------------------------------------------------------------------
# Journeys (conversions, value):
#   P1 "Search > Email > Direct"   2 conversions, value 100
#   P2 "Display > Search"          1 conversion,  value 30
#   P3 "Direct"                    1 conversion,  value 10
#   P4 "Email > Display"           0 conversions, 3 nulls (credits nothing)
RULE_PATHS = ["Search > Email > Direct", "Display > Search", "Direct", "Email > Display"]
RULE_CONV, RULE_VALUE, RULE_NULLS = [2, 1, 1, 0], [100.0, 30.0, 10.0, 0.0], [0, 0, 0, 3]


@pytest.fixture
def rule_journeys():
    return from_paths(RULE_PATHS, RULE_CONV, RULE_VALUE, RULE_NULLS)


@pytest.mark.parametrize(
    ("model", "expected_conv", "expected_value"),
    [
        # first touch: P1 -> Search 2 (100), P2 -> Display 1 (30), P3 -> Direct 1 (10)
        (
            "first_click",
            {"Search": 2, "Email": 0, "Direct": 1, "Display": 1},
            {"Search": 100, "Direct": 10, "Display": 30},
        ),
        # last touch: P1 -> Direct 2 (100), P2 -> Search 1 (30), P3 -> Direct 1 (10)
        ("last_click", {"Search": 1, "Email": 0, "Direct": 3, "Display": 0}, {"Search": 30, "Direct": 110}),
        # last non-direct: P1 skips Direct -> Email 2 (100); P2 -> Search; P3 is all direct -> Direct keeps it
        (
            "last_non_direct_click",
            {"Search": 1, "Email": 2, "Direct": 1, "Display": 0},
            {"Search": 30, "Email": 100, "Direct": 10},
        ),
        # linear: P1 thirds: 2/3 each (100/3); P2 halves: 1/2 each (15); P3 Direct 1 (10)
        (
            "linear",
            {"Search": 2 / 3 + 0.5, "Email": 2 / 3, "Direct": 2 / 3 + 1, "Display": 0.5},
            {"Search": 100 / 3 + 15, "Email": 100 / 3, "Direct": 100 / 3 + 10, "Display": 15},
        ),
        # position based 40/20/40: P1 Search .4*2=.8, Email .2*2=.4, Direct .4*2=.8; P2 two touches 50/50
        (
            "position_based",
            {"Search": 0.8 + 0.5, "Email": 0.4, "Direct": 0.8 + 1, "Display": 0.5},
            {"Search": 40 + 15, "Email": 20, "Direct": 40 + 10, "Display": 15},
        ),
    ],
)
def test_rule_based_by_hand(rule_journeys, model, expected_conv, expected_value):
    got = credits(model, rule_journeys)
    for ch, want in expected_conv.items():
        assert got[ch] == pytest.approx(want, abs=1e-12), ch
    got_v = values(model, rule_journeys)
    for ch in got_v:
        assert got_v[ch] == pytest.approx(expected_value.get(ch, 0.0), abs=1e-9), ch


def test_position_based_custom_shares(rule_journeys):
    # 30/40/30 on P1: Search .3*2 = .6, Email .4*2 = .8, Direct .3*2 = .6 (+1 from P3);
    # P2 two touches split 30:30 -> 1/2 each
    got = credits("position_based", rule_journeys, first=0.3, last=0.3)
    assert got == pytest.approx({"Search": 1.1, "Email": 0.8, "Direct": 1.6, "Display": 0.5})


def test_time_decay_by_hand():
    # One user: Display 14 days before the order, Search 7 days before, Email at the order.
    # Weights 2^(-14/7)=1/4, 2^(-7/7)=1/2, 2^0=1; sum 7/4 -> shares 1/7, 2/7, 4/7 of one conversion worth 70.
    frame = pd.DataFrame(
        {
            "user_id": ["u"] * 3,
            "ts": ["2024-03-01T12:00:00Z", "2024-03-08T12:00:00Z", "2024-03-15T12:00:00Z"],
            "channel": ["Display", "Search", "Email"],
            "conversion": [0, 0, 1],
            "value": [0, 0, 70.0],
        }
    )
    j = from_touchpoints(frame)
    assert credits("time_decay", j) == pytest.approx({"Display": 1 / 7, "Search": 2 / 7, "Email": 4 / 7})
    assert values("time_decay", j) == pytest.approx({"Display": 10, "Search": 20, "Email": 40})
    # half-life 14 days: weights 1/2, 2^(-1/2), 1
    w = np.array([0.5, 2**-0.5, 1.0])
    assert list(credits("time_decay", j, half_life_days=14).values()) == pytest.approx(
        list((w / w.sum())[[0, 2, 1]])  # channel order: Display, Email, Search
    )


def test_time_decay_without_timestamps_uses_touch_distance():
    # aggregated path "a > b > c", half-life one touch: weights 1/4, 1/2, 1 -> 1/7, 2/7, 4/7
    j = from_paths(["a > b > c"], [1])
    assert credits("time_decay", j) == pytest.approx({"a": 1 / 7, "b": 2 / 7, "c": 4 / 7})


# -- Markov -------------------------------------------------------------------------------------------
def test_markov_first_order_by_hand():
    """Paths: "a > b" 1 conv 1 null; "a" 0 conv 2 nulls; "b > c > a" 2 conv 0 nulls (values 10 per
    conversion).

    Transition counts (weight = conversions + nulls): start->a 2+2=4, start->b 2; a->b 2, a->conv 2,
    a->null 2;
    b->c 2, b->conv 1, b->null 1; c->a 2. So P(start->a)=2/3, P(start->b)=1/3, a: b 1/3, conv 1/3, null 1/3;
    b: c 1/2, conv 1/4, null 1/4; c: a 1.
    Conversion probabilities p_s from each state: p_a = 1/3 + p_b/3, p_b = 1/4 + p_c/2, p_c = p_a
      => p_b = 1/4 + p_a/2, p_a = 1/3 + 1/12 + p_a/6 => p_a = 1/2, p_b = 1/2; P = 2/3 p_a + 1/3 p_b = 1/2.
    Remove a (a -> null): p_c = 0, p_b = 1/4, P = 1/3 * 1/4 = 1/12, RE_a = 1 - (1/12)/(1/2) = 5/6.
    Remove b: p_a = 1/3, P = 2/3 * 1/3 = 2/9, RE_b = 1 - 4/9 = 5/9.
    Remove c: p_b = 1/4, p_a = 1/3 + 1/12 = 5/12, P = 2/3*5/12 + 1/3*1/4 = 13/36, RE_c = 1 - 26/36 = 5/18.
    Sum of RE = 15/18 + 10/18 + 5/18 = 30/18; credits of 3 conversions: a 3*15/30 = 1.5, b 1.0, c 0.5.
    Every conversion is worth 10, so value credits are 10x (15, 10, 5).
    """
    j = from_paths(["a > b", "a", "b > c > a"], [1, 0, 2], [10, 0, 20], [1, 2, 0])
    model = get_model("markov").fit(j)
    assert credits("markov", j) == pytest.approx({"a": 1.5, "b": 1.0, "c": 0.5}, abs=1e-12)
    assert values("markov", j) == pytest.approx({"a": 15, "b": 10, "c": 5}, abs=1e-10)
    re = model.removal_effects_.set_index("channel")["removal_effect_conversions"]
    assert re.to_dict() == pytest.approx({"a": 5 / 6, "b": 5 / 9, "c": 5 / 18}, abs=1e-12)
    assert model.p_conversion_ == pytest.approx(0.5, abs=1e-12)
    tm = model.transition_matrix_.set_index(["state_from", "state_to"])["probability"]
    assert tm[("(start)", "a")] == pytest.approx(2 / 3)
    assert tm[("b", "c")] == pytest.approx(0.5)


def test_markov_value_weights_by_last_state():
    """Value removal effect weights each exit state by the mean value of the conversions leaving it.

    Paths: "a" 1 conv worth 30; "b" 1 conv worth 10; "a > b" 0 conv 2 nulls.
    start->a 3/4 (1+2 of 4), start->b 1/4; a: conv 1/3, b 2/3; b: conv 1/3 (1 of 3), null 2/3.
    Mean value of conversions exiting a: 30, exiting b: 10.
    P(conv via a) = 3/4 * 1/3 = 1/4; P(conv via b) = (1/4 + 3/4*2/3) * 1/3 = 3/4 * 1/3 = 1/4; P = 1/2.
    Value V = 30/4 + 10/4 = 10.
    Remove a: only start->b: P = 1/4 * 1/3 = 1/12, V = 10/12 -> RE_a = 1 - (1/12)/(1/2) = 5/6, REV_a = 1
    - (10/12)/10 = 11/12.
    Remove b: P = V/30 = 1/4, V = 30/4 -> RE_b = 1/2, REV_b = 1 - 7.5/10 = 1/4.
    Conversions (2): a = 2 * (5/6)/(5/6+1/2) = 2 * 5/8 = 1.25, b = 0.75.
    Value (40): a = 40 * (11/12)/(11/12 + 3/12) = 40 * 11/14, b = 40 * 3/14.
    """
    j = from_paths(["a", "b", "a > b"], [1, 1, 0], [30, 10, 0], [0, 0, 2])
    assert credits("markov", j) == pytest.approx({"a": 1.25, "b": 0.75}, abs=1e-12)
    assert values("markov", j) == pytest.approx({"a": 40 * 11 / 14, "b": 40 * 3 / 14}, abs=1e-10)


def test_markov_second_order_remembers_where_a_visit_came_from():
    """Paths: "a > b" 1 conv; "c > b" 1 null.

    Order 1: start->a 1/2, start->c 1/2, a->b, c->b, b: conv 1/2, null 1/2; P = 1/2.
      Remove a: P = 1/2 * 1/2 = 1/4 -> RE 1/2; remove b: P = 0 -> RE 1; remove c: RE 1/2.
      Credits of 1 conversion: a 1/4, b 1/2, c 1/4 (c gets credit though it never converted).
    Order 2: states (a,b) and (c,b); start->(a,b) 1/2 -> conv; start->(c,b) 1/2 -> null; P = 1/2.
      Remove a or b: (a,b) is gone, P = 0, RE 1; remove c: only (c,b) goes, P = 1/2, RE 0.
      Credits: a 1/2, b 1/2, c 0.
    """
    j = from_paths(["a > b", "c > b"], [1, 0], [10, 0], [0, 1])
    assert credits("markov", j, order=1) == pytest.approx({"a": 0.25, "b": 0.5, "c": 0.25}, abs=1e-12)
    assert credits("markov", j, order=2) == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.0}, abs=1e-12)


def test_markov_third_order_by_hand():
    """Paths: "a > b > c" 1 conv; "d > b > c" 1 null.

    Order 2: states (a,b), (d,b), (b,c); start->(a,b) 1/2, start->(d,b) 1/2, both -> (b,c), which
    converts 1/2.
      P = 1/2. Remove a: P = 1/4, RE 1/2; remove d: RE 1/2; remove b or c: P = 0, RE 1.
      Credits: a 1/6, b 1/3, c 1/3, d 1/6.
    Order 3: states (a,b,c) -> conv and (d,b,c) -> null. Removing a, b or c kills the converting state (RE 1);
      removing d leaves P unchanged (RE 0). Credits: a, b, c 1/3 each, d 0.
    """
    j = from_paths(["a > b > c", "d > b > c"], [1, 0], [1, 0], [0, 1])
    assert credits("markov", j, order=2) == pytest.approx({"a": 1 / 6, "b": 1 / 3, "c": 1 / 3, "d": 1 / 6})
    assert credits("markov", j, order=3) == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3, "d": 0.0})


def test_markov_collapses_repeated_channels_and_handles_loops():
    """Path "a > a > b > a" (1 conv) is the state sequence a, b, a (repeats merge, as in ChannelAttribution).

    With a second path "b" (1 null): start->a 1/2, start->b 1/2; a->b 1/2, a->conv 1/2; b->a 1/2, b->null 1/2.
    p_a = 1/2 + p_b/2, p_b = p_a/2 -> p_a = 2/3, p_b = 1/3; P = 1/2 (2/3 + 1/3) = 1/2.
    Remove a: P = 0 (RE 1). Remove b: P = 1/2 * 1/2 = 1/4 (RE 1/2). Credits: a 2/3, b 1/3.
    """
    j = from_paths(["a > a > b > a", "b"], [1, 0], [1, 0], [0, 1])
    chain = build_chain(j, 1)
    re_conv, _, p = removal_effects(chain)
    assert p == pytest.approx(0.5)
    assert re_conv == pytest.approx([1.0, 0.5])
    assert credits("markov", j) == pytest.approx({"a": 2 / 3, "b": 1 / 3})


# -- Shapley ------------------------------------------------------------------------------------------
def test_shapley_conversions_game_by_hand():
    """Channel sets: {a,b} 2 conversions, {a} 1, {b,c} 3.

    v(S) = conversions of journeys whose channel set lies within S:
    v(a)=1, v(b)=0, v(c)=0, v(ab)=3, v(ac)=1, v(bc)=3, v(abc)=6.
    Shapley weights for 3 players: |S|=0: 1/3, |S|=1: 1/6, |S|=2: 1/3.
    phi_a = 1/3 (1-0) + 1/6 (3-0) + 1/6 (1-0) + 1/3 (6-3) = 1/3 + 1/2 + 1/6 + 1 = 2
    phi_b = 1/3 (0) + 1/6 (3-1) + 1/6 (3-0) + 1/3 (6-1) = 1/3 + 1/2 + 5/3 = 2.5
    phi_c = 1/3 (0) + 1/6 (1-1) + 1/6 (3-0) + 1/3 (6-3) = 1/2 + 1 = 1.5
    """
    j = from_paths(["a > b > a", "a", "c > b"], [2, 1, 3], [20, 10, 30], [5, 0, 1])
    assert credits("shapley", j) == pytest.approx({"a": 2.0, "b": 2.5, "c": 1.5})
    assert values("shapley", j) == pytest.approx({"a": 20, "b": 25, "c": 15})


def test_shapley_conversion_rate_game_by_hand():
    """Channel sets (conversions, nulls): {a} (1, 1), {b} (0, 2), {a,b} (3, 1).

    v(S) = conversion rate of journeys whose channel set lies within S:
    v(a) = 1/2, v(b) = 0/2 = 0, v(ab) = (1+0+3)/(2+2+4) = 1/2.
    phi_a = 1/2 (v(a) - 0) + 1/2 (v(ab) - v(b)) = 1/2 (1/2 + 1/2) = 1/2
    phi_b = 1/2 (v(b) - 0) + 1/2 (v(ab) - v(a)) = 0
    Scaled to the 4 conversions (phi / v(ab) * 4): a 4, b 0.
    """
    j = from_paths(["a", "b", "a > b"], [1, 0, 3], [1, 0, 3], [1, 2, 1])
    assert credits("shapley", j, game="conversion_rate") == pytest.approx({"a": 4.0, "b": 0.0}, abs=1e-12)


def test_ordered_shapley_positions_by_hand():
    """Zhao et al. (2018) ordered Shapley: each converting journey's distinct channels, in order of
    first touch.

    "a > b > a" (2 conv): a first, b second, 1 each. "c > b" (3 conv): c first, b second, 1.5 each. "a"
    (1): a first.
    Position credits: (a,1) 2, (b,2) 1 + 1.5 = 2.5, (c,1) 1.5.
    """
    j = from_paths(["a > b > a", "a", "c > b"], [2, 1, 3], [2, 1, 3], [0, 0, 0])
    model = get_model("shapley_ordered").fit(j)
    got = {(r.channel, r.position): r.conversions for r in model.position_credits_.itertuples()}
    assert got == pytest.approx({("a", 1): 2.0, ("b", 2): 2.5, ("c", 1): 1.5})
