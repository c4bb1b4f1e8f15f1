"""Network reconciliation: what the networks claim against what the shop confirms, per month.

A network's claim is its transactions of the month (by transaction day) for one order and publisher,
summed (a CJ correction is a negative row of its own), declined ones left out. The publisher is a partner
through its rule's ``network`` and ``network_id``. Each claim is compared with the statement line the
shop's crediting gives that partner for that order (:mod:`trueroi.partners.statements`):

- ``not_in_shop``: the order id is not among the shop's orders;
- ``not_confirmed``: the shop has the order but gives the partner no commission for it: the order was
  cancelled or refunded inside the lock period, a voucher or category is excluded, it is credited to
  another partner or to nobody (the brand's own paid click came last), or the publisher has no partner rule;
- ``amount_differs``: the claimed sale amount differs from the sale amount the commission stands on
  (net revenue before refunds, less a refund inside the lock period) by more than ``tolerance``;
- ``commission_differs``: the claimed commission differs from the shop's (after reversals);

and, the other way round,

- ``not_in_network``: an order the shop credits to a partner on a network (not excluded, not reversed)
  that the network does not list for that partner (in any month).

Amounts are compared in the base currency (network amounts converted with ``fx_rates`` of the transaction
day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import pandas as pd

from trueroi.io import jsonable
from trueroi.partners.crediting import Period
from trueroi.partners.rules import PartnerRule, load_rules
from trueroi.partners.statements import Lines, compute_lines
from trueroi.workspace import Workspace
from trueroi.workspace.money import in_base

KINDS = ("not_in_shop", "not_confirmed", "amount_differs", "commission_differs", "not_in_network")
ITEM_KEYS = [
    "kind",
    "network",
    "partner",
    "publisher_id",
    "order_id",
    "transactions",
    "network_sale",
    "shop_sale",
    "network_commission",
    "shop_commission",
    "reason",
]


def _claims(ws: Workspace, period: Period, network: str | None) -> pd.DataFrame:
    """The month's claims per network, publisher and order, in the base currency."""
    if "partner_transactions" not in set(ws.con.list_tables()):
        return pd.DataFrame(
            columns=["network", "publisher_id", "order_id", "transactions", "sale", "commission"]
        )
    pt = ws.table("partner_transactions")
    pt = pt.filter(
        pt.date_day >= period.start,
        pt.date_day <= period.end,
        pt.status.isnull() | (pt.status != "declined"),
        pt.type.isnull() | (pt.type != "lead"),
    )
    if network is not None:
        pt = pt.filter(pt.network == network.strip().lower())
    pt = in_base(ws, pt, ["sale_amount", "commission"], "partner reconciliation")
    per = pt.group_by(
        network=pt.network, publisher_id=pt.publisher_id.strip(), order_id=pt.order_id.strip()
    ).aggregate(
        transactions=pt.transaction_id.group_concat(","),
        sale=pt.sale_amount.sum(),
        commission=pt.commission.sum(),
    )
    frame = per.execute()
    return frame[frame["sale"].fillna(0) > 0].reset_index(drop=True)


def _listed(ws: Workspace, orders: list[str]) -> pd.DataFrame:
    """``network, publisher_id, order_id`` of every not declined transaction for the given orders."""
    if not orders or "partner_transactions" not in set(ws.con.list_tables()):
        return pd.DataFrame(columns=["network", "publisher_id", "order_id"])
    pt = ws.table("partner_transactions")
    keys = ibis.memtable({"_o": orders}, schema={"_o": "string"})
    pt = pt.filter(pt.status.isnull() | (pt.status != "declined"))
    hit = pt.semi_join(keys, pt.order_id.strip() == keys._o)
    return (
        hit.select(network=hit.network, publisher_id=hit.publisher_id.strip(), order_id=hit.order_id.strip())
        .distinct()
        .execute()
    )


