"""Workspace configuration: ``trueroi.toml``.

The file holds what differs between one business and the next: base currency, time zone, brand terms,
channel rules, how non-media costs are allocated, and where the warehouse lives (an Ibis backend URL).
"""

from __future__ import annotations

import re
import tomllib
import zoneinfo
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from trueroi.errors import ConfigError

CONFIG_FILE = "trueroi.toml"
ALLOCATION_RULES = ("spend_share", "revenue_share", "fixed")
COST_CATEGORIES = ("agency_fee", "salaries", "tools", "production", "server", "other")


@dataclass
class ChannelRule:
    """A workspace channel rule, applied after GA4's default grouping; the first matching rule wins.

    Each non-empty pattern is a case-insensitive regular expression matched against the touch's field;
    all given patterns must match.
    """

    channel: str
    source: str = ""
    medium: str = ""
    campaign: str = ""

    def matches(self, source: str | None, medium: str | None, campaign: str | None) -> bool:
        pairs = ((self.source, source), (self.medium, medium), (self.campaign, campaign))
        return all(not pat or re.search(pat, val or "", re.IGNORECASE) for pat, val in pairs)


@dataclass
class CostAllocation:
    """How non-media costs without a channel are spread over channels.

    ``spend_share``: by each channel's share of media spend on the same day; ``revenue_share``: by each
    channel's share of attributed revenue on the same day; ``fixed``: all to ``channel``.
    """

    rule: str = "spend_share"
    channel: str = ""


@dataclass
class Branding:
    """Report branding, per client where an agency serves several."""

    name: str = "trueroi"
    logo: str = ""  # path to a PNG/JPEG, relative to the workspace directory or absolute
    primary_color: str = "#1f4e79"
    accent_color: str = "#e07b39"


@dataclass
class Alerting:
    """Where alerts go out: an SMTP server for e-mail (webhook URLs are set per alert rule), and how long a
    receiver may take.

    The SMTP password is never written to the file: it is read from the environment variable named in
    ``smtp_password_env`` when an alert is sent. ``smtp_tls``: ``starttls`` upgrades the connection whenever
    the server offers STARTTLS (``smtp_starttls = true``: and refuses a server that does not), ``ssl``
    speaks TLS from the start (implicit TLS, port 465), ``none`` never encrypts. A password is only sent
    over an encrypted connection unless ``smtp_allow_plaintext_auth = true``. Certificates are checked
    against the system's authorities, or ``smtp_ca_file`` (a PEM file) when given.

    Every receiver gets ``connect_timeout_s`` to accept the connection and ``read_timeout_s`` for each
    answer; a monitor run stops trying after ``run_deadline_s`` (what is left stays pending for the next).
    """

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "trueroi@localhost"
    smtp_user: str = ""
    smtp_password_env: str = "TRUEROI_SMTP_PASSWORD"
    smtp_tls: str = "starttls"
    smtp_starttls: bool = False  # STARTTLS is required: a server that does not offer it is an error
    smtp_allow_plaintext_auth: bool = False
    smtp_ca_file: str = ""
    max_attempts: int = 5  # a failing receiver is retried at the next run until this many attempts
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    run_deadline_s: float = 60.0


