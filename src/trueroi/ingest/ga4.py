"""The GA4 BigQuery export (Parquet or newline-delimited JSON) -> ``touchpoints`` (one per session) and
``conversions`` (one per ``purchase`` event).

A session is ``(user_pseudo_id, ga_session_id)``. Its touchpoint starts at the first event; its landing page
is the first ``page_location``; its source, medium, campaign, term and content come from the first event's
``collected_traffic_source.manual_*`` fields (or the ``source``/``medium``/``campaign`` event parameters of
older exports, or the landing page's UTM tags), its click id from ``collected_traffic_source.gclid`` or the
landing page. ``engaged`` is GA4's ``session_engaged`` flag, or where no event carries it, GA4's definition
of an engaged session (10 s of engagement time or 2 page views); ``pageviews`` counts ``page_view`` events.
Events without ``user_pseudo_id`` (consent-mode pings) or ``ga_session_id`` make no touchpoint.

The file is read by DuckDB in a private in-memory database with a memory limit and spilling to a temporary
directory, so a multi-gigabyte export is aggregated in bounded memory and streamed out in batches.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError, WorkspaceError
from trueroi.ingest.base import Format, ImportContext, register
from trueroi.ingest.limits import open_parquet
from trueroi.ingest.numbers import check_numbers
from trueroi.ingest.parse import DateWindow, check_length, event_window, local_day
from trueroi.ingest.touch import enrich_touches

BATCH = 100_000
MEMORY_LIMIT = "768MB"
# DuckDB raises its own errors, and a UnicodeDecodeError when its message quotes a cut multi-byte character
DUCK_ERRORS = (duckdb.Error, UnicodeDecodeError)
JSON_COLUMNS = {
    "event_date": "VARCHAR",
    "event_timestamp": "BIGINT",
    "event_name": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "user_id": "VARCHAR",
    "event_params": "STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT, "
    "float_value DOUBLE, double_value DOUBLE))[]",
    "collected_traffic_source": "STRUCT(manual_source VARCHAR, manual_medium VARCHAR, "
    "manual_campaign_name VARCHAR, manual_term VARCHAR, manual_content VARCHAR, "
    "gclid VARCHAR, dclid VARCHAR)",
    "ecommerce": "STRUCT(transaction_id VARCHAR, purchase_revenue DOUBLE)",
}
REQUIRED = ("event_timestamp", "event_name", "user_pseudo_id", "event_params")
TRAFFIC = {
    "source": "manual_source",
    "medium": "manual_medium",
    "campaign": "manual_campaign_name",
    "term": "manual_term",
    "content": "manual_content",
}


class _Session:
    """A private DuckDB connection and its spill directory, closed once by whoever finishes last."""

    def __init__(self) -> None:
        self.spill = tempfile.mkdtemp(prefix="trueroi-ga4-")
        self.con: duckdb.DuckDBPyConnection | None = duckdb.connect(str(Path(self.spill) / "events.duckdb"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.spill, True)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        self._finalizer()


def _connect() -> tuple[duckdb.DuckDBPyConnection, _Session]:
    spill = _Session()
    con = spill.con
    con.execute(f"SET memory_limit='{MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory='{spill.spill}'")
    con.execute("SET preserve_insertion_order=false")
    con.execute("CREATE MACRO p_str(ps, k) AS list_filter(ps, x -> x.key = k)[1].value.string_value")
    con.execute(
        "CREATE MACRO p_int(ps, k) AS coalesce("
        "TRY_CAST(list_filter(ps, x -> x.key = k)[1].value.int_value AS BIGINT), "
        "TRY_CAST(list_filter(ps, x -> x.key = k)[1].value.string_value AS BIGINT))"
    )
    return con, spill


def _source_sql(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet('{quoted}')"
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in JSON_COLUMNS.items()) + "}"
    return f"read_json('{quoted}', format='newline_delimited', columns={cols})"


def _events_view(con: duckdb.DuckDBPyConnection, path: Path, file: str) -> None:
    if path.suffix.lower() in (".parquet", ".pq"):
        open_parquet(path)  # size and nesting declared in the metadata, before DuckDB decodes anything
    src = _source_sql(path)
    try:
        present = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    except DUCK_ERRORS as exc:
        raise DataValidationError(
            f"cannot be read as a GA4 export: {_first_line(exc)}",
            file=file,
            expected="GA4 BigQuery export rows as Parquet or newline-delimited JSON",
        ) from exc
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise DataValidationError(
            f"missing GA4 export column(s) {', '.join(missing)}",
            file=file,
            expected="the BigQuery export schema (event_timestamp, event_name, ...)",
        )
    cts = present.get("collected_traffic_source", "")
    traffic = {k: (f"collected_traffic_source.{v}" if v in cts else "NULL") for k, v in TRAFFIC.items()}
    gclid = "collected_traffic_source.gclid" if "gclid" in cts else "NULL"
    ecommerce = present.get("ecommerce", "")
    tid = (
        "ecommerce.transaction_id"
        if "transaction_id" in ecommerce
        else "p_str(event_params, 'transaction_id')"
    )
    revenue = "ecommerce.purchase_revenue" if "purchase_revenue" in ecommerce else "NULL"
    param = {
        "source": "source",
        "medium": "medium",
        "campaign": "campaign",
        "term": "term",
        "content": "content",
    }
    traffic_sql = ",\n".join(
        f"coalesce({traffic[k]}, p_str(event_params, '{param[k]}')) AS {k}" for k in TRAFFIC
    )
    con.execute(f"""
        CREATE VIEW ev_src AS SELECT
            CAST(user_pseudo_id AS VARCHAR) AS user_id, CAST(event_timestamp AS BIGINT) AS ts_us,
            event_name, p_int(event_params, 'ga_session_id') AS session_id,
            p_str(event_params, 'page_location') AS page_location,
            p_str(event_params, 'page_referrer') AS page_referrer,
            p_int(event_params, 'engagement_time_msec') AS engagement_ms,
            coalesce(p_str(event_params, 'session_engaged'),
                     CAST(p_int(event_params, 'session_engaged') AS VARCHAR)) AS session_engaged,
            {traffic_sql}, {gclid} AS gclid, CAST({tid} AS VARCHAR) AS transaction_id,
            CAST({revenue} AS DOUBLE) AS revenue, p_str(event_params, 'currency') AS currency
        FROM {src}""")


SESSIONS_SQL = """
    SELECT user_id, session_id, min(ts_us) AS ts_us,
        arg_min(page_location, ts_us) FILTER (WHERE page_location IS NOT NULL) AS landing_page,
        arg_min(page_referrer, ts_us) FILTER (WHERE page_referrer IS NOT NULL) AS referrer,
        arg_min(source, ts_us) FILTER (WHERE source IS NOT NULL) AS source,
        arg_min(medium, ts_us) FILTER (WHERE medium IS NOT NULL) AS medium,
        arg_min(campaign, ts_us) FILTER (WHERE campaign IS NOT NULL) AS campaign,
        arg_min(term, ts_us) FILTER (WHERE term IS NOT NULL) AS term,
        arg_min(content, ts_us) FILTER (WHERE content IS NOT NULL) AS content,
        arg_min(gclid, ts_us) FILTER (WHERE gclid IS NOT NULL) AS click_id,
        coalesce(bool_or(session_engaged = '1'),
                 sum(engagement_ms) >= 10000 OR count(*) FILTER (WHERE event_name = 'page_view') >= 2)
            AS engaged,
        CAST(count(*) FILTER (WHERE event_name = 'page_view') AS INTEGER) AS pageviews
    FROM ev WHERE part = $part AND user_id IS NOT NULL AND session_id IS NOT NULL AND ts_us IS NOT NULL
    GROUP BY user_id, session_id
