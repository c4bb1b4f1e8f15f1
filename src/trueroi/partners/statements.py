"""Partner statements: per partner and month, what was credited, pending, validated and reversed, and what
is owed, with the order-level lines.

:func:`partner_statement` is what ``trueroi partners statement`` and the web app call. Every figure is in
the workspace base currency. ``owed`` is the validated commission (the lock period of its orders has ended
by the end of ``as_of``); ``pending`` is what the orders still inside their lock period would earn if
nothing changes; ``gross - reversed = pending + validated``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pandas as pd

from trueroi.errors import DataValidationError, UsageError
from trueroi.io import jsonable, save_csv, write_atomically, write_json
from trueroi.partners.commission import LINE_COLUMNS, commission_lines, lead_facts, order_facts
from trueroi.partners.crediting import Period, credited_events
from trueroi.partners.pdf import statement_pdf
from trueroi.partners.rules import PartnerRule, Program, load_program, load_rules
from trueroi.workspace import Workspace
from trueroi.workspace.rules import utc_bounds

STATES = ("pending", "validated", "reversed", "excluded")
MONEY_KEYS = ("gross", "reversed", "pending", "validated", "owed")
# Line columns shown in the JSON and CSV (the others serve reconciliation and the value analysis).
SHOWN = [c for c in LINE_COLUMNS if c not in ("partner", "sale_confirmed", "revenue", "margin")]


def today_in(timezone: str) -> date:
    """Today's date in the workspace time zone."""
    return datetime.now(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Lines:
    """The commission lines of a period for every partner (a DataFrame of :data:`LINE_COLUMNS` plus
    ``click_ts``), with the settings they were computed under."""

    period: Period
    as_of: date
    program: Program
    rules: list[PartnerRule]
    frame: pd.DataFrame
    tagged: dict[str, ibis.Table] = field(default_factory=dict)


def compute_lines(
    ws: Workspace, period: Period, as_of: date | None = None, *, program: Program | None = None
) -> Lines:
    """Credit the period's orders and leads to the partners and compute every line's commission.

    All partners' rules take part in the crediting (deduplication needs them all), whichever partner a
    caller shows.

    Raises
    ------
    UsageError
        When the workspace has no partner rule yet.
    DataValidationError
        When a margin-based commission meets an order without COGS and the workspace has no
        ``default_margin``, or an amount in a foreign currency has no exchange rate.
    """
    rules = load_rules(ws)
    if not rules:
        raise UsageError("no partner rules yet; add one (partners rule add NAME --basis ... --rate ...)")
    program = program or load_program(ws)
    as_of = as_of or today_in(ws.config.timezone)
    _, as_of_end = utc_bounds(as_of, as_of, ws.config.timezone)
    frames, tagged = [], {}
    for kind, facts_of in (("order", order_facts), ("lead", lead_facts)):
        chosen = [r for r in rules if r.kind == kind]
        if not chosen:
            continue
        credited, tagged[kind] = credited_events(ws, rules, program, period, kind)
        facts = facts_of(ws, credited, period)
        expr = commission_lines(facts, chosen, as_of_end, ws.config.default_margin)
        frames.append(expr.order_by(["partner", "ts", "id"]).execute())
    frame = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*LINE_COLUMNS, "click_ts"])
    )
    _check_margins(frame)
    return Lines(period, as_of, program, rules, frame, tagged)


def _check_margins(frame: pd.DataFrame) -> None:
    missing = frame[frame["commission_gross"].isna()]
    if missing.empty:
        return
    first = missing.iloc[0]
    raise DataValidationError(
        f"{len(missing)} order(s) credited to a margin-based partner have no COGS, e.g. order {first['id']} "
        f"of partner {first['partner']!r}",
        column="cogs",
        expected="COGS in the orders, or default_margin in trueroi.toml",
    )


def _empty_summary() -> dict[str, Any]:
    counts = {"credited": 0, **dict.fromkeys(STATES, 0)}
    return {"orders": dict(counts), "leads": dict(counts), "commission": dict.fromkeys(MONEY_KEYS, 0.0)}


