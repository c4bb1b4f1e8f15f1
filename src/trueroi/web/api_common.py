"""What every API module shares: the prefix, the caller types of each level, the audit helper and the
library parsers the routes use for days and named periods.

The API is split by domain into ``api_*.py`` modules, each with its own ``router`` (prefix
:data:`API_PREFIX`); :mod:`trueroi.web.api` gathers their routes into its ``router``, the one
``create_app`` adds route by route.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from starlette.responses import JSONResponse

from trueroi.server import audit
from trueroi.web.access import Caller, Level, require

API_PREFIX = "/api/v1"

UserCaller = Annotated[Caller, require(Level.USER)]
ReadCaller = Annotated[Caller, require(Level.READ)]
WriteCaller = Annotated[Caller, require(Level.WRITE)]


def new_router() -> APIRouter:
    """An API module's router (its routes carry the full ``/api/v1/...`` path)."""
    return APIRouter(prefix=API_PREFIX, tags=["api"])


def record_change(caller: Caller, action: str, detail: dict[str, Any]) -> None:
    """Write the audit log for a change the caller made in its workspace (``detail`` holds no secret:
    names and kinds only, never receivers or file contents)."""
    with caller.home.engine.begin() as conn:
        audit.record(
            conn,
            action,
            actor=caller.actor,
            user_id=caller.user.id if caller.user else None,
            workspace=caller.workspace,
            detail=detail,
        )


def refusal(status: int, error: str, detail: str) -> JSONResponse:
    """A refusal of the request's arguments in the shape of the library-error handler's answers."""
    return JSONResponse({"detail": detail, "error": error}, status_code=status)
