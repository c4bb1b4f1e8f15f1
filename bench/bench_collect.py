"""Benchmark: the first-party tracking collector (issue 20) on loopback, with a real ``uvicorn``.

    .venv/bin/python bench/bench_collect.py                          # about 5 minutes
    .venv/bin/python bench/bench_collect.py --sustained-seconds 600  # the issue's 10-minute memory run
    .venv/bin/python bench/bench_collect.py --only sustained --sustained-seconds 600  # phases 4 and 5 alone

A fresh server home (one workspace ``shop``, EUR, Europe/Berlin) under a temporary folder is served by one
``uvicorn`` process (``trueroi.web.app:app_from_environment``, one web process, as the tests start it) on
127.0.0.1. An async httpx load generator in this process posts ``POST /collect/v1/events`` with
``Authorization: Bearer SECRET`` over ``--concurrency`` connections, a fixed number of requests per run;
every batch is 60 % purchases, 20 % leads and 20 % page views (UTM-tagged URLs; server-side page views
make sessions and touchpoints as the browser's do), dated two days ago so that they stay out of the live
page's "today" window; in the sustained phase the dates move on with the clock and visitors come and go
(:func:`batch_body`; ``--returning-users`` for the first run's generator). Phases, in this order:

1. **durable** (the default ``[collector] durable = true``: WAL, group commit, ``fdatasync`` before the
   answer), batches of 1, 10 and 100 events, the loader not running: events/s acknowledged, p50/p99 time to
   acknowledge (from sending the request to reading the answer);
2. **loader**: the loader (:class:`trueroi.tracking.WalLoader`, what ``trueroi serve``'s loader process
   runs) drains a WAL of ``--kind-events`` events written in this process (the mix above, then page views,
   leads and purchases alone), timed in this process; events/s and warehouse rows/s (``tracking_events`` +
   ``touchpoints`` + ``orders`` + ``conversions``);
3. **durability off** (``durable = false``: written to the OS, no fsync) with the same batches, and the
   same endpoint refusing a wrong key (401: body read and parsed, key looked up, nothing written): the
   ceilings;
4. **sustained** (on a fresh home): durable, batches of ``--sustained-batch`` events offered at
   ``--sustained-rate`` events/s (open loop; 0: as fast as answered), collector and loader process running
   together as under ``trueroi serve`` for ``--sustained-seconds``; events/s per interval and the resident
   memory (``/proc/PID/status`` VmRSS) of the collector and the loader at the start and end;
5. **end to end**: a purchase dated now, posted while the live page's event stream
   (``GET /w/shop/live/events``, server-sent events, as the browser's ``EventSource``) is open; the delay
   until the stream's "today" orders count includes it (collector -> WAL -> loader -> warehouse -> stream).

The load generator shares the 2 cores with the server (and, in phase 4, the loader), so the rates are
what this machine gives with client and server together. The 1-minute load average is recorded beside each
measurement. The results are printed and written as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx

from trueroi.errors import TrueRoiError
from trueroi.server import ServerHome, add_user, create_token
from trueroi.tracking import Collector, WalLoader, collector_keys
from trueroi.workspace import Workspace, WorkspaceConfig

ENDPOINT = "/collect/v1/events"
BATCHES = (1, 10, 100)
TABLES = ("tracking_events", "touchpoints", "orders", "conversions")
OLD_TS = (datetime.now(UTC) - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


# -- the server home and processes ---------------------------------------------------------------------
def make_home(root: Path) -> tuple[Path, str, str]:
    """A server home in ``root`` with workspace ``shop`` and an admin; (its path, shop's secret key, admin
    token)."""
    with ServerHome.init(root) as home:
        config = WorkspaceConfig(name="shop", brand_terms=["acme"])
        Workspace.init(home.workspaces_dir / "shop", config).close()
        secret = collector_keys(home, "shop").secret_key
        admin = add_user(home, "bench@example.com", "bench admin password 1234", "admin", [], actor="bench")
        token = create_token(home, admin.email, "bench", actor="bench")
        return home.path, secret, token


def set_durable(home_path: Path, durable: bool) -> None:
    with ServerHome.open(home_path) as home:
        home.config.collector = replace(home.config.collector, durable=durable)
        home.config.save(home.path)


def start_collector(home: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "--factory", "trueroi.web.app:app_from_environment"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "TRUEROI_HOME": str(home)},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn stopped with exit code {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/t.js", timeout=2.0)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the collector did not answer within 60 s")


def start_loader(home: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "trueroi.tracking.loader", str(home)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen | None) -> None:
    """Ask the process to stop (SIGTERM: uvicorn seals its WAL segments), then wait."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


