"""Loading the channels' own KPI exports (e-mail, SEO, organic social) into a workspace.

:func:`import_owned` loads one file of the formats ``mailchimp``, ``brevo``, ``email``, ``search-console``,
``rankings``, ``meta-insights``, ``linkedin-pages`` and ``social`` atomically and idempotently: it is
:func:`~trueroi.ingest.importer.import_file` (the tables are in ``trueroi.workspace.imports.DATA_TABLES``, so
``trueroi import FORMAT FILE`` and ``trueroi import auto`` load them the same way), refusing any other format.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from trueroi.errors import UsageError
from trueroi.ingest.importer import import_file
from trueroi.ingest.registry import get_format
from trueroi.workspace import LoadResult, Workspace

OWNED_TABLES = frozenset({"email_campaigns", "search_console", "rankings", "social_posts"})


def import_owned(
    ws: Workspace,
    format_name: str,
    path: str | Path,
    *,
    options: dict[str, Any] | None = None,
    today: date | None = None,
    replace: bool = False,
) -> LoadResult:
    """Import one e-mail, SEO or organic-social export, atomically and idempotently.

    Parameters are those of :func:`~trueroi.ingest.importer.import_file`; ``replace`` replaces the period
    the file covers (rows loaded earlier from the same format between its first and last day).

    Raises
    ------
    DataValidationError
        When the file is broken; nothing is written then.
    UsageError
        For an unknown format, a format of another kind, or a path that is no file.
    """
    fmt = get_format(format_name)
    if not set(fmt.tables) <= OWNED_TABLES:
        raise UsageError(f"{format_name} is not an e-mail, SEO or organic-social format")
    return import_file(ws, format_name, path, options=options, today=today, replace=replace)
