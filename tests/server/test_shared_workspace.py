"""The CLI and a running server share a workspace: `trueroi import` while `trueroi serve` answers KPI
requests and its job worker loads into the same workspace. Nobody fails with a lock error; whoever must
wait for the workspace waits and says so (the CLI on stderr, the job in its message)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import pytest

from trueroi.server import ServerHome, add_user, create_token
from trueroi.workspace import Workspace

pytestmark = pytest.mark.parametrize("server_home", ["sqlite"], indirect=True)
ADS = (
    "date_day,platform,campaign_id,campaign_name,currency,spend,impressions,clicks,conversions,"
    "conversions_value\n"
)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _call(port: int, token: str, path: str, data: bytes | None = None, content_type: str = "") -> tuple:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data)
    request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _multipart(name: str, content: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    )
    return body.encode(), f"multipart/form-data; boundary={boundary}"


def _serve(home: ServerHome, port: int, log) -> subprocess.Popen:  # noqa: ANN001 - a text file
    command = [
        sys.executable,
        "-m",
        "trueroi",
        "serve",
        str(home.path),
        "--port",
        str(port),
        "--job-workers",
        "1",
    ]
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).close()
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    pytest.fail("trueroi serve did not answer")


def test_cli_import_while_the_server_reads_and_loads(server_home, web_workspaces, tmp_path) -> None:
    shop = server_home.workspaces_dir / "shop"
    shutil.copytree(web_workspaces.paths["acme"], shop, ignore=shutil.ignore_patterns(".trueroi"))
    add_user(server_home, "ana@example.com", "a long enough password", "admin", [], actor="cli:test")
    token = create_token(server_home, "ana@example.com", "test", actor="cli:test")
    cli_file = tmp_path / "cli_ads.csv"
    cli_file.write_text(ADS + "2026-06-12,google_ads,cl1,CLI Load,EUR,300.00,1000,40,1,50.00\n")
    port, statuses, stop = _port(), [], threading.Event()
    kpis = "/api/v1/workspaces/shop/kpis?by=channel&period=2026-06"

    def read_kpis() -> None:
        while not stop.is_set():
            statuses.append(_call(port, token, kpis))

    with open(tmp_path / "serve.log", "w") as log:
        server = _serve(server_home, port, log)
        before = json.loads(_call(port, token, kpis)[1])["totals"]["spend"]
        reader = threading.Thread(target=read_kpis)
        reader.start()
        holder = Workspace.open(shop)
        try:
            with holder.writing("a long load of the test"):  # both loads below must wait for it
                body, kind = _multipart(
                    "job_ads.csv", ADS + "2026-06-13,google_ads,jb1,Job Load,EUR,200.00,900,30,1,40.00\n"
                )
                status, text = _call(
                    port, token, "/api/v1/workspaces/shop/imports?background=true", body, kind
                )
                assert status == 202, text
                job = json.loads(text)
                env = {**os.environ, "TRUEROI_LOCK_TIMEOUT": "120"}
                cli = subprocess.Popen(
                    [sys.executable, "-m", "trueroi", "import", "auto", str(cli_file), "-w", str(shop)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                )
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    shown = json.loads(_call(port, token, f"/api/v1/jobs/{job['id']}")[1])
                    if "a long load of the test" in shown["message"]:
                        break
                    time.sleep(0.2)
                assert shown["status"] == "running" and "waiting for" in shown["message"], shown
                notice = cli.stderr.readline()  # the CLI's first words: it waits, and for whom
            holder.close()
            out, err = cli.communicate(timeout=180)
            deadline = time.monotonic() + 120
            while json.loads(_call(port, token, f"/api/v1/jobs/{job['id']}")[1])["status"] == "running":
                assert time.monotonic() < deadline, "the job did not finish"
                time.sleep(0.2)
            stop.set()
            reader.join()
            after = json.loads(_call(port, token, kpis)[1])["totals"]["spend"]
            final = json.loads(_call(port, token, f"/api/v1/jobs/{job['id']}")[1])
        finally:
            stop.set()
            server.send_signal(signal.SIGINT)
            server.wait(60)
    assert cli.returncode == 0, err
    assert notice.startswith("waiting for") and "a long load of the test" in notice, notice + err
    assert final["status"] == "done", final
    assert statuses and all(code == 200 for code, _ in statuses), {c for c, _ in statuses}
    assert not [t for _, t in statuses if "lock" in t.lower()]
    assert after == pytest.approx(before + 300.00 + 200.00, abs=1e-6)
