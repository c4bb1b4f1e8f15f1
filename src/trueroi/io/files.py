"""Writing outputs: through a temporary file beside the target and a rename, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trueroi.errors import UsageError
from trueroi.io.jsonable import dumps


def check_directory(out: str | os.PathLike[str]) -> Path:
    """``out`` with ``~`` expanded, after checking that its directory exists.

    Raises
    ------
    UsageError
        When the directory of ``out`` does not exist or ``out`` is itself a directory.
    """
    path = Path(out).expanduser()
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"{path}: directory {parent} does not exist; create it first")
    if path.is_dir():
        raise UsageError(f"{path} is a directory; expected a file name")
    return path


def write_atomically(out: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``out``, then rename it to ``out``.

    The temporary file gets the permissions an ordinary new file would get (the umask's). On any failure,
    including an interrupt, the temporary file is removed and ``out`` is left as it was.
    """
    path = check_directory(out)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; an output is an ordinary file
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(out: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``out`` atomically."""
    return write_atomically(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(out: str | os.PathLike[str], payload: Any) -> Path:
    """Write ``payload`` as indented JSON (through :func:`~trueroi.io.jsonable.jsonable`) atomically."""
    return write_text(out, dumps(payload) + "\n")
