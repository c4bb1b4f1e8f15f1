"""``trueroi clv ...``: fit buy-till-you-die models and predict customer lifetime value from a CSV file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from trueroi.cli.common import FormatOpt, OutputFormat, print_csv, print_json, print_table
from trueroi.errors import ConvergenceError, DataValidationError, UsageError

DataArg = Annotated[Path, typer.Argument(help="CSV of transactions (or of an RFM summary with --summary).")]
SummaryOpt = Annotated[
    bool, typer.Option("--summary", help="DATA holds frequency,recency,T[,monetary_value].")
]
CustomerOpt = Annotated[
    str | None, typer.Option("--customer", help="Customer id column (default customer_id).")
]
DateOpt = Annotated[str, typer.Option("--date", help="Transaction date column.")]
AmountOpt = Annotated[str | None, typer.Option("--amount", help="Transaction value column (enables spend).")]
ModelOpt = Annotated[str, typer.Option("--model", help="bgnbd, pareto or mbgnbd.")]
CalEndOpt = Annotated[str | None, typer.Option("--calibration-end", help="Ignore transactions after DATE.")]
UnitOpt = Annotated[str, typer.Option("--unit", help="Time unit of the model: W (weeks) or D (days).")]


def _read(
    path: Path,
    summary: bool,
    customer: str | None,
    date: str,
    amount: str | None,
    calibration_end: str | None,
    unit: str,
):
    """The RFM summary (DataFrame with frequency, recency, T[, monetary_value]) from the CLI inputs."""
    import pandas as pd

    from trueroi.clv.data import rfm_summary, unit_days

    unit_days(unit)
    if not path.exists():
        raise UsageError(f"{path} does not exist; pass a CSV of transactions or of an RFM summary")
    try:
        frame = pd.read_csv(path, dtype={customer or "customer_id": str})  # ids keep leading zeros
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"cannot be read as CSV: {exc}", file=str(path)) from exc
    if summary:
        missing = [c for c in ("frequency", "recency", "T") if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"missing column(s) {', '.join(missing)}",
                file=str(path),
                expected="columns frequency,recency,T (and optionally monetary_value)",
            )
        for col in [c for c in ("frequency", "recency", "T", "monetary_value") if c in frame.columns]:
            values = pd.to_numeric(frame[col], errors="coerce")
            if values.isna().any():
                row = int(values.isna().to_numpy().argmax())
                raise DataValidationError(
                    "is not a number", file=str(path), row=row + 1, column=col, value=frame[col].iloc[row]
                )
            frame[col] = values
        key = customer or next(
            (c for c in frame.columns if c not in ("frequency", "recency", "T", "monetary_value")), None
        )
        return frame.set_index(key) if key else frame
    try:
        return rfm_summary(
            frame,
            customer_col=customer or "customer_id",
            date_col=date,
            amount_col=amount,
            observation_end=calibration_end,
            unit=unit,
        )
    except DataValidationError as exc:
        raise DataValidationError(
            exc.reason, file=str(path), row=exc.row, column=exc.column, value=exc.value, expected=exc.expected
        ) from exc


def _fit(summary, model_name: str):
    from trueroi.clv import GammaGammaFitter, get_model
    from trueroi.clv.likelihoods import RFMData

    model = get_model(model_name)
    RFMData.from_arrays(summary["frequency"], summary["recency"], summary["T"])  # validates with rows
    model.fit(summary["frequency"], summary["recency"], summary["T"])
    spend = None
    if (
        "monetary_value" in summary.columns
        and ((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum() >= 2
    ):
        try:
            spend = GammaGammaFitter().fit(summary["frequency"], summary["monetary_value"])
        except ConvergenceError:
            spend = None
    return model, spend


def fit(
    data: DataArg,
    summary: SummaryOpt = False,
    customer: CustomerOpt = None,
    date: DateOpt = "date",
    amount: AmountOpt = None,
    model: ModelOpt = "bgnbd",
    calibration_end: CalEndOpt = None,
    unit: UnitOpt = "W",
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Fit a transaction model (and Gamma-Gamma spend when values are given) by maximum likelihood."""
    table = _read(data, summary, customer, date, amount, calibration_end, unit)
    fitted, spend = _fit(table, model)
    payload: dict[str, Any] = {
        "model": model,
        "params": fitted.params_,
        "log_likelihood": fitted.log_likelihood_,
        "gamma_gamma": None if spend is None else {k: spend.params_[k] for k in ("p", "q", "v")},
        "standard_errors": fitted.standard_errors_,
        "gamma_gamma_standard_errors": None if spend is None else spend.standard_errors_,
        "reduced_params": getattr(fitted, "reduced_params_", None),
        "diagnostics": fitted.diagnostics_,
        "warnings": fitted.warnings_,
    }
    for warning in fitted.warnings_:
        typer.echo(f"warning: {warning}", err=True)
    if fmt == OutputFormat.json:
        print_json(payload)
        return
    rows = [
        {"model": model, "parameter": k, "estimate": v, "std_error": fitted.standard_errors_[k]}
        for k, v in fitted.params_.items()
    ]
    reduced = getattr(fitted, "reduced_params_", {})
    rows += [
        {"model": f"{model} (limit)", "parameter": k, "estimate": v, "std_error": se}
        for (k, v), se in zip(reduced.items(), fitted.reduced_standard_errors_.values(), strict=True)
        if k in ("lambda", "p")
    ]
    if spend is not None:
        rows += [
            {"model": "gamma_gamma", "parameter": k, "estimate": v, "std_error": spend.standard_errors_[k]}
            for k, v in spend.params_.items()
        ]
    if fmt == OutputFormat.csv:
        print_csv(rows)
        return
    print_table(
        rows,
        [
            ("model", "Model", "text"),
            ("parameter", "Parameter", "text"),
            ("estimate", "Estimate", "number"),
            ("std_error", "Std. error", "number"),
        ],
        title=f"{len(table):,} customers",
        caption=f"log-likelihood {fitted.log_likelihood_:,.1f}",
    )


