"""Network reconciliation finds exactly the mismatches planted in tests/ingest/fixtures/awin_transactions.csv.

The shop is tests/partners/shop.py (statement by hand in test_worked_statement.py); the Awin report claims,
for the publisher 111 (deals) unless said otherwise:

- O1, O2 (100/5.00, 200/10.00), O3 as Awin amended it after the return (60/6.00), O7 (150/15.00, cancelled
  after the lock period: kept): all agree with the shop;
- O4 declined by Awin (voucher): no claim;
- O5 with a sale amount of 85.00 (the shop: 80.00): amount_differs;
- O6 cancelled inside the lock period, still pending at Awin: not_confirmed;
- O8 (blog's click came after deals'): not_confirmed, credited to blog;
- O9 (the brand's Paid Search click came after deals'): not_confirmed, credited to nobody;
- O10 with 3.00 commission (5 %; the shop pays 10 % from the 3rd order): commission_differs;
- O99, an order the shop does not have: not_in_shop;
and blog's O8 (blog is on Awin as 222) is not in the report: not_in_network.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from trueroi.errors import UsageError
from trueroi.partners import import_transactions, reconcile

from .shop import build

AWIN = Path(__file__).parents[1] / "ingest" / "fixtures" / "awin_transactions.csv"
AS_OF = date(2026, 11, 20)


@pytest.fixture
def shop(workspace):
    build(workspace)
    import_transactions(workspace, [AWIN])
    return workspace


def test_exactly_the_planted_mismatches(shop) -> None:
    result = reconcile(shop, "2026-10", as_of=AS_OF)
    found = [(i["kind"], i["partner"], i["order_id"]) for i in result.items]
    assert found == [
        ("not_in_shop", "deals", "O99"),
        ("not_confirmed", "deals", "O6"),
        ("not_confirmed", "deals", "O8"),
        ("not_confirmed", "deals", "O9"),
        ("amount_differs", "deals", "O5"),
        ("commission_differs", "deals", "O10"),
        ("not_in_network", "blog", "O8"),
    ]
    assert result.claims == 10  # 11 transactions, one declined
    by = {(i["kind"], i["order_id"]): i for i in result.items}
    assert (by["amount_differs", "O5"]["network_sale"], by["amount_differs", "O5"]["shop_sale"]) == (
        85.0,
        80.0,
    )
    commission = by["commission_differs", "O10"]
    assert (commission["network_commission"], commission["shop_commission"]) == pytest.approx((3.0, 6.0))
    assert by["not_confirmed", "O6"]["reason"] == "cancelled inside the lock period"
    assert by["not_confirmed", "O8"]["reason"].startswith("credited to blog")
    assert by["not_confirmed", "O9"]["reason"].startswith("credited to no partner")
    assert by["not_in_network", "O8"]["shop_commission"] == pytest.approx(6.0)
    assert result.to_dict()["counts"] == {
        "not_in_shop": 1,
        "not_confirmed": 3,
        "amount_differs": 1,
        "commission_differs": 1,
        "not_in_network": 1,
    }


def test_a_partner_and_a_tolerance(shop) -> None:
    blog = reconcile(shop, "2026-10", partner="blog", as_of=AS_OF)
    assert [(i["kind"], i["order_id"]) for i in blog.items] == [("not_in_network", "O8")]
    loose = reconcile(shop, "2026-10", tolerance=5.0, as_of=AS_OF)
    # 85 vs 80 and 3 vs 6 lie within 5.00
    assert not {"amount_differs", "commission_differs"} & {i["kind"] for i in loose.items}
    with pytest.raises(UsageError, match="no partner named"):
        reconcile(shop, "2026-10", partner="nobody", as_of=AS_OF)


def test_another_month_has_no_claims(shop) -> None:
    result = reconcile(shop, "2026-09", as_of=AS_OF)
    assert (result.claims, result.items) == (0, [])
