"""Performance-based billing: partner and affiliate commissions, validated, deduplicated and held against
incrementality.

- :mod:`~trueroi.partners.rules`: commission rules per partner and the program's crediting settings
  (state tables ``partner_rules`` and ``partner_program``);
- :mod:`~trueroi.partners.crediting`: which partner earns an order or a lead (Ibis);
- :mod:`~trueroi.partners.commission`: the commission of each credited order or lead (Ibis);
- :mod:`~trueroi.partners.statements`: :func:`partner_statement`, per partner and month;
- :mod:`~trueroi.partners.transactions`: :func:`import_transactions`, network reports into the warehouse;
- :mod:`~trueroi.partners.reconcile`: :func:`reconcile`, network claims against the shop;
- :mod:`~trueroi.partners.value`: :func:`partner_value`, commission against incremental margin.
"""

from trueroi.partners.crediting import Period, credited_events
from trueroi.partners.reconcile import Reconciliation, reconcile
from trueroi.partners.rules import (
    PartnerRule,
    Program,
    RuleList,
    add_partner,
    add_rule,
    list_rules,
    load_program,
    load_rules,
    make_program,
    make_rule,
    remove_rule,
    set_program,
)
from trueroi.partners.statements import Statement, compute_lines, partner_statement
from trueroi.partners.transactions import TransactionImports, import_report, import_transactions
from trueroi.partners.value import PartnerValue, partner_value

__all__ = [
    "PartnerRule",
    "PartnerValue",
    "Period",
    "Program",
    "Reconciliation",
    "RuleList",
    "Statement",
    "TransactionImports",
    "add_partner",
    "add_rule",
    "compute_lines",
    "credited_events",
    "import_report",
    "import_transactions",
    "list_rules",
    "load_program",
    "load_rules",
    "make_program",
    "make_rule",
    "partner_statement",
    "partner_value",
    "reconcile",
    "remove_rule",
    "set_program",
]
