"""``trueroi demo``: simulate a shop with known truth, load it, and show what its channels really return."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from trueroi.cli.common import console, print_table
from trueroi.errors import WorkspaceError


@contextmanager
def _progress() -> Iterator[object]:
    """A progress bar while the shop is simulated (terminal only)."""
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Simulating the demo shop", total=1.0)
        yield lambda msg, frac: bar.update(task, completed=frac, description=msg)


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
    from trueroi.cli.kpis import print_report
    from trueroi.demo.run import run_demo

    if (workspace / "trueroi.toml").exists() and not fresh:
        raise WorkspaceError(
            f"{workspace.resolve()} already holds a workspace; pass --fresh to replace the demo"
        )
    with _progress() as progress:
        run = run_demo(workspace, seed=seed, scale=scale, fresh=fresh, report=report, progress=progress)
    console.print(
        f"Demo shop loaded into {run.directory}: " + ", ".join(f"{n:,} {t}" for t, n in run.rows.items())
    )
    print_report(run.kpis, title=f"Last full quarter {run.kpis.period} by channel vs a year before")
    print_table(
        run.truth,
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
    if run.findings:
        print_table(
            run.findings,
            [
                ("severity", "Severity", "text"),
                ("title", "Data-quality finding", "text"),
                ("count", "Count", "count"),
            ],
            title="Worst data-quality findings",
        )
    console.print(
        f"HTML report: {run.report}\nGround truth: {run.directory / 'ground_truth.json'}\n"
        f"Done in {run.seconds:.1f} s."
    )


def register(app: typer.Typer) -> None:
    app.command()(demo)
