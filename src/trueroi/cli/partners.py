"""``trueroi partners ...``: performance-based billing of affiliates and other partners.

``rule add | list | remove`` (commission rules per partner), ``program`` (how orders are credited),
``import`` (network transaction reports), ``statement`` (per partner and month), ``reconcile`` (network
claims against the shop) and ``value`` (commission against incremental margin). Each command parses its
options, calls one function of :mod:`trueroi.partners` and renders the result; the library is imported
inside the commands only to keep pandas and Ibis off the start-up path of ``trueroi --help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    group,
    note,
    print_csv,
    print_json,
    print_table,
)
from trueroi.cli.kpis import parse_day
from trueroi.cli.workspace import open_workspace, wrote_to

MonthOpt = Annotated[str, typer.Option("--month", help="Calendar month of the orders, YYYY-MM.")]
PartnerOpt = Annotated[str | None, typer.Option("--partner", help="Only this partner.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="As known by the end of this day, YYYY-MM-DD (default: today)."),
]

RULE_COLUMNS = [
    ("partner", "Partner", "text"),
    ("match", "Touches", "text"),
    ("network", "Network", "text"),
    ("network_id", "Network id", "text"),
    ("basis", "Basis", "text"),
    ("rate", "Rate", "number"),
    ("tiers", "Tiers", "text"),
    ("returning_rate", "Returning", "number"),
    ("exclude_vouchers", "Excl. vouchers", "text"),
    ("exclude_categories", "Excl. categories", "text"),
    ("lock_days", "Lock days", "count"),
]
STATEMENT_COLUMNS = [
    ("partner", "Partner", "text"),
    ("orders", "Orders", "count"),
    ("leads", "Leads", "count"),
    ("n_pending", "Pending", "count"),
    ("n_validated", "Validated", "count"),
    ("n_reversed", "Reversed", "count"),
    ("n_excluded", "Excluded", "count"),
    ("commission_gross", "Gross", "money"),
    ("commission_reversed", "Reversed", "money"),
    ("commission_pending", "Pending", "money"),
    ("commission_owed", "Owed", "money"),
]
RECONCILE_COLUMNS = [
    ("kind", "Kind", "text"),
    ("network", "Network", "text"),
    ("partner", "Partner", "text"),
    ("order_id", "Order", "text"),
    ("network_sale", "Network sale", "money"),
    ("shop_sale", "Shop sale", "money"),
    ("network_commission", "Network comm.", "money"),
    ("shop_commission", "Shop comm.", "money"),
    ("reason", "Reason", "text"),
]
VALUE_COLUMNS = [
    ("partner", "Partner", "text"),
    ("orders", "Orders", "count"),
    ("commission", "Commission", "money"),
    ("margin", "Margin", "money"),
    ("incremental_share", "Incremental", "percent"),
    ("incremental_margin", "Incr. margin", "money"),
    ("roi_on_commission", "ROI on comm.", "ratio"),
    ("source", "Evidence", "text"),
    ("mostly_not_incremental", "Mostly not incr.", "text"),
]


def _emit(result: Any, output: OutputFormat, render: Any) -> None:
    if output == OutputFormat.json:
        print_json(result.to_dict())
    elif output == OutputFormat.csv:
        print_csv(result.rows())
    else:
        render()


def rule_add(
    partner: Annotated[str, typer.Argument(help="Partner name, e.g. dealshero.")],
    basis: Annotated[str, typer.Option("--basis", help="revenue, margin, order (fixed) or lead (fixed).")],
    rate: Annotated[float, typer.Option("--rate", help="Share (0.08 = 8 %) or amount per order/lead.")],
    source: Annotated[str | None, typer.Option("--source", help="utm_source its links carry.")] = None,
    medium: Annotated[str | None, typer.Option("--medium", help="utm_medium its links carry.")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="utm_campaign its links carry.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Channel of its touches.")] = None,
    network: Annotated[str | None, typer.Option("--network", help="Its network: awin, cj, ...")] = None,
    network_id: Annotated[
        str | None, typer.Option("--network-id", help="Its publisher id in the network's reports.")
    ] = None,
    tiers: Annotated[
        str | None,
        typer.Option(
            "--tiers", help="Monthly volume tiers RANK:RATE,... e.g. 100:0.10 (from the 101st order)."
        ),
    ] = None,
    returning_rate: Annotated[
        float | None, typer.Option("--returning-rate", help="Rate for returning customers (0: new only).")
    ] = None,
    exclude_vouchers: Annotated[
        str | None, typer.Option("--exclude-vouchers", help="Voucher codes that earn nothing; * for any.")
    ] = None,
    own_vouchers: Annotated[
        str | None, typer.Option("--own-vouchers", help="The partner's own codes (never excluded).")
    ] = None,
    exclude_categories: Annotated[
        str | None, typer.Option("--exclude-categories", help="Product categories that earn nothing.")
    ] = None,
    lock_days: Annotated[int, typer.Option("--lock-days", help="Validation (lock) period in days.")] = 30,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Declare (or replace) a partner's commission rule."""
    from trueroi.partners import add_partner

    with open_workspace(workspace) as ws:
        rule = add_partner(
            ws,
            partner,
            basis=basis,
            rate=rate,
            source=source,
            medium=medium,
            campaign=campaign,
            channel=channel,
            network=network,
            network_id=network_id,
            tiers=tiers,
            returning_rate=returning_rate,
            exclude_vouchers=exclude_vouchers,
            own_vouchers=own_vouchers,
            exclude_categories=exclude_categories,
            lock_days=lock_days,
        )
    if output == OutputFormat.json:
        print_json(rule.to_dict())
    else:
        console.print(f"partner {rule.partner!r} saved: {rule.basis} at {rule.rate:g}")


