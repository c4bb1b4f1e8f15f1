"""What every importer shares: the format declaration, the import context and the FX check.

An importer is a function ``read(path, ctx) -> {table: iterable of Arrow tables}``. It streams its file,
records bad values in ``ctx.problems`` and raises them at the end of each chunk; its module declares it
with :func:`register`. :mod:`trueroi.ingest.registry` finds formats by name and
:func:`trueroi.ingest.importer.import_file` runs one: every row in a non-base currency is checked against
``fx_rates`` (:class:`FxGuard`: a missing rate is an error naming the currency and days, never a silent
1.0), then :meth:`~trueroi.workspace.Workspace.load` writes everything and the ``imports`` record in one
transaction. An error anywhere, including one raised after the last chunk, rolls the whole file back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest.parse import Problems
from trueroi.workspace.config import WorkspaceConfig
from trueroi.workspace.load import PeriodReplace, RowKey

if TYPE_CHECKING:
    from trueroi.workspace import Workspace

Reader = Callable[[Path, "ImportContext"], dict[str, Iterable[pa.Table]]]

# The key of each canonical table: a row of a new file replaces the older rows with the same key (a
# re-export with corrected numbers is an upsert, counted as replaced), and every other older row is kept.
# Keys compare nulls as equal, so a campaign-level ad row (ad_group_id null) never replaces ad-group rows,
# nor the other way round. Touchpoints: touch_id (every importer sets one: the export's, the GA4 session, or
# a hash of user, time, session and landing page); rows without one match on their natural key instead.
TOUCH_NATURAL_KEY = ("user_id", "ts", "session_id", "source", "medium", "campaign", "landing_page")
REPLACE_KEYS: dict[str, RowKey] = {
    "ad_performance": RowKey(("date_day", "platform", "campaign_id", "ad_group_id")),
    "touchpoints": RowKey(("touch_id",), fallback=TOUCH_NATURAL_KEY),
    "orders": RowKey(("order_id",)),
    "conversions": RowKey(("conversion_id",)),
    "costs": RowKey(("period_start", "period_end", "category", "channel", "campaign_id")),
    "fx_rates": RowKey(("date_day", "currency")),
}
# Replacing a period is asked for explicitly (import with replace): rows loaded earlier from the same format
# whose day lies between the new file's first and last day are removed, whatever their key (ad rows only of
# the platforms the new file holds).
REPLACE_DAYS: dict[str, PeriodReplace] = {
    "ad_performance": PeriodReplace("date_day", scope=("platform",)),
    "touchpoints": PeriodReplace("date_day"),
    "orders": PeriodReplace("date_day"),
    "conversions": PeriodReplace("date_day"),
    "costs": PeriodReplace("period_start"),
    "fx_rates": PeriodReplace("date_day", scope=("currency",)),
}
MONEY_DAY: dict[str, str] = {
    "ad_performance": "date_day",
    "orders": "date_day",
    "conversions": "date_day",
    "costs": "period_start",
}


@dataclass(frozen=True)
class Format:
    """One import format: its name, the tables it fills, how to read it and how to recognise it."""

    name: str
    tables: tuple[str, ...]
    read: Reader
    description: str
    detect: Callable[[Path], bool] | None = None


@dataclass
class ImportContext:
    """Settings an importer needs: the workspace config, the file's name and the problem collector."""

    config: WorkspaceConfig
    file: str
    problems: Problems
    options: dict[str, Any] = field(default_factory=dict)
    today: date | None = None
    on_rows: Callable[[int], None] | None = None

    @property
    def tz(self) -> str:
        return self.config.timezone


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def known_rates(ws: Workspace) -> dict[str, set[date]]:
    """Days with an FX rate per currency, from the workspace's ``fx_rates``."""
    df = ws.table("fx_rates").select("currency", "date_day").distinct().execute()
    rates: dict[str, set[date]] = {}
    for cur, day in zip(df["currency"], df["date_day"], strict=True):
        rates.setdefault(str(cur), set()).add(day.date() if hasattr(day, "date") else day)
    return rates


class FxGuard:
    """Collects the (currency, day) pairs of a load and refuses those without a rate in ``fx_rates``."""

    def __init__(self, base: str, rates: dict[str, set[date]], file: str) -> None:
        self.base, self.rates, self.file = base, rates, file
        self.missing: dict[str, set[date]] = {}

    def watch(self, table: str, chunks: Iterable[pa.Table]) -> Iterator[pa.Table]:
        for chunk in chunks:
            if table in MONEY_DAY and "currency" in chunk.column_names:
                self._collect(table, chunk)
            yield chunk
        self.raise_missing()

    def _collect(self, table: str, chunk: pa.Table) -> None:
        cur = chunk["currency"]
        foreign = pc.and_(pc.is_valid(cur), pc.not_equal(cur, self.base))
        if not pc.any(pc.fill_null(foreign, False)).as_py():
            return
        if table == "costs":
            sub = chunk.filter(foreign).select(["currency", "period_start", "period_end"]).to_pylist()
            pairs = {
                (r["currency"], r["period_start"] + timedelta(days=k))
                for r in sub
                for k in range(((r["period_end"] or r["period_start"]) - r["period_start"]).days + 1)
            }
        else:
            sub = chunk.filter(foreign).select(["currency", MONEY_DAY[table]])
            uniq = sub.group_by(["currency", MONEY_DAY[table]]).aggregate([]).to_pylist()
            pairs = {(r["currency"], r[MONEY_DAY[table]]) for r in uniq}
        for cur_code, day in pairs:
            if day is not None and day not in self.rates.get(cur_code, ()):
                self.missing.setdefault(cur_code, set()).add(day)

    def raise_missing(self) -> None:
        if not self.missing:
            return
        parts = []
        for cur in sorted(self.missing):
            days = sorted(self.missing[cur])
            shown = ", ".join(d.isoformat() for d in days[:8]) + (
                f" and {len(days) - 8} more" if len(days) > 8 else ""
            )
            parts.append(f"{cur} on {len(days)} day(s): {shown}")
        raise DataValidationError(
            f"no exchange rate to {self.base} for " + "; ".join(parts),
            file=self.file,
            expected=f"rates in fx_rates for every day and currency other than {self.base}; "
            "import an fx-rates file for those days first",
        )


def missing_columns(present: Iterable[str], required: Iterable[str], file: str, fmt: str) -> None:
    """Raise a clear error when required columns are absent."""
    present = list(present)
    missing = [c for c in required if c not in present]
    if missing:
        raise DataValidationError(
            f"missing required column(s) {', '.join(missing)} for {fmt}",
            file=file,
            expected=f"columns {', '.join(required)} (found: {', '.join(present) or 'none'})",
        )
