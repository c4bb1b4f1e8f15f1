"""Alert receivers: an address is checked when a rule is added, and one alert is sent to it at a time.

A webhook gets one ``POST`` of the JSON payload (see :mod:`trueroi.monitor.deliver`) with the headers
``Content-Type: application/json`` and ``Idempotency-Key: <incident key>`` (characters outside printable
ASCII, and ``%``, percent-encoded as UTF-8), the same key on every retry of the same alert, so a receiver
that keeps the keys it has seen can drop a duplicate. Only a 2xx answer to that POST counts as delivered;
a redirect is not followed (a 3xx is a failure whose message names its ``Location``).

An e-mail goes through the SMTP server of ``[alerting]`` (:class:`~trueroi.workspace.config.Alerting`):
STARTTLS whenever the server offers it (``smtp_tls = "starttls"``), TLS from the start with ``"ssl"``,
certificates checked; a password is never sent over an unencrypted connection unless
``smtp_allow_plaintext_auth = true``. Its ``Message-ID`` is derived from the incident key and the receiver,
so a retried e-mail is the same message to mail systems that keep track of them.

Every connection has a connect timeout and a timeout for each answer, both capped by what is left of the
run's deadline (``remaining_s``).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import smtplib
import ssl
import urllib.parse
from email.message import EmailMessage

from trueroi.errors import TrueRoiError, UsageError
from trueroi.workspace.config import Alerting

WEBHOOK_SCHEMES = ("http", "https")
MAX_ANSWER_BYTES = 64 * 1024  # what is read of a receiver's answer body (it is not used)
USER_AGENT = "trueroi-monitor"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class DeliveryError(TrueRoiError, RuntimeError):
    """A receiver refused or could not be reached (kept in the outbox's ``last_error``)."""


class ReceiverError(UsageError):
    """A receiver address that can never work: a malformed webhook URL or e-mail address."""


def check_webhook_url(url: str) -> urllib.parse.SplitResult:
    """The parts of an http(s) webhook URL, or :class:`ReceiverError` saying what is wrong with it.

    Refused: control characters or spaces anywhere, characters outside ASCII (percent-encode them), a
    scheme other than http or https, no host, a port outside 1-65535, a user name or password in the URL.
    """
    why = _webhook_problem(url)
    if why:
        raise ReceiverError(
            f"{url!r} is not a valid webhook URL: {why}; expected an http(s) URL like "
            "'https://chat.example.com/hook'"
        )
    return urllib.parse.urlsplit(url)


def _webhook_problem(url: str) -> str | None:
    if _CONTROL.search(url):
        return "it contains a control character"
    if any(ch.isspace() for ch in url):
        return "it contains a space (write %20)"
    if not url.isascii():
        return "it has characters outside ASCII (percent-encode them)"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in WEBHOOK_SCHEMES:
        return "the scheme must be http or https"
    if not parts.hostname:
        return "it names no host"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":") and parts.port is None:
        return "its port is not a number from 1 to 65535"
    if parts.username is not None or parts.password is not None:
        return "a user name or password in the URL is not supported (put a token in the path or query)"
    return None


def check_email(address: str) -> str:
    """``address`` if it is a plain e-mail address like ``team@example.com``; else :class:`ReceiverError`."""
    if not _EMAIL.fullmatch(address):
        raise ReceiverError(f"{address!r} is not an e-mail address like 'team@example.com'")
    return address


def check_destination(destination: str) -> None:
    """Check an outbox destination (``email:ADDRESS`` or ``webhook:URL``); :class:`ReceiverError` if bad."""
    kind, _, target = destination.partition(":")
    if kind == "webhook":
        check_webhook_url(target)
    elif kind == "email":
        check_email(target)
    else:
        raise ReceiverError(f"unknown receiver {destination!r}; expected email:ADDRESS or webhook:URL")


def header_value(text: str) -> str:
    """``text`` for an HTTP header: printable ASCII kept, anything else (and ``%``) percent-encoded."""
    return "".join(ch if "!" <= ch <= "~" and ch != "%" else urllib.parse.quote(ch, safe="") for ch in text)


def send(
    alerting: Alerting,
    destination: str,
    payload: str,
    *,
    incident_key: str,
    remaining_s: float | None = None,
) -> None:
    """Deliver one alert's JSON ``payload`` to ``email:ADDRESS`` or ``webhook:URL``.

    Raises
    ------
    ReceiverError
        When the destination can never work (it is not tried).
    DeliveryError
        When the receiver refused, did not answer in time, or could not be reached.
    """
    connect_s, read_s = alerting.connect_timeout_s, alerting.read_timeout_s
    if remaining_s is not None:
        connect_s, read_s = min(connect_s, remaining_s), min(read_s, remaining_s)
    kind, _, target = destination.partition(":")
    if kind == "webhook":
        post_webhook(target, payload, idempotency_key=incident_key, connect_s=connect_s, read_s=read_s)
    elif kind == "email":
        data = json.loads(payload)
        body = data["text"] + "\n\n" + json.dumps(data, indent=2) + "\n"
        send_email(alerting, target, data["text"], body, key=incident_key, connect_s=connect_s, read_s=read_s)
    else:
        check_destination(destination)


