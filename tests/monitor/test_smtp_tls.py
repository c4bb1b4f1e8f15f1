"""E-mail alerts and SMTP credentials: STARTTLS whenever the server offers it, implicit TLS on request, and
no password over an unencrypted connection unless ``smtp_allow_plaintext_auth = true`` says so.

A real aiosmtpd server on loopback records every login (user, password, and whether the session was
encrypted at that moment) and every message; the certificate is self-signed for 127.0.0.1.
"""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from trueroi.monitor.deliver import deliver_pending, outbox
from trueroi.monitor.receivers import send

from .loopback import free_port
from .test_delivery import Inbox
from .test_receivers import queue

PASSWORD_ENV = "TRUEROI_TEST_SMTP_PASSWORD"


class Logins:
    """aiosmtpd authenticator: accepts every login and records (user, password, encrypted)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bool]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login, password = auth_data.login.decode(), auth_data.password.decode()
        encrypted = server.transport.get_extra_info("ssl_object") is not None  # STARTTLS or implicit TLS
        self.seen.append((login, password, encrypted))
        return AuthResult(success=True)


@pytest.fixture
def smtp_server():
    """Start an aiosmtpd server with the given options; yields ``start(**kwargs) -> (inbox, logins)``."""
    running = []

    def start(**kwargs):
        inbox, logins, port = Inbox(), Logins(), free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=logins, **kwargs)
        controller.start()
        running.append(controller)
        inbox.port = port
        return inbox, logins

    yield start
    for controller in running:
        controller.stop()


@pytest.fixture
def mail_ws(workspace, monkeypatch):
    """A workspace with one e-mail alert queued and an SMTP login whose password is in the environment."""
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    alerting = workspace.config.alerting
    alerting.smtp_host, alerting.smtp_user, alerting.smtp_password_env = "127.0.0.1", "alerts", PASSWORD_ENV
    alerting.connect_timeout_s = alerting.read_timeout_s = 5.0
    queue(workspace, "spend", emails=["team@example.com"])
    return workspace


def deliver(ws, port: int) -> dict:
    ws.config.alerting.smtp_port = port
    deliver_pending(ws, tries_per_run=1, backoff_s=0)
    (row,) = outbox(ws)
    return row


def test_no_password_in_plain_text_when_the_server_offers_no_starttls(mail_ws, smtp_server) -> None:
    inbox, logins = smtp_server(auth_require_tls=False)  # AUTH offered on a plain connection
    row = deliver(mail_ws, inbox.port)
    assert row["status"] == "pending" and inbox.messages == [] and logins.seen == []
    error = row["last_error"]
    assert "STARTTLS" in error and "smtp_allow_plaintext_auth = true" in error and "alerts" in error


def test_plain_text_login_when_allowed_explicitly(mail_ws, smtp_server) -> None:
    inbox, logins = smtp_server(auth_require_tls=False)
    mail_ws.config.alerting.smtp_allow_plaintext_auth = True
    row = deliver(mail_ws, inbox.port)
    assert row["status"] == "delivered" and len(inbox.messages) == 1
    assert logins.seen == [("alerts", "s3cret", False)]


def test_starttls_when_offered_before_the_login(mail_ws, smtp_server, certificate) -> None:
    inbox, logins = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    mail_ws.config.alerting.smtp_ca_file = str(certificate.cert)
    row = deliver(mail_ws, inbox.port)
    assert row["status"] == "delivered", row["last_error"]
    assert logins.seen == [("alerts", "s3cret", True)] and len(inbox.messages) == 1


def test_an_untrusted_certificate_is_an_error_not_a_plain_login(mail_ws, smtp_server, certificate) -> None:
    inbox, logins = smtp_server(tls_context=certificate.server_context(), auth_require_tls=False)
    row = deliver(mail_ws, inbox.port)  # no smtp_ca_file: the self-signed certificate is not trusted
    assert row["status"] == "pending" and "certificate" in row["last_error"].lower()
    assert logins.seen == [] and inbox.messages == []


def test_implicit_tls(mail_ws, smtp_server, certificate) -> None:
    # aiosmtpd counts only STARTTLS as TLS for offering AUTH; the connection is encrypted all the same
    inbox, logins = smtp_server(ssl_context=certificate.server_context(), auth_require_tls=False)
    mail_ws.config.alerting.smtp_tls = "ssl"
    mail_ws.config.alerting.smtp_ca_file = str(certificate.cert)
    row = deliver(mail_ws, inbox.port)
    assert row["status"] == "delivered", row["last_error"]
    assert logins.seen == [("alerts", "s3cret", True)] and len(inbox.messages) == 1


def test_starttls_required_but_not_offered(mail_ws, smtp_server) -> None:
    inbox, logins = smtp_server(auth_require_tls=False)
    alerting = mail_ws.config.alerting
    alerting.smtp_starttls, alerting.smtp_allow_plaintext_auth = True, True  # STARTTLS or nothing
    row = deliver(mail_ws, inbox.port)
    assert row["status"] == "pending" and "does not offer STARTTLS" in row["last_error"]
    assert inbox.messages == [] and logins.seen == []


def test_a_resent_alert_is_the_same_message(mail_ws, smtp_server) -> None:
    """A retry (here: the same alert sent twice) keeps its Message-ID; another receiver gets another one."""
    inbox, _ = smtp_server(auth_require_tls=False)
    alerting = mail_ws.config.alerting
    alerting.smtp_port, alerting.smtp_user = inbox.port, ""
    (row,) = outbox(mail_ws)
    for to in ("email:team@example.com", "email:team@example.com", "email:ops@example.com"):
        send(alerting, to, row["payload"], incident_key=row["incident_key"])
    ids = [msg["Message-ID"] for _, msg in inbox.messages]
    assert len(ids) == 3 and ids[0] == ids[1] != ids[2]
    assert all(i.startswith("<") and i.endswith(">") and "@" in i for i in ids)
