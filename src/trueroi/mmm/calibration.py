"""Lift tests as extra likelihood terms: reading and checking them, and aligning them with the fit data.

A lift file (written by ``trueroi experiment``) is a CSV with columns
``channel,start,end,delta_spend,lift,lift_se`` and optionally ``kpi,experiment_id``:

- ``channel``: the spend column name in the mix model,
- ``start``, ``end``: ISO dates of the test period (inclusive),
- ``delta_spend``: total extra spend in the period caused by the test, base currency (negative for a
  holdout that removed spend),
- ``lift``: measured incremental KPI over the period caused by that spend change, ``lift_se`` its
  standard error.

In the model, the spend change is spread over the periods whose start date falls in the test window in
proportion to the channel's spend in each (a holdout that removed all spend removes each week's own spend; a
+20% test adds 20% to each week), evenly where the window had no spend; the modelled lift is the change of
the channel's contribution over those periods (as in Meridian's and PyMC-Marketing's lift-test
calibration).

For the geo model (:class:`~trueroi.mmm.geo.GeoMMM`) a lift file may carry a ``geo`` column: the test's spend
change is in that geo alone. Without it (or where it is empty) the test is national and its spend change is
split across geos by their spend on the channel in the test window.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError

LIFT_COLUMNS = ("channel", "start", "end", "delta_spend", "lift", "lift_se")


def read_lift_tests(path: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read and validate a lift-test CSV (or check a DataFrame of the same shape).

    Raises
    ------
    DataValidationError
        Missing column, unparsable date, ``end`` before ``start``, non-numeric value, zero
        ``delta_spend``, or a ``lift_se`` that is not positive; the message names the row and column.
    """
    source = None if isinstance(path, pd.DataFrame) else str(path)
    if isinstance(path, pd.DataFrame):
        df = path.copy()
    else:
        try:
            df = pd.read_csv(path, dtype={"channel": str})
        except FileNotFoundError as exc:
            raise DataValidationError("file not found", file=source, expected="a lift-test CSV") from exc
    missing = [c for c in LIFT_COLUMNS if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)}",
            file=source,
            expected="columns " + ",".join(LIFT_COLUMNS),
        )
    if df.empty:
        raise DataValidationError("has no lift tests", file=source, expected="at least one row")
    for col in ("start", "end"):
        parsed = pd.to_datetime(df[col], errors="coerce")
        _fail_rows(parsed.isna(), df, col, source, "is not a date", "an ISO date such as 2024-03-04")
        df[col] = parsed
    for col in ("delta_spend", "lift", "lift_se"):
        num = pd.to_numeric(df[col], errors="coerce")
        _fail_rows(num.isna() | ~np.isfinite(num.fillna(0)), df, col, source, "is not a number", "a number")
        df[col] = num.astype(float)
    _fail_rows(
        df["channel"].isna() | (df["channel"].astype(str).str.strip() == ""),
        df,
        "channel",
        source,
        "is empty",
        "the spend column name of the channel",
    )
    _fail_rows(df["end"] < df["start"], df, "end", source, "is before start", "end >= start")
    _fail_rows(
        df["delta_spend"] == 0,
        df,
        "delta_spend",
        source,
        "is zero, so the test moved no spend",
        "the spend change caused by the test",
    )
    _fail_rows(df["lift_se"] <= 0, df, "lift_se", source, "is not positive", "a standard error > 0")
    df["channel"] = df["channel"].astype(str)
    return df.reset_index(drop=True)


def _fail_rows(
    bad: pd.Series, df: pd.DataFrame, col: str, source: str | None, msg: str, expected: str
) -> None:
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            msg, file=source, row=i + 1, column=col, value=df[col].iloc[i], expected=expected
        )


