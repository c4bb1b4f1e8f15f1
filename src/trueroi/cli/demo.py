"""``trueroi demo``: simulate a shop with known truth, load it, and show what its channels really return."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import console, print_table
from trueroi.errors import WorkspaceError

DEMO_FILES = (
    "trueroi.toml",
    "warehouse.duckdb",
    "warehouse.duckdb.wal",
    "demo-data",
    "ground_truth.json",
    "report.html",
)


def _clear(directory: Path) -> None:
    """Remove a previous demo from ``directory`` (only the files a demo writes)."""
    if not (directory / "trueroi.toml").exists():
        return
    for name in DEMO_FILES:
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def _generate(directory: Path, seed: int, scale: float):  # noqa: ANN202
    from rich.progress import Progress

    from trueroi.demo import generate

    if not sys.stdout.isatty():
        return generate(directory / "demo-data", seed=seed, scale=scale)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Simulating the demo shop", total=1.0)
        return generate(
            directory / "demo-data",
            seed=seed,
            scale=scale,
            progress=lambda msg, frac: bar.update(task, completed=frac, description=msg),
        )


def _truth_rows(report, truth: dict) -> tuple[list[dict], dict[str, float]]:  # noqa: ANN001
    quarter = f"{report.period.start.year}Q{(report.period.start.month - 1) // 3 + 1}"
    rows, true_roi = [], {}
    by_channel = report.rows.set_index("channel")
    for name, ch in truth["channels"].items():
        q = ch["by_quarter"].get(quarter)
        if q is None or name not in by_channel.index:
            continue
        true_roi[name] = q["media_roi"]
        row = by_channel.loc[name]
        rows.append(
            {
                "channel": name,
                "roas": row["roas"],
                "true_roas": q["roas"],
                "media_roi": row["media_roi"],
                "true_media_roi": q["media_roi"],
                "platform_roas": row["platform_roas"],
            }
        )
    return rows, true_roi


def demo(
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help="Folder for the demo workspace.")
    ] = Path("trueroi-demo"),
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 42,
    scale: Annotated[float, typer.Option(help="Size: 1.0 is ~1.4M touchpoints; 0.02 tiny; 75 ~100M.")] = 1.0,
    fresh: Annotated[bool, typer.Option("--fresh", help="Replace a previous demo in the folder.")] = False,
    report: Annotated[
        Path | None, typer.Option(help="HTML report path (default WORKSPACE/report.html).")
    ] = None,
) -> None:
    """Simulate two years of an online shop with known true channel effects, load it, and report ROI."""
    from trueroi.demo import demo_config, load_into
    from trueroi.metrics import data_range, kpi_report, last_full_quarter
    from trueroi.report import write_kpi_report
    from trueroi.workspace import Workspace

    started = time.perf_counter()
    directory = workspace.expanduser().resolve()
    if (directory / "trueroi.toml").exists():
        if not fresh:
            raise WorkspaceError(f"{directory} already holds a workspace; pass --fresh to replace the demo")
        _clear(directory)
    files = _generate(directory, seed, scale)
    shutil.copyfile(files.directory / "ground_truth.json", directory / "ground_truth.json")
    with Workspace.init(directory, demo_config(name=directory.name)) as ws:
        loaded = load_into(ws, files)
        quarter = last_full_quarter(data_range(ws).end)
        result = kpi_report(ws, by="channel", start=quarter.start, end=quarter.end, compare="yoy")
        findings = _quality(ws)
    from trueroi.cli.kpis import print_report

    console.print(
        f"Demo shop loaded into {directory}: " + ", ".join(f"{n:,} {t}" for t, n in loaded.rows.items())
    )
    print_report(result, title=f"Last full quarter {quarter} by channel vs a year before")
    truth_rows, true_roi = _truth_rows(result, files.truth)
    print_table(
        truth_rows,
        [
            ("channel", "Channel", "text"),
            ("platform_roas", "ROAS platform-claimed", "ratio"),
            ("roas", "ROAS last click", "ratio"),
            ("true_roas", "ROAS true", "ratio"),
            ("media_roi", "Media ROI last click", "percent"),
            ("true_media_roi", "Media ROI true", "percent"),
        ],
        title="What platforms and last click claim vs the true incremental effect (ground truth)",
    )
    if findings:
        print_table(
            findings,
            [
                ("severity", "Severity", "text"),
                ("title", "Data-quality finding", "text"),
                ("count", "Count", "count"),
            ],
            title="Worst data-quality findings",
        )
    out = write_kpi_report(
        report or directory / "report.html",
        result,
        title=f"trueroi demo shop - {quarter}",
        truth_roi=true_roi,
        extra_sections=[("Claimed vs true", _truth_html(truth_rows))],
    )
    console.print(
        f"HTML report: {out}\nGround truth: {directory / 'ground_truth.json'}\n"
        f"Done in {time.perf_counter() - started:.1f} s."
    )


TRUTH_COLUMNS = (
    ("platform_roas", "ROAS platform-claimed", "ratio"),
    ("roas", "ROAS last click", "ratio"),
    ("true_roas", "ROAS true", "ratio"),
    ("media_roi", "Media ROI last click", "pct"),
    ("true_media_roi", "Media ROI true", "pct"),
)


def _truth_html(rows: list[dict]) -> str:
    from trueroi.report.html import fmt

    head = "<tr><th>Channel</th>" + "".join(f"<th>{label}</th>" for _, label, _ in TRUTH_COLUMNS) + "</tr>"
    body = "".join(
        f"<tr><td>{r['channel']}</td>"
        + "".join(f"<td>{fmt(r[k], kind)}</td>" for k, _, kind in TRUTH_COLUMNS)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


def _quality(ws) -> list[dict]:  # noqa: ANN001
    """The worst data-quality findings, when the quality module is installed."""
    try:
        from trueroi.quality import findings
    except ImportError:
        return []
    order = {"high": 0, "medium": 1, "low": 2}
    found = sorted(findings(ws), key=lambda f: (order.get(f.severity, 3), -f.count))
    return [{"severity": f.severity, "title": f.title, "count": f.count} for f in found[:5]]


def register(app: typer.Typer) -> None:
    app.command()(demo)
