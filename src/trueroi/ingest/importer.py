"""Loading export files into a workspace, one file or many, as every face asks for it.

:func:`import_file` loads one file of a named format, atomically and idempotently. :func:`import_files`
loads a batch as the CLI's ``trueroi import`` and the web app's upload do: folders are expanded to the files
in them, ``auto`` detects each file's format (every file that matches none is named in one error, before
anything is loaded), and exchange rates load first, since every other file is checked against them.
:func:`detect_files` names the format of each file without loading anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as replace_result
from datetime import date
from pathlib import Path
from typing import Any

from trueroi.errors import DataValidationError, UsageError
from trueroi.ingest.base import REPLACE_DAYS, REPLACE_KEYS, FxGuard, ImportContext, known_rates
from trueroi.ingest.detect import detect_format
from trueroi.ingest.parse import Problems
from trueroi.ingest.registry import get_format
from trueroi.workspace import LoadResult, Workspace, file_sha256
from trueroi.workspace.links import LINK_TABLES, OrderLinks, order_links

AUTO = "auto"
RowsCallback = Callable[[Path, int], None]


def import_file(
    ws: Workspace,
    format_name: str,
    path: str | Path,
    *,
    options: dict[str, Any] | None = None,
    on_rows: Callable[[int], None] | None = None,
    today: date | None = None,
    replace: bool = False,
) -> LoadResult:
    """Import one file of the named format into the workspace, atomically and idempotently.

    Rows replace older rows with the same key (:data:`~trueroi.ingest.base.REPLACE_KEYS`: a re-export with
    corrected numbers is an upsert); no other row is removed unless ``replace`` asks for it.

    Parameters
    ----------
    ws
        The target workspace.
    format_name
        A registered format name (``google-ads``, ``orders``, ...; see
        :func:`~trueroi.ingest.registry.format_names`).
    path
        The export file.
    options
        Format options (``product_costs`` for shop orders, ``currency``, ``purchase_action`` ...).
    on_rows
        Called with the number of rows in each parsed chunk (progress bars).
    replace
        Replace the period the file covers: rows loaded earlier from the same format between the file's
        first and last day are removed (:data:`~trueroi.ingest.base.REPLACE_DAYS`), whatever their key. The
        result's ``replaced`` counts every row removed.

    Raises
    ------
    DataValidationError
        When the file is broken; nothing is written then.
    """
    fmt = get_format(format_name)
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path} does not exist or is not a file")
    sha = file_sha256(path)
    target = ",".join(sorted(fmt.tables))
    previous = ws.already_loaded(sha, target)
    if previous is not None:
        return LoadResult(import_id=previous, rows=dict.fromkeys(fmt.tables, 0), skipped=True)
    options = {"known_channels": workspace_channels(ws), **dict(options or {})}
    ctx = ImportContext(ws.config, path.name, Problems(path.name), options, today, on_rows)
    batches = fmt.read(path, ctx)
    guard = FxGuard(ws.config.base_currency, known_rates(ws), path.name)
    wrapped = {name: guard.watch(name, chunks) for name, chunks in batches.items()}
    result = ws.load(
        wrapped,
        source_format=fmt.name,
        file_name=path.name,
        sha256=sha,
        replace_on={name: REPLACE_KEYS[name] for name in batches if name in REPLACE_KEYS},
        replace_days={name: REPLACE_DAYS[name] for name in batches if replace and name in REPLACE_DAYS},
    )
    return replace_result(result, warnings=tuple(ctx.problems.warnings))


def workspace_channels(ws: Workspace) -> set[str]:
    """The channel names the workspace's ads, sessions and costs already use (a new file's channels are
    checked against them, so a ledger's "Shopping" beside the platforms' "Paid Shopping" is noticed)."""
    names: set[str] = set()
    for table in ("ad_performance", "touchpoints", "costs"):
        t = ws.table(table)
        names.update(str(c) for c in t.select("channel").distinct().execute()["channel"].dropna())
    return names


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named by ``paths``: a folder stands for the visible files in it and its subfolders (sorted).

    Raises
    ------
    UsageError
        Naming every path that does not exist, and a folder that holds no file.
    """
    files, missing = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path)))
            if not inside:
                raise UsageError(f"folder {path} holds no file to import")
            files += inside
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(path))
    if missing:
        raise UsageError(f"not found: {', '.join(missing)}")
    return files


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


