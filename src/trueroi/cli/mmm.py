"""``trueroi mmm``: fit a Bayesian marketing-mix model and report on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    err_console,
    group,
    note,
    print_csv,
    print_json,
    print_table,
    warn,
)


def register(app: typer.Typer) -> None:
    grp = group("mmm", "Bayesian marketing-mix model: carry-over, diminishing returns, ROI with intervals.")
    grp.command("fit")(fit)
    grp.command("report")(report)
    grp.command("longterm")(longterm)


@contextmanager
def _sampling_bar(method: str) -> Iterator[None]:
    """A progress bar on stderr while NUTS samples (only on a terminal; scripts see nothing)."""
    if method != "nuts" or not err_console.is_terminal:
        yield
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from trueroi.mmm.nuts import reporting

    columns = (
        TextColumn("sampling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("chain iterations"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("nuts", total=None)
        with reporting(lambda done, total: bar.update(task, completed=done, total=total)):
            yield


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def fit(
    out: Annotated[Path, typer.Option("--out", help="Model directory to write (MODEL_DIR).")],
    data: Annotated[
        Path | None,
        typer.Argument(
            help="Weekly or daily CSV; without it the weekly series is built "
            "from the workspace (spend from ad_performance, revenue from orders)."
        ),
    ] = None,
    date: Annotated[str, typer.Option("--date", help="Date column (period start).")] = "week",
    target: Annotated[str, typer.Option("--target", help="KPI column (revenue or conversions).")] = "revenue",
    channels: Annotated[
        str | None,
        typer.Option(
            "--channels", help="Spend columns, comma-separated (default with the workspace: every channel)."
        ),
    ] = None,
    controls: Annotated[
        str | None, typer.Option("--controls", help="Control columns, comma-separated.")
    ] = None,
    events: Annotated[
        str | None, typer.Option("--events", help="0/1 holiday or event columns, comma-separated.")
    ] = None,
    organic: Annotated[
        str | None,
        typer.Option(
            "--organic",
            help="Unpaid media inputs (e-mails sent, posts, SEO visibility), comma-separated: carry-over "
            "and saturation, reported as contribution (no ROI).",
        ),
    ] = None,
    treatments: Annotated[
        str | None,
        typer.Option(
            "--treatments",
            help="Price or promotion columns, comma-separated: linear effect, reported per unit and "
            "in total.",
        ),
    ] = None,
    adstock: Annotated[
        str, typer.Option("--adstock", help="geometric, delayed, weibull or weibull_cdf.")
    ] = "geometric",
    saturation: Annotated[
        str, typer.Option("--saturation", help="hill, logistic or michaelis_menten.")
    ] = "hill",
    holdout_weeks: Annotated[
        int, typer.Option("--holdout-weeks", help="Last weeks left out to measure holdout MAPE.")
    ] = 0,
    calibration: Annotated[
        Path | None, typer.Option("--calibration", help="Lift-test CSV to calibrate with.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    draws: Annotated[int, typer.Option("--draws", help="Posterior draws per chain.")] = 1000,
    tune: Annotated[int, typer.Option("--tune", help="Warm-up draws per chain.")] = 1000,
    chains: Annotated[int, typer.Option("--chains")] = 4,
    method: Annotated[
        str, typer.Option("--method", help="nuts (full posterior), laplace or map (fast).")
    ] = "nuts",
    kpi: Annotated[str, typer.Option("--kpi", help="revenue or conversions.")] = "revenue",
    margin_rate: Annotated[
        float | None,
        typer.Option(
            "--margin-rate",
            help="Contribution margin per unit of revenue for ROI on margin (default: the workspace's "
            "COGS share, else default_margin in trueroi.toml; without one only ROAS is given).",
        ),
    ] = None,
    geo: Annotated[
        str | None,
        typer.Option(
            "--geo",
            help="Geo column of a long panel (one row per period and geo): fits the hierarchical geo "
            "model, ROI per geo and national.",
        ),
    ] = None,
    halo: Annotated[
        str | None,
        typer.Option(
            "--halo",
            help="Upper-funnel spend columns that also raise brand searches, comma-separated: fits the "
            "halo model (direct, indirect and total ROI; needs --mediator).",
        ),
    ] = None,
    mediator: Annotated[
        str,
        typer.Option(
            "--mediator", help="Brand-search volume column (brand clicks or impressions) for --halo."
        ),
    ] = "brand_clicks",
    mediator_channel: Annotated[
        str | None,
        typer.Option(
            "--mediator-channel",
            help="Brand-search spend column, reported net of the halo (default: the one channel named "
            "*brand* outside --halo).",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Fit the mix model and write MODEL_DIR (config, posterior, data, summary)."""
    if method == "nuts":  # chains in parallel on the CPU cores (only possible before JAX starts)
        from trueroi.mmm.nuts import use_cpu_cores

        use_cpu_cores()
    from trueroi.mmm import fit_mix_model

    with _sampling_bar(method):
        result = fit_mix_model(
            data,
            workspace=workspace,
            date=date,
            target=target,
            channels=_split(channels),
            controls=_split(controls),
            events=_split(events),
            organic=_split(organic),
            treatments=_split(treatments),
            geo=geo,
            adstock=adstock,
            saturation=saturation,
            holdout_weeks=holdout_weeks,
            calibration=calibration,
            method=method,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            kpi=kpi,
            margin_rate=margin_rate,
            out=out,
            halo=_split(halo),
            mediator=mediator,
            mediator_channel=mediator_channel,
        )
    for w in result.warnings:
        warn(w)
    summary = result.to_dict()
    if summary.get("roi_note"):
        note(f"note: {summary['roi_note']}")
    if fmt == OutputFormat.json:
        print_json(result.to_dict())
    elif fmt == OutputFormat.csv:
        print_csv(result.rows())
    else:
        _print_fit(result.to_dict(), result.rows(), result.kind, out)


