"""What every data-quality check shares: the finding, its severities, and small helpers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import ibis

from trueroi.errors import UsageError
from trueroi.workspace.money import to_base

if TYPE_CHECKING:
    from trueroi.workspace import Workspace

SEVERITIES = ("high", "medium", "low")
EXAMPLES = 5


@dataclass
class Finding:
    """One data-quality problem: a code, how bad it is, how many rows or days it touches, and examples."""

    code: str
    severity: str
    title: str
    count: int
    examples: list[str] = field(default_factory=list)
    detail: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise UsageError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def in_base(ws: Workspace, table: ibis.Table, money: list[str], day: str = "date_day") -> ibis.Table:
    """``table`` with the ``money`` columns in the base currency; amounts without a rate become null (the
    quality checks report on what they can, and a missing rate is a finding of its own)."""
    return to_base(ws, table, money, day).drop("_fx_missing")


def scalar(expr: Any) -> Any:
    value = expr.execute()
    return None if value is None or value != value else value


def severity(share: float, high: float, medium: float) -> str:
    return "high" if share >= high else "medium" if share >= medium else "low"
