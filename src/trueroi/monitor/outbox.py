"""The alert outbox: one row per incident and receiver, from queued to delivered, failed or dropped.

``status`` is ``pending`` (waiting to be sent, or retried at the next run), ``delivered`` (a receiver
accepted it), ``failed`` (given up after ``alerting.max_attempts`` attempts, or a receiver address that
can never work), ``dropped`` (its rule was removed, or someone dropped it, before it was delivered; the
reason is in ``last_error``) or ``recorded`` (a rule without receivers). Every change that reads the
table first holds the warehouse's write lock from the read to the write, so two processes never both act
on the same row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.workspace import Workspace
from trueroi.workspace.state import StateTable

OUTBOX = StateTable(
    "alert_outbox",
    {
        "incident_key": "string",
        "destination": "string",  # email:ADDR, webhook:URL, or none (a rule without receivers)
        "rule": "string",
        "severity": "string",
        "day": "string",
        "payload": "string",  # JSON, see trueroi.monitor.deliver
        "status": "string",  # pending, delivered, failed, dropped, recorded
        "attempts": "int64",
        "last_error": "string",
        "created_at": "timestamp",
        "last_attempt_at": "timestamp",
        "delivered_at": "timestamp",
    },
    key=("incident_key", "destination"),
)
STATUSES = ("pending", "delivered", "failed", "dropped", "recorded")
OPEN = ("pending", "failed")  # what can still be dropped


def now() -> datetime:
    """The current time in UTC, without time zone (as the outbox stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def locked(ws: Workspace, doing: str) -> Iterator[None]:
    """Hold the warehouse's write lock for a change that reads first (DuckDB; nothing to hold elsewhere)."""
    with ws.writing(doing) if ws.is_duckdb else nullcontext():
        yield


def key_of(row: dict[str, Any]) -> tuple[str, str]:
    return row["incident_key"], row["destination"]


def outbox(ws: Workspace, status: str | None = None) -> list[dict[str, Any]]:
    """Rows of the outbox (all, or those with ``status``), oldest first."""
    rows = [r for r in OUTBOX.records(ws) if status is None or r["status"] == status]
    return sorted(rows, key=lambda r: (r["created_at"], r["incident_key"], r["destination"]))


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """A row without its payload."""
    return {k: v for k, v in row.items() if k != "payload"}


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
    if status is not None and status not in STATUSES:
        raise UsageError(f"unknown outbox status {status!r}; expected one of {', '.join(STATUSES)}")
    return OutboxReport([shown(r) for r in outbox(ws, status)])


@dataclass(frozen=True)
class DroppedDeliveries:
    """The outbox rows that were dropped (without their payload), with ``status`` ``dropped``."""

    rows_: list[dict[str, Any]]

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows_]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi alert outbox --drop KEY --format json``: ``{"dropped": [row, ...]}``."""
        return jsonable({"dropped": self.rows()})


def drop_deliveries(ws: Workspace, incident_key: str, destination: str | None = None) -> DroppedDeliveries:
    """Give up the pending or failed deliveries of one incident: to every receiver, or to ``destination``.

    The rows stay in the outbox with status ``dropped`` (the reason and the last error in ``last_error``);
    they are never sent again.

    Raises
    ------
    UsageError
        When the outbox holds no pending or failed delivery of ``incident_key`` (to ``destination``).
    """
    to = f" to {destination}" if destination else ""
    with locked(ws, "a change of the alert outbox"):
        rows = OUTBOX.records(ws)
        hit = [
            r
            for r in rows
            if r["incident_key"] == incident_key
            and (destination is None or r["destination"] == destination)
            and r["status"] in OPEN
        ]
        if not hit:
            waiting = sorted({r["incident_key"] for r in rows if r["status"] in OPEN})
            raise UsageError(
                f"no pending or failed alert {incident_key!r}{to} in the outbox "
                f"(pending or failed: {', '.join(map(repr, waiting[:10])) or 'none'})"
            )
        _drop(hit, "dropped by request")
        OUTBOX.write(ws, rows)
    return DroppedDeliveries([shown(r) for r in hit])


def drop_rule_alerts(ws: Workspace, rule: str, reason: str) -> int:
    """Mark the pending deliveries of ``rule`` as dropped for ``reason``; returns how many there were."""
    with locked(ws, "a change of the alert outbox"):
        rows = OUTBOX.records(ws)
        hit = [r for r in rows if r["rule"] == rule and r["status"] == "pending"]
        if hit:
            _drop(hit, reason)
            OUTBOX.write(ws, rows)
    return len(hit)


def _drop(rows: list[dict[str, Any]], reason: str) -> None:
    for row in rows:
        last = row["last_error"]
        row["status"], row["last_error"] = "dropped", f"{reason}; last error: {last}" if last else reason


def claim_attempt(ws: Workspace, row: dict[str, Any]) -> dict[str, Any] | None:
    """Count one attempt of ``row`` (attempts + 1, ``last_attempt_at`` now) and commit it before a send.

    Returns the row as stored now, or None when another run changed it since it was read (that run sends
    it; this one leaves it alone).
    """
    with locked(ws, "an alert delivery attempt"):
        rows = OUTBOX.records(ws)
        stored = next((r for r in rows if key_of(r) == key_of(row)), None)
        if stored is None or stored["status"] != "pending" or stored["attempts"] != row["attempts"]:
            return None
        stored["attempts"] += 1
        stored["last_attempt_at"] = now()
        OUTBOX.write(ws, rows)
    return dict(stored)


def record_outcome(ws: Workspace, row: dict[str, Any]) -> None:
    """Store the outcome of an attempt: ``status``, ``last_error`` and ``delivered_at`` of ``row``.

    A delivery is always recorded; a failure only while the stored row is still the one this attempt
    claimed (pending, same attempt count), so a row dropped meanwhile stays dropped.
    """
    with locked(ws, "an alert delivery outcome"):
        rows = OUTBOX.records(ws)
        stored = next((r for r in rows if key_of(r) == key_of(row)), None)
        if stored is None:
            return
        claimed = stored["status"] == "pending" and stored["attempts"] == row["attempts"]
        if row["status"] == "delivered" or claimed:
            for column in ("status", "last_error", "delivered_at"):  # the attempt itself is stored
                stored[column] = row[column]
            OUTBOX.write(ws, rows)
