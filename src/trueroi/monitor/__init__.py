"""Monitoring: KPI series, seasonal robust baselines, anomaly detection, alert rules and delivery.

>>> from trueroi.monitor import detect_anomalies
>>> anomalies = detect_anomalies(ws)            # doctest: +SKIP  (the newest day, every scope and KPI)
"""

from trueroi.monitor.detect import MONITORED, Anomaly, detect_anomalies

__all__ = ["MONITORED", "Anomaly", "detect_anomalies"]
