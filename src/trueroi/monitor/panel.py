"""Series frames as matrices: one row per scope, one column per time step, so that every scope of a KPI is
judged in one pass of array code instead of one pandas frame per series.

A :class:`Panel` holds the additive measures of :func:`~trueroi.monitor.series.daily_series` (or
``hourly_series``) for one set of scopes on a shared calendar of time steps. A step a scope has no row for
(before its first day) is NaN and ``present`` is False there: the baselines read a NaN as "not known",
exactly as the start of a single series, so a scope's values do not depend on the other scopes sharing
the calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Panel:
    """Measures of several scopes on one calendar.

    ``times``: the sorted time steps (columns); ``scope``, ``scope_value``, ``channel``, ``campaign``: one
    entry per row (object arrays; rows sorted by scope, then scope value); ``present``: True where the
    frame has a row for that scope and step; ``measures``: one float matrix (rows x steps) per column,
    NaN where not present or not known.
    """

    times: np.ndarray
    scope: np.ndarray
    scope_value: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray
    present: np.ndarray
    measures: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.scope)

    def rows_of(self, scopes: Sequence[str]) -> np.ndarray:
        """Indices of the rows whose scope is one of ``scopes``."""
        return np.flatnonzero(np.isin(self.scope, list(scopes)))


def calendar(series: pd.DataFrame, time_col: str) -> np.ndarray:
    """The sorted distinct time steps of ``series[time_col]``."""
    return np.sort(pd.unique(series[time_col]))


def to_panel(frame: pd.DataFrame, time_col: str, times: np.ndarray, measures: Sequence[str]) -> Panel:
    """The rows of ``frame`` (one per scope and time step) as a :class:`Panel` on the calendar ``times``.

    Parameters
    ----------
    frame
        ``<time_col>, scope, scope_value`` and the ``measures`` columns (optionally ``channel`` and
        ``campaign``); at most one row per scope, scope value and time step.
    times
        The calendar (see :func:`calendar`); every time of ``frame`` must be on it.
    """
    groups = frame.groupby(["scope", "scope_value"], sort=True)
    row = groups.ngroup().to_numpy()
    keys = groups.size().index
    step = pd.Index(times).get_indexer(frame[time_col])
    shape = (len(keys), len(times))
    present = np.zeros(shape, dtype=bool)
    present[row, step] = True
    matrices = {}
    for m in measures:
        matrix = np.full(shape, np.nan)
        matrix[row, step] = frame[m].to_numpy(dtype=float)
        matrices[m] = matrix
    labels = {}
    for col in ("channel", "campaign"):
        labels[col] = groups[col].first().to_numpy(dtype=object) if col in frame else np.full(len(keys), None)
    return Panel(
        times=times,
        scope=keys.get_level_values(0).to_numpy(dtype=object),
        scope_value=keys.get_level_values(1).to_numpy(dtype=object),
        channel=labels["channel"],
        campaign=labels["campaign"],
        present=present,
        measures=matrices,
    )


def sum_members(scopes: Panel, rows: np.ndarray, leaves: Panel, values: np.ndarray) -> np.ndarray:
    """Per scope row in ``rows`` and step: the sum of ``values`` (leaves x steps) over the scope's leaves.

    The leaves of the total are all leaves; of a channel, the leaves of that channel; of a campaign, the
    leaves with that campaign. A leaf's NaN counts as 0 (a sum over leaves without values is 0); a step
    on which no leaf has a row is NaN (nothing was expected there).
    """
    filled = np.where(np.isnan(values), 0.0, values)
    out = np.zeros((len(rows), values.shape[1]))
    for scope, labels in (("channel", leaves.channel), ("campaign", leaves.campaign)):
        position = {v: j for j, v in enumerate(scopes.scope_value[rows]) if scopes.scope[rows[j]] == scope}
        target = np.array([position.get(v, -1) for v in labels], dtype=np.int64)
        mine = target >= 0
        np.add.at(out, target[mine], filled[mine])
    is_total = scopes.scope[rows] == "total"
    if is_total.any():
        out[is_total] = filled.sum(axis=0)
    out[:, ~leaves.present.any(axis=0)] = np.nan
    return out
