"""Server settings: ``server.toml`` in the server home.

Every setting has a default, so an empty file is a valid configuration. The file may hold a secret (a
password inside ``database_url``); nothing here logs or prints it.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from trueroi.errors import ConfigError
from trueroi.workspace.config import dump_toml

SERVER_FILE = "server.toml"
DEFAULT_DATABASE_URL = "sqlite:///metadata.db"  # relative paths are taken from the server home
SECURE_COOKIE_CHOICES = ("auto", "always", "never")


@dataclass
class ServerConfig:
    """Settings of one server home, read from and written to ``server.toml``.

    Attributes
    ----------
    database_url
        SQLAlchemy URL of the metadata database: ``sqlite:///metadata.db`` (a file in the home, the
        default) or ``postgresql+psycopg://user:password@host/dbname`` for several web processes.
    session_hours
        How long a browser session lasts after login, in hours.
    secure_cookies
        ``auto``: cookies are marked Secure when the request came over https (also behind a proxy that
        sends ``X-Forwarded-Proto``, see uvicorn's ``--forwarded-allow-ips``); ``always`` or ``never``.
    login_window_minutes, login_max_failures, login_max_failures_per_address
        Login rate limit: at most this many failed logins per account, and per client address, within the
        window; further attempts are refused (even with the right password) until old failures age out.
    upload_max_mb
        Largest uploaded export file, in MB (10^6 bytes); a larger upload is refused before it is parsed.
    job_heartbeat_seconds, job_stale_seconds
        A worker refreshes a running job's heartbeat this often; a running job whose heartbeat is older
        than ``job_stale_seconds`` (its worker was killed) is marked failed (:mod:`trueroi.server.jobs`).
    """

    database_url: str = DEFAULT_DATABASE_URL
    session_hours: float = 12.0
    secure_cookies: str = "auto"
    login_window_minutes: float = 15.0
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    upload_max_mb: float = 200.0
    job_heartbeat_seconds: float = 5.0
    job_stale_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.secure_cookies not in SECURE_COOKIE_CHOICES:
            raise ConfigError(
                f"secure_cookies {self.secure_cookies!r} is unknown; expected one of "
                + ", ".join(SECURE_COOKIE_CHOICES)
            )
        for name in (
            "session_hours",
            "login_window_minutes",
            "login_max_failures",
            "upload_max_mb",
            "job_heartbeat_seconds",
        ):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not self.job_stale_seconds > 2 * self.job_heartbeat_seconds:
            raise ConfigError(
                f"job_stale_seconds ({self.job_stale_seconds!r}) must exceed twice job_heartbeat_seconds "
                f"({self.job_heartbeat_seconds!r}), or a live job could be taken for a dead one"
            )

    @classmethod
    def load(cls, home: Path) -> ServerConfig:
        """Read ``home/server.toml``; unknown keys are an error (a typo must not go unnoticed)."""
        path = home / SERVER_FILE
        try:
            data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{home} is not a server home (no {SERVER_FILE})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
        return cls(**data)

    def save(self, home: Path) -> None:
        text = dump_toml(asdict(self)).replace("# trueroi workspace configuration", "# trueroi server home")
        (home / SERVER_FILE).write_text(text, encoding="utf-8")

    def resolved_database_url(self, home: Path) -> str:
        """``database_url`` with a relative SQLite path made absolute inside ``home``."""
        url = self.database_url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            target = url.removeprefix("sqlite:///")
            if target and target != ":memory:":
                return f"sqlite:///{(home / target).resolve()}"
        return url
