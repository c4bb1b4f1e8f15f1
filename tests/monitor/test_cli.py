"""``trueroi alert ...`` and ``trueroi monitor ...``: JSON contracts, exit codes, delivery through the CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.errors import TrueRoiError

from .conftest import TRACKING_DROP, inject, load_frames, recent
from .test_delivery import Receiver

runner = CliRunner()


def invoke(*args: str):
    """Run the CLI as ``main()`` does: a TrueRoiError is one line and exit code 2."""
    result = runner.invoke(build_app(), list(args))
    if isinstance(result.exception, TrueRoiError):
        return 2, str(result.exception), result
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output, result


@pytest.fixture
def ws_dir(copy_shop):
    ws = copy_shop()
    ws.close()
    return str(ws.path)


def test_add_list_remove_json_contract(ws_dir) -> None:
    code, out, _ = invoke(
        "alert",
        "add",
        "cpa-brand",
        "--kpi",
        "CPA",
        "--campaign",
        "Brand_Broad",
        "--anomaly",
        "--severity",
        "critical",
        "--email",
        "a@example.com",
        "--email",
        "b@example.com",
        "--webhook",
        "https://chat.example.com/hook",
        "-w",
        ws_dir,
        "--format",
        "json",
    )
    assert code == 0, out
    rule = json.loads(out)
    assert (
        rule["campaign"] == "brand_broad" and rule["scope"] == "campaign" and rule["condition"] == "anomaly"
    )
    code, _, _ = invoke(
        "alert",
        "add",
        "spend-cap",
        "--kpi",
        "spend",
        "--channel",
        "Shopping",
        "--above",
        "50",
        "--severity",
        "warning",
        "-w",
        ws_dir,
    )
    assert code == 0
    code, out, _ = invoke("alert", "list", "-w", ws_dir, "--format", "json")
    listed = json.loads(out)["alerts"]
    assert [r["name"] for r in listed] == ["cpa-brand", "spend-cap"]
    assert set(listed[0]) >= {
        "name",
        "kpi",
        "channel",
        "campaign",
        "condition",
        "threshold",
        "severity",
        "emails",
        "webhooks",
        "scope",
        "scope_value",
        "created_at",
    }
    assert listed[0]["emails"] == ["a@example.com", "b@example.com"]
    assert listed[1] | {"created_at": None} == listed[1] | {
        "kpi": "spend",
        "channel": "Shopping",
        "condition": "above",
        "threshold": 50.0,
        "severity": "warning",
        "scope": "channel",
        "scope_value": "Shopping",
        "created_at": None,
    }
    code, out, _ = invoke("alert", "remove", "cpa-brand", "-w", ws_dir, "--format", "json")
    assert code == 0 and json.loads(out) == {"removed": "cpa-brand"}
    code, out, _ = invoke("alert", "list", "-w", ws_dir, "--format", "json")
    assert [r["name"] for r in json.loads(out)["alerts"]] == ["spend-cap"]
    code, out, _ = invoke("alert", "list", "-w", ws_dir)
    assert code == 0 and "spend-cap" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kpi", "bounce", "--anomaly"], "unknown KPI"),
        (["--kpi", "cpa", "--above", "3", "--below", "1"], "exactly one"),
        (["--kpi", "cpa"], "exactly one"),
        (["--kpi", "cpa", "--anomaly", "--severity", "urgent"], "unknown severity"),
        (["--kpi", "cpa", "--anomaly", "--email", "not-an-address"], "e-mail address"),
        (["--kpi", "cpa", "--anomaly", "--webhook", "ftp://x"], "http(s) URL"),
        (["--kpi", "orders", "--channel", "Email", "--anomaly"], "not per channel"),
    ],
)
def test_bad_alert_input_exits_2(ws_dir, args, message) -> None:
    code, out, _ = invoke("alert", "add", "x", *args, "-w", ws_dir)
    assert code == 2 and message in out


def test_duplicate_and_unknown_names_exit_2(ws_dir) -> None:
    assert invoke("alert", "add", "a", "--kpi", "spend", "--anomaly", "-w", ws_dir)[0] == 0
    code, out, _ = invoke("alert", "add", "a", "--kpi", "spend", "--anomaly", "-w", ws_dir)
    assert code == 2 and "exists" in out
    assert invoke("alert", "add", "a", "--kpi", "spend", "--below", "1", "--replace", "-w", ws_dir)[0] == 0
    code, out, _ = invoke("alert", "remove", "nope", "-w", ws_dir)
    assert code == 2 and "no alert named 'nope'" in out
    code, out, _ = invoke("monitor", "run", "--as-of", "2026-13-01", "-w", ws_dir)
    assert code == 2 and "not a date" in out
    code, out, _ = invoke("monitor", "run", "--as-of", "2030-01-01", "-w", ws_dir)
    assert code == 2 and "after the newest day" in out
    code, out, _ = invoke("monitor", "watch", "--every", "soon", "-w", ws_dir)
    assert code == 2 and "not a duration" in out


def test_monitor_run_json_contract_and_no_second_alert(demo_frames, tmp_path) -> None:
    frames = inject(recent(demo_frames, date(2026, 5, 1)), "nb_generic_home", "shopping_pmax_all")
    ws = load_frames(tmp_path / "ws", frames, "injected")
    ws.close()
    hook = Receiver()
    try:
        w = str(ws.path)
        assert (
            invoke(
                "alert",
                "add",
                "tracking",
                "--kpi",
                "sessions",
                "--anomaly",
                "--severity",
                "critical",
                "--webhook",
                hook.url,
                "-w",
                w,
            )[0]
            == 0
        )
        code, out, _ = invoke("monitor", "run", "--as-of", TRACKING_DROP.isoformat(), "-w", w, "-f", "json")
        assert code == 0, out
        data = json.loads(out)
        assert set(data) == {"as_of", "checked", "rules", "incidents", "delivery"}
        assert data["checked"] == {"from": TRACKING_DROP.isoformat(), "to": TRACKING_DROP.isoformat()}
        (inc,) = data["incidents"]
        assert inc["new"] is True and inc["rule"]["name"] == "tracking" and inc["kpi"] == "sessions"
        assert inc["direction"] == "down" and inc["observed"] == 0
        assert [d["destination"] for d in data["delivery"]["delivered"]] == [f"webhook:{hook.url}"]
        code, out, _ = invoke("monitor", "run", "--as-of", TRACKING_DROP.isoformat(), "-w", w, "-f", "json")
        again = json.loads(out)
        assert again["incidents"][0]["new"] is False and again["delivery"]["delivered"] == []
        assert len(hook.bodies) == 1
        code, out, _ = invoke("alert", "outbox", "-w", w, "-f", "json")
        (row,) = json.loads(out)["outbox"]
        assert row["status"] == "delivered" and row["attempts"] == 1
    finally:
        hook.stop()


def test_monitor_run_exits_1_when_an_alert_is_given_up(ws_dir) -> None:
    from trueroi.workspace import Workspace

    with Workspace.open(ws_dir) as ws:
        ws.config.alerting.max_attempts = 1
        ws.config.save(ws.path)
    dead = Receiver(fail_first=10**6)
    try:
        invoke("alert", "add", "s", "--kpi", "spend", "--above", "0", "--webhook", dead.url, "-w", ws_dir)
        code, out, result = invoke("monitor", "run", "--as-of", "2026-09-10", "-w", ws_dir, "-f", "json")
    finally:
        dead.stop()
    assert code == 1
    assert len(json.loads(result.stdout)["delivery"]["failed"]) == 1
    assert "alert given up" in result.stderr


def test_watch_runs_n_times(ws_dir) -> None:
    # no rules: each pass only finds the newest day, so this checks the loop, not the detection
    code, out, _ = invoke("monitor", "watch", "--every", "1s", "--max-runs", "2", "-w", ws_dir, "-f", "json")
    assert code == 0, out
    decoder, pos, runs = json.JSONDecoder(), 0, []
    while pos < len(out.strip()):
        obj, pos = decoder.raw_decode(out, pos)
        runs.append(obj)
        while pos < len(out) and out[pos].isspace():
            pos += 1
    assert [r["rules"] for r in runs] == [0, 0]
    assert [r["checked"]["to"] for r in runs] == ["2026-09-30", "2026-09-30"]


def test_check_and_table_output(ws_dir) -> None:
    code, out, _ = invoke(
        "monitor",
        "check",
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
        "--kpi",
        "spend",
        "-w",
        ws_dir,
        "-f",
        "json",
    )
    assert code == 0
    anomalies = json.loads(out)["anomalies"]
    assert all(a["kpi"] == "spend" and "2026-09-01" <= a["day"] <= "2026-09-30" for a in anomalies)
    invoke("alert", "add", "s", "--kpi", "spend", "--above", "0", "-w", ws_dir)
    code, out, _ = invoke("monitor", "run", "--as-of", "2026-09-10", "-w", ws_dir)
    assert code == 0 and "[warning] s: Spend" in out and "new" in out
    code, out, _ = invoke("monitor", "run", "--as-of", "2026-09-10", "-w", ws_dir)
    assert code == 0 and "already sent" in out
