"""``trueroi alert add | list | remove | outbox`` and ``trueroi monitor run | watch | check``.

Rules live in the workspace (``alert_rules``); ``monitor run`` judges the days not checked yet, queues new
incidents in the outbox and delivers them by e-mail and webhook (:mod:`trueroi.monitor`). Its exit code is
1 when an alert was given up after ``[alerting] max_attempts`` failed deliveries, so cron mails the error.
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
    print_csv,
    print_json,
    print_table,
)
from trueroi.cli.kpis import parse_day
from trueroi.errors import UsageError

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
        str, typer.Option("--kpi", help="spend, conversions, cpa, roas, ctr, sessions or orders.")
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
    from trueroi.monitor.rules import AlertRule, add_rule
    from trueroi.workspace import Workspace

    chosen = [
        c
        for c, on in (("above", above is not None), ("below", below is not None), ("anomaly", anomaly))
        if on
    ]
    if len(chosen) != 1:
        raise UsageError("give exactly one of --above X, --below X or --anomaly")
    threshold = above if above is not None else below
    rule = AlertRule(
        name=name,
        kpi=kpi,
        condition=chosen[0],
        threshold=threshold,
        severity=severity.lower(),
        channel=channel,
        campaign=campaign,
        emails=list(email or []),
        webhooks=list(webhook or []),
    )
    with Workspace.open(workspace) as ws:
        add_rule(ws, rule, replace=replace)
    if output == OutputFormat.json:
        print_json(rule.to_dict())
    else:
        console.print(f"alert {rule.name!r} added: {_condition(rule.to_dict())} on {_scope(rule.to_dict())}")


def _scope(rule: dict[str, Any]) -> str:
    return "all" if rule["scope"] == "total" else f"{rule['scope']} {rule['scope_value']}"


def _condition(rule: dict[str, Any]) -> str:
    if rule["condition"] == "anomaly":
        return f"{rule['kpi']} anomaly"
    return f"{rule['kpi']} {rule['condition']} {rule['threshold']:g}"


def alert_list(output: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """List the alert rules."""
    from trueroi.monitor.rules import list_rules
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        rules = [r.to_dict() for r in list_rules(ws)]
    if output == OutputFormat.json:
        print_json({"alerts": rules})
        return
    for r in rules:
        r["scope_text"], r["condition_text"] = _scope(r), _condition(r)
        r["receivers"] = ", ".join(r["emails"] + r["webhooks"]) or "(none: recorded only)"
    if output == OutputFormat.csv:
        print_csv([{k: v for k, v in r.items() if k not in ("emails", "webhooks")} for r in rules])
    elif rules:
        print_table(rules, RULE_COLUMNS, title="Alert rules")
    else:
        console.print("no alert rules; add one with 'trueroi alert add NAME --kpi KPI --anomaly'")


def alert_remove(
    name: Annotated[str, typer.Argument(help="Alert name.")],
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Remove an alert rule (its past alerts stay in the outbox)."""
    from trueroi.monitor.rules import remove_rule
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        remove_rule(ws, name)
    if output == OutputFormat.json:
        print_json({"removed": name})
    else:
        console.print(f"alert {name!r} removed")