"""
PARTITION_BYTES = 400_000_000  # of export text per aggregation pass: keeps each hash table small
PURCHASES_SQL = """
    SELECT user_id, session_id, ts_us, transaction_id, revenue, currency
    FROM ev WHERE event_name = 'purchase' AND ts_us IS NOT NULL
"""


def _first_line(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "DuckDB's error message quoted text that is not valid UTF-8"
    return str(exc).strip().splitlines()[0][:300]


def _materialize(con: duckdb.DuckDBPyConnection, path: Path, file: str) -> int:
    """Copy the slim event columns to an on-disk table once, tagged with a session partition.

    Returns the number of partitions. The export is parsed once; each partition aggregates in little memory.
    """
    parts = max(1, -(-path.stat().st_size // PARTITION_BYTES))
    try:
        con.execute(
            f"CREATE TABLE ev AS SELECT *, CAST(hash(user_id, session_id) % {parts} AS INTEGER) AS part "
            "FROM ev_src"
        )
    except DUCK_ERRORS as exc:
        raise _duck_error(exc, file) from exc
    return parts


def _check_times(con: duckdb.DuckDBPyConnection, window: DateWindow, file: str) -> None:
    """Refuse events outside the import window (microseconds since 1970, as GA4 writes them)."""
    epoch = date(1970, 1, 1)
    lo = (window.earliest - epoch).days * 86_400_000_000
    hi = ((window.latest - epoch).days + 1) * 86_400_000_000
    try:
        n, example = con.execute(
            "SELECT count(*), min(ts_us) FROM ev WHERE ts_us < $lo OR ts_us >= $hi", {"lo": lo, "hi": hi}
        ).fetchone()
    except DUCK_ERRORS as exc:
        raise _duck_error(exc, file) from exc
    if n:
        raise DataValidationError(
            f"has {n:,} event(s) outside the days {window.earliest} to {window.latest} "
            f"(the first: {example})",
            file=file,
            column="event_timestamp",
            expected="microseconds since 1970 within the import window ([import] in trueroi.toml)",
        )


def _duck_error(exc: Exception, file: str) -> Exception:
    if isinstance(exc, duckdb.OutOfMemoryException):
        return WorkspaceError(
            f"{file}: DuckDB ran out of its {MEMORY_LIMIT} while reading the GA4 export "
            f"({_first_line(exc)}); free memory or split the export by day"
        )
    return DataValidationError(
        f"cannot be read as a GA4 export: {_first_line(exc)}",
        file=file,
        expected="GA4 BigQuery export types (event_timestamp in microseconds, ...)",
    )


def _stream(
    con: duckdb.DuckDBPyConnection, sql: str, file: str, params: dict | None = None
) -> Iterator[pa.RecordBatch]:
    try:
        reader = con.execute(sql, params or {}).fetch_record_batch(BATCH)
        yield from reader
    except DUCK_ERRORS as exc:
        raise _duck_error(exc, file) from exc


def _timestamps(micros: pa.Array) -> pa.Array:
    return pc.cast(micros, pa.int64()).cast(pa.timestamp("us"))


def _host(urls: pa.Array) -> pa.Array:
    found = pc.extract_regex(pc.fill_null(urls, ""), r"^[a-zA-Z]+://(?:www\.)?(?P<h>[^/:?#]+)")
    return pc.if_else(pc.is_valid(found), pc.struct_field(found, [0]), pa.scalar(None, pa.string()))


def _self_referral(referrer: pa.Array, landing: pa.Array) -> pa.Array:
    """Drop referrers from the site's own host (GA4 ignores internal referrals)."""
    same = pc.fill_null(pc.equal(_host(referrer), _host(landing)), False)
    return pc.if_else(same, pa.scalar(None, pa.string()), referrer)


