"""Channel rules re-applied to rows already loaded (issue 24, item 11).

Imports give each session and ad row its channel from the workspace's ``channel_rules`` and GA4's default
channel group (:mod:`trueroi.ingest.channels`). A rule added or changed later reaches the rows loaded before
only through :func:`apply_channel_rules`, which derives the channel again, exactly as an import does:

- ``touchpoints``: from the stored ``source``, ``medium`` and ``campaign`` (lower-cased at import);
- ``ad_performance``: from the platform's source and medium (:data:`AD_SOURCES`: ``google_ads`` is
  ``google / cpc``; an unknown platform is its own source with medium ``cpc``) and the campaign name.

Rows loaded from trueroi's own canonical files (formats ``touchpoints`` and ``ad-performance``) keep their
channel: such a file may name it itself. The cost ledger's channels are the ledger's own words, not a rule's,
and are left as they are. Everything changes in one transaction, and the derived tables (sessions per day,
last-click credits) are invalidated with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.ingest.ads_more import PLATFORMS
from trueroi.ingest.channels import channel_groups
from trueroi.ingest.generic import PLATFORM_SOURCE
from trueroi.io import jsonable
from trueroi.workspace.derived import invalidate

if TYPE_CHECKING:
    import duckdb

    from trueroi.workspace import Workspace

#: Ad platform -> the (source, medium) its rows are grouped as.
AD_SOURCES: dict[str, tuple[str, str]] = {
    **PLATFORM_SOURCE,
    **{p.platform: (p.source, "cpc") for p in PLATFORMS},
}
#: Formats whose files may name a channel themselves: their rows keep it.
OWN_CHANNEL_FORMATS = ("touchpoints", "ad-performance")

_KEEP = f"""import_id IN (SELECT import_id FROM imports WHERE source_format IN
    ({", ".join(repr(f) for f in OWN_CHANNEL_FORMATS)}))"""
_TOUCH_KEYS = ("source", "medium", "campaign")
_AD_KEYS = ("platform", "campaign_name", "campaign_id")


def ad_source(platform: str | None) -> tuple[str, str]:
    """The (source, medium) an ad platform's rows are grouped as (an unknown platform: itself, ``cpc``)."""
    name = (platform or "").strip().lower()
    return AD_SOURCES.get(name, (name, "cpc"))


@dataclass(frozen=True)
class ChannelApply:
    """What re-applying the channel rules changed: rows per table, rows kept, and each move.

    ``moves`` holds one ``{"table", "from", "to", "rows"}`` per old and new channel pair, largest first.
    """

    changed: dict[str, int]
    kept: dict[str, int]
    moves: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Rows whose channel changed, all tables together."""
        return sum(self.changed.values())

    def to_dict(self) -> dict[str, Any]:
        """``{"changed": {table: rows}, "kept": {table: rows}, "total": rows, "moves": [...]}``."""
        return jsonable(
            {"changed": self.changed, "kept": self.kept, "total": self.total, "moves": self.moves}
        )

    def rows(self) -> list[dict[str, Any]]:
        """The moves as flat rows (CSV and tables)."""
        return [dict(m) for m in self.moves]


def apply_channel_rules(ws: Workspace) -> ChannelApply:
    """Derive the channel of every loaded session and ad row again under the workspace's current rules.

    One transaction under the warehouse's write lock; derived tables are invalidated in it.

    Returns
    -------
    ChannelApply
        Rows whose channel changed per table, rows kept (loaded from canonical files), and the moves.
    """
    rules = tuple(ws.config.channel_rules)
    with ws.writing("re-application of the channel rules") as raw:
        raw.execute("BEGIN TRANSACTION")
        try:
            moves: list[dict[str, Any]] = []
            touches = _apply(raw, "touchpoints", _touch_channels(raw, rules), _TOUCH_KEYS, moves)
            ads = _apply(raw, "ad_performance", _ad_channels(raw, rules), _AD_KEYS, moves)
            kept = {t: _count(raw, f"SELECT count(*) FROM {t} WHERE {_KEEP}") for t in _TABLES}
            if touches or ads:
                invalidate(raw)
            raw.execute("COMMIT")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
    moves.sort(key=lambda m: (-m["rows"], m["table"], str(m["from"]), m["to"]))
    return ChannelApply({"touchpoints": touches, "ad_performance": ads}, kept, moves)


_TABLES = ("touchpoints", "ad_performance")


def _distinct(raw: duckdb.DuckDBPyConnection, table: str, keys: tuple[str, ...]) -> pa.Table:
    cols = ", ".join(keys)
    return raw.execute(
        f"SELECT {cols}, channel, count(*) AS n FROM {table} WHERE NOT ({_KEEP}) GROUP BY ALL"
    ).fetch_arrow_table()


def _touch_channels(raw: duckdb.DuckDBPyConnection, rules: tuple) -> pa.Table:
    """Each distinct (source, medium, campaign, channel) of the touches with its channel under ``rules``."""
    t = _distinct(raw, "touchpoints", _TOUCH_KEYS)
    return t.append_column("new", channel_groups(t["source"], t["medium"], t["campaign"], rules=rules))


def _ad_channels(raw: duckdb.DuckDBPyConnection, rules: tuple) -> pa.Table:
    """Each distinct (platform, campaign name, campaign id, channel) of the ad rows with its new channel."""
    t = _distinct(raw, "ad_performance", _AD_KEYS)
    pairs = [ad_source(p) for p in t["platform"].to_pylist()]
    source = pa.array([s for s, _ in pairs], pa.string())
    medium = pa.array([m for _, m in pairs], pa.string())
    campaign = pc.coalesce(t["campaign_name"], t["campaign_id"])
    return t.append_column("new", channel_groups(source, medium, campaign, rules=rules))


def _apply(
    raw: duckdb.DuckDBPyConnection, table: str, mapping: pa.Table, keys: tuple[str, ...], moves: list
) -> int:
    """Set the new channel on the rows of ``table`` whose keys and old channel a changed mapping row has."""
    old = mapping["channel"]
    differs = pc.fill_null(pc.not_equal(old, mapping["new"]), True)
    changed = mapping.filter(pc.and_(differs, pc.is_valid(mapping["new"])))
    if changed.num_rows == 0:
        return 0
    pairs: dict[tuple[str | None, str], int] = {}
    for row in changed.select(["channel", "new", "n"]).to_pylist():
        pairs[(row["channel"], row["new"])] = pairs.get((row["channel"], row["new"]), 0) + int(row["n"])
    moves += [{"table": table, "from": a, "to": b, "rows": n} for (a, b), n in pairs.items()]
    raw.register("_rechannel", changed)
    try:
        match = " AND ".join(f"{table}.{k} IS NOT DISTINCT FROM m.{k}" for k in (*keys, "channel"))
        n = _count(
            raw,
            f"UPDATE {table} SET channel = m.new FROM _rechannel AS m WHERE {match} AND NOT ({_KEEP})",
        )
    finally:
        raw.unregister("_rechannel")
    return n


def _count(raw: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = raw.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
