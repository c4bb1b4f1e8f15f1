"""The server home: settings, the metadata database, users, roles, API tokens, sessions and the audit log.

This package is the library under the web app (:mod:`trueroi.web`) and the ``trueroi server``, ``user`` and
``token`` commands; it knows nothing of HTTP. Modules:

- :mod:`~trueroi.server.home`: :class:`ServerHome` (``init``/``open``), the workspaces it serves;
- :mod:`~trueroi.server.config`: ``server.toml`` (:class:`ServerConfig`);
- :mod:`~trueroi.server.schema`: the SQLAlchemy Core tables, schema version and upgrades;
- :mod:`~trueroi.server.users`: users, Argon2id passwords, roles (admin flag; analyst/viewer per workspace);
- :mod:`~trueroi.server.tokens`: API tokens (shown once, stored as SHA-256, revocable);
- :mod:`~trueroi.server.sessions`: login with rate limiting, browser sessions with their CSRF secret;
- :mod:`~trueroi.server.audit`: the audit log every state change writes to, in the change's transaction;
- :mod:`~trueroi.server.dashboards`: what the portfolio and overview pages show (one call each).

Every function that changes state takes ``actor`` (a user's e-mail, or ``cli:<system user>``) and writes
the audit log. No secret (password, token, session id) is ever stored in clear, logged or audited.
"""

from trueroi.server.audit import AuditEntry, entries, record
from trueroi.server.config import ServerConfig
from trueroi.server.dashboards import Overview, Portfolio, PortfolioRow, overview, portfolio
from trueroi.server.home import HOME_ENV_VAR, ServerHome, check_workspace_name, resolve_home
from trueroi.server.sessions import (
    LoginRefused,
    NewSession,
    Session,
    find_session,
    login,
    logout,
    open_session,
)
from trueroi.server.tokens import ApiToken, authenticate_token, create_token, list_tokens, revoke_token
from trueroi.server.users import (
    ROLE_CHOICES,
    User,
    add_user,
    get_user,
    grant,
    list_users,
    set_disabled,
    visible_workspaces,
)

__all__ = [
    "HOME_ENV_VAR",
    "ROLE_CHOICES",
    "ApiToken",
    "AuditEntry",
    "LoginRefused",
    "NewSession",
    "Overview",
    "Portfolio",
    "PortfolioRow",
    "ServerConfig",
    "ServerHome",
    "Session",
    "User",
    "add_user",
    "authenticate_token",
    "check_workspace_name",
    "create_token",
    "entries",
    "find_session",
    "get_user",
    "grant",
    "list_tokens",
    "list_users",
    "login",
    "logout",
    "open_session",
    "overview",
    "portfolio",
    "record",
    "resolve_home",
    "revoke_token",
    "set_disabled",
    "visible_workspaces",
]
