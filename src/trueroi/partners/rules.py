"""Commission rules per partner and the program's crediting settings, kept in the workspace.

A partner (an affiliate, a price comparison site, an influencer, an agency on a success fee) is identified in
the touchpoints by the values its links carry (``source``, ``medium``, ``campaign``, ``channel``: compared
trimmed and without case; every given value must match, an empty one matches anything) and in network
reports by its ``network`` and ``network_id`` (the publisher id). When a touch matches several partners'
rules, the rule naming more values wins; between equally specific rules, the partner first in name order.

What the partner earns (:class:`PartnerRule`):

- ``basis``: ``revenue`` (CPS/CPO: a share of the order's net revenue), ``margin`` (a share of its
  contribution margin, revenue - COGS), ``order`` (a fixed amount per order) or ``lead`` (a fixed amount per
  lead, CPL). ``rate`` is the share (0.08 = 8 %) or the amount in the base currency.
- ``tiers``: volume tiers inside a month, ``[(100, 0.10), (500, 0.12)]``: the 101st to 500th credited order
  of the month earn 10 %, from the 501st on 12 %, the first 100 ``rate``. Tiers are marginal by rank: an
  order's rate is set by how many of the partner's credited orders of the month came before it (in order
  time), every credited order counting, also those reversed later, so a cancellation never changes the rate
  of another order. A fractional credit counts as its share.
- ``returning_rate``: the rate for orders of returning customers (``is_new_customer`` false), instead of
  ``rate`` and the tiers; 0 pays new customers only. An order whose customer is unknown counts as new.
- ``exclude_vouchers``: voucher codes that earn nothing (``*``: any voucher but the partner's own
  ``own_vouchers``); ``exclude_categories``: product categories that earn nothing.
- ``lock_days``: the validation (lock) period: an order counts (is validated) once that many days have
  passed since it was placed; a cancellation or return inside the period reverses its commission (a partial
  refund the refunded share), one after it does not.

The program (:class:`Program`) says how orders are credited to partners: ``credit`` (``last_paid_click``,
``last_non_direct_click``, ``network_claim`` or any attribution model's name for a fractional split),
``lookback_days`` and the brand's own ``paid_channels`` (default: the channels with spend in
``ad_performance``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from trueroi.attribution import model_names
from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.workspace import Workspace
from trueroi.workspace.state import StateTable

BASES = ("revenue", "margin", "order", "lead")
SHARE_BASES = ("revenue", "margin")
MATCH_FIELDS = ("source", "medium", "campaign", "channel")
CLICK_RULES = ("last_paid_click", "last_non_direct_click", "network_claim")
DEFAULT_LOCK_DAYS = 30
DEFAULT_LOOKBACK_DAYS = 30
ANY_VOUCHER = "*"

RULES = StateTable(
    "partner_rules",
    {
        "partner": "string",
        "source": "string",
        "medium": "string",
        "campaign": "string",
        "channel": "string",
        "network": "string",
        "network_id": "string",
        "basis": "string",
        "rate": "float64",
        "tiers": "string",
        "returning_rate": "float64",
        "exclude_vouchers": "string",
        "own_vouchers": "string",
        "exclude_categories": "string",
        "lock_days": "int64",
        "created_at": "timestamp",
    },
    key=("partner",),
)
PROGRAM = StateTable(
    "partner_program",
    {"name": "string", "credit": "string", "lookback_days": "int64", "paid_channels": "string"},
    key=("name",),
)


def _norm(value: str | None) -> str | None:
    """A match value as compared: trimmed, lower-cased; empty means none."""
    if value is None:
        return None
    value = str(value).strip().lower()
    return value or None


def _words(values: Any) -> tuple[str, ...]:
    """A list given as a sequence or as comma-separated text, normalised and without repeats."""
    if values is None:
        return ()
    items = values.split(",") if isinstance(values, str) else list(values)
    out: list[str] = []
    for item in items:
        word = _norm(item)
        if word and word not in out:
            out.append(word)
    return tuple(out)


@dataclass(frozen=True)
class PartnerRule:
    """One partner: how it is recognised and what it earns (see the module docstring)."""

    partner: str
    basis: str
    rate: float
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    channel: str | None = None
    network: str | None = None
    network_id: str | None = None
    tiers: tuple[tuple[float, float], ...] = ()
    returning_rate: float | None = None
    exclude_vouchers: tuple[str, ...] = ()
    own_vouchers: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    lock_days: int = DEFAULT_LOCK_DAYS

    @property
    def match(self) -> dict[str, str]:
        """The touch fields this partner's links carry, normalised (field -> value)."""
        return {f: v for f in MATCH_FIELDS if (v := _norm(getattr(self, f))) is not None}

    @property
    def kind(self) -> str:
        """``lead`` for a CPL partner, else ``order``: the events it is paid for."""
        return "lead" if self.basis == "lead" else "order"

    @property
    def max_rate(self) -> float:
        """The highest rate any of its orders can earn (rate, tiers, returning customers)."""
        return max([self.rate, *(r for _, r in self.tiers), self.returning_rate or 0.0])

    def tier_table(self) -> list[tuple[float, float]]:
        """``(threshold, rate)`` from threshold 0 (``rate``) up; an order whose rank (credited orders of
        the month before it) is at least a threshold earns that threshold's rate."""
        return [(0.0, self.rate), *sorted(self.tiers)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi partners rule add --format json`` (and of one rule of ``rule list``)."""
        return jsonable(
            {
                "partner": self.partner,
                "match": self.match,
                "network": self.network,
                "network_id": self.network_id,
                "basis": self.basis,
                "rate": self.rate,
                "tiers": [{"from_rank": t, "rate": r} for t, r in sorted(self.tiers)],
                "returning_rate": self.returning_rate,
                "exclude_vouchers": list(self.exclude_vouchers),
                "own_vouchers": list(self.own_vouchers),
                "exclude_categories": list(self.exclude_categories),
                "lock_days": self.lock_days,
            }
        )

    def record(self) -> dict[str, Any]:
        """The row stored in ``partner_rules``."""
        return {
            "partner": self.partner,
            **{f: _norm(getattr(self, f)) for f in MATCH_FIELDS},
            "network": _norm(self.network),
            "network_id": None if self.network_id is None else str(self.network_id).strip() or None,
            "basis": self.basis,
            "rate": float(self.rate),
            "tiers": format_tiers(self.tiers) or None,
            "returning_rate": self.returning_rate,
            "exclude_vouchers": ",".join(self.exclude_vouchers) or None,
            "own_vouchers": ",".join(self.own_vouchers) or None,
            "exclude_categories": ",".join(self.exclude_categories) or None,
            "lock_days": int(self.lock_days),
            "created_at": datetime.now(UTC).replace(tzinfo=None),
        }

    @classmethod
    def from_record(cls, row: dict[str, Any]) -> PartnerRule:
        return cls(
            partner=row["partner"],
            basis=row["basis"],
            rate=float(row["rate"]),
            **{f: row.get(f) for f in MATCH_FIELDS},
            network=row.get("network"),
            network_id=row.get("network_id"),
            tiers=parse_tiers(row.get("tiers")),
            returning_rate=row.get("returning_rate"),
            exclude_vouchers=_words(row.get("exclude_vouchers")),
            own_vouchers=_words(row.get("own_vouchers")),
            exclude_categories=_words(row.get("exclude_categories")),
            lock_days=int(row.get("lock_days") if row.get("lock_days") is not None else DEFAULT_LOCK_DAYS),
        )


def parse_tiers(text: str | None) -> tuple[tuple[float, float], ...]:
    """``"100:0.10,500:0.12"`` -> ``((100.0, 0.10), (500.0, 0.12))`` (from rank, rate).

    Raises
    ------
    UsageError
        For a part that is not ``RANK:RATE`` with a positive rank, or a rank given twice.
    """
    if not text or not str(text).strip():
        return ()
    tiers: dict[float, float] = {}
    for part in str(text).split(","):
        rank, _, rate = part.partition(":")
        try:
            start, value = float(rank), float(rate)
        except ValueError:
            raise UsageError(
                f"tier {part.strip()!r} is not RANK:RATE, e.g. 100:0.10 (from the 101st order of a month)"
            ) from None
        if not (math.isfinite(start) and start > 0 and math.isfinite(value) and value >= 0):
            raise UsageError(f"tier {part.strip()!r}: expected a positive rank and a rate >= 0")
        if start in tiers:
            raise UsageError(f"tier rank {start:g} is given twice")
        tiers[start] = value
    return tuple(sorted(tiers.items()))


def format_tiers(tiers: tuple[tuple[float, float], ...]) -> str:
    return ",".join(f"{start:g}:{rate:g}" for start, rate in sorted(tiers))


def make_rule(
    partner: str,
    *,
    basis: str,
    rate: float,
    source: str | None = None,
    medium: str | None = None,
    campaign: str | None = None,
    channel: str | None = None,
    network: str | None = None,
    network_id: str | None = None,
    tiers: str | tuple[tuple[float, float], ...] | None = None,
    returning_rate: float | None = None,
    exclude_vouchers: str | tuple[str, ...] | None = None,
    own_vouchers: str | tuple[str, ...] | None = None,
    exclude_categories: str | tuple[str, ...] | None = None,
    lock_days: int = DEFAULT_LOCK_DAYS,
) -> PartnerRule:
    """A checked :class:`PartnerRule` (see the module docstring for each setting).

    Raises
    ------
    UsageError
        For an empty name, an unknown basis, a share outside [0, 1], a negative amount or lock period, or a
        partner that neither its touches nor a network id can identify.
    """
    name = (partner or "").strip()
    if not name:
        raise UsageError("a partner needs a name")
    if basis not in BASES:
        raise UsageError(f"basis is {basis!r}; expected one of {', '.join(BASES)}")
    parsed = parse_tiers(tiers) if isinstance(tiers, str) or tiers is None else tuple(sorted(tiers))
    rule = PartnerRule(
        partner=name,
        basis=basis,
        rate=float(rate),
        source=source,
        medium=medium,
        campaign=campaign,
        channel=channel,
        network=_norm(network),
        network_id=None if network_id is None else str(network_id).strip() or None,
        tiers=parsed,
        returning_rate=None if returning_rate is None else float(returning_rate),
        exclude_vouchers=_words(exclude_vouchers),
        own_vouchers=_words(own_vouchers),
        exclude_categories=_words(exclude_categories),
        lock_days=int(lock_days),
    )
    _check_rates(rule)
    if not rule.match and not (rule.network and rule.network_id):
        raise UsageError(
            f"partner {name!r} cannot be recognised: give the source, medium, campaign or channel its links "
            "carry, or its network and network id"
        )
    if rule.lock_days < 0:
        raise UsageError(f"lock_days must be 0 or more, got {rule.lock_days}")
    return rule


def _check_rates(rule: PartnerRule) -> None:
    rates = [("rate", rule.rate)] + [(f"tier {t:g}", r) for t, r in rule.tiers]
    if rule.returning_rate is not None:
        rates.append(("returning_rate", rule.returning_rate))
    for label, value in rates:
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"{label} must be a finite number >= 0, got {value}")
        if rule.basis in SHARE_BASES and value > 1:
            raise UsageError(
                f"{label} is {value:g}, a share of the {rule.basis}: expected at most 1 (0.08 = 8 %)"
            )


@dataclass(frozen=True)
class Program:
    """How orders are credited to partners (see the module docstring)."""

    credit: str = "last_paid_click"
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    paid_channels: tuple[str, ...] | None = None

    @property
    def model(self) -> str | None:
        """The attribution model of a fractional split, or None for a click rule."""
        return None if self.credit in CLICK_RULES else self.credit

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi partners program --format json``."""
        return {
            "credit": self.credit,
            "lookback_days": self.lookback_days,
            "paid_channels": None if self.paid_channels is None else list(self.paid_channels),
        }


def make_program(
    credit: str = "last_paid_click", lookback_days: int = DEFAULT_LOOKBACK_DAYS, paid_channels: Any = None
) -> Program:
    """A checked :class:`Program`.

    Raises
    ------
    UsageError
        For an unknown crediting rule or a lookback of less than one day.
    """
    known = list(CLICK_RULES) + [m for m in model_names() if m not in CLICK_RULES]
    if credit not in known:
        raise UsageError(f"credit is {credit!r}; expected one of {', '.join(known)}")
    if int(lookback_days) < 1:
        raise UsageError(f"lookback_days must be at least 1, got {lookback_days}")
    channels = None
    if paid_channels is not None:
        items = paid_channels.split(",") if isinstance(paid_channels, str) else paid_channels
        channels = tuple(c.strip() for c in items if c and c.strip())
    return Program(credit, int(lookback_days), channels)


@dataclass(frozen=True)
class RuleList:
    """The partners' rules, ordered by partner name."""

    rules: list[PartnerRule] = field(default_factory=list)

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON of ``trueroi partners rule list --format json``."""
        return [r.to_dict() for r in self.rules]

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows for tables and CSV (lists joined with commas)."""
        out = []
        for rule in self.rules:
            d = rule.to_dict()
            d["match"] = ", ".join(f"{k}={v}" for k, v in d["match"].items())
            d["tiers"] = format_tiers(rule.tiers)
            for key in ("exclude_vouchers", "own_vouchers", "exclude_categories"):
                d[key] = ",".join(d[key])
            out.append(d)
        return out


def add_rule(ws: Workspace, rule: PartnerRule) -> PartnerRule:
    """Store ``rule`` (replacing the partner's earlier rule).

    Raises
    ------
    UsageError
        When another partner has exactly the same touch values (their touches could not be told apart).
    """
    for other in load_rules(ws):
        if other.partner != rule.partner and rule.match and other.match == rule.match:
            raise UsageError(
                f"partner {other.partner!r} is recognised by the same values ({_match_text(rule)}); "
                "give one of them another value (e.g. its campaign)"
            )
        same_id = rule.network_id is not None and other.network_id == rule.network_id
        if other.partner != rule.partner and same_id and other.network == rule.network:
            raise UsageError(f"partner {other.partner!r} already has network id {rule.network_id!r}")
    RULES.upsert(ws, [rule.record()])
    return rule


def add_partner(ws: Workspace, partner: str, **settings: Any) -> PartnerRule:
    """Check and store a partner's rule in one call (``settings`` as :func:`make_rule` takes them)."""
    return add_rule(ws, make_rule(partner, **settings))


def _match_text(rule: PartnerRule) -> str:
    return ", ".join(f"{k}={v}" for k, v in rule.match.items())


def load_rules(ws: Workspace, partner: str | None = None) -> list[PartnerRule]:
    """The stored rules (of ``partner`` only when given), by partner name.

    Raises
    ------
    UsageError
        When ``partner`` is given and has no rule.
    """
    rules = sorted((PartnerRule.from_record(r) for r in RULES.records(ws)), key=lambda r: r.partner)
    if partner is None:
        return rules
    chosen = [r for r in rules if r.partner == partner]
    if not chosen:
        known = ", ".join(r.partner for r in rules) or "none yet"
        raise UsageError(f"no partner named {partner!r} (partners: {known})")
    return chosen


def list_rules(ws: Workspace) -> RuleList:
    """Every partner's rule."""
    return RuleList(load_rules(ws))


def remove_rule(ws: Workspace, partner: str) -> None:
    """Delete a partner's rule.

    Raises
    ------
    UsageError
        When the partner has no rule.
    """
    if RULES.delete(ws, partner=partner) == 0:
        raise UsageError(f"no partner named {partner!r}")


def load_program(ws: Workspace) -> Program:
    """The program's crediting settings (the defaults until set)."""
    rows = [r for r in PROGRAM.records(ws) if r["name"] == "default"]
    if not rows:
        return Program()
    row = rows[0]
    channels = row["paid_channels"]
    return make_program(row["credit"], int(row["lookback_days"]), None if channels is None else channels)


def set_program(
    ws: Workspace,
    *,
    credit: str | None = None,
    lookback_days: int | None = None,
    paid_channels: str | list[str] | None = None,
) -> Program:
    """Change the program's crediting settings (what is not given keeps its value; nothing given changes
    nothing); returns them."""
    current = load_program(ws)
    if credit is None and lookback_days is None and paid_channels is None:
        return current
    program = make_program(
        credit or current.credit,
        lookback_days if lookback_days is not None else current.lookback_days,
        paid_channels if paid_channels is not None else current.paid_channels,
    )
    if paid_channels is not None and not program.paid_channels:
        program = replace(program, paid_channels=None)  # an empty list goes back to the default
    PROGRAM.upsert(
        ws,
        [
            {
                "name": "default",
                "credit": program.credit,
                "lookback_days": program.lookback_days,
                "paid_channels": None if program.paid_channels is None else ",".join(program.paid_channels),
            }
        ],
    )
    return program
