"""The web face: server-rendered pages and the REST API ``/api/v1`` over a server home (FastAPI).

Like the CLI, this face only parses a request, calls ONE library function and renders its result: a page
renders it with a template, an API route returns its ``to_dict()`` as JSON (:func:`render.json_result`),
the same text ``trueroi ... --format json`` prints. No number is computed here.

Layout
------
``app.py``      ``create_app(home)``: routers, one handler for library errors (TrueRoiError -> 4xx, the
                one-line message) and one for access errors, security headers; ``app_from_environment()``
``access.py``   ``Level``, ``require(level)``, ``Caller`` (the checked caller; ``open_workspace()``),
                ``route_level(route)``, ``check_routes(app)``
``auth.py``     who calls (Bearer token or session cookie), the CSRF check, cookie flags
``api.py``      ``/api/v1/...`` routes (JSON)
``pages.py``    pages: ``/login``, ``/logout``, ``/`` (portfolio), ``/w/{ws}/`` (overview)
``assets.py``   ``/static/{name}``: our CSS, vendored htmx, plotly.js from the plotly package
``render.py``   Jinja2 (autoescape on), number formatting, ``page()``, ``json_result()``,
                ``WORKSPACE_PAGES`` (the workspace navigation)
``serve.py``    ``serve(home, host=, port=, workers=)`` with uvicorn (``trueroi serve``)
``templates/``  ``base.html`` (layout and navigation) and one template per page
``static/``     ``app.css``, ``htmx.min.js`` (+ its licence)

Access levels (``access.Level``)
--------------------------------
Every route declares exactly one level with ``require(Level.X)``; ``create_app`` refuses an app with a route
that declares none, and ``tests/web/test_access.py`` walks the route table and calls every route as
anonymous, as a viewer of another workspace, and as viewer, analyst and admin of the right one:
PUBLIC (everybody), USER (signed in), READ (viewer/analyst/admin of ``{ws}``), WRITE (analyst/admin of
``{ws}``), ADMIN (admins). A user without access to a workspace gets 404 (its existence is not told);
anonymous gets 401 from the API and a redirect to ``/login`` from pages.

Adding an API route (e.g. ``trueroi attribution`` as ``GET /api/v1/workspaces/{ws}/attribution``)::

    @router.get("/workspaces/{ws}/attribution", summary="... (= trueroi attribution --format json)")
    def attribution(caller: Annotated[Caller, require(Level.READ)], model: str = "markov") -> Response:
        with caller.open_workspace() as ws:           # opened for this request, closed after it
            result = compare_attribution(ws, model=model)   # the function the CLI command calls
        return json_result(result)                    # == the CLI's --format json

Use ``Level.WRITE`` for anything that changes a workspace (POST/PUT/DELETE), and write the audit log in the
library call with ``actor=caller.actor``. Cookie callers must send the CSRF token (forms: the hidden field
``csrf_token`` = ``{{ csrf_token }}``; HTMX sends the header from ``<body hx-headers>``); Bearer calls are
exempt. Library errors need no handling in the route.

Adding a page: a route in ``pages.py`` (or in a new module with its own ``APIRouter``, added to the tuple of
routers in ``create_app``, which copies them route by route so ``app.routes`` stays a flat table of
APIRoutes; do not use ``include_router``) that declares its level the same way, calls one library
function and returns ``page(request, "NAME.html", context)``; the template extends ``base.html``. A
workspace page lives under ``/w/{ws}/...`` and adds ``(label, path)`` to ``render.WORKSPACE_PAGES``.
Never mark data ``|safe``.

Tests: ``tests/conftest.py`` has ``server_home`` (an empty home on SQLite, and on a real local PostgreSQL
that ``postgres_server`` starts; the PostgreSQL runs are marked slow), ``web_workspaces`` (two tiny demo
workspaces, ``acme`` and ``globex``, whose campaign names carry a marker of their workspace) and ``run_cli``
(the CLI in-process); ``tests/web/conftest.py`` has ``web_site``: a home serving both workspaces with a
user per role (admin; analyst and viewer of acme; ``other``, a viewer of globex), a token each, and
``web_site.call(method, path, caller, via="session"|"token")``. A new route is covered by
``tests/web/test_access.py`` the day it is added; give a new path parameter an example value there.
"""

from trueroi.web.access import Caller, Level, require, route_level
from trueroi.web.app import app_from_environment, create_app
from trueroi.web.serve import serve

__all__ = ["Caller", "Level", "app_from_environment", "create_app", "require", "route_level", "serve"]
