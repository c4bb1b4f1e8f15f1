"""The application factory: routers, the one error handler per kind of error, security headers.

``create_app(home)`` builds the app for one server home; ``app_from_environment()`` builds it for the home
named by ``$TRUEROI_HOME`` (uvicorn's workers call it, see :mod:`trueroi.web.serve`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trueroi import __version__
from trueroi.errors import (
    ConfigError,
    DataValidationError,
    NotFittedError,
    NoWorkspaceError,
    TrueRoiError,
    UsageError,
    WorkspaceError,
)
from trueroi.server import HOME_ENV_VAR, ServerHome
from trueroi.web import api, api_collect, assets, pages, pages_analysis, pages_data, pages_live, pages_models
from trueroi.web.access import Caller, Level, check_routes, require
from trueroi.web.auth import AccessDenied
from trueroi.web.render import page

# Library errors -> HTTP status, the most specific class first (one handler maps them all).
ERROR_STATUS: tuple[tuple[type[TrueRoiError], int], ...] = (
    (NoWorkspaceError, 404),
    (WorkspaceError, 409),
    (NotFittedError, 409),
    (DataValidationError, 422),
    (UsageError, 400),
    (ConfigError, 400),
    (TrueRoiError, 400),
)
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def create_app(home: ServerHome, *, close_home: bool = False) -> FastAPI:
    """The web app (pages and ``/api/v1``) over ``home``; with ``close_home`` the app closes the home when
    it shuts down, otherwise the caller keeps ownership of it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_home:
            home.close()

    app = FastAPI(
        lifespan=lifespan,
        title="trueroi",
        version=__version__,
        openapi_url=None,  # published at /api/v1/openapi.json by a route with a declared level
        docs_url=None,
        redoc_url=None,
    )
    app.state.home = home
    pages_routers = (
        pages.router,
        pages_analysis.router,
        pages_models.router,
        pages_data.router,
        pages_live.router,
    )
    for router in (api.router, *pages_routers, assets.router, api_collect.router):
        add_routes(app, router)
    app.add_api_route(api.API_PREFIX + "/openapi.json", _openapi, methods=["GET"], include_in_schema=False)
    app.add_exception_handler(AccessDenied, _access_denied)
    app.add_exception_handler(TrueRoiError, _library_error)
    app.add_middleware(SecurityHeaders)
    check_routes(app)
    return app


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add ``router``'s routes to ``app`` one by one rather than with ``include_router``, so ``app.routes``
    stays a flat table of APIRoutes that :func:`check_routes` and the access test read (FastAPI 0.16x keeps
    an included router as one nested, private route object)."""
    for route in router.routes:
        assert isinstance(route, APIRoute), route
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=sorted(route.methods),
            name=route.name,
            summary=route.summary,
            description=route.description,
            tags=route.tags,
            dependencies=route.dependencies,
            include_in_schema=route.include_in_schema,
        )


def app_from_environment() -> FastAPI:
    """The app for the server home in ``$TRUEROI_HOME`` (closed when the app shuts down)."""
    return create_app(ServerHome.open(os.environ.get(HOME_ENV_VAR)), close_home=True)


def _openapi(request: Request, _: Annotated[Caller, require(Level.PUBLIC)]) -> JSONResponse:
    app: FastAPI = request.app
    if app.openapi_schema is None:
        routes = [r for r in app.routes if getattr(r, "path", "").startswith(api.API_PREFIX)]
        app.openapi_schema = get_openapi(title="trueroi API", version=__version__, routes=routes)
    return JSONResponse(app.openapi_schema)


def is_api(request: Request) -> bool:
    return request.url.path.startswith(api.API_PREFIX + "/") or request.url.path == api.API_PREFIX


def _access_denied(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccessDenied)
    if is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)
    if exc.status == 401:
        target = "/login?next=" + _quoted_path(request)
        if request.headers.get("hx-request"):  # HTMX: let the browser, not the swap, follow the redirect
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    return page(request, "error.html", {"status": exc.status, "message": exc.message}, status=exc.status)


def _library_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TrueRoiError)
    status = next(code for cls, code in ERROR_STATUS if isinstance(exc, cls))
    message = _without_paths(request, str(exc))
    if is_api(request):
        return JSONResponse({"detail": message, "error": type(exc).__name__}, status_code=status)
    return page(request, "error.html", {"status": status, "message": message}, status=status)


def _without_paths(request: Request, message: str) -> str:
    """The message with the workspace's directory (and the home's) named by the workspace's name instead,
    so no server path reaches the client."""
    caller: Caller | None = getattr(request.state, "caller", None)
    if caller is None:
        return message
    if caller.workspace is not None:
        message = message.replace(str(caller.home.workspace_path(caller.workspace)), caller.workspace)
    return message.replace(str(caller.home.path), "the server home")


def _quoted_path(request: Request) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return quote(path, safe="")


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response (a plain ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra: list[Any] = [
                    (k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
