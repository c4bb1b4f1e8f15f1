"""A statement computed by hand: tiers crossing inside the month, a cancellation inside and one after the
lock period, a partial return, a voucher exclusion, and orders claimed by two partners under every rule.

The shop is tests/partners/shop.py. As of 2026-11-20 (end of day, Berlin), under last paid click:

deals (5 % of revenue, 10 % from its 3rd counted order of the month; vouchers but DEALS10 excluded):
  O1  rank 0, 5 % x 100                                   =  5.00  validated (lock ends 11-01)
  O2  rank 1, 5 % x 200                                   = 10.00  validated
  O3  rank 2 -> 10 %; 40 of 100 refunded on 10-20 (inside the lock period): gross 10.00, reversed
      10.00 x 40/100 = 4.00, commission 6.00             validated
  O4  voucher SUMMER20: excluded, 0; not counted for the tiers
  O5  voucher DEALS10 is its own: rank 3, 10 % x 80       =  8.00  validated
  O6  rank 4, 10 % x 120 = 12.00, cancelled 10-15 inside the lock period: reversed 12.00, commission 0
  O7  rank 5, 10 % x 150 = 15.00, cancelled 11-20 after the lock period (ended 11-08): kept
  O8  not deals': blog's click came after deals' (deduplication)
  O9  nobody's: the brand's own Paid Search click came after deals'
  O10 rank 6, 10 % x 60 = 6.00, lock period ends 11-24: pending
  gross 5 + 10 + 10 + 0 + 8 + 12 + 15 + 6 = 66; reversed 4 + 12 = 16; pending 6;
  validated 5 + 10 + 6 + 8 + 15 = 44 = owed; 66 - 16 = 6 + 44.
blog (20 % of margin, 10 % for returning customers): O8, a returning customer: 10 % x (100 - 40) = 6.00.
leadgen (2.50 per lead): L1 = 2.50 validated.
"""

from __future__ import annotations

from datetime import date

import pytest

from trueroi.partners import import_transactions, partner_statement, set_program

from .shop import build

AS_OF = date(2026, 11, 20)


@pytest.fixture
def shop(workspace):
    return build(workspace)


def _lines(statement, partner: str) -> dict[str, dict]:
    return {line["id"]: line for line in statement.partner_lines(partner).to_dict(orient="records")}


def test_deals_lines_by_hand(shop) -> None:
    lines = _lines(partner_statement(shop, "2026-10", partner="deals", as_of=AS_OF), "deals")
    assert sorted(lines) == sorted(["O1", "O2", "O3", "O4", "O5", "O6", "O7", "O10"])
    expected = {  # id: (rate, gross, reversed, commission, state)
        "O1": (0.05, 5.00, 0.00, 5.00, "validated"),
        "O2": (0.05, 10.00, 0.00, 10.00, "validated"),
        "O3": (0.10, 10.00, 4.00, 6.00, "validated"),
        "O4": (0.00, 0.00, 0.00, 0.00, "excluded"),
        "O5": (0.10, 8.00, 0.00, 8.00, "validated"),
        "O6": (0.10, 12.00, 12.00, 0.00, "reversed"),
        "O7": (0.10, 15.00, 0.00, 15.00, "validated"),
        "O10": (0.10, 6.00, 0.00, 6.00, "pending"),
    }
    for order, (rate, gross, reversed_, commission, state) in expected.items():
        line = lines[order]
        got = (line["rate"], line["commission_gross"], line["commission_reversed"], line["commission"])
        assert got == pytest.approx((rate, gross, reversed_, commission)), order
        assert line["state"] == state, order
    assert lines["O4"]["reason"] == "voucher summer20 excluded"
    assert lines["O7"]["reason"] == "cancelled after the lock period: kept"
    assert lines["O6"]["reason"] == "cancelled inside the lock period"
    assert lines["O3"]["basis_amount"] == pytest.approx(100.0)  # revenue before the refund


def test_deals_summary_by_hand(shop) -> None:
    block = partner_statement(shop, "2026-10", partner="deals", as_of=AS_OF).to_dict()["partners"][0]
    assert block["orders"] == {"credited": 8, "pending": 1, "validated": 5, "reversed": 1, "excluded": 1}
    assert block["commission"] == pytest.approx(
        {"gross": 66.0, "reversed": 16.0, "pending": 6.0, "validated": 44.0, "owed": 44.0}
    )
    assert [line["id"] for line in block["lines"]] == ["O1", "O2", "O3", "O4", "O5", "O6", "O7", "O10"]


