"""Importers: parse the exports users already have, map them to the canonical tables, load atomically.

``import_file(workspace, format_name, path)`` imports one file; ``detect_format(path)`` names the format of
a file; ``FORMATS`` lists them. Channel grouping lives in :mod:`trueroi.ingest.channels`.
"""

from trueroi.ingest.base import FORMATS, Format, ImportContext, get_format, import_file
from trueroi.ingest.detect import detect_format

__all__ = ["FORMATS", "Format", "ImportContext", "detect_format", "get_format", "import_file"]
