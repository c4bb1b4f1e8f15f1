"""Rendering: HTML pages from Jinja2 templates (autoescaped) and JSON exactly as the CLI prints it.

- :func:`page` renders ``templates/NAME`` with the caller (for the navigation and the CSRF token) and the
  route's context. Autoescaping is on for every template: names from imported data are escaped wherever
  they appear; never mark data ``|safe``.
- :func:`json_result` serves a library result's ``to_dict()`` through :func:`trueroi.io.dumps`, the same
  text ``trueroi ... --format json`` prints.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from trueroi.io import dumps, jsonable
from trueroi.web.access import Caller

TEMPLATES = Path(__file__).parent / "templates"
# The workspace navigation (label, path below /w/{ws}/), in order; a new workspace page adds its entry here.
WORKSPACE_PAGES: list[tuple[str, str]] = [
    ("Overview", ""),
    ("Live", "live"),
    ("Channels", "channels"),
    ("Attribution", "attribution"),
    ("Mix model", "mmm"),
    ("Budget", "budget"),
    ("Experiments", "experiments"),
    ("CLV", "clv"),
    ("Data quality", "quality"),
    ("Imports", "imports"),
    ("Reports", "reports"),
    ("Settings", "settings"),
]


def fmt_number(value: Any, kind: str = "number") -> str:
    """A number for people: ``money`` (thousands separators), ``percent`` (0.253 -> 25.3%), ``points``
    (a change of a ratio in percentage points), ``ratio``, ``count``; missing values as an en dash."""
    value = jsonable(value)
    if value is None or isinstance(value, str | bool):
        return "–" if value is None else str(value)
    if kind == "percent":
        return f"{value * 100:,.1f}%"
    if kind == "change":
        return f"{value * 100:+,.1f}%"
    if kind == "points":
        return f"{value * 100:+,.1f} pts"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "money":
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{value:,.2f}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    env.globals["workspace_pages"] = WORKSPACE_PAGES
    return env


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render the template ``name`` with ``context`` plus ``request``, ``caller``, ``user``, ``csrf_token``
    (for forms; HTMX sends it from ``<body hx-headers>``) and ``current_workspace`` (on workspace routes)."""
    caller: Caller | None = getattr(request.state, "caller", None)
    user = caller.user if caller else None
    base = {
        "request": request,
        "caller": caller,
        "user": user,
        "csrf_token": caller.csrf_token if caller else None,
        "current_workspace": caller.workspace if caller else None,
    }
    html = environment().get_template(name).render({**base, **(context or {})})
    return HTMLResponse(html, status_code=status)


def json_result(result: Any) -> Response:
    """A library result as JSON, byte for byte what the CLI prints for ``--format json``."""
    payload = result.to_dict() if hasattr(result, "to_dict") else result
    return Response(dumps(payload) + "\n", media_type="application/json")
