"""Content ROI over time: a piece's production cost against the margin its organic visitors bring, month by
month since it went live, projected forward with a geometric decay fitted to the months observed.

Content and SEO pay back slowly: a page costs its production once and earns for months or years from the
organic visits that land on it. For each content piece this module

1. takes its cost from the ``costs`` ledger: rows with a ``campaign_id`` (the piece's key; by default only
   the ``production`` category), in the base currency; the piece goes live on its first cost day;
2. counts the organic sessions that land on it (``touchpoints`` of an organic channel whose
   ``landing_page`` path equals the key, or, with ``by="campaign"``, whose UTM ``campaign`` equals it) and
   the sales whose last non-direct touch within the workspace's lookback window was such a session (the
   rule :mod:`trueroi.metrics.family_pages` uses), with their contribution margin (revenue - COGS, base
   currency; orders without COGS take the workspace's ``default_margin``);
3. buckets both by month since going live (months of 365.25 / 12 days; month 1 starts on the first cost
   day); a month counts as observed when the loaded data (touchpoints and orders) cover all of it;
4. fits ``margin_k = a r^(k - p)`` for the months ``k >= p`` from the peak month ``p`` on (least squares,
   ``0 <= r <= 1``: a ramp-up before the peak is not decay, and a page is never projected to grow) and
   projects the months after the last observed one up to the horizon;
5. reports the cumulative ROI ``(cumulative margin - cost) / cost`` per month and the payback month (the
   first month it reaches 0), marking which months are projected.

Pages are matched by path (scheme, host, query string, fragment and a trailing slash left out, see
:func:`~trueroi.metrics.family_pages.page_path`), campaigns trimmed and lower-cased. A geometric decay of
content traffic is the usual first model of content half-life (e.g. the exponential "decay" of organic
traffic in Ahrefs' and Animalz's content-decay studies); it ignores seasonality and re-promotion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError, UsageError
from trueroi.metrics.family_pages import page_path
from trueroi.workspace import Workspace
from trueroi.workspace.money import in_base
from trueroi.workspace.rules import last_touch, norm_campaign, sale_orders

ORGANIC = ("Organic Search", "Organic Social", "Organic Video", "Organic Shopping")
"""The organic channels (GA4 default channel groups) whose sessions count for a piece."""
KEYS = ("landing_page", "campaign")
HORIZON = 36
DAYS_PER_MONTH = 365.25 / 12
MIN_FIT_MONTHS = 3
"""Observed months from the peak on needed to fit a decay (fewer: no projection)."""
BOOTSTRAP = 200
"""Refits of the residual bootstrap behind the projection's 90% band."""


@dataclass
class ContentROI:
    """Cumulative ROI of content pieces by month since going live (:func:`content_roi`).

    Attributes
    ----------
    by
        ``"landing_page"`` or ``"campaign"``: what the cost rows' ``campaign_id`` was matched against.
    horizon
        Months shown per piece (observed, then projected).
    data_end
        Last day of the loaded touchpoints and orders.
    pieces
        One dict per piece: ``key``, ``cost``, ``live_from``, ``observed_months``, ``decay_per_month``
        (the fitted ``r``, null when not fitted), ``months``, ``sessions``, ``orders`` (observed months;
        null when projected), ``margin``, ``cumulative_margin``, ``cumulative_roi`` with its 90% band
        ``cumulative_roi_lower`` / ``_upper`` (the projection's; equal to the value in observed months),
        ``projected`` (per month) and ``payback_month`` (null: not within the horizon).
    notes
        What the reader should know, one sentence each.
    """

    by: str
    horizon: int
    data_end: date
    channels: list[str]
    pieces: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``trueroi content --format json``."""
        return {
            "by": self.by,
            "horizon_months": self.horizon,
            "data_end": self.data_end.isoformat(),
            "channels": self.channels,
            "days_per_month": DAYS_PER_MONTH,
            "projection": "margin_k = a r^(k - peak) fitted by least squares on the observed months from "
            "the peak month on (0 <= r <= 1); months after the last observed one are projected; "
            "cumulative_roi_lower/upper: 90% residual-bootstrap band of the fit (equal to the value in "
            "observed months)",
            "pieces": self.pieces,
            "notes": self.notes,
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per piece and month (tables and CSV)."""
        out = []
        for p in self.pieces:
            for i, m in enumerate(p["months"]):
                out.append(
                    {
                        "key": p["key"],
                        "cost": p["cost"],
                        "month": m,
                        "projected": p["projected"][i],
                        "sessions": p["sessions"][i],
                        "orders": p["orders"][i],
                        "margin": p["margin"][i],
                        "cumulative_margin": p["cumulative_margin"][i],
                        "cumulative_roi": p["cumulative_roi"][i],
                        "cumulative_roi_lower": p["cumulative_roi_lower"][i],
                        "cumulative_roi_upper": p["cumulative_roi_upper"][i],
                        "payback_month": p["payback_month"],
                    }
                )
        return out


