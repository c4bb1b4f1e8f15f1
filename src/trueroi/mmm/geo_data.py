"""A geo panel for the hierarchical mix model: checking a long table (one row per period and geo) and
reshaping it to arrays (:class:`GeoData`), and keeping the last periods out of the fit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError, UsageError
from trueroi.mmm.data import prepare, require_columns


@dataclass
class GeoData:
    """A balanced geo panel: spend (T, G, C), target (T, G), national controls (T, K), and the scales."""

    dates: pd.DatetimeIndex
    geos: list[str]
    channels: list[str]
    controls_cols: list[str]
    spend: np.ndarray
    target: np.ndarray
    controls: np.ndarray
    n_train: int
    period_days: int
    spend_scale: np.ndarray = field(init=False)  # (G, C)
    target_scale: np.ndarray = field(init=False)  # (G,)

    def __post_init__(self) -> None:
        train = self.spend[: self.n_train]
        self.spend_scale = np.where(train.mean(axis=0) > 0, train.mean(axis=0), 1.0)
        self.target_scale = np.abs(self.target[: self.n_train]).mean(axis=0)


def prepare_geo(
    df: pd.DataFrame,
    date: str,
    geo: str,
    target: str,
    channels: list[str],
    controls: list[str] | None = None,
    source: str | None = None,
) -> GeoData:
    """Check a long geo panel (one row per period and geo) and reshape it to arrays.

    The national series (summed over geos) goes through :func:`~trueroi.mmm.data.prepare`'s checks (unknown
    column, NaN, negative spend, irregular dates, too few periods); on top, every geo must have every date
    once and a positive mean KPI. Controls are national: their value per date is taken from the first geo.
    """
    controls = list(controls or [])
    require_columns(df, [geo], source, what="geo column")
    df = df.copy()
    df[date] = pd.to_datetime(df[date], errors="coerce")
    cols = [target, *channels, *controls]
    for c in [x for x in cols if x in df.columns]:
        neg = np.flatnonzero(pd.to_numeric(df[c], errors="coerce").to_numpy() < 0)
        if c in channels and neg.size:
            raise DataValidationError(
                "is negative spend", file=source, row=int(neg[0]) + 1, column=c, expected="spend >= 0"
            )
    national = df.groupby(date, as_index=False)[[c for c in cols if c in df.columns]].agg(
        lambda s: s.sum(min_count=len(s))
    )
    checked = prepare(national, date, target, channels, controls, None, 0, source)
    geos = sorted(df[geo].astype(str).unique())
    counts = df.groupby([df[geo].astype(str), date]).size().unstack(fill_value=0)
    if (counts.to_numpy() != 1).any():
        bad = counts.index[(counts.to_numpy() != 1).any(axis=1)][0]
        raise DataValidationError(
            f"geo {bad!r} does not have exactly one row per period",
            file=source,
            column=geo,
            value=bad,
            expected="a balanced panel: every geo on every date once",
        )
    df = df.assign(_geo=df[geo].astype(str)).sort_values(["_geo", date])
    shape = (len(geos), checked.n_periods)
    spend = np.stack([df[c].to_numpy(float).reshape(shape).T for c in channels], axis=2)
    y = df[target].to_numpy(float).reshape(shape).T
    if (y.mean(axis=0) <= 0).any():
        bad = geos[int(np.flatnonzero(y.mean(axis=0) <= 0)[0])]
        raise DataValidationError(
            "has no positive KPI on average", file=source, column=target, value=bad, expected="KPI > 0"
        )
    ctrl = (
        np.stack([df[c].to_numpy(float).reshape(shape)[0] for c in controls], axis=1)
        if controls
        else np.zeros((checked.n_periods, 0))
    )
    return GeoData(
        checked.dates, geos, list(channels), controls, spend, y, ctrl, checked.n_periods, checked.period_days
    )


def with_holdout(data: GeoData, holdout: int) -> GeoData:
    """``data`` with its last ``holdout`` periods kept out of the fit."""
    holdout = int(holdout)
    if holdout < 0 or len(data.dates) - holdout < 8:
        raise UsageError(
            f"holdout of {holdout} periods leaves {len(data.dates) - holdout} to fit; "
            "keep at least 8 periods and a holdout of 0 or more"
        )
    return dataclasses.replace(data, n_train=len(data.dates) - holdout)
