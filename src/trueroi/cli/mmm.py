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
    print_csv,
    print_json,
    print_table,
)


def register(app: typer.Typer) -> None:
    grp = group("mmm", "Bayesian marketing-mix model: carry-over, diminishing returns, ROI with intervals.")
    grp.command("fit")(fit)
    grp.command("report")(report)


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
    geo: Annotated[
        str | None,
        typer.Option(
            "--geo",
            help="Geo column of a long panel (one row per period and geo): fits the hierarchical geo "
            "model, ROI per geo and national.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Fit the mix model and write MODEL_DIR (config, posterior, data, summary)."""
    if method == "nuts":  # chains in parallel on the CPU cores (only possible before JAX starts)
        from trueroi.mmm.nuts import use_cpu_cores

        use_cpu_cores()
    from trueroi.mmm import MMM
    from trueroi.mmm.data import infer_period_days

    if geo is not None:
        settings = dict(adstock=adstock, saturation=saturation, method=method, draws=draws, tune=tune)
        settings.update(chains=chains, seed=seed)
        _fit_geo(data, out, geo, date, target, channels, controls, settings, holdout_weeks, calibration, fmt)
        return
    if data is None:
        from trueroi.mmm.workspace_data import weekly_series
        from trueroi.workspace import Workspace

        with Workspace.open(workspace) as ws:
            df = weekly_series(ws)
        source = "workspace"
        date, target = "week", "revenue"
        names = _split(channels) or [c for c in df.columns if c not in ("week", "revenue")]
    else:
        df = _read_csv(data)
        source = str(data)
        names = _split(channels)
    per_week = 7 // infer_period_days(df, date, source)
    model = MMM(
        adstock=adstock,
        saturation=saturation,
        method=method,
        draws=draws,
        tune=tune,
        chains=chains,
        holdout_periods=holdout_weeks * per_week,
        kpi=kpi,
        seed=seed,
    )
    with _sampling_bar(method):
        model.fit(
            df,
            date=date,
            target=target,
            channels=names,
            controls=_split(controls),
            events=_split(events),
            lift_tests=calibration,
            source=source,
        )
    model.save(out)
    for w in model.warnings_:
        err_console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    summary = model.summary()
    if fmt == OutputFormat.json:
        print_json(summary)
        return
    rows = [
        {
            "channel": c,
            "spend": s["spend"],
            **{
                f"{k}_{b}": s[k][b]
                for k in ("contribution", "roi", "mroi")
                for b in ("mean", "lower", "upper")
            },
        }
        for c, s in summary["channels"].items()
    ]
    if fmt == OutputFormat.csv:
        print_csv(rows)
        return
    cols = [
        ("channel", "channel", "text"),
        ("spend", "spend", "money"),
        ("contribution_mean", "contribution", "money"),
        ("roi_mean", "ROI", "ratio"),
        ("roi_lower", "ROI 5%", "ratio"),
        ("roi_upper", "ROI 95%", "ratio"),
        ("mroi_mean", "mROI", "ratio"),
    ]
    d = summary["diagnostics"]
    caption = (
        f"R2 {d['r2']:.3f}, MAPE {d['mape']:.1%}, divergences {d['divergences']}, "
        f"fit {summary['fit_seconds']:.1f} s; model written to {out}"
    )
    print_table(rows, cols, title="Marketing-mix model (90% intervals)", caption=caption)


def _fit_geo(
    data: Path | None,
    out: Path,
    geo: str,
    date: str,
    target: str,
    channels: str | None,
    controls: str | None,
    settings: dict,
    holdout_weeks: int,
    calibration: Path | None,
    fmt: OutputFormat,
) -> None:
    """``trueroi mmm fit DATA.csv --geo COL``: the hierarchical geo model; JSON adds ``geos`` to the
    national ``channels`` contract (contribution, ROI and mROI with 90% intervals)."""
    from trueroi.errors import UsageError
    from trueroi.mmm.data import infer_period_days
    from trueroi.mmm.geo import GeoMMM

    if data is None or not _split(channels):
        raise UsageError("--geo needs DATA.csv (a long panel) and --channels")
    frame = _read_csv(data)
    dates = frame.drop_duplicates(date) if date in frame.columns else frame
    per_week = 7 // infer_period_days(dates, date, str(data))
    model = GeoMMM(**settings, holdout_periods=holdout_weeks * per_week)
    with _sampling_bar(settings["method"]):
        model.fit(
            frame,
            date=date,
            geo=geo,
            target=target,
            channels=_split(channels),
            controls=_split(controls),
            lift_tests=calibration,
            source=str(data),
        )
    model.save(out)
    summary = model.summary()
    if fmt == OutputFormat.json:
        print_json(summary)
        return
    rows = model.roi_table().rename(columns={"mean": "roi_mean", "lower": "roi_lower", "upper": "roi_upper"})
    if fmt == OutputFormat.csv:
        print_csv(rows.to_dict(orient="records"))
        return
    cols = [
        ("geo", "geo", "text"),
        ("channel", "channel", "text"),
        ("spend", "spend", "money"),
        ("roi_mean", "ROI", "ratio"),
        ("roi_lower", "ROI 5%", "ratio"),
        ("roi_upper", "ROI 95%", "ratio"),
    ]
    d = summary["diagnostics"]
    held = "" if d["holdout_mape"] is None else f", holdout MAPE {d['holdout_mape']:.1%}"
    caption = (
        f"R2 {d['r2']:.3f}, MAPE {d['mape']:.1%}{held}, divergences {d['divergences']}, "
        f"fit {summary['fit_seconds']:.1f} s; model written to {out}"
    )
    print_table(rows.to_dict(orient="records"), cols, title="Geo mix model (90% intervals)", caption=caption)


def report(
    model_dir: Annotated[Path, typer.Argument(help="Model directory written by `trueroi mmm fit`.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default MODEL_DIR/report.html).")
    ] = None,
) -> None:
    """Write an HTML report (decomposition, ROI, response curves, diagnostics) that renders offline."""
    import json

    from trueroi.mmm import load_model
    from trueroi.mmm.report import write_report

    config = model_dir / "config.json"
    if config.is_file() and json.loads(config.read_text()).get("kind") == "geo":
        from trueroi.mmm.geo import GeoMMM
        from trueroi.mmm.geo_report import write_geo_report

        path = write_geo_report(GeoMMM.load(model_dir), out or model_dir / "report.html")
    else:
        path = write_report(load_model(model_dir), out or model_dir / "report.html")
    typer.echo(str(path))


def _read_csv(path: Path):  # noqa: ANN202 - pandas is imported lazily
    import pandas as pd

    from trueroi.errors import DataValidationError

    try:
        return pd.read_csv(path)
    except FileNotFoundError as exc:
        raise DataValidationError(
            "file not found", file=str(path), expected="a CSV with one row per period"
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"cannot be read as CSV ({exc})", file=str(path)) from exc