def post_webhook(url: str, payload: str, *, idempotency_key: str, connect_s: float, read_s: float) -> None:
    """POST ``payload`` to ``url`` once; anything but a 2xx answer is a :class:`DeliveryError`."""
    parts = check_webhook_url(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme.lower() == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=connect_s, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=connect_s)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": header_value(idempotency_key),
    }
    waiting = f"to connect within {connect_s:g} s"
    try:
        conn.connect()
        conn.sock.settimeout(read_s)
        waiting = f"for an answer within {read_s:g} s"
        conn.request("POST", target, body=payload.encode("utf-8"), headers=headers)
        response = conn.getresponse()
        response.read(MAX_ANSWER_BYTES)
    except TimeoutError as exc:
        raise DeliveryError(f"webhook {url}: timed out waiting {waiting}") from exc
    except ssl.SSLCertVerificationError as exc:
        why = f"the server's certificate is not trusted ({exc.verify_message})"
        raise DeliveryError(f"webhook {url}: {why}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"webhook {url}: {type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
    status = response.status
    if 300 <= status < 400:
        location = response.getheader("Location")
        raise DeliveryError(
            f"webhook {url}: HTTP {status} redirect to {location!r}, not followed: only a 2xx answer to "
            "the POST itself counts as delivered; give the final URL"
        )
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook {url}: HTTP {status} {response.reason}".rstrip())


def send_email(
    alerting: Alerting, to: str, subject: str, body: str, *, key: str, connect_s: float, read_s: float
) -> None:
    """Send one plain-text e-mail through the SMTP server of ``alerting`` (TLS and login as it says)."""
    check_email(to)
    if not alerting.smtp_host:
        raise DeliveryError("no SMTP server: set smtp_host in [alerting] of trueroi.toml")
    msg = EmailMessage()
    msg["From"], msg["To"] = alerting.smtp_sender, to
    msg["Subject"] = " ".join(_CONTROL.sub(" ", subject).split())
    msg["Message-ID"] = f"<alert.{hashlib.sha256(f'{key}|{to}'.encode()).hexdigest()[:40]}@trueroi>"
    msg.set_content(body)
    where = f"SMTP {alerting.smtp_host}:{alerting.smtp_port}"
    try:
        smtp = _connect_smtp(alerting, connect_s, read_s)
        try:
            encrypted = _secure(smtp, alerting, where)
            _login(smtp, alerting, encrypted, where)
            smtp.send_message(msg)
        finally:
            smtp.close()
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"{where}: the server's certificate is not trusted ({exc.verify_message}); name the authority "
            "that signed it in smtp_ca_file"
        ) from exc
    except TimeoutError as exc:
        raise DeliveryError(f"{where}: timed out (connect {connect_s:g} s, answers {read_s:g} s)") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"{where}: {exc}") from exc


def _connect_smtp(alerting: Alerting, connect_s: float, read_s: float) -> smtplib.SMTP:
    host, port = alerting.smtp_host, alerting.smtp_port
    if alerting.smtp_tls == "ssl":
        context = ssl.create_default_context(cafile=alerting.smtp_ca_file or None)
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=connect_s, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=connect_s)
    smtp.sock.settimeout(read_s)
    return smtp


def _secure(smtp: smtplib.SMTP, alerting: Alerting, where: str) -> bool:
    """Upgrade to TLS with STARTTLS when the server offers it and ``smtp_tls`` allows; whether encrypted."""
    smtp.ehlo()
    if alerting.smtp_tls == "ssl":
        return True
    if alerting.smtp_tls == "starttls" and smtp.has_extn("starttls"):
        smtp.starttls(context=ssl.create_default_context(cafile=alerting.smtp_ca_file or None))
        smtp.ehlo()
        return True
    if alerting.smtp_starttls:
        raise DeliveryError(f"{where} does not offer STARTTLS, which smtp_starttls = true requires")
    return False


def _login(smtp: smtplib.SMTP, alerting: Alerting, encrypted: bool, where: str) -> None:
    if not alerting.smtp_user:
        return
    if not encrypted and not alerting.smtp_allow_plaintext_auth:
        why = 'smtp_tls is "none"' if alerting.smtp_tls == "none" else "the server offers no STARTTLS"
        raise DeliveryError(
            f"{where}: the password of {alerting.smtp_user!r} is not sent over an unencrypted connection "
            f'({why}); use a server with STARTTLS or smtp_tls = "ssl", or set '
            "smtp_allow_plaintext_auth = true in [alerting] to send it in plain text anyway"
        )
    smtp.login(alerting.smtp_user, os.environ.get(alerting.smtp_password_env, ""))
