"""Tracked events: the batch a tracker or a shop's backend sends, checked and brought into one shape.

A batch is a JSON object ``{"events": [...]}`` (the browser tracker adds ``write_key`` and ``sent_at``).
Each event is an object with

=================  =========================================================================================
``event_id``       1-128 characters of ``A-Z a-z 0-9 . _ : - @ + = /``; the same id sent again is the same
                   event (acknowledged again, stored once)
``type``           ``page_view``, ``purchase``, ``lead``, ``refund``, ``offline_conversion`` or ``custom``
``ts``             when it happened: ISO 8601 text (``2026-10-05T10:00:00Z``; no offset means UTC) or
                   milliseconds since 1970; missing: the time it was received
``user_id``        the person: the tracker's first-party id (with consent) or the shop's user id
``url``            page views: the page's ``http(s)`` URL (UTM tags and click ids are read from it)
``referrer``       page views: the referring URL
``order_id``       purchases and refunds (required), and conversions that belong to an order
``revenue``        purchases: the order's net revenue; refunds: the amount paid back
``currency``       ISO 4217 code (default: the workspace's base currency)
``cogs``           purchases: cost of goods sold
``value``          leads, offline and custom conversions: their value
``name``           custom events: their name (required); offline conversions: their type (``deal_won``)
``click_id``       the ad click id of an offline conversion (gclid, msclkid, ...)
``status``         purchases: the order status (``paid`` by default); refunds: ``cancelled`` for a
                   cancellation (default: ``refunded`` or ``partially_refunded`` by amount)
=================  =========================================================================================

Anything that does not fit is refused as a whole batch, naming the event and the field
(:class:`CollectRefused`, 4xx): text with markup or control characters in an id, name or URL, numbers that
are not finite, unknown types, too many events. Other keys are ignored.

Times: a browser's clock can be wrong. The tracker sends each event's time and the time it sent the batch
(``sent_at``); the event time kept is the server's receive time minus the event's age on the client clock
(``recv - (sent_at - ts)``, at most :data:`MAX_AGE` back), and the client's own time is kept beside it.
Server-side events keep their ``ts`` as sent (an order's time is the shop's business); it may lie at most
:data:`FUTURE` ahead of the receive time.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from trueroi.errors import TrueRoiError
from trueroi.ingest.parse import ISO_4217, NAME_CHARS, URL_CHARS

TYPES = ("page_view", "purchase", "lead", "refund", "offline_conversion", "custom")
BROWSER_TYPES = ("page_view", "purchase", "lead", "custom")
ID_PATTERN = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")
# Names and ids from a shop: printable text without markup brackets, quotes or control characters.
TEXT_PATTERN = re.compile(r"[^\x00-\x1f\x7f<>\"'`\\]+")
URL_PATTERN = re.compile(r"https?://[^\s<>\"'`\\\x00-\x1f\x7f]+", re.IGNORECASE)
STATUS_PATTERN = re.compile(r"[a-z_]{1,30}")
MAX_AGE = timedelta(days=7)  # a browser event older than this on arrival is dated MAX_AGE back
FUTURE = timedelta(days=2)  # server-side times may lie this far ahead of the receive time
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AMOUNT = 1e12
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CollectRefused(TrueRoiError, ValueError):
    """A request to the collector is refused; ``status`` is its HTTP status (400, 401, 413, 422, 503)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Received:
    """Facts of the request a batch came in: its receive time (UTC), whether the browser tracker sent it,
    the client's address as it is to be stored (already truncated or None) and its user agent."""

    at: datetime
    browser: bool
    ip: str | None = None
    user_agent: str = ""


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body (:class:`CollectRefused` 400 when it is not one)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise CollectRefused(400, 'the body is not JSON; expected {"events": [...]}') from None
    if not isinstance(data, dict):
        raise CollectRefused(400, 'the body is not a JSON object; expected {"events": [...]}')
    return data


def normalize_batch(data: dict[str, Any], received: Received, max_events: int) -> list[dict[str, Any]]:
    """The batch's events in the stored shape (see :func:`normalize_event`).

    Raises
    ------
    CollectRefused
        422 naming the first event and field that does not fit; 413 for more than ``max_events`` events.
    """
    events = data.get("events")
    if not isinstance(events, list) or not events:
        raise CollectRefused(422, "'events' must be a non-empty list of events")
    if len(events) > max_events:
        raise CollectRefused(413, f"{len(events)} events in one batch; at most {max_events}")
    sent_at = _time(data.get("sent_at"), "sent_at", None) if received.browser else None
    return [normalize_event(e, i, received, sent_at) for i, e in enumerate(events)]


