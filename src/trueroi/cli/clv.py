"""``trueroi clv ...``: fit buy-till-you-die models and predict customer lifetime value from a CSV file.

Each command calls one function of :mod:`trueroi.clv.analysis` and renders its result. The library is
imported inside the commands, as everywhere in the CLI, to keep pandas and scipy off the start-up path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    note,
    print_csv,
    print_json,
    print_table,
    warn,
)

DataArg = Annotated[Path, typer.Argument(help="CSV of transactions (or of an RFM summary with --summary).")]
SummaryOpt = Annotated[
    bool, typer.Option("--summary", help="DATA holds frequency,recency,T[,monetary_value].")
]
CustomerOpt = Annotated[
    str | None, typer.Option("--customer", help="Customer id column (default customer_id).")
]
DateOpt = Annotated[str, typer.Option("--date", help="Transaction date column.")]
AmountOpt = Annotated[str | None, typer.Option("--amount", help="Transaction value column (enables spend).")]
OrderOpt = Annotated[
    str | None,
    typer.Option(
        "--order",
        help="Order id column of a file with one row per line item: each order counts once, on its first "
        "row with a date (default Name for a Shopify order export).",
    ),
]
ModelOpt = Annotated[str, typer.Option("--model", help="bgnbd, pareto or mbgnbd.")]
CalEndOpt = Annotated[str | None, typer.Option("--calibration-end", help="Ignore transactions after DATE.")]
UnitOpt = Annotated[str, typer.Option("--unit", help="Time unit of the model: W (weeks) or D (days).")]


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        warn(warning)


def fit(
    data: DataArg,
    summary: SummaryOpt = False,
    customer: CustomerOpt = None,
    date: DateOpt = "date",
    amount: AmountOpt = None,
    model: ModelOpt = "bgnbd",
    calibration_end: CalEndOpt = None,
    unit: UnitOpt = "W",
    order: OrderOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Fit a transaction model (and Gamma-Gamma spend when values are given) by maximum likelihood."""
    from trueroi.clv import analysis

    result = analysis.fit(
        data,
        summary=summary,
        customer=customer,
        date=date,
        amount=amount,
        model=model,
        calibration_end=calibration_end,
        unit=unit,
        order=order,
    )
    _warn(result.warnings)
    if fmt == OutputFormat.json:
        print_json(result.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(result.rows())
    else:
        print_table(
            result.rows(),
            [
                ("model", "Model", "text"),
                ("parameter", "Parameter", "text"),
                ("estimate", "Estimate", "number"),
                ("std_error", "Std. error", "number"),
            ],
            title=f"{result.n_customers:,} customers",
            caption=f"log-likelihood {result.log_likelihood:,.1f}",
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
    order: OrderOpt = None,
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
    from trueroi.clv import analysis

    result = analysis.predict(
        data,
        summary=summary,
        customer=customer,
        date=date,
        amount=amount,
        model=model,
        calibration_end=calibration_end,
        unit=unit,
        order=order,
        horizon=horizon,
        months=months,
        discount_rate=discount_rate,
        margin=margin,
        interval=interval,
        draws=draws,
        seed=seed,
        group_by=group_by,
    )
    _warn(result.warnings)
    if output is not None:
        result.save_csv(output)
        what = "groups" if result.grouped else "customers"
        note(f"wrote {len(result.table):,} {what} to {output}")
    elif fmt == OutputFormat.json:
        print_json(result.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(result.rows())
    elif result.grouped:
        _print_groups(result)
    else:
        _print_customers(result)


def _print_customers(result) -> None:  # noqa: ANN001 - analysis.PredictResult
    rows = [{**row, "customer_id": str(row["customer_id"])} for row in result.rows()[:50]]
    cols = [
        ("customer_id", "Customer", "text"),
        ("frequency", "Frequency", "count"),
        ("p_alive", "P(alive)", "percent"),
        ("expected_purchases", "Purchases", "ratio"),
    ]
    if result.with_spend:
        cols += [("expected_spend", "Spend", "money"), ("clv", "CLV", "money")]
    n = len(result.table)
    print_table(rows, cols, caption=f"first 50 of {n:,} customers; use --output for all")


def _print_groups(result) -> None:  # noqa: ANN001 - analysis.PredictResult
    cols = [("group", "Group", "text"), ("customers", "Customers", "count")]
    cols += [(c, c.replace("_", " ").capitalize(), "ratio") for c in result.table.columns[2:]]
    print_table(
        result.rows(),
        cols,
        caption=f"totals per group; {result.interval:.0%} intervals from {result.draws} parameter draws",
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
    order: OrderOpt = None,
    over_time: Annotated[
        bool,
        typer.Option("--over-time", help="Cumulative repeat purchases per period, actual against predicted."),
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Fit on the calibration period and compare predicted with actual holdout purchases by frequency
    (or, with --over-time, cumulative repeat purchases over calibration and holdout, FHL 2005a fig. 2)."""
    from trueroi.clv import analysis

    result = analysis.holdout(
        data,
        calibration_end=calibration_end,
        observation_end=observation_end,
        customer=customer,
        date=date,
        model=model,
        unit=unit,
        over_time=over_time,
        order=order,
    )
    _warn(result.warnings)
    if fmt == OutputFormat.json:
        print_json(result.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(result.rows())
    elif over_time:
        cols = [("period_end", "Period end", "text"), ("actual", "Actual", "ratio")]
        print_table(
            result.rows(),
            [*cols, ("predicted", "Predicted", "ratio")],
            title=f"{model}: cumulative repeat purchases",
        )
    else:
        cols = [
            ("frequency_cal", "Calibration purchases", "text"),
            ("customers", "Customers", "count"),
            ("actual", "Actual holdout", "ratio"),
            ("predicted", "Predicted holdout", "ratio"),
        ]
        print_table(result.rows(), cols, title=f"{model}: holdout purchases per customer")


def register(app: typer.Typer) -> None:
    from trueroi.cli.common import group

    grp = group("clv", "Customer lifetime value: BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma.")
    grp.command("fit")(fit)
    grp.command("predict")(predict)
    grp.command("holdout")(holdout)
