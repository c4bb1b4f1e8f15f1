"""Validate and scale the time series a mix model is fitted on.

The model sees scaled data: the KPI divided by its mean over the training periods and each channel's spend
divided by its mean over the training periods (both as in PyMC-Marketing and Meridian, which scale before
sampling so that one set of priors fits every business). Scales are kept to turn results back into the
KPI's units and the base currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError, UsageError

MIN_TRAIN_PERIODS = 20
DAYS_PER_YEAR = 365.25


@dataclass
class MMMData:
    """One fitted series: raw columns, the training window and the scales.

    Attributes
    ----------
    dates
        Period start dates (weekly or daily), sorted, shape (T,).
    spend
        Shape (T, C): spend per period and channel, base currency.
    target
        Shape (T,): the KPI per period (revenue in base currency or a count).
    controls, events
        Shapes (T, K) and (T, E): control variables (additive) and event dummies (multiplicative on the
        baseline).
    n_train
        The first ``n_train`` periods are fitted; the rest form the holdout.
    organic_cols, organic
        Unpaid media inputs (e-mails sent, posts, SEO visibility), shape (T, O): carry-over and saturation,
        no spend (see :mod:`trueroi.mmm.organic`).
    treatment_cols
        Controls reported as treatments (price, promotions): effect per unit and contribution.
    """

    dates: pd.DatetimeIndex
    date_col: str
    target_col: str
    channels: list[str]
    controls_cols: list[str]
    events_cols: list[str]
    spend: np.ndarray
    target: np.ndarray
    controls: np.ndarray
    events: np.ndarray
    n_train: int
    period_days: int
    organic_cols: list[str] = field(default_factory=list)
    organic: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    treatment_cols: list[str] = field(default_factory=list)
    spend_scale: np.ndarray = field(init=False)
    target_scale: float = field(init=False)
    control_mean: np.ndarray = field(init=False)
    control_std: np.ndarray = field(init=False)
    organic_scale: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        train = slice(0, self.n_train)
        if self.organic.shape[0] != len(self.dates):
            self.organic = np.zeros((len(self.dates), len(self.organic_cols)))
        self.organic_scale = self.organic[train].mean(axis=0)
        self.spend_scale = self.spend[train].mean(axis=0)
        self.target_scale = float(np.abs(self.target[train]).mean())
        self.control_mean = self.controls[train].mean(axis=0) if self.controls.size else np.zeros(0)
        std = self.controls[train].std(axis=0) if self.controls.size else np.zeros(0)
        self.control_std = np.where(std > 0, std, 1.0)

    @property
    def n_periods(self) -> int:
        return len(self.dates)

    @property
    def periods_per_year(self) -> float:
        return DAYS_PER_YEAR / self.period_days

    @property
    def periods_per_week(self) -> float:
        return 7.0 / self.period_days

    def media_scaled(self, spend: np.ndarray | None = None) -> np.ndarray:
        """Spend divided by each channel's training mean, shape (T, C)."""
        return (self.spend if spend is None else spend) / self.spend_scale

    def organic_scaled(self) -> np.ndarray:
        """Organic inputs divided by their training means, shape (T, O)."""
        return self.organic / self.organic_scale

    def controls_scaled(self) -> np.ndarray:
        return (self.controls - self.control_mean) / self.control_std

    def trend(self) -> np.ndarray:
        """Time in units of the training window: 0 at the first period, 1 at the last training one."""
        return np.arange(self.n_periods) / max(self.n_train - 1, 1)

    def fourier(self, order: int) -> np.ndarray:
        """Yearly Fourier terms ``sin/cos(2 pi k t / P)``, k = 1..order, shape (T, 2 * order)."""
        if order <= 0:
            return np.zeros((self.n_periods, 0))
        days = (self.dates - self.dates[0]).days.to_numpy(dtype=float)
        angle = 2 * np.pi * days / DAYS_PER_YEAR
        cols = [f(k * angle) for k in range(1, order + 1) for f in (np.sin, np.cos)]
        return np.column_stack(cols)

    def frame(self) -> pd.DataFrame:
        """The series as a DataFrame with the user's column names (what a saved model keeps)."""
        out = pd.DataFrame({self.date_col: self.dates, self.target_col: self.target})
        for i, c in enumerate(self.channels):
            out[c] = self.spend[:, i]
        for i, c in enumerate(self.controls_cols):
            out[c] = self.controls[:, i]
        for i, c in enumerate(self.events_cols):
            out[c] = self.events[:, i]
        for i, c in enumerate(self.organic_cols):
            out[c] = self.organic[:, i]
        return out


