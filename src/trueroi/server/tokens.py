"""API tokens: ``Authorization: Bearer trueroi_...`` for scripts.

A token is 32 random bytes (``secrets.token_urlsafe``) behind the prefix ``trueroi_`` (so secret scanners
and people recognise it). Only its SHA-256 digest is stored; the token itself is shown once, when created.
A revoked token, or one of a disabled user, authenticates nobody.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.server import audit
from trueroi.server.home import ServerHome
from trueroi.server.schema import api_tokens, users, utcnow
from trueroi.server.users import User, get_user, user_by_id

TOKEN_PREFIX = "trueroi_"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # at most one write per token and minute


@dataclass(frozen=True)
class ApiToken:
    """What is known about a token (never the token itself)."""

    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which ``token`` is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(home: ServerHome, email: str, name: str, *, actor: str) -> str:
    """A new token for the user ``email``, named ``name`` (unique among the user's live tokens); audited.

    Returns the token: it is not stored and cannot be shown again.
    """
    user = get_user(home, email)
    name = name.strip()
    if not name:
        raise UsageError("a token needs a name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with home.engine.begin() as conn:
        if _live_token_id(conn, user.id, name) is not None:
            raise UsageError(f"{user.email} already has a token named {name!r}; revoke it first")
        conn.execute(
            api_tokens.insert().values(
                user_id=user.id, name=name, token_hash=token_hash(token), created_at=utcnow()
            )
        )
        audit.record(conn, "token.create", actor=actor, detail={"email": user.email, "name": name})
    return token


def revoke_token(home: ServerHome, email: str, name: str, *, actor: str) -> None:
    """Revoke the user's live token ``name``; audited (UsageError when there is none)."""
    user = get_user(home, email)
    with home.engine.begin() as conn:
        token_id = _live_token_id(conn, user.id, name)
        if token_id is None:
            raise UsageError(f"{user.email} has no live token named {name!r}")
        conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(revoked_at=utcnow()))
        audit.record(conn, "token.revoke", actor=actor, detail={"email": user.email, "name": name})


def list_tokens(home: ServerHome, email: str) -> list[ApiToken]:
    """The user's tokens, live and revoked, oldest first."""
    user = get_user(home, email)
    query = (
        sa.select(
            api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.last_used_at, api_tokens.c.revoked_at
        )
        .where(api_tokens.c.user_id == user.id)
        .order_by(api_tokens.c.id)
    )
    with home.engine.connect() as conn:
        return [ApiToken(*row) for row in conn.execute(query).all()]


def authenticate_token(home: ServerHome, token: str) -> User | None:
    """The user a live token belongs to (None for an unknown or revoked token or a disabled user)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    query = (
        sa.select(api_tokens.c.id, api_tokens.c.user_id, api_tokens.c.last_used_at)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(
            (api_tokens.c.token_hash == token_hash(token))
            & api_tokens.c.revoked_at.is_(None)
            & users.c.disabled.is_(False)
        )
    )
    with home.engine.begin() as conn:
        row = conn.execute(query).first()
        if row is None:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            conn.execute(api_tokens.update().where(api_tokens.c.id == row.id).values(last_used_at=now))
        return user_by_id(conn, row.user_id)


def _live_token_id(conn: sa.Connection, user_id: int, name: str) -> int | None:
    return conn.execute(
        sa.select(api_tokens.c.id).where(
            (api_tokens.c.user_id == user_id)
            & (api_tokens.c.name == name)
            & api_tokens.c.revoked_at.is_(None)
        )
    ).scalar_one_or_none()
