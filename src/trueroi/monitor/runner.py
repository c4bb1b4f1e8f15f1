"""One monitor pass (``trueroi monitor run``, for cron) and the loop (``trueroi monitor watch``).

A pass judges the days not checked yet: from the day after the last checked one to ``as_of`` (the newest
day with data by default; at most :data:`MAX_CATCH_UP_DAYS`), or just ``as_of`` on the first pass or when
``as_of`` was checked before. Every rule is evaluated on those days, new incidents go to the outbox, and
everything pending there is delivered (:mod:`trueroi.monitor.deliver`). Each pass is logged in the
workspace table ``monitor_runs``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from trueroi.errors import UsageError
from trueroi.io import jsonable
from trueroi.metrics import data_range
from trueroi.monitor.deliver import DeliveryReport, deliver_pending, enqueue
from trueroi.monitor.detect import MONITORED, history_coverage, scored_days, scored_hours
from trueroi.monitor.rules import AlertRule, Incident, incidents, list_rules
from trueroi.monitor.series import last_complete_day
from trueroi.workspace import Workspace
from trueroi.workspace.state import StateTable

MAX_CATCH_UP_DAYS = 31
RUNS = StateTable(
    "monitor_runs",
    {
        "run_at": "timestamp",
        "as_of": "date",
        "checked_from": "date",
        "checked_to": "date",
        "incidents": "int64",
        "new_incidents": "int64",
        "delivered": "int64",
        "pending": "int64",
        "failed": "int64",
    },
)


@dataclass
class RunResult:
    """What one monitor pass found and delivered."""

    as_of: date
    checked_from: date
    checked_to: date
    rules: int
    incidents: list[Incident] = field(default_factory=list)
    new: set[str] = field(default_factory=set)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    @property
    def given_up(self) -> bool:
        """Whether an alert was given up in this pass (``alerting.max_attempts`` failed deliveries)."""
        return bool(self.delivery.failed)

    def rows(self) -> list[dict[str, Any]]:
        """One row per incident for a table or CSV.

        The incident as in :meth:`to_dict` with ``rule`` as its name, plus ``when`` (hour or day) and
        ``status`` (``new`` or ``already sent``).
        """
        return [
            {
                **i,
                "rule": i["rule"]["name"],
                "when": i["hour"] or i["day"],
                "status": "new" if i["new"] else "already sent",
            }
            for i in self.to_dict()["incidents"]
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``trueroi monitor run --format json``."""
        return jsonable(
            {
                "as_of": self.as_of.isoformat(),
                "checked": {"from": self.checked_from.isoformat(), "to": self.checked_to.isoformat()},
                "rules": self.rules,
                "incidents": [
                    {"new": i.key in self.new, **{k: v for k, v in i.payload("").items() if k != "workspace"}}
                    for i in self.incidents
                ],
                "delivery": self.delivery.to_dict(),
            }
        )


def days_to_check(ws: Workspace, as_of: date) -> tuple[date, date]:
    """The days after the last checked one up to ``as_of`` (``as_of`` alone when nothing is new)."""
    last = [r["checked_to"] for r in RUNS.records(ws) if r["checked_to"] is not None]
    if not last or max(last) >= as_of:
        return as_of, as_of
    return max(max(last) + timedelta(days=1), as_of - timedelta(days=MAX_CATCH_UP_DAYS - 1)), as_of


def find_incidents(ws: Workspace, rules: list[AlertRule], start: date, end: date) -> list[Incident]:
    """Every incident of ``rules`` on the days ``[start, end]`` (hourly too for hourly anomaly rules)."""
    if not rules:
        return []
    kpis = [MONITORED[k] for k in dict.fromkeys(r.kpi for r in rules)]
    coverage = history_coverage(ws, start, end)  # asked once for the days and the hours
    daily = scored_days(ws, start, end, kpis, coverage=coverage)
    found = [i for r in rules for i in incidents(r, daily)]
    hourly_rules = [r for r in rules if r.condition == "anomaly" and MONITORED[r.kpi].hourly]
    if hourly_rules and any(r.scope[0] == "total" for r in hourly_rules):
        hours = scored_hours(ws, start, end, [MONITORED[r.kpi] for r in hourly_rules], coverage=coverage)
        if not hours.empty:
            found += [i for r in hourly_rules for i in incidents(r, hours, time_col="hour")]
    return found


def run_monitor(
    ws: Workspace,
    as_of: date | None = None,
    *,
    tries_per_run: int = 3,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """One pass: judge the unchecked days, queue new incidents, deliver everything pending.

    Parameters
    ----------
    as_of
        Last day to judge (default: the newest complete local day, :func:`~trueroi.monitor.series.
        last_complete_day`: a day whose data is still arriving is judged at a later pass, once complete).
    tries_per_run, backoff_s, sleep
        Delivery retries within this pass (see :func:`~trueroi.monitor.deliver.deliver_pending`).
    """
    newest = data_range(ws).end
    as_of = as_of or last_complete_day(ws)
    if as_of > newest:
        raise UsageError(f"the day to judge, {as_of}, is after the newest day with data ({newest})")
    start, end = days_to_check(ws, as_of)
    rules = list_rules(ws)
    found = find_incidents(ws, rules, start, end)
    fresh = enqueue(ws, found)
    report = deliver_pending(ws, tries_per_run=tries_per_run, backoff_s=backoff_s, sleep=sleep)
    RUNS.upsert(
        ws,
        [
            {
                "run_at": datetime.now(UTC).replace(tzinfo=None),
                "as_of": as_of,
                "checked_from": start,
                "checked_to": end,
                "incidents": len(found),
                "new_incidents": len(fresh),
                "delivered": len(report.delivered),
                "pending": len(report.pending),
                "failed": len(report.failed),
            }
        ],
    )
    return RunResult(as_of, start, end, len(rules), found, {i.key for i in fresh}, report)


def parse_every(text: str) -> float:
    """``15m``, ``30s``, ``1h``, ``2d`` (or plain seconds) as seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"pause {text!r} is not a duration like 15m, 30s, 1h or 2d")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def watch(
    ws: Workspace,
    every: float | str,
    *,
    max_runs: int | None = None,
    on_run: Callable[[RunResult], None] = lambda _r: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RunResult]:
    """Run :func:`run_monitor` every ``every`` seconds (``max_runs`` times, or until interrupted).

    ``every`` is a number of seconds or a duration such as ``15m`` (see :func:`parse_every`). ``on_run``
    is called with the result of each pass.
    """
    every_s = parse_every(every) if isinstance(every, str) else float(every)
    if every_s < 0:
        raise UsageError(f"pause {every} is negative; expected a duration such as 15m")
    results: list[RunResult] = []
    while max_runs is None or len(results) < max_runs:
        started = time.monotonic()
        try:
            result = run_monitor(ws, sleep=sleep)
        finally:
            ws.close()  # let imports write to the warehouse between passes (DuckDB allows one writer)
        on_run(result)
        results.append(result)
        if max_runs is not None and len(results) >= max_runs:
            break
        sleep(max(0.0, every_s - (time.monotonic() - started)))
    return results


def run_log(ws: Workspace) -> pd.DataFrame:
    """The ``monitor_runs`` log, newest first."""
    return RUNS.read(ws).sort_values("run_at", ascending=False, ignore_index=True)