def prepare(
    df: pd.DataFrame,
    date: str,
    target: str,
    channels: list[str],
    controls: list[str] | None = None,
    events: list[str] | None = None,
    holdout_periods: int = 0,
    source: str | None = None,
    organic: list[str] | None = None,
    treatments: list[str] | None = None,
) -> MMMData:
    """Check a DataFrame and turn it into :class:`MMMData`.

    ``organic``: unpaid media inputs (non-negative, varying); ``treatments``: columns to report as
    treatments, added to the controls when not among them.

    Raises
    ------
    DataValidationError
        Unknown or duplicated column, NaN, negative spend, a constant or all-zero column, irregular or
        duplicated dates, or too few periods to fit; the message names the file, row and column.
    """
    controls, events, organic = list(controls or []), list(events or []), list(organic or [])
    treatments = list(treatments or [])
    controls += [t for t in treatments if t not in controls]
    if not channels:
        raise UsageError("no media channels given; name the spend columns (channels), e.g. search, social")
    names = [date, target, *channels, *controls, *events, *organic]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(
            f"column(s) {', '.join(dup)} given in more than one role (date, target, channel, control)"
        )
    require_columns(df, names, source)
    df = df.reset_index(drop=True)
    dates = _parse_dates(df[date], date, source)
    order = np.argsort(dates.to_numpy(), kind="stable")
    df, dates = df.iloc[order].reset_index(drop=True), dates[order]
    period_days = _period_days(dates, date, source)
    numeric = {
        c: _numeric(df[c], c, source, order) for c in [target, *channels, *controls, *events, *organic]
    }
    n_train = len(df) - holdout_periods
    if holdout_periods < 0 or n_train < MIN_TRAIN_PERIODS:
        raise DataValidationError(
            f"too few periods to fit: {len(df)} rows with a holdout of {holdout_periods} leave {n_train}",
            file=source,
            expected=f"at least {MIN_TRAIN_PERIODS} training periods (about two years of weeks is better)",
        )
    for c in [*channels, *organic]:
        _check_spend(numeric[c][:n_train], c, source, order)
    for c in [target, *controls]:
        if np.ptp(numeric[c][:n_train]) == 0:
            raise DataValidationError(
                "is constant over the training periods, so it carries no information",
                file=source,
                column=c,
                value=float(numeric[c][0]),
                expected="a column that varies; drop it",
            )
    stack = lambda cols: np.column_stack([numeric[c] for c in cols]) if cols else np.zeros((len(df), 0))  # noqa: E731
    return MMMData(
        dates=pd.DatetimeIndex(dates),
        date_col=date,
        target_col=target,
        channels=list(channels),
        controls_cols=controls,
        events_cols=events,
        spend=stack(channels),
        target=numeric[target],
        controls=stack(controls),
        events=stack(events),
        n_train=n_train,
        period_days=period_days,
        organic_cols=organic,
        organic=stack(organic),
        treatment_cols=treatments,
    )


def infer_period_days(df: pd.DataFrame, date: str, source: str | None = None) -> int:
    """7 for a weekly series, 1 for a daily one (raises like :func:`prepare` for anything else)."""
    require_columns(df, [date], source)
    return _period_days(_parse_dates(df[date], date, source).sort_values(), date, source)


def require_columns(df: pd.DataFrame, names: list[str], source: str | None, what: str = "column") -> None:
    """Raise "unknown {what}" for the first of ``names`` that is not a column of ``df``, listing the
    columns there are."""
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise DataValidationError(
            f"unknown {what} {missing[0]!r}",
            file=source,
            column=missing[0],
            expected=f"one of the data's columns: {', '.join(map(str, df.columns))}",
        )


def _parse_dates(col: pd.Series, name: str, source: str | None) -> pd.DatetimeIndex:
    parsed = pd.to_datetime(col, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        raise DataValidationError(
            "is not a date",
            file=source,
            row=int(bad[0]) + 1,
            column=name,
            value=col.iloc[bad[0]],
            expected="ISO dates such as 2024-01-01",
        )
    return (
        pd.DatetimeIndex(parsed).tz_localize(None) if parsed.dt.tz is not None else pd.DatetimeIndex(parsed)
    )


def _period_days(dates: pd.DatetimeIndex, name: str, source: str | None) -> int:
    gaps = np.diff(dates.to_numpy()).astype("timedelta64[D]").astype(int)
    if gaps.size == 0:
        raise DataValidationError(
            "has a single period", file=source, column=name, expected="a weekly or daily series"
        )
    if (gaps == 0).any():
        row = int(np.flatnonzero(gaps == 0)[0]) + 2
        raise DataValidationError(
            "duplicates the date of the row before",
            file=source,
            row=row,
            column=name,
            value=str(dates[row - 1].date()),
            expected="one row per period",
        )
    step = int(np.median(gaps))
    if step not in (1, 7) or (gaps != step).any():
        row = int(np.flatnonzero(gaps != step)[0]) + 2 if (gaps != step).any() else 2
        raise DataValidationError(
            f"breaks the series: periods are {sorted(set(gaps.tolist()))[:5]} days apart",
            file=source,
            row=row,
            column=name,
            expected="consecutive weeks (7 days apart) or days, with no gaps",
        )
    return step


def _numeric(col: pd.Series, name: str, source: str | None, order: np.ndarray) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy())
    if bad.size:
        raise DataValidationError(
            "is missing or not a number",
            file=source,
            row=int(order[bad[0]]) + 1,
            column=name,
            value=None if pd.isna(col.iloc[bad[0]]) else col.iloc[bad[0]],
            expected="a number in every row (fill gaps with 0 for spend)",
        )
    return values.to_numpy(dtype=float)


def _check_spend(values: np.ndarray, name: str, source: str | None, order: np.ndarray) -> None:
    neg = np.flatnonzero(values < 0)
    if neg.size:
        raise DataValidationError(
            "is negative spend",
            file=source,
            row=int(order[neg[0]]) + 1,
            column=name,
            value=float(values[neg[0]]),
            expected="spend >= 0",
        )
    if np.ptp(values) == 0:
        raise DataValidationError(
            "spend is constant over the training periods, so its effect cannot be told from the baseline",
            file=source,
            column=name,
            value=float(values[0]),
            expected="a channel whose spend varies; drop it",
        )
