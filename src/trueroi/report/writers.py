"""Writing the management report in the format its file name asks for, never half-written.

``.html``/``.htm``: interactive charts (plotly.js inlined, renders offline); ``.pdf``: charts as images;
``.json``: the content itself (:func:`~trueroi.report.management.build_report`). Every writer goes through
:func:`trueroi.io.write_atomically`: a temporary file beside the target, renamed into place on success.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trueroi.errors import UsageError
from trueroi.io import check_directory, dumps, write_atomically
from trueroi.metrics.dimensions import parse_period
from trueroi.report.management import build_report
from trueroi.report.management_html import write_management_html
from trueroi.report.pdf import write_management_pdf
from trueroi.workspace import Workspace

Writer = Callable[[Path, dict[str, Any]], Any]


def _write_json(path: Path, content: dict[str, Any]) -> None:
    path.write_text(dumps(content) + "\n", encoding="utf-8")


WRITERS: dict[str, Writer] = {
    ".html": write_management_html,
    ".htm": write_management_html,
    ".pdf": write_management_pdf,
    ".json": _write_json,
}


def writer_for(out: str | os.PathLike[str]) -> Writer:
    """The writer for ``out``'s extension.

    Raises
    ------
    UsageError
        For an extension no writer handles.
    """
    suffix = Path(out).suffix.lower()
    if suffix not in WRITERS:
        raise UsageError(
            f"{out}: unknown format {suffix or '(no extension)'!r}; "
            f"expected a report file ending in one of {', '.join(WRITERS)}"
        )
    return WRITERS[suffix]


def write_report(content: dict[str, Any], out: str | os.PathLike[str]) -> Path:
    """Write report ``content`` to ``out`` in the format of its extension, atomically."""
    writer = writer_for(out)
    return write_atomically(out, lambda tmp: writer(tmp, content))


def create_report(
    ws: Workspace,
    period: str,
    out: str | os.PathLike[str],
    *,
    client: str | None = None,
    model_dir: str | os.PathLike[str] | None = None,
    attribution_models: str = "all",
) -> Path:
    """Build the management/client report of ``period`` and write it to ``out`` (see :func:`write_report`).

    The file name's format, its folder and the period are checked before any work.
    """
    writer_for(out)
    check_directory(out)
    parse_period(period)
    content = build_report(
        ws, period, client=client, model_dir=model_dir, attribution_models=attribution_models
    )
    return write_report(content, out)
