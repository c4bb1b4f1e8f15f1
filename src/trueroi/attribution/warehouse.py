"""Journeys from the workspace warehouse, built as Ibis expressions (DuckDB, Spark or any Ibis backend).

A conversion is a sale order (``orders.status`` in :data:`~trueroi.workspace.schema.SALE_STATUSES` or null)
or, with ``source="conversions"`` or ``"both"``, a row of ``conversions``. Each user's touchpoints and
conversions are put on one timeline; a touch belongs to the user's next conversion at or after it (a touch at
the same instant as a conversion comes first), provided it lies within that conversion's lookback window
(default the workspace's ``lookback_days``, 30; per conversion type through ``lookback_by_type``, e.g.
``{"deal_won": 90}`` as GA4 uses 30 and 90 days). Journeys therefore never overlap: a conversion's path starts
after the user's previous conversion. Touches after a user's last conversion form a non-converting journey
(a null), limited to the lookback window before that user's last touch. Touches older than their
conversion's window are dropped.

Only the final pull into numpy leaves the backend: :func:`journeys_expr` builds the expression,
:func:`build_journeys` runs it and returns :class:`~trueroi.attribution.journeys.Journeys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.attribution.journeys import SECONDS_PER_DAY, Journeys
from trueroi.errors import UsageError
from trueroi.workspace.derived import user_bucket, user_parts
from trueroi.workspace.rules import is_direct, is_sale

SOURCES = ("orders", "conversions", "both")


def conversion_events(ws: Any, source: str = "orders", types: list[str] | None = None) -> ibis.Table:
    """Conversions as ``event_id, user_id, ts, value, event_type`` (orders: value = revenue, type "order")."""
    if source not in SOURCES:
        raise UsageError(f"unknown conversion source {source!r}; expected one of {', '.join(SOURCES)}")
    parts = []
    if source in ("orders", "both"):
        o = ws.table("orders")
        o = o.filter(o.user_id.notnull() & is_sale(o.status))
        parts.append(
            o.select(
                event_id=o.order_id,
                user_id=o.user_id,
                ts=o.ts,
                value=o.revenue.fill_null(0.0),
                event_type=ibis.literal("order"),
            )
        )
    if source in ("conversions", "both"):
        c = ws.table("conversions")
        c = c.filter(c.user_id.notnull())
        if source == "both":
            c = c.filter(
                c.order_id.isnull()
            )  # conversions that mirror an order are counted once, as the order
        if types:
            c = c.filter(c.type.isin(types))
        parts.append(
            c.select(
                event_id=c.conversion_id,
                user_id=c.user_id,
                ts=c.ts,
                value=c.value.fill_null(0.0),
                event_type=c.type.cast("string"),
            )
        )
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1])


def _lookback_seconds(
    event_type: ibis.Value, default_days: float, by_type: Mapping[str, float]
) -> ibis.Value:
    expr = ibis.literal(float(default_days) * SECONDS_PER_DAY)
    if by_type:
        cases = [(event_type == k, ibis.literal(float(v) * SECONDS_PER_DAY)) for k, v in by_type.items()]
        expr = ibis.cases(*cases, else_=expr)
    return expr


def journeys_expr(
    ws: Any,
    *,
    lookback_days: float | None = None,
    lookback_by_type: Mapping[str, float] | None = None,
    source: str = "orders",
    types: list[str] | None = None,
    exclude_direct: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    meta: bool = True,
    part: tuple[int, int] | None = None,
) -> ibis.Table:
    """The touches of every journey as an Ibis expression (not executed).

    Returns
    -------
    ibis.Table
        ``journey_id, user_id, ts, channel, campaign, is_brand, event_id, event_type, end_ts, value,
        converted``:
        one row per touch; ``event_id`` (the order id for orders) and ``value`` are null for non-converting
        journeys; ``end_ts`` is the conversion time (or the journey's last touch for nulls).

    Parameters
    ----------
    lookback_days
        Default window before a conversion, days (workspace ``lookback_days`` when None).
    lookback_by_type
        Window per conversion type (``"order"`` for orders, else ``conversions.type``).
    exclude_direct
        Drop direct touches ("Direct", "(direct)") except from journeys that have nothing else.
    start, end
        Keep conversions (and null journeys) ending in ``[start, end)`` (UTC).
    meta
        Carry ``campaign`` and ``is_brand`` of each touch (null when False, which keeps them out of the
        backend's joins, window and sort).
    part
        ``(k, n)``: only the users in hash bucket ``k`` of ``n`` (a user's journeys never span buckets), so a
        large build can run as ``n`` smaller queries.
    """
    days = ws.config.lookback_days if lookback_days is None else lookback_days
    if days <= 0:
        raise UsageError(f"lookback_days must be positive, got {days}")
    tp = ws.table("touchpoints")
    tp = tp.filter(tp.user_id.notnull() & tp.channel.notnull() & tp.ts.notnull())
    if start is not None:
        # no journey ending at or after ``start`` reaches further back than the longest window (a null
        # journey's end is its user's last touch, which no dropped touch can be): the joins, the window and
        # the sort see the period and its lookback instead of the whole history (a day more: the windows
        # are compared in epoch seconds)
        longest = max([float(days), *(float(v) for v in (lookback_by_type or {}).values())])
        tp = tp.filter(tp.ts >= start - timedelta(days=longest + 1))
    if part is not None:
        tp = tp.filter(user_bucket(tp.user_id, part[1]) == part[0])
    if meta:
        tp = tp.select("user_id", "ts", "channel", "campaign", "is_brand", t_epoch=tp.ts.epoch_seconds())
    else:  # the models need no campaign: keep it out of the joins, the window and the sort
        tp = tp.select(
            "user_id",
            "ts",
            "channel",
            campaign=ibis.null("string"),
            is_brand=ibis.null("boolean"),
            t_epoch=tp.ts.epoch_seconds(),
        )
    ev = conversion_events(ws, source, types)
    if part is not None:
        ev = ev.filter(user_bucket(ev.user_id, part[1]) == part[0])
    order = ibis.window(group_by=ev.user_id, order_by=[ev.ts, ev.event_id])
    ev = ev.select(
        ev_user=ev.user_id,
        ev_id=ev.event_id,
        ev_type=ev.event_type,
        ev_ts=ev.ts,
        ev_value=ev.value,
        ev_epoch=ev.ts.epoch_seconds(),
        prev_ts=ev.ts.lag().over(order),
    )
    ev = ev.mutate(window_s=_lookback_seconds(ev.ev_type, days, lookback_by_type or {}))
    # a touch belongs to the user's next conversion at or after it, within that conversion's window
    conv = tp.inner_join(
        ev,
        [
            tp.user_id == ev.ev_user,
            tp.ts <= ev.ev_ts,
            ev.prev_ts.isnull() | (tp.ts > ev.prev_ts),
            tp.t_epoch >= ev.ev_epoch - ev.window_s,
        ],
    )
    conv = conv.select(
        "user_id",
        "ts",
        "channel",
        "campaign",
        "is_brand",
        event_id=conv.ev_id,
        event_type=conv.ev_type,
        end_ts=conv.ev_ts,
        value=conv.ev_value,
        converted=ibis.literal(True),
        journey_id="c:" + conv.ev_id,
    )
    # touches after the user's last conversion form one null journey, cut to the window before its last touch
    last = ev.group_by(last_user=ev.ev_user).aggregate(last_ts=ev.ev_ts.max())
    after = tp.left_join(last, tp.user_id == last.last_user)
    after = after.filter(after.last_ts.isnull() | (after.ts > after.last_ts))
    # per-user maxima as window aggregates: one pass, about half the time and memory of a group-by joined back
    per_user = ibis.window(group_by=after.user_id)
    nul = after.mutate(seg_end=after.ts.max().over(per_user), seg_epoch=after.t_epoch.max().over(per_user))
    nul = nul.filter(nul.t_epoch >= nul.seg_epoch - days * SECONDS_PER_DAY)
    null_str = ibis.null().cast("string")
    nul = nul.select(
        "user_id",
        "ts",
        "channel",
        "campaign",
        "is_brand",
        event_id=null_str,
        event_type=null_str,
        end_ts=nul.seg_end,
        value=ibis.null().cast("float64"),
        converted=ibis.literal(False),
        journey_id="n:" + nul.user_id,
    )
    j = conv.union(nul)
    if start is not None:
        j = j.filter(j.end_ts >= start)
    if end is not None:
        j = j.filter(j.end_ts < end)
    if exclude_direct:
        direct = is_direct(j.channel)
        n_other = (~direct).cast("int64").sum().over(ibis.window(group_by=j.journey_id))
        j = j.filter(~direct | (n_other == 0))
    return j.select(
        "journey_id",
        "user_id",
        "ts",
        "channel",
        "campaign",
        "is_brand",
        "event_id",
        "event_type",
        "end_ts",
        "value",
        "converted",
    )


def build_journeys(
    ws: Any, *, with_meta: bool = True, partitions: int | None = None, **options: Any
) -> Journeys:
    """Run :func:`journeys_expr` and return :class:`Journeys` with ``age_days`` (and metadata).

    With ``with_meta`` (default), ``touch_meta`` holds ``campaign, is_brand`` per touch and ``journey_meta``
    holds ``journey_id, user_id, event_id, event_type, end_ts`` per journey; without it only what the models
    need is fetched (faster on large warehouses). Options are those of :func:`journeys_expr`. The sorted rows
    stream out of the backend in Arrow batches and are folded into flat arrays batch by batch, so the full
    touch table is never held in memory (neither as a query result nor as Arrow).

    ``partitions`` splits the users into that many hash buckets, built one query at a time (the backend's
    memory falls with the bucket size; journeys then come bucket by bucket, each bucket sorted). By default
    one bucket per :data:`~trueroi.workspace.derived.TOUCHES_PER_PART` touchpoints.
    """
    n = _partitions(ws, partitions)
    cols = ["journey_id", "ts", "channel", "end_ts", "value", "converted"]
    if with_meta:
        cols += ["user_id", "campaign", "is_brand", "event_id", "event_type"]

    def batches() -> Any:
        for k in range(n):
            expr = journeys_expr(ws, meta=with_meta, part=(k, n) if n > 1 else None, **options)
            ordered = expr.select(*cols).order_by(["journey_id", "ts", "channel"])
            yield from ordered.to_pyarrow_batches(chunk_size=BATCH_ROWS)

    if not getattr(ws, "is_duckdb", False):
        return journeys_from_batches(batches())
    # The ORDER BY fixes the output order, so DuckDB need not keep insertion order inside the plan (15% faster
    # at 30 M touches); the setting is the connection's, so it is put back afterwards.
    raw = ws.con.con
    previous = raw.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    raw.execute("SET preserve_insertion_order = false")
    try:
        return journeys_from_batches(batches())
    finally:
        raw.execute(f"SET preserve_insertion_order = {'true' if previous else 'false'}")


def _partitions(ws: Any, partitions: int | None) -> int:
    if partitions is not None:
        if partitions < 1:
            raise UsageError(f"partitions must be at least 1, got {partitions}")
        return int(partitions)
    return user_parts(ws)


BATCH_ROWS = 1 << 20


def journeys_from_arrow(table: pa.Table) -> Journeys:
    """Journeys from the touch rows of :func:`journeys_expr` (Arrow), sorted by journey and time."""
    return journeys_from_batches(table.to_batches())


def journeys_from_batches(batches: Any) -> Journeys:
    """Journeys from sorted touch rows arriving in Arrow record batches (journeys may span batches)."""
    fold = _Fold()
    for batch in batches:
        if batch.num_rows:
            fold.add(batch)
    return fold.result()


class _Fold:
    """Accumulates compact per-touch and per-journey arrays from consecutive sorted batches."""

    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        self.codes: list[np.ndarray] = []
        self.age: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        self.conv: list[np.ndarray] = []
        self.value: list[np.ndarray] = []
        self.touch_meta: list[pa.Table] = []
        self.journey_meta: list[pa.Table] = []
        self.last_id: Any = None
        self.n = 0

    def add(self, batch: pa.RecordBatch) -> None:
        m = batch.num_rows
        jid = batch.column(batch.schema.get_field_index("journey_id"))
        change = np.ones(m, dtype=bool)
        if m > 1:
            change[1:] = pc.not_equal(jid.slice(1), jid.slice(0, m - 1)).to_numpy(zero_copy_only=False)
        if self.last_id is not None and jid[0].as_py() == self.last_id:
            change[0] = False  # the journey goes on from the previous batch
        self.last_id = jid[m - 1].as_py()
        local = np.flatnonzero(change)
        self.starts.append(local + self.n)
        self.conv.append(batch.column("converted").to_numpy(zero_copy_only=False).astype(bool)[local])
        self.value.append(pc.fill_null(batch.column("value"), 0.0).to_numpy(zero_copy_only=False)[local])
        ts = batch.column("ts").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy(zero_copy_only=False)
        end = batch.column("end_ts").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy(zero_copy_only=False)
        self.age.append(np.maximum((end - ts) / 1e6 / SECONDS_PER_DAY, 0.0))
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(batch.column("channel")))
        local_names = encoded.dictionary.to_pylist()
        remap = np.array([self.names.setdefault(x, len(self.names)) for x in local_names], dtype=np.int32)
        remap = remap.astype(np.int16) if len(self.names) < 2**15 else remap  # ranked to int32 at the end
        self.codes.append(remap[encoded.indices.to_numpy(zero_copy_only=False)])
        if "campaign" in batch.schema.names:
            table = pa.Table.from_batches([batch])
            self.touch_meta.append(table.select(["campaign", "is_brand"]))
            meta = ["journey_id", "user_id", "event_id", "event_type", "end_ts"]
            self.journey_meta.append(table.select(meta).take(pa.array(local)))
        self.n += m

    def result(self) -> Journeys:
        if self.n == 0:
            empty = np.zeros(0)
            return Journeys(
                (),
                np.zeros(1, dtype=np.int64),
                np.zeros(0, dtype=np.int32),
                empty,
                empty,
                empty,
                age_days=empty,
            )
        names = np.asarray(list(self.names), dtype=object)
        order = np.argsort(names)
        rank = np.empty(len(names), dtype=np.int32)
        rank[order] = np.arange(len(names), dtype=np.int32)
        # each list is released as soon as it is joined, so the peak holds one array twice, not all of them
        codes = rank[_take_all(self.codes)]
        age = _take_all(self.age)
        offsets = np.r_[_take_all(self.starts), self.n].astype(np.int64)
        conv = _take_all(self.conv)
        value = _take_all(self.value)
        touch_meta = journey_meta = None
        if self.touch_meta:
            touch_meta = pa.concat_tables(self.touch_meta).to_pandas()
            journey_meta = pa.concat_tables(self.journey_meta).to_pandas()
        return Journeys(
            tuple(str(x) for x in names[order]),
            offsets,
            codes,
            conv.astype(np.float64),
            np.where(conv, value, 0.0),
            (~conv).astype(np.float64),
            age_days=age,
            touch_meta=touch_meta,
            journey_meta=journey_meta,
        )


def _take_all(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate and empty ``parts`` (so the pieces can be freed before the next array is joined)."""
    joined = np.concatenate(parts)
    parts.clear()
    return joined
