"""Files in and out of a workspace: uploads of export files (``trueroi import``) and the management report
(``trueroi report``).

Uploads are checked before any parsing: each file's size against ``upload_max_mb`` of server.toml (413),
its type by extension and first bytes (415: CSV/TSV/TXT/JSON text, or Parquet). They are stored in a
temporary folder under their own names (so the imports table and the errors name the file the user sent)
and removed after the load, or moved into the job's folder for a background import.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import File, Query, UploadFile
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from trueroi import ingest
from trueroi.errors import TrueRoiError, UsageError
from trueroi.server.jobkinds import REPORT_FORMATS, load_lock, submit_import, write_report
from trueroi.web.access import Caller
from trueroi.web.api_common import ReadCaller, WriteCaller, new_router, record_change, refusal
from trueroi.web.render import json_result

router = new_router()

TEXT_TYPES = (".csv", ".tsv", ".txt", ".json", ".ndjson", ".jsonl")
PARQUET_TYPES = (".parquet", ".pq")
MAX_FILES = 50
CHUNK = 1 << 20
MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "json": "application/json"}


class UploadRefused(Exception):
    """An uploaded file is too large or not of a type we read (status, error name, message)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        self.status, self.error, self.message = status, error, message
        super().__init__(message)


def safe_name(upload: UploadFile) -> str:
    """The upload's file name without folders, checked to be something a file may be called."""
    name = Path((upload.filename or "").replace("\\", "/")).name.strip()
    if not name or name.startswith(".") or any(ord(c) < 32 for c in name) or len(name) > 200:
        raise UploadRefused(415, "UnsupportedUpload", f"an uploaded file has no usable name ({name!r})")
    return name


def check_type(name: str, head: bytes) -> None:
    """Refuse a file whose extension or first bytes are not those of a format we read."""
    suffix = Path(name).suffix.lower()
    if suffix in PARQUET_TYPES:
        if not head.startswith(b"PAR1"):
            raise UploadRefused(415, "UnsupportedUpload", f"{name}: not a Parquet file (no PAR1 header)")
        return
    if suffix not in TEXT_TYPES:
        known = ", ".join(TEXT_TYPES + PARQUET_TYPES)
        raise UploadRefused(
            415,
            "UnsupportedUpload",
            f"{name}: files of type {suffix or '(none)'} are not imported; expected one of {known}",
        )
    if b"\x00" in head or head.startswith((b"PK\x03\x04", b"%PDF", b"\x1f\x8b")):
        raise UploadRefused(415, "UnsupportedUpload", f"{name}: binary content in a {suffix} file")


async def store_uploads(uploads: list[UploadFile], folder: Path, max_bytes: int) -> list[Path]:
    """Write each upload into ``folder`` under its name, checking size and type on the way."""
    if len(uploads) > MAX_FILES:
        raise UploadRefused(413, "UploadTooLarge", f"at most {MAX_FILES} files per upload")
    paths = []
    for upload in uploads:
        name = safe_name(upload)
        target = folder / str(len(paths)) / name  # two uploads of one name stay apart
        target.parent.mkdir()
        size, first = 0, True
        with open(target, "wb") as out:
            while chunk := await upload.read(CHUNK):
                if first:
                    check_type(name, chunk[:65536])
                    first = False
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused(
                        413, "UploadTooLarge", f"{name} is larger than the limit of {max_bytes / 1e6:g} MB"
                    )
                out.write(chunk)
        if first:
            raise UploadRefused(415, "UnsupportedUpload", f"{name} is empty")
        paths.append(target)
    return paths


@contextmanager
def upload_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="trueroi-upload-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _without_folder(exc: TrueRoiError, folder: Path) -> None:
    """Name uploaded files in the error by their names only (the temporary folder is nobody's business)."""
    text = str(exc)
    for part in sorted(folder.iterdir(), reverse=True):
        text = text.replace(f"{part}/", "")
    exc.args = (text.replace(f"{folder}/", ""),)


