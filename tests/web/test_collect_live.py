"""End to end on real processes: a purchase posted to the collector reaches the live page's event stream
within 5 seconds (collector -> WAL -> loader -> warehouse -> server-sent event), and the live page renders
the tracked numbers."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx2 as httpx
import pytest

from trueroi.server import add_user, create_token

from ..tracking.conftest import free_port, make_home, start_collector, start_loader, stop, wait_http

pytestmark = pytest.mark.slow


def test_a_purchase_reaches_the_live_stream_within_five_seconds(tmp_path) -> None:
    made = make_home(tmp_path, load_interval_seconds=0.2)
    admin = add_user(made.home, "a@example.com", "correct horse battery", "admin", [], actor="cli:test")
    token = create_token(made.home, admin.email, "t", actor="cli:test")
    made.home.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    collector, loader = start_collector(made.home.path, port), start_loader(made.home.path)
    try:
        wait_http(url, collector)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        with (
            httpx.Client(timeout=30.0) as client,
            client.stream("GET", url + "/w/shop/live/events", headers=headers) as stream,
        ):
            lines = stream.iter_lines()
            first = _next_data(lines)
            assert first["windows"]["today"]["total"]["orders"] == 0
            now = datetime.now(UTC).isoformat()
            sent = time.monotonic()
            purchase = {
                "event_id": "live-1",
                "type": "purchase",
                "ts": now,
                "order_id": "L1",
                "revenue": 80.0,
                "user_id": "u-1",
            }
            answer = client.post(
                url + "/collect/v1/events",
                json={"events": [purchase]},
                headers={"Authorization": f"Bearer {made.keys['shop'].secret_key}"},
            )
            assert answer.json() == {"accepted": 1}
            while True:
                data = _next_data(lines)
                if data["windows"]["today"]["total"]["orders"] == 1:
                    break
            delay = time.monotonic() - sent
        assert delay < 5.0
        assert data["windows"]["today"]["total"]["revenue"] == 80.0
        page = httpx.get(url + "/w/shop/live", headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200 and 'data-stream="/w/shop/live/events"' in page.text
        assert "(unattributed)" in page.text and "80.00" in page.text
    finally:
        stop(collector)
        stop(loader)


def _next_data(lines) -> dict:
    for line in lines:
        if line.startswith("data: "):
            return json.loads(line[6:])
    raise AssertionError("the stream ended")
