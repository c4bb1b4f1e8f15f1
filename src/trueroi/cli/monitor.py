"""``trueroi alert add | list | remove | outbox`` and ``trueroi monitor run | watch | check``.

Rules live in the workspace (``alert_rules``); ``monitor run`` judges the days not checked yet, queues new
incidents in the outbox and delivers them by e-mail and webhook (:mod:`trueroi.monitor`). Its exit code is
1 when an alert was given up after ``[alerting] max_attempts`` failed deliveries, so cron mails the error.
Each command parses its options, calls one function of :mod:`trueroi.monitor` and renders the result; the
library is imported inside the commands only to keep pandas and Ibis off the start-up path of
``trueroi --help``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    err_console,
    group,
    note,
    print_csv,
    print_json,
    print_table,
    safe_text,
)
from trueroi.cli.kpis import parse_day
from trueroi.cli.workspace import open_workspace, wrote_to

RULE_COLUMNS = [
    ("name", "Alert", "text"),
    ("kpi", "KPI", "text"),
    ("scope_text", "Scope", "text"),
    ("condition_text", "Condition", "text"),
    ("severity", "Severity", "text"),
    ("receivers", "Receivers", "text"),
]
INCIDENT_COLUMNS = [
    ("when", "Day", "text"),
    ("rule", "Alert", "text"),
    ("severity", "Severity", "text"),
    ("text", "What", "text"),
    ("status", "Sent", "text"),
]
OUTBOX_COLUMNS = [
    ("incident_key", "Incident key", "text"),
    ("destination", "Destination", "text"),
    ("status", "Status", "text"),
    ("attempts", "Attempts", "count"),
    ("last_error", "Last error", "text"),
]
ANOMALY_COLUMNS = [
    ("when", "Day", "text"),
    ("where", "Scope", "text"),
    ("kpi", "KPI", "text"),
    ("direction", "Dir.", "text"),
    ("observed", "Observed", "number"),
    ("expected", "Expected", "number"),
    ("lower", "Low", "number"),
    ("upper", "High", "number"),
    ("score", "Score", "ratio"),
    ("severity", "Severity", "text"),
]


def alert_add(
    name: Annotated[str, typer.Argument(help="Alert name, e.g. cpa-brand.")],
    kpi: Annotated[
        str,
        typer.Option(
            "--kpi",
            help="spend, revenue, conversions, orders, sessions, cpa, cpc, roas or ctr (see monitor check).",
        ),
    ],
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel.")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="Only this campaign (name).")] = None,
    above: Annotated[float | None, typer.Option("--above", help="Fire when the KPI is above X.")] = None,
    below: Annotated[float | None, typer.Option("--below", help="Fire when the KPI is below X.")] = None,
    anomaly: Annotated[
        bool, typer.Option("--anomaly", help="Fire when the KPI leaves its expected (seasonal) range.")
    ] = False,
    severity: Annotated[str, typer.Option("--severity", help="info, warning or critical.")] = "warning",
    email: Annotated[list[str] | None, typer.Option("--email", help="E-mail receiver (repeatable).")] = None,
    webhook: Annotated[list[str] | None, typer.Option("--webhook", help="Webhook URL (repeatable).")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an alert of the same name.")] = False,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add an alert rule: a KPI and scope, a threshold or --anomaly, a severity and receivers."""
    from trueroi.monitor import add_alert

    with open_workspace(workspace) as ws:
        rule = add_alert(
            ws,
            name,
            kpi,
            above=above,
            below=below,
            anomaly=anomaly,
            severity=severity,
            channel=channel,
            campaign=campaign,
            emails=email or [],
            webhooks=webhook or [],
            replace=replace,
        )
        wrote_to(ws)
    if output == OutputFormat.json:
        print_json(rule.to_dict())
    else:
        console.print(safe_text(f"alert {rule.name!r} added: {rule.condition_text} on {rule.scope_text}"))


