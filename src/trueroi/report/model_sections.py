"""The report's sections on incrementality: the fitted mix model and the saved lift tests.

:func:`mmm_section` reads a fitted mix model: ROI on contribution margin with ROAS beside it per channel,
its diagnostics, and a budget plan, but only when the fit converged (:func:`trueroi.mmm.results.
convergence_problems`); an unconverged fit is shown with its diagnostics and the reason it is not used, and
the report's advice falls back to the next evidence. :func:`experiments_section` lists the workspace's saved
lift tests (:mod:`trueroi.experiments.store`) and marks the one per channel that the advice uses.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trueroi.budget.optimizer import optimize_budget
from trueroi.experiments.store import list_experiments
from trueroi.metrics.dimensions import Period
from trueroi.mmm import load_model
from trueroi.mmm import results as R

if TYPE_CHECKING:
    from trueroi.workspace import Workspace

LIFT_KPIS = ("revenue", "conversions")


def _interval(block: dict[str, Any] | None, name: str) -> dict[str, Any]:
    block = block or {}
    return {name: block.get("mean"), f"{name}_lower": block.get("lower"), f"{name}_upper": block.get("upper")}


def _channel_rows(summary: dict[str, Any], rate: float | None) -> list[dict[str, Any]]:
    """Per channel: spend, contribution, ROI on margin (with ``rate`` when the model has none), ROAS."""
    rows = []
    for ch, s in summary["channels"].items():
        roi = s.get("roi") or {}
        if roi.get("mean") is None and s.get("roas", {}).get("mean") is not None:
            roi = R.on_margin(s["roas"], rate)
        mroi = s.get("mroi") or {}
        if mroi.get("mean") is None and s.get("mroas", {}).get("mean") is not None:
            mroi = R.on_margin(s["mroas"], rate)
        rows.append(
            {
                "channel": ch,
                "spend": s["spend"],
                "contribution": s["contribution"]["mean"],
                **_interval(roi, "roi"),
                "mroi": mroi.get("mean"),
                **_interval(s.get("roas"), "roas"),
                "mroas": (s.get("mroas") or {}).get("mean"),
            }
        )
    return rows


def mmm_section(path: Path, margin: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fitted mix model's ROI on margin and ROAS by channel and, when the fit converged, a budget
    recommendation at the current weekly total.

    ``margin`` (``{"rate", "source"}``) turns the model's ROAS into ROI on margin when the model was fitted
    without a margin rate. Without a model in ``path`` the section says where it looked and how to fit one.
    """
    if not (path / "config.json").is_file():
        return {
            "available": False,
            "dir": str(path),
            "message": f"No fitted mix model found at {path}. Fit a mix model into this folder (or "
            "choose a model folder) to add mix-model ROI and a budget recommendation.",
        }
    model = load_model(path)
    summary = model.summary()
    rate, source = summary.get("margin_rate"), "the margin rate the model was fitted with"
    if rate is None and model.kpi == "revenue":
        rate, source = (margin or {}).get("rate"), (margin or {}).get("source")
    lifts = getattr(model, "lift_tests_", None)
    problems = R.convergence_problems(summary["diagnostics"], model.method, model.draws * model.chains)
    section: dict[str, Any] = {
        "available": True,
        "used": not problems,
        "dir": str(path),
        "kpi": model.kpi,
        "method": model.method,
        "margin_rate": rate,
        "margin_source": source,
        "channels": _channel_rows(summary, rate),
        "diagnostics": summary["diagnostics"],
        "warnings": list(getattr(model, "warnings_", [])),
        "calibrated_channels": sorted(set(lifts["channel"])) if lifts is not None else [],
    }
    if problems:
        section["not_used"] = (
            f"The mix model in {path} is not used for advice: {'; '.join(problems)}. Refit it with more "
            "warm-up and draws (or tighter priors) until R-hat is at most 1.05 and no transition diverges; "
            "until then the recommendations rest on the next evidence (lift tests, attribution)."
        )
    else:
        section["budget"] = _budget(model)
    return section


def _budget(model: Any) -> dict[str, Any]:
    curves = model.response_curves()
    total = float(curves.current_spend.sum())
    plan = optimize_budget(curves, total, objective="revenue")
    payload = plan.to_dict()
    return {
        "weekly_total": total,
        "kpi": payload["kpi"],
        "rows": payload["explanation"],
        "expected": payload["expected"],
        "current_expected": payload["current_expected"],
        "p_beats_current": payload["p_beats_current"],
    }


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def experiments_section(ws: Workspace, period: Period) -> dict[str, Any]:
    """The workspace's saved lift tests; ``used`` marks the latest finished one of each channel (ended by the
    period's last day, a spend change and a lift interval, KPI revenue or conversions)."""
    frame = list_experiments(ws)
    rows = []
    for r in frame.to_dict(orient="records"):
        end = r["end"].date()
        usable = (
            end <= period.end
            and r["kpi"] in LIFT_KPIS
            and _finite(r["delta_spend"])
            and r["delta_spend"] != 0
            and all(_finite(r[k]) for k in ("lift", "lift_lower", "lift_upper"))
        )
        rows.append(
            {
                **{k: r[k] for k in ("experiment_id", "name", "kind", "channel", "kpi")},
                "start": r["start"].date().isoformat(),
                "end": end.isoformat(),
                **{k: r[k] for k in ("delta_spend", "lift", "lift_lower", "lift_upper", "level", "p_value")},
                "iroas": r["iroas"],
                "usable": usable,
                "used": False,
            }
        )
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:  # oldest first: a later test of the channel replaces an earlier one
        if row["usable"] and (row["channel"] not in latest or row["end"] >= latest[row["channel"]]["end"]):
            latest[row["channel"]] = row
    for row in latest.values():
        row["used"] = True
    message = "" if rows else "No lift test is saved in this workspace."
    return {"available": bool(rows), "rows": rows, "message": message}