# -- the load generator --------------------------------------------------------------------------------
def batch_body(prefix: str, seq: int, size: int, clock: float | None = None) -> bytes:
    """One request's body: ``size`` events (60 % purchases, 20 % leads, 20 % page views), dated
    :data:`OLD_TS`.

    With ``clock`` (seconds since the run began) the stream moves on as real traffic does: events are dated
    :data:`OLD_TS` plus ``clock``, and each 20 events belong to a visitor of their own, who does not come
    back. Without it (the short runs) every run dates its events from :data:`OLD_TS` again and 5,000 users
    come back in every run, so that over a long run every visitor's one session grows without end and each
    load rebuilds it from all of its events (the first sustained run's generator).
    """
    events = []
    for i in range(size):
        n = seq * size + i
        if clock is None:
            ts, user = OLD_TS + timedelta(milliseconds=n), f"u{n % 5000}"
        else:
            ts, user = OLD_TS + timedelta(seconds=clock, milliseconds=i), f"{prefix}-{seq}-u{i // 20}"
        event = {
            "event_id": f"{prefix}-{seq}-{i}",
            "ts": ts.isoformat().replace("+00:00", "Z"),
            "user_id": user,
        }
        if n % 5 < 3:
            event.update(type="purchase", order_id=f"{prefix}-o{n}", revenue=59.9, currency="EUR", cogs=31.0)
        elif n % 5 == 3:
            event.update(type="lead", value=12.5)
        else:
            url = f"https://shop.example/p/{n % 300}?utm_source=google&utm_medium=cpc&utm_campaign=c{n % 7}"
            event.update(type="page_view", url=url)
        events.append(event)
    return json.dumps({"events": events}, separators=(",", ":")).encode()


