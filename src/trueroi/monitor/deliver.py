"""Alert delivery through an outbox: e-mail (SMTP) and webhooks (JSON POST), retried, never lost.

Every incident is first written to the workspace table ``alert_outbox``, one row per destination, before
anything is sent. Delivery then works through the pending rows: each try counts an attempt; a failing
receiver is retried within the run with exponential backoff and again at the next run, until it succeeds
or ``alerting.max_attempts`` (trueroi.toml) is reached, when the row turns ``failed`` and the run reports it
loudly. An incident already in the outbox is never queued again, so one incident sends one alert, across
runs too. Delivery is at least once: a process killed between a send and its record sends again.

Webhook payload (``POST``, ``Content-Type: application/json``, version 1)::

    {"type": "trueroi.alert", "version": 1, "workspace": "shop", "incident_key": "cpa-brand|campaign:...",
     "rule": {"name", "kpi", "condition", "threshold", "severity"},
     "scope": {"level": "total|channel|campaign", "channel": ..., "campaign": ...},
     "day": "2026-09-30", "hour": null, "kpi": "cpa", "observed": 61.2, "expected": 20.1,
     "lower": 9.8, "upper": 44.0, "direction": "up", "score": 6.1, "severity": "critical",
     "text": "one line for people (chat tools that read a 'text' field show it as is)"}

Any 2xx answer counts as delivered. E-mails carry the same line as subject and the payload as body.
"""

from __future__ import annotations

import json
import os
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from trueroi.errors import TrueRoiError
from trueroi.io import jsonable
from trueroi.monitor.rules import Incident
from trueroi.workspace import Workspace
from trueroi.workspace.config import Alerting
from trueroi.workspace.state import StateTable

OUTBOX = StateTable(
    "alert_outbox",
    {
        "incident_key": "string",
        "destination": "string",  # email:ADDR, webhook:URL, or none (a rule without receivers)
        "rule": "string",
        "severity": "string",
        "day": "string",
        "payload": "string",  # JSON, see the module docstring
        "status": "string",  # pending, delivered, failed, recorded
        "attempts": "int64",
        "last_error": "string",
        "created_at": "timestamp",
        "last_attempt_at": "timestamp",
        "delivered_at": "timestamp",
    },
    key=("incident_key", "destination"),
)
TIMEOUT_S = 10.0


class DeliveryError(TrueRoiError, RuntimeError):
    """A receiver refused or could not be reached (kept in the outbox's ``last_error``)."""


@dataclass
class DeliveryReport:
    """What one delivery pass did: rows delivered now, still pending, and given up (failed)."""

    delivered: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def brief(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            keys = ("incident_key", "destination", "attempts", "last_error")
            return [{k: r.get(k) for k in keys} for r in rows]

        return {
            "delivered": brief(self.delivered),
            "pending": brief(self.pending),
            "failed": brief(self.failed),
        }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def enqueue(ws: Workspace, found: list[Incident]) -> list[Incident]:
    """Write new incidents to the outbox (one row per destination); returns those that were new."""
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
                    "created_at": _now(),
                }
            )
    if new:
        OUTBOX.write(ws, rows + new)
    return fresh


