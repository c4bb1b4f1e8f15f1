"""The event contract: clock skew, the stored shape, and what is refused (and why)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trueroi.tracking.events import CollectRefused, Received, normalize_batch
from trueroi.tracking.privacy import stored_ip

RECV = datetime(2026, 10, 5, 10, 0, 7, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(when: datetime) -> int:
    return (when - EPOCH) // timedelta(microseconds=1)


def test_browser_time_is_the_receive_time_minus_the_age_on_the_client_clock() -> None:
    # The client's clock runs 1 h ahead: it says the page was viewed at 11:00:00 and the batch sent at
    # 11:00:05; the server received it at 10:00:07, so the view happened 5 s before: 10:00:02.
    client = datetime(2026, 10, 5, 11, 0, 0, tzinfo=UTC)
    batch = {
        "sent_at": int((client + timedelta(seconds=5)).timestamp() * 1000),
        "events": [
            {
                "event_id": "e1",
                "type": "page_view",
                "ts": int(client.timestamp() * 1000),
                "url": "https://a.example/",
            }
        ],
    }
    (event,) = normalize_batch(batch, Received(RECV, True, "203.0.113.0", "Mozilla"), 10)
    assert event["ts"] == micros(datetime(2026, 10, 5, 10, 0, 2, tzinfo=UTC))
    assert event["client_ts"] == micros(client)
    assert event["recv_ts"] == micros(RECV)
    assert event["source"] == "browser"
    assert event["ip"] == "203.0.113.0"


def test_a_week_old_browser_event_is_dated_at_most_a_week_back() -> None:
    client = datetime(2026, 9, 1, tzinfo=UTC)
    batch = {
        "sent_at": int(RECV.timestamp() * 1000),
        "events": [{"event_id": "e1", "type": "lead", "ts": int(client.timestamp() * 1000)}],
    }
    (event,) = normalize_batch(batch, Received(RECV, True), 10)
    assert event["ts"] == micros(RECV - timedelta(days=7))


def test_server_times_are_kept_as_sent_in_utc() -> None:
    batch = {
        "events": [
            {
                "event_id": "o1",
                "type": "purchase",
                "ts": "2026-10-05T12:00:00+02:00",
                "order_id": "A1",
                "revenue": 59.9,
                "currency": "eur",
                "cogs": 31,
            },
            {
                "event_id": "o2",
                "type": "purchase",
                "ts": "2026-10-04T23:30:00",
                "order_id": 42,
                "revenue": 10,
            },
        ]
    }
    first, second = normalize_batch(batch, Received(RECV, False), 10)
    assert first["ts"] == micros(datetime(2026, 10, 5, 10, 0, tzinfo=UTC))
    assert (first["currency"], first["revenue"], first["cogs"]) == ("EUR", 59.9, 31.0)
    assert second["ts"] == micros(datetime(2026, 10, 4, 23, 30, tzinfo=UTC))  # no offset: UTC
    assert second["order_id"] == "42"


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ({"event_id": "x", "type": "sale"}, "type 'sale' is unknown"),
        ({"event_id": "<script>alert(1)</script>", "type": "lead"}, "event_id must be"),
        (
            {"event_id": "x", "type": "lead", "user_id": "<img src=x onerror=alert(1)>"},
            "user_id must be text",
        ),
        ({"event_id": "x", "type": "custom", "name": "a\x1b[31m"}, "name must be text"),
        ({"event_id": "x", "type": "page_view", "url": "javascript:alert(1)"}, "url must be an http(s) URL"),
        ({"event_id": "x", "type": "page_view", "url": 'https://a.example/"><script>'}, "url must be"),
        (
            {"event_id": "x", "type": "purchase", "order_id": "A", "revenue": float("nan")},
            "not a finite amount",
        ),
        ({"event_id": "x", "type": "purchase", "order_id": "A", "revenue": -5}, "not a finite amount"),
        ({"event_id": "x", "type": "purchase", "revenue": 5}, "needs an order_id"),
        ({"event_id": "x", "type": "refund", "order_id": "A"}, "amount paid back"),
        ({"event_id": "x", "type": "lead", "currency": "<b>"}, "ISO 4217"),
        ({"event_id": "x", "type": "lead", "ts": "2026-13-45"}, "is not a time"),
        ({"event_id": "x", "type": "lead", "ts": "2031-01-01T00:00:00Z"}, "days ahead"),
        ({"event_id": "x", "type": "custom"}, "needs a name"),
        ("not an object", "is not a JSON object"),
    ],
)
def test_events_that_do_not_fit_refuse_the_batch_naming_the_event(event, words) -> None:
    batch = {"events": [{"event_id": "ok", "type": "lead"}, event]}
    with pytest.raises(CollectRefused, match="event 2") as refused:
        normalize_batch(batch, Received(RECV, False), 10)
    assert refused.value.status == 422
    assert words in str(refused.value)


def test_the_browser_may_not_send_server_only_types() -> None:
    with pytest.raises(CollectRefused, match="type 'refund' is unknown"):
        normalize_batch(
            {"events": [{"event_id": "r", "type": "refund", "order_id": "A", "revenue": 1}]},
            Received(RECV, True),
            10,
        )


def test_too_many_events_and_empty_batches_are_refused() -> None:
    many = {"events": [{"event_id": f"e{i}", "type": "lead"} for i in range(11)]}
    with pytest.raises(CollectRefused, match="11 events in one batch; at most 10") as refused:
        normalize_batch(many, Received(RECV, False), 10)
    assert refused.value.status == 413
    with pytest.raises(CollectRefused, match="non-empty list"):
        normalize_batch({"events": []}, Received(RECV, False), 10)


@pytest.mark.parametrize(
    ("address", "mode", "kept"),
    [
        ("203.0.113.57", "truncate", "203.0.113.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "truncate", "2001:db8:85a3::"),
        ("::ffff:198.51.100.23", "truncate", "198.51.100.0"),
        ("203.0.113.57", "drop", None),
        ("203.0.113.57", "full", "203.0.113.57"),
        ("testclient", "truncate", None),
    ],
)
def test_addresses_are_truncated_before_storage(address, mode, kept) -> None:
    assert stored_ip(address, mode) == kept
