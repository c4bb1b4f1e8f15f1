"""Commission per credited order or lead: rate, tier, exclusions, lock period and reversals (Ibis).

For each event a partner is credited with (:mod:`trueroi.partners.crediting`), in the base currency:

- the basis: ``revenue`` = the order's net revenue before refunds (``revenue + refunded``), ``margin`` =
  that less COGS (COGS missing: ``default_margin`` of the workspace, else an error; a negative margin
  earns nothing), ``order``/``lead`` = 1 (a fixed amount);
- the rate: 0 when excluded (a voucher or category the rule excludes), the ``returning_rate`` for a
  returning customer when the rule sets one, else the tier of the order's rank in the month (the credit of
  the partner's not excluded events of the month before it, in event time then id);
- ``commission_gross = rate x basis x credit``;
- reversal: the order is cancelled or refunded, or (partly) refunded, and the change happened inside the
  lock period (``status_at`` at most ``lock_days`` after the order; a change without a time counts as
  inside) and by the end of ``as_of``: all of the commission is reversed for a cancelled or refunded order,
  the refunded share of its revenue for a partial refund. A change after the lock period is kept;
- the state: ``excluded``, ``reversed``, ``validated`` (the lock period ended by the end of ``as_of``) or
  ``pending``.

``sale_confirmed`` is the sale amount the commission stands on (the net revenue before refunds, less a
refund inside the lock period; nothing for a reversed order), as a network should report it.
``revenue`` and ``margin`` of a line are what the order really brought (after refunds; nothing for a
cancelled order, whatever the lock period), times the credit: what the partner's conversions are worth.
"""

from __future__ import annotations

from datetime import datetime

import ibis

from trueroi.partners.crediting import REVERSAL_STATUSES, Period
from trueroi.partners.rules import ANY_VOUCHER, PartnerRule
from trueroi.workspace import Workspace
from trueroi.workspace.money import in_base

# Columns of ``orders`` added for partner billing: a warehouse created before them reads them as null.
OPTIONAL_ORDER_COLUMNS = {
    "refunded": "float64",
    "status_at": "timestamp",
    "voucher_code": "string",
    "product_category": "string",
}
LINE_COLUMNS = [
    "partner",
    "kind",
    "id",
    "ts",
    "day",
    "customer",
    "credit",
    "basis",
    "basis_amount",
    "refunded",
    "rate",
    "tier_from",
    "commission_gross",
    "commission_reversed",
    "commission",
    "state",
    "lock_until",
    "reason",
    "sale_confirmed",
    "revenue",
    "margin",
]


def _orders(ws: Workspace) -> ibis.Table:
    o = ws.table("orders")
    missing = {c: ibis.null(t) for c, t in OPTIONAL_ORDER_COLUMNS.items() if c not in o.columns}
    return o.mutate(**missing) if missing else o


def order_facts(ws: Workspace, credited: ibis.Table, period: Period) -> ibis.Table:
    """The credited orders' facts in the base currency (one row per credited order and partner)."""
    o = _orders(ws)
    o = o.filter(o.date_day >= period.start, o.date_day <= period.end)
    o = o.select(
        "order_id",
        "ts",
        "date_day",
        "currency",
        "revenue",
        "refunded",
        "cogs",
        "status",
        "status_at",
        "is_new_customer",
        "voucher_code",
        "product_category",
    )
    # the period's orders in the base currency (a missing rate is an error), before the join: checking the
    # rates on the joined table would run the whole crediting a second time
    o = in_base(ws, o, ["revenue", "refunded", "cogs"], "partner statement (orders)").view()
    base = credited.inner_join(o, credited.event_key == o.order_id)
    refunded = base.refunded.fill_null(0.0)
    return base.select(
        "event_key",
        "partner",
        "credit",
        "click_ts",
        "ts",
        "date_day",
        kind=ibis.literal("order"),
        gross=base.revenue.fill_null(0.0) + refunded,
        refunded=refunded,
        cogs=base.cogs,
        status=base.status.lower().strip(),
        status_at=base.status_at,
        is_new=base.is_new_customer,
        voucher=base.voucher_code.strip().lower(),
        category=base.product_category.strip().lower(),
    )


