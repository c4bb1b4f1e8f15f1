"""``trueroi experiment ...``: read holdout, geo and CRO tests, design geo tests, feed the mix model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    err_console,
    group,
    print_csv,
    print_json,
    print_table,
)
from trueroi.errors import DataValidationError, UsageError

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


def _interval_rows(payload: dict[str, Any], keys: list[str]) -> list[dict[str, Any]]:
    rows = []
    for key in keys:
        value = payload.get(key)
        if isinstance(value, dict) and "mean" in value:
            rows.append({"metric": key, **value})
        elif value is not None:
            rows.append({"metric": key, "mean": value})
    return rows


def _emit(payload: dict[str, Any], keys: list[str], fmt: OutputFormat, title: str) -> None:
    for warning in payload.get("warnings", []) or []:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if fmt is OutputFormat.json:
        print_json(payload)
    elif fmt is OutputFormat.csv:
        print_csv(_interval_rows(payload, keys))
    else:
        print_table(_interval_rows(payload, keys), INTERVAL_COLUMNS, title=title)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _floats(text: str, option: str) -> list[float]:
    try:
        return [float(part) for part in _split(text)]
    except ValueError as exc:
        raise UsageError(f"{option} is {text!r}; expected comma-separated numbers such as 0.05,0.1") from exc


def read_csv(path: Path) -> Any:
    """A CSV file as a DataFrame, with a clear error when it is missing or unreadable."""
    import pandas as pd

    if not path.exists():
        raise DataValidationError("file not found", file=str(path), expected="a CSV file with a header row")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"cannot be read as CSV ({exc})", file=str(path)) from exc


def _save(workspace: Path | None, record: Any) -> None:
    from trueroi.experiments.store import save_experiment
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        experiment_id = save_experiment(ws, record)
    err_console.print(
        f"saved experiment {experiment_id} to the workspace table 'experiments'", highlight=False
    )


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
    from trueroi.experiments.lift import analyze_lift

    counts = [test_users, test_conversions, control_users, control_conversions]
    excluded = None
    if test_tag or control_tag:
        if not (test_tag and control_tag and start and end):
            raise UsageError(
                "reading a test from the workspace needs --test-tag, --control-tag, --start, --end"
            )
        from trueroi.experiments.warehouse import holdout_counts
        from trueroi.workspace import Workspace

        with Workspace.open(workspace) as ws:
            found = holdout_counts(ws, test_tag=test_tag, control_tag=control_tag, start=start, end=end)
        excluded = found.pop("excluded_users")
        counts = [
            found.pop(k) for k in ("test_users", "test_conversions", "control_users", "control_conversions")
        ]
        test_revenue, control_revenue = found["test_revenue"], found["control_revenue"]
    elif any(c is None for c in counts):
        raise UsageError(
            "give --test-users, --test-conversions, --control-users and --control-conversions, "
            "or --test-tag and --control-tag with --start and --end to count them in the workspace"
        )
    result = analyze_lift(
        *counts,
        test_revenue=test_revenue,
        control_revenue=control_revenue,
        spend=spend,
        level=level,
        seed=seed,
    )
    payload = result.to_dict()
    if excluded is not None:
        payload["excluded_users"] = excluded
    if save:
        from trueroi.experiments.store import record_from_lift

        if not (channel and start and end):
            raise UsageError("--save needs --channel, --start and --end to place the test in time")
        _save(
            workspace,
            record_from_lift(
                result, channel=channel, start=start, end=end, kpi=kpi, name=name, delta_spend=delta_spend
            ),
        )
    _emit(
        payload,
        [
            "lift",
            "incremental_conversions",
            "p_value",
            "prob_positive",
            "incremental_revenue",
            "iroas",
            "cost_per_incremental_conversion",
        ],
        fmt,
        f"Holdout test ({level:.0%} intervals)",
    )


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
    from trueroi.experiments.geo import analyze_geo

    frame = read_csv(data)
    result = analyze_geo(
        frame,
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
        file=str(data),
    )
    if save:
        from trueroi.experiments.store import record_from_geo

        if not channel:
            raise UsageError("--save needs --channel")
        _save(
            workspace, record_from_geo(result, channel=channel, kpi=kpi, name=name, delta_spend=delta_spend)
        )
    payload = result.to_dict()
    if fmt is OutputFormat.table:
        console.print(
            f"pre-test fit: RMSE {payload['pre_fit']['rmse']:.3g}, R2 {payload['pre_fit']['r2']:.3f}; "
            f"{payload['n_pre']} pre-test and {payload['n_post']} test periods, "
            f"{payload['n_controls']} controls"
        )
    _emit(
        payload,
        ["att", "lift", "incremental", "p_value", "iroas"],
        fmt,
        f"Geo experiment, {method} ({level:.0%} intervals)",
    )


def export_lifts(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    channel: ChannelOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export stored experiments as the lift-calibration CSV the mix model reads."""
    from trueroi.experiments.store import export_lifts as export
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        table = export(ws, out, channel=channel)
    console.print(f"wrote {len(table)} experiment(s) to {out}")


