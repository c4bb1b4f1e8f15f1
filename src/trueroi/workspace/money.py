"""Money in the base currency: every amount is converted with ``fx_rates`` before it is summed.

A missing rate is never taken as 1.0: :func:`to_base` marks such rows (``_fx_missing``), :func:`check_rates`
raises one error naming the currency and days, and :func:`in_base` does both.
"""

from __future__ import annotations

import ibis

from trueroi.errors import DataValidationError


def fx_rates(ws) -> ibis.Table:  # noqa: ANN001 - a Workspace
    """Daily rates (base units per unit of currency), one row per day and currency."""
    fx = ws.table("fx_rates")
    return fx.group_by([fx.date_day.name("fx_day"), fx.currency.upper().name("fx_currency")]).aggregate(
        fx_rate=fx.rate_to_base.mean()
    )


def to_base(ws, table: ibis.Table, money: list[str], day: str = "date_day") -> ibis.Table:  # noqa: ANN001
    """Convert the ``money`` columns of ``table`` to the base currency with the rate of each row's day.

    Rows already in the base currency, or without a currency, need no rate. A missing rate is never taken
    as 1.0: call :func:`check_rates` to fail loudly, or read the ``_fx_missing`` column this adds.
    """
    base = ws.config.base_currency
    fx = fx_rates(ws)
    cur = table.currency.upper()
    joined = table.left_join(fx, [table[day] == fx.fx_day, cur == fx.fx_currency])
    rate = ibis.cases((joined.currency.upper() == base, ibis.literal(1.0)), else_=joined.fx_rate)
    rate = ibis.cases((joined.currency.isnull(), ibis.literal(1.0)), else_=rate)
    converted = {col: (joined[col] * rate).name(col) for col in money}
    keep = [c for c in table.columns if c not in money]
    return joined.select(*keep, **converted, _fx_missing=rate.isnull())


def check_rates(ws, table: ibis.Table, what: str, day: str = "date_day") -> None:  # noqa: ANN001
    """Raise when rows of ``table`` in a foreign currency have no rate for their day.

    Raises
    ------
    DataValidationError
        Naming how many rows lack a rate, and the first currency and days affected.
    """
    base = ws.config.base_currency
    fx = fx_rates(ws)
    foreign = table.filter(table.currency.notnull() & (table.currency.upper() != base))
    missing = foreign.anti_join(fx, [foreign[day] == fx.fx_day, foreign.currency.upper() == fx.fx_currency])
    sample = (
        missing.group_by([missing.currency.upper().name("currency")])
        .aggregate(first=missing[day].min(), last=missing[day].max(), n=missing.count())
        .limit(5)
        .execute()
    )
    if not sample.empty:
        row = sample.iloc[0]
        raise DataValidationError(
            f"{what}: {int(sample['n'].sum())} row(s) in a foreign currency have no exchange rate, e.g. "
            f"{row['currency']} from {row['first']} to {row['last']}; load fx_rates for those days "
            f"(import an fx-rates file); a missing rate is never taken as 1.0",
            expected=f"a rate to {base} per day and currency",
        )


def in_base(ws, table: ibis.Table, money: list[str], what: str, day: str = "date_day") -> ibis.Table:  # noqa: ANN001
    """``table`` with its ``money`` columns in the base currency; raises (see :func:`check_rates`) when a
    rate is missing."""
    check_rates(ws, table, what, day)
    return to_base(ws, table, money, day).drop("_fx_missing")
