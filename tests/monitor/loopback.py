"""Receivers on 127.0.0.1 for the delivery tests: a webhook receiver whose answer the test chooses (a status,
a redirect, a delay, or no answer at all) and a self-signed certificate for SMTP over TLS."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HOLD_LIMIT_S = 30.0  # a held request is answered (or dropped) after this at the latest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpReceiver:
    """A webhook receiver that records every request (method, path, headers, body) and answers ``status``.

    Parameters
    ----------
    status
        The answer to every POST (a GET, as a client following a redirect sends, is answered 200).
    location
        A ``Location`` header for the answer (with a 3xx status).
    delay_s
        Seconds to wait before answering.
    hold
        Hold each POST until :meth:`release` is called (``arrived`` is set when one is held); a held request
        that is released gets ``status``, or no answer at all with ``answer_held=False`` (a receiver that
        hangs). :meth:`stop` releases everything.
    """

    def __init__(
        self,
        status: int = 204,
        *,
        location: str | None = None,
        delay_s: float = 0.0,
        hold: bool = False,
        answer_held: bool = True,
    ) -> None:
        self.status, self.location, self.delay_s = status, location, delay_s
        self.hold, self.answer_held = hold, answer_held
        self.requests: list[Request] = []
        self.arrived = threading.Event()
        self._released = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                outer._record(self)
                if outer.hold:
                    outer.arrived.set()
                    outer._released.wait(HOLD_LIMIT_S)
                    if not outer.answer_held:
                        self.close_connection = True
                        return
                time.sleep(outer.delay_s)
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                outer._record(self)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _record(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.requests.append(Request(handler.command, handler.path, dict(handler.headers.items()), body))

    @property
    def posts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    def release(self) -> None:
        self._released.set()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_receiver():
    """Make :class:`HttpReceiver` objects that are stopped after the test."""
    made: list[HttpReceiver] = []

    def make(*args, **kwargs) -> HttpReceiver:
        made.append(HttpReceiver(*args, **kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made with the ``openssl`` program."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl program is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", key, "-out", cert]
        + ["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Certificate(cert, key)