@router.get("/workspaces/{ws}/imports", summary="The import history (= trueroi import list --format json)")
def imports(caller: ReadCaller) -> Response:
    with caller.open_workspace() as ws:
        return json_result(ws.imports())


@router.post(
    "/workspaces/{ws}/imports",
    summary="Upload export files and load them (= trueroi import FORMAT FILE... --format json); "
    "background=true answers 202 with a job instead",
)
async def upload(
    request: Request,
    caller: WriteCaller,
    files: Annotated[list[UploadFile] | None, File(description="Export files.")] = None,
    format: Annotated[str, Query(description="Import format, or auto.")] = ingest.AUTO,  # noqa: A002
    replace: Annotated[bool, Query(description="Replace the period each file covers.")] = False,
    currency: Annotated[str | None, Query(description="Currency of exports naming none.")] = None,
    background: Annotated[bool, Query(description="Load in a background job.")] = False,
) -> Response:
    if not files:
        raise UsageError("no file given to import; send the export files as multipart field 'files'")
    max_bytes = int(caller.home.config.upload_max_mb * 1e6)
    if int(request.headers.get("content-length") or 0) > max_bytes * len(files) + CHUNK:
        return refusal(
            413, "UploadTooLarge", f"the upload is larger than {len(files)} x {max_bytes / 1e6:g} MB"
        )
    with upload_folder() as folder:
        try:
            paths = await store_uploads(files, folder, max_bytes)
        except UploadRefused as exc:
            return refusal(exc.status, exc.error, exc.message)
        if background:
            job = submit_import(
                caller.home,
                caller.workspace,
                paths,
                fmt=format,
                replace=replace,
                currency=currency,
                actor=caller.actor,
                user_id=caller.user.id,
            )
            accepted = json_result(job)
            accepted.status_code = 202
            return accepted
        return await _load(caller, folder, paths, format, replace, currency)


async def _load(
    caller: Caller, folder: Path, paths: list[Path], fmt: str, replace: bool, currency: str | None
) -> Response:
    """Load the stored uploads as ``trueroi import`` does, holding the workspace's load lock (a background
    import into the same workspace waits, and this waits for one)."""
    options = {"currency": currency.upper()} if currency else {}

    def load() -> ingest.ImportBatch:
        path = caller.home.workspace_path(caller.workspace)
        with load_lock(path, f"an upload by {caller.actor}", lambda _m: None), caller.open_workspace() as ws:
            return ingest.import_files(ws, fmt, paths, options=options, replace=replace)

    try:
        batch = await run_in_threadpool(load)
    except TrueRoiError as exc:
        _without_folder(exc, folder)
        raise
    payload = batch.to_dict()
    for row in payload["imports"]:
        row["file"] = Path(row["file"]).name
    record_change(caller, "import", {"files": [row["file"] for row in payload["imports"]]})
    return json_result(payload)


@router.get(
    "/workspaces/{ws}/reports",
    summary="The management report of a period as a file (= trueroi report --period P --out report.FORMAT)",
)
def report(
    caller: ReadCaller,
    period: Annotated[str, Query(description="2026-Q3, 2026-07, 2026 or 2026-07-01..2026-09-30.")],
    format: Annotated[str, Query(description="pdf, html or json.")] = "pdf",  # noqa: A002
    client: Annotated[str | None, Query(description="Client whose branding to use.")] = None,
    model: Annotated[str | None, Query(description="Fitted model under models/ (default: mmm).")] = None,
    attribution_models: Annotated[str, Query(description="'all' or comma-separated names.")] = "all",
) -> Response:
    if format not in REPORT_FORMATS:
        raise UsageError(f"unknown report format {format!r}; expected one of {', '.join(REPORT_FORMATS)}")
    folder = Path(tempfile.mkdtemp(prefix="trueroi-report-"))
    try:
        with caller.open_workspace() as ws:
            path = write_report(
                ws,
                folder / f"report.{format}",
                period=period,
                client=client,
                model=model,
                attribution_models=attribution_models,
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[format],
        filename=f"{caller.workspace}-{period}.{format}",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
