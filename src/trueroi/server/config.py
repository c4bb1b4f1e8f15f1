"""Server settings: ``server.toml`` in the server home.

Every setting has a default, so an empty file is a valid configuration. The file may hold a secret (a
password inside ``database_url``); nothing here logs or prints it.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from trueroi.errors import ConfigError
from trueroi.workspace.config import dump_toml

SERVER_FILE = "server.toml"
DEFAULT_DATABASE_URL = "sqlite:///metadata.db"  # relative paths are taken from the server home
SECURE_COOKIE_CHOICES = ("auto", "always", "never")
IP_MODES = ("truncate", "drop", "full")


@dataclass
class CollectorConfig:
    """The ``[collector]`` section of ``server.toml``: the event collector and its loader
    (:mod:`trueroi.tracking`).

    Attributes
    ----------
    queue_url
        Empty (the default): events are kept in a write-ahead log on this machine (``wal_dir``). A NATS URL
        (``nats://host:4222``, several separated by commas): collectors publish to a NATS JetStream stream
        and loader consumers take them from there.
    wal_dir
        Folder of the write-ahead log (relative paths are taken from the server home).
    durable
        Acknowledge an event batch only after ``fsync`` (the default). ``false`` answers once the batch is
        written to the operating system, which a power cut can lose: for measuring, not for production.
    segment_mb
        A WAL segment is closed and a new one started past this size in MB.
    max_body_kb, max_events
        Largest request body (KB, 1,000 bytes) and most events in one batch; larger ones are refused.
    ip_mode
        ``truncate`` (default): the client address is stored with its last IPv4 byte / last 80 IPv6 bits
        zeroed; ``drop``: no address is stored; ``full``: the whole address (only where that is lawful).
    retention_days
        Raw tracked events older than this many days (by receive time) are deleted by the loader; 0 keeps
        them. Sessions, orders and conversions built from them stay.
    bot_events_per_minute
        Browser events from one client (address and user agent) beyond this many per minute are dropped as
        non-human.
    load_interval_seconds, load_batch_events
        How often the loader looks for new events, and the most it moves in one warehouse transaction.
    nats_stream, nats_subject, nats_ack_wait_seconds
        The JetStream stream and subject, and how long a loader may hold a message before it is redelivered.
    """

    queue_url: str = ""
    wal_dir: str = "collector/wal"
    durable: bool = True
    segment_mb: float = 64.0
    max_body_kb: float = 1000.0
    max_events: int = 1000
    ip_mode: str = "truncate"
    retention_days: int = 90
    bot_events_per_minute: int = 120
    load_interval_seconds: float = 0.5
    load_batch_events: int = 50_000
    nats_stream: str = "TRUEROI_EVENTS"
    nats_subject: str = "trueroi.events"
    nats_ack_wait_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.ip_mode not in IP_MODES:
            raise ConfigError(
                f"[collector] ip_mode {self.ip_mode!r} is unknown; expected one of {', '.join(IP_MODES)}"
            )
        if self.queue_url and not all(
            u.strip().startswith(("nats://", "tls://")) for u in self.queue_url.split(",")
        ):
            raise ConfigError(f"[collector] queue_url {self.queue_url!r} is not a nats:// URL")
        for name in (
            "segment_mb",
            "max_body_kb",
            "max_events",
            "bot_events_per_minute",
            "load_interval_seconds",
            "load_batch_events",
            "nats_ack_wait_seconds",
        ):
            if not getattr(self, name) > 0:
                raise ConfigError(f"[collector] {name} must be positive, got {getattr(self, name)!r}")
        if self.retention_days < 0:
            raise ConfigError(
                f"[collector] retention_days must be 0 (keep) or more, got {self.retention_days!r}"
            )

    def resolved_wal_dir(self, home: Path) -> Path:
        """``wal_dir`` made absolute inside ``home``."""
        path = Path(self.wal_dir).expanduser()
        return path if path.is_absolute() else home / path


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
    collector
        The ``[collector]`` section (:class:`CollectorConfig`).
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
    collector: CollectorConfig = field(default_factory=CollectorConfig)

    def __post_init__(self) -> None:
        if isinstance(self.collector, dict):
            self.collector = _collector(self.collector)
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


def _collector(data: dict[str, Any]) -> CollectorConfig:
    """The ``[collector]`` table as a :class:`CollectorConfig`; unknown keys are an error."""
    known = {f.name for f in fields(CollectorConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"[collector]: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return CollectorConfig(**data)
