"""Geo panels: a KPI per location and period, checked and turned into the matrices the estimators read.

A panel is long data with one row per location and period (day or week). :func:`prepare_panel` checks it
(every location on every date of a regular calendar, no duplicates or missing KPI values, treated
locations present, test period inside the data) and returns a :class:`GeoPanel`: the treated aggregate
(mean over treated locations), the control matrix, and the pre/test split.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError, UsageError
from trueroi.io import read_csv

PanelLike = str | os.PathLike[str] | pd.DataFrame
MIN_PRE_PERIODS = 25
MIN_LOCATIONS = 20


@dataclass(frozen=True)
class GeoPanel:
    """A checked geo panel in wide form.

    Attributes
    ----------
    dates
        Shape (T,): the periods kept (through the end of the test), ascending.
    locations
        Control location names, in the order of ``controls``' columns.
    treated
        Treated location names.
    treated_kpi
        Shape (T, K): KPI of each treated location.
    controls
        Shape (T, J): KPI of each control location.
    n_pre
        Number of periods before the test start (T0); periods ``n_pre:`` are the test period (T1).
    warnings
        Plain-language design warnings (too few pre-periods or locations).
    """

    dates: pd.DatetimeIndex
    locations: list[str]
    treated: list[str]
    treated_kpi: np.ndarray
    controls: np.ndarray
    n_pre: int
    warnings: list[str] = field(default_factory=list)

    @property
    def y(self) -> np.ndarray:
        """Shape (T,): the treated aggregate, the mean KPI over treated locations per period."""
        return self.treated_kpi.mean(axis=1)

    @property
    def n_post(self) -> int:
        return len(self.dates) - self.n_pre


def _require_columns(data: pd.DataFrame, columns: Sequence[str], file: str | None) -> None:
    for column in columns:
        if column not in data.columns:
            raise DataValidationError(
                f"column {column!r} is missing (columns found: {', '.join(map(str, data.columns))})",
                file=file,
                column=column,
                expected="the location, date and KPI columns named in the options",
            )


def _parse(data: pd.DataFrame, location: str, date: str, kpi: str, file: str | None) -> pd.DataFrame:
    frame = pd.DataFrame({"location": data[location].astype(str), "date": data[date], "kpi": data[kpi]})
    dates = pd.to_datetime(frame["date"], errors="coerce")
    bad = dates.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            "is not a date",
            file=file,
            row=row + 1,
            column=date,
            value=data[date].iloc[row],
            expected="an ISO date such as 2024-03-01",
        )
    frame["date"] = dates.dt.tz_localize(None) if dates.dt.tz is not None else dates
    values = pd.to_numeric(frame["kpi"], errors="coerce")
    bad = values.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            "is missing or not a number",
            file=file,
            row=row + 1,
            column=kpi,
            value=data[kpi].iloc[row],
            expected="a KPI value on every row",
        )
    frame["kpi"] = values.astype(float)
    dup = frame.duplicated(["location", "date"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataValidationError(
            f"location {frame['location'].iloc[row]!r} has {frame['date'].iloc[row].date()} twice",
            file=file,
            row=row + 1,
            column=date,
            expected="one row per location and period (aggregate first)",
        )
    return frame


def _check_calendar(wide: pd.DataFrame, file: str | None) -> None:
    dates = wide.index
    if len(dates) < 3:
        raise DataValidationError(
            f"the panel has {len(dates)} periods",
            file=file,
            expected="at least 3 periods (25 or more before the test)",
        )
    step = pd.Series(dates).diff().dropna().min()
    full = pd.date_range(dates[0], dates[-1], freq=step)
    missing = full.difference(dates)
    if len(missing):
        raise DataValidationError(
            f"{len(missing)} missing dates in the calendar, the first {missing[0].date()} (the step between "
            f"periods is {step.days} days)",
            file=file,
            expected="every period from the first to the last date, for every location",
        )
    holes = wide.isna()
    if holes.any().any():
        loc = holes.any()[holes.any()].index[0]
        first = wide.index[holes[loc].to_numpy()][0]
        raise DataValidationError(
            f"location {loc!r} has no row for {first.date()} ({int(holes[loc].sum())} missing dates); "
            f"{int(holes.any().sum())} location(s) have gaps",
            file=file,
            expected="every location on every date (fill true zeros, or drop the location)",
        )


def load_wide(
    data: pd.DataFrame, *, location: str, date: str, kpi: str, file: str | None = None
) -> pd.DataFrame:
    """Check a long panel and pivot it to wide form: one row per period (ascending), one column per location.

    Raises
    ------
    DataValidationError
        On missing columns, unparseable dates or KPI values, duplicate rows, or missing dates.
    """
    _require_columns(data, (location, date, kpi), file)
    frame = _parse(data, location, date, kpi, file)
    wide = frame.pivot(index="date", columns="location", values="kpi").sort_index()
    _check_calendar(wide, file)
    return wide


def split_panel(
    wide: pd.DataFrame,
    *,
    treated: Sequence[str],
    start: str | pd.Timestamp,
    end: str | pd.Timestamp | None = None,
    file: str | None = None,
    location: str = "location",
) -> GeoPanel:
    """Split a wide panel (see :func:`load_wide`) into treated aggregate, controls and pre/test periods."""
    treated = [str(t) for t in treated]
    unknown = [t for t in treated if t not in wide.columns]
    if not treated or unknown:
        sample = ", ".join(map(str, list(wide.columns[:5])))
        raise DataValidationError(
            f"treated location(s) {', '.join(unknown) or '(none given)'} not in the data",
            file=file,
            column=location,
            expected=f"names from column {location!r} such as {sample}",
        )
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end) if end is not None else wide.index[-1]
    first, last = wide.index[0], wide.index[-1]
    if start_ts <= first or start_ts > last or end_ts > last:
        raise UsageError(
            f"test period {start_ts.date()}..{end_ts.date()} is not inside the data "
            f"({first.date()}..{last.date()}"
            "); the test must start after the first date and end by the last"
        )
    if end_ts < start_ts:
        raise UsageError(f"test end {end_ts.date()} is before its start {start_ts.date()}")
    wide = wide.loc[:end_ts]
    n_pre = int((wide.index < start_ts).sum())
    controls = [c for c in wide.columns if c not in set(treated)]
    if len(controls) < 2 or n_pre < 3 or n_pre == len(wide):
        raise UsageError(
            f"{len(controls)} control locations and {n_pre} pre-test periods with {len(wide) - n_pre} test "
            "periods; expected at least 2 controls, 3 pre-test periods and 1 test period"
        )
    warnings = []
    if n_pre < MIN_PRE_PERIODS:
        warnings.append(f"only {n_pre} pre-test periods; {MIN_PRE_PERIODS} or more give a reliable fit")
    if wide.shape[1] < MIN_LOCATIONS:
        warnings.append(f"only {wide.shape[1]} locations; {MIN_LOCATIONS} or more give reliable inference")
    return GeoPanel(
        dates=pd.DatetimeIndex(wide.index),
        locations=controls,
        treated=treated,
        treated_kpi=wide[treated].to_numpy(float),
        controls=wide[controls].to_numpy(float),
        n_pre=n_pre,
        warnings=warnings,
    )


def prepare_panel(
    data: pd.DataFrame,
    *,
    location: str,
    date: str,
    kpi: str,
    treated: Sequence[str],
    start: str | pd.Timestamp,
    end: str | pd.Timestamp | None = None,
    file: str | None = None,
) -> GeoPanel:
    """Check a long geo panel and split it into treated aggregate, controls and pre/test periods.

    Parameters
    ----------
    data
        One row per location and period; the KPI in ``kpi`` (conversions, revenue, ...).
    location, date, kpi
        Column names.
    treated
        Locations that received the treatment (ads changed); every other location is a control.
    start, end
        First and last day of the test period (inclusive); ``end`` defaults to the last date. Later
        periods are dropped.
    file
        File name for error messages.
    """
    wide = load_wide(data, location=location, date=date, kpi=kpi, file=file)
    return split_panel(wide, treated=treated, start=start, end=end, file=file, location=location)


def read_panel(data: PanelLike, expected: str) -> tuple[pd.DataFrame, str | None]:
    """A long panel given as a DataFrame or a CSV file, and the file's name for error messages (or None).

    ``expected`` says what the file should be, for the error when it is missing or unreadable.
    """
    if isinstance(data, pd.DataFrame):
        return data, None
    return read_csv(data, expected=expected), str(data)
