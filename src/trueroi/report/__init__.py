"""Reports for people: self-contained HTML (charts render offline, no CDN)."""

from trueroi.report.html import kpi_html, write_kpi_report

__all__ = ["kpi_html", "write_kpi_report"]
