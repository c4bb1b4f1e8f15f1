"""Monitoring: KPI series, seasonal robust baselines, anomaly detection, alert rules and delivery.

>>> from trueroi.monitor import detect_anomalies
>>> anomalies = detect_anomalies(ws)            # doctest: +SKIP  (the newest day, every scope and KPI)
>>> run_monitor(ws)                             # doctest: +SKIP  (rules -> outbox -> e-mail / webhook)
"""

from trueroi.monitor.detect import MONITORED, THRESHOLD, Anomaly, detect_anomalies
from trueroi.monitor.rules import AlertRule, Incident, add_rule, list_rules, remove_rule
from trueroi.monitor.runner import RunResult, run_monitor, watch

__all__ = [
    "MONITORED",
    "THRESHOLD",
    "AlertRule",
    "Anomaly",
    "Incident",
    "RunResult",
    "add_rule",
    "detect_anomalies",
    "list_rules",
    "remove_rule",
    "run_monitor",
    "watch",
]