_NATIONAL_COLUMNS = [
    ("channel", "channel", "text"),
    ("spend", "spend", "money"),
    ("contribution_mean", "contribution", "money"),
    ("roas_mean", "ROAS", "ratio"),
    ("roi_mean", "ROI (margin)", "ratio"),
    ("roi_lower", "ROI 5%", "ratio"),
    ("roi_upper", "ROI 95%", "ratio"),
    ("mroi_mean", "mROI", "ratio"),
]
_HALO_COLUMNS = [
    *_NATIONAL_COLUMNS[:7],
    ("roi_direct_mean", "ROI direct", "ratio"),
    ("roi_indirect_mean", "ROI via brand search", "ratio"),
    _NATIONAL_COLUMNS[7],
]
_GEO_COLUMNS = [
    ("geo", "geo", "text"),
    ("channel", "channel", "text"),
    ("spend", "spend", "money"),
    ("roas_mean", "ROAS", "ratio"),
    ("roi_mean", "ROI (margin)", "ratio"),
    ("roi_lower", "ROI 5%", "ratio"),
    ("roi_upper", "ROI 95%", "ratio"),
]


def _print_fit(summary: dict, rows: list[dict], kind: str, out: Path) -> None:
    d, geo = summary["diagnostics"], kind in ("geo", "geo_halo")
    held = "" if not geo or d["holdout_mape"] is None else f", holdout MAPE {d['holdout_mape']:.1%}"
    caption = (
        f"R2 {d['r2']:.3f}, MAPE {d['mape']:.1%}{held}, divergences {d['divergences']}, "
        f"fit {summary['fit_seconds']:.1f} s; model written to {out}"
    )
    if geo:
        print_table(rows, _GEO_COLUMNS, title="Geo mix model (90% intervals)", caption=caption)
        if kind == "geo_halo":
            _print_halo(summary)
    elif kind == "halo":
        title = "Marketing-mix model with halo through brand search (ROI = direct + via brand search)"
        print_table(rows, _HALO_COLUMNS, title=title, caption=caption)
        _print_halo(summary)
    else:
        print_table(rows, _NATIONAL_COLUMNS, title="Marketing-mix model (90% intervals)", caption=caption)
        _print_inputs(summary)


