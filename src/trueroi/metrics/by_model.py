"""ROI by attribution model: the same spend and margin, credited by each model, side by side.

Spend per channel (``ad_performance.spend``, converted to the base currency with ``fx_rates``), non-media
costs and contribution margin come from the KPI engine (:func:`trueroi.metrics.engine.kpi_report`), which
asks :func:`trueroi.attribution.order_credits` for each order's credit under each model; so ROAS, media ROI
and full ROI follow DESIGN.md's definitions exactly and agree with ``trueroi kpis --attribution MODEL``:

- ROAS = attributed revenue / media spend;
- media ROI = (attributed contribution margin - media spend) / media spend;
- full ROI = (attributed contribution margin - all marketing costs) / all marketing costs.

The spread table puts each channel's lowest and highest ROAS and media ROI across models next to each other
and flags ``decision_changes`` where the model decides whether the channel pays back (media ROI >= 0 under
one model and < 0 under another).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from trueroi.attribution import resolve_models
from trueroi.io import jsonable
from trueroi.metrics.engine import kpi_report
from trueroi.workspace import Workspace

ROI_COLUMNS = [
    "model",
    "channel",
    "conversions",
    "revenue",
    "margin",
    "spend",
    "total_cost",
    "roas",
    "media_roi",
    "full_roi",
]


def roi_by_model(
    workspace: Workspace,
    models: str | Sequence[str] = "all",
    *,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """ROAS, media ROI and full ROI per channel under each model, in one long table.

    Returns
    -------
    pandas.DataFrame
        ``model, channel, conversions, revenue, margin, spend, total_cost, roas, media_roi, full_roi``;
        money in
        the workspace base currency; ratios are null where the denominator is zero.
    """
    frames = []
    for name in resolve_models(models):
        report = kpi_report(workspace, by="channel", start=start, end=end, attribution=name)
        rows = report.rows.copy()
        for col in ROI_COLUMNS:
            if col not in rows.columns and col != "model":
                rows[col] = np.nan
        frames.append(rows.assign(model=name)[ROI_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def roi_spread(roi: pd.DataFrame) -> pd.DataFrame:
    """Per channel: lowest and highest ROAS and media ROI across models, and whether the model decides.

    Returns
    -------
    pandas.DataFrame
        ``channel, roas_min, roas_max, roas_spread, media_roi_min, media_roi_max, decision_changes,
        model_roi_min, model_roi_max`` sorted by ``roas_spread`` descending.
    """
    rows = []
    for channel, g in roi.groupby("channel", sort=True):
        known = g.dropna(subset=["media_roi"])
        if known.empty:
            rows.append({"channel": channel, "decision_changes": False})
            continue
        lo, hi = known.loc[known["media_roi"].idxmin()], known.loc[known["media_roi"].idxmax()]
        rows.append(
            {
                "channel": channel,
                "roas_min": g["roas"].min(),
                "roas_max": g["roas"].max(),
                "roas_spread": g["roas"].max() - g["roas"].min(),
                "media_roi_min": lo["media_roi"],
                "media_roi_max": hi["media_roi"],
                "decision_changes": bool(lo["media_roi"] < 0 <= hi["media_roi"]),
                "model_roi_min": lo["model"],
                "model_roi_max": hi["model"],
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values("roas_spread", ascending=False, na_position="last", ignore_index=True)


@dataclass(frozen=True)
class RoiComparison:
    """ROAS and ROI by attribution model (:func:`roi_by_model`) and the spread between models
    (:func:`roi_spread`)."""

    roi: pd.DataFrame
    spread: pd.DataFrame

    @property
    def decisive_channels(self) -> list[str]:
        """Channels where the attribution model decides whether the channel pays back."""
        return list(self.spread.loc[self.spread["decision_changes"].astype(bool), "channel"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``trueroi attribution --view roi --format json``."""
        return jsonable({"roi": self.roi.to_dict("records"), "spread": self.spread.to_dict("records")})


def compare_roi(
    workspace: Workspace,
    models: str | Sequence[str] = "all",
    *,
    start: date | None = None,
    end: date | None = None,
) -> RoiComparison:
    """ROI by attribution model over the days ``[start, end]`` (default: all data), with the spread."""
    workspace.require_data()
    roi = roi_by_model(workspace, models, start=start, end=end)
    return RoiComparison(roi=roi, spread=roi_spread(roi))