def send_email(alerting: Alerting, to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail through the workspace's SMTP server (``[alerting]`` in trueroi.toml)."""
    if not alerting.smtp_host:
        raise DeliveryError("no SMTP server: set [alerting] smtp_host in trueroi.toml")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = alerting.smtp_sender, to, subject
    msg.set_content(body)
    try:
        with smtplib.SMTP(alerting.smtp_host, alerting.smtp_port, timeout=TIMEOUT_S) as smtp:
            if alerting.smtp_starttls:
                smtp.starttls()
            if alerting.smtp_user:
                smtp.login(alerting.smtp_user, os.environ.get(alerting.smtp_password_env, ""))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {alerting.smtp_host}:{alerting.smtp_port}: {exc}") from exc


def post_webhook(url: str, payload: str) -> None:
    """POST the JSON ``payload`` to ``url``; anything but a 2xx answer is a :class:`DeliveryError`."""
    request = urllib.request.Request(
        url,
        data=payload.encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "trueroi-monitor"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - user's URL
            if not 200 <= response.status < 300:
                raise DeliveryError(f"webhook {url}: HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook {url}: HTTP {exc.code}") from exc
    except (OSError, urllib.error.URLError) as exc:
        raise DeliveryError(f"webhook {url}: {exc}") from exc


def send(alerting: Alerting, destination: str, payload: str) -> None:
    """Deliver one outbox row's payload to its destination (``email:ADDR`` or ``webhook:URL``)."""
    kind, _, target = destination.partition(":")
    if kind == "webhook":
        post_webhook(target, payload)
    elif kind == "email":
        data = json.loads(payload)
        body = data["text"] + "\n\n" + json.dumps(data, indent=2) + "\n"
        send_email(alerting, target, data["text"], body)
    else:
        raise DeliveryError(f"unknown destination {destination!r}")


def deliver_pending(
    ws: Workspace,
    *,
    tries_per_run: int = 3,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    sender: Callable[[Alerting, str, str], None] = send,
) -> DeliveryReport:
    """Try every pending outbox row: up to ``tries_per_run`` tries now, waiting ``backoff_s`` x 1, 2, 4, ...

    A row counts one attempt per try. It turns ``delivered`` on success and ``failed`` once
    ``alerting.max_attempts`` attempts have failed; otherwise it stays ``pending`` for the next run, and
    the other rows for the same receiver wait for the next run too (no attempt counted), so a receiver
    that is down costs one round of backoff per pass, not one per alert. The outbox is saved after every
    row, so an interrupted pass loses nothing.
    """
    alerting = ws.config.alerting
    report = DeliveryReport()
    rows = OUTBOX.records(ws)
    down: set[str] = set()  # receivers that failed every try in this pass: the next run tries them again
    for row in rows:
        if row["status"] != "pending":
            continue
        if row["destination"] in down:
            report.pending.append(row)
            continue
        for i in range(tries_per_run):
            if row["attempts"] >= alerting.max_attempts:
                break
            if i:
                sleep(backoff_s * 2 ** (i - 1))
            row["attempts"] += 1
            row["last_attempt_at"] = _now()
            try:
                sender(alerting, row["destination"], row["payload"])
            except DeliveryError as exc:
                row["last_error"] = str(exc)
                continue
            row["status"], row["delivered_at"], row["last_error"] = "delivered", _now(), None
            break
        if row["status"] == "pending" and row["attempts"] >= alerting.max_attempts:
            row["status"] = "failed"
        elif row["status"] == "pending":
            down.add(row["destination"])
        {"delivered": report.delivered, "failed": report.failed, "pending": report.pending}[
            row["status"]
        ].append(row)
        OUTBOX.write(ws, rows)
    return report


def outbox(ws: Workspace, status: str | None = None) -> list[dict[str, Any]]:
    """Rows of the outbox (all, or those with ``status``), oldest first."""
    rows = [r for r in OUTBOX.records(ws) if status is None or r["status"] == status]
    return sorted(rows, key=lambda r: (r["created_at"], r["incident_key"], r["destination"]))


@dataclass(frozen=True)
class OutboxReport:
    """Rows of the outbox without their payload (see :data:`OUTBOX` for the columns), oldest first."""

    rows_: list[dict[str, Any]]

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows_]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi alert outbox --format json``: ``{"outbox": [...]}``."""
        return jsonable({"outbox": self.rows()})


def outbox_report(ws: Workspace, status: str | None = None) -> OutboxReport:
    """Every alert sent or waiting (or those with ``status``): incident, receiver, attempts, last error."""
    return OutboxReport([{k: v for k, v in r.items() if k != "payload"} for r in outbox(ws, status)])