@dataclass
class ImportWindow:
    """Which days an imported row may carry (``[import]`` in ``trueroi.toml``); others are refused.

    ``earliest``: no row before this day (an order on 0001-01-01 is a broken export, not history).
    ``future_days``: things that happened (orders, sessions, ad days, conversions) at most this many days
    after today (local "today" in the farthest time zone plus clock skew). ``ahead_days``: periods booked
    ahead (a cost for the running quarter, a deal's forecast close date) at most this many days after today.
    """

    earliest: date = date(2000, 1, 1)
    future_days: int = 2
    ahead_days: int = 731

    def validate(self) -> None:
        if isinstance(self.earliest, str):
            try:
                self.earliest = date.fromisoformat(self.earliest)
            except ValueError as exc:
                raise ConfigError(f"import.earliest {self.earliest!r} is not a day like 2000-01-01") from exc
        if isinstance(self.earliest, datetime):
            self.earliest = self.earliest.date()
        if not isinstance(self.earliest, date):
            raise ConfigError(f"import.earliest {self.earliest!r} is not a day like 2000-01-01")
        for name in ("future_days", "ahead_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"import.{name} must be a whole number of days, 0 or more; got {value!r}")
        if self.ahead_days < self.future_days:
            raise ConfigError("import.ahead_days must be at least import.future_days")


@dataclass
class WorkspaceConfig:
    """Settings of one workspace, read from and written to ``trueroi.toml``."""

    name: str = "workspace"
    base_currency: str = "EUR"
    timezone: str = "Europe/Berlin"
    backend_url: str = "duckdb://warehouse.duckdb"
    brand_terms: list[str] = field(default_factory=list)
    lookback_days: int = 30
    attribution_model: str = "last_non_direct_click"
    default_margin: float | None = None
    channel_rules: list[ChannelRule] = field(default_factory=list)
    cost_allocation: CostAllocation = field(default_factory=CostAllocation)
    branding: Branding = field(default_factory=Branding)
    clients: dict[str, Branding] = field(default_factory=dict)  # per-client report branding
    alerting: Alerting = field(default_factory=Alerting)
    import_window: ImportWindow = field(default_factory=ImportWindow)  # [import] in trueroi.toml

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if not re.fullmatch(r"[A-Z]{3}", self.base_currency):
            raise ConfigError(f"base_currency {self.base_currency!r} is not an ISO 4217 code like 'EUR'")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"timezone {self.timezone!r} is not an IANA time zone like 'Europe/Berlin'"
            ) from exc
        if self.cost_allocation.rule not in ALLOCATION_RULES:
            raise ConfigError(
                f"cost_allocation.rule {self.cost_allocation.rule!r} is unknown; expected one of "
                + ", ".join(ALLOCATION_RULES)
            )
        if self.cost_allocation.rule == "fixed" and not self.cost_allocation.channel:
            raise ConfigError("cost_allocation.rule 'fixed' needs cost_allocation.channel")
        self.import_window.validate()
        if self.lookback_days <= 0:
            raise ConfigError(f"lookback_days must be positive, got {self.lookback_days}")
        for term in self.brand_terms:
            _check_regex(term, "brand_terms")
        for rule in self.channel_rules:
            for pat in (rule.source, rule.medium, rule.campaign):
                _check_regex(pat, "channel_rules")
        for brand in (self.branding, *self.clients.values()):
            for color in (brand.primary_color, brand.accent_color):
                if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
                    raise ConfigError(f"branding colour {color!r} is not a hex colour like '#1f4e79'")

    def branding_for(self, client: str | None = None) -> Branding:
        """The report branding of ``client`` (a ``[clients.NAME]`` table), or the workspace's own."""
        if client is None:
            return self.branding
        if client not in self.clients:
            known = ", ".join(sorted(self.clients)) or "none configured"
            raise ConfigError(
                f"client {client!r} has no [clients.{client}] branding in {CONFIG_FILE} (known: {known})"
            )
        return self.clients[client]

    @property
    def brand_regex(self) -> re.Pattern[str] | None:
        """One case-insensitive pattern matching any brand term, or None when no terms are set."""
        if not self.brand_terms:
            return None
        return re.compile("|".join(f"(?:{t})" for t in self.brand_terms), re.IGNORECASE)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkspaceConfig:
        data = dict(data)
        try:
            rules = [ChannelRule(**r) for r in data.pop("channel_rules", [])]
            alloc = CostAllocation(**data.pop("cost_allocation", {}))
            branding = Branding(**data.pop("branding", {}))
            clients = {k: Branding(**v) for k, v in data.pop("clients", {}).items()}
            alerting = Alerting(**data.pop("alerting", {}))
            window = ImportWindow(**data.pop("import", {}))
            return cls(
                **data,
                channel_rules=rules,
                cost_allocation=alloc,
                branding=branding,
                clients=clients,
                alerting=alerting,
                import_window=window,
            )
        except TypeError as exc:
            raise ConfigError(f"{CONFIG_FILE}: {exc}") from exc

    @classmethod
    def load(cls, directory: Path) -> WorkspaceConfig:
        path = Path(directory) / CONFIG_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path} not found; {directory} is not an initialised workspace") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        return cls.from_dict(data)

    def save(self, directory: Path) -> Path:
        path = Path(directory) / CONFIG_FILE
        data = asdict(self)
        data["import"] = data.pop("import_window")  # a Python keyword, so the field has another name
        path.write_text(dump_toml(data), encoding="utf-8")
        return path


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{where}: {pattern!r} is not a valid regular expression ({exc})") from exc


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()  # a TOML local date
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} to TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def dump_toml(data: dict[str, Any]) -> str:
    """Write the configuration dict as TOML: scalars first, then tables, then arrays of tables."""
    lines = ["# trueroi workspace configuration", ""]
    tables, arrays = {}, {}
    for key, value in data.items():
        if isinstance(value, dict):
            tables[key] = value
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            arrays[key] = value
        elif value is None or isinstance(value, list) and not value and key == "channel_rules":
            continue
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables.items():
        nested = {k: v for k, v in table.items() if isinstance(v, dict)}
        flat = [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None and k not in nested]
        if flat:
            lines += ["", f"[{key}]", *flat]
        for sub, values in nested.items():
            lines += ["", f"[{key}.{_toml_key(sub)}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
    for key, rows in arrays.items():
        for row in rows:
            lines += ["", f"[[{key}]]"] + [f"{k} = {_toml_value(v)}" for k, v in row.items() if v is not None]
    return "\n".join(lines) + "\n"
