"""The collector's routes: the keys contract, durable answers, one event stored once, hostile payloads
refused with 4xx without reaching another workspace, 503 when nothing can be kept, bots dropped, and a
tracked purchase in the KPI API once loaded."""

from __future__ import annotations

import errno
import json
import re
import time

import pytest
from fastapi.testclient import TestClient

from trueroi.server import add_user, create_token
from trueroi.tracking import WalLoader, wal
from trueroi.web import create_app

from ..tracking.conftest import BROWSER_UA, make_home

PURCHASE = {
    "event_id": "o-1",
    "type": "purchase",
    "ts": "2026-10-05T10:00:00Z",
    "user_id": "u-1",
    "order_id": "A1",
    "revenue": 59.9,
    "currency": "EUR",
    "cogs": 31.0,
}


@pytest.fixture
def site(tmp_path):
    made = make_home(tmp_path)
    with TestClient(create_app(made.home)) as client:
        yield made, client
    made.home.close()


def _post(client, key: str, body, **headers):
    content = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(
        "/collect/v1/events", content=content, headers={"Authorization": f"Bearer {key}", **headers}
    )


def _wal_records(made, name: str) -> list[dict]:
    root = made.home.config.collector.resolved_wal_dir(made.home.path)
    return [json.loads(r) for s in wal.segments(root / name) for r in wal.read_records(s, 0)[0]]


def test_the_keys_command_prints_the_contract(tmp_path, run_cli) -> None:
    made = make_home(tmp_path)
    code, out, _ = run_cli("collector", "keys", "shop", "--home", str(made.home.path), "--format", "json")
    assert code == 0
    keys = json.loads(out)
    assert set(keys) == {"write_key", "secret_key"}
    assert keys == made.keys["shop"].to_dict()  # the same keys again, not new ones
    assert (made.home.path / "collector" / "keys.json").stat().st_mode & 0o077 == 0  # owner only
    code, _, err = run_cli("collector", "keys", "nowhere", "--home", str(made.home.path), "--format", "json")
    assert code == 2 and "not found" in err


def test_a_batch_is_answered_once_kept_and_stored_once(site) -> None:
    made, client = site
    secret = made.keys["shop"].secret_key
    answer = _post(client, secret, {"events": [PURCHASE, {**PURCHASE, "event_id": "o-2", "order_id": "A2"}]})
    assert (answer.status_code, answer.json()) == (200, {"accepted": 2})
    assert [e["event_id"] for r in _wal_records(made, "shop") for e in r["events"]] == [
        "o-1",
        "o-2",
    ]  # on disk
    again = _post(client, secret, {"events": [PURCHASE]})
    assert again.json() == {"accepted": 1}  # acknowledged again ...
    assert WalLoader(made.home).run_once() == 3
    with made.workspace() as ws:
        events = ws.con.table("tracking_events").execute()
        orders = ws.table("orders").execute().set_index("order_id")
    assert sorted(events["event_id"]) == ["o-1", "o-2"]  # ... and stored once
    assert orders.loc["A1", ["revenue", "cogs", "customer_id"]].tolist() == [59.9, 31.0, "u-1"]


def test_a_tracked_purchase_shows_in_the_kpis_once_loaded(site) -> None:
    made, client = site
    admin = add_user(made.home, "a@example.com", "correct horse battery", "admin", [], actor="cli:test")
    token = create_token(made.home, admin.email, "t", actor="cli:test")
    kpis = "/api/v1/workspaces/shop/kpis?by=channel&from=2026-10-05&to=2026-10-05"
    _post(client, made.keys["shop"].secret_key, {"events": [PURCHASE]})
    WalLoader(made.home).run_once()
    report = client.get(kpis, headers={"Authorization": f"Bearer {token}"}).json()
    totals = {k: sum(r.get(k) or 0 for r in report["rows"]) for k in ("revenue", "conversions")}
    assert totals == {"revenue": 59.9, "conversions": 1.0}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "not a JSON object"),
        (b'{"events": "many"}', 422, "non-empty list"),
        ({"events": [{"event_id": "<script>alert(1)</script>", "type": "lead"}]}, 422, "event_id"),
        ({"events": [{"event_id": "e", "type": "custom", "name": "<script>alert(1)</script>"}]}, 422, "name"),
        (
            {"events": [{"event_id": "e", "type": "page_view", "url": "https://x.example/<script>"}]},
            422,
            "url",
        ),
        ({"events": [{"event_id": f"e{i}", "type": "lead"} for i in range(1001)]}, 413, "at most 1000"),
    ],
)
def test_malformed_and_hostile_batches_are_refused_and_nothing_is_kept(site, body, status, words) -> None:
    made, client = site
    answer = _post(client, made.keys["shop"].secret_key, body)
    assert answer.status_code == status
    assert words in answer.json()["detail"]
    assert _wal_records(made, "shop") == []
    assert _post(client, made.keys["shop"].secret_key, {"events": [PURCHASE]}).status_code == 200  # still up


