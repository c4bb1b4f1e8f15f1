"""Workspace configuration: ``trueroi.toml``.

The file holds what differs between one business and the next: base currency, time zone, brand terms,
channel rules, how non-media costs are allocated, and where the warehouse lives (an Ibis backend URL).

The file is checked as a whole when it is read (:meth:`WorkspaceConfig.load`): pydantic validates every
section against the dataclasses below (their annotations carry the types and bounds; TOML's own types
are kept, so ``smtp_port = "25"`` is refused rather than guessed), then :meth:`WorkspaceConfig.validate`
checks what depends on more than one value. An unknown key is an error, not a warning: a misspelt key
(``smtp_hots``) would otherwise be ignored in silence. Every problem of the file is named in one
:class:`~trueroi.errors.ConfigError` line: the file, the key, the value found and what was expected.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
import zoneinfo
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, requires, version
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from pydantic import ConfigDict, Field, Strict, TypeAdapter, ValidationError

from trueroi.errors import ConfigError

CONFIG_FILE = "trueroi.toml"
ALLOCATION_RULES = ("spend_share", "revenue_share", "fixed")
COST_CATEGORIES = ("agency_fee", "salaries", "tools", "production", "server", "other")
SMTP_TLS = ("starttls", "ssl", "none")

# How pydantic reads a section: unknown keys refused; the types below refuse what TOML typed otherwise.
SECTION = ConfigDict(extra="forbid")
Text = Annotated[str, Strict()]
Whole = Annotated[int, Strict()]
Number = Annotated[float, Strict()]  # a TOML integer is a number too
Flag = Annotated[bool, Strict()]
Seconds = Annotated[Number, Field(gt=0)]


@dataclass
class ChannelRule:
    """A workspace channel rule, applied after GA4's default grouping; the first matching rule wins.

    Each non-empty pattern is a case-insensitive regular expression matched against the touch's field;
    all given patterns must match.
    """

    __pydantic_config__ = SECTION

    channel: Text
    source: Text = ""
    medium: Text = ""
    campaign: Text = ""

    def matches(self, source: str | None, medium: str | None, campaign: str | None) -> bool:
        pairs = ((self.source, source), (self.medium, medium), (self.campaign, campaign))
        return all(not pat or re.search(pat, val or "", re.IGNORECASE) for pat, val in pairs)


@dataclass
class CostAllocation:
    """How non-media costs without a channel are spread over channels.

    ``spend_share``: by each channel's share of media spend on the same day; ``revenue_share``: by each
    channel's share of attributed revenue on the same day; ``fixed``: all to ``channel``.
    """

    __pydantic_config__ = SECTION

    rule: Text = "spend_share"
    channel: Text = ""


@dataclass
class Branding:
    """Report branding, per client where an agency serves several.

    ``logo``: a PNG or JPEG file inside the workspace directory (relative to it, or absolute) or inside the
    workspace's ``branding_dir``.
    """

    __pydantic_config__ = SECTION

    name: Text = "trueroi"
    logo: Text = ""
    primary_color: Text = "#1f4e79"
    accent_color: Text = "#e07b39"


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

    __pydantic_config__ = SECTION

    smtp_host: Text = ""
    smtp_port: Annotated[Whole, Field(ge=1, le=65535)] = 25
    smtp_sender: Text = "trueroi@localhost"
    smtp_user: Text = ""
    smtp_password_env: Text = "TRUEROI_SMTP_PASSWORD"
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_starttls: Flag = False  # STARTTLS is required: a server that does not offer it is an error
    smtp_allow_plaintext_auth: Flag = False
    smtp_ca_file: Text = ""
    max_attempts: Annotated[Whole, Field(ge=1)] = 5  # a failing receiver is retried until this many attempts
    connect_timeout_s: Seconds = 5.0
    read_timeout_s: Seconds = 10.0
    run_deadline_s: Seconds = 60.0

    def validate(self) -> None:
        if self.smtp_tls not in SMTP_TLS:
            raise ConfigError(f"alerting.smtp_tls {self.smtp_tls!r} is unknown; expected one of {SMTP_TLS}")
        if self.smtp_starttls and self.smtp_tls != "starttls":
            raise ConfigError(
                f'alerting.smtp_starttls = true needs smtp_tls = "starttls", not {self.smtp_tls!r} '
                "(it makes STARTTLS required)"
            )


@dataclass
class ImportWindow:
    """Which days an imported row may carry (``[import]`` in ``trueroi.toml``); others are refused.

    ``earliest``: no row before this day (an order on 0001-01-01 is a broken export, not history).
    ``future_days``: things that happened (orders, sessions, ad days, conversions) at most this many days
    after today (local "today" in the farthest time zone plus clock skew). ``ahead_days``: periods booked
    ahead (a cost for the running quarter, a deal's forecast close date) at most this many days after today.
    """

    __pydantic_config__ = SECTION

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

    __pydantic_config__ = SECTION

    name: Text = "workspace"
    base_currency: Text = "EUR"
    timezone: Text = "Europe/Berlin"
    backend_url: Text = "duckdb://warehouse.duckdb"
    brand_terms: list[Text] = field(default_factory=list)
    lookback_days: Annotated[Whole, Field(ge=1)] = 30
    attribution_model: Text = "last_non_direct_click"
    default_margin: Annotated[Number, Field(ge=0, le=1)] | None = None  # contribution margin / revenue
    channel_rules: list[ChannelRule] = field(default_factory=list)
    cost_allocation: CostAllocation = field(default_factory=CostAllocation)
    branding: Branding = field(default_factory=Branding)
    clients: dict[Text, Branding] = field(default_factory=dict)  # per-client report branding
    alerting: Alerting = field(default_factory=Alerting)
    import_window: ImportWindow = field(default_factory=ImportWindow)  # [import] in trueroi.toml
    branding_dir: Text = ""  # a folder of logos shared by workspaces (relative to the workspace, or absolute)

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
        self.alerting.validate()
        _check_backend_url(self.backend_url)
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
    def from_dict(cls, data: dict[str, Any], source: str = CONFIG_FILE) -> WorkspaceConfig:
        """The configuration in ``data`` (the parsed TOML), checked as a whole.

        Raises
        ------
        ConfigError
            One line: ``source``, then every problem found (key, value, what was expected).
        """
        data = dict(data)
        if "import_window" in data:
            raise ConfigError(f"{source}: import_window: unknown key (the section is [import])")
        if "import" in data:
            data["import_window"] = data.pop("import")
        try:
            return _schema().validate_python(data)
        except ValidationError as exc:
            raise ConfigError(f"{source}: {describe(exc)}") from exc

    @classmethod
    def load(cls, directory: Path) -> WorkspaceConfig:
        """Read and check ``directory/trueroi.toml`` (see :meth:`from_dict`)."""
        path = Path(directory) / CONFIG_FILE
        try:
            raw = path.read_bytes()
        except FileNotFoundError as exc:
            raise ConfigError(f"{path} not found; {directory} is not an initialised workspace") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ConfigError(
                f"{path}: is not UTF-8 text (byte {raw[exc.start]:#04x} on line {line}); save it as UTF-8"
            ) from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        return cls.from_dict(data, source=str(path))

    def save(self, directory: Path) -> Path:
        path = Path(directory) / CONFIG_FILE
        data = asdict(self)
        data["import"] = data.pop("import_window")  # a Python keyword, so the field has another name
        path.write_text(dump_toml(data), encoding="utf-8")
        return path


@functools.cache
def _schema() -> TypeAdapter[WorkspaceConfig]:
    return TypeAdapter(WorkspaceConfig)


@functools.cache
def _ibis_backends() -> dict[str, EntryPoint]:
    return {e.name: e for e in entry_points(group="ibis.backends")}


def _check_backend_url(url: str) -> None:
    """Check that ``url`` names an installed Ibis backend (``duckdb://...``, ``postgres://...``)."""
    found = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*)://.*", url, flags=re.DOTALL)
    if found is None:
        raise ConfigError(
            f"backend_url {url!r} is not a backend URL like 'duckdb://warehouse.duckdb' or "
            "'postgres://user@host/database'"
        )
    scheme = found[1].lower().replace("postgresql", "postgres")
    backends = _ibis_backends()
    if scheme not in backends:
        raise ConfigError(
            f"backend_url {url!r}: unknown backend {scheme!r}; Ibis backends: {', '.join(sorted(backends))}"
        )
    missing = _missing_packages(scheme)
    if missing:
        raise ConfigError(
            f"backend_url {url!r}: the {scheme} backend needs {', '.join(missing)}, which is not installed; "
            f"install ibis-framework[{scheme}]"
        )


@functools.cache
def _missing_packages(extra: str) -> tuple[str, ...]:
    """The packages ibis-framework's ``extra`` asks for that are not installed (read from its metadata)."""
    missing = []
    for requirement in requires("ibis-framework") or []:
        if re.search(rf"extra\s*==\s*[\"']{re.escape(extra)}[\"']", requirement):
            name = re.match(r"[A-Za-z0-9._-]+", requirement)[0]
            try:
                version(name)
            except PackageNotFoundError:
                missing.append(name)
    return tuple(missing)


def describe(error: ValidationError) -> str:
    """Every problem pydantic found in a configuration, in one line: ``key = value: expected ...``."""
    problems: list[str] = []
    for err in error.errors():
        text = _problem(err)
        if text not in problems:
            problems.append(text)
    return "; ".join(problems)


def _problem(err: Any) -> str:
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):
        return str(cause)
    loc, kind = tuple(err["loc"]), err["type"]
    key = _key(loc)
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        section = _section(loc[:-1])
        known = [_field_key(f.name) for f in dataclasses.fields(section)] if section else []
        return f"{key}: unknown key" + (f" (known keys here: {', '.join(known)})" if known else "")
    if kind in ("missing", "missing_argument"):
        return f"{key}: missing (required)"
    return f"{key} = {_shown(err.get('input'))}: expected {_expected(kind, err)}"


