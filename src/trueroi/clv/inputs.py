"""The customers a CLV analysis starts from: a transaction log or an RFM summary, from a file or a DataFrame.

:func:`load_customers` reads a CSV file once (customer ids as text, so leading zeros stay), checks it and
turns it into a :class:`CustomerTable`: the RFM summary the models take and, for a transaction log, the
prepared log itself, from which groups of customers (their first transaction's value of a column, or their
cohort) are taken without reading the file again. Errors name the file, row and column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trueroi.clv.data import prepare_transactions, rfm_summary, unit_days
from trueroi.errors import DataValidationError, UsageError
from trueroi.io import read_csv

RFM_COLUMNS = ("frequency", "recency", "T")
SUMMARY_COLUMNS = (*RFM_COLUMNS, "monetary_value")
COHORT = "cohort"
UNKNOWN_GROUP = "(unknown)"
# Shopify's order export: one row per line item; only an order's first row carries the date and totals
SHOPIFY_ORDER = "Name"
SHOPIFY_LINE_ITEM = ("Lineitem name", "Lineitem quantity")

DataSource = str | os.PathLike[str] | pd.DataFrame


@dataclass
class CustomerTable:
    """Customers ready for the models.

    Attributes
    ----------
    summary
        Index customer id; ``frequency, recency, T`` (model time units), ``monetary_value`` when values are
        known, and for a summary file its other columns.
    transactions
        The prepared transaction log (one row per transaction, dates parsed), None for a summary.
    source
        The file name (None for a DataFrame), for messages.
    customer_col, date_col
        Column names of the log.
    calibration_end
        Last day of the log that counts (None: its last day).
    unit
        Time unit of ``frequency``/``recency``/``T``: ``"W"`` weeks or ``"D"`` days.
    """

    summary: pd.DataFrame
    transactions: pd.DataFrame | None = None
    source: str | None = None
    customer_col: str = "customer_id"
    date_col: str = "date"
    calibration_end: str | None = None
    unit: str = "W"

    def groups(self, by: str) -> np.ndarray:
        """The group label of every customer of :attr:`summary`, in its order.

        ``by`` is a column: of a summary, its value; of a transaction log, its value on the customer's
        first transaction. ``"cohort"`` (logs only) is the month of the first purchase (``YYYY-MM``).
        Customers without a label get ``"(unknown)"``.
        """
        where = self.source or "the data"
        if self.transactions is None:
            if by not in self.summary.columns:
                raise UsageError(
                    f"no column {by!r} to group by in {where}; columns: {', '.join(self.summary.columns)}"
                )
            return self.summary[by].astype(str).to_numpy()
        log = self.transactions
        if by != COHORT and by not in log.columns:
            raise UsageError(f"no column {by!r} to group by in {where}; use a column or 'cohort'")
        if self.calibration_end is not None:
            log = log[log[self.date_col].dt.floor("D") <= pd.Timestamp(self.calibration_end).floor("D")]
        first = log.sort_values(self.date_col, kind="stable").drop_duplicates(self.customer_col)
        first = first.set_index(first[self.customer_col].astype(str))
        labels = first[self.date_col].dt.strftime("%Y-%m") if by == COHORT else first[by].astype(str)
        return labels.reindex(self.summary.index.astype(str)).fillna(UNKNOWN_GROUP).to_numpy()


def load_customers(
    data: DataSource,
    *,
    summary: bool = False,
    customer: str | None = None,
    date: str = "date",
    amount: str | None = None,
    calibration_end: str | None = None,
    unit: str = "W",
    order: str | None = None,
) -> CustomerTable:
    """Read and check a transaction log or an RFM summary (CSV file or DataFrame).

    Parameters
    ----------
    data
        A CSV file or a DataFrame: one row per transaction (``customer``, ``date`` and optionally
        ``amount``), or with ``summary`` one row per customer with ``frequency, recency, T`` (in ``unit``)
        and optionally ``monetary_value``.
    customer
        Customer id column (default ``customer_id``; for a summary, default its first other column).
    date, amount
        Transaction date and value columns of a log.
    calibration_end
        Transactions after this day are ignored; it is the end of the observation period.
    unit
        Model time unit, ``"W"`` (weeks) or ``"D"`` (days).
    order
        Order id column of a log with one row per line item (see
        :func:`~trueroi.clv.data.prepare_transactions`); default ``Name`` for a Shopify order export.

    Raises
    ------
    DataValidationError
        Naming the file, row and column of what is wrong.
    """
    unit_days(unit)
    source = None if isinstance(data, pd.DataFrame) else str(data)
    key = customer or "customer_id"
    expected = "a CSV of transactions" + (" or of an RFM summary" if summary else "")
    frame = data if source is None else read_csv(data, dtype={key: str}, expected=expected)
    try:
        if summary:
            return CustomerTable(_summary(frame, customer), source=source, customer_col=key, unit=unit)
        log = prepare_transactions(
            frame,
            customer_col=key,
            date_col=date,
            amount_col=amount,
            order_col=order or _shopify_order_column(frame),
        )
        rfm = rfm_summary(
            log,
            customer_col=key,
            date_col=date,
            amount_col=amount,
            observation_end=calibration_end,
            unit=unit,
        )
    except DataValidationError as exc:
        raise in_file(exc, source) from exc
    return CustomerTable(rfm, log, source, key, date, calibration_end, unit)


def read_transactions(
    data: DataSource, *, customer: str | None = None, date: str = "date", order: str | None = None
) -> tuple[pd.DataFrame, str | None]:
    """A transaction log (CSV file or DataFrame) prepared for the models, and its file name (or None)."""
    source = None if isinstance(data, pd.DataFrame) else str(data)
    key = customer or "customer_id"
    frame = data if source is None else read_csv(data, dtype={key: str}, expected="a CSV of transactions")
    try:
        log = prepare_transactions(
            frame, customer_col=key, date_col=date, order_col=order or _shopify_order_column(frame)
        )
    except DataValidationError as exc:
        raise in_file(exc, source) from exc
    return log, source


def in_file(exc: DataValidationError, source: str | None) -> DataValidationError:
    """``exc`` with the file named (unchanged when there is no file or it names one already)."""
    if source is None or exc.file:
        return exc
    return DataValidationError(
        exc.reason, file=source, row=exc.row, column=exc.column, value=exc.value, expected=exc.expected
    )


def _shopify_order_column(frame: pd.DataFrame) -> str | None:
    """``Name`` when ``frame`` is a Shopify order export (one row per line item), else None."""
    columns = set(frame.columns)
    return SHOPIFY_ORDER if SHOPIFY_ORDER in columns and columns & set(SHOPIFY_LINE_ITEM) else None


def _summary(frame: pd.DataFrame, customer: str | None) -> pd.DataFrame:
    """An RFM summary with numeric columns, indexed by the customer column."""
    missing = [c for c in RFM_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"missing column(s) {', '.join(missing)}",
            expected="columns frequency,recency,T (and optionally monetary_value)",
        )
    frame = frame.copy()
    for col in [c for c in SUMMARY_COLUMNS if c in frame.columns]:
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.isna().any():
            row = int(values.isna().to_numpy().argmax())
            raise DataValidationError("is not a number", row=row + 1, column=col, value=frame[col].iloc[row])
        frame[col] = values
    if customer is not None and customer not in frame.columns:
        raise DataValidationError(
            f"missing column {customer}", column=customer, expected="the customer id column"
        )
    key = customer or next((c for c in frame.columns if c not in SUMMARY_COLUMNS), None)
    return frame.set_index(key) if key else frame