def test_bodies_over_the_limit_are_refused_before_they_are_read(site) -> None:
    made, client = site
    ten_mb = b'{"events": [' + b" " * 10_000_000 + b"]}"
    assert _post(client, made.keys["shop"].secret_key, ten_mb).status_code == 413

    def chunks():  # no Content-Length: the limit holds while reading
        yield b'{"events": ['
        for _ in range(100):
            yield b" " * 100_000

    answer = client.post(
        "/collect/v1/events",
        content=chunks(),
        headers={"Authorization": f"Bearer {made.keys['shop'].secret_key}"},
    )
    assert answer.status_code == 413
    assert _wal_records(made, "shop") == []


def test_keys_reach_their_own_workspace_only(site) -> None:
    made, client = site
    assert _post(client, "trs_wrong", {"events": [PURCHASE]}).status_code == 401
    assert _post(client, made.keys["shop"].write_key, {"events": [PURCHASE]}).status_code == 401  # public key
    no_key = client.post("/collect/v1/events", json={"events": [PURCHASE]})
    assert no_key.status_code == 401
    assert _post(client, made.keys["other"].secret_key, {"events": [PURCHASE]}).status_code == 200
    assert _wal_records(made, "shop") == []
    assert len(_wal_records(made, "other")) == 1
    WalLoader(made.home).run_once()
    with made.workspace("shop") as ws:
        assert ws.row_count("orders") == 0
    with made.workspace("other") as ws:
        assert ws.row_count("orders") == 1


def test_browser_batches_need_the_write_key_and_bots_are_dropped(site) -> None:
    made, client = site
    batch = {
        "write_key": made.keys["shop"].write_key,
        "sent_at": int(time.time() * 1000),
        "events": [{"event_id": "p1", "type": "page_view", "url": "https://shop.example/"}],
    }
    person = client.post(
        "/collect/v1/t",
        content=json.dumps(batch),
        headers={"User-Agent": BROWSER_UA, "Content-Type": "text/plain"},
    )
    assert (person.status_code, person.json()) == (200, {"accepted": 1})
    assert person.headers["access-control-allow-origin"] == "*"
    bot = client.post(
        "/collect/v1/t",
        content=json.dumps(batch),
        headers={"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"},
    )
    assert bot.json() == {"accepted": 0}
    secret = client.post(
        "/collect/v1/t", content=json.dumps({**batch, "write_key": made.keys["shop"].secret_key})
    )
    assert secret.status_code == 401
    flood = {
        **batch,
        "events": [
            {"event_id": f"f{i}", "type": "page_view", "url": "https://shop.example/"} for i in range(200)
        ],
    }
    fast = client.post(
        "/collect/v1/t", content=json.dumps(flood), headers={"User-Agent": BROWSER_UA + " flood"}
    )
    assert fast.json() == {"accepted": 120}  # bot_events_per_minute: the rest is not a person


def test_nothing_is_acknowledged_when_the_log_cannot_keep_it(site, monkeypatch) -> None:
    made, client = site

    def disk_full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wal, "_write_all", disk_full)
    answer = _post(client, made.keys["shop"].secret_key, {"events": [PURCHASE]})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "No space left" in answer.json()["detail"]
    monkeypatch.undo()
    assert _post(client, made.keys["shop"].secret_key, {"events": [PURCHASE]}).status_code == 200


def test_an_unwritable_log_answers_503(tmp_path) -> None:
    (tmp_path / "blocked").write_text("a file, not a folder")
    made = make_home(tmp_path, wal_dir=str(tmp_path / "blocked" / "wal"))
    with TestClient(create_app(made.home)) as client:
        answer = _post(client, made.keys["shop"].secret_key, {"events": [PURCHASE]})
    assert answer.status_code == 503


def test_the_tracker_script_is_small_and_served_compressed(site) -> None:
    _, client = site
    answer = client.get("/t.js", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["content-type"].startswith("text/javascript")
    assert int(answer.headers["content-length"]) < 4000  # a few KB gzipped
    code = re.sub(r"/\*.*?\*/", "", answer.text, flags=re.S)
    assert "/collect/v1/t" in code
    assert not re.search(r"https?://", code)  # no third-party address: it posts to where it came from