def _print_inputs(summary: dict) -> None:
    """Organic inputs (contribution, share of the KPI) and treatments (effect per unit), when fitted."""
    organic = [
        {"input": k, **{f"c_{b}": v["contribution"][b] for b in ("mean", "lower", "upper")}}
        | {"share": v["share"]["mean"]}
        for k, v in summary.get("organic", {}).items()
    ]
    if organic:
        columns = [("input", "organic input", "text"), ("c_mean", "contribution", "money")]
        columns += [
            ("c_lower", "5%", "money"),
            ("c_upper", "95%", "money"),
            ("share", "share of KPI", "percent"),
        ]
        print_table(organic, columns, title="Organic media (contribution, no spend)")
    treated = [
        {"treatment": k, **{f"e_{b}": v["effect_per_unit"][b] for b in ("mean", "lower", "upper")}}
        | {"total": v["contribution"]["mean"]}
        for k, v in summary.get("treatments", {}).items()
    ]
    if treated:
        columns = [("treatment", "treatment", "text"), ("e_mean", "effect per unit", "money")]
        columns += [
            ("e_lower", "5%", "money"),
            ("e_upper", "95%", "money"),
            ("total", "contribution", "money"),
        ]
        print_table(treated, columns, title="Treatments (effect per unit of the column)")


def _print_halo(summary: dict) -> None:
    """One line on the halo: the share of brand searches the halo channels caused, and brand search's ROI
    net of them."""
    halo, share = summary["halo"], summary["halo"]["halo_share"]
    line = (
        f"{', '.join(halo['halo_channels'])} caused {share['mean']:.0%} of {halo['mediator']} "
        f"(90% interval {share['lower']:.0%} to {share['upper']:.0%})"
    )
    brand = summary["channels"].get(halo["mediator_channel"] or "", {}).get("roi_net_of_halo")
    if brand and brand["mean"] is not None:
        line += (
            f"; {halo['mediator_channel']} ROI net of halo {brand['mean']:.2f} "
            f"({brand['lower']:.2f} to {brand['upper']:.2f})"
        )
    typer.echo(line)


def report(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `trueroi mmm fit`.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default MODEL_DIR/report.html).")
    ] = None,
) -> None:
    """Write an HTML report (decomposition, ROI, response curves, diagnostics) that renders offline."""
    from trueroi.mmm import write_model_report

    typer.echo(str(write_model_report(model_dir, out)))


def longterm(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `trueroi mmm fit`.")],
    months: Annotated[
        str, typer.Option("--months", help="Horizons in months since spend, comma-separated.")
    ] = "1,3,6,12,24,36",
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Cumulative ROI by months since spend from the fitted carry-over, with 90% intervals and payback."""
    from trueroi.errors import UsageError
    from trueroi.mmm import load_model
    from trueroi.mmm.longterm import cumulative_roi

    try:
        horizons = [float(m) for m in _split(months)]
    except ValueError as exc:
        raise UsageError(
            f"--months takes numbers separated by commas, such as 1,3,12; got {months!r}"
        ) from exc
    result = cumulative_roi(load_model(model_dir), months=horizons)
    payload = result.to_dict()
    note(f"note: {payload['note']}")
    if fmt == OutputFormat.json:
        print_json(payload)
    elif fmt == OutputFormat.csv:
        print_csv(result.rows())
    else:
        label = {"margin": "ROI (margin)", "roas": "ROAS", "per_spend": "per spend"}[result.basis]
        columns = [
            ("channel", "channel", "text"),
            ("months", "months", "number"),
            ("mean", f"cumulative {label}", "ratio"),
            ("lower", "5%", "ratio"),
            ("upper", "95%", "ratio"),
            ("share_realised", "share of long run", "percent"),
            ("payback_month", "payback (months)", "number"),
        ]
        print_table(result.rows(), columns, title="Cumulative ROI by months since spend (90% intervals)")