@dataclass(frozen=True)
class Detection:
    """The format of each file, or why none matched."""

    files: list[dict[str, Any]]

    @property
    def unknown(self) -> list[dict[str, Any]]:
        return [f for f in self.files if f["format"] is None]

    def to_dict(self) -> dict[str, Any]:
        """``{"files": [{"file", "format"} ...]}``; a file that matches no format has ``format`` null and
        an ``error`` saying why."""
        return {"files": self.files}


def detect_files(paths: Sequence[str | os.PathLike[str]]) -> Detection:
    """Name the import format of every file (folders expanded); load nothing."""
    rows = []
    for path in expand_paths(paths):
        try:
            rows.append({"file": str(path), "format": detect_format(path)})
        except DataValidationError as exc:
            rows.append({"file": str(path), "format": None, "error": str(exc)})
    return Detection(rows)


@dataclass
class ImportBatch:
    """What a batch of imports did, file by file (in load order), and the workspace it wrote to.

    ``replaced`` of each file counts the rows of earlier imports it removed: rows with the same key (an
    upsert) and, when a period replacement was asked for, every row of the same format in its period.
    """

    imports: list[dict[str, Any]] = field(default_factory=list)
    workspace: str = ""
    links: OrderLinks | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"imports": [{"file", "format", "import_id", "rows", "tables", "replaced", "skipped",
        "warnings"} ...]}`` (``warnings``: what the file brought that was loaded but looks wrong), and
        ``"order_links"`` (:meth:`~trueroi.workspace.links.OrderLinks.to_dict`, an additive key) when the
        batch loaded orders or conversions and the workspace holds both orders and tracked purchases."""
        out: dict[str, Any] = {"imports": self.imports}
        if self.links is not None:
            out["order_links"] = self.links.to_dict()
        return out

    @property
    def replaced(self) -> int:
        """Rows of earlier imports the batch removed, all files together."""
        return sum(int(i["replaced"]) for i in self.imports)


def plan_imports(format_name: str, paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, Path]]:
    """``(format, file)`` for every file to load, exchange rates first.

    Raises
    ------
    UsageError
        When no file is given or a path does not exist.
    DataValidationError
        With ``auto``: naming every file that matches no format (nothing is loaded then).
    """
    if not paths:
        raise UsageError("no file given to import")
    if format_name == AUTO:
        detection = detect_files(paths)
        if detection.unknown:
            names = "; ".join(Path(f["file"]).name for f in detection.unknown)
            raise DataValidationError(
                f"{len(detection.unknown)} of {len(detection.files)} file(s) match no import format: {names}",
                expected="each file in a known format, or the format named instead of 'auto'",
            )
        jobs = [(f["format"], Path(f["file"])) for f in detection.files]
    else:
        name = get_format(format_name).name
        jobs = [(name, p) for p in expand_paths(paths)]
    return sorted(jobs, key=lambda job: job[0] != "fx-rates")  # stable: otherwise as given


def import_files(
    ws: Workspace,
    format_name: str,
    paths: Sequence[str | os.PathLike[str]],
    *,
    options: dict[str, Any] | None = None,
    on_rows: RowsCallback | None = None,
    replace: bool = False,
) -> ImportBatch:
    """Import every file of ``paths`` (folders expanded) in format ``format_name`` or ``"auto"``.

    Each file loads atomically and idempotently (a file loaded before is skipped); a broken file stops the
    batch with its error, leaving the files loaded before it in place. ``on_rows(path, n)`` reports progress.
    ``replace`` replaces the period each file covers (see :func:`import_file`).
    """
    batch = ImportBatch(workspace=str(ws.path))
    for name, path in plan_imports(format_name, paths):
        rows = (lambda n, p=path: on_rows(p, n)) if on_rows else None
        result = import_file(ws, name, path, options=options, on_rows=rows, replace=replace)
        batch.imports.append(
            {
                "file": str(path),
                "format": name,
                "import_id": result.import_id,
                "rows": sum(result.rows.values()),
                "tables": result.rows,
                "replaced": result.replaced,
                "skipped": result.skipped,
                "warnings": list(result.warnings),
            }
        )
    if any(result_rows(i, LINK_TABLES) for i in batch.imports):
        links = order_links(ws)
        batch.links = links if links.orders and links.purchases else None
    return batch


def result_rows(entry: dict[str, Any], tables: tuple[str, ...]) -> int:
    """Rows one file of a batch loaded into ``tables``."""
    return sum(int(n) for t, n in entry["tables"].items() if t in tables)
