"""Data-quality reconciliation: ``findings(workspace)`` lists where the data disagrees with itself."""

from trueroi.quality.findings import CHECKS, Finding, QualityReport, findings, quality_report, worst

__all__ = ["CHECKS", "Finding", "QualityReport", "findings", "quality_report", "worst"]
