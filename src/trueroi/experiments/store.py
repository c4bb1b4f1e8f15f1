"""The calibration feed: finished experiments in the workspace table ``experiments`` and their export.

The table is not one of the canonical tables (``trueroi.workspace.schema``): it is a small state table
(:data:`EXPERIMENTS`, a :class:`~trueroi.workspace.state.StateTable` keyed by ``experiment_id``) created
in the workspace's Ibis backend on first use with the columns of :data:`COLUMNS`. Each row pairs a change
in spend with the change in KPI it caused over a period, which is what a mix model needs to calibrate a
channel's response: ``delta_spend`` (base currency, the extra spend the test caused over the period,
negative for a holdout that removed spend), ``lift`` (the incremental KPI over the period caused by that
change, in the unit named in ``kpi``) and ``lift_se`` (its standard error, from the interval as
``(upper - lower) / (2 z)``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import UsageError, WorkspaceError
from trueroi.experiments.geo import GeoResult
from trueroi.experiments.lift import Interval, LiftResult
from trueroi.io import dumps, save_csv
from trueroi.workspace import Workspace
from trueroi.workspace.state import StateTable

# scipy is imported inside the functions that use it: it takes about half a second to load, and most
# callers of this module (and of the CLI) never need it.

WorkspaceLike = Workspace | str | os.PathLike[str] | None

TABLE = "experiments"
COLUMNS: dict[str, str] = {
    "experiment_id": "string",
    "name": "string",
    "kind": "string",
    "channel": "string",
    "kpi": "string",
    "start": "date",
    "end": "date",
    "delta_spend": "float64",
    "lift": "float64",
    "lift_se": "float64",
    "lift_lower": "float64",
    "lift_upper": "float64",
    "level": "float64",
    "relative_lift": "float64",
    "p_value": "float64",
    "iroas": "float64",
    "details": "string",
    "created_at": "timestamp",
}
EXPERIMENTS = StateTable(TABLE, COLUMNS, key=("experiment_id",))
LIFT_CSV_COLUMNS = ("channel", "start", "end", "delta_spend", "lift", "lift_se", "kpi", "experiment_id")


def experiments_schema() -> Any:
    """The Ibis schema of the ``experiments`` table."""
    return EXPERIMENTS.schema()


@contextmanager
def opened(workspace: WorkspaceLike) -> Iterator[Workspace]:
    """An open workspace for a ``with`` block.

    ``workspace`` is used as it is when it is an open :class:`Workspace`; otherwise it names the workspace
    directory (``None``: ``$TRUEROI_WORKSPACE`` or the current directory), opened for the block and closed
    after it.
    """
    if isinstance(workspace, Workspace):
        yield workspace
        return
    with Workspace.open(workspace) as ws:
        yield ws


@dataclass(frozen=True)
class ExperimentRecord:
    """One finished experiment as stored (see the module docstring for the units)."""

    experiment_id: str
    name: str
    kind: str
    channel: str
    kpi: str
    start: date
    end: date
    delta_spend: float
    lift: float
    lift_se: float
    lift_lower: float
    lift_upper: float
    level: float
    relative_lift: float
    p_value: float
    iroas: float
    details: str
    created_at: datetime


def standard_error(interval: Interval, level: float) -> float:
    """Normal-equivalent standard error of an interval: width / (2 z_{(1+level)/2}); NaN if unbounded."""
    from scipy import stats

    width = interval.upper - interval.lower
    return float(width / (2 * stats.norm.isf((1 - level) / 2))) if np.isfinite(width) else float("nan")


def _record(
    kind: str,
    name: str | None,
    channel: str,
    kpi: str,
    start: Any,
    end: Any,
    delta_spend: float | None,
    effect: Interval,
    level: float,
    relative: float,
    p_value: float,
    details: dict[str, Any],
) -> ExperimentRecord:
    if not channel:
        raise UsageError("an experiment needs the channel it tested (e.g. 'meta') to calibrate a model")
    start_d, end_d = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    if end_d < start_d:
        raise UsageError(f"experiment end {end_d} is before its start {start_d}")
    spend = float(delta_spend) if delta_spend is not None else float("nan")
    return ExperimentRecord(
        experiment_id=uuid.uuid4().hex[:12],
        name=name or f"{kind} {channel} {start_d}",
        kind=kind,
        channel=channel,
        kpi=kpi,
        start=start_d,
        end=end_d,
        delta_spend=spend,
        lift=effect.mean,
        lift_se=standard_error(effect, level),
        lift_lower=effect.lower,
        lift_upper=effect.upper,
        level=level,
        relative_lift=relative,
        p_value=p_value,
        iroas=effect.mean / spend if spend and np.isfinite(spend) else float("nan"),
        details=dumps(details, indent=None),
        created_at=datetime.now(UTC).replace(tzinfo=None),
    )


def record_from_lift(
    result: LiftResult,
    *,
    channel: str,
    start: Any,
    end: Any,
    kpi: str = "conversions",
    name: str | None = None,
    delta_spend: float | None = None,
) -> ExperimentRecord:
    """A record of a holdout test; ``kpi`` picks ``conversions`` or ``revenue`` as the lift.

    ``delta_spend`` defaults to the test group's spend: the spend whose effect the test measured.
    """
    if kpi not in ("conversions", "revenue"):
        raise UsageError(f"kpi is {kpi!r}; a holdout test records 'conversions' or 'revenue'")
    effect = result.incremental_conversions if kpi == "conversions" else result.incremental_revenue
    if effect is None:
        raise UsageError("kpi 'revenue' needs the revenue of both groups (test_revenue and control_revenue)")
    return _record(
        "holdout",
        name,
        channel,
        kpi,
        start,
        end,
        result.spend if delta_spend is None else delta_spend,
        effect,
        result.level,
        result.lift.mean,
        result.p_value,
        result.to_dict(),
    )


def record_from_geo(
    result: GeoResult,
    *,
    channel: str,
    kpi: str = "kpi",
    name: str | None = None,
    delta_spend: float | None = None,
) -> ExperimentRecord:
    """A record of a geo test; ``delta_spend`` defaults to the ``spend`` given to the analysis."""
    return _record(
        "geo",
        name,
        channel,
        kpi,
        result.start,
        result.end,
        result.spend if delta_spend is None else delta_spend,
        result.incremental,
        result.level,
        result.lift.mean,
        result.p_value,
        result.to_dict(),
    )


def ensure_table(ws: Workspace) -> None:
    """Create the ``experiments`` table in the workspace backend if it does not exist yet."""
    EXPERIMENTS.ensure(ws)


def save_experiment(ws: Workspace, record: ExperimentRecord) -> str:
    """Add a record to the workspace's ``experiments`` table; returns its id."""
    EXPERIMENTS.upsert(ws, [asdict(record)])
    return record.experiment_id


