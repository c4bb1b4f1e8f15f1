"""Property tests (Hypothesis; the project's profile draws fixed examples) of partner statements.

Over random shops (orders with refunds, cancellations at any time, vouchers, new and returning customers,
touches of three partners, the brand's paid search, e-mail and direct visits) and random rules (basis,
rate, tiers, returning rate, voucher exclusions, lock period) under every crediting rule:

- the commissions of a month never exceed the rule's maximum rate on the credited orders' basis (revenue
  before refunds, margin, or one per order), line by line and in sum;
- reversals never make a statement negative beyond the reversed commissions: every line's reversal lies
  between 0 and its gross commission, and gross - reversed = pending + validated >= 0 per partner.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueroi.partners import add_rule, make_rule, partner_statement, set_program
from trueroi.workspace import Workspace, WorkspaceConfig

from .shop import LINKS, _day

PARTNERS = ("p0", "p1", "p2")
DEFAULT_MARGIN = 0.3
START = datetime(2026, 10, 1, 11, 0)
LINK_NAMES = {**{p: (p, "affiliate", p, "Affiliate") for p in PARTNERS}, **LINKS}
EPS = 1e-9

order_st = st.fixed_dictionaries(
    {
        "day": st.integers(0, 30),
        "hour": st.integers(0, 11),
        "gross": st.floats(1, 500, allow_nan=False).map(lambda x: round(x, 2)),
        "refund_share": st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0]),
        "status": st.sampled_from(["paid", "paid", "fulfilled", "cancelled", "refunded", "pending"]),
        "status_days": st.one_of(st.none(), st.integers(0, 90)),
        "cogs_share": st.one_of(st.none(), st.floats(0, 1.3)),
        "is_new": st.sampled_from([True, False, None]),
        "voucher": st.sampled_from([None, None, "A", "B"]),
        "touches": st.lists(
            st.tuples(st.sampled_from([*PARTNERS, "search", "email", "direct"]), st.integers(0, 40 * 24)),
            min_size=0,
            max_size=3,
        ),
    }
)
rule_st = st.fixed_dictionaries(
    {
        "basis": st.sampled_from(["revenue", "margin", "order"]),
        "rate": st.sampled_from([0.0, 0.05, 0.1, 0.3]),
        "tiers": st.lists(st.tuples(st.integers(1, 6), st.sampled_from([0.02, 0.15, 0.5])), max_size=2),
        "returning_rate": st.sampled_from([None, 0.0, 0.08]),
        "exclude_vouchers": st.sampled_from([None, "*", "a"]),
        "own_vouchers": st.sampled_from([None, "b"]),
        "lock_days": st.sampled_from([0, 7, 30, 60]),
    }
)
credit_st = st.sampled_from(["last_paid_click", "last_non_direct_click", "linear"])


def _status(o: dict) -> str:
    return "partially_refunded" if o["status"] == "paid" and 0 < o["refund_share"] < 1 else o["status"]


def _cogs(o: dict) -> float | None:
    return None if o["cogs_share"] is None else o["gross"] * o["cogs_share"]


def _status_at(o: dict, ts: datetime) -> datetime | None:
    return None if o["status_days"] is None else ts + timedelta(days=o["status_days"])


def _shop(orders: list[dict]) -> dict[str, pa.Table]:
    ts = [START + timedelta(days=o["day"], hours=o["hour"]) for o in orders]
    refunded = [round(o["gross"] * o["refund_share"], 2) for o in orders]
    status = [_status(o) for o in orders]
    touch_rows = [
        (f"u{i}", link, t - timedelta(hours=back))
        for i, (o, t) in enumerate(zip(orders, ts, strict=True))
        for link, back in o["touches"]
    ]
    names = {"direct": ("(direct)", "(none)", None, "Direct")}
    return {
        "orders": pa.table(
            {
                "order_id": [f"o{i}" for i in range(len(orders))],
                "user_id": [f"u{i}" for i in range(len(orders))],
                "ts": pa.array(ts, pa.timestamp("us")),
                "date_day": [_day(t) for t in ts],
                "currency": ["EUR"] * len(orders),
                "revenue": [o["gross"] - r for o, r in zip(orders, refunded, strict=True)],
                "refunded": refunded,
                "cogs": pa.array([_cogs(o) for o in orders], pa.float64()),
                "status": status,
                "status_at": pa.array(
                    [_status_at(o, t) for o, t in zip(orders, ts, strict=True)], pa.timestamp("us")
                ),
                "is_new_customer": pa.array([o["is_new"] for o in orders], pa.bool_()),
                "voucher_code": pa.array([o["voucher"] for o in orders], pa.string()),
            }
        ),
        "touchpoints": pa.table(
            {
                "touch_id": [f"t{i}" for i in range(len(touch_rows))],
                "user_id": pa.array([r[0] for r in touch_rows], pa.string()),
                "ts": pa.array([r[2] for r in touch_rows], pa.timestamp("us")),
                "date_day": pa.array([_day(r[2]) for r in touch_rows], pa.date32()),
                **{
                    field: pa.array([{**LINK_NAMES, **names}[r[1]][k] for r in touch_rows], pa.string())
                    for k, field in enumerate(("source", "medium", "campaign", "channel"))
                },
            }
        ),
        "ad_performance": pa.table(
            {
                "date_day": [date(2026, 10, 1)],
                "platform": ["google_ads"],
                "campaign_id": ["brand"],
                "channel": ["Paid Search"],
                "currency": ["EUR"],
                "spend": [10.0],
                "impressions": [100],
                "clicks": [5],
            }
        ),
    }


def _statement(orders: list[dict], rules: list[dict], credit: str, as_of: date):  # noqa: ANN202
    with tempfile.TemporaryDirectory() as tmp:
        config = WorkspaceConfig(name="p", default_margin=DEFAULT_MARGIN, backend_url="duckdb://:memory:")
        ws = Workspace.init(Path(tmp) / "ws", config)
        try:
            ws.load(_shop(orders), source_format="test", file_name="shop", sha256="shop")
            for name, rule in zip(PARTNERS, rules, strict=True):
                tiers = ",".join(f"{t}:{r}" for t, r in dict(rule["tiers"]).items()) or None
                settings = {k: v for k, v in rule.items() if k != "tiers"}
                add_rule(ws, make_rule(name, source=name, medium="affiliate", tiers=tiers, **settings))
            set_program(ws, credit=credit)
            return partner_statement(ws, "2026-10", as_of=as_of)
        finally:
            ws.close()


def _basis(order: dict, basis: str) -> float:
    if basis == "revenue":
        return order["gross"]
    if basis == "margin":
        share = 1 - DEFAULT_MARGIN if order["cogs_share"] is None else order["cogs_share"]
        return max(order["gross"] * (1 - share), 0.0)
    return 1.0


SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@SETTINGS
@given(
    orders=st.lists(order_st, min_size=1, max_size=12),
    rules=st.lists(rule_st, min_size=3, max_size=3),
    credit=credit_st,
    as_of=st.dates(date(2026, 10, 5), date(2027, 1, 31)),
)
def test_commissions_within_the_rules_maximum_and_reversals_bounded(orders, rules, credit, as_of) -> None:
    statement = _statement(orders, rules, credit, as_of)
    by_rule = {r.partner: r for r in statement.rules}
    lines = statement.lines
    for line in lines.to_dict(orient="records"):
        order = orders[int(line["id"][1:])]
        rule = by_rule[line["partner"]]
        ceiling = rule.max_rate * _basis(order, rule.basis) * line["credit"]
        assert 0 < line["credit"] <= 1 + EPS
        assert -EPS <= line["commission_gross"] <= ceiling + 1e-6
        assert -EPS <= line["commission_reversed"] <= line["commission_gross"] + 1e-6
        net = line["commission_gross"] - line["commission_reversed"]
        assert line["commission"] == pytest.approx(net, abs=1e-6)
    for block in statement.to_dict()["partners"]:
        rule = by_rule[block["partner"]]
        mine = lines[lines["partner"] == rule.partner]
        pairs = zip(mine["id"], mine["credit"], strict=True)
        ceiling = sum(rule.max_rate * _basis(orders[int(i[1:])], rule.basis) * c for i, c in pairs)
        money = block["commission"]
        assert money["gross"] <= ceiling + 1e-6
        assert 0 <= money["reversed"] <= money["gross"] + 1e-6
        kept = money["gross"] - money["reversed"]
        assert money["pending"] + money["validated"] == pytest.approx(kept, abs=1e-6)
        assert money["pending"] >= -1e-9 and money["validated"] >= -1e-9


@SETTINGS
@given(orders=st.lists(order_st, min_size=1, max_size=12), rules=st.lists(rule_st, min_size=3, max_size=3))
def test_an_order_is_never_credited_more_than_once(orders, rules) -> None:
    """Deduplication: under every rule an order's credits over the partners sum to at most 1."""
    for credit in ("last_paid_click", "last_non_direct_click", "linear"):
        lines = _statement(orders, rules, credit, date(2027, 1, 31)).lines
        assert (lines.groupby("id")["credit"].sum() <= 1 + 1e-9).all()
        if credit != "linear":
            assert lines["id"].is_unique
