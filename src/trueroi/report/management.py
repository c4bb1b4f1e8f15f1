"""The management/client report's content: every figure gathered from the library into one plain structure.

:func:`build_report` asks the library for each section of a period (goals and pacing, headline KPIs with
year-over-year change (paid-media figures beside blended ones), media vs full ROI by channel, tracking
coverage, saved lift tests, the attribution comparison, the mix model and its budget recommendation, data
quality, anomalies) and returns one JSON-able dict. The renderers (:mod:`trueroi.report.management_html`,
:mod:`trueroi.report.pdf`) only lay it out, so HTML, PDF and JSON show the same numbers. :func:`next_steps`
turns the numbers into plain sentences, each naming the section and figure it comes from and the evidence
it rests on (a lift test over a converged mix model over attribution).

Money is in the workspace base currency; ratios are fractions (``media_roi`` -0.35 is -35%).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trueroi.attribution import attribute, build_journeys, resolve_models
from trueroi.errors import UsageError
from trueroi.goals import goal_status, pacing_status
from trueroi.io import jsonable
from trueroi.metrics import KPIS, data_range, kpi_report
from trueroi.metrics.definitions import TOTAL_KPIS
from trueroi.metrics.dimensions import Period, parse_period
from trueroi.metrics.engine import KpiReport
from trueroi.mmm.margin import workspace_margin_rate
from trueroi.monitor import detect_anomalies
from trueroi.quality.findings import findings
from trueroi.report.branding import find_logo
from trueroi.report.family_sections import family_content
from trueroi.report.longterm_sections import longterm_content
from trueroi.report.model_sections import experiments_section, mmm_section
from trueroi.report.next_steps import KIND, next_steps
from trueroi.report.recommend import split
from trueroi.report.tracking import tracking_section
from trueroi.workspace.rules import utc_bounds

if TYPE_CHECKING:
    from trueroi.workspace import Workspace

DEFAULT_MODEL_DIR = Path("models") / "mmm"
"""Where the report looks for a fitted mix model when none is given: ``<workspace>/models/mmm``."""

HEADLINE_KPIS = (
    "revenue",
    "margin",
    "spend",
    "conversions",
    "paid_roas",
    "mer",
    "paid_cpa",
    "cpa",
    "media_roi",
    "full_roi",
    "sessions",
)
HEADLINE_LABELS = {  # paid-media figures beside the blended ones, each saying what it divides
    "paid_roas": "Paid-media ROAS (revenue attributed to paid channels / media spend)",
    "mer": "MER, blended ROAS (all revenue / media spend)",
    "paid_cpa": "Paid-media CPA (media spend / orders attributed to paid channels)",
    "cpa": "Blended CPA (media spend / all orders)",
    "media_roi": "Media ROI, blended (all margin - media spend) / media spend",
    "full_roi": "Full ROI, blended (all margin - all marketing costs) / all costs",
}
CHANNEL_COLUMNS = (
    "channel",
    "spend",
    "revenue",
    "margin",
    "conversions",
    "roas",
    "cpa",
    "media_roi",
    "full_roi",
)


def build_report(
    ws: Workspace,
    period: Period | str,
    *,
    client: str | None = None,
    model_dir: str | Path | None = None,
    attribution_models: str = "all",
    goals: list[dict[str, Any]] | None = None,
    pacing: list[dict[str, Any]] | None = None,
    anomalies: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything the management report shows for ``period``, as one JSON-able dict.

    Parameters
    ----------
    ws
        An open workspace with data.
    period
        A :class:`~trueroi.metrics.Period` or its text (``2026-Q3``, ``2026-07``, ``2026``,
        ``2026-07-01..2026-09-30``).
    client
        A ``[clients.NAME]`` branding of ``trueroi.toml``; None: the workspace's own branding.
    model_dir
        A fitted mix model's folder; None: ``<workspace>/models/mmm`` when it exists. A fit that did not
        converge is shown with its diagnostics but not used for advice.
    attribution_models
        Models compared in the attribution section (``all`` or comma-separated registry names).
    goals, pacing, anomalies
        Rows (dicts) to show instead of asking :mod:`trueroi.goals` and :mod:`trueroi.monitor`; None asks.

    Returns
    -------
    dict
        The sections (``goals``, ``pacing``, ``kpis``, ``channels``, ``tracking``, ``experiments``,
        ``attribution``, ``mmm``, ``quality``, ``anomalies``; ``families``, the e-mail, SEO and social KPIs,
        only when the workspace holds such rows in the period: :mod:`trueroi.report.family_sections`;
        ``longterm``, short-term vs long-term ROI and the lagged channels, only with a fitted mix model:
        :mod:`trueroi.report.longterm_sections`),
        ``margin`` (the margin rate used and its source), ``next_steps`` (the first
        :data:`~trueroi.report.recommend.MANAGEMENT_STEPS`, each with its ``evidence``) and
        ``next_steps_appendix`` (the rest).

    Raises
    ------
    ConfigError
        If ``client`` has no branding in the workspace config, or its logo file is missing.
    UsageError
        If the period is not understood, ``model_dir`` holds no fitted model or an attribution model name
        is unknown (all checked before any work).
    """

    label = period if isinstance(period, str) else str(period)
    period = parse_period(period) if isinstance(period, str) else period
    brand = _client(ws, client, ws.config.branding_for(client))  # fails early: unknown client, no logo
    model_path = _model_path(ws, model_dir)  # and on a --model that holds no model
    _check_models(attribution_models)
    ws.require_data()
    covered = data_range(ws)
    report = kpi_report(ws, by="channel", start=period.start, end=period.end, compare="yoy", extras=False)
    margin = _margin(ws, period)
    content: dict[str, Any] = {
        "title": f"Marketing performance {label.strip()}",
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "client": brand,
        "period": {"label": label.strip(), "from": period.start.isoformat(), "to": period.end.isoformat()},
        "currency": ws.config.base_currency,
        "attribution_model": report.attribution_model,
        "margin": margin,
        "goals": _goals(ws, period, goals, covered),
        "pacing": _pacing(ws, period, pacing, covered),
        "kpis": _kpi_section(report, covered),
        "channels": _channel_section(report),
        "tracking": tracking_section(ws, period, report.rows, ws.config.base_currency),
        "experiments": experiments_section(ws, period),
        "attribution": attribution_section(ws, period, attribution_models),
        "mmm": mmm_section(model_path, margin),
        "quality": _quality(ws),
        "anomalies": _anomalies(ws, period, anomalies),
    }
    families = family_content(ws, period, report.attribution_model)
    if families:  # only a workspace with e-mail, Search Console or social rows in the period
        content["families"] = families
    longterm = longterm_content(model_path, margin)
    if longterm:  # only with a fitted mix model: short-term vs long-term ROI, lagged channels
        content["longterm"] = longterm
    content["attribution"] = _with_roas(content["attribution"], content["channels"]["rows"])
    content = jsonable(content)
    content["next_steps"], content["next_steps_appendix"] = split(next_steps(content))
    return jsonable(content)


