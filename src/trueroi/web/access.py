"""Access levels: every route declares the one it needs, and the server checks it on every request.

A route declares its level with ``require(Level.X)``, as a parameter (when it needs the caller) or in
``dependencies=[...]``::

    @router.get("/workspaces/{ws}/quality")
    def quality(caller: Annotated[Caller, require(Level.READ)]) -> Response:
        with caller.open_workspace() as ws:
            return json_result(quality_report(ws))

=========  ===========================================================  ==============================
Level      who passes                                                   otherwise
=========  ===========================================================  ==============================
PUBLIC     everybody (login form, static assets, the OpenAPI document)  -
USER       any signed-in user (portfolio, /api/v1/me)                   401 / redirect to /login
READ       viewer, analyst or admin of the workspace ``{ws}``            404 (its existence is not told)
WRITE      analyst or admin of ``{ws}``                                  viewer: 403; others: 404
ADMIN      admins (user management)                                     403
=========  ===========================================================  ==============================

:func:`route_level` reads a route's declared level back from the app's route table; :func:`check_routes`
(run by ``create_app``) refuses an app with a route that declares none, or a workspace level on a path
without ``{ws}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from trueroi.errors import TrueRoiError
from trueroi.server import ServerHome, User
from trueroi.web.auth import AccessDenied, Identity, check_csrf, identify, sent_csrf_token
from trueroi.workspace import Workspace


class Level(StrEnum):
    PUBLIC = "public"
    USER = "user"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


WORKSPACE_ROLES = {Level.READ: ("viewer", "analyst", "admin"), Level.WRITE: ("analyst", "admin")}
WORKSPACE_PARAM = "ws"
WS_HELP = "Workspace name (its folder name under HOME/workspaces/, or the name it was registered under)."


class UndeclaredAccess(TrueRoiError, TypeError):
    """A route of the app declares no access level (or a workspace level without ``{ws}`` in its path)."""


@dataclass(frozen=True)
class Caller:
    """The checked caller of a route: the home, the user (None on PUBLIC routes for anonymous callers),
    how it signed in, the session's CSRF token (for forms), the level the route declared and, on
    workspace routes, the workspace name and the caller's role there."""

    home: ServerHome
    user: User | None
    via: str
    csrf_token: str | None
    level: Level
    workspace: str | None = None
    role: str | None = None

    @property
    def actor(self) -> str:
        """Who acts, for the audit log."""
        return self.user.email if self.user else "anonymous"

    @contextmanager
    def open_workspace(self) -> Iterator[Workspace]:
        """The route's workspace, opened for this request and closed when the block ends."""
        if self.workspace is None:
            raise UndeclaredAccess(
                f"a {self.level} route has no workspace; declare Level.READ or Level.WRITE"
            )
        with Workspace.open(self.home.workspace_path(self.workspace)) as ws:
            yield ws


def require(level: Level) -> Any:
    """The dependency that checks ``level`` for a route and gives its :class:`Caller`; it records the
    level on itself so :func:`route_level` can read it from the route table."""

    async def check(request: Request) -> Caller:
        sent = await sent_csrf_token(request)
        caller = await run_in_threadpool(authorize, request, level, sent)
        request.state.caller = caller
        return caller

    if level in WORKSPACE_ROLES:  # declares {ws}, so the OpenAPI document lists it for every such route

        async def check_access(request: Request, ws: Annotated[str, Path(description=WS_HELP)]) -> Caller:
            return await check(request)

    else:

        async def check_access(request: Request) -> Caller:
            return await check(request)

    check_access.access_level = level  # type: ignore[attr-defined]
    return Depends(check_access)


def authorize(request: Request, level: Level, sent_csrf: str | None) -> Caller:
    """Check the caller of ``request`` against ``level`` (raises :class:`AccessDenied`)."""
    home: ServerHome = request.app.state.home
    who = identify(home, request, strict=level != Level.PUBLIC)
    if level != Level.PUBLIC and who.user is None:
        raise AccessDenied(401, "sign in, or send an API token as 'Authorization: Bearer ...'")
    check_csrf(request, who, sent_csrf)
    if level == Level.ADMIN and not who.user.is_admin:
        raise AccessDenied(403, "only admins may do this")
    if level in WORKSPACE_ROLES:
        return _workspace_caller(home, request, level, who)
    return Caller(home, who.user, who.via, who.csrf_secret, level)


def _workspace_caller(home: ServerHome, request: Request, level: Level, who: Identity) -> Caller:
    name = request.path_params[WORKSPACE_PARAM]
    role = who.user.role_in(name) if home.has_workspace(name) else None
    if role is None:
        raise AccessDenied(404, "workspace not found")
    if role not in WORKSPACE_ROLES[level]:
        raise AccessDenied(403, f"a {role} of this workspace may read, not change it")
    return Caller(home, who.user, who.via, who.csrf_secret, level, name, role)


def route_level(route: APIRoute) -> Level | None:
    """The access level ``route`` declares through :func:`require` (None when it declares none)."""
    found = _levels(route.dependant)
    return found[0] if len(set(found)) == 1 else None


def _levels(dependant: Any) -> list[Level]:
    found = []
    for dep in dependant.dependencies:
        level = getattr(dep.call, "access_level", None)
        found += [level] if level is not None else _levels(dep)
    return found


def check_routes(app: FastAPI) -> None:
    """Refuse an app with a route that declares no level (or two), or a workspace level without ``{ws}``."""
    for route in app.routes:
        if not isinstance(route, APIRoute):
            raise UndeclaredAccess(f"{route!r} is not a FastAPI route; add pages and files as APIRoutes")
        level = route_level(route)
        if level is None:
            raise UndeclaredAccess(f"route {route.path} declares no access level (one require(Level.X))")
        if level in WORKSPACE_ROLES and WORKSPACE_PARAM not in route.param_convertors:
            raise UndeclaredAccess(
                f"route {route.path} has level {level} but no {{{WORKSPACE_PARAM}}} in its path"
            )
