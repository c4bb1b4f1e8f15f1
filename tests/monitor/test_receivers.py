"""Webhook receivers on loopback that answer 500, redirect, hang, answer slowly or cannot be reached at all:
each delivery is judged on its own, only a 2xx answer to the POST counts, a run keeps to its deadline and
holds no warehouse lock while it waits, and a send cut short by kill -9 is retried with the same
``Idempotency-Key``.

The outbox rows are queued by hand in an empty workspace (no detection involved); a rule is written to
``alert_rules`` the way an older version stored it, so a URL that is refused today can still be there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest

from trueroi.monitor.deliver import deliver_pending, enqueue, outbox
from trueroi.monitor.rules import RULES, AlertRule, Incident
from trueroi.workspace import Workspace

from .loopback import free_port

DAY = "2026-09-10"


def queue(ws: Workspace, name: str, *, webhooks=(), emails=(), day: str = DAY) -> str:
    """Store a rule as an older version did (receivers unchecked) and queue one incident of it."""
    row = {
        "name": name,
        "kpi": "spend",
        "channel": None,
        "campaign": None,
        "condition": "above",
        "threshold": 0.0,
        "severity": "warning",
        "emails": json.dumps(list(emails)),
        "webhooks": json.dumps(list(webhooks)),
        "created_at": datetime(2026, 9, 1),
    }
    RULES.upsert(ws, [row])
    rule = AlertRule.from_row(row)
    key = f"{name}|total:total|{day}"
    text = f"[warning] {name}: Spend 120.00 is above 0 (all, {day})"
    inc = Incident(key, rule, day, None, "spend", "total", "total", 120.0, 100.0, 80.0, 110.0, "up", 3.1,
                   "warning", text)  # fmt: skip
    enqueue(ws, [inc])
    return key


def by_destination(ws: Workspace) -> dict[str, dict]:
    return {r["destination"]: r for r in outbox(ws)}


def fast(ws: Workspace, *, connect: float = 1.0, read: float = 1.0, deadline: float = 20.0) -> None:
    alerting = ws.config.alerting
    alerting.connect_timeout_s, alerting.read_timeout_s, alerting.run_deadline_s = connect, read, deadline


@pytest.mark.parametrize(
    "bad",
    [
        "http://exa mple.com/hook",  # a space: http.client raised InvalidURL and the whole run died
        "http://example.com/h\x1b[31mook",  # a control character
        "http:///hook",  # no host
    ],
)
def test_a_malformed_stored_url_fails_alone(workspace, http_receiver, bad) -> None:
    good = http_receiver(204)
    queue(workspace, "spend", webhooks=[bad, good.url])
    report = deliver_pending(workspace, backoff_s=0)
    rows = by_destination(workspace)
    assert rows[f"webhook:{good.url}"]["status"] == "delivered" and len(good.posts) == 1
    broken = rows[f"webhook:{bad}"]
    assert broken["status"] == "failed" and broken["attempts"] == 1  # never works: given up at once
    assert "not a valid webhook URL" in broken["last_error"]
    assert [r["destination"] for r in report.failed] == [f"webhook:{bad}"]
    assert [r["destination"] for r in report.delivered] == [f"webhook:{good.url}"]


def test_an_error_of_one_delivery_never_stops_the_others(workspace) -> None:
    queue(workspace, "a", webhooks=["https://a.example/hook"])
    queue(workspace, "b", webhooks=["https://b.example/hook"])
    sent = []

    def sender(alerting, destination, payload, **_):
        if "a.example" in destination:
            raise ValueError("a bug in a sender")  # not a DeliveryError
        sent.append(destination)

    report = deliver_pending(workspace, tries_per_run=1, backoff_s=0, sender=sender)
    assert sent == ["webhook:https://b.example/hook"]
    rows = by_destination(workspace)
    assert rows["webhook:https://a.example/hook"]["status"] == "pending"
    assert "a bug in a sender" in rows["webhook:https://a.example/hook"]["last_error"]
    assert len(report.pending) == 1 and len(report.delivered) == 1


def test_a_redirect_is_not_a_delivery(workspace, http_receiver) -> None:
    hook = http_receiver(302, location="/moved")
    queue(workspace, "spend", webhooks=[hook.url])
    report = deliver_pending(workspace, tries_per_run=1, backoff_s=0)
    (row,) = outbox(workspace)
    assert row["status"] == "pending" and row["attempts"] == 1 and row["delivered_at"] is None
    assert "HTTP 302" in row["last_error"] and "/moved" in row["last_error"]
    assert [r.method for r in hook.requests] == ["POST"]  # the redirect was not followed with a GET
    assert len(report.pending) == 1 and not report.delivered


def test_500_stays_pending_with_its_attempts(workspace, http_receiver) -> None:
    hook = http_receiver(500)
    queue(workspace, "spend", webhooks=[hook.url])
    deliver_pending(workspace, tries_per_run=2, backoff_s=0)
    (row,) = outbox(workspace)
    assert row["status"] == "pending" and row["attempts"] == 2 and "HTTP 500" in row["last_error"]
    assert len(hook.posts) == 2


def test_a_receiver_that_never_answers_keeps_the_run_within_its_deadline(workspace, http_receiver) -> None:
    first, second = http_receiver(hold=True, answer_held=False), http_receiver(hold=True, answer_held=False)
    queue(workspace, "a", webhooks=[first.url])
    queue(workspace, "b", webhooks=[second.url])
    fast(workspace, connect=0.5, read=0.5, deadline=1.5)
    started = time.monotonic()
    report = deliver_pending(workspace, tries_per_run=3, backoff_s=0)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 2.0, elapsed  # the deadline, a timeout and the bookkeeping; 10 s a try before
    rows = outbox(workspace)
    assert {r["status"] for r in rows} == {"pending"} and len(report.pending) == 2
    assert 1 <= sum(r["attempts"] for r in rows) <= 4
    assert "timed out" in by_destination(workspace)[f"webhook:{first.url}"]["last_error"]


def test_a_slow_receiver_below_the_timeout_is_delivered(workspace, http_receiver) -> None:
    hook = http_receiver(200, delay_s=0.4)
    queue(workspace, "spend", webhooks=[hook.url])
    fast(workspace, read=3.0)
    deliver_pending(workspace, tries_per_run=1, backoff_s=0)
    (row,) = outbox(workspace)
    assert row["status"] == "delivered" and row["attempts"] == 1 and len(hook.posts) == 1


def test_the_post_carries_json_and_the_incident_key_as_idempotency_key(workspace, http_receiver) -> None:
    hook = http_receiver(202)
    key = queue(workspace, "spend", webhooks=[hook.url])
    deliver_pending(workspace, backoff_s=0)
    (post,) = hook.posts
    headers = {k.lower(): v for k, v in post.headers.items()}
    assert headers["idempotency-key"] == key == "spend|total:total|2026-09-10"
    assert headers["content-type"] == "application/json"
    assert json.loads(post.body)["incident_key"] == key


def test_a_down_receiver_is_pending_not_fatal(workspace) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens
    queue(workspace, "spend", webhooks=[url])
    report = deliver_pending(workspace, tries_per_run=1, backoff_s=0)
    (row,) = outbox(workspace)
    assert row["status"] == "pending" and row["attempts"] == 1 and len(report.pending) == 1


SEND_IN_A_CHILD = """
import sys
from trueroi.monitor.deliver import deliver_pending
from trueroi.workspace import Workspace

