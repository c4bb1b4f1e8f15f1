"""KPI and ROI engine: Ibis expressions over the warehouse, weighted ratios, media and full ROI.

>>> from trueroi.metrics import kpi_report
>>> report = kpi_report(ws, by="channel", compare="yoy")  # doctest: +SKIP
"""

from trueroi.metrics.definitions import ALL_KPIS, KPIS, Kpi
from trueroi.metrics.dimensions import (
    DIMENSIONS,
    Period,
    last_full_quarter,
    parse_by,
    parse_day,
    parse_period,
    resolve_range,
)
from trueroi.metrics.engine import KpiReport, data_range, kpi_report
from trueroi.metrics.families import FAMILIES, FamilyReport, MoneySource, family_kpis
from trueroi.metrics.kpis import kpis

__all__ = [
    "ALL_KPIS",
    "DIMENSIONS",
    "FAMILIES",
    "KPIS",
    "Kpi",
    "KpiReport",
    "Period",
    "FamilyReport",
    "MoneySource",
    "data_range",
    "family_kpis",
    "kpi_report",
    "kpis",
    "last_full_quarter",
    "parse_by",
    "parse_day",
    "parse_period",
    "resolve_range",
]
