"""``trueroi report --period 2026-Q3 [--client NAME] [--model DIR] --out report.html|report.pdf|report.json``.

The management/client report of a period: goals and pacing, headline KPIs with year-over-year change, media
vs full ROI by channel, the attribution comparison, mix-model ROI and a budget recommendation (when a fitted
model is given with ``--model`` or sits in ``<workspace>/models/mmm``), data quality, anomalies and next
steps. The format follows the extension of ``--out``: ``.html`` (interactive charts), ``.pdf`` (charts as
images) or ``.json`` (the content itself). The file is written to a temporary file beside the target and
renamed into place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from trueroi.cli.common import WorkspaceOpt, console
from trueroi.errors import UsageError

FORMATS = (".html", ".htm", ".pdf", ".json")


def report(
    period: Annotated[
        str, typer.Option("--period", help="2026-Q3, 2026-07, 2026 or 2026-07-01..2026-09-30.")
    ],
    out: Annotated[Path, typer.Option("--out", help="report.html, report.pdf or report.json.")],
    client: Annotated[
        str | None,
        typer.Option("--client", help="Client whose branding (clients.NAME in trueroi.toml) to use."),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Fitted mix model directory (default: <workspace>/models/mmm if present)."
        ),
    ] = None,
    attribution_models: Annotated[
        str, typer.Option("--attribution-models", help="Models to compare: 'all' or comma-separated names.")
    ] = "all",
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the management/client report of a period (HTML, PDF or JSON by the extension of --out)."""
    from trueroi.metrics import parse_period
    from trueroi.report.management import build_report
    from trueroi.workspace import Workspace

    writer = _writer(out)
    _check_directory(out)
    parse_period(period)  # a bad period fails before any work
    with Workspace.open(workspace) as ws:
        content = build_report(
            ws, period, client=client, model_dir=model, attribution_models=attribution_models
        )
    path = write_atomically(out, lambda tmp: writer(tmp, content))
    console.print(f"Report written to {path}", highlight=False)


def _writer(out: Path) -> Callable[[Path, dict[str, Any]], Any]:
    suffix = out.suffix.lower()
    if suffix in (".html", ".htm"):
        from trueroi.report.management_html import write_management_html

        return write_management_html
    if suffix == ".pdf":
        from trueroi.report.pdf import write_management_pdf

        return write_management_pdf
    if suffix == ".json":
        return _write_json
    raise UsageError(
        f"--out {out}: unknown format {suffix or '(no extension)'!r}; expected one of {', '.join(FORMATS)}"
    )


def _write_json(path: Path, content: dict[str, Any]) -> None:
    import json

    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def _check_directory(out: Path) -> None:
    parent = out.expanduser().parent
    if not parent.is_dir():
        raise UsageError(f"--out {out}: directory {parent} does not exist; create it first")


def write_atomically(out: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``out``, then rename it to ``out``.

    On any failure the temporary file is removed and ``out`` is left as it was.
    """
    out = out.expanduser()
    _check_directory(out)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the report is an ordinary file
        write(tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def register(app: typer.Typer) -> None:
    app.command("report")(report)
