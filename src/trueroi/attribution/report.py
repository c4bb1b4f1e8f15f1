"""Conversion paths report: top paths, path lengths, time to conversion, assisting vs closing channels.

Definitions follow Google Analytics' multi-channel funnel reports: a channel *closes* a conversion when it is
the last touch, *assists* when it is on the path but not last, and *opens* when it is the first touch. One
conversion counts once per role and channel (a channel touched three times before closing assists once).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trueroi.attribution.journeys import Journeys
from trueroi.attribution.shapley import distinct_touches

TIME_BUCKETS_DAYS = (0, 1, 2, 4, 8, 15, 31)
TIME_LABELS = ("same day", "1 day", "2-3 days", "4-7 days", "8-14 days", "15-30 days", "31+ days")


@dataclass
class PathsReport:
    """The four tables of the report (each a DataFrame; see :func:`paths_report`)."""

    top_paths: pd.DataFrame
    path_lengths: pd.DataFrame
    time_to_conversion: pd.DataFrame | None
    channel_roles: pd.DataFrame

    def to_dict(self) -> dict[str, object]:
        return {
            "top_paths": self.top_paths.to_dict("records"),
            "path_lengths": self.path_lengths.to_dict("records"),
            "time_to_conversion": None
            if self.time_to_conversion is None
            else self.time_to_conversion.to_dict("records"),
            "channel_roles": self.channel_roles.to_dict("records"),
        }


def top_paths(journeys: Journeys, n: int = 20) -> pd.DataFrame:
    """``path, conversions, value, nulls, conversion_rate, share_of_conversions``; most conversions first."""
    paths = journeys.to_paths()
    total = paths["conversions"].sum()
    seen = paths["conversions"] + paths["nulls"]
    paths["conversion_rate"] = np.where(seen > 0, paths["conversions"] / seen.where(seen > 0, 1), np.nan)
    paths["share_of_conversions"] = paths["conversions"] / total if total > 0 else 0.0
    return (
        paths.sort_values(["conversions", "value", "path"], ascending=[False, False, True])
        .head(n)
        .reset_index(drop=True)
    )


def path_lengths(journeys: Journeys) -> pd.DataFrame:
    """``touches, conversions, value, nulls, share_of_conversions`` by number of touches on the path."""
    frame = pd.DataFrame(
        {
            "touches": journeys.lengths,
            "conversions": journeys.conversions,
            "value": journeys.value,
            "nulls": journeys.nulls,
        }
    )
    out = frame.groupby("touches", as_index=False).sum()
    total = out["conversions"].sum()
    out["share_of_conversions"] = out["conversions"] / total if total > 0 else 0.0
    return out


def time_to_conversion(journeys: Journeys) -> pd.DataFrame | None:
    """Conversions by days from the first touch to the conversion (None without timestamps)."""
    if journeys.age_days is None:
        return None
    first_age = journeys.age_days[journeys.starts]
    idx = np.searchsorted(np.asarray(TIME_BUCKETS_DAYS[1:], dtype=float), first_age, side="right")
    conv = np.bincount(idx, journeys.conversions, minlength=len(TIME_LABELS))
    value = np.bincount(idx, journeys.value, minlength=len(TIME_LABELS))
    total = conv.sum()
    return pd.DataFrame(
        {
            "days": list(TIME_LABELS),
            "conversions": conv,
            "value": value,
            "share_of_conversions": conv / total if total > 0 else 0.0,
        }
    )


def channel_roles(journeys: Journeys) -> pd.DataFrame:
    """Per channel: conversions opened, assisted, closed, and the assist/close ratio.

    ``assist_ratio`` > 1 marks channels that mostly help earlier in the journey; < 1 marks closers.
    """
    n = journeys.n_channels
    conv = journeys.conversions
    first = np.bincount(journeys.codes[journeys.starts], conv, minlength=n)
    last_code = journeys.codes[journeys.ends]
    closing = np.bincount(last_code, conv, minlength=n)
    d = distinct_touches(journeys)
    j, code = d["journey"].to_numpy(), d["code"].to_numpy()
    assisting_mask = code != last_code[j]
    assisting = np.bincount(code[assisting_mask], conv[j[assisting_mask]], minlength=n)
    on_path = np.bincount(code, conv[j], minlength=n)
    return pd.DataFrame(
        {
            "channel": list(journeys.channels),
            "opened": first,
            "assisted": assisting,
            "closed": closing,
            "on_path": on_path,
            "assist_ratio": np.divide(assisting, closing, out=np.full(n, np.nan), where=closing > 0),
        }
    )


def paths_report(journeys: Journeys, top: int = 20) -> PathsReport:
    """The conversion paths report of ``journeys``."""
    return PathsReport(
        top_paths(journeys, top),
        path_lengths(journeys),
        time_to_conversion(journeys),
        channel_roles(journeys),
    )