ws = Workspace.open(sys.argv[1])
deliver_pending(ws, tries_per_run=1, backoff_s=0)
"""


def test_kill_during_a_send_retries_with_the_same_key_and_delivers_once(workspace, http_receiver) -> None:
    hook = http_receiver(204, hold=True)
    key = queue(workspace, "spend", webhooks=[hook.url])
    workspace.config.alerting.read_timeout_s = 60.0  # the request stays open until the child is killed
    workspace.config.save(workspace.path)
    workspace.close()
    env = {**os.environ, "TRUEROI_LOCK_TIMEOUT": "30"}
    child = subprocess.Popen([sys.executable, "-c", SEND_IN_A_CHILD, str(workspace.path)], env=env)
    try:
        assert hook.arrived.wait(60), "the child never sent its request"
        child.send_signal(signal.SIGKILL)  # kill -9 while the receiver holds the request open
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    hook.hold = False
    hook.release()
    with Workspace.open(workspace.path) as ws:
        (row,) = outbox(ws)
        assert row["status"] == "pending" and row["attempts"] == 1  # the attempt was recorded before it
        assert row["last_attempt_at"] is not None
        deliver_pending(ws, tries_per_run=1, backoff_s=0)  # the next run
        (row,) = outbox(ws)
    assert [p.headers.get("Idempotency-Key") for p in hook.posts] == [key, key]
    assert hook.posts[0].body == hook.posts[1].body
    assert row["status"] == "delivered" and row["attempts"] == 2


def test_no_warehouse_lock_is_held_while_a_receiver_is_waited_for(workspace, http_receiver) -> None:
    hook = http_receiver(204, hold=True)
    queue(workspace, "spend", webhooks=[hook.url])
    fast(workspace, read=30.0, deadline=60.0)
    workspace.config.save(workspace.path)
    workspace.close()
    errors: list[BaseException] = []

    def deliver() -> None:  # another thread: its own Workspace and locks, as another process would have
        try:
            with Workspace.open(workspace.path) as ws:
                deliver_pending(ws, tries_per_run=1, backoff_s=0)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    sender = threading.Thread(target=deliver)
    sender.start()
    try:
        assert hook.arrived.wait(30)
        started = time.monotonic()
        with Workspace.open(workspace.path, lock_timeout=3) as other, other.writing("an import meanwhile"):
            wrote_after = time.monotonic() - started
    finally:
        hook.release()
        sender.join(60)
    assert wrote_after < 3, wrote_after
    assert not errors, errors
    with Workspace.open(workspace.path) as ws:
        (row,) = outbox(ws)
    assert row["status"] == "delivered"
