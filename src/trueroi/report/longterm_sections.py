"""The management report's long-term view of the mix model: short-term vs long-term ROI per channel, and the
lagged channels whose return mostly arrives after the first month (issue 22).

:func:`longterm_content` reads the fitted mix model the report uses and computes each channel's cumulative
ROI by months since spend (:func:`trueroi.mmm.longterm.cumulative_roi`): the ROI after 1, 3 and 12 months
beside the long-run ROI (the model's ROI, which the curve reaches after the adstock's ``l_max`` periods),
the share of the long-run return realised within the first month, and the payback month. A channel is
*lagged* when less than half of its long-run return arrives within the first month
(:data:`~trueroi.mmm.longterm.LAGGED_SHARE`), i.e. its one-month ROAS is below half its long-run ROAS: a
one-month view undervalues it. Without a fitted model the content has no ``longterm`` key and the report no
such sections, so other reports are unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trueroi.mmm import load_model
from trueroi.mmm import results as R
from trueroi.mmm.longterm import LAGGED_SHARE, cumulative_roi
from trueroi.report.layout import Chart, Section, table

MONTHS = (1, 3, 12, 36)
MAX_DRAWS = 1000
BASIS_LABEL = {"margin": "ROI on margin", "roas": "ROAS", "per_spend": "conversions per unit of spend"}


def longterm_content(path: Path, margin: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Short-term vs long-term ROI of the model in ``path`` (None without a fitted model there).

    ``margin`` (``{"rate", ...}``) gives a revenue model fitted without a margin rate its ROI on margin, as
    the report's mix-model section does.
    """
    if not (path / "config.json").is_file():
        return None
    model = load_model(path)
    if model.margin_rate is None and model.kpi == "revenue" and (margin or {}).get("rate") is not None:
        model.margin_rate = float(margin["rate"])  # this loaded copy only
    curves = cumulative_roi(model, months=MONTHS, max_draws=MAX_DRAWS)
    payload = curves.to_dict()
    rows = [_row(c, block) for c, block in payload["channels"].items()]
    lagged = set(curves.lagged_channels())
    problems = R.convergence_problems(model.diagnostics_, model.method, model.draws * model.chains)
    return {
        "basis": curves.basis,
        "months": list(MONTHS),
        "carryover_months": payload["carryover_months"],
        "note": payload["note"],
        "lagged_share": LAGGED_SHARE,
        "rows": rows,
        "lagged": [r for r in rows if r["channel"] in lagged],
        "converged": not problems,
    }


def _row(channel: str, block: dict[str, Any]) -> dict[str, Any]:
    mean, lower, upper = (block["cumulative_roi"][k] for k in ("mean", "lower", "upper"))
    at = {m: i for i, m in enumerate(block["months"])}
    return {
        "channel": channel,
        "roi_1m": mean[at[1]],
        "roi_1m_lower": lower[at[1]],
        "roi_1m_upper": upper[at[1]],
        "roi_3m": mean[at[3]],
        "roi_12m": mean[at[12]],
        "roi_long_run": block["long_run_roi"]["mean"],
        "roi_long_run_lower": block["long_run_roi"]["lower"],
        "roi_long_run_upper": block["long_run_roi"]["upper"],
        "share_1m": block["share_realised"][at[1]],
        "payback_month": block["payback_month"],
    }


def longterm_sections(content: dict[str, Any], charts: dict[str, Chart]) -> list[Section]:
    """The "Short-term vs long-term ROI" and "Lagged channels" sections; none without
    ``content["longterm"]``."""
    lt = content.get("longterm")
    if not lt:
        return []
    kind = "pct" if lt["basis"] == "margin" else "ratio"
    label = BASIS_LABEL[lt["basis"]]
    columns = [
        ("channel", "Channel", "text"),
        ("roi_1m", "1 month", kind),
        ("roi_1m_lower", "1 month 5%", kind),
        ("roi_1m_upper", "1 month 95%", kind),
        ("roi_3m", "3 months", kind),
        ("roi_12m", "12 months", kind),
        ("roi_long_run", "Long run", kind),
        ("roi_long_run_lower", "Long run 5%", kind),
        ("roi_long_run_upper", "Long run 95%", kind),
        ("share_1m", "Share in month 1", "pct"),
        ("payback_month", "Payback (months)", "count"),
    ]
    caveat = (
        "" if lt["converged"] else " The fit did not converge (see the mix-model section): read with care."
    )
    intro = (
        f"Cumulative {label} by months since spend, from the mix model's fitted carry-over (posterior means, "
        f"90% intervals). The long run is the model's ROI, reached after {lt['carryover_months']:.1f} months "
        "(the adstock's l_max); payback is the first of 1, 3, 12, 36 months where the spend is paid back."
        + caveat
    )
    short_long = Section(
        "longterm", "Short-term vs long-term ROI", intro, tables=[table("", lt["rows"], columns)]
    )
    share = f"{lt['lagged_share']:.0%}"
    lagged = Section(
        "lagged_channels",
        "Lagged channels",
        f"Channels that earn less than {share} of their long-run return within the first month: a one-month "
        "(or last-click) view undervalues them; judge them on the long-run figure.",
        tables=[table("", lt["lagged"], columns)] if lt["lagged"] else [],
        message="" if lt["lagged"] else f"No channel earns less than {share} of its return after month one.",
    )
    return [short_long, lagged]
