"""From transactions to the RFM summaries the models take, calibration/holdout splits and holdout checks.

Conventions (those of Fader, Hardie & Lee 2005a and of lifetimes): purchases are counted per calendar day
(several orders on one day are one purchase whose value is their sum); ``frequency`` counts repeat purchase
days (the first is not counted); ``recency`` is the time from the first to the last purchase; ``T`` the time
from the first purchase to the end of the observation period; ``monetary_value`` the mean value of the
repeat purchases (0 without repeat purchases). Times are in ``unit``: ``"W"`` weeks (days / 7) or ``"D"``
days. Timestamps with a UTC offset are converted to UTC before they are cut to days (:func:`parse_dates`);
an order spread over line-item rows counts once (:func:`prepare_transactions`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError, UsageError

UNIT_DAYS = {"D": 1.0, "W": 7.0}


def unit_days(unit: str) -> float:
    """Days per model time unit (``"D"`` or ``"W"``)."""
    try:
        return UNIT_DAYS[unit.upper()]
    except KeyError:
        raise UsageError(f"unknown time unit {unit!r}; expected 'D' (days) or 'W' (weeks)") from None


def parse_dates(values: pd.Series, column: str, *, rows: np.ndarray | None = None) -> pd.Series:
    """Dates or timestamps as naive ``datetime64``; values with a UTC offset are converted to UTC first.

    A column may mix layouts (dates and timestamps) and UTC offsets: a Shopify export of a season that
    spans a daylight-saving change holds ``2025-03-30 10:00:00 +0100`` and ``2025-04-02 09:00:00 +0200`` in
    one column. Values without an offset are kept as written.

    Parameters
    ----------
    values
        The column as read (text, dates or timestamps).
    column
        Its name, for the error message.
    rows
        1-based row number of each value in the user's file (default: position + 1).

    Raises
    ------
    DataValidationError
        Naming the row and column of the first value that is empty or not a date.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = pd.to_datetime(values, errors="coerce", utc=True)
        if parsed.isna().any():  # mixed layouts (dates and timestamps): parse each value on its own
            parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = parsed.isna().to_numpy()
    if bad.any():
        pos = int(np.argmax(bad))
        value = values.iloc[pos]
        empty = pd.isna(value) or not str(value).strip()
        raise DataValidationError(
            "is empty" if empty else "is not a date",
            row=int(rows[pos]) if rows is not None else pos + 1,
            column=column,
            value=None if empty else value,
            expected="a date like 2024-01-31 or a timestamp like 2024-01-31 18:05:00 +0100",
        )
    return parsed


def prepare_transactions(
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    order_col: str | None = None,
) -> pd.DataFrame:
    """A transaction log checked and cleaned: one row per transaction, dates parsed, amounts numeric.

    Parameters
    ----------
    transactions
        One row per transaction (or per line item, with ``order_col``) with ``customer_col``, ``date_col``
        and optionally ``amount_col``; other columns are kept.
    order_col
        Order id column of a log with one row per line item, where only an order's first row carries the
        date and the totals (a Shopify order export: ``Name`` with ``Created at`` and ``Total``). Each
        order keeps its first row that has a date; its other rows are dropped. A row without a date whose
        order has no dated row is an error.

    Returns
    -------
    The rows kept (original index), ``date_col`` as naive ``datetime64`` (UTC where the file gave an offset),
    ``amount_col`` as float.

    Raises
    ------
    DataValidationError
        For a missing column, or naming the row (1-based, as in the file) and column of the first bad value.
    """
    needed = [customer_col, date_col] + [c for c in (amount_col, order_col) if c]
    missing = [c for c in needed if c not in transactions.columns]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)}", expected="columns " + ", ".join(needed)
        )
    rows = np.arange(1, len(transactions) + 1)
    frame = transactions
    if order_col:
        keep = _first_dated_row(transactions, order_col, date_col)
        frame, rows = transactions[keep], rows[keep]
    frame = frame.assign(**{date_col: parse_dates(frame[date_col], date_col, rows=rows)})
    if amount_col:
        amount = pd.to_numeric(frame[amount_col], errors="coerce")
        if amount.isna().any():
            pos = int(np.argmax(amount.isna().to_numpy()))
            raise DataValidationError(
                "is not a number", row=int(rows[pos]), column=amount_col, value=frame[amount_col].iloc[pos]
            )
        frame[amount_col] = amount.astype(float)
    return frame


