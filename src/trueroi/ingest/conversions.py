"""Offline and CRM conversions -> ``conversions`` (``is_offline`` true), matched to touchpoints by click id.

* ``offline-conversions``: Google Ads' offline conversion import template (an optional
  ``Parameters:TimeZone=Europe/Berlin`` or ``Parameters:TimeZone=+0100`` line above the header; columns
  ``Google Click ID`` or ``GBRAID`` / ``WBRAID``, ``Conversion Name``, ``Conversion Time``, ``Conversion
  Value``, ``Conversion Currency``) and Microsoft Advertising's variant with ``Microsoft Click ID``. Times
  without an offset are read in the template's time zone, else the workspace's.
* ``crm``: a CRM export with one row per lead (lead id, click id or user id, created, stage, won date, deal
  value, currency), HubSpot's deals export included (``Record ID``, ``Create Date``, ``Deal Stage``,
  ``Close Date``, ``Amount``, ``Google Click ID (GCLID)``). Each lead gives a ``lead`` conversion at its
  creation; a won lead also gives a ``deal_won`` conversion with the deal value at the won date. An open
  deal's close date is a forecast: it may lie ahead (up to the import window's ``ahead_days``) and is not
  used; a won deal's close date must have happened. Re-importing an export with updated stages replaces
  the earlier rows of the same leads.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Iterator
from datetime import timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from trueroi.errors import DataValidationError
from trueroi.ingest.base import Format, ImportContext, missing_columns, register
from trueroi.ingest.keys import UniqueKeys
from trueroi.ingest.numbers import hint_from_file, parse_number
from trueroi.ingest.parse import (
    DateWindow,
    ahead_window,
    event_window,
    local_day,
    parse_currency,
    parse_timestamp,
    require_values,
    text,
)
from trueroi.ingest.read import iter_rows, norm_header, sniff
from trueroi.ingest.touch import stable_ids

OFFLINE = {
    "google click id": "gclid",
    "gclid": "gclid",
    "gbraid": "gbraid",
    "wbraid": "wbraid",
    "microsoft click id": "msclkid",
    "msclkid": "msclkid",
    "conversion name": "name",
    "conversion time": "time",
    "conversion value": "value",
    "conversion currency": "currency",
    "order id": "order_id",
    "transaction id": "order_id",
}
CRM = {
    "lead id": "lead_id",
    "lead_id": "lead_id",
    "id": "lead_id",
    "deal id": "lead_id",
    "record id": "lead_id",  # HubSpot
    "click id": "click_id",
    "click_id": "click_id",
    "gclid": "click_id",
    "google click id": "click_id",
    "google click id (gclid)": "click_id",  # HubSpot
    "google ads click id": "click_id",
    "msclkid": "click_id",
    "user id": "user_id",
    "user_id": "user_id",
    "created": "created",
    "created at": "created",
    "created_at": "created",
    "create date": "created",
    "stage": "stage",
    "deal stage": "stage",
    "lifecycle stage": "stage",
    "won date": "won",
    "won_date": "won",
    "closed won date": "won",
    "close date": "won",
    "deal value": "value",
    "deal_value": "value",
    "amount": "value",
    "amount in company currency": "value",
    "currency": "currency",
    "deal currency code": "currency",
    "currency code": "currency",
}
WON = re.compile(r"won|gewonnen|closed[ _-]?won|customer", re.IGNORECASE)


def _timezone_param(preamble: list[str], default: str, file: str) -> str | timezone:
    for line in preamble:
        match = re.search(r"Parameters\s*:\s*TimeZone\s*=\s*([^,;\t\"]+)", line, re.IGNORECASE)
        if not match:
            continue
        value = match.group(1).strip()
        offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", value)
        if offset:
            sign = 1 if offset.group(1) == "+" else -1
            return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise DataValidationError(
                "is not a time zone",
                file=file,
                row=None,
                column="Parameters:TimeZone",
                value=value,
                expected="an IANA name like Europe/Berlin or an offset like +0100",
            ) from exc
        return value
    return default


def _mapped(raw: pa.Table, aliases: dict[str, str]) -> pa.Table:
    mapping = {}
    for h in raw.column_names:
        key = norm_header(h)
        if key in aliases and aliases[key] not in mapping.values():
            mapping[h] = aliases[key]
    return raw.select(list(mapping)).rename_columns(list(mapping.values()))


def _offline(path: Path, ctx: ImportContext) -> Iterator[pa.Table]:
    src = sniff(path, lambda cells: sum(c in OFFLINE for c in cells) >= 3)
    hint_from_file(ctx.problems.numbers, src.delimiter, src.header)
    tz = _timezone_param(src.preamble, ctx.tz, ctx.file)
    tz_name = tz if isinstance(tz, str) else _offset_name(tz)
    keys = UniqueKeys(["click id", "Conversion Name", "Conversion Time"], column="click id")
    window = event_window(ctx.config, ctx.today)
    for off, raw in iter_rows(src):
        t = _mapped(raw, OFFLINE)
        if off == 0:
            missing_columns(t.column_names, ("name", "time"), ctx.file, "offline-conversions")
            if not {"gclid", "gbraid", "wbraid", "msclkid"} & set(t.column_names):
                missing_columns(t.column_names, ("gclid",), ctx.file, "offline-conversions")
        p, n = ctx.problems, t.num_rows
        click = pa.nulls(n, pa.string())
        for name in ("gclid", "gbraid", "wbraid", "msclkid"):
            if name in t.column_names:
                click = pc.coalesce(click, text(t[name], p, off, name))
        require_values(click, p, off, "click id")
        name = text(t["name"], p, off, "Conversion Name")
        require_values(name, p, off, "Conversion Name")
        ts = parse_timestamp(t["time"], p, off, "Conversion Time", tz=tz_name, window=window)
        require_values(ts, p, off, "Conversion Time")
        keys.check({"click id": click, "Conversion Name": name, "Conversion Time": ts}, p, off, n)
        value = (
            parse_number(t["value"], p, off, "Conversion Value", non_negative=True)
            if "value" in t.column_names
            else pa.nulls(n, pa.float64())
        )
        currency = (
            parse_currency(t["currency"], p, off, "Conversion Currency")
            if "currency" in t.column_names
            else pa.array([ctx.config.base_currency] * n, pa.string())
        )
        p.check()
        if ctx.on_rows:
            ctx.on_rows(n)
        slug = pc.replace_substring_regex(pc.utf8_lower(name), r"[^a-z0-9]+", "_")
        yield pa.table(
            {
                "conversion_id": stable_ids("o", click, name, ts.cast(pa.string())),
                "click_id": click,
                "ts": ts,
                "date_day": local_day(ts, ctx.tz),
                "type": slug,
                "value": value,
                "currency": currency,
                "order_id": text(t["order_id"], p, off, "order_id")
                if "order_id" in t.column_names
                else pa.nulls(n, pa.string()),
                "is_offline": pa.array([True] * n),
            }
        )


def _offset_name(tz: timezone) -> str:
    """An IANA ``Etc/GMT`` zone for a whole-hour offset (POSIX signs are inverted)."""
    hours = tz.utcoffset(None) / timedelta(hours=1)
    if hours != int(hours):
        raise DataValidationError(
            "only whole-hour offsets are supported in Parameters:TimeZone",
            value=str(tz),
            expected="e.g. +0100",
        )
    return "UTC" if hours == 0 else f"Etc/GMT{-int(hours):+d}"


def _crm(path: Path, ctx: ImportContext) -> Iterator[pa.Table]:
    src = sniff(path, lambda cells: sum(c in CRM for c in cells) >= 3)
    hint_from_file(ctx.problems.numbers, src.delimiter, src.header)
    keys = UniqueKeys(["lead id"])
    forecasts = 0
    for off, raw in iter_rows(src):
        t = _mapped(raw, CRM)
        if off == 0:
            missing_columns(t.column_names, ("lead_id", "created"), ctx.file, "crm")
        p, n = ctx.problems, t.num_rows
        lead = text(t["lead_id"], p, off, "lead id")
        require_values(lead, p, off, "lead id")
        keys.check({"lead id": lead}, p, off, n)
        null_s = pa.nulls(n, pa.string())
        click = text(t["click_id"], p, off, "click id") if "click_id" in t.column_names else null_s
        user = text(t["user_id"], p, off, "user id") if "user_id" in t.column_names else null_s
        window = event_window(ctx.config, ctx.today)
        created = parse_timestamp(t["created"], p, off, "created", tz=ctx.tz, window=window)
        require_values(created, p, off, "created")
        stage = text(t["stage"], p, off, "stage") if "stage" in t.column_names else null_s
        won_ts, won, ahead = _won(t, stage, off, ctx, window)
        forecasts += ahead
        value = (
            parse_number(t["value"], p, off, "deal value", non_negative=True)
            if "value" in t.column_names
            else pa.nulls(n, pa.float64())
        )
        currency = (
            parse_currency(t["currency"], p, off, "currency")
            if "currency" in t.column_names
            else pa.array([ctx.config.base_currency] * n, pa.string())
        )
        p.check()
        if ctx.on_rows:
            ctx.on_rows(n)
        base = {"user_id": user, "click_id": click, "order_id": null_s, "is_offline": pa.array([True] * n)}
        leads = pa.table(
            {
                "conversion_id": pc.binary_join_element_wise(lead, pa.scalar("lead"), ":"),
                "ts": created,
                "date_day": local_day(created, ctx.tz),
                "type": pa.array(["lead"] * n),
                "value": pa.nulls(n, pa.float64()),
                "currency": currency,
                **base,
            }
        )
        deals = pa.table(
            {
                "conversion_id": pc.binary_join_element_wise(lead, pa.scalar("deal_won"), ":"),
                "ts": won_ts,
                "date_day": local_day(won_ts, ctx.tz),
                "type": pa.array(["deal_won"] * n),
                "value": value,
                "currency": currency,
                **base,
            }
        ).filter(won)
        yield pa.concat_tables([leads, deals.select(leads.column_names)])
    if forecasts:
        ctx.problems.warn(
            f"{forecasts} open deal(s) have a close date ahead (a forecast): "
            "loaded as leads, not as won deals"
        )


def _won(
    t: pa.Table, stage: pa.Array, off: int, ctx: ImportContext, window: DateWindow
) -> tuple[pa.Array, pa.Array, int]:
    """Each row's won time, whether it is won (a won date and a won stage, or no stage), and how many open
    deals have a close date after ``window`` (forecasts, not refused up to the ``ahead_days`` limit)."""
    n, p = t.num_rows, ctx.problems
    if "won" not in t.column_names:
        return pa.nulls(n, pa.timestamp("us")), pa.array([False] * n), 0
    ahead = ahead_window(ctx.config, ctx.today)
    won_ts = parse_timestamp(t["won"], p, off, "won date", tz=ctx.tz, window=ahead)
    stage_won = pc.fill_null(pc.match_substring_regex(stage, WON.pattern, ignore_case=True), True)
    won = pc.fill_null(pc.and_(pc.is_valid(won_ts), stage_won), False)
    days = pc.cast(won_ts, pa.date32())
    later = pc.fill_null(pc.greater(days, pa.scalar(window.latest, pa.date32())), False)
    p.add_mask(
        pc.and_(won, later),
        days,
        off,
        "won date",
        f"is in the future, but the deal is won; expected the day it was won, up to {window.latest}",
    )
    return won_ts, won, pc.sum(pc.and_(pc.invert(won), later)).as_py() or 0


def _read_offline(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    return {"conversions": _offline(path, ctx)}


def _read_crm(path: Path, ctx: ImportContext) -> dict[str, Iterable[pa.Table]]:
    return {"conversions": _crm(path, ctx)}


def _detector(aliases: dict[str, str], must: set[str]):  # noqa: ANN202
    def detect(path: Path) -> bool:
        try:
            src = sniff(path, lambda cells: sum(c in aliases for c in cells) >= 3)
        except DataValidationError:
            return False
        return bool({norm_header(h) for h in src.header} & must)

    return detect


register(
    Format(
        "offline-conversions",
        ("conversions",),
        _read_offline,
        "Google Ads offline conversion template (GCLID/GBRAID/WBRAID) or Microsoft's variant",
        _detector(OFFLINE, {"conversion name", "conversion time"}),
    )
)
register(
    Format(
        "crm",
        ("conversions",),
        _read_crm,
        "CRM export: leads with created, stage, won date, deal value",
        _detector(CRM, {"stage", "deal stage", "won date", "deal value", "closed won date"}),
    )
)
