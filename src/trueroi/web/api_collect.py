"""The collector's routes: the tracker script and the two ways events come in.

- ``GET /t.js``: the browser tracker (``static/t.js``, hand-written, about 2.5 KB gzipped), gzip-encoded for
  browsers that take it;
- ``POST /collect/v1/t``: batches from the tracker (``text/plain`` JSON with the public ``write_key``, so the
  browser sends it cross-site without a preflight; answers carry ``Access-Control-Allow-Origin: *``);
- ``POST /collect/v1/events``: batches from a shop's backend or CRM, ``Authorization: Bearer SECRET_KEY``.

Both answer ``{"accepted": N}`` once the batch is kept (:class:`trueroi.tracking.Collector`), or a 4xx/503
with ``{"detail": ..., "error": "CollectRefused"}``. They are PUBLIC routes: no user signs in; the
collector checks the key itself, and a key only ever reaches its own workspace. Their access dependency
(:func:`collector_access`) declares ``Level.PUBLIC`` like :func:`~trueroi.web.access.require` does, but
does not ask for a CSRF token: the callers are scripts and other sites, which carry no session cookie, and
nothing they send acts for a signed-in user. The body is read up to ``[collector] max_body_kb`` and refused
beyond (413) before it is parsed.
"""

from __future__ import annotations

import gzip
import threading
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from trueroi.tracking import Collector, CollectRefused
from trueroi.web.access import Caller, Level, require
from trueroi.web.assets import STATIC

router = APIRouter(include_in_schema=False)
TRACKER = "t.js"
CORS = {"Access-Control-Allow-Origin": "*"}
_CREATE = threading.Lock()


def collector_for(app: FastAPI) -> Collector:
    """The app's collector, made on first use (one per web process: its own WAL segments)."""
    found = getattr(app.state, "collector", None)
    if found is None:
        with _CREATE:
            found = getattr(app.state, "collector", None)
            if found is None:
                home = app.state.home
                found = app.state.collector = Collector(home.path, home.config.collector)
    return found


async def collector_access(request: Request) -> Collector:
    """The access dependency of the collector's routes: PUBLIC, no CSRF check (see the module's notes)."""
    return collector_for(request.app)


collector_access.access_level = Level.PUBLIC  # type: ignore[attr-defined]
Collect = Annotated[Collector, Depends(collector_access)]


@cache
def _tracker() -> tuple[bytes, bytes]:
    text = (STATIC / TRACKER).read_bytes()
    return text, gzip.compress(text, 9, mtime=0)


@router.get("/t.js")
def tracker(request: Request, _: Annotated[Caller, require(Level.PUBLIC)]) -> Response:
    """The browser tracker."""
    plain, packed = _tracker()
    headers = {"Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding", **CORS}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type="text/javascript", headers={**headers, "Content-Encoding": "gzip"})
    return Response(plain, media_type="text/javascript", headers=headers)


@router.post("/collect/v1/events")
async def server_events(request: Request, collector: Collect) -> Response:
    """Events from a shop's backend or CRM (``Authorization: Bearer SECRET_KEY``)."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return await _collect(request, collector, key.strip() if scheme.lower() == "bearer" else None, False)


@router.post("/collect/v1/t")
async def browser_events(request: Request, collector: Collect) -> Response:
    """Events from the browser tracker (``write_key`` in the body)."""
    return await _collect(request, collector, request.query_params.get("k"), True)


async def _collect(request: Request, collector: Collector, key: str | None, browser: bool) -> Response:
    headers = CORS if browser else {}
    try:
        body = await _body(request, collector.max_body)
        result = await collector.collect(
            body,
            key=key,
            browser=browser,
            client_ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent", ""),
        )
    except CollectRefused as exc:
        if exc.status == 503:
            headers = {**headers, "Retry-After": "5"}
        payload = {"detail": str(exc), "error": type(exc).__name__}
        return JSONResponse(payload, status_code=exc.status, headers=headers)
    return JSONResponse(result.to_dict(), headers=headers)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) past ``limit`` bytes without reading the rest."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise CollectRefused(413, f"the body is larger than {limit:,} bytes; send smaller batches")
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise CollectRefused(413, f"the body is larger than {limit:,} bytes; send smaller batches")
        parts.append(chunk)
    return b"".join(parts)