def rule_list(output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """The partners' commission rules."""
    from trueroi.partners import list_rules

    with open_workspace(workspace) as ws:
        result = list_rules(ws)

    def render() -> None:
        if not result.rules:
            console.print(
                "no partners yet; add one with 'trueroi partners rule add NAME --basis ... --rate ...'"
            )
        else:
            print_table(result.rows(), RULE_COLUMNS, title="Partner rules")

    _emit(result, output, render)


def rule_remove(
    partner: Annotated[str, typer.Argument(help="Partner name.")], workspace: WorkspaceOpt = None
) -> None:
    """Delete a partner's rule."""
    from trueroi.partners import remove_rule

    with open_workspace(workspace) as ws:
        remove_rule(ws, partner)
    console.print(f"partner {partner!r} removed")


def program(
    credit: Annotated[
        str | None,
        typer.Option(
            "--credit",
            help="last_paid_click, last_non_direct_click, network_claim or an attribution model (linear...).",
        ),
    ] = None,
    lookback_days: Annotated[
        int | None, typer.Option("--lookback-days", help="Days before an order a click may count.")
    ] = None,
    paid_channels: Annotated[
        str | None,
        typer.Option(
            "--paid-channels", help="The brand's own paid channels, comma-separated ('' = from spend)."
        ),
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Show or change how orders are credited to partners (and deduplicated)."""
    from trueroi.partners import set_program

    with open_workspace(workspace) as ws:
        result = set_program(ws, credit=credit, lookback_days=lookback_days, paid_channels=paid_channels)
    if output == OutputFormat.json:
        print_json(result.to_dict())
    else:
        d = result.to_dict()
        channels = ", ".join(d["paid_channels"]) if d["paid_channels"] else "channels with spend"
        console.print(f"credit: {d['credit']}; lookback: {d['lookback_days']} days; brand paid: {channels}")


def import_reports(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Network transaction reports.")],
    fmt: Annotated[
        str, typer.Option("--network-format", help="awin, cj, network (generic CSV) or auto.")
    ] = "auto",
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency of reports that name none (ISO 4217).")
    ] = None,
    network: Annotated[
        str | None, typer.Option("--network", help="Network of a generic report without a network column.")
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Load affiliate network transaction reports (Awin, CJ, generic) for reconciliation."""
    from trueroi.partners import import_transactions

    with open_workspace(workspace) as ws:
        try:
            result = import_transactions(ws, files, fmt, currency=currency, network=network)
        finally:
            wrote_to(ws)
    if output == OutputFormat.json:
        print_json(result.to_dict())
        return
    for item in result.imports:
        what = "skipped (loaded before)" if item["skipped"] else f"{item['rows']} transactions"
        console.print(f"{item['file']}: {item['format']}, {what}")


def statement(
    month: MonthOpt,
    partner: PartnerOpt = None,
    as_of: AsOfOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the statement to a .pdf, .csv or .json file.")
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Per partner and month: orders and leads credited, pending, validated and reversed, commission owed."""
    from trueroi.partners import partner_statement

    with open_workspace(workspace) as ws:
        result = partner_statement(ws, month, partner=partner, as_of=parse_day(as_of, "--as-of"))
    if out is not None:
        note(f"wrote {result.write(out)}")
        return

    def render() -> None:
        print_table(
            result.summary_rows(),
            STATEMENT_COLUMNS,
            title=f"Partner statements {result.month} as of {result.as_of} ({result.currency})",
            caption=f"credited by {result.program.credit}; owed = validated commission",
        )

    _emit(result, output, render)


def reconcile(
    month: MonthOpt,
    partner: PartnerOpt = None,
    network: Annotated[str | None, typer.Option("--network", help="Only this network.")] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Amounts within this much (base currency) agree.")
    ] = 0.01,
    as_of: AsOfOpt = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Network claims the shop does not confirm, amounts that differ, credited orders the network lacks."""
    from trueroi.partners import reconcile as run

    with open_workspace(workspace) as ws:
        result = run(
            ws,
            month,
            partner=partner,
            network=network,
            tolerance=tolerance,
            as_of=parse_day(as_of, "--as-of"),
        )

    def render() -> None:
        if not result.items:
            console.print(f"{result.claims} network claims of {result.month}: no mismatch")
            return
        print_table(result.rows(), RECONCILE_COLUMNS, title=f"Network reconciliation {result.month}")

    _emit(result, output, render)


def value(
    month: Annotated[str | None, typer.Option("--month", help="Calendar month, YYYY-MM.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    source: Annotated[
        str, typer.Option("--source", help="auto, lift (saved lift test), mmm (mix model) or journeys.")
    ] = "auto",
    model: Annotated[Path | None, typer.Option("--model", help="A fitted mix model's directory.")] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Flag partners whose incremental share is below this.")
    ] = 0.5,
    as_of: AsOfOpt = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Is it worth it: commission against the incremental margin of each partner's conversions."""
    from trueroi.partners import partner_value

    with open_workspace(workspace) as ws:
        result = partner_value(
            ws,
            month,
            start=parse_day(date_from, "--from"),
            end=parse_day(date_to, "--to"),
            source=source,
            model_dir=model,
            threshold=threshold,
            as_of=parse_day(as_of, "--as-of"),
        )

    def render() -> None:
        print_table(
            result.rows(),
            VALUE_COLUMNS,
            title=f"Partner value {result.start} to {result.end} ({result.currency})",
            caption="ROI on commission = (incremental margin - commission) / commission",
        )

    _emit(result, output, render)


def register(app: typer.Typer) -> None:
    partners = group(
        "partners",
        "Performance-based billing: partner commission rules, statements, network reconciliation and "
        "whether each partner's commission pays.",
    )
    rules = typer.Typer(name="rule", help="Commission rules per partner.", no_args_is_help=True)
    rules.command("add")(rule_add)
    rules.command("list")(rule_list)
    rules.command("remove")(rule_remove)
    partners.add_typer(rules, name="rule")
    partners.command("program")(program)
    partners.command("import")(import_reports)
    partners.command("statement")(statement)
    partners.command("reconcile")(reconcile)
    partners.command("value")(value)
