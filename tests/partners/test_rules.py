"""Partner rules and the crediting program: validation, storage, tiers."""

from __future__ import annotations

import pytest

from trueroi.errors import UsageError
from trueroi.partners import (
    add_partner,
    list_rules,
    load_program,
    load_rules,
    make_rule,
    remove_rule,
    set_program,
)
from trueroi.partners.rules import parse_tiers


def test_tiers_parse_to_ranks_and_rates() -> None:
    assert parse_tiers("500:0.12, 100:0.10") == ((100.0, 0.10), (500.0, 0.12))
    assert parse_tiers(None) == () and parse_tiers(" ") == ()
    for bad in ("100", "x:0.1", "0:0.1", "100:-1", "100:0.1,100:0.2"):
        with pytest.raises(UsageError):
            parse_tiers(bad)


def test_a_rule_is_checked() -> None:
    with pytest.raises(UsageError, match="basis"):
        make_rule("a", source="a", basis="clicks", rate=1)
    with pytest.raises(UsageError, match="at most 1"):
        make_rule("a", source="a", basis="revenue", rate=8)  # 8 % is 0.08
    with pytest.raises(UsageError, match="cannot be recognised"):
        make_rule("a", basis="order", rate=5)
    with pytest.raises(UsageError, match="lock_days"):
        make_rule("a", source="a", basis="order", rate=5, lock_days=-1)
    rule = make_rule("a", network="AWIN", network_id=" 42 ", basis="order", rate=5, tiers="10:6")
    assert (rule.network, rule.network_id, rule.max_rate, rule.kind) == ("awin", "42", 6.0, "order")
    assert rule.tier_table() == [(0.0, 5.0), (10.0, 6.0)]


def test_rules_are_stored_replaced_listed_and_removed(workspace) -> None:
    add_partner(workspace, "deals", source="Deals ", medium="affiliate", basis="revenue", rate=0.05)
    add_partner(workspace, "blog", source="blog", basis="margin", rate=0.2, exclude_vouchers="A, b,a")
    add_partner(workspace, "deals", source="deals", medium="affiliate", basis="revenue", rate=0.07)
    rules = {r.partner: r for r in load_rules(workspace)}
    assert rules["deals"].rate == 0.07 and rules["deals"].match == {"source": "deals", "medium": "affiliate"}
    assert rules["blog"].exclude_vouchers == ("a", "b")
    assert [d["partner"] for d in list_rules(workspace).to_dict()] == ["blog", "deals"]
    with pytest.raises(UsageError, match="same values"):
        add_partner(workspace, "copy", source="deals", medium="affiliate", basis="order", rate=1)
    remove_rule(workspace, "blog")
    assert [r.partner for r in load_rules(workspace)] == ["deals"]
    with pytest.raises(UsageError, match="no partner named"):
        remove_rule(workspace, "blog")
    with pytest.raises(UsageError, match="no partner named 'x'"):
        load_rules(workspace, "x")


def test_the_program(workspace) -> None:
    assert load_program(workspace).to_dict() == {
        "credit": "last_paid_click",
        "lookback_days": 30,
        "paid_channels": None,
    }
    set_program(workspace, credit="markov", lookback_days=14, paid_channels="Paid Search, Paid Social")
    program = load_program(workspace)
    assert (program.credit, program.model, program.lookback_days) == ("markov", "markov", 14)
    assert program.paid_channels == ("Paid Search", "Paid Social")
    assert set_program(workspace, lookback_days=7).credit == "markov"  # what is not given stays
    assert set_program(workspace, paid_channels="").paid_channels is None  # back to channels with spend
    with pytest.raises(UsageError, match="credit"):
        set_program(workspace, credit="first_touch_ever")
    with pytest.raises(UsageError, match="lookback_days"):
        set_program(workspace, lookback_days=0)
