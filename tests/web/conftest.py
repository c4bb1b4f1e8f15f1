"""The web site the web tests call: a server home serving two demo workspaces, a user per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from trueroi.server import ServerHome, User, add_user, create_token, open_session
from trueroi.web import create_app
from trueroi.web.auth import CSRF_COOKIE, SESSION_COOKIE

PASSWORD = "correct horse battery staple"
# caller name -> (role, workspace) in the home; "other" is a viewer of the OTHER workspace (globex)
ROLES = {
    "admin": ("admin", None),
    "analyst": ("analyst", "acme"),
    "viewer": ("viewer", "acme"),
    "other": ("viewer", "globex"),
}


@dataclass
class WebSite:
    """A home serving ``acme`` (registered by path) and ``globex`` (a folder in ``workspaces/``) with one
    user per :data:`ROLES` entry (e-mail ``NAME@example.com``, password :data:`PASSWORD`), an API token
    each, and a TestClient of the app."""

    home: ServerHome
    client: TestClient
    users: dict[str, User]
    tokens: dict[str, str]

    def call(self, method: str, path: str, caller: str = "anonymous", via: str = "session", **kwargs):
        """Request ``path`` as ``caller`` (``anonymous`` or a :data:`ROLES` name) through a fresh session
        cookie or the caller's Bearer token; state-changing cookie requests carry the right CSRF token."""
        self.client.cookies.clear()
        headers = dict(kwargs.pop("headers", {}))
        csrf = None
        if caller == "anonymous":
            csrf = "anonymous-csrf-value"
            self.client.cookies.set(CSRF_COOKIE, csrf)
        elif via == "token":
            headers["Authorization"] = f"Bearer {self.tokens[caller]}"
        else:
            new = open_session(self.home, self.users[caller].id)
            self.client.cookies.set(SESSION_COOKIE, new.session_id)
            csrf = new.session.csrf_secret
        if method != "GET" and csrf and "X-CSRF-Token" not in headers:
            headers["X-CSRF-Token"] = csrf
        return self.client.request(method, path, headers=headers, follow_redirects=False, **kwargs)


@pytest.fixture
def web_site(server_home, web_workspaces) -> WebSite:
    server_home.register_workspace("acme", web_workspaces.paths["acme"], actor="cli:test")
    (server_home.workspaces_dir / "globex").symlink_to(
        web_workspaces.paths["globex"], target_is_directory=True
    )
    users, tokens = {}, {}
    for name, (role, workspace) in ROLES.items():
        users[name] = add_user(
            server_home,
            f"{name}@example.com",
            PASSWORD,
            role,
            [workspace] if workspace else [],
            actor="cli:test",
        )
        tokens[name] = create_token(server_home, users[name].email, "tests", actor="cli:test")
    with TestClient(create_app(server_home)) as client:
        yield WebSite(server_home, client, users, tokens)
