"""The audit log: who changed what, when, in which workspace.

Every state change goes through :func:`record` inside the transaction that makes the change, so the change
and its entry are committed together or not at all. ``detail`` is a small JSON object that must never hold
a secret: keys that name one (password, token, session, secret) are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.server.schema import audit_log, utcnow

SECRET_WORDS = ("password", "token", "session", "secret")


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log (``at`` in UTC)."""

    at: datetime
    actor: str
    action: str
    workspace: str | None
    detail: dict[str, Any]
    user_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "at": self.at,
                "actor": self.actor,
                "action": self.action,
                "workspace": self.workspace,
                "detail": self.detail,
            }
        )


def record(
    conn: Connection,
    action: str,
    *,
    actor: str,
    user_id: int | None = None,
    workspace: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one entry (``action`` such as ``user.add`` or ``login.failed``) in the caller's transaction.

    Parameters
    ----------
    actor
        Who did it: a user's email, or ``cli:<system user>`` for the command line.
    user_id
        The acting user's id when a user of this home acted.
    """
    detail = detail or {}
    leaked = [key for key in detail if any(word in key.lower() for word in SECRET_WORDS)]
    if leaked:
        raise UsageError(f"audit detail must not hold secrets; refused key(s): {', '.join(leaked)}")
    conn.execute(
        audit_log.insert().values(
            at=utcnow(),
            user_id=user_id,
            actor=actor,
            action=action,
            workspace=workspace,
            detail=jsonable(detail),
        )
    )


def entries(engine: Engine, *, limit: int = 100, action_prefix: str | None = None) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first, optionally only actions starting with ``action_prefix``."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if action_prefix:
        query = query.where(audit_log.c.action.startswith(action_prefix))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        AuditEntry(r["at"], r["actor"], r["action"], r["workspace"], dict(r["detail"]), r["user_id"])
        for r in rows
    ]
