"""Alert delivery through an outbox: e-mail (SMTP) and webhooks (JSON POST), retried, never lost.

Every incident is first written to the workspace table ``alert_outbox`` (:mod:`trueroi.monitor.outbox`),
one row per destination, before anything is sent; an incident already there is never queued again, so one
incident is sent once to each receiver, across runs too.

A delivery pass reads what is due and lets go of the warehouse (no lock, no connection) before it calls
any receiver, so imports never wait for a slow receiver. Each try of a row is, in order: the attempt is
counted and committed (``attempts`` + 1, ``last_attempt_at``), the alert is sent with the incident key as
its ``Idempotency-Key`` (:mod:`trueroi.monitor.receivers`), and the outcome is committed. A process
killed between the send and its record leaves the row pending with the attempt counted; the next run
sends it again with the same key, so a receiver that honours the key shows the alert once.

Each row is tried on its own: whatever goes wrong with one receiver (refused, unreachable, too slow, a
malformed address stored by an older version) is recorded on that row and the pass goes on. A failing
receiver is retried within the pass with exponential backoff and again at the next run, until it accepts
or ``alerting.max_attempts`` (trueroi.toml) is reached, when the row turns ``failed`` and the run reports
it loudly; an address that can never work fails at once. Timeouts and the pass's deadline come from
``[alerting]`` (``connect_timeout_s``, ``read_timeout_s``, ``run_deadline_s``): what the deadline leaves
untried stays pending for the next run. Pending alerts of a rule that no longer exists are dropped.

Webhook payload (``POST``, ``Content-Type: application/json``, version 1)::

    {"type": "trueroi.alert", "version": 1, "workspace": "shop", "incident_key": "cpa-brand|campaign:...",
     "rule": {"name", "kpi", "condition", "threshold", "severity"},
     "scope": {"level": "total|channel|campaign", "channel": ..., "campaign": ...},
     "day": "2026-09-30", "hour": null, "kpi": "cpa", "observed": 61.2, "expected": 20.1,
     "lower": 9.8, "upper": 44.0, "direction": "up", "score": 6.1, "severity": "critical",
     "text": "one line for people (chat tools that read a 'text' field show it as is)"}

Only a 2xx answer to the POST itself counts as delivered (redirects are not followed). E-mails carry the
same line as subject and the payload as body.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trueroi.monitor.outbox import (
    OUTBOX,
    OutboxReport,
    claim_attempt,
    drop_rule_alerts,
    locked,
    now,
    outbox,
    outbox_report,
    record_outcome,
)
from trueroi.monitor.receivers import DeliveryError, ReceiverError, check_destination, send
from trueroi.monitor.rules import RULES, Incident
from trueroi.workspace import Workspace
from trueroi.workspace.config import Alerting

__all__ = [
    "OUTBOX",
    "DeliveryError",
    "DeliveryReport",
    "OutboxReport",
    "deliver_pending",
    "enqueue",
    "outbox",
    "outbox_report",
    "send",
]

Sender = Callable[..., None]  # (alerting, destination, payload, *, incident_key, remaining_s) -> None


@dataclass
class DeliveryReport:
    """What one delivery pass did: rows delivered now, still pending, and given up (failed)."""

    delivered: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        {"delivered": self.delivered, "failed": self.failed}.get(row["status"], self.pending).append(row)

    def to_dict(self) -> dict[str, Any]:
        def brief(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            keys = ("incident_key", "destination", "attempts", "last_error")
            return [{k: r.get(k) for k in keys} for r in rows]

        return {
            "delivered": brief(self.delivered),
            "pending": brief(self.pending),
            "failed": brief(self.failed),
        }


def enqueue(ws: Workspace, found: list[Incident]) -> list[Incident]:
    """Write new incidents to the outbox (one row per destination); returns those that were new."""
    with locked(ws, "queueing of alerts"):
        rows = OUTBOX.records(ws)
        known = {r["incident_key"] for r in rows}
        new, fresh = [], []
        for inc in found:
            if inc.key in known:
                continue
            known.add(inc.key)
            fresh.append(inc)
            payload = json.dumps(inc.payload(ws.config.name), default=str)
            for dest in inc.rule.destinations or ["none"]:
                new.append(
                    {
                        "incident_key": inc.key,
                        "destination": dest,
                        "rule": inc.rule.name,
                        "severity": inc.severity,
                        "day": inc.hour or inc.day,
                        "payload": payload,
                        "status": "recorded" if dest == "none" else "pending",
                        "attempts": 0,
                        "created_at": now(),
                    }
                )
        if new:
            OUTBOX.write(ws, rows + new)
    return fresh


@dataclass(frozen=True)
class _Pass:
    """The settings of one delivery pass."""

    alerting: Alerting
    tries: int
    backoff_s: float
    sleep: Callable[[float], None]
    sender: Sender
    deadline: float  # time.monotonic() after which nothing more is tried

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def deliver_pending(
    ws: Workspace,
    *,
    tries_per_run: int = 3,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    sender: Sender = send,
) -> DeliveryReport:
    """Try every pending outbox row: up to ``tries_per_run`` tries now, waiting ``backoff_s`` x 1, 2, 4, ...

    A row counts one attempt per try, committed before the send. It turns ``delivered`` on success and
    ``failed`` once ``alerting.max_attempts`` attempts have failed (at once for an address that can never
    work); otherwise it stays ``pending`` for the next run, and the other rows for the same receiver wait
    for the next run too (no attempt counted), so a receiver that is down costs one round of backoff per
    pass, not one per alert. Nothing is tried after ``alerting.run_deadline_s`` seconds. No warehouse lock
    or connection is held while a receiver is called.
    """
    alerting = ws.config.alerting
    run = _Pass(alerting, tries_per_run, backoff_s, sleep, sender, time.monotonic() + alerting.run_deadline_s)
    due = outbox(ws, "pending")
    rules = {r["name"] for r in RULES.records(ws)}
    for name in sorted({r["rule"] for r in due} - rules):
        drop_rule_alerts(ws, name, "its alert rule was removed before delivery")
    ws.release()  # nothing of the warehouse is held while receivers are called
    report = DeliveryReport()
    down: set[str] = set()  # receivers that failed every try in this pass: the next run tries them again
    for row in (r for r in due if r["rule"] in rules):
        if row["destination"] in down:
            report.pending.append(row)
            continue
        done = _deliver(ws, row, run)
        if done is None:
            continue  # another run took it
        report.add(done)
        if done["status"] == "pending":
            down.add(done["destination"])
    return report


def _deliver(ws: Workspace, row: dict[str, Any], run: _Pass) -> dict[str, Any] | None:
    """Up to ``run.tries`` tries of one row, each committed; the row as it ends (None: not this run's)."""
    for i in range(run.tries):
        if row["attempts"] >= run.alerting.max_attempts:
            break
        if i:
            run.sleep(max(0.0, min(run.backoff_s * 2 ** (i - 1), run.remaining())))
        remaining = run.remaining()
        if remaining <= 0:
            why = f"not tried (again): the run's deadline of {run.alerting.run_deadline_s:g} s passed"
            last = f"; last error: {row['last_error']}" if row["last_error"] else ""
            return {**row, "last_error": why + last}
        claimed = claim_attempt(ws, row)
        ws.release()
        if claimed is None:
            return None
        row = claimed
        try:
            check_destination(row["destination"])
            run.sender(
                run.alerting,
                row["destination"],
                row["payload"],
                incident_key=row["incident_key"],
                remaining_s=remaining,
            )
        except ReceiverError as exc:  # can never work: given up now
            row.update(status="failed", last_error=str(exc))
        except Exception as exc:  # noqa: BLE001 - whatever one receiver does, the others are still tried
            row["last_error"] = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        else:
            row.update(status="delivered", delivered_at=now(), last_error=None)
        if row["status"] == "pending" and row["attempts"] >= run.alerting.max_attempts:
            row["status"] = "failed"
        record_outcome(ws, row)
        ws.release()
        if row["status"] != "pending":
            return row
    if row["status"] == "pending" and row["attempts"] >= run.alerting.max_attempts:
        row["status"] = "failed"
        record_outcome(ws, row)
        ws.release()
    return row
