"""Collector keys: a public write key (the browser tracker) and a secret key (the shop's backend) per
workspace of a server home.

The keys live in ``HOME/collector/keys.json`` (mode 0600, written atomically), because the secret key is
shown again by ``trueroi collector keys NAME``: like ``server.toml`` with a database password, the file is as
secret as the home. The collector finds a key's workspace through :class:`KeyRing`, which reads the file
again when it changes, so new or rotated keys work without a restart. Lookups go by the key's SHA-256
digest, so a wrong key takes as long to refuse as a near miss.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trueroi.errors import ConfigError
from trueroi.io import jsonable
from trueroi.server.home import ServerHome

KEYS_FILE = Path("collector") / "keys.json"
WRITE_PREFIX = "trw_"
SECRET_PREFIX = "trs_"


@dataclass(frozen=True)
class CollectorKeys:
    """The keys of one workspace: ``write_key`` (public, in the page's script tag) and ``secret_key``
    (server-side events: ``Authorization: Bearer SECRET_KEY``)."""

    workspace: str
    write_key: str
    secret_key: str
    created: bool = False

    def to_dict(self) -> dict[str, Any]:
        """What ``trueroi collector keys NAME --format json`` prints."""
        return jsonable({"write_key": self.write_key, "secret_key": self.secret_key})


def keys_path(home: ServerHome | Path) -> Path:
    root = home.path if isinstance(home, ServerHome) else Path(home)
    return root / KEYS_FILE


def collector_keys(home: ServerHome, name: str, *, rotate: bool = False) -> CollectorKeys:
    """The collector keys of workspace ``name``, created on first use; ``rotate`` replaces both (the old
    ones stop working at once).

    Raises
    ------
    NoWorkspaceError
        When the home serves no workspace of that name.
    """
    home.workspace_path(name)  # raises NoWorkspaceError
    path = keys_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(path.with_suffix(".lock")):
        stored = _read(path)
        entry = stored.get(name)
        created = entry is None or rotate
        if created:
            entry = {
                "write_key": WRITE_PREFIX + secrets.token_urlsafe(18),
                "secret_key": SECRET_PREFIX + secrets.token_urlsafe(32),
            }
            stored[name] = entry
            _write(path, stored)
    return CollectorKeys(name, entry["write_key"], entry["secret_key"], created)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


class KeyRing:
    """Which workspace a key belongs to, read from the home's keys file (again whenever it changed)."""

    def __init__(self, home: Path) -> None:
        self.path = keys_path(home)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._write: dict[str, str] = {}
        self._secret: dict[str, str] = {}

    def workspace(self, key: str | None, *, secret: bool) -> str | None:
        """The workspace of a secret key (``secret``) or a write key; None for an unknown key."""
        if not key or len(key) > 200:
            return None
        self._refresh()
        table = self._secret if secret else self._write
        return table.get(digest(key))

    def _refresh(self) -> None:
        try:
            found = self.path.stat()
            stamp = (found.st_mtime_ns, found.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        with self._lock:
            stored = _read(self.path) if stamp is not None else {}
            self._write = {digest(v["write_key"]): name for name, v in stored.items()}
            self._secret = {digest(v["secret_key"]): name for name, v in stored.items()}
            self._stamp = stamp


def _read(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise ConfigError(f"{path} is not a collector keys file: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a collector keys file")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@contextlib.contextmanager
def _file_lock(path: Path):  # noqa: ANN202 - a context manager
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
