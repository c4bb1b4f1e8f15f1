"""Logins, browser sessions and the login rate limit.

A session id is 32 random bytes, sent to the browser as a cookie and stored only as its SHA-256 digest;
each session carries a random CSRF secret that every state-changing form and HTMX request echoes back.
Failed logins are counted in the metadata database (so several web processes share the count): after
``login_max_failures`` failures for one account, or ``login_max_failures_per_address`` from one client
address, within ``login_window_minutes``, further attempts are refused, even with the right password,
until the oldest failure leaves the window.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trueroi.errors import TrueRoiError
from trueroi.server import audit
from trueroi.server.home import ServerHome
from trueroi.server.schema import login_attempts, sessions, users, utcnow
from trueroi.server.users import User, dummy_hash, needs_rehash, rehash, user_by_id, verify_password

ATTEMPTS_KEPT = timedelta(days=1)


class LoginRefused(TrueRoiError, PermissionError):
    """A login was refused: unknown account, wrong password or disabled user (one message for all three,
    so the answer does not tell which accounts exist), or too many failures (``retry_after`` seconds)."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its user, the CSRF secret its forms carry, and when it ends (UTC)."""

    user: User
    csrf_secret: str
    expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    """A session just opened; ``session_id`` is the cookie value (a secret: never log or show it)."""

    session_id: str
    session: Session


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def login(home: ServerHome, email: str, password: str, *, client: str) -> NewSession:
    """Check ``email`` and ``password`` from ``client`` (an IP address) and open a session; audited.

    Raises
    ------
    LoginRefused
        Wrong credentials, a disabled user, or the rate limit reached (then ``retry_after`` is set).
    """
    email, client = email.strip().lower()[:320], (client or "unknown")[:100]
    retry_after = _rate_limited(home, email, client)
    if retry_after is not None:
        _record_attempt(home, email, client, "refused", reason="too many failed logins")
        raise LoginRefused(
            f"too many failed logins; try again in {math.ceil(retry_after / 60)} minute(s)",
            retry_after=retry_after,
        )
    with home.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.email == email)).mappings().first()
    ok = verify_password(row["password_hash"] if row else dummy_hash(), password)
    if row is None or not ok or row["disabled"]:
        reason = "unknown account" if row is None else "wrong password" if not ok else "user disabled"
        _record_attempt(home, email, client, "failed", reason=reason)
        raise LoginRefused("wrong e-mail or password")
    if needs_rehash(row["password_hash"]):  # older Argon2 parameters: store a hash with today's
        with home.engine.begin() as conn:
            conn.execute(users.update().where(users.c.id == row["id"]).values(password_hash=rehash(password)))
    new = open_session(home, row["id"])
    _record_attempt(home, email, client, "ok", user_id=row["id"])
    return new


def open_session(home: ServerHome, user_id: int) -> NewSession:
    """A new session for the user (expired sessions are swept at the same time)."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(hours=home.config.session_hours)
    with home.engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at < now))
        conn.execute(
            sessions.insert().values(
                id_hash=session_hash(session_id),
                user_id=user_id,
                created_at=now,
                expires_at=expires,
                csrf_secret=csrf,
            )
        )
        user = user_by_id(conn, user_id)
    return NewSession(session_id, Session(user, csrf, expires))


def find_session(home: ServerHome, session_id: str) -> Session | None:
    """The live session behind a cookie value (None when unknown, expired, or its user is disabled)."""
    query = (
        sa.select(sessions.c.user_id, sessions.c.csrf_secret, sessions.c.expires_at)
        .join(users, users.c.id == sessions.c.user_id)
        .where(
            (sessions.c.id_hash == session_hash(session_id))
            & (sessions.c.expires_at > utcnow())
            & users.c.disabled.is_(False)
        )
    )
    with home.engine.connect() as conn:
        row = conn.execute(query).first()
        return (
            None if row is None else Session(user_by_id(conn, row.user_id), row.csrf_secret, row.expires_at)
        )


def logout(home: ServerHome, session_id: str, *, client: str) -> None:
    """End the session behind a cookie value; audited when there was one."""
    with home.engine.begin() as conn:
        user_id = conn.execute(
            sa.select(sessions.c.user_id).where(sessions.c.id_hash == session_hash(session_id))
        ).scalar_one_or_none()
        if user_id is None:
            return
        conn.execute(sessions.delete().where(sessions.c.id_hash == session_hash(session_id)))
        email = conn.execute(sa.select(users.c.email).where(users.c.id == user_id)).scalar_one()
        audit.record(conn, "logout", actor=email, user_id=user_id, detail={"client": client})


def _rate_limited(home: ServerHome, email: str, client: str) -> int | None:
    """Seconds until a login may be tried again, or None when it may be tried now."""
    config = home.config
    now = utcnow()
    since = now - timedelta(minutes=config.login_window_minutes)
    failed = (login_attempts.c.outcome == "failed") & (login_attempts.c.at >= since)
    waits = []
    with home.engine.connect() as conn:
        for column, value, limit in (
            (login_attempts.c.email, email, config.login_max_failures),
            (login_attempts.c.client, client, config.login_max_failures_per_address),
        ):
            times = _failure_times(conn, failed & (column == value), limit)
            if len(times) >= limit:  # the limit-th newest failure must leave the window first
                waits.append((times[limit - 1] - since).total_seconds())
    return max(1, math.ceil(max(waits))) if waits else None


def _failure_times(conn: Connection, where: sa.ColumnElement[bool], limit: int) -> list[datetime]:
    query = sa.select(login_attempts.c.at).where(where).order_by(login_attempts.c.at.desc()).limit(limit)
    return list(conn.execute(query).scalars())


def _record_attempt(
    home: ServerHome,
    email: str,
    client: str,
    outcome: str,
    *,
    reason: str | None = None,
    user_id: int | None = None,
) -> None:
    now = utcnow()
    action = {"ok": "login", "failed": "login.failed", "refused": "login.refused"}[outcome]
    detail = {"client": client} if reason is None else {"client": client, "reason": reason}
    with home.engine.begin() as conn:
        conn.execute(login_attempts.delete().where(login_attempts.c.at < now - ATTEMPTS_KEPT))
        conn.execute(login_attempts.insert().values(at=now, email=email, client=client, outcome=outcome))
        audit.record(conn, action, actor=email, user_id=user_id, detail=detail)