def _touches(
    path: Path, ctx: ImportContext, con: duckdb.DuckDBPyConnection, spill: _Session
) -> Iterator[pa.Table]:
    try:
        parts = _materialize(con, path, ctx.file)
        _check_times(con, event_window(ctx.config, ctx.today), ctx.file)
        for part in range(parts):
            yield from _touch_batches(ctx, con, part)
    except BaseException:
        spill.close()
        raise


def _touch_batches(ctx: ImportContext, con: duckdb.DuckDBPyConnection, part: int) -> Iterator[pa.Table]:
    for batch in _stream(con, SESSIONS_SQL, ctx.file, {"part": part}):
        t = pa.Table.from_batches([batch])
        n = t.num_rows
        ts = _timestamps(t["ts_us"].combine_chunks())
        cols = {
            c: t[c].combine_chunks()
            for c in (
                "user_id",
                "landing_page",
                "source",
                "medium",
                "campaign",
                "term",
                "content",
                "click_id",
                "engaged",
                "pageviews",
            )
        }
        cols["referrer"] = _self_referral(t["referrer"].combine_chunks(), cols["landing_page"])
        session = t["session_id"].combine_chunks().cast(pa.string())
        cols["click_kind"] = pc.if_else(
            pc.is_valid(cols["click_id"]), pa.scalar("gclid"), pa.scalar(None, pa.string())
        )
        cols = enrich_touches(cols, n, ctx.config)
        cols.update(
            ts=ts,
            date_day=local_day(ts, ctx.tz),
            session_id=session,
            touch_id=pc.binary_join_element_wise("ga4", cols["user_id"], session, ":"),
        )
        for name in ("landing_page", "source", "medium", "campaign", "term", "content", "click_id"):
            check_length(cols[name], ctx.problems, 0, "page_location" if name == "landing_page" else name)
        ctx.problems.check()
        if ctx.on_rows:
            ctx.on_rows(n)
        yield pa.table(cols)


