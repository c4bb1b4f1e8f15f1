"""Importers: parse the exports users already have, map them to the canonical tables, load atomically.

``import_file(workspace, format_name, path)`` imports one file; ``import_files`` a batch (folders, ``auto``
detection); ``detect_format(path)`` names the format of a file; ``format_names()`` lists them. Channel
grouping lives in :mod:`trueroi.ingest.channels`.
"""

from trueroi.ingest.base import FORMATS, Format, ImportContext
from trueroi.ingest.detect import detect_format
from trueroi.ingest.importer import (
    AUTO,
    Detection,
    ImportBatch,
    detect_files,
    expand_paths,
    import_file,
    import_files,
    plan_imports,
)
from trueroi.ingest.registry import format_names, get_format

__all__ = [
    "AUTO",
    "FORMATS",
    "Detection",
    "Format",
    "ImportBatch",
    "ImportContext",
    "detect_files",
    "detect_format",
    "expand_paths",
    "format_names",
    "get_format",
    "import_file",
    "import_files",
    "plan_imports",
]