def _known_orders(ws: Workspace, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    o = ws.table("orders")
    keys = ibis.memtable({"_o": ids}, schema={"_o": "string"})
    return set(o.semi_join(keys, o.order_id == keys._o).select("order_id").execute()["order_id"])


def _publisher_partners(rules: list[PartnerRule]) -> dict[tuple[str, str], str]:
    return {(r.network, r.network_id): r.partner for r in rules if r.network and r.network_id}


def _item(kind: str, **values: Any) -> dict[str, Any]:
    return {key: values.get(key) for key in ITEM_KEYS} | {"kind": kind}


def _why_not(order: str, partner: str | None, lines: pd.DataFrame, program: str) -> str:
    """Why the shop gives ``partner`` no commission for ``order`` (a line of its own, or another's)."""
    if partner is None:
        return "the publisher has no partner rule (partners rule add ... --network ... --network-id ...)"
    mine = lines[(lines["id"] == order) & (lines["partner"] == partner)]
    if not mine.empty:
        return str(mine.iloc[0]["reason"])
    others = lines[(lines["id"] == order) & (lines["kind"] == "order")]["partner"].tolist()
    if others:
        return f"credited to {', '.join(sorted(set(others)))} ({program})"
    return f"credited to no partner ({program}: no partner click was the deciding one, or none at all)"


def _compare(claim: pd.Series, line: pd.Series | None, tolerance: float) -> list[str]:
    if line is None:
        return []
    kinds = []
    if abs(float(claim["sale"]) - float(line["sale_confirmed"])) > tolerance:
        kinds.append("amount_differs")
    commission = claim["commission"]
    if pd.notna(commission) and abs(float(commission) - float(line["commission"])) > tolerance:
        kinds.append("commission_differs")
    return kinds


@dataclass(frozen=True)
class Reconciliation:
    """The mismatches of a month between the networks' claims and the shop (see the module docstring)."""

    month: str
    as_of: date
    currency: str
    network: str | None
    tolerance: float
    claims: int
    items: list[dict[str, Any]]

    def counts(self) -> dict[str, int]:
        return {k: sum(1 for i in self.items if i["kind"] == k) for k in KINDS}

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi partners reconcile --format json``: ``month, as_of, currency, network,
        tolerance``, how many ``claims`` were compared, ``counts`` per kind and the ``items``."""
        return jsonable(
            {
                "month": self.month,
                "as_of": self.as_of,
                "currency": self.currency,
                "network": self.network,
                "tolerance": self.tolerance,
                "claims": self.claims,
                "counts": self.counts(),
                "items": self.items,
            }
        )

    def rows(self) -> list[dict[str, Any]]:
        """The items, for tables and CSV."""
        return jsonable(self.items)


def _claim_items(claims: pd.DataFrame, computed: Lines, known: set[str], tolerance: float) -> list[dict]:
    lines = computed.frame
    pubs = _publisher_partners(computed.rules)
    items = []
    for _, claim in claims.iterrows():
        partner = pubs.get((claim["network"], claim["publisher_id"]))
        values = {
            "network": claim["network"],
            "partner": partner,
            "publisher_id": claim["publisher_id"],
            "order_id": claim["order_id"],
            "transactions": claim["transactions"],
            "network_sale": claim["sale"],
            "network_commission": claim["commission"],
        }
        if claim["order_id"] not in known:
            items.append(_item("not_in_shop", **values, reason="no such order in the shop"))
            continue
        mine = lines[(lines["id"] == claim["order_id"]) & (lines["partner"] == partner)]
        line = mine.iloc[0] if not mine.empty else None
        if line is None or line["state"] in ("reversed", "excluded"):
            reason = _why_not(claim["order_id"], partner, lines, computed.program.credit)
            items.append(_item("not_confirmed", **values, reason=reason))
            continue
        shop = {"shop_sale": line["sale_confirmed"], "shop_commission": line["commission"]}
        for kind in _compare(claim, line, tolerance):
            items.append(_item(kind, **values, **shop, reason=str(line["reason"] or "")))
    return items


def _missing_items(ws: Workspace, computed: Lines, network: str | None) -> list[dict]:
    on_network = {r.partner: r for r in computed.rules if r.network and r.network_id}
    if network is not None:
        on_network = {p: r for p, r in on_network.items() if r.network == network.strip().lower()}
    lines = computed.frame
    due = lines[
        lines["partner"].isin(list(on_network))
        & (lines["kind"] == "order")
        & lines["state"].isin(["pending", "validated"])
    ]
    listed = _listed(ws, sorted(set(due["id"])))
    have = set(zip(listed["network"], listed["publisher_id"], listed["order_id"], strict=True))
    items = []
    for _, line in due.iterrows():
        rule = on_network[line["partner"]]
        if (rule.network, rule.network_id, line["id"]) in have:
            continue
        items.append(
            _item(
                "not_in_network",
                network=rule.network,
                partner=rule.partner,
                publisher_id=rule.network_id,
                order_id=line["id"],
                shop_sale=line["sale_confirmed"],
                shop_commission=line["commission"],
                reason=f"credited to {rule.partner} ({computed.program.credit}), not in the network's report",
            )
        )
    return items


def reconcile(
    ws: Workspace,
    month: str,
    *,
    partner: str | None = None,
    network: str | None = None,
    tolerance: float = 0.01,
    as_of: date | None = None,
) -> Reconciliation:
    """Compare the networks' claims of ``month`` with the shop (see the module docstring).

    Parameters
    ----------
    partner, network
        Only this partner's or this network's items.
    tolerance
        Amounts that differ by at most this much (base currency) agree.
    as_of
        As in :func:`~trueroi.partners.partner_statement` (default: today).
    """
    period = Period.month(month)
    if partner is not None:
        load_rules(ws, partner)  # an unknown partner is an error, not an empty list
    computed = compute_lines(ws, period, as_of)
    claims = _claims(ws, period, network)
    known = _known_orders(ws, sorted(set(claims["order_id"].dropna())))
    items = _claim_items(claims, computed, known, tolerance) + _missing_items(ws, computed, network)
    if partner is not None:
        items = [i for i in items if i["partner"] == partner]
    items.sort(key=lambda i: (KINDS.index(i["kind"]), str(i["partner"]), str(i["order_id"])))
    return Reconciliation(
        month=period.label,
        as_of=computed.as_of,
        currency=ws.config.base_currency,
        network=network,
        tolerance=tolerance,
        claims=len(claims),
        items=items,
    )
