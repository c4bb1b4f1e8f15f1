"""Alert rules: which KPI of which scope to watch, the condition, severity and where the alert goes.

Rules are declared by users (``trueroi alert add``) and kept in the workspace table ``alert_rules``. A rule
fires on a day when its KPI's observed value is above or below a fixed threshold, or when the KPI is
anomalous against its seasonal baseline (:mod:`trueroi.monitor.detect`). One firing is an *incident*,
keyed by rule, scope and day (or hour), so it is alerted once however often the monitor runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import InitVar, asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.monitor.detect import CRITICAL, MONITORED, THRESHOLD, Anomaly, format_value
from trueroi.monitor.outbox import drop_rule_alerts, locked
from trueroi.monitor.receivers import check_email, check_webhook_url
from trueroi.monitor.series import TOTAL
from trueroi.workspace import Workspace
from trueroi.workspace.state import StateTable

CONDITIONS = ("above", "below", "anomaly")
SEVERITIES = ("info", "warning", "critical")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

RULES = StateTable(
    "alert_rules",
    {
        "name": "string",
        "kpi": "string",
        "channel": "string",
        "campaign": "string",
        "condition": "string",
        "threshold": "float64",
        "severity": "string",
        "emails": "string",  # JSON list
        "webhooks": "string",  # JSON list
        "created_at": "timestamp",
    },
    key=("name",),
)


@dataclass
class AlertRule:
    """One alert rule.

    ``condition`` is above or below (``threshold`` in the KPI's unit: base currency for spend and CPA, a
    ratio for ROAS and CTR, e.g. 0.02 for a 2 % CTR, a count otherwise) or anomaly (``threshold`` unused).
    The scope is the campaign when given, else the channel, else the whole business. Receivers are checked
    (:func:`~trueroi.monitor.receivers.check_webhook_url`, :func:`~trueroi.monitor.receivers.check_email`)
    unless ``stored``: a rule read back from the workspace may hold an address an older version accepted;
    it is refused when it is sent, for that delivery only.
    """

    name: str
    kpi: str
    condition: str
    severity: str = "warning"
    threshold: float | None = None
    channel: str | None = None
    campaign: str | None = None
    emails: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    stored: InitVar[bool] = False

    def __post_init__(self, stored: bool) -> None:
        self.kpi = self.kpi.strip().lower()
        self.campaign = self.campaign.strip().lower() if self.campaign else None
        self.channel = self.channel.strip() if self.channel else None
        self.validate(receivers=not stored)

    @property
    def scope(self) -> tuple[str, str]:
        """(scope, scope_value) as in the KPI series: campaign names are normalised (lower case)."""
        if self.campaign:
            return "campaign", self.campaign
        if self.channel:
            return "channel", self.channel
        return "total", TOTAL

    @property
    def destinations(self) -> list[str]:
        return [f"email:{e}" for e in self.emails] + [f"webhook:{u}" for u in self.webhooks]

    @property
    def scope_text(self) -> str:
        """The scope for people: ``all``, ``channel Search`` or ``campaign brand_broad``."""
        scope, value = self.scope
        return "all" if scope == "total" else f"{scope} {value}"

    @property
    def condition_text(self) -> str:
        """The condition for people: ``cpa anomaly`` or ``spend above 500``."""
        if self.condition == "anomaly":
            return f"{self.kpi} anomaly"
        return f"{self.kpi} {self.condition} {self.threshold:g}"

    @property
    def receivers_text(self) -> str:
        """E-mail addresses and webhook URLs, comma-separated (``(none: recorded only)`` without any)."""
        return ", ".join(self.emails + self.webhooks) or "(none: recorded only)"

    def validate(self, *, receivers: bool = True) -> None:
        """Check every field; ``receivers=False`` leaves the e-mail addresses and webhook URLs unchecked."""
        if not _NAME.fullmatch(self.name):
            raise UsageError(
                f"alert name {self.name!r} is not valid; use letters, digits, '_', '-' or '.' (at most 64)"
            )
        if self.kpi not in MONITORED:
            raise UsageError(f"unknown KPI {self.kpi!r} for an alert; expected one of {', '.join(MONITORED)}")
        if self.condition not in CONDITIONS:
            raise UsageError(f"unknown condition {self.condition!r}; expected one of {', '.join(CONDITIONS)}")
        if self.severity not in SEVERITIES:
            raise UsageError(f"unknown severity {self.severity!r}; expected one of {', '.join(SEVERITIES)}")
        if self.condition != "anomaly" and self.threshold is None:
            raise UsageError(f"alert {self.name!r}: condition {self.condition!r} needs a threshold")
        scope = self.scope[0]
        if scope not in MONITORED[self.kpi].scopes:
            watched = ", ".join(MONITORED[self.kpi].scopes)
            raise UsageError(f"KPI {self.kpi!r} is watched for {watched} only, not per {scope}")
        if receivers:
            for email in self.emails:
                check_email(email)
            for url in self.webhooks:
                check_webhook_url(url)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``trueroi alert list``."""
        out = asdict(self)
        out["scope"], out["scope_value"] = self.scope
        out["created_at"] = self.created_at.isoformat() if self.created_at else None
        return out

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["emails"], row["webhooks"] = json.dumps(self.emails), json.dumps(self.webhooks)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AlertRule:
        row = dict(row)
        row["emails"] = json.loads(row.get("emails") or "[]")
        row["webhooks"] = json.loads(row.get("webhooks") or "[]")
        if row.get("threshold") is not None and pd.isna(row["threshold"]):
            row["threshold"] = None
        return cls(**row, stored=True)


