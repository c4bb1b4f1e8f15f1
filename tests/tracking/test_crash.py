"""Crash test: a bounded sender posts batches to a real collector (uvicorn) while the collector and the
loader are killed with SIGKILL at random moments and started again. Afterwards every acknowledged event is
in the warehouse exactly once, no event is there twice, and every order is there once with its revenue.
The same with the queue on a real local nats-server (JetStream)."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from .conftest import free_port, make_home, start_collector, start_loader, stop, wait_http

pytestmark = pytest.mark.slow
MAX_BATCHES, PER_BATCH = 2000, 10
KILLS = 3  # of each process
TRIES = 3


class Sender(threading.Thread):
    """Posts batches of PER_BATCH purchases until stopped (at most MAX_BATCHES), each up to TRIES times
    as a client retries (the same event ids) while it gets no answer; records the event ids of the batches
    acknowledged. A batch never answered stays unacknowledged."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.acked: set[str] = set()
        self.sent: set[str] = set()
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            for b in range(MAX_BATCHES):
                if self.halt.is_set():
                    return
                events = [
                    {
                        "event_id": f"e{b}-{i}",
                        "type": "purchase",
                        "order_id": f"o{b}-{i}",
                        "revenue": 1.0 + i,
                        "user_id": f"u{b}",
                        "ts": "2026-10-05T10:00:00Z",
                    }
                    for i in range(PER_BATCH)
                ]
                self.sent.update(e["event_id"] for e in events)
                try:
                    answer = client.post(
                        self.url + "/collect/v1/events",
                        json={"events": events},
                        headers={"Authorization": f"Bearer {self.key}"},
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)
                    continue
                if answer.status_code == 200:
                    assert answer.json() == {"accepted": PER_BATCH}
                    self.acked.update(e["event_id"] for e in events)
                time.sleep(0.01)


def _crash_run(home_path: Path, key: str, seed: int) -> Sender:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    rng = random.Random(seed)
    collector, loader = start_collector(home_path, port), start_loader(home_path)
    try:
        wait_http(url, collector)
        sender = Sender(url, key)
        sender.start()
        kills = {"collector": 0, "loader": 0}
        while sender.is_alive() and min(kills.values()) < KILLS:
            time.sleep(rng.uniform(0.2, 1.5))
            if kills["collector"] < kills["loader"] or (
                kills["collector"] == kills["loader"] and rng.random() < 0.5
            ):
                stop(collector)  # SIGKILL
                kills["collector"] += 1
                collector = start_collector(home_path, port)
                wait_http(url, collector)
            else:
                stop(loader)
                kills["loader"] += 1
                loader = start_loader(home_path)
        time.sleep(1.0)
        sender.halt.set()
        sender.join(timeout=60)
        assert min(kills.values()) == KILLS, kills
        stop(collector)  # the last segment is sealed; the loader must move all of it
        collector = None
        _wait_loaded(home_path, sender.acked)
    finally:
        stop(collector)
        stop(loader)
    return sender


def _wait_loaded(home_path: Path, acked: set[str], timeout: float = 120.0) -> None:
    from trueroi.server import ServerHome
    from trueroi.workspace import Workspace

    deadline = time.monotonic() + timeout
    with ServerHome.open(home_path) as home:
        while time.monotonic() < deadline:
            with Workspace.open(home.workspace_path("shop")) as ws:
                if "tracking_events" in ws.con.list_tables():
                    stored = set(ws.con.table("tracking_events").event_id.execute())
                    if acked <= stored:
                        return
            time.sleep(1.0)
    raise AssertionError("the loader did not load every acknowledged event in time")


def _check(home_path: Path, sender: Sender) -> None:
    from trueroi.server import ServerHome
    from trueroi.workspace import Workspace

    with ServerHome.open(home_path) as home, Workspace.open(home.workspace_path("shop")) as ws:
        events = ws.con.table("tracking_events").execute()
        orders = ws.table("orders").execute()
    assert events["event_id"].is_unique  # nothing twice, acknowledged or not
    assert sender.acked <= set(events["event_id"])  # nothing acknowledged lost
    assert set(events["event_id"]) <= sender.sent
    assert orders["order_id"].is_unique
    assert len(orders) == len(events)
    expected = sum(1.0 + int(e.split("-")[1]) for e in events["event_id"])
    assert orders["revenue"].sum() == pytest.approx(expected)
    assert len(sender.acked) >= 50 * PER_BATCH  # the run did send under the kills


def test_kill_9_of_collector_and_loader_loses_and_duplicates_nothing(tmp_path) -> None:
    made = make_home(tmp_path, load_interval_seconds=0.2)
    made.home.close()
    sender = _crash_run(made.home.path, made.keys["shop"].secret_key, seed=20)
    _check(made.home.path, sender)


def test_the_same_with_the_queue_on_nats(tmp_path, nats_server) -> None:
    made = make_home(
        tmp_path, queue_url=nats_server.url, load_interval_seconds=0.2, nats_ack_wait_seconds=3.0
    )
    made.home.close()
    sender = _crash_run(made.home.path, made.keys["shop"].secret_key, seed=21)
    _check(made.home.path, sender)
    assert not (made.home.path / "collector" / "wal" / "shop").exists()  # nothing went to the local log
