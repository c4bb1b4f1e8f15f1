"""Exchange rates -> ``fx_rates``: the canonical long file and the ECB's wide history file.

* Long: ``date_day, currency, rate_to_base`` (base units per unit of the currency), CSV or Parquet.
* Wide, as the ECB publishes its euro reference rates (``eurofxref-hist.csv`` and the daily
  ``eurofxref.csv``): ``Date,USD,JPY,BGN,...`` with one column per currency quoting units of that currency per
  euro, ``N/A`` where there is no rate and an empty column after the trailing comma. For a EUR workspace
  ``rate_to_base`` is ``1 / rate``; for another base currency B it is ``rate_B / rate``, and EUR gets
  ``rate_B``. Columns that are no current ISO 4217 code (CYP, EEK, ROL, TRL, ...: currencies the euro
  replaced) are skipped with a warning.

Rates are published on business days, but orders come on weekends too, and every foreign amount needs the
rate of its day. So the last known rate is carried forward at load time over gaps of at most
:data:`CARRY_DAYS` days (a weekend, or Good Friday to Easter Monday); the ECB file, which lists business days
only, also carries its last rate up to that many days on, but not past today + ``future_days``. A Saturday
order in USD finds Friday's rate. Days before the import window's ``earliest`` day are dropped with a warning
(no row that needs them can load).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest.base import ImportContext, missing_columns
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.numbers import POINT, parse_numbers
from trueroi.ingest.parse import DateWindow, event_window, parse_currency, parse_date, require_values
from trueroi.ingest.read import iter_rows, norm_header, sniff

CARRY_DAYS = 4
LONG = ("date_day", "currency", "rate_to_base")
BATCH = 200_000


def is_wide_header(header: Iterable[str], known: frozenset[str]) -> bool:
    """Whether a header is the ECB's wide layout: ``Date`` then three or more currency codes."""
    names = [h.strip() for h in header]
    codes = [h for h in names[1:] if len(h) == 3 and h.isalpha() and h.isupper()]
    return bool(names) and norm_header(names[0]) == "date" and len([c for c in codes if c in known]) >= 3


def _plain_window(ctx: ImportContext) -> DateWindow:
    """Any day up to the future limit: days before ``earliest`` are dropped, not refused."""
    return DateWindow(date(1, 1, 1), event_window(ctx.config, ctx.today).latest)


def read_long(chunks: Iterator[tuple[int, pa.Table]], ctx: ImportContext) -> Iterator[pa.Table]:
    """``date_day, currency, rate_to_base`` rows of a long file, checked chunk by chunk."""
    keys = UniqueKeys(["date_day", "currency"])
    for i, (off, raw) in enumerate(chunks):
        if i == 0:
            missing_columns(raw.column_names, LONG, ctx.file, "fx-rates")
        p = ctx.problems
        cols = {
            "date_day": parse_date(raw["date_day"], p, off, "date_day", window=_plain_window(ctx)),
            "currency": parse_currency(raw["currency"], p, off, "currency"),
            "rate_to_base": parse_numbers({"rate_to_base": raw["rate_to_base"]}, p, off)["rate_to_base"],
        }
        for name in LONG:
            require_values(cols[name], p, off, name)
        zero = pc.fill_null(pc.less_equal(cols["rate_to_base"], 0), False)
        p.add_mask(zero, cols["rate_to_base"], off, "rate_to_base", "is not a positive rate")
        keys.check(cols, p, off, raw.num_rows)
        p.check()
        if ctx.on_rows:
            ctx.on_rows(raw.num_rows)
        yield pa.table(cols)


def read_wide(path: Path, ctx: ImportContext, known: frozenset[str]) -> Iterator[pa.Table]:
    """The ECB's wide file as long rows of units per euro (``rate_per_eur``), chunk by chunk."""
    src = sniff(path)
    header = [h.strip() for h in src.header]
    codes = [h for h in header[1:] if h in known]
    skipped = [h for h in header[1:] if h and h not in known]
    if skipped:
        ctx.problems.warn(f"skipped columns that are no current currency code: {', '.join(skipped)}")
    keys = UniqueKeys([header[0]])
    for off, raw in iter_rows(src):
        p = ctx.problems
        days = parse_date(raw[raw.column_names[0]], p, off, header[0], window=_plain_window(ctx))
        require_values(days, p, off, header[0])
        keys.check({header[0]: days}, p, off, raw.num_rows)
        rates = parse_numbers({c: raw[c] for c in codes}, p, off, decimal=POINT)
        for code, values in rates.items():
            zero = pc.fill_null(pc.less_equal(values, 0), False)
            p.add_mask(zero, values, off, code, "is not a positive rate")
        p.check()
        if ctx.on_rows:
            ctx.on_rows(raw.num_rows)
        n = raw.num_rows
        yield pa.table(
            {
                "date_day": pa.concat_arrays([days] * len(codes)) if codes else pa.array([], pa.date32()),
                "currency": pa.array(np.repeat(codes, n), pa.string()),
                "rate_per_eur": pa.concat_arrays(list(rates.values()))
                if codes
                else pa.array([], pa.float64()),
            }
        )


