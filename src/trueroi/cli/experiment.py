"""``trueroi experiment ...``: read holdout, geo and CRO tests, design geo tests, feed the mix model.

Each command parses its options, calls one function of :mod:`trueroi.experiments.readouts`,
:mod:`trueroi.experiments.planning` or :func:`trueroi.experiments.store.export_lifts`, and renders the
result. The library is imported inside the commands only to keep numpy, pandas, scipy and Ibis off the
start-up path of ``trueroi --help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    group,
    note,
    print_csv,
    print_json,
    print_table,
    warn,
)
from trueroi.errors import UsageError

LevelOpt = Annotated[float, typer.Option("--level", help="Two-sided confidence level of the intervals.")]
SaveOpt = Annotated[
    bool, typer.Option("--save", help="Store the result in the workspace table 'experiments'.")
]
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="Channel tested (needed with --save).")]
NameOpt = Annotated[str | None, typer.Option("--name", help="Experiment name (with --save).")]
DeltaOpt = Annotated[
    float | None,
    typer.Option("--delta-spend", help="Spend change the test caused (with --save; default: --spend)."),
]
INTERVAL_COLUMNS = [
    ("metric", "Metric", "text"),
    ("mean", "Estimate", "number"),
    ("lower", "Lower", "number"),
    ("upper", "Upper", "number"),
]


def _emit(result: Any, fmt: OutputFormat, title: str, warnings: list[str] | None = None) -> None:
    """Warnings on stderr, then the result as JSON, or its interval rows as CSV or a table."""
    for warning in warnings or []:
        warn(warning)
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
    elif fmt is OutputFormat.csv:
        print_csv(result.rows())
    else:
        print_table(result.rows(), INTERVAL_COLUMNS, title=title)


def _saved(experiment_id: str | None) -> None:
    if experiment_id is not None:
        note(f"saved experiment {experiment_id} to the workspace table 'experiments'")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _numbers(text: str, option: str, kind: type, expected: str) -> list[Any]:
    try:
        return [kind(part) for part in _split(text)]
    except ValueError as exc:
        raise UsageError(f"{option} is {text!r}; expected {expected}") from exc


def lift(
    test_users: Annotated[
        int | None, typer.Option("--test-users", help="Users in the exposed group.")
    ] = None,
    test_conversions: Annotated[
        int | None, typer.Option("--test-conversions", help="Conversions in the exposed group.")
    ] = None,
    control_users: Annotated[
        int | None, typer.Option("--control-users", help="Users in the held-out group.")
    ] = None,
    control_conversions: Annotated[
        int | None, typer.Option("--control-conversions", help="Conversions in the held-out group.")
    ] = None,
    test_tag: Annotated[
        str | None, typer.Option("--test-tag", help="Instead of counts: campaign tag of the exposed group.")
    ] = None,
    control_tag: Annotated[
        str | None,
        typer.Option("--control-tag", help="Instead of counts: campaign tag of the control group."),
    ] = None,
    test_revenue: Annotated[
        float | None, typer.Option("--test-revenue", help="Revenue of the exposed group.")
    ] = None,
    control_revenue: Annotated[
        float | None, typer.Option("--control-revenue", help="Revenue of the held-out group.")
    ] = None,
    spend: Annotated[float | None, typer.Option("--spend", help="Media spend on the exposed group.")] = None,
    level: LevelOpt = 0.9,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the revenue bootstrap.")] = 0,
    fmt: FormatOpt = OutputFormat.table,
    save: SaveOpt = False,
    channel: ChannelOpt = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Test start date (for --save or tags).")
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="Test end date (for --save or tags).")] = None,
    kpi: Annotated[
        str, typer.Option("--kpi", help="Lift stored with --save: conversions or revenue.")
    ] = "conversions",
    name: NameOpt = None,
    delta_spend: DeltaOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Read a holdout (conversion-lift) test: lift, incremental conversions, iROAS, cost per increment."""
    from trueroi.experiments.readouts import read_holdout_test

    readout = read_holdout_test(
        test_users,
        test_conversions,
        control_users,
        control_conversions,
        test_tag=test_tag,
        control_tag=control_tag,
        start=start,
        end=end,
        test_revenue=test_revenue,
        control_revenue=control_revenue,
        spend=spend,
        level=level,
        seed=seed,
        save=save,
        channel=channel,
        kpi=kpi,
        name=name,
        delta_spend=delta_spend,
        workspace=workspace,
    )
    _saved(readout.experiment_id)
    _emit(readout, fmt, f"Holdout test ({level:.0%} intervals)")