def _purchases(
    path: Path, ctx: ImportContext, con: duckdb.DuckDBPyConnection, spill: _Session
) -> Iterator[pa.Table]:
    try:
        default_currency = ctx.options.get("currency") or ctx.config.base_currency
        for batch in _stream(con, PURCHASES_SQL, ctx.file):
            t = pa.Table.from_batches([batch])
            ts = _timestamps(t["ts_us"].combine_chunks())
            user = t["user_id"].combine_chunks()
            fallback = pc.binary_join_element_wise(
                pc.fill_null(user, "-"), t["ts_us"].combine_chunks().cast(pa.string()), ":"
            )
            tid = t["transaction_id"].combine_chunks()
            currency = pc.utf8_upper(pc.fill_null(t["currency"].combine_chunks(), default_currency))
            revenue = t["revenue"].combine_chunks()
            revenue = check_numbers(revenue, revenue, ctx.problems, 0, "ecommerce.purchase_revenue")
            ctx.problems.check()
            yield pa.table(
                {
                    "conversion_id": pc.binary_join_element_wise("ga4", pc.coalesce(tid, fallback), ":"),
                    "user_id": user,
                    "ts": ts,
                    "date_day": local_day(ts, ctx.tz),
                    "type": pa.array(["purchase"] * t.num_rows),
                    "value": revenue,
                    "currency": currency,
                    "order_id": tid,
                    "is_offline": pa.array([False] * t.num_rows),
                }
            )
    finally:
        spill.close()


def _read_ga4(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    con, spill = _connect()
    try:
        _events_view(con, path, ctx.file)
    except BaseException:
        spill.close()
        raise
    return {"touchpoints": _touches(path, ctx, con, spill), "conversions": _purchases(path, ctx, con, spill)}


def _detect(path: Path) -> bool:
    if path.suffix.lower() not in (".parquet", ".pq", ".json", ".ndjson", ".jsonl"):
        return False
    con, spill = _connect()
    try:
        _events_view(con, path, path.name)
        return True
    except DataValidationError:
        return False
    finally:
        spill.close()


register(
    Format(
        "ga4",
        ("conversions", "touchpoints"),
        _read_ga4,
        "GA4 BigQuery export (Parquet or newline-delimited JSON): sessions and purchases",
        _detect,
    )
)
