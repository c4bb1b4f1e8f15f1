"""Sessions and touchpoints from tracked events, with the rules of the GA4 import.

A person's browser events (page views, purchases, leads, custom events; in time order) form sessions:

- a session ends after :data:`TIMEOUT` (30 minutes) without an event;
- a page view that brings its own traffic source (UTM tags, a click id, or a referrer from another site)
  different from the session's source starts a new session (a new campaign is a new visit); an untagged
  page view (a direct entry, an internal link) continues the session.

Each session becomes one touchpoint exactly as the GA4 importer makes one of a GA4 session
(:mod:`trueroi.ingest.ga4`): it starts at its first event; its landing page is its first page's URL; its
referrer is its first referrer unless that is the site's own host; source, medium, campaign, term, content,
click id, channel and brand flag come from :func:`trueroi.ingest.touch.enrich_touches` with the
workspace's channel rules and brand terms (a click id without tags names its platform, ``gclid`` ->
``google / cpc``); ``engaged`` is GA4's definition (2 page views, 10 seconds, or a key event: purchase or
lead); ``pageviews`` counts page views. Click ids the importers do not know by name (``ttclid``,
``li_fat_id``) are kept as the click id when the URL has no other.

Page views without consent carry no user id and cannot be joined: each one that enters the site (no
referrer, or one from another site) is a one-page session of its own user ``anon:<event id>``; internal
page views without consent count as page views only (raw events).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.ingest.parse import local_day
from trueroi.ingest.touch import CLICK_IDS, enrich_touches, query_strings, url_param
from trueroi.workspace.config import WorkspaceConfig
from trueroi.workspace.schema import arrow_schema

TIMEOUT = timedelta(minutes=30)
ENGAGED_SECONDS = 10.0
KEY_EVENTS = ("purchase", "lead")
EXTRA_CLICK_IDS = ("ttclid", "li_fat_id")
TOUCH_PREFIX = "trk:"
ANONYMOUS_PREFIX = "anon:"
_HOST = r"^[a-zA-Z]+://(?:www\.)?(?P<h>[^/:?#]+)"


def host(urls: pa.Array) -> pa.Array:
    """The host of each URL without ``www.`` (null for none), as the GA4 importer compares them."""
    found = pc.extract_regex(pc.fill_null(urls, ""), _HOST)
    return pc.if_else(pc.is_valid(found), pc.struct_field(found, [0]), pa.scalar(None, pa.string()))


def outside_referrer(referrer: pa.Array, landing: pa.Array) -> pa.Array:
    """``referrer`` unless it is the landing page's own host (internal navigation), else null."""
    same = pc.fill_null(pc.equal(host(referrer), host(landing)), False)
    return pc.if_else(same, pa.scalar(None, pa.string()), referrer)


def extra_click_ids(urls: pa.Array) -> pa.Array:
    """``ttclid`` or ``li_fat_id`` of each URL that carries none of the click ids the importers name."""
    query = query_strings(pc.fill_null(urls, ""))
    known = pa.array([False] * len(urls))
    for name in CLICK_IDS:
        known = pc.or_(known, pc.is_valid(url_param(query, name)))
    extra = pa.nulls(len(urls), pa.string())
    for name in EXTRA_CLICK_IDS:
        extra = pc.coalesce(extra, url_param(query, name))
    return pc.if_else(known, pa.scalar(None, pa.string()), extra)


def traffic(landing: pa.Array, referrer: pa.Array, config: WorkspaceConfig) -> dict[str, pa.Array]:
    """Source, medium, campaign, term, content, click id, channel and brand flag of visits that land on
    ``landing`` from ``referrer`` (the importers' rules, :func:`~trueroi.ingest.touch.enrich_touches`)."""
    landing = landing.cast(pa.string())
    cols: dict[str, pa.Array] = {
        "landing_page": landing,
        "referrer": outside_referrer(referrer.cast(pa.string()), landing),
        "click_id": extra_click_ids(landing),
    }
    return enrich_touches(cols, len(landing), config)


def assign_sessions(events: pd.DataFrame, config: WorkspaceConfig) -> pd.Series:
    """The session id of each event: the event id of its session's first event.

    ``events`` holds one person's or several people's browser events with ``event_id, type, ts, user_id,
    url, referrer``, sorted by ``user_id, ts, event_id``.
    """
    views = events["type"].to_numpy() == "page_view"
    keys = np.full(len(events), None, dtype=object)
    tagged = np.zeros(len(events), dtype=bool)
    if views.any():
        seen = traffic(
            pa.array(events["url"].to_numpy()[views], pa.string()),
            pa.array(events["referrer"].to_numpy()[views], pa.string()),
            config,
        )
        source, medium, campaign = (seen[c].to_pylist() for c in ("source", "medium", "campaign"))
        for i, found in zip(np.flatnonzero(views), zip(source, medium, campaign, strict=True), strict=True):
            keys[i] = found
            tagged[i] = found[:2] != ("(direct)", "(none)")
    ids = events["event_id"].to_numpy()
    users = events["user_id"].to_numpy()
    times = events["ts"].to_numpy()
    out = np.empty(len(events), dtype=object)
    timeout = np.timedelta64(int(TIMEOUT.total_seconds() * 1e6), "us")
    current, user, last, key = None, None, None, None
    for i in range(len(events)):
        new = (
            users[i] != user
            or times[i] - last > timeout
            or (tagged[i] and key is not None and keys[i] != key)
        )
        if new:
            current, user, key = ids[i], users[i], keys[i]
        elif key is None and views[i]:
            key = keys[i]
        last = times[i]
        out[i] = current
    return pd.Series(out, index=events.index)


