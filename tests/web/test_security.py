"""Security of the web face: login with rate limit, CSRF, cookies, tokens, escaping, no secret anywhere."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from trueroi.server import entries, revoke_token
from trueroi.server.schema import api_tokens, sessions, users, utcnow
from trueroi.server.tokens import token_hash
from trueroi.web.auth import CSRF_COOKIE, SESSION_COOKIE

PASSWORD = "correct horse battery staple"  # the web_site fixture's password for every user


def login_form(client: TestClient) -> str:
    """GET /login and return the CSRF token of its form (the double-submit cookie's value)."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.cookies.get(CSRF_COOKIE) == token
    return token


def post_login(client: TestClient, email: str, password: str, token: str):
    data = {"email": email, "password": password, "csrf_token": token, "next": "/w/acme/"}
    return client.post("/login", data=data, follow_redirects=False)


def test_login_sets_a_safe_session_cookie_and_logout_ends_the_session(web_site) -> None:
    client = web_site.client
    client.cookies.clear()
    response = post_login(client, "Viewer@Example.com", PASSWORD, login_form(client))
    assert response.status_code == 303 and response.headers["location"] == "/w/acme/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags and "secure" not in flags  # plain http here
    assert client.get("/api/v1/me").json()["email"] == "viewer@example.com"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    with web_site.home.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar_one() == 0
    assert client.get("/api/v1/me").status_code == 401
    assert [e.action for e in entries(web_site.home.engine, limit=2)] == ["logout", "login"]


def test_session_cookie_is_secure_over_https(web_site) -> None:
    client = TestClient(web_site.client.app, base_url="https://testserver")
    response = post_login(client, "viewer@example.com", PASSWORD, login_form(client))
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "secure" in cookie.lower()


def test_sixth_wrong_password_locks_the_account_even_with_the_right_one(web_site) -> None:
    client = web_site.client
    client.cookies.clear()
    token = login_form(client)
    wrong = "not the password 123"
    for _ in range(5):
        response = post_login(client, "analyst@example.com", wrong, token)
        assert response.status_code == 200 and "wrong e-mail or password" in response.text
    refused = post_login(client, "analyst@example.com", PASSWORD, token)  # the 6th attempt, right password
    assert refused.status_code == 429 and "too many failed logins" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert SESSION_COOKIE not in refused.cookies
    other = post_login(client, "viewer@example.com", PASSWORD, token)  # another account is not locked
    assert other.status_code == 303
    logged = [e for e in entries(web_site.home.engine) if e.action.startswith("login")]
    assert [e.action for e in logged] == ["login", "login.refused"] + ["login.failed"] * 5
    assert all(e.actor == "analyst@example.com" for e in logged[1:])
    assert all(e.detail["client"] == "testclient" for e in logged)
    assert logged[-1].detail["reason"] == "wrong password"
    assert not any(secret in repr(e) for e in logged for secret in (wrong, PASSWORD))


def test_too_many_failures_from_one_address_lock_every_account(web_site) -> None:
    client = web_site.client
    client.cookies.clear()
    token = login_form(client)
    for i in range(20):  # login_max_failures_per_address, over accounts that do not exist
        assert post_login(client, f"nobody{i}@example.com", "guess guess guess", token).status_code == 200
    assert post_login(client, "admin@example.com", PASSWORD, token).status_code == 429


def test_forms_without_or_with_a_wrong_csrf_token_are_refused(web_site) -> None:
    client = web_site.client
    client.cookies.clear()
    token = login_form(client)
    data = {"email": "viewer@example.com", "password": PASSWORD}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 403
    assert (
        client.post("/login", data={**data, "csrf_token": "forged"}, follow_redirects=False).status_code
        == 403
    )
    client.cookies.delete(CSRF_COOKIE)  # the token without its cookie is no proof either
    assert (
        client.post("/login", data={**data, "csrf_token": token}, follow_redirects=False).status_code == 403
    )
    assert not [e for e in entries(web_site.home.engine) if e.action == "login"]
    # signed in: the session's own token, not the login form's, guards logout
    response = web_site.call("POST", "/logout", "viewer", headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    response = web_site.call(
        "POST", "/logout", "viewer", data={"csrf_token": "forged"}, headers={"X-CSRF-Token": ""}
    )
    assert response.status_code == 403


def test_tokens_are_stored_hashed_and_revocable(web_site) -> None:
    token = web_site.tokens["analyst"]
    assert re.fullmatch(r"trueroi_[A-Za-z0-9_-]{43}", token)
    with web_site.home.engine.connect() as conn:
        stored = conn.execute(sa.select(api_tokens.c.token_hash)).scalars().all()
    assert token not in stored and token_hash(token) in stored
    assert len(token_hash(token)) == 64
    assert web_site.call("GET", "/api/v1/me", "analyst", "token").status_code == 200
    revoke_token(web_site.home, "analyst@example.com", "tests", actor="cli:test")
    response = web_site.call("GET", "/api/v1/me", "analyst", "token")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert web_site.call("GET", "/api/v1/me", "viewer", "token").status_code == 200  # others still work


def test_passwords_are_argon2id_hashes(web_site) -> None:
    with web_site.home.engine.connect() as conn:
        hashes = conn.execute(sa.select(users.c.password_hash)).scalars().all()
    assert len(hashes) == 4 and len(set(hashes)) == 4  # a salt each
    for stored in hashes:
        assert re.fullmatch(r"\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+", stored)
        assert PASSWORD not in stored


def test_no_secret_in_the_audit_log_or_pages(web_site) -> None:
    client = web_site.client
    client.cookies.clear()
    post_login(client, "admin@example.com", "a wrong password!", login_form(client))
    response = post_login(client, "admin@example.com", PASSWORD, login_form(client))
    session_id = response.cookies[SESSION_COOKIE]
    page = client.get("/").text
    log = repr(entries(web_site.home.engine, limit=1000))
    secrets = [PASSWORD, "a wrong password!", session_id, *web_site.tokens.values()]
    assert not [s for s in secrets if s in log or s in page]
    actions = {e.action for e in entries(web_site.home.engine, limit=1000)}
    assert {"user.add", "token.create", "workspace.register", "login", "login.failed"} <= actions


def test_names_from_imported_data_are_escaped(web_site, web_workspaces) -> None:
    hostile = web_workspaces.hostile_channel
    page = web_site.call("GET", "/w/globex/?period=2026-Q2", "other")
    assert page.status_code == 200
    assert hostile not in page.text and "<i " not in page.text
    assert "Display &lt;i class=&#34;x&#34;&gt;&amp;&lt;/i&gt;" in page.text


def test_security_headers_and_no_open_redirect(web_site) -> None:
    response = web_site.call("GET", "/login")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    client = web_site.client
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.cookies.clear()
        data = {
            "email": "viewer@example.com",
            "password": PASSWORD,
            "csrf_token": login_form(client),
            "next": target,
        }
        assert client.post("/login", data=data, follow_redirects=False).headers["location"] == "/"


def test_disabled_users_and_expired_sessions_are_anonymous(web_site) -> None:
    from trueroi.server import set_disabled

    client = web_site.client
    client.cookies.clear()
    post_login(client, "viewer@example.com", PASSWORD, login_form(client))
    assert client.get("/api/v1/me").status_code == 200
    with web_site.home.engine.begin() as conn:
        conn.execute(sessions.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/me").status_code == 401  # the session has expired
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=%2F"
    set_disabled(web_site.home, "other@example.com", True, actor="cli:test")
    assert web_site.call("GET", "/api/v1/me", "other", "token").status_code == 401
    assert web_site.call("GET", "/api/v1/me", "other").status_code == 401