def geo(
    data: Annotated[Path, typer.Argument(help="CSV with one row per location and period.")],
    location: Annotated[str, typer.Option("--location", help="Location column.")],
    date: Annotated[str, typer.Option("--date", help="Date column (day or week).")],
    kpi: Annotated[str, typer.Option("--kpi", help="KPI column.")],
    treated: Annotated[str, typer.Option("--treated", help="Treated locations, comma-separated.")],
    start: Annotated[str, typer.Option("--start", help="First day of the test.")],
    end: Annotated[
        str | None, typer.Option("--end", help="Last day of the test (default: last date).")
    ] = None,
    spend: Annotated[float | None, typer.Option("--spend", help="Spend change caused by the test.")] = None,
    method: Annotated[str, typer.Option("--method", help="augsynth, synth or tbr.")] = "augsynth",
    inference: Annotated[
        str | None, typer.Option("--inference", help="conformal, placebo, or analytic (tbr only).")
    ] = None,
    level: LevelOpt = 0.9,
    fmt: FormatOpt = OutputFormat.table,
    save: SaveOpt = False,
    channel: ChannelOpt = None,
    name: NameOpt = None,
    delta_spend: DeltaOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Read a geo experiment: ATT, lift, incremental KPI and iROAS against a synthetic control or TBR."""
    from trueroi.experiments.readouts import read_geo_test

    readout = read_geo_test(
        data,
        location=location,
        date=date,
        kpi=kpi,
        treated=_split(treated),
        start=start,
        end=end,
        spend=spend,
        method=method,
        inference=inference,
        level=level,
        save=save,
        channel=channel,
        name=name,
        delta_spend=delta_spend,
        workspace=workspace,
    )
    _saved(readout.experiment_id)
    if fmt is OutputFormat.table:
        payload = readout.to_dict()
        console.print(
            f"pre-test fit: RMSE {payload['pre_fit']['rmse']:.3g}, R2 {payload['pre_fit']['r2']:.3f}; "
            f"{payload['n_pre']} pre-test and {payload['n_post']} test periods, "
            f"{payload['n_controls']} controls"
        )
    _emit(readout, fmt, f"Geo experiment, {method} ({level:.0%} intervals)", readout.warnings)


def export_lifts(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    channel: ChannelOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export stored experiments as the lift-calibration CSV the mix model reads."""
    from trueroi.experiments.store import export_lifts as export

    table = export(workspace, out, channel=channel)
    console.print(f"wrote {len(table)} experiment(s) to {out}")


def list_cmd(fmt: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """List the experiments stored in the workspace."""
    from trueroi.experiments.readouts import experiment_list

    result = experiment_list(workspace)
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
    elif fmt is OutputFormat.csv:
        print_csv(result.rows())
    else:
        print_table(
            result.rows(),
            [
                ("experiment_id", "Id", "text"),
                ("kind", "Kind", "text"),
                ("channel", "Channel", "text"),
                ("start", "Start", "text"),
                ("end", "End", "text"),
                ("delta_spend", "Δ spend", "money"),
                ("lift", "Lift", "number"),
                ("lift_se", "SE", "number"),
                ("kpi", "KPI", "text"),
            ],
            title="Experiments",
        )


PanelArg = Annotated[Path, typer.Argument(help="CSV of historical KPI, one row per location and period.")]
LocationOpt = Annotated[str, typer.Option("--location", help="Location column.")]
DateOpt = Annotated[str, typer.Option("--date", help="Date column (day or week).")]
KpiOpt = Annotated[str, typer.Option("--kpi", help="KPI column.")]
DurationOpt = Annotated[int, typer.Option("--duration", help="Test length in periods.")]
AlphaOpt = Annotated[float, typer.Option("--alpha", help="Significance level of the test.")]
WindowsOpt = Annotated[int, typer.Option("--windows", help="Past windows simulated per effect.")]
MethodOpt = Annotated[str, typer.Option("--method", help="augsynth, synth or tbr.")]


def power(
    data: PanelArg,
    location: LocationOpt,
    date: DateOpt,
    kpi: KpiOpt,
    treated: Annotated[str, typer.Option("--treated", help="Locations to treat, comma-separated.")],
    duration: DurationOpt,
    effects: Annotated[
        str, typer.Option("--effects", help="Relative effects, comma-separated.")
    ] = "0,0.05,0.1,0.15,0.2",
    alpha: AlphaOpt = 0.1,
    windows: WindowsOpt = 8,
    method: MethodOpt = "augsynth",
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Power of a geo test by simulation on historical data: inject each effect into past windows."""
    from trueroi.experiments.planning import geo_power

    result = geo_power(
        data,
        location=location,
        date=date,
        kpi=kpi,
        treated=_split(treated),
        duration=duration,
        effects=_numbers(effects, "--effects", float, "comma-separated numbers such as 0.05,0.1"),
        alpha=alpha,
        n_windows=windows,
        method=method,
    )
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
    elif fmt is OutputFormat.csv:
        print_csv(result.rows())
    else:
        print_table(
            result.rows(),
            [
                ("effect", "Effect", "percent"),
                ("power", "Power", "percent"),
                ("mean_lift", "Mean est. lift", "percent"),
                ("windows", "Windows", "count"),
                ("baseline", "Baseline KPI", "number"),
            ],
            title=f"Power of a {duration}-period test at alpha {alpha}",
        )


def select_markets_cmd(
    data: PanelArg,
    location: LocationOpt,
    date: DateOpt,
    kpi: KpiOpt,
    duration: DurationOpt,
    effect: Annotated[float, typer.Option("--effect", help="Relative effect to detect (0.1 = +10%).")] = 0.1,
    n_treated: Annotated[
        str, typer.Option("--n-treated", help="Treated set size(s), comma-separated.")
    ] = "3",
    candidates: Annotated[int, typer.Option("--candidates", help="Candidate sets per size.")] = 20,
    budget: Annotated[float | None, typer.Option("--budget", help="Budget available for the test.")] = None,
    cpic: Annotated[float | None, typer.Option("--cpic", help="Cost per incremental unit of KPI.")] = None,
    include: Annotated[str, typer.Option("--include", help="Locations every set must hold.")] = "",
    exclude: Annotated[str, typer.Option("--exclude", help="Locations no set may hold.")] = "",
    alpha: AlphaOpt = 0.1,
    windows: WindowsOpt = 5,
    method: MethodOpt = "augsynth",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the candidate draw.")] = 0,
    top: Annotated[int, typer.Option("--top", help="Rows shown.")] = 10,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Rank candidate sets of treated locations by power and imbalance (market selection)."""
    from trueroi.experiments.planning import choose_markets

    result = choose_markets(
        data,
        location=location,
        date=date,
        kpi=kpi,
        duration=duration,
        effect=effect,
        n_treated=_numbers(n_treated, "--n-treated", int, "integers such as 3 or 2,3,4"),
        n_candidates=candidates,
        budget=budget,
        cpic=cpic,
        include=_split(include),
        exclude=_split(exclude),
        alpha=alpha,
        n_windows=windows,
        method=method,
        seed=seed,
        top=top,
    )
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
    elif fmt is OutputFormat.csv:
        print_csv(result.rows())
    else:
        print_table(
            result.rows(),
            [
                ("rank", "#", "count"),
                ("locations", "Treated locations", "text"),
                ("power", "Power", "percent"),
                ("false_positive_rate", "False pos.", "percent"),
                ("abs_lift_in_zero", "|Lift| at 0", "percent"),
                ("nrmse", "Pre-fit NRMSE", "percent"),
                ("investment", "Investment", "money"),
            ],
            title=f"Market selection for a +{effect:.0%} effect over {duration} periods",
        )


def cro(
    control_visitors: Annotated[int, typer.Option("--control-visitors", help="Visitors shown the control.")],
    control_conversions: Annotated[int, typer.Option("--control-conversions", help="Control conversions.")],
    variant_visitors: Annotated[int, typer.Option("--variant-visitors", help="Visitors shown the variant.")],
    variant_conversions: Annotated[int, typer.Option("--variant-conversions", help="Variant conversions.")],
    control_revenue: Annotated[
        float | None, typer.Option("--control-revenue", help="Control revenue.")
    ] = None,
    variant_revenue: Annotated[
        float | None, typer.Option("--variant-revenue", help="Variant revenue.")
    ] = None,
    metric: Annotated[
        str, typer.Option("--metric", help="conversion_rate or revenue_per_visitor.")
    ] = "conversion_rate",
    channels: Annotated[
        Path | None,
        typer.Option(
            "--channels",
            help="CSV: channel,spend,conversions,revenue,margin, to project the change onto ROI.",
        ),
    ] = None,
    level: LevelOpt = 0.9,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Read a site A/B test and project its effect onto conversions, CPA and ROI by channel."""
    from trueroi.experiments.readouts import read_cro_test

    result = read_cro_test(
        control_visitors,
        control_conversions,
        variant_visitors,
        variant_conversions,
        control_revenue=control_revenue,
        variant_revenue=variant_revenue,
        metric=metric,
        channels=channels,
        level=level,
    )
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
        return
    if fmt is OutputFormat.csv:
        print_csv(result.rows())
        return
    print_table(result.test_rows(), INTERVAL_COLUMNS, title=f"A/B test of {metric}")
    if result.projection is not None:
        print_table(
            result.projection_rows(),
            [
                ("channel", "Channel", "text"),
                ("spend", "Spend", "money"),
                ("conversions_before", "Conv.", "count"),
                ("conversions_after", "Conv. after", "count"),
                ("cpa_before", "CPA", "money"),
                ("cpa_after", "CPA after", "money"),
                ("roi_before", "ROI", "percent"),
                ("roi_after", "ROI after", "percent"),
                ("roi_after_lower", "ROI low", "percent"),
                ("roi_after_upper", "ROI high", "percent"),
            ],
            title="Projected onto channels (same spend and traffic)",
        )


def plan(
    baseline_rate: Annotated[float, typer.Option("--baseline-rate", help="Control conversion rate (0-1).")],
    lift: Annotated[
        float | None, typer.Option("--lift", help="Relative lift to detect (0.1 = +10%).")
    ] = None,
    test_users: Annotated[
        int | None, typer.Option("--test-users", help="Test users available: gives the detectable lift.")
    ] = None,
    alpha: AlphaOpt = 0.05,
    power_: Annotated[float, typer.Option("--power", help="Power wanted (0-1).")] = 0.8,
    control_ratio: Annotated[
        float, typer.Option("--control-ratio", help="Control users per test user.")
    ] = 1.0,
    one_sided: Annotated[bool, typer.Option("--one-sided", help="Test only for a positive lift.")] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Plan a holdout test: users needed for a lift, or the minimum detectable lift for a number of users."""
    from trueroi.experiments.planning import plan_holdout_test

    alternative = "larger" if one_sided else "two-sided"
    result = plan_holdout_test(
        baseline_rate,
        lift=lift,
        test_users=test_users,
        alpha=alpha,
        power=power_,
        control_ratio=control_ratio,
        alternative=alternative,
    )
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
    elif fmt is OutputFormat.csv:
        print_csv(result.rows())
    else:
        print_table(
            result.rows(),
            [
                ("baseline_rate", "Baseline rate", "percent"),
                ("lift", "Lift", "percent"),
                ("test_users", "Test users", "count"),
                ("control_users", "Control users", "count"),
            ],
            title=f"Holdout test plan (alpha {alpha}, power {power_:.0%}, {alternative})",
        )


def register(app: typer.Typer) -> None:
    grp = group("experiment", "Design and read incrementality experiments: holdout, geo and CRO tests.")
    grp.command("lift")(lift)
    grp.command("geo")(geo)
    grp.command("export-lifts")(export_lifts)
    grp.command("list")(list_cmd)
    grp.command("plan")(plan)
    grp.command("power")(power)
    grp.command("select-markets")(select_markets_cmd)
    grp.command("cro")(cro)