def content_roi(
    ws: Workspace,
    *,
    by: str = "landing_page",
    horizon: int = HORIZON,
    channels: tuple[str, ...] | list[str] = ORGANIC,
    categories: tuple[str, ...] | list[str] | None = ("production",),
) -> ContentROI:
    """Cumulative ROI of every content piece with a keyed production cost, observed and projected.

    Parameters
    ----------
    ws
        The workspace.
    by
        ``"landing_page"``: a cost row's ``campaign_id`` holds the page (URL or path) its organic sessions
        land on; ``"campaign"``: it holds the UTM campaign of those sessions.
    horizon
        Months since going live to show (observed months, then the projection).
    channels
        The organic channels whose sessions count.
    categories
        Cost categories that make a piece's cost (None: every category of the keyed rows).

    Raises
    ------
    UsageError
        On an unknown ``by`` or a horizon below 1.
    DataValidationError
        When no cost row carries a ``campaign_id``, touchpoints carry no ``landing_page`` (with
        ``by="landing_page"``), or a counted order lacks COGS and no ``default_margin`` is set.
    """
    if by not in KEYS:
        raise UsageError(f"unknown content key {by!r}; expected landing_page or campaign")
    if horizon < 1:
        raise UsageError(f"horizon must be at least 1 month, got {horizon}")
    costs = _costs(ws, by, categories)
    keys = costs["key"].tolist()
    sessions = _sessions(ws, by, keys, list(channels))
    sales = _sales(ws, by, keys, list(channels))
    end = _data_end(ws)
    result = ContentROI(by, horizon, end, list(channels))
    for row in costs.itertuples(index=False):
        daily = _daily(sessions, sales, row.key)
        piece = piece_curve(row.key, float(row.cost), row.live_from, end, daily, horizon)
        result.pieces.append(piece)
        if piece["decay_per_month"] is None and piece["observed_months"] < horizon:
            result.notes.append(_no_projection(piece))
        early = daily[pd.to_datetime(daily["date_day"]).dt.date < row.live_from]
        if len(early):
            result.notes.append(
                f"{row.key}: {int(early['sessions'].sum())} session(s) and {int(early['orders'].sum())} "
                f"sale(s) before its first cost day {row.live_from} are not counted"
            )
    return result


def _no_projection(piece: dict[str, Any]) -> str:
    why = (
        "no margin in its observed months"
        if not any(m > 0 for m in piece["margin"])
        else f"fewer than {MIN_FIT_MONTHS} observed months from its peak month on"
    )
    return f"{piece['key']}: {why}, so no projection"


