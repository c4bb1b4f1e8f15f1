"""Data-quality reconciliation: ``findings(workspace)`` lists where the data disagrees with itself."""

from trueroi.quality.findings import CHECKS, Finding, findings, worst

__all__ = ["CHECKS", "Finding", "findings", "worst"]