def _per_eur_to_base(rows: pd.DataFrame, base: str, file: str) -> pd.DataFrame:
    """Units per euro -> base units per unit of each currency (EUR included for a non-EUR base)."""
    rows = rows.dropna(subset=["rate_per_eur"])
    if base == "EUR":
        return rows.assign(rate_to_base=1.0 / rows["rate_per_eur"])[list(LONG)]
    per_base = rows[rows["currency"] == base].set_index("date_day")["rate_per_eur"]
    if per_base.empty:
        raise DataValidationError(
            f"quotes no euro rate for the workspace's base currency {base}",
            file=file,
            expected=f"a column {base} in the ECB file, or rates to {base} in the long layout",
        )
    rows = rows[rows["date_day"].isin(per_base.index) & (rows["currency"] != base)]
    out = rows.assign(rate_to_base=rows["date_day"].map(per_base) / rows["rate_per_eur"])[list(LONG)]
    eur = pd.DataFrame({"date_day": per_base.index, "currency": "EUR", "rate_to_base": per_base.to_numpy()})
    return pd.concat([out, eur], ignore_index=True)


def carry_forward(rates: pd.DataFrame, *, until: date | None = None) -> pd.DataFrame:
    """Fill each currency's gaps of at most :data:`CARRY_DAYS` days with the last known rate, and, with
    ``until``, the days after its last rate up to ``CARRY_DAYS`` later but not past ``until``."""
    parts = []
    for currency, group in rates.groupby("currency", sort=True):
        days = pd.to_datetime(group["date_day"])
        series = pd.Series(group["rate_to_base"].to_numpy(), index=days).sort_index()
        end = series.index.max()
        if until is not None:
            end = max(end, min(end + pd.Timedelta(days=CARRY_DAYS), pd.Timestamp(until)))
        full = series.reindex(pd.date_range(series.index.min(), end, freq="D"))
        filled = full.ffill(limit=CARRY_DAYS)
        parts.append(
            pd.DataFrame(
                {"date_day": filled.index.date, "currency": currency, "rate_to_base": filled.to_numpy()}
            )
        )
    if not parts:
        return rates.iloc[0:0]
    out = pd.concat(parts, ignore_index=True)
    return out.dropna(subset=["rate_to_base"])


def finish(table: pd.DataFrame, ctx: ImportContext, *, wide: bool) -> Iterator[pa.Table]:
    """Drop days before the window, carry rates forward, and yield the rows in batches."""
    earliest = ctx.config.import_window.earliest
    old = table["date_day"] < earliest
    if old.any():
        ctx.problems.warn(
            f"skipped {int(old.sum()):,} rate(s) before {earliest}, the import window's first day"
        )
        table = table[~old]
    until = event_window(ctx.config, ctx.today).latest if wide else None
    table = carry_forward(table, until=until)
    arrow = pa.Table.from_pandas(table[list(LONG)], preserve_index=False).cast(
        pa.schema([("date_day", pa.date32()), ("currency", pa.string()), ("rate_to_base", pa.float64())])
    )
    for start in range(0, max(arrow.num_rows, 1), BATCH):
        yield arrow.slice(start, BATCH)


def to_frame(tables: Iterable[pa.Table]) -> pd.DataFrame:
    frames = [t.to_pandas(date_as_object=True) for t in tables]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(LONG))


def wide_rates(path: Path, ctx: ImportContext, known: frozenset[str]) -> pd.DataFrame:
    """The ECB file's rates as ``date_day, currency, rate_to_base`` for the workspace's base currency."""
    per_eur = to_frame(read_wide(path, ctx, known))
    return _per_eur_to_base(per_eur, ctx.config.base_currency, ctx.file)