def lead_facts(ws: Workspace, credited: ibis.Table, period: Period) -> ibis.Table:
    """The credited leads in the shape of :func:`order_facts` (no amount, status or voucher)."""
    c = ws.table("conversions")
    c = c.filter(c.date_day >= period.start, c.date_day <= period.end).select(
        "conversion_id", "ts", "date_day"
    )
    joined = credited.inner_join(c, credited.event_key == c.conversion_id)
    return joined.select(
        "event_key",
        "partner",
        "credit",
        "click_ts",
        "ts",
        "date_day",
        kind=ibis.literal("lead"),
        gross=ibis.null("float64"),
        refunded=ibis.literal(0.0),
        cogs=ibis.null("float64"),
        status=ibis.null("string"),
        status_at=ibis.null("timestamp"),
        is_new=ibis.null("boolean"),
        voucher=ibis.null("string"),
        category=ibis.null("string"),
    )


def _rule_tables(rules: list[PartnerRule]) -> dict[str, ibis.Table]:
    """The rules as small tables: settings, tiers, voucher and category lists."""
    settings = ibis.memtable(
        {
            "_r_partner": [r.partner for r in rules],
            "_r_basis": [r.basis for r in rules],
            "_r_kind": [r.kind for r in rules],
            "_r_returning": [r.returning_rate for r in rules],
            "_r_lock": [int(r.lock_days) for r in rules],
            "_r_any_voucher": [ANY_VOUCHER in r.exclude_vouchers for r in rules],
        },
        schema={
            "_r_partner": "string",
            "_r_basis": "string",
            "_r_kind": "string",
            "_r_returning": "float64",
            "_r_lock": "int64",
            "_r_any_voucher": "boolean",
        },
    )
    tiers = [(r.partner, t, v) for r in rules for t, v in r.tier_table()]
    lists = {
        "vx": [(r.partner, v) for r in rules for v in r.exclude_vouchers if v != ANY_VOUCHER],
        "vo": [(r.partner, v) for r in rules for v in r.own_vouchers],
        "cx": [(r.partner, c) for r in rules for c in r.exclude_categories],
    }
    out = {
        "settings": settings,
        "tiers": ibis.memtable(
            {
                "_t_partner": [t[0] for t in tiers],
                "_t_from": [t[1] for t in tiers],
                "_t_rate": [t[2] for t in tiers],
            },
            schema={"_t_partner": "string", "_t_from": "float64", "_t_rate": "float64"},
        ),
    }
    for name, pairs in lists.items():
        out[name] = ibis.memtable(
            {f"_{name}_partner": [p for p, _ in pairs], f"_{name}_value": [v for _, v in pairs]},
            schema={f"_{name}_partner": "string", f"_{name}_value": "string"},
        )
    return out


def _flagged(lines: ibis.Table, tables: dict[str, ibis.Table], column: str, name: str) -> ibis.Table:
    """``lines`` with a boolean ``_{name}``: whether the line's ``column`` is in its partner's list."""
    lines, mem = lines.view(), tables[name]
    hits = mem.select(
        _fp=mem[f"_{name}_partner"], _fv=mem[f"_{name}_value"], **{f"_{name}": ibis.literal(True)}
    )
    joined = lines.left_join(hits, [lines.partner == hits._fp, lines[column] == hits._fv])
    out = joined.select(*lines.columns, hits[f"_{name}"])
    return out.mutate(**{f"_{name}": out[f"_{name}"].fill_null(False)})


def _with_tiers(lines: ibis.Table, tiers: ibis.Table) -> ibis.Table:
    """``lines`` with ``tier_from`` and ``tier_rate``: the highest tier whose rank the line's rank reaches."""
    counted = ibis.cases((lines._excluded, ibis.literal(0.0)), else_=lines.credit)
    window = ibis.window(
        group_by=lines.partner, order_by=[lines.ts, lines.event_key], preceding=None, following=0
    )
    ranked = lines.mutate(_rank=counted.sum().over(window) - counted).view()
    reach = ranked.inner_join(tiers, [ranked.partner == tiers._t_partner, tiers._t_from <= ranked._rank])
    best = reach.group_by(_bp=reach.partner, _be=reach.event_key).aggregate(
        tier_from=reach._t_from.max(), tier_rate=reach._t_rate.argmax(reach._t_from)
    )
    joined = ranked.inner_join(best, [ranked.partner == best._bp, ranked.event_key == best._be])
    return joined.drop("_bp", "_be")