def session_touches(events: pd.DataFrame, config: WorkspaceConfig) -> tuple[pa.Table, pd.DataFrame]:
    """Touchpoints of identified visitors' sessions, and the sessions' spans.

    Parameters
    ----------
    events
        Browser events of the visitors (``event_id, type, ts`` (UTC), ``user_id, url, referrer``), every
        event of each visitor from the start of the first session to rebuild on.

    Returns
    -------
    (pa.Table, pd.DataFrame)
        Touchpoint rows (canonical columns, ``touch_id`` = ``trk:<session id>``) and one row per session:
        ``user_id, session_id, start_ts, end_ts``.
    """
    if events.empty:
        return _empty_touches(), pd.DataFrame(columns=["user_id", "session_id", "start_ts", "end_ts"])
    events = events.sort_values(["user_id", "ts", "event_id"], kind="stable").reset_index(drop=True)
    events["session_id"] = assign_sessions(events, config)
    views = events[events["type"] == "page_view"]
    grouped = events.groupby("session_id", sort=False)
    sessions = grouped.agg(user_id=("user_id", "first"), start_ts=("ts", "min"), end_ts=("ts", "max"))
    sessions["key_events"] = events["type"].isin(KEY_EVENTS).groupby(events["session_id"], sort=False).any()
    by_view = views.groupby("session_id", sort=False)
    sessions["pageviews"] = by_view.size().reindex(sessions.index).fillna(0).astype("int32")
    # the first page view's URL and referrer that are known (GroupBy.first skips missing values)
    sessions["landing_page"] = by_view["url"].first().reindex(sessions.index)
    sessions["referrer"] = by_view["referrer"].first().reindex(sessions.index)
    sessions = sessions.reset_index()
    duration = (sessions["end_ts"] - sessions["start_ts"]).dt.total_seconds()
    engaged = (sessions["pageviews"] >= 2) | (duration >= ENGAGED_SECONDS) | sessions["key_events"]
    cols = traffic(
        pa.array(sessions["landing_page"].astype(object).where(sessions["landing_page"].notna(), None)),
        pa.array(sessions["referrer"].astype(object).where(sessions["referrer"].notna(), None)),
        config,
    )
    ts = pa.array(sessions["start_ts"].to_numpy().astype("datetime64[us]"), pa.timestamp("us"))
    cols.update(
        touch_id=pa.array([TOUCH_PREFIX + s for s in sessions["session_id"]], pa.string()),
        user_id=pa.array(sessions["user_id"].to_numpy(), pa.string()),
        session_id=pa.array(sessions["session_id"].to_numpy(), pa.string()),
        ts=ts,
        date_day=local_day(ts, config.timezone),
        engaged=pa.array(engaged.to_numpy(), pa.bool_()),
        pageviews=pa.array(sessions["pageviews"].to_numpy(), pa.int32()),
    )
    spans = sessions[["user_id", "session_id", "start_ts", "end_ts"]]
    return pa.table(cols), spans


def anonymous_touches(views: pd.DataFrame, config: WorkspaceConfig) -> pa.Table:
    """One-page sessions of page views without consent that enter the site (see the module's notes)."""
    if views.empty:
        return _empty_touches()
    url = pa.array(views["url"].to_numpy(), pa.string())
    referrer = pa.array(views["referrer"].astype(object).where(views["referrer"].notna(), None), pa.string())
    internal = pc.fill_null(pc.equal(host(referrer), host(url)), False)
    entering = views[~np.asarray(internal.to_pylist(), dtype=bool)]
    if entering.empty:
        return _empty_touches()
    cols = traffic(
        pa.array(entering["url"].to_numpy(), pa.string()),
        pa.array(entering["referrer"].astype(object).where(entering["referrer"].notna(), None), pa.string()),
        config,
    )
    ts = pa.array(entering["ts"].to_numpy().astype("datetime64[us]"), pa.timestamp("us"))
    ids = entering["event_id"].to_numpy()
    cols.update(
        touch_id=pa.array([TOUCH_PREFIX + i for i in ids], pa.string()),
        user_id=pa.array([ANONYMOUS_PREFIX + i for i in ids], pa.string()),
        session_id=pa.array(ids, pa.string()),
        ts=ts,
        date_day=local_day(ts, config.timezone),
        engaged=pa.array([False] * len(ids), pa.bool_()),
        pageviews=pa.array([1] * len(ids), pa.int32()),
    )
    return pa.table(cols)


def _empty_touches() -> pa.Table:
    return arrow_schema("touchpoints").empty_table()