def alert_list(output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """List the alert rules."""
    from trueroi.monitor import list_alerts

    with open_workspace(workspace) as ws:
        result = list_alerts(ws)
    if output == OutputFormat.json:
        print_json(result.to_dict())
    elif output == OutputFormat.csv:
        print_csv(result.rows())
    elif result.rules:
        print_table(_cells(result.rows()), RULE_COLUMNS, title="Alert rules")
    else:
        console.print("no alert rules; add one with 'trueroi alert add NAME --kpi KPI --anomaly'")


def alert_remove(
    name: Annotated[str, typer.Argument(help="Alert name.")],
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Remove an alert rule; its alerts not delivered yet are dropped (they stay in the outbox)."""
    from trueroi.monitor import remove_alert

    with open_workspace(workspace) as ws:
        result = remove_alert(ws, name)
        wrote_to(ws)
    if output == OutputFormat.json:
        print_json(result.to_dict())
    else:
        dropped = f"; {result.dropped} pending alerts dropped" if result.dropped else ""
        console.print(safe_text(f"alert {name!r} removed{dropped}"))


def alert_outbox(
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only pending, delivered, failed, dropped or recorded."),
    ] = None,
    drop: Annotated[
        str | None,
        typer.Option("--drop", help="Drop the pending or failed alert with this incident key (never sent)."),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option("--destination", help="With --drop: only this receiver (email:ADDR or webhook:URL)."),
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Every alert sent or waiting: incident, receiver, attempts, last error; --drop gives one up."""
    from trueroi.monitor import drop_deliveries, outbox_report

    if destination is not None and drop is None:
        raise typer.BadParameter("--destination goes with --drop INCIDENT_KEY")
    with open_workspace(workspace) as ws:
        result = drop_deliveries(ws, drop, destination) if drop else outbox_report(ws, status)
        wrote_to(ws)
    rows = result.rows()
    if output == OutputFormat.json:
        print_json(result.to_dict())
    elif output == OutputFormat.csv:
        print_csv(rows)
    elif drop:
        print_table(_cells(rows), OUTBOX_COLUMNS, title="Dropped")
    else:
        print_table(_cells(rows), OUTBOX_COLUMNS)


def monitor_run(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge up to this day (default: the newest day with data).")
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Evaluate every alert rule once on the days not checked yet and deliver the alerts (for cron)."""
    from trueroi.monitor import run_monitor

    day = parse_day(as_of, "--as-of")
    with open_workspace(workspace) as ws:
        result = run_monitor(ws, day)
        wrote_to(ws)
    _print_run(result, output)
    if result.given_up:
        raise typer.Exit(1)


def _cells(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a table: text values with control characters and markup escaped."""
    return [{k: safe_text(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]


def _print_run(result: Any, output: OutputFormat) -> None:
    """Delivery problems on stderr (one line per delivery), then the pass as JSON, CSV rows or a table."""
    data = result.to_dict()

    def where(row: dict[str, Any]) -> str:
        return f"{safe_text(row['incident_key'])} -> {safe_text(row['destination'])}"

    for row in data["delivery"]["pending"]:
        err_console.print(
            f"[yellow]alert not delivered yet:[/] {where(row)} ({row['attempts']} attempts, retried at the "
            f"next run: {safe_text(row['last_error'])})",
            highlight=False,
            soft_wrap=True,
        )
    for row in data["delivery"]["failed"]:
        err_console.print(
            f"[bold red]alert given up:[/] {where(row)} after {row['attempts']} attempts "
            f"({safe_text(row['last_error'])})",
            highlight=False,
            soft_wrap=True,
        )
    if output == OutputFormat.json:
        print_json(data)
        return
    rows = result.rows()
    if output == OutputFormat.csv:
        print_csv(rows)
        return
    checked = data["checked"]
    span = checked["from"] if checked["from"] == checked["to"] else f"{checked['from']} to {checked['to']}"
    d = data["delivery"]
    caption = f"delivered {len(d['delivered'])}, pending {len(d['pending'])}, given up {len(d['failed'])}"
    if rows:
        print_table(
            _cells(rows),
            INCIDENT_COLUMNS,
            title=f"Alerts for {span} ({data['rules']} rules)",
            caption=caption,
        )
    else:
        console.print(safe_text(f"no alerts for {span} ({data['rules']} rules); {caption}"))


def monitor_watch(
    every: Annotated[str, typer.Option("--every", help="Pause between passes: 15m, 30s, 1h.")] = "15m",
    max_runs: Annotated[
        int | None, typer.Option("--max-runs", min=1, help="Stop after N passes (default: run until Ctrl-C).")
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Keep running: one monitor pass every --every (Ctrl-C stops)."""
    from trueroi.monitor import watch

    ws = open_workspace(workspace)
    try:
        results = watch(ws, every, max_runs=max_runs, on_run=lambda r: _print_run(r, output))
    except KeyboardInterrupt:
        return
    finally:
        ws.close()
    if any(r.given_up for r in results):
        raise typer.Exit(1)


def monitor_check(
    date_from: Annotated[str | None, typer.Option("--from", help="First day to judge, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day (default: newest with data).")] = None,
    kpi: Annotated[str | None, typer.Option("--kpi", help="Comma-separated KPIs (default: all).")] = None,
    hourly: Annotated[bool, typer.Option("--hourly", help="Also judge tracking volume per hour.")] = False,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Anomalies of every KPI and scope (no rules, nothing sent): what the baselines flag."""
    from trueroi.monitor import check_anomalies

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    with open_workspace(workspace) as ws:
        result = check_anomalies(ws, start, end, kpi, hourly=hourly)
    for line in result.notes:
        note(f"note: {line}")
    if output == OutputFormat.json:
        print_json(result.to_dict())
    elif output == OutputFormat.csv:
        print_csv(result.rows())
    elif result.anomalies:
        rows = [
            {**r, "when": a.when, "where": a.where}
            for r, a in zip(result.rows(), result.anomalies, strict=True)
        ]
        print_table(_cells(rows), ANOMALY_COLUMNS, title="Anomalies")
    else:
        console.print("no anomalies")


def register(app: typer.Typer) -> None:
    alerts = group("alert", "Alert rules: KPI, scope, threshold or anomaly, severity, receivers.")
    alerts.command("add")(alert_add)
    alerts.command("list")(alert_list)
    alerts.command("remove")(alert_remove)
    alerts.command("outbox")(alert_outbox)
    mon = group("monitor", "Watch KPIs against their seasonal baseline and deliver alerts.")
    mon.command("run")(monitor_run)
    mon.command("watch")(monitor_watch)
    mon.command("check")(monitor_check)