@dataclass(frozen=True)
class AlertList:
    """The alert rules of a workspace, by name."""

    rules: list[AlertRule]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi alert list --format json``: ``{"alerts": [AlertRule.to_dict(), ...]}``."""
        return jsonable({"alerts": [r.to_dict() for r in self.rules]})

    def rows(self) -> list[dict[str, Any]]:
        """One row per rule for a table or CSV.

        The fields of :meth:`AlertRule.to_dict` but the receiver lists, plus ``scope_text``,
        ``condition_text`` and ``receivers`` (one text).
        """
        return [
            {
                **{k: v for k, v in r.to_dict().items() if k not in ("emails", "webhooks")},
                "scope_text": r.scope_text,
                "condition_text": r.condition_text,
                "receivers": r.receivers_text,
            }
            for r in self.rules
        ]


@dataclass(frozen=True)
class RemovedAlert:
    """The name of an alert rule that was removed, and how many of its pending alerts were dropped."""

    name: str
    dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi alert remove --format json``: ``{"removed": name}``."""
        return {"removed": self.name}


def make_rule(
    name: str,
    kpi: str,
    *,
    above: float | None = None,
    below: float | None = None,
    anomaly: bool = False,
    severity: str = "warning",
    channel: str | None = None,
    campaign: str | None = None,
    emails: Sequence[str] = (),
    webhooks: Sequence[str] = (),
) -> AlertRule:
    """A checked alert rule with exactly one condition: ``above`` X, ``below`` X or ``anomaly``.

    ``severity`` is case-insensitive; see :class:`AlertRule` for the units of a threshold and the scope.
    """
    given = {"above": above is not None, "below": below is not None, "anomaly": anomaly}
    chosen = [condition for condition, on in given.items() if on]
    if len(chosen) != 1:
        raise UsageError(
            "an alert needs exactly one condition: above a threshold, below a threshold, or anomaly"
        )
    return AlertRule(
        name=name,
        kpi=kpi,
        condition=chosen[0],
        threshold=above if above is not None else below,
        severity=severity.lower(),
        channel=channel,
        campaign=campaign,
        emails=list(emails),
        webhooks=list(webhooks),
    )


def add_alert(
    ws: Workspace,
    name: str,
    kpi: str,
    *,
    above: float | None = None,
    below: float | None = None,
    anomaly: bool = False,
    severity: str = "warning",
    channel: str | None = None,
    campaign: str | None = None,
    emails: Sequence[str] = (),
    webhooks: Sequence[str] = (),
    replace: bool = False,
) -> AlertRule:
    """Check and store an alert rule (see :func:`make_rule`) and return it.

    A rule of the same name is an error unless ``replace``.
    """
    rule = make_rule(
        name,
        kpi,
        above=above,
        below=below,
        anomaly=anomaly,
        severity=severity,
        channel=channel,
        campaign=campaign,
        emails=emails,
        webhooks=webhooks,
    )
    return add_rule(ws, rule, replace=replace)


def list_alerts(ws: Workspace) -> AlertList:
    """The alert rules of the workspace, by name."""
    return AlertList(list_rules(ws))


def remove_alert(ws: Workspace, name: str) -> RemovedAlert:
    """Delete the alert rule ``name``; its alerts not delivered yet are dropped (they stay in the outbox)."""
    return RemovedAlert(name, remove_rule(ws, name))


def list_rules(ws: Workspace) -> list[AlertRule]:
    """Every rule of the workspace, by name."""
    return sorted((AlertRule.from_row(r) for r in RULES.records(ws)), key=lambda r: r.name)


def add_rule(ws: Workspace, rule: AlertRule, *, replace: bool = False) -> AlertRule:
    """Store ``rule``; an existing rule of the same name is an error unless ``replace``."""
    if not replace and any(r.name == rule.name for r in list_rules(ws)):
        raise UsageError(f"an alert named {rule.name!r} exists; remove it first or pick another name")
    rule.created_at = rule.created_at or datetime.now(UTC).replace(tzinfo=None)
    RULES.upsert(ws, [rule.to_row()])
    return rule