def _summaries(lines: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per partner (and ``None`` for all of them): the counts of ``orders`` and ``leads`` by state and the
    ``commission`` (gross, reversed, pending, validated, owed); one group-by over the lines."""
    out: dict[str | None, dict[str, Any]] = {}
    counts = lines.groupby(["partner", "kind", "state"]).size()
    money = lines.groupby("partner")[["commission_gross", "commission_reversed"]].sum()
    by_state = lines.groupby(["partner", "state"])["commission"].sum()
    for partner in lines["partner"].unique():
        out[partner] = _empty_summary()
    for (partner, kind, state), n in counts.items():
        block = out[partner]["orders" if kind == "order" else "leads"]
        block[state] += int(n)
        block["credited"] += int(n)
    for partner, row in money.iterrows():
        out[partner]["commission"]["gross"] = float(row["commission_gross"])
        out[partner]["commission"]["reversed"] = float(row["commission_reversed"])
    for (partner, state), value in by_state.items():
        if state in ("pending", "validated"):
            out[partner]["commission"][state] = float(value)
    total = _empty_summary()
    for summary in out.values():
        summary["commission"]["owed"] = summary["commission"]["validated"]
        for key in ("orders", "leads", "commission"):
            for name, value in summary[key].items():
                total[key][name] += value
    out[None] = total
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The lines with times as ISO text and nulls as None: ready for JSON and CSV as they are."""
    out = frame.copy()
    for column in ("ts", "lock_until"):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    if "day" in out:
        out["day"] = pd.to_datetime(out["day"]).dt.strftime("%Y-%m-%d")
    return out.astype(object).where(out.notna(), None)


@dataclass(frozen=True)
class Statement:
    """Statements of one month for one or every partner (see the module docstring)."""

    month: str
    start: date
    end: date
    as_of: date
    currency: str
    program: Program
    rules: list[PartnerRule]
    lines: pd.DataFrame

    def partner_lines(self, partner: str) -> pd.DataFrame:
        return self.lines[self.lines["partner"] == partner]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi partners statement --format json``: ``month, from, to, as_of, currency,
        credited_by, lookback_days``, per partner (``partners``) its rule's ``basis, rate, lock_days``, the
        counts of ``orders`` and ``leads`` (credited, pending, validated, reversed, excluded), the
        ``commission`` (gross, reversed, pending, validated, owed) and its ``lines``; ``totals`` over the
        partners shown."""
        summaries = _summaries(self.lines)
        lines: dict[str, list[dict[str, Any]]] = {r.partner: [] for r in self.rules}
        for record in _plain(self.lines[["partner", *SHOWN]]).to_dict(orient="records"):
            lines[record.pop("partner")].append(record)
        partners = [
            {
                "partner": rule.partner,
                "basis": rule.basis,
                "rate": rule.rate,
                "lock_days": rule.lock_days,
                **summaries.get(rule.partner, _empty_summary()),
            }
            for rule in self.rules
        ]
        doc = jsonable(
            {
                "month": self.month,
                "from": self.start,
                "to": self.end,
                "as_of": self.as_of,
                "currency": self.currency,
                "credited_by": self.program.credit,
                "lookback_days": self.program.lookback_days,
                "partners": partners,
                "totals": summaries[None],
            }
        )
        for block in doc["partners"]:  # plain already: kept out of jsonable, which would walk every cell
            block["lines"] = lines[block["partner"]]
        return doc

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per partner for a table: counts and money."""
        summaries = _summaries(self.lines)
        rows = []
        for rule in self.rules:
            s = summaries.get(rule.partner, _empty_summary())
            rows.append(
                {
                    "partner": rule.partner,
                    "orders": s["orders"]["credited"],
                    "leads": s["leads"]["credited"],
                    **{f"n_{k}": s["orders"][k] + s["leads"][k] for k in STATES},
                    **{f"commission_{k}": v for k, v in s["commission"].items()},
                }
            )
        return rows

    def rows(self) -> pd.DataFrame:
        """The order- and lead-level lines for CSV: ``partner, month, currency`` and the line columns."""
        frame = _plain(self.lines[["partner", *SHOWN]])
        frame.insert(1, "month", self.month)
        frame.insert(2, "currency", self.currency)
        return frame

    def write(self, out: str | os.PathLike[str]) -> Path:
        """Write the statement to ``out``: ``.pdf`` (one section per partner), ``.csv`` (the lines, formulas
        neutralised) or ``.json`` (:meth:`to_dict`); atomically.

        Raises
        ------
        UsageError
            For another file ending.
        """
        path = Path(out)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return save_csv(self.rows(), path)
        if suffix == ".json":
            return write_json(path, self.to_dict())
        if suffix == ".pdf":
            return write_atomically(path, lambda tmp: tmp.write_bytes(statement_pdf(self)))
        raise UsageError(f"cannot write a statement as {path.name}: expected a .pdf, .csv or .json file")


def partner_statement(
    ws: Workspace, month: str, *, partner: str | None = None, as_of: date | None = None
) -> Statement:
    """Statements of ``month`` (``YYYY-MM``) for ``partner`` or every partner, as of ``as_of``.

    Parameters
    ----------
    ws
        The workspace (its partner rules and program, orders, touchpoints, conversions, network reports).
    month
        The calendar month of the orders and leads (local days in the workspace time zone).
    partner
        Only this partner's statement (every partner still takes part in the crediting).
    as_of
        What is known by the end of this day decides pending vs validated and which cancellations count
        (default: today in the workspace time zone).

    Raises
    ------
    UsageError
        For a bad month, an unknown partner, or no partner rules.
    """
    period = Period.month(month)
    shown = load_rules(ws, partner) if partner is not None else None
    computed = compute_lines(ws, period, as_of)
    rules = shown if shown is not None else computed.rules
    names = {r.partner for r in rules}
    lines = computed.frame[computed.frame["partner"].isin(names)].reset_index(drop=True)
    return Statement(
        month=period.label,
        start=period.start,
        end=period.end,
        as_of=computed.as_of,
        currency=ws.config.base_currency,
        program=computed.program,
        rules=rules,
        lines=lines,
    )