def _first_dated_row(transactions: pd.DataFrame, order_col: str, date_col: str) -> np.ndarray:
    """Mask of each order's first row with a date, and of the rows without an order id or without a
    dated row in their order (kept, so that the date check names them)."""
    raw = transactions[date_col]
    dated = (raw.notna() & (raw.astype(str).str.strip() != "")).to_numpy()
    order = transactions[order_col]
    has_order = order.notna().to_numpy()
    first_dated = dated & has_order & ~order.where(dated).duplicated(keep="first").to_numpy()
    orders_with_date = set(order[dated & has_order])
    orphan = ~dated & (~has_order | ~order.isin(orders_with_date).to_numpy())
    return first_dated | (dated & ~has_order) | orphan


def _daily(
    transactions: pd.DataFrame, customer_col: str, date_col: str, amount_col: str | None
) -> pd.DataFrame:
    """One row per customer and purchase day with the day's total amount."""
    frame = prepare_transactions(
        transactions, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    out = pd.DataFrame(
        {"customer": frame[customer_col].to_numpy(), "day": frame[date_col].dt.floor("D").to_numpy()}
    )
    out["amount"] = frame[amount_col].to_numpy() if amount_col else 0.0
    return out.groupby(["customer", "day"], sort=True, as_index=False)["amount"].sum()


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    observation_end=None,
    unit: str = "W",
) -> pd.DataFrame:
    """RFM summary per customer from a transaction log.

    Parameters
    ----------
    transactions
        One row per transaction with ``customer_col``, ``date_col`` (date or timestamp) and optionally
        ``amount_col`` (value of the transaction, e.g. revenue or margin).
    observation_end
        End of the observation period (inclusive day); default the last transaction day. Later
        transactions are ignored.
    unit
        ``"W"`` for weeks or ``"D"`` for days.

    Returns
    -------
    DataFrame indexed by customer with ``frequency, recency, T`` (and ``monetary_value`` with an amount).
    """
    days_per_unit = unit_days(unit)
    daily = _daily(transactions, customer_col, date_col, amount_col)
    end = daily["day"].max() if observation_end is None else pd.Timestamp(observation_end).floor("D")
    daily = daily[daily["day"] <= end]
    if daily.empty:
        raise DataValidationError(f"no transactions on or before {end.date()}", column=date_col)
    grouped = daily.groupby("customer", sort=True)
    first, last = grouped["day"].min(), grouped["day"].max()
    count = grouped["day"].size()
    out = pd.DataFrame(
        {
            "frequency": (count - 1).astype(np.int64),
            "recency": (last - first).dt.days / days_per_unit,
            "T": (end - first).dt.days / days_per_unit,
        }
    )
    out.index.name = customer_col
    if amount_col:
        first_amount = daily.drop_duplicates("customer", keep="first").set_index("customer")["amount"]
        repeat_total = grouped["amount"].sum() - first_amount
        out["monetary_value"] = np.where(
            out["frequency"] > 0, repeat_total / out["frequency"].clip(lower=1), 0.0
        )
    return out


