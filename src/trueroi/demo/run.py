"""The demo run: simulate the shop, load it into a workspace, and compare what platforms and last click
claim with what each channel truly returned (the ground truth), as ``trueroi demo`` shows it.

:func:`run_demo` does the work and returns a :class:`DemoRun`; the CLI prints its tables, the web app can
show the same content.
"""

from __future__ import annotations

import html
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trueroi.demo.generator import generate
from trueroi.demo.load import demo_config, load_into
from trueroi.errors import WorkspaceError
from trueroi.metrics import KpiReport, data_range, kpi_report, last_full_quarter
from trueroi.quality import findings, worst
from trueroi.report.html import fmt, write_kpi_report
from trueroi.workspace import Workspace

#: What a demo writes into its folder; only these are removed when a demo is replaced.
DEMO_FILES = (
    "trueroi.toml",
    "warehouse.duckdb",
    "warehouse.duckdb.wal",
    "demo-data",
    "ground_truth.json",
    "report.html",
)
TRUTH_COLUMNS = (
    ("platform_roas", "ROAS platform-claimed", "ratio"),
    ("roas", "ROAS last click", "ratio"),
    ("true_roas", "ROAS true", "ratio"),
    ("media_roi", "Media ROI last click", "pct"),
    ("true_media_roi", "Media ROI true", "pct"),
)
Progress = Callable[[str, float], None]


@dataclass
class DemoRun:
    """What a demo run loaded and found: the last full quarter's KPIs against the ground truth."""

    directory: Path
    rows: dict[str, int]
    kpis: KpiReport
    truth: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    report: Path
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": str(self.directory),
            "rows": self.rows,
            "kpis": self.kpis.to_dict(),
            "truth": self.truth,
            "findings": self.findings,
            "report": str(self.report),
            "seconds": self.seconds,
        }


def clear_demo(directory: Path) -> None:
    """Remove a previous demo from ``directory`` (only the files a demo writes)."""
    if not (directory / "trueroi.toml").exists():
        return
    for name in DEMO_FILES:
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def truth_rows(report: KpiReport, truth: dict[str, Any]) -> list[dict[str, Any]]:
    """Per channel of the quarter: ROAS and media ROI as last click and the platforms claim, and true."""
    quarter = f"{report.period.start.year}Q{(report.period.start.month - 1) // 3 + 1}"
    rows = []
    by_channel = report.rows.set_index("channel")
    for name, ch in truth["channels"].items():
        q = ch["by_quarter"].get(quarter)
        if q is None or name not in by_channel.index:
            continue
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
    return rows


def truth_html(rows: list[dict[str, Any]]) -> str:
    """The claimed-vs-true table as HTML for the demo's report (names escaped)."""
    head = "<tr><th>Channel</th>" + "".join(f"<th>{label}</th>" for _, label, _ in TRUTH_COLUMNS) + "</tr>"
    body = "".join(
        f"<tr><td>{html.escape(str(r['channel']))}</td>"
        + "".join(f"<td>{fmt(r[k], kind)}</td>" for k, _, kind in TRUTH_COLUMNS)
        + "</tr>"
        for r in rows
    )
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


def run_demo(
    directory: str | os.PathLike[str],
    *,
    seed: int = 42,
    scale: float = 1.0,
    fresh: bool = False,
    report: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> DemoRun:
    """Simulate the demo shop into ``directory``, load it, and report its last full quarter.

    Raises
    ------
    WorkspaceError
        When ``directory`` already holds a workspace and ``fresh`` is not set.
    """
    started = time.perf_counter()
    directory = Path(directory).expanduser().resolve()
    if (directory / "trueroi.toml").exists():
        if not fresh:
            raise WorkspaceError(
                f"{directory} already holds a workspace; replace the demo (fresh) or choose another folder"
            )
        clear_demo(directory)
    files = generate(directory / "demo-data", seed=seed, scale=scale, progress=progress)
    shutil.copyfile(files.directory / "ground_truth.json", directory / "ground_truth.json")
    with Workspace.init(directory, demo_config(name=directory.name)) as ws:
        loaded = load_into(ws, files)
        quarter = last_full_quarter(data_range(ws).end)
        kpis = kpi_report(ws, by="channel", start=quarter.start, end=quarter.end, compare="yoy")
        found = [{"severity": f.severity, "title": f.title, "count": f.count} for f in worst(findings(ws), 5)]
    rows = truth_rows(kpis, files.truth)
    true_roi = {r["channel"]: r["true_media_roi"] for r in rows}
    out = write_kpi_report(
        report or directory / "report.html",
        kpis,
        title=f"trueroi demo shop - {quarter}",
        truth_roi=true_roi,
        extra_sections=[("Claimed vs true", truth_html(rows))],
    )
    return DemoRun(directory, loaded.rows, kpis, rows, found, out, time.perf_counter() - started)
