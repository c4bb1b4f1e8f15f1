"""The KPI question as every face asks it: breakdown, days or a named period, comparison, attribution model
and value basis, given as text or values, answered by one :class:`~trueroi.metrics.engine.KpiReport`.

The CLI's ``trueroi kpis`` and the web API's ``/kpis`` route both call :func:`kpis` with what the user
typed, so they return the same report and, through ``KpiReport.to_dict()``, the same JSON.
"""

from __future__ import annotations

from datetime import date

from trueroi.errors import UsageError
from trueroi.metrics.dimensions import resolve_range
from trueroi.metrics.engine import KpiReport, kpi_report
from trueroi.metrics.lifetime import with_lifetime_value
from trueroi.workspace import Workspace

VALUES = ("revenue", "clv")
CLV_INTERVAL = 0.9


def kpis(
    ws: Workspace,
    *,
    by: str = "channel",
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    period: str | None = None,
    compare: str | None = None,
    attribution: str | None = None,
    value: str = "revenue",
) -> KpiReport:
    """KPIs and ROI (media and full, on contribution margin) by ``by`` over the days asked for.

    Parameters
    ----------
    by
        Comma-separated breakdown, e.g. ``"channel,week"`` (see :data:`~trueroi.metrics.DIMENSIONS`).
    date_from, date_to, period
        First and last day (ISO text or dates) or a named period (``2026-Q3``, ``2026-07``); explicit days
        win; missing ends default to the data's range.
    compare
        ``"yoy"`` or ``"previous"`` adds ``_prev``, ``_change`` and ``_change_pct`` to the main KPIs.
    attribution
        Attribution model crediting revenue and conversions (default ``last_non_direct_click``).
    value
        ``"revenue"``, or ``"clv"`` to add the predicted lifetime value of the customers each channel
        acquired, with 90% intervals from the models' parameter uncertainty (needs ``by="channel"``).
    """
    if value not in VALUES:
        raise UsageError(f"value basis {value!r} is unknown; expected {' or '.join(VALUES)}")
    start, end = resolve_range(date_from, date_to, period)
    report = kpi_report(ws, by=by, start=start, end=end, compare=compare, attribution=attribution)
    if value == "clv":
        report = with_lifetime_value(ws, report, interval=CLV_INTERVAL)
    return report