_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text in quotes",
    "list_type": 'a list like ["a", "b"]',
    "dict_type": "a table",
    "dataclass_type": "a table",
    "date_type": "a day like 2000-01-01",
    "date_parsing": "a day like 2000-01-01",
    "date_from_datetime_inexact": "a day like 2000-01-01",
}
_BOUNDS = {
    "ge": "a number of at least",
    "gt": "a number above",
    "le": "a number of at most",
    "lt": "a number below",
}


def _expected(kind: str, err: Any) -> str:
    ctx = err.get("ctx") or {}
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    for bound, words in _BOUNDS.items():
        if bound in ctx:
            return f"{words} {ctx[bound]}"
    return _EXPECTED.get(kind, str(err.get("msg", "another value")).lower())


def _key(loc: tuple[Any, ...]) -> str:
    """``alerting.smtp_port``, ``channel_rules[1].source`` (counted from 1), ``import.future_days``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            name = _field_key(str(part)) if not out else str(part)
            out += f".{name}" if out else name
    return out or "(the file)"


def _field_key(name: str) -> str:
    return "import" if name == "import_window" else name


def _section(loc: tuple[Any, ...]) -> Any:
    """The dataclass a key path leads to (WorkspaceConfig for the top level), or None."""
    kind: Any = WorkspaceConfig
    for part in loc:
        if dataclasses.is_dataclass(kind) and isinstance(part, str):
            kind = get_type_hints(kind).get(part)
        elif get_origin(kind) in (list, dict):
            kind = get_args(kind)[-1]
        else:
            return None
    return kind if dataclasses.is_dataclass(kind) else None


def _shown(value: Any) -> str:
    try:
        text = _toml_value(value)
    except ConfigError:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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
