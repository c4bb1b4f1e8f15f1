"""Fit a mix model from a file, a DataFrame or a workspace in one call, the way every face does.

:func:`fit_mix_model` makes the choices a face would otherwise repeat: the national model, or the geo model
when a geo column is named; the workspace's weekly series (every channel by default) when no data is given;
holdout weeks turned into periods of the series (weeks or days); the model directory written when asked.
It returns a :class:`MixModelFit` whose ``to_dict()`` is the JSON of ``trueroi mmm fit --format json``.

Progress: a NUTS run reports to the callback set with :func:`trueroi.mmm.nuts.reporting`. To run chains in
parallel on the CPU cores, call :func:`trueroi.mmm.use_cpu_cores` before JAX starts (first thing in the
process), as the CLI does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trueroi.errors import UsageError
from trueroi.io import read_csv
from trueroi.mmm.base import MixModel
from trueroi.mmm.data import infer_period_days
from trueroi.mmm.geo import GeoMMM, roi_rows
from trueroi.mmm.halo import HaloMMM
from trueroi.mmm.halo_geo import GeoHaloMMM
from trueroi.mmm.model import MMM

INTERVAL_KEYS = ("mean", "lower", "upper")


@dataclass
class MixModelFit:
    """A fitted mix model and what the faces show of it.

    Attributes
    ----------
    model
        The fitted :class:`~trueroi.mmm.MMM` or :class:`~trueroi.mmm.geo.GeoMMM`.
    out
        The model directory written, or None.
    summary
        ``model.summary()``, computed once.
    """

    model: MixModel
    out: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``"national"`` or ``"geo"``."""
        return self.model.KIND

    @property
    def warnings(self) -> list[str]:
        """What a careful analyst should check before trusting the fit, one sentence each."""
        return list(self.model.warnings_)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi mmm fit --format json``: ``channels`` (spend, contribution, roi on margin,
        roas, mroi, mroas with 90% intervals), for a geo model ``geos``, then ``diagnostics``,
        ``fit_seconds`` and what roi means (``kpi``, ``roi_basis``, ``margin_rate``, ``roi_note``)."""
        return self.summary

    def rows(self) -> list[dict[str, Any]]:
        """The table and CSV rows. National: one per channel with ``spend`` and ``contribution_*``,
        ``roi_*``, ``mroi_*``, ``roas_*``, ``mroas_*`` (``mean``, ``lower``, ``upper``; ROI on margin, null
        when no margin rate is known); geo: one per geo (``"national"`` first) and channel with ``spend``,
        ``roi_mean``, ``roi_lower``, ``roi_upper`` and ``roas_mean``."""
        if self.kind in (GeoMMM.KIND, GeoHaloMMM.KIND):
            return [
                {
                    "geo": r["geo"],
                    "channel": r["channel"],
                    "spend": r["spend"],
                    **{f"roi_{k}": r[k] for k in INTERVAL_KEYS},
                    "roas_mean": r["roas_mean"],
                }
                for r in roi_rows(self.summary)
            ]
        keys: tuple[str, ...] = ("contribution", "roi", "mroi", "roas", "mroas")
        if self.kind == HaloMMM.KIND:  # roi is the total effect; its direct and indirect parts beside it
            keys = (*keys, "roi_direct", "roi_indirect")
        return [
            {
                "channel": c,
                "spend": s["spend"],
                **{f"{k}_{b}": s.get(k, {}).get(b) for k in keys for b in INTERVAL_KEYS},
            }
            for c, s in self.summary["channels"].items()
        ]


def fit_mix_model(
    data: pd.DataFrame | str | os.PathLike[str] | None = None,
    *,
    workspace: str | os.PathLike[str] | None = None,
    date: str = "week",
    target: str = "revenue",
    channels: Sequence[str] | None = None,
    controls: Sequence[str] = (),
    events: Sequence[str] = (),
    organic: Sequence[str] = (),
    treatments: Sequence[str] = (),
    geo: str | None = None,
    adstock: str = "geometric",
    saturation: str = "hill",
    holdout_weeks: int = 0,
    calibration: pd.DataFrame | str | os.PathLike[str] | None = None,
    method: str = "nuts",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    kpi: str = "revenue",
    margin_rate: float | None = None,
    out: str | os.PathLike[str] | None = None,
    halo: Sequence[str] = (),
    mediator: str = "brand_clicks",
    mediator_channel: str | None = None,
) -> MixModelFit:
    """Fit the national mix model, or the geo model when ``geo`` names a column, and save it.

    Parameters
    ----------
    data
        A weekly or daily series (one row per period), or with ``geo`` a long panel (one row per period and
        geo): a DataFrame or a CSV file. None: the workspace's weekly series (spend per channel from
        ``ad_performance``, revenue from ``orders``; see :func:`~trueroi.mmm.workspace_data.weekly_series`),
        where ``date`` and ``target`` are ``week`` and ``revenue``.
    workspace
        The workspace directory when ``data`` is None (None: ``$TRUEROI_WORKSPACE`` or the current one).
    date, target, channels, controls, events
        Column roles: period start, KPI, spend columns (base currency; default with the workspace: every
        channel), additive controls, 0/1 event columns (national model only).
    organic, treatments
        National model only: unpaid media inputs (contribution, no ROI) and price or promotion columns
        (effect per unit and contribution); see :mod:`trueroi.mmm.organic`.
    geo
        The geo column of a long panel: fits :class:`~trueroi.mmm.geo.GeoMMM`.
    adstock, saturation, method, draws, tune, chains, seed, kpi
        Model settings (see :class:`~trueroi.mmm.MMM`).
    holdout_weeks
        The last weeks kept out of the fit to measure holdout MAPE (7 periods a week for daily data).
    calibration
        Lift tests to calibrate with (a CSV file or DataFrame, see :func:`~trueroi.mmm.read_lift_tests`).
    margin_rate
        Contribution margin per unit of revenue for the summary's ROI on margin. None: from the workspace when
        one is read or named (the margin share of its orders' COGS, else its ``default_margin``; see
        :func:`~trueroi.mmm.margin.workspace_margin_rate`); without either the summary gives ROAS only.
    out
        The model directory to write (see :mod:`trueroi.mmm.persist`); None writes nothing.
    halo, mediator, mediator_channel
        Upper-funnel channels that also act through brand-search volume, the column of that volume (brand
        clicks or impressions) and the brand-search spend column: fits :class:`~trueroi.mmm.halo.HaloMMM`
        (with ``geo``: :class:`~trueroi.mmm.halo_geo.GeoHaloMMM`), whose channels' ``roi`` is the total
        effect beside ``roi_direct`` and ``roi_indirect``.

    Raises
    ------
    UsageError
        On bad settings, a negative ``holdout_weeks``, events or no data for a geo model.
    DataValidationError
        On bad data (file, row and column named); nothing is written then.
    WorkspaceError
        Without data, if the workspace lacks ad spend or sales.
    """
    if holdout_weeks < 0:
        raise UsageError(f"holdout_weeks must be 0 or more, got {holdout_weeks}")
    frame, source, workspace_rate = _input(data, workspace, geo)
    if data is None:
        date, target = "week", "revenue"
        channels = list(channels or []) or [c for c in frame.columns if c not in (date, target)]
    settings: dict[str, Any] = dict(
        adstock=adstock, saturation=saturation, method=method, draws=draws, tune=tune, chains=chains
    )
    settings.update(kpi=kpi, seed=seed, margin_rate=workspace_rate if margin_rate is None else margin_rate)
    roles: dict[str, Any] = dict(date=date, target=target, channels=list(channels or []))
    roles.update(controls=list(controls), lift_tests=calibration, source=source)
    if geo is not None and events:
        raise UsageError("the geo model takes no event columns; model events as national controls")
    if (organic or treatments) and (geo is not None or halo):
        raise UsageError(
            "organic and treatment columns go into the national model without halo for now; "
            "fit the national model for them"
        )
    dates = frame.drop_duplicates(date) if geo is not None and date in frame.columns else frame
    settings["holdout_periods"] = holdout_weeks * (7 // infer_period_days(dates, date, source))
    halo_roles = dict(halo=list(halo), mediator=mediator, mediator_channel=mediator_channel)
    model: MixModel
    if geo is not None:
        model = GeoHaloMMM(**halo_roles, **settings) if halo else GeoMMM(**settings)
        model.fit(frame, geo=geo, **roles)
    elif halo:
        model = HaloMMM(**halo_roles, **settings)
        model.fit(frame, events=list(events), **roles)
    else:
        model = MMM(**settings)
        model.fit(frame, events=list(events), organic=list(organic), treatments=list(treatments), **roles)
    written = model.save(out) if out is not None else None
    return MixModelFit(model, written, model.summary())


def _input(
    data: pd.DataFrame | str | os.PathLike[str] | None,
    workspace: str | os.PathLike[str] | None,
    geo: str | None,
) -> tuple[pd.DataFrame, str | None, float | None]:
    """The data to fit, its name for error messages, and the workspace's margin rate (when one is read)."""
    if data is None and geo is not None:
        raise UsageError(
            "a geo model needs a long panel (one row per period and geo); the workspace's weekly series is "
            "national"
        )
    if isinstance(data, pd.DataFrame):
        frame, source = data, None
    elif data is not None:
        frame, source = read_csv(data, expected="a CSV with one row per period"), str(data)
    if data is not None and workspace is None:
        return frame, source, None
    # imported here: the workspace package loads Ibis, which fitting from a file or DataFrame never needs
    from trueroi.mmm.margin import workspace_margin_rate
    from trueroi.mmm.workspace_data import weekly_series
    from trueroi.workspace import Workspace

    with Workspace.open(workspace) as ws:
        if data is None:
            frame, source = weekly_series(ws), "workspace"
        return frame, source, workspace_margin_rate(ws).rate
