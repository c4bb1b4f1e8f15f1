"""Daily measure series for goals and budgets, cut to a scope (channel and/or campaign).

One warehouse query per status call: the KPI engine's additive facts (:func:`trueroi.metrics.facts.facts`)
grouped by local day, channel and campaign, plus conversions of each type from the ``conversions`` table
(credited to the channel and campaign of the touch that carries their click id, as the engine credits
leads). Scoping and summing then run in pandas on these small rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.metrics.facts import MEASURES, UNATTRIBUTED, facts
from trueroi.workspace import Workspace
from trueroi.workspace.rules import norm_campaign

TYPED = "typed_conversions"


@dataclass
class DailyFacts:
    """Additive measures per local day x channel x campaign (``facts``) and typed conversions (``typed``).

    ``facts`` has columns ``date_day, channel, campaign`` + every name in ``MEASURES``; ``typed`` has
    ``date_day, channel, campaign, type, typed_conversions`` (type lower-cased). Days are ``datetime64``.
    """

    facts: pd.DataFrame
    typed: pd.DataFrame
    start: date
    end: date

    @property
    def channels(self) -> list[str]:
        return sorted({c for c in self.facts["channel"].dropna().unique()})

    @property
    def campaigns(self) -> list[str]:
        return sorted({c for c in self.facts["campaign"].dropna().unique()})

    @property
    def types(self) -> list[str]:
        return sorted({t for t in self.typed["type"].dropna().unique()})

    def series(
        self,
        channel: str | None,
        campaign: str | None,
        conv_type: str | None,
        start: date,
        end: date,
    ) -> pd.DataFrame:
        """Daily sums of every measure in scope over [start, end], one row per day (missing days = 0).

        With ``conv_type``, the column ``conversions`` holds the count of conversions of that type instead
        of attributed orders.
        """
        f = _scope(self.facts, channel, campaign)
        days = pd.date_range(start, end, freq="D")
        out = f.groupby("date_day")[list(MEASURES)].sum().reindex(days, fill_value=0.0)
        if conv_type is not None:
            t = _scope(self.typed, channel, campaign)
            t = t[t["type"] == conv_type.strip().lower()]
            out["conversions"] = t.groupby("date_day")[TYPED].sum().reindex(days, fill_value=0.0)
        return out.astype(float)


def _scope(df: pd.DataFrame, channel: str | None, campaign: str | None) -> pd.DataFrame:
    keep = np.ones(len(df), dtype=bool)
    if channel is not None:
        keep &= df["channel"].str.lower().to_numpy() == channel.strip().lower()
    if campaign is not None:
        keep &= df["campaign"].fillna("").to_numpy() == campaign.strip().lower()
    return df[keep]


def load_daily(ws: Workspace, start: date, end: date) -> DailyFacts:
    """The measures of [start, end] at day x channel x campaign, attributed by the workspace's model."""
    f = facts(ws, start, end, ws.config.attribution_model)
    g = f.group_by(["date_day", "channel", "campaign"]).aggregate(**{m: f[m].sum() for m in MEASURES})
    df = g.execute()
    df["date_day"] = pd.to_datetime(df["date_day"])
    return DailyFacts(df, _typed(ws, start, end), start, end)


def _typed(ws: Workspace, start: date, end: date) -> pd.DataFrame:
    cv = ws.table("conversions")
    cv = cv.filter(cv.date_day.between(start, end))
    tp = ws.table("touchpoints")
    wanted = cv.filter(cv.click_id.notnull()).select(s_click="click_id")
    tp = tp.semi_join(wanted, tp.click_id == wanted.s_click)
    clicks = tp.group_by(tp.click_id.name("k_click")).aggregate(
        k_channel=tp.channel.arbitrary(), k_campaign=tp.campaign.arbitrary()
    )
    j = cv.left_join(clicks, cv.click_id == clicks.k_click)
    j = j.mutate(
        channel=j.k_channel.fill_null(UNATTRIBUTED),
        campaign=norm_campaign(j.k_campaign),
        type=j.type.strip().lower(),
    )
    g = j.group_by(["date_day", "channel", "campaign", "type"]).aggregate(
        **{TYPED: j.count().cast("float64")}
    )
    df = g.execute()
    df["date_day"] = pd.to_datetime(df["date_day"])
    return df


@dataclass(frozen=True)
class KnownScope:
    """Channels, campaigns (normalised) and conversion types (lower case) present in the data."""

    channels: tuple[str, ...]
    campaigns: tuple[str, ...]
    types: tuple[str, ...]


def known_scope(ws: Workspace) -> KnownScope:
    """What a scope may name: channels and campaigns of ads and sessions, types of conversions."""
    ads, tp, cv = ws.table("ad_performance"), ws.table("touchpoints"), ws.table("conversions")

    def distinct(col: ibis.Value) -> set[str]:
        return {v for v in col.name("v").as_table().distinct().execute()["v"] if isinstance(v, str)}

    channels = distinct(ads.channel) | distinct(tp.channel)
    campaigns = distinct(norm_campaign(ads.campaign_name)) | distinct(norm_campaign(tp.campaign))
    types = distinct(cv.type.strip().lower())
    return KnownScope(tuple(sorted(channels)), tuple(sorted(campaigns)), tuple(sorted(types)))


def check_scope(
    known: KnownScope | DailyFacts, channel: str | None, campaign: str | None, conv_type: str | None
) -> None:
    """Raise :class:`UsageError` naming what is known when a channel, campaign or type is not in the data."""
    if channel is not None and channel.strip().lower() not in {c.lower() for c in known.channels}:
        raise UsageError(
            f"unknown channel {channel!r}: not in the data; known channels: {', '.join(known.channels)}"
        )
    if campaign is not None and campaign.strip().lower() not in set(known.campaigns):
        names = list(known.campaigns)
        shown = ", ".join(names[:30]) + (f" (and {len(names) - 30} more)" if len(names) > 30 else "")
        raise UsageError(f"unknown campaign {campaign!r}: not in the data; known campaigns: {shown}")
    if conv_type is not None and conv_type.strip().lower() not in set(known.types):
        names = ", ".join(known.types) or "none (the conversions table is empty)"
        raise UsageError(f"unknown conversion type {conv_type!r}: not in the data; known types: {names}")