def predict(
    data: DataArg,
    summary: SummaryOpt = False,
    customer: CustomerOpt = None,
    date: DateOpt = "date",
    amount: AmountOpt = None,
    model: ModelOpt = "bgnbd",
    calibration_end: CalEndOpt = None,
    unit: UnitOpt = "W",
    horizon: Annotated[
        float, typer.Option("--horizon", help="Horizon of expected purchases, in --unit.")
    ] = 52.0,
    months: Annotated[int, typer.Option("--months", help="CLV horizon in months.")] = 12,
    discount_rate: Annotated[float, typer.Option("--discount-rate", help="Monthly discount rate.")] = 0.01,
    margin: Annotated[float, typer.Option("--margin", help="Contribution-margin share of spend.")] = 1.0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the CSV here.")] = None,
    interval: Annotated[
        float | None,
        typer.Option("--interval", help="Add LEVEL intervals (e.g. 0.9) from parameter uncertainty."),
    ] = None,
    draws: Annotated[int, typer.Option("--draws", help="Parameter draws for the intervals.")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the parameter draws.")] = 0,
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            help="Totals with intervals per group instead of customers: a column (its value on the "
            "customer's first transaction) or 'cohort' (month of the first purchase).",
        ),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Per-customer predictions: probability alive, expected purchases, expected spend and CLV."""
    from trueroi.clv.data import unit_days

    if horizon <= 0 or months <= 0 or discount_rate < 0 or margin < 0:
        raise UsageError("--horizon and --months must be positive, --discount-rate and --margin non-negative")
    table = _read(data, summary, customer, date, amount, calibration_end, unit)
    fitted, spend = _fit(table, model)
    for warning in fitted.warnings_:
        typer.echo(f"warning: {warning}", err=True)
    f, r, age = (table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    mv = table["monetary_value"].to_numpy(dtype=float) if spend is not None else None
    value_kw = {
        "months": months,
        "discount_rate": discount_rate,
        "margin": margin,
        "time_unit_days": unit_days(unit),
    }

    def purchases(models, rows):
        return models[0].predict_purchases(horizon, f[rows], r[rows], age[rows])

    def clv(models, rows):
        per_purchase = models[1].expected_spend(f[rows], mv[rows])
        return models[0].customer_lifetime_value(f[rows], r[rows], age[rows], per_purchase, **value_kw)

    if group_by is not None:
        groups = _groups(data, summary, table, group_by, customer, date, calibration_end)
        _print_groups(
            purchases,
            clv if spend is not None else None,
            (fitted, spend),
            groups,
            interval or 0.9,
            draws,
            seed,
            fmt,
        )
        return
    out = table[["frequency", "recency", "T"]].copy()
    out["p_alive"] = fitted.probability_alive(f, r, age)
    out["expected_purchases"] = purchases((fitted,), slice(None))
    if interval is not None:
        _add_interval(out, "expected_purchases", purchases, (fitted,), interval, draws, seed)
    if spend is not None:
        out["expected_spend"] = spend.expected_spend(f, mv)
        out["clv"] = clv((fitted, spend), slice(None))
        if interval is not None:
            _add_interval(out, "clv", clv, (fitted, spend), interval, draws, seed)
    out = out.reset_index().rename(columns={out.index.name or "index": "customer_id"})
    if output is not None:
        _write_atomic(out, output)
        typer.echo(f"wrote {len(out):,} customers to {output}", err=True)
        return
    rows = out.to_dict("records")
    if fmt == OutputFormat.json:
        print_json(rows)
    elif fmt == OutputFormat.csv:
        print_csv(rows)
    else:
        rows = [{**row, "customer_id": str(row["customer_id"])} for row in rows[:50]]
        cols = [
            ("customer_id", "Customer", "text"),
            ("frequency", "Frequency", "count"),
            ("p_alive", "P(alive)", "percent"),
            ("expected_purchases", "Purchases", "ratio"),
        ]
        if spend is not None:
            cols += [("expected_spend", "Spend", "money"), ("clv", "CLV", "money")]
        print_table(rows, cols, caption=f"first 50 of {len(out):,} customers; use --output for all")


def _add_interval(out, column: str, fn, models, level: float, draws: int, seed: int) -> None:
    from trueroi.clv.uncertainty import intervals

    per_customer, _ = intervals(fn, models, len(out), level=level, n_draws=draws, seed=seed)
    out[f"{column}_lower"] = per_customer["lower"].to_numpy()
    out[f"{column}_upper"] = per_customer["upper"].to_numpy()


def _groups(data: Path, summary: bool, table, group_by: str, customer, date: str, calibration_end):
    """The group of every customer of ``table``: a summary column, or from the transaction file the value
    of ``group_by`` on the customer's first transaction ('cohort': the month of the first purchase)."""
    import pandas as pd

    if summary:
        if group_by not in table.columns:
            raise UsageError(
                f"--group-by {group_by}: no such column in {data}; columns: {', '.join(table.columns)}"
            )
        return table[group_by].astype(str).to_numpy()
    key = customer or "customer_id"
    frame = pd.read_csv(data, dtype={key: str})
    if group_by != "cohort" and group_by not in frame.columns:
        raise UsageError(f"--group-by {group_by}: no such column in {data}; use a column or 'cohort'")
    frame["_day"] = pd.to_datetime(frame[date], errors="coerce", format="mixed")
    if calibration_end is not None:
        frame = frame[frame["_day"] <= pd.Timestamp(calibration_end) + pd.Timedelta(days=1)]
    first = frame.sort_values("_day", kind="stable").drop_duplicates(key).set_index(key)
    labels = first["_day"].dt.strftime("%Y-%m") if group_by == "cohort" else first[group_by].astype(str)
    return labels.reindex(table.index.astype(str)).fillna("(unknown)").to_numpy()


def _print_groups(purchases, clv, models, groups, level: float, draws: int, seed: int, fmt) -> None:
    """Totals per group with intervals (expected purchases, and CLV when spend is modelled)."""
    from trueroi.clv.uncertainty import intervals

    n = len(groups)
    _, pg = intervals(purchases, models[:1], n, level=level, n_draws=draws, seed=seed, groups=groups)
    out = pg.rename(
        columns={
            "estimate": "expected_purchases",
            "lower": "expected_purchases_lower",
            "upper": "expected_purchases_upper",
        }
    )
    if clv is not None:
        _, cg = intervals(clv, models, n, level=level, n_draws=draws, seed=seed, groups=groups)
        out["clv"], out["clv_lower"], out["clv_upper"] = cg["estimate"], cg["lower"], cg["upper"]
    rows = out.to_dict("records")
    if fmt == OutputFormat.json:
        print_json({"interval": level, "draws": draws, "groups": rows})
    elif fmt == OutputFormat.csv:
        print_csv(rows)
    else:
        cols = [("group", "Group", "text"), ("customers", "Customers", "count")]
        cols += [(c, c.replace("_", " ").capitalize(), "ratio") for c in out.columns[2:]]
        print_table(
            rows, cols, caption=f"totals per group; {level:.0%} intervals from {draws} parameter draws"
        )


def holdout(
    data: DataArg,
    calibration_end: Annotated[
        str, typer.Option("--calibration-end", help="Last day of the calibration period.")
    ],
    observation_end: Annotated[
        str | None, typer.Option("--observation-end", help="Last day of the holdout (default: last date).")
    ] = None,
    customer: CustomerOpt = None,
    date: DateOpt = "date",
    model: ModelOpt = "bgnbd",
    unit: UnitOpt = "W",
    over_time: Annotated[
        bool,
        typer.Option("--over-time", help="Cumulative repeat purchases per period, actual against predicted."),
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Fit on the calibration period and compare predicted with actual holdout purchases by frequency
    (or, with --over-time, cumulative repeat purchases over calibration and holdout, FHL 2005a fig. 2)."""
    import pandas as pd

    from trueroi.clv import get_model
    from trueroi.clv.data import calibration_holdout, holdout_check, tracking

    if not data.exists():
        raise UsageError(f"{data} does not exist; pass a CSV of transactions")
    frame = pd.read_csv(data, dtype={customer or "customer_id": str})
    try:
        split = calibration_holdout(
            frame,
            calibration_end,
            observation_end=observation_end,
            customer_col=customer or "customer_id",
            date_col=date,
            unit=unit,
        )
    except DataValidationError as exc:
        raise DataValidationError(
            exc.reason, file=str(data), row=exc.row, column=exc.column, value=exc.value, expected=exc.expected
        ) from exc
    fitted = get_model(model).fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    for warning in fitted.warnings_:
        typer.echo(f"warning: {warning}", err=True)
    if over_time:
        curve = tracking(
            fitted,
            frame,
            customer_col=customer or "customer_id",
            date_col=date,
            calibration_end=calibration_end,
            observation_end=observation_end,
            unit=unit,
        ).to_dict("records")
        if fmt == OutputFormat.json:
            print_json({"model": model, "params": fitted.params_, "over_time": curve})
        elif fmt == OutputFormat.csv:
            print_csv(curve)
        else:
            cols = [("period_end", "Period end", "text"), ("actual", "Actual", "ratio")]
            print_table(
                curve,
                [*cols, ("predicted", "Predicted", "ratio")],
                title=f"{model}: cumulative repeat purchases",
            )
        return
    rows = holdout_check(fitted, split).to_dict("records")
    if fmt == OutputFormat.json:
        print_json({"model": model, "params": fitted.params_, "groups": rows})
    elif fmt == OutputFormat.csv:
        print_csv(rows)
    else:
        cols = [
            ("frequency_cal", "Calibration purchases", "text"),
            ("customers", "Customers", "count"),
            ("actual", "Actual holdout", "ratio"),
            ("predicted", "Predicted holdout", "ratio"),
        ]
        print_table(rows, cols, title=f"{model}: holdout purchases per customer")


def _write_atomic(frame, path: Path) -> None:
    """Write a CSV to a temporary file beside ``path`` and rename it, so nothing half-written remains."""
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".tmp")
    os.close(handle)
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def register(app: typer.Typer) -> None:
    from trueroi.cli.common import group

    grp = group("clv", "Customer lifetime value: BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma.")
    grp.command("fit")(fit)
    grp.command("predict")(predict)
    grp.command("holdout")(holdout)
