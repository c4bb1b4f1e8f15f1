"""Alerts reach a real local SMTP server (aiosmtpd) and a local HTTP receiver; failures are retried, never
lost, and one incident alerts once across runs."""

from __future__ import annotations

import json
import socket
import threading
from datetime import date, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from trueroi.monitor.deliver import outbox
from trueroi.monitor.rules import AlertRule, add_rule
from trueroi.monitor.runner import run_monitor

from .conftest import TRACKING_DROP, inject, load_frames, recent

DAY = date(2026, 9, 10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


class Receiver:
    """A local webhook receiver that answers 500 to the first ``fail_first`` requests."""

    def __init__(self, port: int | None = None, fail_first: int = 0) -> None:
        self.bodies: list[dict] = []
        self.calls = 0
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls += 1
                if outer.calls <= outer.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.bodies.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.stop()


def test_tracking_drop_alerts_once_by_email_and_webhook(demo_frames, tmp_path, smtp, receiver) -> None:
    frames = inject(recent(demo_frames, date(2026, 5, 1)), "nb_generic_home", "shopping_pmax_all")
    ws = load_frames(tmp_path / "ws", frames, "injected")
    ws.config.alerting.smtp_host, ws.config.alerting.smtp_port = "127.0.0.1", smtp.port
    hook = receiver()
    add_rule(
        ws,
        AlertRule(
            "tracking",
            kpi="sessions",
            condition="anomaly",
            severity="critical",
            emails=["team@example.com"],
            webhooks=[hook.url],
        ),
    )
    before = run_monitor(ws, TRACKING_DROP - timedelta(days=1), backoff_s=0)
    assert before.incidents == [] and smtp.messages == [] and hook.bodies == []
    # the next day's data arrives: the drop is caught and sent to both receivers
    result = run_monitor(ws, TRACKING_DROP, backoff_s=0)
    assert (result.checked_from, result.checked_to) == (TRACKING_DROP, TRACKING_DROP)
    assert [i.day for i in result.incidents] == [TRACKING_DROP.isoformat()]
    assert len(smtp.messages) == 1 and len(hook.bodies) == 1
    rcpt, msg = smtp.messages[0]
    assert rcpt == ["team@example.com"]
    assert "tracking" in msg["Subject"] and "Sessions" in msg["Subject"] and "down" in msg["Subject"]
    payload = hook.bodies[0]
    assert payload["type"] == "trueroi.alert" and payload["version"] == 1
    assert payload["kpi"] == "sessions" and payload["day"] == TRACKING_DROP.isoformat()
    assert payload["observed"] == 0 and payload["direction"] == "down" and payload["severity"] == "critical"
    assert payload["scope"] == {"level": "total", "channel": None, "campaign": None}
    body = msg.get_content().replace("\r\n", "\n")
    assert body.startswith(msg["Subject"])
    assert json.loads(body.split("\n\n", 1)[1])["incident_key"] == payload["incident_key"]
    # the same incident does not alert twice: run again on the same day, and once more a day later
    again = run_monitor(ws, TRACKING_DROP, backoff_s=0)
    later = run_monitor(ws, TRACKING_DROP + timedelta(days=1), backoff_s=0)
    assert [i.key for i in again.incidents] == [payload["incident_key"]] and not again.new
    assert not later.new
    assert len(smtp.messages) == 1 and len(hook.bodies) == 1
    rows = outbox(ws)
    assert {r["status"] for r in rows} == {"delivered"} and {r["attempts"] for r in rows} == {1}
    assert len(rows) == 2 and all(r["delivered_at"] is not None for r in rows)
    ws.close()


@pytest.fixture
def spend_ws(copy_shop):
    """A clean copy with a rule that fires every day (spend above 0), for delivery mechanics."""
    ws = copy_shop()
    return ws


def test_failing_webhook_is_retried_with_backoff_within_a_run(spend_ws, receiver) -> None:
    hook = receiver(fail_first=2)
    add_rule(spend_ws, AlertRule("spend", kpi="spend", condition="above", threshold=0, webhooks=[hook.url]))
    waits: list[float] = []
    result = run_monitor(spend_ws, DAY, tries_per_run=3, backoff_s=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0]  # exponential backoff between the three tries
    assert hook.calls == 3 and len(hook.bodies) == 1
    assert [r["incident_key"] for r in result.delivery.to_dict()["delivered"]] == [result.incidents[0].key]
    (row,) = outbox(spend_ws)
    assert row["status"] == "delivered" and row["attempts"] == 3 and row["last_error"] is None


def test_receiver_down_keeps_alert_until_it_recovers(spend_ws) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"  # nothing listens there yet: the receiver is down
    add_rule(spend_ws, AlertRule("spend", kpi="spend", condition="above", threshold=0, webhooks=[url]))
    first = run_monitor(spend_ws, DAY, tries_per_run=2, backoff_s=0)
    assert len(first.delivery.pending) == 1 and not first.delivery.delivered
    (row,) = outbox(spend_ws)
    assert row["status"] == "pending" and row["attempts"] == 2 and "webhook" in row["last_error"]
    hook = Receiver(port=port)  # the receiver comes back
    try:
        second = run_monitor(spend_ws, DAY, tries_per_run=2, backoff_s=0)
    finally:
        hook.stop()
    assert not second.new  # not queued again: the pending row of the first run was delivered
    assert len(hook.bodies) == 1 and hook.bodies[0]["incident_key"] == row["incident_key"]
    (row,) = outbox(spend_ws)
    assert row["status"] == "delivered" and row["attempts"] == 3


def test_smtp_down_then_up_delivers_the_mail(spend_ws) -> None:
    port = free_port()
    spend_ws.config.alerting.smtp_host, spend_ws.config.alerting.smtp_port = "127.0.0.1", port
    add_rule(
        spend_ws, AlertRule("spend", kpi="spend", condition="above", threshold=0, emails=["a@example.com"])
    )
    run_monitor(spend_ws, DAY, tries_per_run=1, backoff_s=0)
    assert outbox(spend_ws)[0]["status"] == "pending"
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run_monitor(spend_ws, DAY, tries_per_run=1, backoff_s=0)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1 and outbox(spend_ws)[0]["status"] == "delivered"


def test_max_attempts_gives_up_loudly_and_keeps_the_record(spend_ws, receiver) -> None:
    hook = receiver(fail_first=10**6)  # always 500
    spend_ws.config.alerting.max_attempts = 3
    add_rule(spend_ws, AlertRule("spend", kpi="spend", condition="above", threshold=0, webhooks=[hook.url]))
    first = run_monitor(spend_ws, DAY, tries_per_run=2, backoff_s=0)
    assert len(first.delivery.pending) == 1 and not first.delivery.failed
    second = run_monitor(spend_ws, DAY, tries_per_run=2, backoff_s=0)
    assert len(second.delivery.failed) == 1  # the third attempt failed: given up, reported
    (row,) = outbox(spend_ws)
    assert row["status"] == "failed" and row["attempts"] == 3 and "HTTP 500" in row["last_error"]
    third = run_monitor(spend_ws, DAY, tries_per_run=2, backoff_s=0)
    assert hook.calls == 3 and not third.delivery.failed and not third.new  # no more tries, no re-queue


def test_a_down_receiver_is_tried_once_per_run_for_all_its_alerts(spend_ws) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # down
    add_rule(spend_ws, AlertRule("spend", kpi="spend", condition="above", threshold=0, webhooks=[url]))
    add_rule(spend_ws, AlertRule("sessions", kpi="sessions", condition="above", threshold=0, webhooks=[url]))
    waits: list[float] = []
    result = run_monitor(spend_ws, DAY, tries_per_run=3, backoff_s=1.0, sleep=waits.append)
    assert len(result.delivery.pending) == 2 and waits == [1.0, 2.0]  # one round of backoff, not two
    assert sorted(r["attempts"] for r in outbox(spend_ws)) == [0, 3]