def commission_lines(
    facts: ibis.Table, rules: list[PartnerRule], as_of_end: datetime, default_margin: float | None
) -> ibis.Table:
    """One row per credited event and partner with its commission (columns :data:`LINE_COLUMNS`).

    ``facts`` is :func:`order_facts` or :func:`lead_facts`; ``as_of_end`` the end of the statement's
    ``as_of`` day (UTC, exclusive).
    """
    tables = _rule_tables(rules)
    s = tables["settings"]
    facts = facts.view()  # Ibis cannot join a projection of a join with computed columns again
    lines = facts.inner_join(s, [facts.partner == s._r_partner, facts.kind == s._r_kind])
    lines = _flagged(
        _flagged(_flagged(lines, tables, "voucher", "vx"), tables, "voucher", "vo"), tables, "category", "cx"
    )
    voucher_out = lines.voucher.notnull() & ((lines._r_any_voucher & ~lines._vo) | lines._vx)
    lines = lines.mutate(_voucher_out=voucher_out, _excluded=voucher_out | lines._cx)
    lines = _with_tiers(lines, tables["tiers"])
    returning = (lines.is_new == False) & lines._r_returning.notnull()  # noqa: E712 - an Ibis comparison
    rate = ibis.cases((lines._excluded, 0.0), (returning, lines._r_returning), else_=lines.tier_rate)
    cogs = (
        lines.cogs if default_margin is None else lines.cogs.fill_null(lines.gross * (1.0 - default_margin))
    )
    margin = ibis.greatest(lines.gross - cogs, 0.0)
    basis = ibis.cases(
        (lines._r_basis == "revenue", lines.gross), (lines._r_basis == "margin", margin), else_=1.0
    )
    lines = lines.mutate(_rate=rate, _basis=basis, _cogs=cogs, _gross_c=rate * basis * lines.credit)
    return _reversals(lines, as_of_end)


def _reversals(lines: ibis.Table, as_of_end: datetime) -> ibis.Table:
    lock_end = lines.ts + lines._r_lock.as_interval("D")
    order = lines.kind == "order"
    cancelled = order & lines.status.isin(list(REVERSAL_STATUSES))
    known = lines.status_at.isnull() | (lines.status_at < as_of_end)
    inside = lines.status_at.isnull() | (lines.status_at <= lock_end)
    full = cancelled & known & inside
    partial = order & ~full & (lines.refunded > 0) & known & inside
    share = ibis.cases((lines.gross > 0, ibis.least(lines.refunded / lines.gross, 1.0)), else_=0.0)
    gross_c = lines._gross_c
    reversed_c = ibis.cases((full, gross_c), (partial, gross_c * share), else_=0.0)
    state = ibis.cases(
        (lines._excluded, "excluded"),
        (full, "reversed"),
        (lock_end < as_of_end, "validated"),
        else_="pending",
    )
    kept = cancelled & known & ~inside
    reason = ibis.cases(
        (lines._voucher_out, "voucher " + lines.voucher + " excluded"),
        (lines._cx, "category " + lines.category + " excluded"),
        (full, lines.status + " inside the lock period"),
        (partial, "partial refund inside the lock period"),
        (kept, lines.status + " after the lock period: kept"),
        else_="",
    )
    worth = ibis.cases((cancelled, 0.0), else_=1.0) * lines.credit
    net_share = 1.0 - share
    customer = ibis.cases((lines.is_new == True, "new"), (lines.is_new == False, "returning"))  # noqa: E712
    return lines.select(
        "partner",
        "kind",
        id=lines.event_key,
        ts=lines.ts,
        day=lines.date_day,
        customer=customer,
        credit=lines.credit,
        basis=lines._r_basis,
        basis_amount=lines._basis,
        refunded=lines.refunded,
        rate=lines._rate,
        tier_from=lines.tier_from,
        commission_gross=gross_c,
        commission_reversed=reversed_c,
        commission=gross_c - reversed_c,
        state=state,
        lock_until=lock_end,
        reason=reason,
        sale_confirmed=ibis.cases((full, 0.0), (partial, lines.gross - lines.refunded), else_=lines.gross),
        revenue=worth * (lines.gross - lines.refunded),
        margin=worth * (lines.gross - lines._cogs) * net_share,
        click_ts=lines.click_ts,
    )