def geo_lift_arrays(
    lifts: pd.DataFrame,
    dates: pd.DatetimeIndex,
    n_train: int,
    geos: list[str],
    channels: list[str],
    spend: np.ndarray,
    spend_scale: np.ndarray,
    kpi_scale: float,
) -> dict[str, Any]:
    """:func:`lift_arrays` for a geo panel: ``lift_delta`` is (T, G, N) in each geo's media units, the
    observations are divided by ``kpi_scale`` (the model compares them with its lift summed over geos in KPI
    units, divided by the same scale). ``spend`` (T, G, C) shapes the change over periods and, for a national
    test, over geos."""
    national = lift_arrays(lifts, dates, n_train, channels, np.ones(len(channels)), kpi_scale)
    idx, window = national["lift_channel"], national["lift_window"]
    delta = np.zeros((len(dates), len(geos), len(lifts)))
    has_geo = "geo" in lifts.columns
    for i, row in enumerate(lifts.itertuples(index=False)):
        inside = window[:, i] > 0
        g_name = getattr(row, "geo", None) if has_geo else None
        if g_name is not None and not pd.isna(g_name) and str(g_name).strip() != "":
            if str(g_name) not in geos:
                raise DataValidationError(
                    "is not a geo of the model",
                    row=i + 1,
                    column="geo",
                    value=g_name,
                    expected=f"one of {', '.join(geos[:10])}{', ...' if len(geos) > 10 else ''}",
                )
            share = np.zeros(len(geos))
            share[geos.index(str(g_name))] = 1.0
        else:
            share = np.ones(len(geos))
        # the test's geos' spend in each period of the window: the change follows it
        cells = spend[inside][:, :, idx[i]] * share[None, :]
        if cells.sum() > 0:
            weights = cells / cells.sum()
        else:  # no spend at all: evenly over the periods of the chosen geo(s)
            weights = np.repeat(share[None, :] / share.sum(), cells.shape[0], axis=0) / cells.shape[0]
        delta[inside, :, i] = row.delta_spend * weights / spend_scale[:, idx[i]][None, :]
    return {**national, "lift_delta": delta}


def _weights(spend: np.ndarray | None, n: int) -> np.ndarray:
    """Shares of a test's spend change per cell: proportional to ``spend``, evenly without spend."""
    if spend is None or spend.sum() <= 0:
        return np.full(n, 1.0 / n)
    return spend / spend.sum()


def lift_arrays(
    lifts: pd.DataFrame,
    dates: pd.DatetimeIndex,
    n_train: int,
    channels: list[str],
    spend_scale: np.ndarray,
    target_scale: float,
    spend: np.ndarray | None = None,
) -> dict[str, Any]:
    """Arrays for the model's lift likelihood, on the model's scales (``spend`` (T, C): the channel's spend
    per period, which shapes the change within the window; without it the change is spread evenly).

    Returns ``lift_channel`` (N,), ``lift_delta`` and ``lift_window`` (T, N), ``lift_obs`` and ``lift_se``
    (N,). Raises :class:`DataValidationError` for a channel the model does not have or a window that holds
    no training period.
    """
    n = len(lifts)
    delta = np.zeros((len(dates), n))
    window = np.zeros((len(dates), n))
    idx = np.zeros(n, dtype=int)
    for i, row in enumerate(lifts.itertuples(index=False)):
        if row.channel not in channels:
            raise DataValidationError(
                "is not a channel of the model",
                row=i + 1,
                column="channel",
                value=row.channel,
                expected=f"one of {', '.join(channels)}",
            )
        idx[i] = channels.index(row.channel)
        inside = (dates >= row.start) & (dates <= row.end) & (np.arange(len(dates)) < n_train)
        if not inside.any():
            raise DataValidationError(
                f"test window {row.start.date()}..{row.end.date()} holds no period of the fit data "
                f"({dates[0].date()}..{dates[n_train - 1].date()})",
                row=i + 1,
                column="start",
                expected="a test inside the training window",
            )
        window[inside, i] = 1.0
        weights = _weights(None if spend is None else spend[inside, idx[i]], int(inside.sum()))
        delta[inside, i] = row.delta_spend * weights / spend_scale[idx[i]]
    return {
        "lift_channel": idx,
        "lift_delta": delta,
        "lift_window": window,
        "lift_obs": lifts["lift"].to_numpy(float) / target_scale,
        "lift_se": lifts["lift_se"].to_numpy(float) / target_scale,
    }