async def post_many(
    url: str,
    key: str,
    size: int,
    requests: int,
    concurrency: int,
    prefix: str,
    expect: int = 200,
    rate: float = 0.0,
    since: float | None = None,
) -> dict:
    """Post ``requests`` batches of ``size`` events over ``concurrency`` connections; latencies in ms.
    With ``rate`` (events/s) request k is not sent before ``k * size / rate`` s (open loop, paced).
    With ``since`` (a ``time.perf_counter()`` value) the events move on in time (``clock`` of
    :func:`batch_body`)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = [0]
    seqs = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        for seq in seqs:
            clock = None if since is None else time.perf_counter() - since
            body = batch_body(prefix, seq, size, clock)
            if rate:
                await asyncio.sleep(began + seq * size / rate - time.perf_counter())
            start = time.perf_counter()
            try:
                answer = await client.post(url + ENDPOINT, content=body, headers=headers)
                ok = answer.status_code == expect
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - start) * 1000)
            errors[0] += not ok

    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - began
    return summary(size, requests, wall, latencies, errors[0])


def summary(size: int, requests: int, wall: float, latencies: list[float], errors: int) -> dict:
    ordered = sorted(latencies)
    return {
        "batch": size,
        "requests": requests,
        "events": size * (requests - errors),
        "seconds": round(wall, 2),
        "requests_per_s": round(requests / wall, 1),
        "events_per_s": round(size * (requests - errors) / wall),
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
        "errors": errors,
        "load_avg_1min": load_avg(),
    }


def batch_runs(url: str, key: str, requests: dict[int, int], concurrency: int, tag: str, expect: int = 200):
    rows = []
    for size in BATCHES:
        asyncio.run(post_many(url, key, size, 50, concurrency, f"{tag}w{size}", expect))  # warm-up
        row = asyncio.run(post_many(url, key, size, requests[size], concurrency, f"{tag}{size}", expect))
        print(f"  {tag} batch {size}: {json.dumps(row)}", flush=True)
        rows.append(row)
    return rows


# -- the loader ------------------------------------------------------------------------------------------
def row_counts(home_path: Path, lock_timeout: float | None = None) -> dict[str, int] | None:
    """Rows of :data:`TABLES` in ``shop``; None when the workspace stayed locked for ``lock_timeout`` s."""
    try:
        with (
            ServerHome.open(home_path) as home,
            Workspace.open(home.workspace_path("shop"), lock_timeout=lock_timeout) as ws,
        ):
            present = set(ws.con.list_tables())
            return {t: int(ws.con.table(t).count().execute()) if t in present else 0 for t in TABLES}
    except TrueRoiError:
        return None


def drain(home_path: Path, max_seconds: float, per_pass: int = 10_000) -> dict:
    """Time :meth:`WalLoader.run_once` (at most ``per_pass`` events a pass, one warehouse transaction each)
    until the WAL is empty or ``max_seconds`` have passed (the collector stopped: segments sealed)."""
    before = row_counts(home_path)
    with ServerHome.open(home_path) as home:
        loader = WalLoader(home)
        loader.config = replace(loader.config, load_batch_events=per_pass)
        passes, moved, began = 0, 0, time.perf_counter()
        while time.perf_counter() - began < max_seconds and ((step := loader.run_once()) or passes == 0):
            moved, passes = moved + step, passes + 1
        wall = time.perf_counter() - began
    after = row_counts(home_path)
    rows = {t: after[t] - before[t] for t in TABLES}
    return {
        "events": moved,
        "passes": passes,
        "seconds": round(wall, 2),
        "events_per_s": round(moved / wall) if wall else None,
        "rows": rows,
        "rows_per_s": round(sum(rows.values()) / wall) if wall else None,
        "load_avg_1min": load_avg(),
    }


def loader_by_kind(root: Path, events: int = 5000) -> dict:
    """Loader events/s for the benchmark's mix and for one event type at a time: ``events`` events written
    to the WAL in this process (:class:`~trueroi.tracking.Collector`, no HTTP), then drained."""
    out = {}
    for kind in ("mix", "page_view", "lead", "purchase"):
        home, key, _ = make_home(root / f"kind-{kind}")
        with ServerHome.open(home) as opened:
            collector = Collector(opened.path, opened.config.collector)
            for seq in range(events // 100):
                batch = json.loads(batch_body(kind, seq, 100))
                for event in batch["events"] if kind != "mix" else []:
                    event.update(type=kind, order_id=f"o-{event['event_id']}", revenue=59.9)
                    event.update(url="https://shop.example/?utm_source=google&utm_medium=cpc")
                body = json.dumps(batch).encode()
                asyncio.run(collector.collect(body, key=key, browser=False))
            collector.close()
        out[kind] = drain(home, 900.0)
        print(f"  {kind}: {json.dumps(out[kind])}", flush=True)
    return out


# -- sustained run and end to end -------------------------------------------------------------------------
def sustained(url: str, key: str, args, collector: subprocess.Popen, loader: subprocess.Popen) -> dict:
    """Post batches for ``args.sustained_seconds`` (closed loop) in chunks of ``args.chunk_requests``
    requests; events/s, latency and the two processes' memory after each chunk."""
    intervals, memory = [], [(0.0, rss_mib(collector.pid), rss_mib(loader.pid), load_avg())]
    began, seq, clock0 = time.monotonic(), 0, time.perf_counter()
    while time.monotonic() - began < args.sustained_seconds:
        size = args.sustained_batch
        row = asyncio.run(
            post_many(
                url,
                key,
                size,
                args.chunk_requests,
                args.concurrency,
                f"s{seq}",
                rate=args.sustained_rate,
                since=None if args.returning_users else clock0,
            )
        )
        seq += 1
        intervals.append(row)
        memory.append(
            (round(time.monotonic() - began, 1), rss_mib(collector.pid), rss_mib(loader.pid), load_avg())
        )
        print(
            f"  sustained {memory[-1][0]:.0f} s: {row['events_per_s']} ev/s, p99 {row['p99_ms']} ms, "
            f"collector {memory[-1][1]} MiB, loader {memory[-1][2]} MiB, load {memory[-1][3]}",
            flush=True,
        )
    lat = [r["p99_ms"] for r in intervals]
    events = sum(r["events"] for r in intervals)
    wall = sum(r["seconds"] for r in intervals)
    return {
        "seconds": round(time.monotonic() - began, 1),
        "events": events,
        "events_per_s": round(events / wall),
        "p50_ms_median_of_intervals": statistics.median(r["p50_ms"] for r in intervals),
        "p99_ms_worst_interval": max(lat),
        "p99_ms_median_of_intervals": statistics.median(lat),
        "errors": sum(r["errors"] for r in intervals),
        "memory": [
            {"t_s": t, "collector_mib": c, "loader_mib": m, "load_avg_1min": la} for t, c, m, la in memory
        ],
        "intervals": intervals,
    }


