"""Static assets, all served from the installed package; nothing is loaded from the internet.

- ``app.css``, ``charts.js``: our own small stylesheet and the script that draws charts (``static/``);
- ``htmx.min.js``: htmx 2.0.11 from the npm package ``htmx.org`` (0BSD, ``static/htmx.min.js.LICENSE``);
- ``plotly.min.js``: the copy bundled in the installed ``plotly`` Python package (``plotly/package_data``).

Add a file by putting it in ``static/`` and naming it in :data:`ASSETS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import plotly
from fastapi import APIRouter, HTTPException
from starlette.responses import FileResponse, Response

from trueroi.web.access import Caller, Level, require

STATIC = Path(__file__).parent / "static"
ASSETS: dict[str, tuple[Path, str]] = {
    "app.css": (STATIC / "app.css", "text/css"),
    "charts.js": (STATIC / "charts.js", "text/javascript"),
    "htmx.min.js": (STATIC / "htmx.min.js", "text/javascript"),
    "htmx.min.js.LICENSE": (STATIC / "htmx.min.js.LICENSE", "text/plain"),
    "plotly.min.js": (Path(plotly.__file__).parent / "package_data" / "plotly.min.js", "text/javascript"),
}

router = APIRouter(include_in_schema=False)


@router.get("/static/{name}")
def asset(name: str, _: Annotated[Caller, require(Level.PUBLIC)]) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, "no such file")
    path, media_type = ASSETS[name]
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})