def calibration_holdout(
    transactions: pd.DataFrame,
    calibration_end,
    *,
    observation_end=None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    unit: str = "W",
) -> pd.DataFrame:
    """Summaries of a calibration period and of the holdout period after it.

    Customers are those whose first purchase falls in the calibration period (up to ``calibration_end``
    inclusive). Holdout columns count purchase days in ``(calibration_end, observation_end]``.

    Returns
    -------
    DataFrame indexed by customer with ``frequency_cal, recency_cal, T_cal, [monetary_value_cal,]
    frequency_holdout, [monetary_value_holdout,] duration_holdout``.
    """
    days_per_unit = unit_days(unit)
    cal_end = pd.Timestamp(calibration_end).floor("D")
    daily = _daily(transactions, customer_col, date_col, amount_col)
    obs_end = daily["day"].max() if observation_end is None else pd.Timestamp(observation_end).floor("D")
    if obs_end <= cal_end:
        raise UsageError(f"observation end {obs_end.date()} must come after calibration end {cal_end.date()}")
    cal_rows = daily[daily["day"] <= cal_end].rename(columns={"customer": customer_col, "day": date_col})
    cal = rfm_summary(
        cal_rows,
        customer_col=customer_col,
        date_col=date_col,
        amount_col="amount" if amount_col else None,
        observation_end=cal_end,
        unit=unit,
    )
    cal.columns = [f"{c}_cal" for c in cal.columns]
    hold = daily[(daily["day"] > cal_end) & (daily["day"] <= obs_end)].groupby("customer")
    cal["frequency_holdout"] = hold.size().reindex(cal.index, fill_value=0).astype(np.int64)
    if amount_col:
        cal["monetary_value_holdout"] = hold["amount"].mean().reindex(cal.index, fill_value=0.0)
    cal["duration_holdout"] = (obs_end - cal_end).days / days_per_unit
    return cal


def holdout_check(model, summary: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Predicted against actual holdout purchases by calibration frequency (FHL 2005a, figure 4).

    Parameters
    ----------
    model
        A fitted transaction model (``predict_purchases``).
    summary
        Output of :func:`calibration_holdout`.
    max_frequency
        Customers with more calibration purchases are pooled into the last group (``"7+"``).

    Returns
    -------
    DataFrame with ``frequency_cal`` (group label), ``customers``, ``actual`` and ``predicted`` (mean
    holdout purchases per customer).
    """
    predicted = model.predict_purchases(
        summary["duration_holdout"].to_numpy(),
        summary["frequency_cal"].to_numpy(),
        summary["recency_cal"].to_numpy(),
        summary["T_cal"].to_numpy(),
    )
    group = summary["frequency_cal"].clip(upper=max_frequency)
    frame = pd.DataFrame({"group": group, "actual": summary["frequency_holdout"], "predicted": predicted})
    out = (
        frame.groupby("group")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
        .reset_index()
    )
    out["frequency_cal"] = [f"{g}+" if g == max_frequency else str(g) for g in out["group"]]
    return out[["frequency_cal", "customers", "actual", "predicted"]]


def tracking(
    model,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    calibration_end=None,
    observation_end=None,
    unit: str = "W",
) -> pd.DataFrame:
    """Cumulative repeat purchases over time: actual against the model (FHL 2005a, figure 2).

    The expected cumulative repeat purchases at time ``t`` are ``sum_i E[X(t - first_i)]`` over the
    customers whose first purchase came before ``t`` (and, when ``calibration_end`` is given, on or before
    it; later customers are left out of both curves).

    Returns
    -------
    DataFrame with ``period_end`` (date), ``actual`` and ``predicted`` cumulative repeat purchases, one row
    per ``unit`` from the first purchase to ``observation_end``.
    """
    days_per_unit = unit_days(unit)
    daily = _daily(transactions, customer_col, date_col, None)
    obs_end = daily["day"].max() if observation_end is None else pd.Timestamp(observation_end).floor("D")
    daily = daily[daily["day"] <= obs_end]
    first = daily.groupby("customer")["day"].transform("min")
    if calibration_end is not None:
        keep = first <= pd.Timestamp(calibration_end).floor("D")
        daily, first = daily[keep], first[keep]
    start = first.min()
    grid = pd.date_range(start, obs_end, freq=f"{int(days_per_unit)}D")[1:]
    repeat_days = np.sort(daily.loc[daily["day"] > first, "day"].to_numpy())
    actual = np.searchsorted(repeat_days, grid.to_numpy(), side="right")
    cohorts = first[~daily["customer"].duplicated()].value_counts()
    predicted = []
    for end in grid:
        age = (end - cohorts.index).days.to_numpy() / days_per_unit
        pos = age > 0
        predicted.append(float((cohorts.to_numpy()[pos] * model.expected_purchases(age[pos])).sum()))
    return pd.DataFrame({"period_end": grid.date, "actual": actual, "predicted": predicted})