def _margin(ws: Workspace, period: Period) -> dict[str, Any]:
    """The contribution margin rate that turns incremental revenue into margin (lift tests, mix model)."""
    found = workspace_margin_rate(ws, period.start, period.end)
    return {"rate": found.rate, "source": f"{found.source}, {period.start} to {period.end}"}


def _check_models(models: str) -> None:
    resolve_models(models)


def _client(ws: Workspace, client: str | None, branding: Any) -> dict[str, Any]:
    """The client block of the report; its logo checked (inside the workspace, a PNG or JPEG image)."""
    logo = find_logo(ws, branding, client or "the workspace")
    return {
        "key": client,
        "name": branding.name,
        "logo": str(logo) if logo else None,
        "primary_color": branding.primary_color,
        "accent_color": branding.accent_color,
    }


def _kpi_section(report: KpiReport, covered: Period) -> dict[str, Any]:
    """Headline KPIs with year-over-year change, from one ``kpi_report(by="channel", compare="yoy")``."""
    message = ""
    if report.rows.empty:
        message = f"No ads or orders in this period; the data covers {covered.start} to {covered.end}."
    return {
        "compare": {
            "mode": "yoy",
            "from": report.compare_period.start.isoformat(),
            "to": report.compare_period.end.isoformat(),
        },
        "rows": _kpi_rows(report.totals),
        "message": message,
        "notes": list(report.notes),
    }


