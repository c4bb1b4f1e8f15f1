"""The metadata database: tables, engine, schema version and upgrades (SQLAlchemy Core 2).

All times are stored as naive UTC ``datetime`` values (the same on SQLite and PostgreSQL). Secrets are never
stored in clear: passwords as Argon2id hashes, API tokens and session ids as SHA-256 hex digests.

Adding a table or column later: bump :data:`SCHEMA_VERSION`, declare the change in the tables below (for new
databases) and add a function to :data:`UPGRADES` that brings a database of the previous version up (for
existing ones); :func:`check_schema` runs it when the server starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from trueroi.errors import ConfigError

SCHEMA_VERSION = 2  # 2: jobs
ROLES = ("analyst", "viewer")  # per-workspace roles; admin is a flag on the user

metadata = sa.MetaData()

schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
)

workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("path", sa.String(4096), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("workspace", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.CheckConstraint("role IN ('analyst', 'viewer')", name="ck_memberships_role"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_used_at", sa.DateTime),
    sa.Column("revoked_at", sa.DateTime),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
    sa.Column("csrf_secret", sa.String(64), nullable=False),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("email", sa.String(320), nullable=False, index=True),
    sa.Column("client", sa.String(100), nullable=False, index=True),
    sa.Column("outcome", sa.String(20), nullable=False),  # ok | failed | refused
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("user_id", sa.Integer),  # no foreign key: the log outlives a deleted user
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("action", sa.String(50), nullable=False, index=True),
    sa.Column("workspace", sa.String(100), index=True),
    sa.Column("detail", sa.JSON, nullable=False),
)

# Background jobs (trueroi.server.jobs): what the queue library carries is the job id; the record is here.
JOB_STATUSES = ("queued", "running", "done", "failed")
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(50), nullable=False),  # import | mmm.fit | report
    sa.Column("workspace", sa.String(100), nullable=False, index=True),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),  # 0..1
    sa.Column("message", sa.String(500), nullable=False, default=""),
    sa.Column("result", sa.JSON),  # the library result's to_dict() (or what a file result is)
    sa.Column("error", sa.Text),  # one line, the library's words
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("user_id", sa.Integer),  # no foreign key: the record outlives a deleted user
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("heartbeat_at", sa.DateTime),  # refreshed by the worker while it runs the job
    sa.Column("worker", sa.String(200)),  # host:pid of the worker running it
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_jobs_status"),
)


def _add_jobs(conn: Connection) -> None:
    """Version 1 -> 2: the jobs table."""
    jobs.create(conn)


# version n -> function bringing a database of version n to n + 1 (inside one transaction)
UPGRADES: dict[int, Callable[[Connection], None]] = {1: _add_jobs}


def utcnow() -> datetime:
    """Now in UTC as a naive datetime, the form every time in the metadata database takes."""
    return datetime.now(UTC).replace(tzinfo=None)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, a busy timeout and foreign keys (several web processes
    share one file)."""
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_schema(engine: Engine) -> None:
    """Create every table in an empty database and record :data:`SCHEMA_VERSION`."""
    with engine.begin() as conn:
        if sa.inspect(conn).has_table("schema_version"):
            raise ConfigError("the metadata database already holds a trueroi schema")
        metadata.create_all(conn)
        conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))


def check_schema(engine: Engine) -> int:
    """Bring the database up to :data:`SCHEMA_VERSION` (running :data:`UPGRADES`) and return the version
    found before.

    Raises
    ------
    ConfigError
        When the database holds no trueroi schema, or one newer than this code knows.
    """
    with engine.begin() as conn:
        if not sa.inspect(conn).has_table("schema_version"):
            raise ConfigError("the metadata database holds no trueroi schema; create it with 'server init'")
        found = conn.execute(sa.select(schema_version.c.version)).scalar_one()
        if found > SCHEMA_VERSION:
            raise ConfigError(
                f"the metadata database has schema version {found}, newer than this trueroi knows "
                f"({SCHEMA_VERSION}); upgrade trueroi"
            )
        for version in range(found, SCHEMA_VERSION):
            UPGRADES[version](conn)
            conn.execute(schema_version.update().values(version=version + 1))
    return found
