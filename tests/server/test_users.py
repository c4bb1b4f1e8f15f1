"""Users, roles, tokens, sessions and the audit log of a server home (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from trueroi.errors import NoWorkspaceError, UsageError
from trueroi.server import (
    LoginRefused,
    add_user,
    authenticate_token,
    create_token,
    entries,
    find_session,
    grant,
    list_tokens,
    list_users,
    login,
    record,
    revoke_token,
    set_disabled,
    visible_workspaces,
)
from trueroi.server.schema import login_attempts, utcnow
from trueroi.workspace import Workspace, WorkspaceConfig

PASSWORD = "long enough password"


@pytest.fixture
def home(server_home):
    for name in ("acme", "globex"):
        Workspace.init(server_home.workspaces_dir / name, WorkspaceConfig(name=name)).close()
    return server_home


def test_roles_give_the_workspaces_they_name(home) -> None:
    admin = add_user(home, "boss@example.com", PASSWORD, "admin", actor="cli:t")
    viewer = add_user(home, " Client@Example.com ", PASSWORD, "viewer", ["acme"], actor="cli:t")
    assert viewer.email == "client@example.com"
    assert visible_workspaces(home, admin) == {"acme": "admin", "globex": "admin"}
    assert visible_workspaces(home, viewer) == {"acme": "viewer"}
    assert viewer.role_in("globex") is None
    upgraded = grant(home, "client@example.com", "analyst", ["acme", "globex"], actor="boss@example.com")
    assert upgraded.roles == {"acme": "analyst", "globex": "analyst"}
    assert [u.email for u in list_users(home)] == ["boss@example.com", "client@example.com"]
    (last,) = entries(home.engine, limit=1)
    assert (last.action, last.actor, last.detail["role"]) == ("user.grant", "boss@example.com", "analyst")


@pytest.mark.parametrize(
    ("email", "password", "role", "workspaces", "error", "match"),
    [
        ("a@example.com", "short", "viewer", ["acme"], UsageError, "at least 10"),
        ("a@example.com", PASSWORD, "owner", ["acme"], UsageError, "role 'owner' is unknown"),
        ("a@example.com", PASSWORD, "viewer", [], UsageError, "needs at least one workspace"),
        ("a@example.com", PASSWORD, "admin", ["acme"], UsageError, "every workspace"),
        ("a@example.com", PASSWORD, "viewer", ["initech"], NoWorkspaceError, "initech"),
        ("not an address", PASSWORD, "viewer", ["acme"], UsageError, "not an e-mail address"),
    ],
)
def test_bad_users_are_refused(home, email, password, role, workspaces, error, match) -> None:
    with pytest.raises(error, match=match):
        add_user(home, email, password, role, workspaces, actor="cli:t")
    assert list_users(home) == []


def test_a_taken_email_is_refused(home) -> None:
    add_user(home, "a@example.com", PASSWORD, "viewer", ["acme"], actor="cli:t")
    with pytest.raises(UsageError, match="already exists"):
        add_user(home, "A@example.com", PASSWORD, "admin", actor="cli:t")


def test_tokens_live_until_revoked(home) -> None:
    add_user(home, "a@example.com", PASSWORD, "viewer", ["acme"], actor="cli:t")
    token = create_token(home, "a@example.com", "ci", actor="cli:t")
    assert authenticate_token(home, token).email == "a@example.com"
    assert authenticate_token(home, token + "x") is None and authenticate_token(home, "ci") is None
    with pytest.raises(UsageError, match="already has a token named 'ci'"):
        create_token(home, "a@example.com", "ci", actor="cli:t")
    (info,) = list_tokens(home, "a@example.com")
    assert info.last_used_at is not None and info.revoked_at is None
    revoke_token(home, "a@example.com", "ci", actor="cli:t")
    assert authenticate_token(home, token) is None
    with pytest.raises(UsageError, match="no live token"):
        revoke_token(home, "a@example.com", "ci", actor="cli:t")
    second = create_token(home, "a@example.com", "ci", actor="cli:t")  # the name is free again
    set_disabled(home, "a@example.com", True, actor="cli:t")
    assert authenticate_token(home, second) is None


def test_disabling_a_user_ends_its_sessions(home) -> None:
    add_user(home, "a@example.com", PASSWORD, "viewer", ["acme"], actor="cli:t")
    new = login(home, "a@example.com", PASSWORD, client="10.0.0.1")
    assert find_session(home, new.session_id).user.email == "a@example.com"
    set_disabled(home, "a@example.com", True, actor="cli:t")
    assert find_session(home, new.session_id) is None
    with pytest.raises(LoginRefused, match="wrong e-mail or password"):  # the same answer as a wrong password
        login(home, "a@example.com", PASSWORD, client="10.0.0.1")
    set_disabled(home, "a@example.com", False, actor="cli:t")
    assert login(home, "a@example.com", PASSWORD, client="10.0.0.1").session.user.email == "a@example.com"


def test_failures_leave_the_rate_limit_window(home) -> None:
    add_user(home, "a@example.com", PASSWORD, "viewer", ["acme"], actor="cli:t")
    for _ in range(5):
        with pytest.raises(LoginRefused):
            login(home, "a@example.com", "wrong password!", client="10.0.0.1")
    with pytest.raises(LoginRefused, match="too many") as refused:
        login(home, "a@example.com", PASSWORD, client="10.0.0.2")  # per account, from any address
    # the oldest of the five failures leaves the 15-minute window first: that is how long to wait
    assert 14 * 60 < refused.value.retry_after <= 15 * 60
    with home.engine.begin() as conn:  # 16 minutes later (every attempt moved back)
        conn.execute(login_attempts.update().values(at=login_attempts.c.at - timedelta(minutes=16)))
    assert login(home, "a@example.com", PASSWORD, client="10.0.0.2").session.user.email == "a@example.com"


def test_audit_detail_refuses_secrets(home) -> None:
    with home.engine.begin() as conn, pytest.raises(UsageError, match="password"):
        record(conn, "user.add", actor="cli:t", detail={"email": "a@example.com", "password": "x"})
    with home.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() == 0


def test_times_are_utc(home) -> None:
    before = utcnow()
    user = add_user(home, "a@example.com", PASSWORD, "admin", actor="cli:t")
    assert before <= user.created_at <= utcnow() and user.created_at.tzinfo is None


def test_a_hash_with_old_parameters_is_renewed_at_login(home) -> None:
    from argon2 import PasswordHasher

    from trueroi.server.schema import users

    add_user(home, "a@example.com", PASSWORD, "admin", actor="cli:t")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("short pw")  # an older rule
    with home.engine.begin() as conn:
        conn.execute(users.update().values(password_hash=weak))
    login(home, "a@example.com", "short pw", client="10.0.0.1")
    with home.engine.connect() as conn:
        renewed = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert renewed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # RFC 9106 low-memory profile