def test_every_partner_and_the_totals(shop) -> None:
    doc = partner_statement(shop, "2026-10", as_of=AS_OF).to_dict()
    by = {b["partner"]: b for b in doc["partners"]}
    assert by["blog"]["commission"]["owed"] == pytest.approx(0.10 * (100 - 40))
    assert [(line["id"], line["customer"]) for line in by["blog"]["lines"]] == [("O8", "returning")]
    assert by["leadgen"]["leads"]["validated"] == 1
    assert by["leadgen"]["commission"]["owed"] == pytest.approx(2.5)
    assert doc["totals"]["commission"]["owed"] == pytest.approx(44.0 + 6.0 + 2.5)
    assert (doc["month"], doc["from"], doc["to"], doc["currency"]) == (
        "2026-10",
        "2026-10-01",
        "2026-10-31",
        "EUR",
    )


def test_as_of_moves_orders_from_pending_to_validated(shop) -> None:
    early = partner_statement(shop, "2026-10", partner="deals", as_of=date(2026, 11, 1)).to_dict()
    # by the end of 11-01 only O1's lock period (ends 11-01 12:00 UTC) is over; O7's cancellation (11-20)
    # is not known yet, so O7 is pending and counted in full
    counts = early["partners"][0]["orders"]
    assert (counts["validated"], counts["pending"], counts["reversed"]) == (1, 5, 1)
    assert early["partners"][0]["commission"]["owed"] == pytest.approx(5.0)


def _credited(ws, credit: str, order: str) -> dict[str, float]:
    set_program(ws, credit=credit)
    statement = partner_statement(ws, "2026-10", as_of=AS_OF)
    lines = statement.lines[statement.lines["id"] == order]
    return dict(zip(lines["partner"], lines["credit"], strict=True))


@pytest.mark.parametrize(
    ("credit", "o8", "o9"),
    [
        # O8: deals 09:00, blog 10:00, e-mail 11:00; O9: deals 09:00, the brand's Paid Search 10:00
        ("last_paid_click", {"blog": 1.0}, {}),  # the e-mail is no paid click; Paid Search takes O9
        ("last_non_direct_click", {}, {}),  # the e-mail takes O8, Paid Search O9
        ("network_claim", {"blog": 1.0}, {}),  # latest claimed click wins; O9: brand click after deals'
        ("linear", {"deals": 1 / 3, "blog": 1 / 3}, {"deals": 1 / 2}),  # e-mail and Paid Search keep theirs
    ],
)
def test_an_order_claimed_by_two_partners(shop, credit: str, o8: dict, o9: dict) -> None:
    if credit == "network_claim":
        import_transactions(shop, [_claims_file(shop)], "network")
    assert _credited(shop, credit, "O8") == pytest.approx(o8)
    assert _credited(shop, credit, "O9") == pytest.approx(o9)


def _claims_file(ws):  # noqa: ANN202 - a path
    """Awin's claims of O8 (deals and blog) and O9 (deals), with their click times (Berlin time: 11:00 is
    09:00 UTC, deals' click; 12:00 is blog's)."""
    path = ws.path / "claims.csv"
    path.write_text(
        "network,transaction_id,order_id,publisher_id,ts,click_ts,currency,sale_amount,commission,status\n"
        "awin,1,O8,111,2026-10-10 14:00:00,2026-10-10 11:00:00,EUR,100,5,pending\n"
        "awin,2,O8,222,2026-10-10 14:00:00,2026-10-10 12:00:00,EUR,100,6,pending\n"
        "awin,3,O9,111,2026-10-11 14:00:00,2026-10-11 11:00:00,EUR,100,5,pending\n",
        encoding="utf-8",
    )
    return path


def test_network_claim_without_a_later_brand_click_is_credited(shop) -> None:
    import_transactions(shop, [_claims_file(shop)], "network")
    set_program(shop, credit="network_claim", lookback_days=30)
    statement = partner_statement(shop, "2026-10", as_of=AS_OF)
    # only the claimed orders are credited: O8 to blog (its click 10:00 UTC is the later one)
    assert sorted(zip(statement.lines["partner"], statement.lines["id"], strict=True)) == [("blog", "O8")]
