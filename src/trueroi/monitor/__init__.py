"""Monitoring: KPI series, seasonal robust baselines, anomaly detection, alert rules and delivery.

>>> from trueroi.monitor import detect_anomalies
>>> anomalies = detect_anomalies(ws)            # doctest: +SKIP  (the newest day, every scope and KPI)
>>> run_monitor(ws)                             # doctest: +SKIP  (rules -> outbox -> e-mail / webhook)

The faces call one function per task: :func:`add_alert`, :func:`list_alerts`, :func:`remove_alert`,
:func:`outbox_report`, :func:`drop_deliveries`, :func:`run_monitor`, :func:`watch` and
:func:`check_anomalies`.
"""

from trueroi.monitor.detect import (
    DEFAULT_KPIS,
    MONITORED,
    THRESHOLD,
    Anomaly,
    AnomalyReport,
    check_anomalies,
    detect_anomalies,
)
from trueroi.monitor.outbox import DroppedDeliveries, OutboxReport, drop_deliveries, outbox_report
from trueroi.monitor.receivers import DeliveryError, ReceiverError
from trueroi.monitor.rules import (
    AlertList,
    AlertRule,
    Incident,
    RemovedAlert,
    add_alert,
    add_rule,
    list_alerts,
    list_rules,
    make_rule,
    remove_alert,
    remove_rule,
)
from trueroi.monitor.runner import RunResult, parse_every, run_monitor, watch
from trueroi.monitor.series import last_complete_day

__all__ = [
    "DEFAULT_KPIS",
    "MONITORED",
    "THRESHOLD",
    "AlertList",
    "AlertRule",
    "Anomaly",
    "AnomalyReport",
    "DeliveryError",
    "DroppedDeliveries",
    "Incident",
    "OutboxReport",
    "ReceiverError",
    "RemovedAlert",
    "RunResult",
    "add_alert",
    "add_rule",
    "check_anomalies",
    "detect_anomalies",
    "drop_deliveries",
    "last_complete_day",
    "list_alerts",
    "list_rules",
    "make_rule",
    "outbox_report",
    "parse_every",
    "remove_alert",
    "remove_rule",
    "run_monitor",
    "watch",
]
