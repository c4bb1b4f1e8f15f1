"""Lift tests as extra likelihood terms: reading and checking them, and aligning them with the fit data.

A lift file (written by ``trueroi experiment``) is a CSV with columns
``channel,start,end,delta_spend,lift,lift_se`` and optionally ``kpi,experiment_id``:

- ``channel``: the spend column name in the mix model,
- ``start``, ``end``: ISO dates of the test period (inclusive),
- ``delta_spend``: total extra spend in the period caused by the test, base currency (negative for a
  holdout that removed spend),
- ``lift``: measured incremental KPI over the period caused by that spend change, ``lift_se`` its
  standard error.

In the model, the spend change is spread evenly over the periods whose start date falls in the test window;
the modelled lift is the change of the channel's contribution over those periods (as in Meridian's and
PyMC-Marketing's lift-test calibration).
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


def lift_arrays(
    lifts: pd.DataFrame,
    dates: pd.DatetimeIndex,
    n_train: int,
    channels: list[str],
    spend_scale: np.ndarray,
    target_scale: float,
) -> dict[str, Any]:
    """Arrays for the model's lift likelihood, on the model's scales.

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
        delta[inside, i] = row.delta_spend / inside.sum() / spend_scale[idx[i]]
    return {
        "lift_channel": idx,
        "lift_delta": delta,
        "lift_window": window,
        "lift_obs": lifts["lift"].to_numpy(float) / target_scale,
        "lift_se": lifts["lift_se"].to_numpy(float) / target_scale,
    }