def list_cmd(fmt: FormatOpt = OutputFormat.table, workspace: WorkspaceOpt = None) -> None:
    """List the experiments stored in the workspace."""
    from trueroi.experiments.store import list_experiments
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        frame = list_experiments(ws).drop(columns=["details"])
    rows = frame.to_dict(orient="records")
    if fmt is OutputFormat.json:
        print_json(rows)
    elif fmt is OutputFormat.csv:
        print_csv(rows)
    else:
        print_table(
            rows,
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
    from trueroi.experiments.design import power_analysis

    table = power_analysis(
        read_csv(data),
        location=location,
        date=date,
        kpi=kpi,
        treated=_split(treated),
        duration=duration,
        effects=_floats(effects, "--effects"),
        alpha=alpha,
        n_windows=windows,
        method=method,
        file=str(data),
    )
    rows = table.to_dict(orient="records")
    if fmt is OutputFormat.json:
        print_json(
            {
                "treated": _split(treated),
                "duration": duration,
                "alpha": alpha,
                "method": method,
                "power": rows,
            }
        )
    elif fmt is OutputFormat.csv:
        print_csv(rows)
    else:
        print_table(
            rows,
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
    from trueroi.experiments.design import select_markets

    try:
        sizes = [int(v) for v in _split(n_treated)]
    except ValueError as exc:
        raise UsageError(f"--n-treated is {n_treated!r}; expected integers such as 3 or 2,3,4") from exc
    table = select_markets(
        read_csv(data),
        location=location,
        date=date,
        kpi=kpi,
        n_treated=sizes,
        duration=duration,
        effect=effect,
        alpha=alpha,
        n_candidates=candidates,
        n_windows=windows,
        budget=budget,
        cpic=cpic,
        include=_split(include),
        exclude=_split(exclude),
        method=method,
        seed=seed,
        file=str(data),
    )
    rows = table.head(top).to_dict(orient="records")
    if fmt is OutputFormat.json:
        print_json(
            {"effect": effect, "duration": duration, "alpha": alpha, "method": method, "markets": rows}
        )
    elif fmt is OutputFormat.csv:
        print_csv(rows)
    else:
        print_table(
            rows,
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
    from trueroi.experiments.cro import project_cro, read_ab_test

    result = read_ab_test(
        control_visitors,
        control_conversions,
        variant_visitors,
        variant_conversions,
        control_revenue=control_revenue,
        variant_revenue=variant_revenue,
        metric=metric,
        level=level,
    )
    payload: dict[str, Any] = {"test": result.to_dict(), "projection": None}
    rows = []
    if channels is not None:
        rows = project_cro(read_csv(channels), result.relative_change, metric=metric).to_dict(
            orient="records"
        )
        payload["projection"] = rows
    if fmt is OutputFormat.json:
        print_json(payload)
        return
    if fmt is OutputFormat.csv:
        print_csv(rows or [{"metric": metric, **result.relative_change.as_dict(), "p_value": result.p_value}])
        return
    _emit(result.to_dict(), ["relative_change", "p_value", "prob_positive"], fmt, f"A/B test of {metric}")
    if rows:
        print_table(
            rows,
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
    from trueroi.experiments.lift import minimum_detectable_lift, sample_size

    if (lift is None) == (test_users is None):
        raise UsageError(
            "give either --lift (to get the users needed) or --test-users (to get the detectable lift)"
        )
    alternative = "larger" if one_sided else "two-sided"
    settings = {"alpha": alpha, "power": power_, "control_ratio": control_ratio, "alternative": alternative}
    if lift is not None:
        n = sample_size(baseline_rate, lift, **settings)
        test_n, detectable = math.ceil(n), lift
    else:
        test_n, detectable = test_users, minimum_detectable_lift(baseline_rate, test_users, **settings)
    row = {
        "baseline_rate": baseline_rate,
        "lift": detectable,
        "test_users": test_n,
        "control_users": math.ceil(test_n * control_ratio),
        **settings,
    }
    if fmt is OutputFormat.json:
        print_json(row)
    elif fmt is OutputFormat.csv:
        print_csv([row])
    else:
        print_table(
            [row],
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
