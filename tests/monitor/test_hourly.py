"""Hourly tracking volume: a few hours of lost tracking are caught per hour, on hand-built data."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from trueroi.monitor import detect_anomalies
from trueroi.monitor.rules import AlertRule, add_rule
from trueroi.monitor.runner import run_monitor
from trueroi.monitor.series import hourly_series

LAST = date(2026, 3, 31)
OUTAGE_HOURS = (10, 11, 12, 13)  # UTC hours of LAST without any tracked session


def _frames(days: int = 43, seed: int = 5) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    hours = pd.date_range(pd.Timestamp(LAST - timedelta(days=days - 1)), periods=days * 24, freq="h")
    profile = 1.0 + 0.8 * np.sin((hours.hour.to_numpy() - 6) / 24 * 2 * np.pi)  # busy afternoons
    weekday = np.where(hours.dayofweek.to_numpy() >= 5, 0.7, 1.0)
    sessions = rng.poisson(40 * profile * weekday)
    lost = (hours.date == LAST) & np.isin(hours.hour, OUTAGE_HOURS)
    sessions[lost] = 0
    ts = np.repeat(hours.to_numpy(), sessions) + pd.to_timedelta(rng.integers(0, 3600, sessions.sum()), "s")
    ts = pd.Series(ts)
    tp = pd.DataFrame({"touch_id": [f"t{i}" for i in range(len(ts))], "user_id": "u", "ts": ts})
    tp["date_day"] = ts.dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin").dt.date
    n_orders = rng.poisson(2 * profile * weekday)
    ots = pd.Series(np.repeat(hours.to_numpy(), n_orders))
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(ots))],
            "ts": ots,
            "currency": "EUR",
            "revenue": 50.0,
            "status": "paid",
        }
    )
    orders["date_day"] = ots.dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin").dt.date
    return {"touchpoints": tp, "orders": orders}


def test_outage_hours_are_caught_per_hour(workspace) -> None:
    workspace.load(_frames(), source_format="test", file_name="hourly", sha256="hourly")
    series = hourly_series(workspace, LAST - timedelta(days=3), LAST)
    assert list(series.columns) == ["hour", "scope", "scope_value", "sessions", "orders"]
    assert (series["sessions"].sum(), len(series)) > (1000, 4 * 24 - 1)
    found = detect_anomalies(workspace, start=LAST, end=LAST, kpis="sessions", hourly=True)
    hourly = [a for a in found if a.grain == "hour"]
    assert sorted(a.hour.hour for a in hourly if a.direction == "down") == list(OUTAGE_HOURS)
    assert all(a.observed == 0 and a.scope == "total" and a.day == LAST for a in hourly)
    assert hourly[0].to_dict()["hour"].startswith(LAST.isoformat())
    # four of the busiest hours are about a quarter of the day: the day is flagged too
    daily = [a for a in found if a.grain == "day" and a.scope == "total"]
    assert [(a.day, a.direction) for a in daily] == [(LAST, "down")]
    # a rule on sessions alerts for the day and for each hour, once
    add_rule(workspace, AlertRule("tracking", kpi="sessions", condition="anomaly"))
    first = run_monitor(workspace, LAST)
    second = run_monitor(workspace, LAST)
    hours = sorted(i.hour for i in first.incidents if i.hour is not None)
    assert hours == [f"{LAST.isoformat()}T{h}:00" for h in OUTAGE_HOURS]
    assert [i.key for i in first.incidents if i.hour is None] == [f"tracking|total:(all)|{LAST.isoformat()}"]
    assert len(first.new) == 5 and not second.new
