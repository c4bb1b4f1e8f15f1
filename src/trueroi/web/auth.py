"""Who is calling: a Bearer API token, a session cookie, or nobody; and the CSRF check.

- ``Authorization: Bearer trueroi_...`` identifies scripts; such requests carry no cookie and need no CSRF
  token. A bad or revoked token is refused (401), never silently treated as anonymous.
- The session cookie (:data:`SESSION_COOKIE`: HttpOnly, SameSite=Lax, Secure over https) identifies
  browsers; every state-changing request from a session echoes the session's CSRF secret, in the form
  field ``csrf_token`` or the header ``X-CSRF-Token`` (HTMX sends it from ``hx-headers`` on ``<body>``).
- Before login there is no session: the login form uses a double-submit cookie (:data:`CSRF_COOKIE`).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from trueroi.server import ServerHome, User, authenticate_token, find_session

SESSION_COOKIE = "trueroi_session"
CSRF_COOKIE = "trueroi_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class AccessDenied(Exception):
    """The request may not go on: 401 (who are you?), 403 (not allowed) or 404 (no such workspace for you).

    An HTTP outcome of the web face, not a library error; one handler in :mod:`trueroi.web.app` turns it
    into JSON for the API and a redirect or an error page for pages.
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Identity:
    """The authenticated user (None: anonymous), how (``session``, ``token``, ``anonymous``) and, for a
    session, its CSRF secret."""

    user: User | None
    via: str
    csrf_secret: str | None = None


ANONYMOUS = Identity(None, "anonymous")


def identify(home: ServerHome, request: Request, *, strict: bool) -> Identity:
    """The caller of ``request``; with ``strict``, a bad token or unknown Authorization scheme is a 401."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        user = authenticate_token(home, token.strip()) if scheme.lower() == "bearer" else None
        if user is not None:
            return Identity(user, "token")
        if strict:
            raise AccessDenied(401, "the API token is unknown or revoked")
        return ANONYMOUS
    cookie = request.cookies.get(SESSION_COOKIE)
    session = find_session(home, cookie) if cookie else None
    if session is None:
        return ANONYMOUS
    return Identity(session.user, "session", session.csrf_secret)


async def sent_csrf_token(request: Request) -> str | None:
    """The CSRF token a state-changing request carries (header first, then the form field)."""
    if request.method in SAFE_METHODS:
        return None
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    return token


def check_csrf(request: Request, identity: Identity, sent: str | None) -> None:
    """Refuse (403) a state-changing cookie request whose CSRF token is missing or wrong; token calls pass."""
    if request.method in SAFE_METHODS or identity.via == "token":
        return
    expected = identity.csrf_secret if identity.via == "session" else request.cookies.get(CSRF_COOKIE)
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise AccessDenied(403, "the form's CSRF token is missing or wrong; reload the page and try again")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def cookie_secure(home: ServerHome, request: Request) -> bool:
    """Whether cookies get the Secure flag (``secure_cookies`` in server.toml: auto = when https)."""
    setting = home.config.secure_cookies
    return setting == "always" or setting == "auto" and request.url.scheme == "https"


def set_cookie(home: ServerHome, request: Request, response: Response, name: str, value: str) -> None:
    """Set an HttpOnly, SameSite=Lax cookie for the whole site (Secure as :func:`cookie_secure` says); the
    session cookie lives as long as the session."""
    max_age = int(home.config.session_hours * 3600) if name == SESSION_COOKIE else None
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(home, request),
    )