def list_experiments(ws: Workspace) -> pd.DataFrame:
    """Every stored experiment, oldest first (an empty frame with the columns when there is none).

    ``start`` and ``end`` come back as pandas timestamps (midnight), as Ibis reads a date column.
    """
    EXPERIMENTS.ensure(ws)
    frame = EXPERIMENTS.read(ws)
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.sort_values("created_at", kind="stable").reset_index(drop=True)


def lift_table(experiments: pd.DataFrame) -> pd.DataFrame:
    """The lift-calibration table the mix model reads, from stored experiments.

    Columns: ``channel, start, end`` (ISO dates), ``delta_spend, lift, lift_se``, ``kpi, experiment_id``.
    Experiments without a spend change or a finite positive standard error cannot calibrate and are left
    out.
    """
    frame = experiments.copy()
    se = frame["lift_se"].astype(float)
    keep = np.isfinite(frame["delta_spend"].astype(float)) & np.isfinite(se) & (se > 0)
    frame = frame[keep & (frame["delta_spend"].astype(float) != 0)]
    out = frame[list(LIFT_CSV_COLUMNS)].copy()
    for column in ("start", "end"):
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    return out.reset_index(drop=True)


def export_lifts(
    workspace: WorkspaceLike, path: str | os.PathLike[str], *, channel: str | None = None
) -> pd.DataFrame:
    """Write the lift CSV (see :func:`lift_table`) of the workspace's experiments to ``path``.

    ``workspace`` is an open workspace or its directory. The file is written atomically (nothing is left
    behind on an error) with spreadsheet formulas neutralised; the table written is returned.

    Raises
    ------
    WorkspaceError
        When no stored experiment (of ``channel``) has a spend change and a standard error to export.
    """
    with opened(workspace) as ws:
        table = lift_table(list_experiments(ws))
    if channel is not None:
        table = table[table["channel"] == channel]
    if table.empty:
        raise WorkspaceError(
            "no finished experiment with a spend change to export; save a holdout or geo test with its "
            "channel, period and spend change first"
        )
    save_csv(table, path)
    return table