def normalize_event(
    event: Any, index: int, received: Received, sent_at: datetime | None = None
) -> dict[str, Any]:
    """One event as stored: ``event_id, type, source, ts, client_ts, recv_ts`` (microseconds since 1970,
    UTC), ``user_id, url, referrer, order_id, revenue, currency, cogs, value, name, click_id, status, ip``.
    """
    where = f"event {index + 1}"
    if not isinstance(event, dict):
        raise CollectRefused(422, f"{where} is not a JSON object")
    kind = event.get("type")
    if kind not in TYPES or (received.browser and kind not in BROWSER_TYPES):
        allowed = BROWSER_TYPES if received.browser else TYPES
        raise CollectRefused(
            422, f"{where}: type {str(kind)[:40]!r} is unknown; expected one of {', '.join(allowed)}"
        )
    event_id = event.get("event_id")
    if not isinstance(event_id, str) or not ID_PATTERN.fullmatch(event_id):
        raise CollectRefused(
            422, f"{where}: event_id must be 1-128 letters, digits or . _ : - @ + = / characters"
        )
    client = _time(event.get("ts"), f"{where}: ts", None)
    ts = _event_time(client, sent_at, received, where)
    out = {
        "event_id": event_id,
        "type": kind,
        "source": "browser" if received.browser else "server",
        "ts": _micros(ts),
        "client_ts": None if client is None else _micros(client),
        "recv_ts": _micros(received.at),
        "user_id": _text(event, "user_id", where, 200),
        "url": _url(event, "url", where),
        "referrer": _url(event, "referrer", where),
        "order_id": _text(event, "order_id", where, 200),
        "revenue": _amount(event, "revenue", where),
        "currency": _currency(event, where),
        "cogs": _amount(event, "cogs", where),
        "value": _amount(event, "value", where, signed=True),
        "name": _text(event, "name", where, 100),
        "click_id": _text(event, "click_id", where, 500),
        "status": _status(event, where),
        "ip": received.ip,
    }
    _require(out, where)
    return out


def _require(out: dict[str, Any], where: str) -> None:
    kind = out["type"]
    if kind in ("purchase", "refund") and out["order_id"] is None:
        raise CollectRefused(422, f"{where}: a {kind} needs an order_id")
    if kind == "purchase" and out["revenue"] is None:
        raise CollectRefused(422, f"{where}: a purchase needs its revenue")
    if kind == "refund" and out["revenue"] is None and out["status"] != "cancelled":
        raise CollectRefused(
            422, f"{where}: a refund needs the amount paid back as revenue, or status cancelled"
        )
    if kind == "custom" and out["name"] is None:
        raise CollectRefused(422, f"{where}: a custom event needs a name")
    if kind == "page_view" and out["source"] == "browser" and out["url"] is None:
        raise CollectRefused(422, f"{where}: a page view needs its url")


def _event_time(
    client: datetime | None, sent_at: datetime | None, received: Received, where: str
) -> datetime:
    """The time kept for an event (see the module's notes on clock skew)."""
    if client is None:
        return received.at
    if not received.browser:
        if client > received.at + FUTURE:
            raise CollectRefused(
                422, f"{where}: ts {client.isoformat()} lies more than {FUTURE.days} days ahead of now"
            )
        return client
    age = (sent_at - client) if sent_at is not None else timedelta(0)
    age = min(max(age, timedelta(0)), MAX_AGE)
    return received.at - age


def _time(value: Any, where: str, default: datetime | None) -> datetime | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CollectRefused(422, f"{where} must be ISO 8601 text or milliseconds since 1970")
    try:
        if isinstance(value, str):
            if len(value) > 40:
                raise ValueError
            found = datetime.fromisoformat(value)
            found = found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
        else:
            if not math.isfinite(value):
                raise ValueError
            found = EPOCH + timedelta(milliseconds=value)
    except (ValueError, OverflowError):
        raise CollectRefused(422, f"{where} {str(value)[:40]!r} is not a time") from None
    if found < EARLIEST:
        raise CollectRefused(422, f"{where} {found.isoformat()} lies before {EARLIEST.date()}")
    return found


def _micros(when: datetime) -> int:
    return (when - EPOCH) // timedelta(microseconds=1)


def _text(event: dict[str, Any], key: str, where: str, limit: int) -> str | None:
    value = event.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # numeric order and user ids
    if not isinstance(value, str) or len(value) > min(limit, NAME_CHARS) or not TEXT_PATTERN.fullmatch(value):
        raise CollectRefused(
            422,
            f"{where}: {key} must be text of at most {limit} characters without markup, quotes or "
            "control characters",
        )
    return value.strip() or None


def _url(event: dict[str, Any], key: str, where: str) -> str | None:
    value = event.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > URL_CHARS or not URL_PATTERN.fullmatch(value):
        raise CollectRefused(
            422, f"{where}: {key} must be an http(s) URL of at most {URL_CHARS:,} characters, percent-encoded"
        )
    return value


def _amount(event: dict[str, Any], key: str, where: str, *, signed: bool = False) -> float | None:
    value = event.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CollectRefused(422, f"{where}: {key} must be a number")
    value = float(value)
    if not math.isfinite(value) or abs(value) > MAX_AMOUNT or (value < 0 and not signed):
        raise CollectRefused(422, f"{where}: {key} {value!r} is not a finite amount of 0 or more")
    return value


def _currency(event: dict[str, Any], where: str) -> str | None:
    value = event.get("currency")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.upper() not in ISO_4217:
        raise CollectRefused(422, f"{where}: currency must be an ISO 4217 code such as EUR")
    return value.upper()


def _status(event: dict[str, Any], where: str) -> str | None:
    value = event.get("status")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not STATUS_PATTERN.fullmatch(value.lower()):
        raise CollectRefused(422, f"{where}: status must be a word such as paid or cancelled")
    return value.lower()
