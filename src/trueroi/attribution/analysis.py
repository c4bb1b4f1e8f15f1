"""Attribution as every face asks for it: journeys from a file or a workspace, credited by chosen models.

The CLI's ``trueroi attribution`` and the web API's attribution routes call these functions with what the
user chose (models, lookback window, days, model settings), so both return the same results and, through
``to_dict()``, the same JSON.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from trueroi.attribution.compare import AttributionResult, attribute
from trueroi.attribution.journeys import Journeys, read_paths_csv
from trueroi.attribution.warehouse import build_journeys
from trueroi.workspace import Workspace
from trueroi.workspace.rules import utc_bounds


def load_journeys(
    source: Workspace | str | os.PathLike[str],
    *,
    lookback_days: int | None = None,
    exclude_direct: bool = False,
    start: date | None = None,
    end: date | None = None,
) -> Journeys:
    """Journeys from a journeys CSV (``source`` a path) or from a workspace's touchpoints and orders.

    Parameters
    ----------
    lookback_days, exclude_direct
        Workspace journeys only: the window before each order (default: the workspace's), and whether to
        drop direct touches from journeys that have others.
    start, end
        Workspace journeys only: keep conversions on these local days (inclusive; workspace time zone).
    """
    if not isinstance(source, Workspace):
        return read_paths_csv(Path(source))
    source.require_data()
    tz = source.config.timezone
    lo = utc_bounds(start, start, tz)[0] if start is not None else None
    hi = utc_bounds(end, end, tz)[1] if end is not None else None
    return build_journeys(
        source, lookback_days=lookback_days, exclude_direct=exclude_direct, start=lo, end=hi
    )


def credit_journeys(
    journeys: Journeys,
    models: str | Sequence[str] = "all",
    *,
    markov_order: int = 1,
    half_life_days: float = 7.0,
) -> AttributionResult:
    """Credit ``journeys`` under ``models`` (``"all"``, a name, comma-separated names or a list), with the
    settings a user may change: the Markov chain's order and the time-decay half-life in days."""
    settings = {"markov": {"order": markov_order}, "time_decay": {"half_life_days": half_life_days}}
    return attribute(journeys, models, settings)