def _kpi_rows(totals: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per headline KPI: value, last year's, and the change (percent, or points for ROI)."""
    rows = []
    for name in HEADLINE_KPIS:
        kpi = KPIS.get(name) or TOTAL_KPIS[name]
        kind = KIND[kpi.kind]
        change = totals.get(f"{name}_change")
        rows.append(
            {
                "kpi": name,
                "label": HEADLINE_LABELS.get(name, kpi.label),
                "kind": kind,
                "value": totals.get(name),
                "previous": totals.get(f"{name}_prev"),
                "change": change,
                "change_pct": change if kind == "pct" else totals.get(f"{name}_change_pct"),
                "change_unit": "pts" if kind == "pct" else "%",
            }
        )
    return rows


def _channel_section(report: Any) -> dict[str, Any]:
    """Media vs full ROI by channel: channels with spend first (by spend), then the unpaid ones."""
    df = report.rows
    rows = df[list(CHANNEL_COLUMNS)].to_dict(orient="records")
    rows.sort(key=lambda r: (-(r["spend"] or 0.0), str(r["channel"])))
    return {"attribution_model": report.attribution_model, "rows": rows}


def attribution_section(ws: Workspace, period: Period, models: str = "all") -> dict[str, Any]:
    """Conversions and revenue of the period's orders credited to channels under each attribution model.

    Journeys are the workspace's (touchpoints within the lookback window before each order ending in the
    period); the same journeys go through every model, so each model's column sums to the same totals.
    """

    start, end = utc_bounds(period.start, period.end, ws.config.timezone)
    journeys = build_journeys(ws, start=start, end=end, with_meta=False)
    if journeys.total_conversions == 0:
        return {"available": False, "message": "no converting journeys in the period", "models": []}
    result = attribute(journeys, models)
    conv, value = result.wide("conversions"), result.wide("value")
    return {
        "available": True,
        "models": list(conv.columns),
        "channels": list(conv.index),
        "conversions": {m: conv[m].to_dict() for m in conv.columns},
        "value": {m: value[m].to_dict() for m in value.columns},
        "total_conversions": float(result.total_conversions),
        "total_value": float(result.total_value),
    }


def _with_roas(section: dict[str, Any], channels: list[dict[str, Any]]) -> dict[str, Any]:
    """Add ROAS (attributed revenue / the channel's media spend in the period) per model, and the spread."""
    if not section.get("available"):
        return section
    spend = {r["channel"]: r["spend"] for r in channels if r["spend"]}
    roas = {
        m: {ch: (v / spend[ch] if ch in spend else None) for ch, v in values.items()}
        for m, values in section["value"].items()
    }
    spread = []
    for ch in section["channels"]:
        known = {m: roas[m][ch] for m in section["models"] if roas[m].get(ch) is not None}
        if not known:
            continue
        lo, hi = min(known, key=known.get), max(known, key=known.get)
        spread.append(
            {
                "channel": ch,
                "spend": spend[ch],
                "roas_min": known[lo],
                "model_min": lo,
                "roas_max": known[hi],
                "model_max": hi,
            }
        )
    spread.sort(key=lambda r: r["roas_min"] - r["roas_max"])
    return {**section, "spend": spend, "roas": roas, "spread": spread}


def _model_path(ws: Workspace, model_dir: str | Path | None) -> Path:
    """The mix model directory to use; a given one must hold a fitted model."""
    if model_dir is None:
        return Path(ws.path) / DEFAULT_MODEL_DIR
    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise UsageError(
            f"{path} holds no fitted mix model (no config.json); fit one into it or choose another folder"
        )
    return path


def _quality(ws: Workspace) -> dict[str, Any]:
    return {"findings": [f.to_dict() for f in findings(ws)]}


def _as_dicts(items: Any) -> list[dict[str, Any]]:
    return [i.to_dict() if hasattr(i, "to_dict") else dict(i) for i in items or []]


def _overlaps(row: dict[str, Any], period: Period) -> bool:
    lo, hi = row.get("from"), row.get("to")
    if lo is None or hi is None:
        return True
    lo = date.fromisoformat(str(lo)[:10])
    hi = date.fromisoformat(str(hi)[:10])
    return lo <= period.end and hi >= period.start


def _goals(
    ws: Workspace, period: Period, rows: list[dict[str, Any]] | None, covered: Period
) -> dict[str, Any]:
    if rows is None:
        rows = _as_dicts(goal_status(ws, as_of=min(period.end, covered.end)))
    rows = [r for r in _as_dicts(rows) if _overlaps(r, period)]
    message = "" if rows else "No goals overlap this period."
    return {"available": True, "rows": rows, "message": message}


def _pacing(
    ws: Workspace, period: Period, rows: list[dict[str, Any]] | None, covered: Period
) -> dict[str, Any]:
    if rows is None:
        rows = _as_dicts(pacing_status(ws, as_of=min(period.end, covered.end)))
    rows = [r for r in _as_dicts(rows) if _overlaps(r, period)]
    message = "" if rows else "No budgets are set for this period."
    return {"available": bool(rows), "rows": rows, "message": message}


# The report judges the whole business and each channel; campaigns are what alert rules and `monitor check`
# watch: a GA4 export's thousands of campaign names cost most of the detection time (issue 24) and would
# fill the report's strongest-anomaly table with single newsletters and referrers.
REPORT_SCOPES = ("total", "channel")


def _anomalies(ws: Workspace, period: Period, rows: list[dict[str, Any]] | None) -> dict[str, Any]:
    if rows is None:
        rows = _as_dicts(detect_anomalies(ws, start=period.start, end=period.end, scopes=list(REPORT_SCOPES)))
    message = "" if rows else "No anomalies detected in this period."
    return {"available": True, "rows": _as_dicts(rows), "message": message}
