"""The live page: the last 30 minutes and today by channel (:func:`trueroi.tracking.live_numbers`),
pushed to the browser as server-sent events.

- ``GET /w/{ws}/live``: the page, drawn with the numbers of now;
- ``GET /w/{ws}/live/events``: with ``Accept: text/event-stream`` (what ``EventSource`` sends) a stream
  that sends the numbers again whenever the workspace changed (a load of tracked events, an import: the
  warehouse file's :func:`~trueroi.server.cache.workspace_version`, checked every :data:`POLL_SECONDS`) and
  at least every :data:`REFRESH_SECONDS` (the 30-minute window moves), for :data:`STREAM_SECONDS`, after
  which the browser reconnects; otherwise the numbers once, as JSON;
- ``GET /live.js``: the page's script (``static/live.js``).

A loaded event reaches the page within the loader's interval plus :data:`POLL_SECONDS` plus the query
(about 1-2 seconds; bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from trueroi.io import jsonable
from trueroi.server.cache import workspace_version
from trueroi.tracking import LiveNumbers, live_numbers
from trueroi.web.access import Caller, Level, require
from trueroi.web.assets import STATIC
from trueroi.web.render import json_result, page

router = APIRouter(include_in_schema=False)
ReadCaller = Annotated[Caller, require(Level.READ)]
POLL_SECONDS = 0.5
REFRESH_SECONDS = 30.0
STREAM_SECONDS = 300.0
KEEPALIVE_SECONDS = 15.0


def _numbers(caller: Caller) -> LiveNumbers:
    with caller.open_workspace() as ws:
        return live_numbers(ws)


@router.get("/w/{ws}/live")
def live_page(request: Request, caller: ReadCaller) -> Response:
    """The live page."""
    return page(request, "live.html", {"live": _numbers(caller).to_dict()})


@router.get("/w/{ws}/live/events")
async def live_events(request: Request, caller: ReadCaller) -> Response:
    """The live numbers as server-sent events (or once, as JSON)."""
    if "text/event-stream" not in request.headers.get("accept", ""):
        return json_result(await run_in_threadpool(_numbers, caller))
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_stream(request, caller), media_type="text/event-stream", headers=headers)


async def _stream(request: Request, caller: Caller) -> AsyncIterator[str]:
    path = caller.home.workspace_path(caller.workspace)
    yield "retry: 1000\n\n"
    started = last = spoke = time.monotonic()
    seen: object = object()
    while time.monotonic() - started < STREAM_SECONDS:
        if await request.is_disconnected():
            return
        version = workspace_version(path)
        now = time.monotonic()
        if version != seen or now - last >= REFRESH_SECONDS:
            seen, last, spoke = version, now, now
            numbers = await run_in_threadpool(_numbers, caller)
            yield "data: " + json.dumps(jsonable(numbers.to_dict()), separators=(",", ":")) + "\n\n"
        elif now - spoke >= KEEPALIVE_SECONDS:
            spoke = now
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)


@router.get("/live.js")
def live_script(_: Annotated[Caller, require(Level.PUBLIC)]) -> Response:
    """The live page's script."""
    return FileResponse(
        STATIC / "live.js", media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )
