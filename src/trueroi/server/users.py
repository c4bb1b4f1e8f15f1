"""Users, their passwords and their roles.

Roles follow Matomo's per-site model: ``admin`` is a flag on the user (every workspace, user management);
``analyst`` (read and write) and ``viewer`` (read only) are granted per workspace in ``memberships``. A
client's login is a viewer of its own workspace. Passwords are stored as Argon2id hashes (argon2-cffi's
``PasswordHasher``, RFC 9106 parameters) and never leave this module in clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.server import audit
from trueroi.server.home import ServerHome
from trueroi.server.schema import ROLES, memberships, sessions, users, utcnow

ROLE_CHOICES = ("admin", *ROLES)
MIN_PASSWORD_LENGTH = 10
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class User:
    """A user of a server home and the role it holds in each workspace (admins hold every workspace)."""

    id: int
    email: str
    is_admin: bool
    disabled: bool
    created_at: datetime
    roles: dict[str, str] = field(default_factory=dict)  # workspace name -> analyst | viewer

    def role_in(self, workspace: str) -> str | None:
        """``admin``, ``analyst``, ``viewer`` or None (no access) for ``workspace``."""
        return "admin" if self.is_admin else self.roles.get(workspace)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "email": self.email,
                "is_admin": self.is_admin,
                "disabled": self.disabled,
                "created_at": self.created_at,
                "workspaces": dict(sorted(self.roles.items())),
            }
        )


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # Argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for a malformed hash, never an exception)."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other Argon2 parameters than today's (then :func:`rehash` it)."""
    return _hasher().check_needs_rehash(password_hash)


def rehash(password: str) -> str:
    """A hash with today's parameters of a password that has just been verified (no length rule: it was
    accepted when it was set)."""
    return _hasher().hash(password)


@cache
def dummy_hash() -> str:
    """A hash to verify against when the account is unknown, so a login takes as long either way."""
    return _hasher().hash("not a password of anyone here")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_PATTERN.fullmatch(email):
        raise UsageError(f"{email!r} is not an e-mail address")
    return email


def add_user(
    home: ServerHome, email: str, password: str, role: str, workspaces: Iterable[str] = (), *, actor: str
) -> User:
    """Create a user with ``role`` (admin, or analyst/viewer of each of ``workspaces``); audited.

    Raises
    ------
    UsageError
        Unknown role, a role without workspaces (or admin with some), a short password, a taken e-mail.
    NoWorkspaceError
        When one of ``workspaces`` does not exist in the home.
    """
    email = normalise_email(email)
    names = _check_grant(home, role, workspaces)
    password_hash = hash_password(password)
    with home.engine.begin() as conn:
        if _user_id(conn, email) is not None:
            raise UsageError(f"a user {email!r} already exists")
        user_id = conn.execute(
            users.insert().values(
                email=email,
                password_hash=password_hash,
                is_admin=role == "admin",
                created_at=utcnow(),
                disabled=False,
            )
        ).inserted_primary_key[0]
        _set_roles(conn, user_id, role, names)
        detail = {"email": email, "role": role, "workspaces": names}
        audit.record(conn, "user.add", actor=actor, detail=detail)
    return get_user(home, email)


def grant(home: ServerHome, email: str, role: str, workspaces: Iterable[str] = (), *, actor: str) -> User:
    """Give an existing user ``role`` (admin, or analyst/viewer of each of ``workspaces``); audited."""
    email = normalise_email(email)
    names = _check_grant(home, role, workspaces)
    with home.engine.begin() as conn:
        user_id = _require_user_id(conn, email)
        if role == "admin":
            conn.execute(users.update().where(users.c.id == user_id).values(is_admin=True))
        _set_roles(conn, user_id, role, names)
        audit.record(
            conn, "user.grant", actor=actor, detail={"email": email, "role": role, "workspaces": names}
        )
    return get_user(home, email)


def set_disabled(home: ServerHome, email: str, disabled: bool, *, actor: str) -> User:
    """Disable (or enable) a user; disabling ends its sessions at once, its tokens stop working."""
    email = normalise_email(email)
    with home.engine.begin() as conn:
        user_id = _require_user_id(conn, email)
        conn.execute(users.update().where(users.c.id == user_id).values(disabled=disabled))
        if disabled:
            conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
        audit.record(
            conn, "user.disable" if disabled else "user.enable", actor=actor, detail={"email": email}
        )
    return get_user(home, email)


def get_user(home: ServerHome, email: str) -> User:
    """The user with ``email`` (UsageError when there is none)."""
    with home.engine.connect() as conn:
        return user_by_id(conn, _require_user_id(conn, normalise_email(email)))


def user_by_id(conn: Connection, user_id: int) -> User:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().one()
    roles = dict(
        conn.execute(
            sa.select(memberships.c.workspace, memberships.c.role).where(memberships.c.user_id == user_id)
        ).all()
    )
    return User(row["id"], row["email"], row["is_admin"], row["disabled"], row["created_at"], roles)


def list_users(home: ServerHome) -> list[User]:
    """Every user, by e-mail."""
    with home.engine.connect() as conn:
        ids = conn.execute(sa.select(users.c.id).order_by(users.c.email)).scalars().all()
        return [user_by_id(conn, user_id) for user_id in ids]


def visible_workspaces(home: ServerHome, user: User) -> dict[str, str]:
    """Workspace name -> the user's role there, for every workspace of the home the user may open."""
    names = home.workspace_names()
    return {name: role for name in names if (role := user.role_in(name)) is not None}


def _check_grant(home: ServerHome, role: str, workspaces: Iterable[str]) -> list[str]:
    names = sorted(set(workspaces))
    if role not in ROLE_CHOICES:
        raise UsageError(f"role {role!r} is unknown; expected one of {', '.join(ROLE_CHOICES)}")
    if role == "admin" and names:
        raise UsageError("an admin sees every workspace; name no workspace for the admin role")
    if role != "admin" and not names:
        raise UsageError(f"the {role} role needs at least one workspace")
    for name in names:
        home.workspace_path(name)  # NoWorkspaceError names the one missing
    return names


def _set_roles(conn: Connection, user_id: int, role: str, names: list[str]) -> None:
    for name in names:
        conn.execute(
            memberships.delete().where((memberships.c.user_id == user_id) & (memberships.c.workspace == name))
        )
        conn.execute(memberships.insert().values(user_id=user_id, workspace=name, role=role))


def _user_id(conn: Connection, email: str) -> int | None:
    return conn.execute(sa.select(users.c.id).where(users.c.email == email)).scalar_one_or_none()


def _require_user_id(conn: Connection, email: str) -> int:
    user_id = _user_id(conn, email)
    if user_id is None:
        raise UsageError(f"no user {email!r} in this server home")
    return user_id
