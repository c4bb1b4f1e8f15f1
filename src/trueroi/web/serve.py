"""Run the web app with uvicorn, and the background job worker and the tracked-events loader beside it:
``trueroi serve HOME``."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from trueroi.server import HOME_ENV_VAR, ServerHome
from trueroi.server.worker import start_worker_process, stop_worker_process
from trueroi.tracking.loader import start_loader_process, stop_loader_process

APP_FACTORY = "trueroi.web.app:app_from_environment"


def serve(
    home: str | os.PathLike[str] | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    job_workers: int = 2,
    loader: bool = True,
) -> None:
    """Serve the server home ``home`` (see :func:`trueroi.server.resolve_home`) until interrupted.

    The home is opened once here, so a missing home or an old schema fails before uvicorn starts (and the
    schema is upgraded once, not by each worker). Each of the ``workers`` processes then builds the app
    itself from ``$TRUEROI_HOME`` (uvicorn starts workers from an import string, not an object).

    With ``job_workers`` > 0 a job worker (:mod:`trueroi.server.worker`) with that many threads runs
    beside the web processes as a child process, stopped when serving stops (0: run ``trueroi server
    worker`` elsewhere, e.g. on another machine sharing a PostgreSQL home).
    """
    with ServerHome.open(home) as opened:
        path: Path = opened.path
    os.environ[HOME_ENV_VAR] = str(path)
    worker = start_worker_process(path, threads=job_workers) if job_workers > 0 else None
    events = start_loader_process(path) if loader else None
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,  # https behind a local reverse proxy: Secure cookies (--forwarded-allow-ips)
            server_header=False,
        )
    finally:
        if events is not None:
            stop_loader_process(events)
        if worker is not None:
            stop_worker_process(worker)
