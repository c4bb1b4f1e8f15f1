"""Receivers are checked when a rule is added; removing a rule settles its pending alerts; the outbox lists
what waits or failed and can drop one delivery (library and ``trueroi alert ...``)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.errors import TrueRoiError, UsageError
from trueroi.monitor import add_alert, drop_deliveries, outbox_report, remove_alert
from trueroi.monitor.deliver import deliver_pending, outbox
from trueroi.monitor.rules import RULES

from .loopback import free_port
from .test_receivers import queue


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://exa mple.com/hook", "space"),
        ("https://chat.example.com/a b", "space"),
        ("https://chat.example.com/\x1b[31mhook", "control character"),
        ("https://chat.example.com/hook\n", "control character"),
        ("ftp://chat.example.com/hook", "http or https"),
        ("chat.example.com/hook", "http or https"),
        ("https:///hook", "no host"),
        ("https://chat.example.com:99999/hook", "port"),
        ("https://user:secret@chat.example.com/hook", "user name or password"),
        ("https://chät.example.com/hook", "outside ASCII"),
    ],
)
def test_a_malformed_webhook_is_refused_when_added(workspace, url, why) -> None:
    with pytest.raises(UsageError, match="not a valid webhook URL") as refused:
        add_alert(workspace, "hook", "spend", anomaly=True, webhooks=[url])
    assert why in str(refused.value)
    assert RULES.records(workspace) == []


@pytest.mark.parametrize(
    "email",
    [
        "a b@example.com",
        "team@example",
        "team@@example.com",
        "team@exa\x1bmple.com",
        "team@example.com\nBcc: someone@example.org",
        "@example.com",
        "team@-example.com",
    ],
)
def test_a_malformed_email_is_refused_when_added(workspace, email) -> None:
    with pytest.raises(UsageError, match="not an e-mail address"):
        add_alert(workspace, "mail", "spend", anomaly=True, emails=[email])


def test_good_receivers_are_accepted(workspace) -> None:
    rule = add_alert(
        workspace,
        "ok",
        "spend",
        anomaly=True,
        emails=["team@example.com", "first.last+alerts@mail.example.co.uk"],
        webhooks=["https://hooks.example.com/services/T0/B0/x?token=a%20b", "http://127.0.0.1:8080/hook"],
    )
    assert len(rule.destinations) == 4


def test_removing_a_rule_drops_its_pending_alerts(workspace) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # down
    queue(workspace, "spend", webhooks=[url])
    queue(workspace, "other", webhooks=[url], day="2026-09-11")
    deliver_pending(workspace, tries_per_run=1, backoff_s=0)
    removed = remove_alert(workspace, "spend")
    assert removed.to_dict() == {"removed": "spend"} and removed.dropped == 1
    rows = {r["rule"]: r for r in outbox(workspace)}
    assert rows["spend"]["status"] == "dropped" and "removed" in rows["spend"]["last_error"]
    assert rows["other"]["status"] == "pending"  # another rule's alert is untouched


def test_a_pending_alert_of_a_rule_that_is_gone_is_dropped_not_sent(workspace, http_receiver) -> None:
    hook = http_receiver(204)
    queue(workspace, "spend", webhooks=[hook.url])
    RULES.delete(workspace, name="spend")  # as an older version removed rules: the outbox row stayed
    report = deliver_pending(workspace, backoff_s=0)
    (row,) = outbox(workspace)
    assert row["status"] == "dropped" and hook.posts == [] and not report.pending


def test_drop_one_delivery(workspace, http_receiver) -> None:
    hook = http_receiver(204)
    down = f"http://127.0.0.1:{free_port()}/hook"
    key = queue(workspace, "spend", webhooks=[down, hook.url])
    other = queue(workspace, "spend", webhooks=[down, hook.url], day="2026-09-11")
    dropped = drop_deliveries(workspace, key, destination=f"webhook:{down}")
    assert [(r["incident_key"], r["destination"], r["status"]) for r in dropped.rows()] == [
        (key, f"webhook:{down}", "dropped")
    ]
    with pytest.raises(UsageError, match="no pending or failed alert"):
        drop_deliveries(workspace, key, destination=f"webhook:{down}")  # not twice
    with pytest.raises(UsageError, match="no pending or failed alert"):
        drop_deliveries(workspace, "nobody|total:total|2026-09-10")
    deliver_pending(workspace, tries_per_run=1, backoff_s=0)
    status = {(r["incident_key"], r["destination"]): r["status"] for r in outbox(workspace)}
    assert status == {
        (key, f"webhook:{down}"): "dropped",
        (key, f"webhook:{hook.url}"): "delivered",
        (other, f"webhook:{down}"): "pending",
        (other, f"webhook:{hook.url}"): "delivered",
    }
    assert [r["status"] for r in drop_deliveries(workspace, other).rows()] == ["dropped"]
    assert {r["status"] for r in outbox_report(workspace, "pending").rows()} == set()


runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(build_app(), list(args))
    if isinstance(result.exception, TrueRoiError):
        return 2, str(result.exception)
    return result.exit_code, result.stdout


def test_cli_refuses_a_bad_webhook_and_drops_from_the_outbox(workspace) -> None:
    down = f"http://127.0.0.1:{free_port()}/hook"
    key = queue(workspace, "spend", webhooks=[down])
    deliver_pending(workspace, tries_per_run=1, backoff_s=0)
    workspace.close()
    w = ["-w", str(workspace.path)]
    code, out = invoke("alert", "add", "x", "--kpi", "spend", "--anomaly", "--webhook", "http://a b/c", *w)
    assert code == 2 and "not a valid webhook URL" in out
    code, out = invoke("alert", "outbox", "--status", "pending", *w, "--format", "json")
    assert code == 0 and [r["incident_key"] for r in json.loads(out)["outbox"]] == [key]
    code, out = invoke("alert", "outbox", "--drop", key, *w, "--format", "json")
    assert code == 0, out
    (row,) = json.loads(out)["dropped"]
    assert row["incident_key"] == key and row["status"] == "dropped" and "payload" not in row
    code, out = invoke("alert", "outbox", "--status", "pending", *w, "--format", "json")
    assert json.loads(out) == {"outbox": []}
    code, out = invoke("alert", "outbox", "--drop", key, *w)
    assert code == 2 and "no pending or failed alert" in out
