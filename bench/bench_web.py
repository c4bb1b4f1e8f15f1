"""Benchmark: 50 signed-in viewers on the demo workspace, opening the overview and calling the KPI API.

    python bench/bench_web.py                        # the demo at its default scale (~1.4 M touchpoints)
    python bench/bench_web.py --viewers 50 --rounds 4 --append   # and append the table to RESULTS.md

A bounded load test on loopback only (127.0.0.1): the demo workspace (generated once under
``bench/data/web-demo/``, git-ignored) is served by a real ``uvicorn`` (one web process, no job worker) from
a fresh server home with one viewer per simulated user, each signed in with a session of its own. The
derived tables are built and the pages warmed by one request each first ("with the derived tables built").
Then one viewer alone opens the overview 20 times and calls the KPI API 3 times (the time one request
takes; the KPI call's ratio to the library call is the web layer's overhead), and two runs: every
viewer, concurrently, does ``--rounds`` times ``GET /w/demo/`` (the overview page);
then ``--mixed-rounds`` times the overview and ``GET /api/v1/workspaces/demo/kpis?by=channel&period=2026-Q3&
compare=yoy`` (the KPI API). A fixed count of requests (``viewers x (rounds + 2 x mixed_rounds)``);
the script stops by itself. Reported: p50/p95/p99 latency and errors
per kind, the same KPI call through the library in this process (so the web layer's share shows as a ratio),
and the server process's memory (resident set now and at its peak, from ``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx

from trueroi.demo.run import run_demo
from trueroi.metrics import kpis
from trueroi.server import ServerHome, add_user, open_session
from trueroi.web.auth import SESSION_COOKIE
from trueroi.workspace import Workspace

HERE = Path(__file__).resolve().parent
PERIOD = "2026-Q3"
OVERVIEW = "/w/demo/"
KPI_API = f"/api/v1/workspaces/demo/kpis?by=channel&period={PERIOD}&compare=yoy"
PASSWORD = "bench viewer password 1234"


def demo_workspace(scale: float) -> Path:
    directory = HERE / "data" / ("web-demo" if scale == 1.0 else f"web-demo-{scale:g}")
    if not (directory / "trueroi.toml").exists():
        print(f"generating the demo shop at scale {scale:g} in {directory} ...", flush=True)
        run_demo(directory, scale=scale, fresh=True)
    return directory


def server_home(root: Path, workspace: Path, viewers: int) -> list[str]:
    """A home serving ``workspace`` as ``demo`` with ``viewers`` viewers; their session cookies."""
    sessions = []
    with ServerHome.init(root) as home:
        home.register_workspace("demo", workspace, actor="bench")
        for i in range(viewers):
            user = add_user(home, f"viewer{i}@example.com", PASSWORD, "viewer", ["demo"], actor="bench")
            sessions.append(open_session(home, user.id).session_id)
    return sessions


def start_server(home: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "--factory", "trueroi.web.app:app_from_environment"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "TRUEROI_HOME": str(home)},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("uvicorn did not start within 60 s")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


async def viewer(
    client: httpx.AsyncClient, rounds: int, results: dict[str, list], paths: dict[str, str]
) -> None:
    for _ in range(rounds):
        for kind, path in paths.items():
            start = time.perf_counter()
            try:
                response = await client.get(path)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            results[kind].append((time.perf_counter() - start, ok))


async def load(
    base: str, cookies: list[str], rounds: int, paths: dict[str, str]
) -> tuple[dict[str, list], float]:
    """Every viewer's requests, all viewers at once; the clients are made before the clock starts (making
    one sets up TLS defaults, which would otherwise count in the first requests' times)."""
    results: dict[str, list] = {kind: [] for kind in paths}
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, cookies={SESSION_COOKIE: c}, timeout=300)
            )
            for c in cookies
        ]
        start = time.perf_counter()
        await asyncio.gather(*(viewer(client, rounds, results, paths) for client in clients))
        return results, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def library_seconds(workspace: Path, repeat: int = 5) -> float:
    """Median time of the KPI call the API makes, through the library in this process."""
    times = []
    with Workspace.open(workspace) as ws:
        for _ in range(repeat):
            start = time.perf_counter()
            kpis(ws, by="channel", period=PERIOD, compare="yoy")
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def table(runs: dict[str, tuple[dict, float]], library: float, memory: dict[str, float]) -> str:
    lines = [
        "| load | request | count | errors | p50 | p95 | p99 | p50 / library KPI call |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (results, seconds) in runs.items():
        lines += _rows(name, results, seconds, library)
    lines += [
        "",
        f"Library KPI call in-process (`kpis(ws, by='channel', period='{PERIOD}', compare='yoy')`, "
        f"median of 5): {library * 1000:,.0f} ms. "
        f"Server process memory: {memory.get('VmRSS', 0):,.0f} MB resident after the runs, "
        f"{memory.get('VmHWM', 0):,.0f} MB at its peak.",
    ]
    return "\n".join(lines)


def _rows(name: str, results: dict[str, list], seconds: float, library: float) -> list[str]:
    lines = []
    total = sum(len(r) for r in results.values())
    for kind, rows in results.items():
        times = [t for t, _ in rows]
        errors = sum(not ok for _, ok in rows)
        p50, p95, p99 = (percentile(times, q) * 1000 for q in (50, 95, 99))
        lines.append(
            f"| {name} ({total} in {seconds:.1f} s) | {kind} | {len(rows)} | {errors} | {p50:,.0f} ms "
            f"| {p95:,.0f} ms | {p99:,.0f} ms | {p50 / 1000 / library:.1f}x |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale (1.0: ~1.4 M touchpoints)")
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4, help="overview calls per viewer (first run)")
    parser.add_argument(
        "--mixed-rounds", type=int, default=2, help="overview + KPI API calls per viewer (second run)"
    )
    parser.add_argument("--append", action="store_true", help="append the result to bench/RESULTS.md")
    args = parser.parse_args()
    workspace = demo_workspace(args.scale)
    root = Path(tempfile.mkdtemp(prefix="trueroi-bench-web-"))
    try:
        cookies = server_home(root / "home", workspace, args.viewers)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = start_server(root / "home", port)
        base = f"http://127.0.0.1:{port}"
        both = {"overview": OVERVIEW, "kpi api": KPI_API}
        try:
            # derived tables built by the first calls (which changes the warehouse), then the page cached
            warm, _ = asyncio.run(load(base, cookies[:1], 2, both))
            assert all(ok for rows in warm.values() for _, ok in rows), warm
            runs = {
                "1 viewer": asyncio.run(load(base, cookies[:1], 20, {"overview": OVERVIEW})),
                "1 viewer, KPI API": asyncio.run(load(base, cookies[:1], 3, {"kpi api": KPI_API})),
                f"{len(cookies)} viewers, overview": asyncio.run(
                    load(base, cookies, args.rounds, {"overview": OVERVIEW})
                ),
                f"{len(cookies)} viewers, overview + KPI API": asyncio.run(
                    load(base, cookies, args.mixed_rounds, both)
                ),
            }
            memory = memory_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        library = library_seconds(workspace)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = table(runs, library, memory)
    print(text)
    if args.append:
        header = (
            f"\nCommand: `.venv/bin/python bench/bench_web.py --scale {args.scale:g} "
            f"--viewers {args.viewers} --rounds {args.rounds} --mixed-rounds {args.mixed_rounds}`. "
            f"Machine: {platform.machine()} {os.cpu_count()} cores, "
            f"{platform.python_implementation()} {platform.python_version()}; "
            f"date {datetime.now(UTC):%Y-%m-%d}.\n\n"
        )
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as out:
            out.write(header + text + "\n")


if __name__ == "__main__":
    main()