def live_delay(url: str, key: str, token: str, n: int, timeout: float = 90.0) -> float | None:
    """Seconds from posting purchase ``n`` (dated now) until the live stream's today orders count has it;
    None when it has not after ``timeout`` s (the purchase was acknowledged all the same)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream("GET", url + "/w/shop/live/events", headers=headers) as stream,
    ):
        lines = stream.iter_lines()
        base = _next_data(lines)["windows"]["today"]["total"]["orders"]
        event = {
            "event_id": f"live-{n}",
            "type": "purchase",
            "ts": datetime.now(UTC).isoformat(),
            "order_id": f"live-o{n}",
            "revenue": 80.0,
            "user_id": f"live-u{n}",
        }
        sent = time.monotonic()
        answer = client.post(
            url + ENDPOINT, json={"events": [event]}, headers={"Authorization": f"Bearer {key}"}
        )
        answer.raise_for_status()
        try:
            while _next_data(lines)["windows"]["today"]["total"]["orders"] <= base:
                if time.monotonic() - sent > timeout:
                    return None
        except httpx.ReadTimeout:
            return None
        return round(time.monotonic() - sent, 2)


def _next_data(lines) -> dict:
    for line in lines:
        if line.startswith("data: "):
            return json.loads(line[6:])
    raise RuntimeError("the live stream ended")


def wait_loaded(home: Path, expected: int, timeout: float) -> tuple[float, dict[str, int] | None]:
    """Seconds until the running loader has ``expected`` tracked events in the warehouse (at most about
    ``timeout``), and the last counts (None: the loader held the workspace the whole time)."""
    began, counts = time.perf_counter(), None
    while time.perf_counter() - began < timeout:
        counts = row_counts(home, lock_timeout=max(1.0, timeout - (time.perf_counter() - began))) or counts
        if counts is not None and counts["tracking_events"] >= expected:
            break
        time.sleep(1.0)
    return round(time.perf_counter() - began, 1), counts


class Probe(threading.Thread):
    """End-to-end probes every ``every`` seconds while the sustained run goes on (a thread of its own)."""

    def __init__(self, url: str, key: str, token: str, every: float) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.token, self.every = url, key, token, every
        self.delays: list[float | None] = []
        self.posted = 0
        self.halt = threading.Event()

    def run(self) -> None:
        n = 1000
        while not self.halt.wait(self.every):
            n += 1
            self.posted += 1  # counted as posted even if the post fails: waiting then only times out
            try:
                self.delays.append(live_delay(self.url, self.key, self.token, n))
                print(f"  probe under load: {self.delays[-1]} s", flush=True)
            except (RuntimeError, httpx.HTTPError) as exc:
                print(f"  probe {n} failed: {exc}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16, help="connections of the load generator")
    parser.add_argument("--requests", type=int, nargs=3, default=[4000, 2000, 400], help="per batch size")
    parser.add_argument("--sustained-seconds", type=float, default=150.0)
    parser.add_argument("--sustained-batch", type=int, default=100)
    parser.add_argument(
        "--sustained-rate", type=float, default=5000.0, help="events/s offered; 0: closed loop"
    )
    parser.add_argument("--low-concurrency", type=int, default=4, help="durable batches again with this")
    parser.add_argument("--chunk-requests", type=int, default=500)
    parser.add_argument("--kind-events", type=int, default=5000, help="events per type, loader by type")
    parser.add_argument("--backlog-wait", type=float, default=60.0, help="s to wait for the loader")
    parser.add_argument("--probes", type=int, default=5, help="end-to-end probes with the machine idle")
    parser.add_argument(
        "--only", choices=("sustained",), default=None, help="phases 4 and 5 alone (collector with loader)"
    )
    parser.add_argument(
        "--returning-users",
        action="store_true",
        help="sustained run with the first run's generator (5,000 users whose sessions never end)",
    )
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_collect.json")
    args = parser.parse_args()
    requests = dict(zip(BATCHES, args.requests, strict=True))
    result = {"machine": f"{os.cpu_count()} cores, Python {platform.python_version()}", "args": vars(args)}
    result["started"] = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        result.update(phases(Path(tmp), requests, args))
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(f"written {args.out}")


def phases(root: Path, requests: dict[int, int], args) -> dict:
    """Phases 1 to 3, then (on the first home) 4 and 5; durability off runs on a second home."""
    out: dict = {}
    port = 8700 + os.getpid() % 200
    url = f"http://127.0.0.1:{port}"
    if args.only == "sustained":
        live, live_key, live_token = make_home(root / "serving")
        out.update(serving(live, url, live_key, live_token, args))
        return out
    home, key, _ = make_home(root / "durable")
    collector = start_collector(home, port)
    try:
        print("1. durable", flush=True)
        out["durable"] = batch_runs(url, key, requests, args.concurrency, "d")
        low = {size: requests[size] // 2 for size in BATCHES}
        out["durable_low_concurrency"] = batch_runs(url, key, low, args.low_concurrency, "l")
    finally:
        stop(collector)
    off, off_key, _ = make_home(root / "not-durable")
    set_durable(off, False)
    collector = start_collector(off, port)
    try:
        print("3. durability off, and a wrong key", flush=True)
        out["not_durable"] = batch_runs(url, off_key, requests, args.concurrency, "n")
        out["wrong_key"] = batch_runs(url, "wrong-key", requests, args.concurrency, "k", expect=401)
    finally:
        stop(collector)
    print("2. the loader, by event type (the mix, then one type at a time)", flush=True)
    out["loader_by_type"] = loader_by_kind(root, args.kind_events)
    live, live_key, live_token = make_home(root / "serving")
    out.update(serving(live, url, live_key, live_token, args))
    return out


def serving(home: Path, url: str, key: str, token: str, args) -> dict:
    """Phases 4 and 5: collector and loader together, as under ``trueroi serve``."""
    out: dict = {}
    collector = start_collector(home, int(url.rsplit(":", 1)[1]))
    start_rows = row_counts(home)["tracking_events"]
    loader = start_loader(home)
    try:
        print("5a. end to end, idle", flush=True)
        out["end_to_end_idle_s"] = [live_delay(url, key, token, n) for n in range(args.probes)]
        print(f"  {out['end_to_end_idle_s']}", flush=True)
        print("4. sustained (with end-to-end probes every 20 s)", flush=True)
        probe = Probe(url, key, token, 20.0)
        probe.start()
        out["sustained"] = sustained(url, key, args, collector, loader)
        probe.halt.set()
        probe.join(130)
        out["end_to_end_under_load_s"] = probe.delays
        posted = start_rows + args.probes + out["sustained"]["events"] + probe.posted
        out["loader_backlog_s"], out["rows_after"] = wait_loaded(home, posted, args.backlog_wait)
        loaded = out["rows_after"]["tracking_events"] if out["rows_after"] else None
        backlog = out["not_loaded_after_wait"] = None if loaded is None else posted - loaded
        print(f"5b. end to end after the run (backlog {backlog} events)", flush=True)
        if backlog == 0:
            out["end_to_end_after_s"] = [live_delay(url, key, token, 100 + n) for n in range(args.probes)]
        out["memory_end"] = {"collector_mib": rss_mib(collector.pid), "loader_mib": rss_mib(loader.pid)}
        shown = ("end_to_end_under_load_s", "loader_backlog_s", "end_to_end_after_s", "memory_end")
        print(f"  {json.dumps({k: out.get(k) for k in shown})}", flush=True)
    finally:
        stop(collector)
        stop(loader)
    return out


if __name__ == "__main__":
    main()
