"""Access control, exhaustively: every route in the app's own route table, called as anonymous, as a
viewer of another workspace, and as viewer, analyst and admin of the right one (session cookie and Bearer
token for API routes). Exactly the callers the route's declared level admits pass; the others get
401/403/404 (pages: a redirect to /login for anonymous) and no data of a workspace they may not see.

The walk reads each route's level with ``route_level``: a new route is covered the day it is added, and an
app with a route that declares no level cannot even be built.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi.routing import APIRoute

from trueroi.web import Caller, Level, create_app, require, route_level
from trueroi.web.access import UndeclaredAccess, check_routes

CALLERS = ("anonymous", "other", "viewer", "analyst", "admin")
PASSES = {
    Level.PUBLIC: {"anonymous", "other", "viewer", "analyst", "admin"},
    Level.USER: {"other", "viewer", "analyst", "admin"},
    Level.READ: {"viewer", "analyst", "admin"},
    Level.WRITE: {"analyst", "admin"},
    Level.ADMIN: {"admin"},
}
SEES = {
    "anonymous": set(),
    "other": {"globex"},
    "viewer": {"acme"},
    "analyst": {"acme"},
    "admin": {"acme", "globex"},
}
# Values for path parameters (the workspace under test is acme) and for query parameters that make a route
# show imported names (so a leak would show); a new path parameter needs an example here.
PATH_EXAMPLES = {"ws": "acme", "name": "app.css", "model": "mmm", "job": "1"}
QUERY_EXAMPLES = {"by": "campaign"}


def _url(route: APIRoute) -> str:
    missing = set(route.param_convertors) - set(PATH_EXAMPLES)
    assert not missing, f"add an example value for path parameter(s) {missing} of {route.path}"
    url = route.path_format.format(**{p: PATH_EXAMPLES[p] for p in route.param_convertors})
    query = [
        f"{q.alias}={QUERY_EXAMPLES[q.alias]}"
        for q in route.dependant.query_params
        if q.alias in QUERY_EXAMPLES
    ]
    return url + ("?" + "&".join(query) if query else "")


def _to_login(response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def _reached_the_route(response, is_api: bool) -> bool:
    """Whether the access check let the call through. The access check answers only 401 (pages: a redirect
    to /login), 403 or 404; anything else comes from the route: a success, or a refusal of the arguments
    the walk does not fill in (a library error, FastAPI's 422 for a missing body or form, which it checks
    only after the access dependency). A 404 of the API that names a library error ("error") is the
    route's too (no such job, no such import)."""
    if _to_login(response):
        return False
    if response.status_code not in (401, 403, 404):
        return True
    if not is_api or not response.headers.get("content-type", "").startswith("application/json"):
        return False
    body = response.json()
    return isinstance(body, dict) and "error" in body


def _check(site, markers, route: APIRoute, method: str, caller: str, via: str) -> list[str]:
    """What is wrong with one call (empty when it behaves)."""
    level, url, is_api = route_level(route), _url(route), route.path.startswith("/api/")
    response = site.call(method, url, caller, via)
    where = f"{method} {url} as {caller} ({via}): {response.status_code}"
    passed = _reached_the_route(response, is_api)
    problems = []
    if passed != (caller in PASSES[level]):
        problems.append(f"{where}: {'passed' if passed else 'refused'}, but the route's level is {level}")
    anonymous_answer = response.status_code == 401 if is_api else _to_login(response)
    if not passed and caller == "anonymous" and level != Level.PUBLIC and not anonymous_answer:
        problems.append(f"{where}: anonymous must get {'401' if is_api else 'a redirect to /login'}")
    if not passed and caller != "anonymous" and response.status_code not in (403, 404):
        problems.append(f"{where}: a signed-in caller without access must get 403 or 404")
    if not passed and caller not in ("anonymous", "admin") and level in (Level.READ, Level.WRITE):
        expected = 403 if "acme" in SEES[caller] else 404  # a workspace one cannot see does not exist
        if response.status_code != expected:
            problems.append(f"{where}: expected {expected}")
    for workspace, marker in markers.items():
        if workspace not in SEES[caller] and (marker in response.text or f'"{workspace}"' in response.text):
            problems.append(f"{where}: the body shows data of {workspace}, which the caller may not see")
    return problems


def _walk(site, markers, routes: list[APIRoute]) -> list[str]:
    problems = []
    for route in routes:
        vias = ("session", "token") if route.path.startswith("/api/") else ("session",)
        for method in sorted(route.methods):
            for caller in CALLERS:
                for via in vias if caller != "anonymous" else ("session",):
                    problems += _check(site, markers, route, method, caller, via)
    return problems


def test_every_route_admits_exactly_its_level(web_site, web_workspaces) -> None:
    routes = list(web_site.client.app.routes)
    assert all(isinstance(r, APIRoute) and route_level(r) is not None for r in routes)
    assert {route_level(r) for r in routes} >= {Level.PUBLIC, Level.USER, Level.READ, Level.ADMIN}
    problems = _walk(web_site, web_workspaces.markers, routes)
    assert not problems, "\n".join(problems)


def test_the_walk_covers_every_level() -> None:
    assert set(PASSES) == set(Level)


def test_a_write_route_admits_analysts_and_admins_only(web_site, web_workspaces) -> None:
    """No write route exists yet; one declared here goes through the same check the real ones will."""
    app = web_site.client.app

    @app.post("/api/v1/workspaces/{ws}/probe")
    def probe(caller: Annotated[Caller, require(Level.WRITE)]) -> dict:
        return {"role": caller.role}

    route = next(r for r in app.routes if r.path.endswith("/probe"))
    assert route_level(route) == Level.WRITE
    assert not _walk(web_site, web_workspaces.markers, [route])
    refused = web_site.call(
        "POST", "/api/v1/workspaces/acme/probe", "analyst", headers={"X-CSRF-Token": "wrong"}
    )
    assert refused.status_code == 403  # a cookie call needs the session's CSRF token
    assert web_site.call("POST", "/api/v1/workspaces/acme/probe", "analyst", "token").json() == {
        "role": "analyst"
    }


def test_an_app_with_an_undeclared_route_is_refused(server_home) -> None:
    app = create_app(server_home)

    @app.get("/api/v1/forgot")
    def forgot() -> dict:
        return {}

    with pytest.raises(UndeclaredAccess, match="/api/v1/forgot declares no access level"):
        check_routes(app)


def test_a_workspace_level_needs_the_workspace_in_the_path(server_home) -> None:
    app = create_app(server_home)
    app.add_api_route("/api/v1/everything", lambda: {}, dependencies=[require(Level.READ)])
    with pytest.raises(UndeclaredAccess, match="no \\{ws\\} in its path"):
        check_routes(app)