def alert_outbox(
    status: Annotated[
        str | None, typer.Option("--status", help="Only pending, delivered, failed or recorded.")
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Every alert sent or waiting: incident, receiver, attempts, last error, delivery time."""
    from trueroi.monitor.deliver import outbox
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        rows = outbox(ws, status)
    rows = [{k: v for k, v in r.items() if k != "payload"} for r in rows]
    if output == OutputFormat.json:
        print_json({"outbox": rows})
    elif output == OutputFormat.csv:
        print_csv(rows)
    else:
        cols = [
            (k, k.replace("_", " ").capitalize(), "text") for k in ("incident_key", "destination", "status")
        ]
        from rich.markup import escape

        shown = [{**r, "last_error": escape(r["last_error"]) if r["last_error"] else None} for r in rows]
        print_table(shown, cols + [("attempts", "Attempts", "count"), ("last_error", "Last error", "text")])


def monitor_run(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge up to this day (default: the newest day with data).")
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Evaluate every alert rule once on the days not checked yet and deliver the alerts (for cron)."""
    from trueroi.monitor.runner import run_monitor
    from trueroi.workspace import Workspace

    day = parse_day(as_of, "--as-of")
    with Workspace.open(workspace) as ws:
        result = run_monitor(ws, day)
    _print_run(result, output)
    if result.delivery.failed:
        raise typer.Exit(1)


def _print_run(result: Any, output: OutputFormat) -> None:
    from rich.markup import escape

    data = result.to_dict()

    def where(row: dict[str, Any]) -> str:
        return f"{escape(row['incident_key'])} -> {escape(row['destination'])}"

    for row in result.delivery.pending:
        err_console.print(
            f"[yellow]alert not delivered yet:[/] {where(row)} ({row['attempts']} attempts, retried at the "
            f"next run: {escape(str(row['last_error']))})",
            highlight=False,
            soft_wrap=True,
        )
    for row in result.delivery.failed:
        err_console.print(
            f"[bold red]alert given up:[/] {where(row)} after {row['attempts']} attempts "
            f"({escape(str(row['last_error']))})",
            highlight=False,
            soft_wrap=True,
        )
    if output == OutputFormat.json:
        print_json(data)
        return
    rows = [
        {
            **i,
            "rule": i["rule"]["name"],
            "when": i["hour"] or i["day"],
            "status": "new" if i["new"] else "already sent",
        }
        for i in data["incidents"]
    ]
    if output == OutputFormat.csv:
        print_csv(rows)
        return
    span = (
        data["checked"]["from"]
        if data["checked"]["from"] == data["checked"]["to"]
        else (f"{data['checked']['from']} to {data['checked']['to']}")
    )
    d = data["delivery"]
    caption = f"delivered {len(d['delivered'])}, pending {len(d['pending'])}, given up {len(d['failed'])}"
    if rows:
        print_table(
            [{**r, "text": escape(r["text"])} for r in rows],
            INCIDENT_COLUMNS,
            title=f"Alerts for {span} ({data['rules']} rules)",
            caption=caption,
        )
    else:
        console.print(f"no alerts for {span} ({data['rules']} rules); {caption}")


def monitor_watch(
    every: Annotated[str, typer.Option("--every", help="Pause between passes: 15m, 30s, 1h.")] = "15m",
    max_runs: Annotated[
        int | None, typer.Option("--max-runs", min=1, help="Stop after N passes (default: run until Ctrl-C).")
    ] = None,
    output: FormatOpt = OutputFormat.table,
    workspace: WorkspaceOpt = None,
) -> None:
    """Keep running: one monitor pass every --every (Ctrl-C stops)."""
    from trueroi.monitor.runner import parse_every, watch
    from trueroi.workspace import Workspace

    seconds = parse_every(every)
    ws = Workspace.open(workspace)
    try:
        results = watch(ws, seconds, max_runs=max_runs, on_run=lambda r: _print_run(r, output))
    except KeyboardInterrupt:
        return
    finally:
        ws.close()
    if any(r.delivery.failed for r in results):
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
    from trueroi.monitor import detect_anomalies
    from trueroi.workspace import Workspace

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    with Workspace.open(workspace) as ws:
        found = detect_anomalies(ws, start=start, end=end, kpis=kpi, hourly=hourly)
    rows = [a.to_dict() for a in found]
    if output == OutputFormat.json:
        print_json({"anomalies": rows})
    elif output == OutputFormat.csv:
        print_csv(rows)
    elif rows:
        for r, a in zip(rows, found, strict=True):
            r["when"], r["where"] = a.when, "all" if a.scope == "total" else f"{a.scope} {a.scope_value}"
        print_table(rows, ANOMALY_COLUMNS, title="Anomalies")
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