def remove_rule(ws: Workspace, name: str) -> int:
    """Delete the rule ``name``; returns how many of its pending alerts were dropped.

    Its alerts stay in the outbox: delivered ones as they are, pending ones with status ``dropped``
    (dropped first, so a process killed in between leaves the rule in place, to be removed again).
    """
    with locked(ws, f"removal of alert {name}"):
        if not any(r["name"] == name for r in RULES.records(ws)):
            known = ", ".join(r.name for r in list_rules(ws)) or "none"
            raise UsageError(f"no alert named {name!r} (alerts: {known})")
        dropped = drop_rule_alerts(ws, name, "its alert rule was removed before delivery")
        RULES.delete(ws, name=name)
    return dropped


@dataclass(frozen=True)
class Incident:
    """One firing of a rule: rule, scope and day (or hour) identify it; the rest describes it."""

    key: str
    rule: AlertRule
    day: str
    hour: str | None
    kpi: str
    scope: str
    scope_value: str
    observed: float | None
    expected: float | None
    lower: float | None
    upper: float | None
    direction: str | None
    score: float | None
    severity: str
    text: str

    def payload(self, workspace: str) -> dict[str, Any]:
        """The documented webhook payload (also attached to e-mails); see ``trueroi.monitor.deliver``."""
        return {
            "type": "trueroi.alert",
            "version": 1,
            "workspace": workspace,
            "incident_key": self.key,
            "rule": {
                "name": self.rule.name,
                "kpi": self.rule.kpi,
                "condition": self.rule.condition,
                "threshold": self.rule.threshold,
                "severity": self.rule.severity,
            },
            "scope": {
                "level": self.scope,
                "channel": self.scope_value if self.scope == "channel" else None,
                "campaign": self.scope_value if self.scope == "campaign" else None,
            },
            "day": self.day,
            "hour": self.hour,
            "kpi": self.kpi,
            "observed": self.observed,
            "expected": self.expected,
            "lower": self.lower,
            "upper": self.upper,
            "direction": self.direction,
            "score": self.score,
            "severity": self.severity,
            "text": self.text,
        }


def _matches(rule: AlertRule, scored: pd.DataFrame) -> pd.DataFrame:
    scope, value = rule.scope
    rows = scored[(scored["kpi"] == rule.kpi) & (scored["scope"] == scope)]
    if scope == "channel":
        rows = rows[rows["scope_value"].str.lower() == value.lower()]
    elif scope == "campaign":
        rows = rows[rows["scope_value"] == value]
    if rule.condition == "anomaly":
        return rows[rows["z"].abs() >= THRESHOLD]
    obs = rows["observed"]
    return rows[obs > rule.threshold] if rule.condition == "above" else rows[obs < rule.threshold]


def incidents(rule: AlertRule, scored: pd.DataFrame, time_col: str = "date_day") -> list[Incident]:
    """The incidents of ``rule`` in a frame of :func:`trueroi.monitor.detect.evaluate`."""
    return [_incident(rule, r, time_col) for r in _matches(rule, scored).itertuples(index=False)]


def _incident(rule: AlertRule, r: Any, time_col: str) -> Incident:
    """One matching row of an evaluate frame as an incident: key, severity, one line for people."""
    when = pd.Timestamp(getattr(r, time_col))
    hour = when.strftime("%Y-%m-%dT%H:00") if time_col == "hour" else None
    z = None if pd.isna(r.z) else float(r.z)
    if rule.condition == "anomaly":
        direction = "up" if z is not None and z > 0 else "down"
    else:
        direction = "up" if rule.condition == "above" else "down"
    severity = rule.severity
    if rule.condition == "anomaly" and z is not None and abs(z) >= CRITICAL * THRESHOLD:
        severity = "critical"  # a rule's severity is the floor; a far-out anomaly is critical
    score = None if z is None else round(abs(z), 2)
    a = Anomaly(
        day=when.date(), scope=r.scope, scope_value=r.scope_value, kpi=r.kpi, observed=_num(r.observed),
        expected=_num(r.expected), lower=_num(r.lower), upper=_num(r.upper), direction=direction,
        score=float("nan") if score is None else score, severity=severity, grain="hour" if hour else "day",
        hour=when.to_pydatetime() if hour else None,
    )  # fmt: skip
    if rule.condition == "anomaly":
        text = f"[{severity}] {rule.name}: {a.describe()}"
    else:
        text = (
            f"[{severity}] {rule.name}: {MONITORED[rule.kpi].label} {format_value(a.observed)} is "
            f"{rule.condition} {format_value(rule.threshold)} ({_where(r.scope, r.scope_value)}, {a.when})"
        )
    day = when.date().isoformat()
    key = f"{rule.name}|{r.scope}:{r.scope_value}|{hour or day}"
    return Incident(
        key, rule, day, hour, r.kpi, r.scope, r.scope_value, a.observed, a.expected, a.lower, a.upper,
        direction, score, severity, text,
    )  # fmt: skip


def _where(scope: str, value: str) -> str:
    return "all" if scope == "total" else f"{scope} {value}"


def _num(value: Any) -> float | None:
    value = float(value)
    return None if pd.isna(value) or value in (float("inf"), float("-inf")) else value