def piece_curve(
    key: str, cost: float, live_from: date, end: date, daily: pd.DataFrame, horizon: int
) -> dict[str, Any]:
    """One piece's monthly figures from its daily ``date_day, sessions, orders, margin`` (see
    :func:`content_roi`)."""
    observed = min(horizon, int(((end - live_from).days + 1) // DAYS_PER_MONTH))
    month = np.floor((pd.to_datetime(daily["date_day"]) - pd.Timestamp(live_from)).dt.days / DAYS_PER_MONTH)
    daily = daily.assign(month=month.astype(int) + 1)
    daily = daily[(daily["month"] >= 1) & (daily["month"] <= observed)]
    monthly = daily.groupby("month")[["sessions", "orders", "margin"]].sum()
    monthly = monthly.reindex(range(1, observed + 1), fill_value=0)
    margin = monthly["margin"].to_numpy(dtype=float)
    fit = fit_decay(margin)
    projected = [False] * observed
    cumulative = np.cumsum(margin)
    low, high = cumulative, cumulative
    if fit is not None and observed < horizon:
        level, rate, peak = fit
        ahead = np.arange(observed + 1, horizon + 1)
        band = projection_band(margin, fit, ahead)
        margin = np.concatenate([margin, level * rate ** (ahead - peak)])
        cumulative = np.cumsum(margin)
        low, high = np.concatenate([low, band[0]]), np.concatenate([high, band[1]])
        projected += [True] * len(ahead)
    months = list(range(1, len(margin) + 1))
    roi, roi_low, roi_high = (_roi(v, cost) for v in (cumulative, low, high))
    payback = next((m for m, v in zip(months, roi, strict=True) if v is not None and v >= 0), None)
    pad = [None] * (len(months) - observed)
    return {
        "key": key,
        "cost": cost,
        "live_from": live_from.isoformat(),
        "observed_months": observed,
        "decay_per_month": None if fit is None else float(fit[1]),
        "months": months,
        "sessions": [int(v) for v in monthly["sessions"]] + pad,
        "orders": [int(v) for v in monthly["orders"]] + pad,
        "margin": [float(v) for v in margin],
        "cumulative_margin": [float(v) for v in cumulative],
        "cumulative_roi": roi,
        "cumulative_roi_lower": roi_low,
        "cumulative_roi_upper": roi_high,
        "projected": projected,
        "payback_month": payback,
    }


def _roi(cumulative: np.ndarray, cost: float) -> list[float | None]:
    """``(cumulative margin - cost) / cost`` per month; null without a cost."""
    return [float((v - cost) / cost) if cost > 0 else None for v in cumulative]


def fit_decay(margin: np.ndarray) -> tuple[float, float, int] | None:
    """Least-squares geometric decay ``margin_k = a r^(k - p)`` over the months from the peak ``p`` on.

    Returns ``(a, r, p)`` (``p`` 1-based, ``0 <= r <= 1``), or None with fewer than :data:`MIN_FIT_MONTHS`
    months from the peak on or no positive margin. For a given ``r`` the best ``a`` is closed-form, so the
    fit is a bounded one-dimensional search over ``r``.
    """
    margin = np.asarray(margin, dtype=float)
    if margin.size == 0 or margin.max() <= 0:
        return None
    peak = int(np.argmax(margin))
    tail = margin[peak:]
    if tail.size < MIN_FIT_MONTHS:
        return None
    level, rate = _fit_tail(tail)
    return level, rate, peak + 1


def _fit_tail(tail: np.ndarray) -> tuple[float, float]:
    """``(a, r)`` minimising ``sum_j (tail_j - a r^j)^2`` with ``0 <= r <= 1``."""
    from scipy.optimize import minimize_scalar

    lags = np.arange(tail.size)

    def level(r: float) -> float:
        basis = r**lags
        return float(basis @ tail / (basis @ basis))

    def sse(r: float) -> float:
        return float(((tail - level(r) * r**lags) ** 2).sum())

    best = minimize_scalar(sse, bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-6})
    rate = float(best.x) if sse(float(best.x)) <= sse(1.0) else 1.0
    return level(rate), rate


def projection_band(
    margin: np.ndarray,
    fit: tuple[float, float, int],
    ahead: np.ndarray,
    n_boot: int = BOOTSTRAP,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """90% band of the projected cumulative margin over the months ``ahead`` (after the observed ones).

    A residual bootstrap of the decay fit (Efron & Tibshirani 1993, "An Introduction to the Bootstrap",
    ch. 9.5) with Pearson residuals ``(m - fit) / sqrt(fit)`` (a month's margin is a count of orders times
    a margin per order, so its variance grows with its mean), centred and scaled by ``sqrt(n / (n - 2))``
    for the two fitted parameters (Davison & Hinkley 1997, "Bootstrap Methods and their Application",
    alg. 6.1): the fitted tail plus resampled residuals (floored at 0) is refitted ``n_boot`` times and
    projected. It carries the uncertainty of the fitted level and decay, not the month-to-month noise of
    the months to come, nor a change of the decay's form.
    """
    level, rate, peak = fit
    tail = np.asarray(margin[peak - 1 :], dtype=float)
    lags = np.arange(tail.size)
    fitted = level * rate**lags
    spread = np.sqrt(np.maximum(fitted, 1e-12))  # margin = orders x margin per order: variance ~ mean
    resid = (tail - fitted) / spread
    if tail.size > 2:  # centred, and scaled for the two fitted parameters
        resid = (resid - resid.mean()) * np.sqrt(tail.size / (tail.size - 2))
    rng = np.random.default_rng(seed)
    done = float(np.sum(margin))
    sims = np.empty((n_boot, ahead.size))
    for b in range(n_boot):
        boot = np.maximum(fitted + spread * rng.choice(resid, size=resid.size, replace=True), 0.0)
        a, r = _fit_tail(boot) if boot.max() > 0 else (0.0, 0.0)
        sims[b] = done + np.cumsum(a * r ** (ahead - peak))
    return np.quantile(sims, 0.05, axis=0), np.quantile(sims, 0.95, axis=0)


# -- the warehouse ----------------------------------------------------------------------------------------
def _key(value: ibis.StringValue, by: str) -> ibis.StringValue:
    return page_path(value) if by == "landing_page" else norm_campaign(value)


def _costs(ws: Workspace, by: str, categories: tuple[str, ...] | list[str] | None) -> pd.DataFrame:
    """``key, cost, live_from`` per piece: keyed cost rows in the base currency."""
    t = ws.table("costs")
    t = t.filter(t.campaign_id.notnull() & (t.campaign_id.strip() != ""))
    if categories is not None:
        t = t.filter(t.category.isin(list(categories)))
    t = in_base(ws, t, ["amount"], "costs", day="period_start")
    g = t.group_by(_key(t.campaign_id, by).name("key")).aggregate(
        cost=t.amount.sum(), live_from=t.period_start.min()
    )
    out = g.order_by("key").execute()
    if out.empty:
        what = "production " if categories is not None and list(categories) == ["production"] else ""
        raise DataValidationError(
            f"no {what}cost row carries a campaign_id, so no content piece has a cost",
            file="costs",
            column="campaign_id",
            expected="content costs with campaign_id = the page path (e.g. /guides/running-shoes) or, "
            "with --by campaign, the UTM campaign of its organic visits",
        )
    out["live_from"] = pd.to_datetime(out["live_from"]).dt.date
    return out


def _organic(ws: Workspace, by: str, keys: list[str], channels: list[str]) -> ibis.Table:
    """Organic touchpoints that land on a piece, with its ``key``."""
    tp = ws.table("touchpoints")
    column = tp.landing_page if by == "landing_page" else tp.campaign
    if by == "landing_page" and int(tp.filter(tp.landing_page.notnull()).count().execute()) == 0:
        raise DataValidationError(
            "no touchpoint has a landing_page, so no organic session can be matched to a page",
            file="touchpoints",
            column="landing_page",
            expected="sessions with their landing page, or --by campaign to match content by UTM campaign",
        )
    tp = tp.filter(tp.channel.isin(channels), column.notnull())
    tp = tp.mutate(key=_key(column, by))
    return tp.filter(tp.key.isin(keys))


def _sessions(ws: Workspace, by: str, keys: list[str], channels: list[str]) -> pd.DataFrame:
    tp = _organic(ws, by, keys, channels)
    return tp.group_by(["key", "date_day"]).aggregate(sessions=tp.count()).execute()


def _sales(ws: Workspace, by: str, keys: list[str], channels: list[str]) -> pd.DataFrame:
    """``key, date_day, orders, margin``: sales whose last non-direct touch is an organic session on a
    piece (base currency; COGS missing: the workspace's ``default_margin``)."""
    orders = in_base(ws, sale_orders(ws), ["revenue", "cogs"], "orders")
    events = orders.select(
        event_key=orders.order_id,
        user_id=orders.user_id,
        event_ts=orders.ts,
        date_day=orders.date_day,
        revenue=orders.revenue,
        cogs=orders.cogs,
    )
    last = last_touch(events, ws.table("touchpoints"), lookback_days=ws.config.lookback_days)
    landed = _organic(ws, by, keys, channels).select(l_user="user_id", l_ts="ts", l_key="key")
    j = last.inner_join(landed, [last.user_id == landed.l_user, last.touch_ts == landed.l_ts])
    j = j.filter(j.channel.isin(channels))
    per_order = j.group_by(["event_key", "date_day", "revenue", "cogs"]).aggregate(key=j.l_key.min())
    frame = per_order.execute()
    share = ws.config.default_margin
    missing = int(frame["cogs"].isna().sum())
    if missing and share is None:
        raise DataValidationError(
            f"{missing} sale(s) brought by content have no cogs, so their contribution margin is unknown",
            file="orders",
            column="cogs",
            expected="cogs on every order, or default_margin (e.g. 0.4) in trueroi.toml",
        )
    cogs = frame["cogs"].fillna(frame["revenue"] * (1 - (share or 0.0)))
    frame = frame.assign(margin=frame["revenue"] - cogs, orders=1)
    return frame.groupby(["key", "date_day"], as_index=False)[["orders", "margin"]].sum()


def _daily(sessions: pd.DataFrame, sales: pd.DataFrame, key: str) -> pd.DataFrame:
    s = sessions[sessions["key"] == key][["date_day", "sessions"]]
    o = sales[sales["key"] == key][["date_day", "orders", "margin"]]
    out = s.merge(o, on="date_day", how="outer")
    return out.fillna({"sessions": 0, "orders": 0, "margin": 0.0})


def _data_end(ws: Workspace) -> date:
    """The last day of the loaded touchpoints and orders."""
    ends = [ws.table(name).date_day.max().execute() for name in ("touchpoints", "orders")]
    ends = [pd.Timestamp(e).date() for e in ends if e is not None and not pd.isna(e)]
    if not ends:
        raise DataValidationError(
            "no touchpoints or orders are loaded, so no content piece has visits or sales",
            file="touchpoints",
            expected="sessions (touchpoints) and orders loaded into the workspace",
        )
    return max(ends)
