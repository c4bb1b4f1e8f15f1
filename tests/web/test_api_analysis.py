"""The analysis and planning API: the same JSON as the CLI's --format json for the same arguments, on the
demo workspace (attribution, goals, pacing, alerts, budget optimize/compare/target on a fitted model), and
the settings routes (WRITE, CSRF for cookies, audited)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from trueroi.server import entries, grant

pytestmark = pytest.mark.parametrize("server_home", ["sqlite"], indirect=True)


def same_json(api: Any, cli: Any, where: str = "$") -> None:
    """Same keys in the same order, same strings, integers and nulls; floats to 1e-9 relative (DuckDB sums
    in parallel, so two runs may differ in the last bits)."""
    if isinstance(cli, float) and isinstance(api, float):
        assert math.isclose(api, cli, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {api} != {cli}"
    elif isinstance(cli, dict):
        assert isinstance(api, dict) and list(api) == list(cli), f"{where}: keys differ"
        for key in cli:
            same_json(api[key], cli[key], f"{where}.{key}")
    elif isinstance(cli, list):
        assert isinstance(api, list) and len(api) == len(cli), f"{where}: lengths differ"
        for i, (a, c) in enumerate(zip(api, cli, strict=True)):
            same_json(a, c, f"{where}[{i}]")
    else:
        assert type(api) is type(cli) and api == cli, f"{where}: {api!r} != {cli!r}"


def cli_json(run_cli, *args: str) -> Any:
    code, out, err = run_cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def fitted(web_workspaces, tmp_path_factory) -> Path:
    """A copy of acme with a fast (MAP) mix model in models/mmm, as `trueroi mmm fit --method map` writes."""
    from trueroi.mmm import fit_mix_model

    path = tmp_path_factory.mktemp("fitted") / "acme"
    shutil.copytree(web_workspaces.paths["acme"], path, ignore=shutil.ignore_patterns(".trueroi"))
    fit_mix_model(workspace=path, method="map", seed=0, out=path / "models" / "mmm")
    return path


@pytest.fixture
def mine(web_site, web_workspaces, tmp_path) -> Path:
    """A private copy of acme served as ``mine``, where the analyst of acme is analyst too."""
    path = tmp_path / "mine"
    shutil.copytree(web_workspaces.paths["acme"], path, ignore=shutil.ignore_patterns(".trueroi"))
    web_site.home.register_workspace("mine", path, actor="cli:test")
    grant(web_site.home, "analyst@example.com", "analyst", ["mine"], actor="cli:test")
    return path


@pytest.mark.parametrize(
    ("query", "args"),
    [
        ("model=all&markov_order=2", ["--model", "all", "--markov-order", "2"]),
        (
            "model=linear,markov&period=2026-Q2&exclude_direct=true&lookback_days=14",
            ["-m", "linear,markov", "--period", "2026-Q2", "--exclude-direct", "--lookback-days", "14"],
        ),
        (
            "view=roi&from=2026-04-01&to=2026-06-30",
            ["--view", "roi", "--from", "2026-04-01", "--to", "2026-06-30"],
        ),
        ("view=paths", ["--view", "paths"]),
    ],
)
def test_attribution_equals_the_cli_json(web_site, web_workspaces, run_cli, query, args) -> None:
    cli = cli_json(run_cli, "attribution", *args, "-w", str(web_workspaces.paths["acme"]))
    response = web_site.call("GET", f"/api/v1/workspaces/acme/attribution?{query}", "viewer", "token")
    assert response.status_code == 200, response.text
    same_json(response.json(), cli)
    if "results" in cli:  # every model's credits add up to the conversions (a check from outside the code)
        for credits in cli["results"].values():
            total = sum(c["conversions"] for c in credits.values())
            assert math.isclose(total, cli["total_conversions"], rel_tol=1e-9)


def test_goal_added_through_the_api_reads_as_the_cli_status(web_site, mine, run_cli) -> None:
    body = {"name": "q2-revenue", "kpi": "revenue", "target": 50000, "from": "2026-04-01", "to": "2026-06-30"}
    added = web_site.call("POST", "/api/v1/workspaces/mine/goals", "analyst", json=body)
    assert added.status_code == 200, added.text
    assert added.json()["name"] == "q2-revenue" and added.json()["target"] == 50000
    status = web_site.call("GET", "/api/v1/workspaces/mine/goals?as_of=2026-05-15", "analyst", "token")
    same_json(status.json(), cli_json(run_cli, "goal", "status", "--as-of", "2026-05-15", "-w", str(mine)))
    assert [g["name"] for g in status.json()] == ["q2-revenue"]
    listed = web_site.call("GET", "/api/v1/workspaces/mine/goals/list", "analyst", "token")
    same_json(listed.json(), cli_json(run_cli, "goal", "list", "-w", str(mine)))
    removed = web_site.call("DELETE", "/api/v1/workspaces/mine/goals/q2-revenue", "analyst", "token")
    assert removed.json() == {"removed": "q2-revenue"}
    assert web_site.call("GET", "/api/v1/workspaces/mine/goals/list", "admin", "token").json() == []
    log = [(e.action, e.actor, e.workspace, e.detail.get("name")) for e in entries(web_site.home.engine)]
    assert ("goal.add", "analyst@example.com", "mine", "q2-revenue") in log
    assert ("goal.remove", "analyst@example.com", "mine", "q2-revenue") in log


def test_budget_and_pacing_equal_the_cli_json(web_site, mine, run_cli) -> None:
    body = {"name": "q2", "amount": 9000, "from": "2026-04-01", "to": "2026-06-30", "channel": "Display"}
    assert (
        web_site.call("POST", "/api/v1/workspaces/mine/budgets", "admin", "token", json=body).status_code
        == 200
    )
    query, args = "as_of=2026-05-10&schedule=weekday", ["--as-of", "2026-05-10", "--schedule", "weekday"]
    pacing = web_site.call("GET", f"/api/v1/workspaces/mine/pacing?{query}", "viewer", "token")
    assert pacing.status_code == 404  # the viewer of acme is nobody in 'mine'
    pacing = web_site.call("GET", f"/api/v1/workspaces/mine/pacing?{query}", "analyst", "token")
    same_json(pacing.json(), cli_json(run_cli, "budget", "pacing", *args, "-w", str(mine)))
    assert pacing.json()[0]["amount"] == 9000
    budgets = web_site.call("GET", "/api/v1/workspaces/mine/budgets", "analyst", "token")
    same_json(budgets.json(), cli_json(run_cli, "budget", "list", "-w", str(mine)))


def test_alerts_added_and_removed(web_site, mine, run_cli) -> None:
    body = {
        "name": "cpa",
        "kpi": "cpa",
        "above": 80,
        "channel": "Display",
        "webhook": ["https://h.example/x"],
    }
    wrong = web_site.call(
        "POST", "/api/v1/workspaces/mine/alerts", "analyst", json=body, headers={"X-CSRF-Token": "forged"}
    )
    assert wrong.status_code == 403  # a cookie call needs the session's CSRF token
    added = web_site.call("POST", "/api/v1/workspaces/mine/alerts", "analyst", json=body)
    assert added.status_code == 200, added.text
    listed = web_site.call("GET", "/api/v1/workspaces/mine/alerts", "viewer", "token")
    assert listed.status_code == 404
    listed = web_site.call("GET", "/api/v1/workspaces/mine/alerts", "admin", "token")
    same_json(listed.json(), cli_json(run_cli, "alert", "list", "-w", str(mine)))
    removed = web_site.call("DELETE", "/api/v1/workspaces/mine/alerts/cpa", "analyst", "token")
    assert removed.json() == {"removed": "cpa"}
    assert "h.example" not in json.dumps([e.to_dict() for e in entries(web_site.home.engine)])


def test_viewers_may_not_change_settings(web_site) -> None:
    body = {"name": "x", "amount": 1, "from": "2026-04-01", "to": "2026-06-30"}
    for via in ("session", "token"):
        assert (
            web_site.call("POST", "/api/v1/workspaces/acme/budgets", "viewer", via, json=body).status_code
            == 403
        )


def test_a_bad_setting_is_a_one_line_400(web_site, mine) -> None:
    body = {"name": "g", "kpi": "happiness", "target": 1, "from": "2026-04-01", "to": "2026-06-30"}
    response = web_site.call("POST", "/api/v1/workspaces/mine/goals", "admin", "token", json=body)
    assert response.status_code == 400
    assert "happiness" in response.json()["detail"] and "\n" not in response.json()["detail"]


PLAN_BOUNDS = {"min": {"Display": "200"}, "max_change": 0.3, "lock": ["Affiliate"]}
PLAN_ARGS = ["--min", "Display=200", "--max-change", "0.3", "--lock", "Affiliate"]


def test_budget_optimize_equals_the_cli_json(web_site, fitted, run_cli) -> None:
    web_site.home.register_workspace("fitted", fitted, actor="cli:test")
    model = str(fitted / "models" / "mmm")
    body = {
        "model": "mmm",
        "total": 6000,
        "weeks": 4,
        "objective": "profit",
        "margin_rate": 0.4,
        **PLAN_BOUNDS,
    }
    args = ["--total", "6000", "--weeks", "4", "--objective", "profit", "--margin-rate", "0.4", *PLAN_ARGS]
    cli = cli_json(run_cli, "budget", "optimize", model, *args, "-w", str(fitted))
    response = web_site.call("POST", "/api/v1/workspaces/fitted/budget/optimize", "admin", "token", json=body)
    assert response.status_code == 200, response.text
    same_json(response.json(), cli)
    plan = {row["channel"]: row for row in cli["explanation"]}
    assert sum(row["recommended"] for row in plan.values()) <= 6000 * (1 + 1e-6)  # within the budget
    assert math.isclose(plan["Affiliate"]["recommended"], plan["Affiliate"]["current"], rel_tol=1e-6)


def test_budget_compare_and_target_equal_the_cli_json(web_site, fitted, run_cli, tmp_path) -> None:
    web_site.home.register_workspace("fitted", fitted, actor="cli:test")
    model = str(fitted / "models" / "mmm")
    channels = ["Affiliate", "Brand Search", "Display", "Non-Brand Search", "Online Video", "Shopping"]
    even = dict.fromkeys([*channels, "Social Prospecting", "Social Retargeting"], 400.0)
    (tmp_path / "even.json").write_text(json.dumps(even))
    cli = cli_json(
        run_cli, "budget", "compare", model, "--plan", f"even={tmp_path / 'even.json'}", "--weeks", "2"
    )
    body = {"model": "mmm", "plans": {"even": even}, "weeks": 2}
    response = web_site.call("POST", "/api/v1/workspaces/fitted/budget/compare", "admin", "token", json=body)
    same_json(response.json(), cli)
    cli = cli_json(run_cli, "budget", "target", model, "--mroi", "1.5", *PLAN_ARGS)
    body = {"model": "mmm", "mroi": 1.5, **PLAN_BOUNDS}
    response = web_site.call("POST", "/api/v1/workspaces/fitted/budget/target", "admin", "token", json=body)
    same_json(response.json(), cli)


def test_fitted_models_are_listed_with_their_summary(web_site, fitted) -> None:
    from trueroi.mmm import load_model

    web_site.home.register_workspace("fitted", fitted, actor="cli:test")
    listed = web_site.call("GET", "/api/v1/workspaces/fitted/mmm/models", "admin", "token").json()
    assert listed == {"models": [{"name": "mmm", "kind": "national"}]}
    summary = web_site.call("GET", "/api/v1/workspaces/fitted/mmm/models/mmm", "admin", "token").json()
    same_json(summary, json.loads(json.dumps(load_model(fitted / "models" / "mmm").summary())))
    assert set(summary["channels"]) >= {"Display", "Shopping"}
    missing = web_site.call("GET", "/api/v1/workspaces/fitted/mmm/models/other", "admin", "token")
    assert missing.status_code == 409 and "other" in missing.json()["detail"]
    assert (
        web_site.call("GET", "/api/v1/workspaces/fitted/mmm/models/..", "admin", "token").status_code >= 400
    )


def test_experiment_plan_and_cro_equal_the_cli_json(web_site, run_cli) -> None:
    cli = cli_json(run_cli, "experiment", "plan", "--baseline-rate", "0.04", "--lift", "0.15", "--one-sided")
    query = "baseline_rate=0.04&lift=0.15&one_sided=true"
    same_json(web_site.call("GET", f"/api/v1/workspaces/acme/experiments/plan?{query}", "viewer").json(), cli)
    counts = ["--control-visitors", "5000", "--control-conversions", "200"]
    counts += ["--variant-visitors", "5000", "--variant-conversions", "240"]
    cli = cli_json(run_cli, "experiment", "cro", *counts)
    query = "control_visitors=5000&control_conversions=200&variant_visitors=5000&variant_conversions=240"
    response = web_site.call("GET", f"/api/v1/workspaces/acme/experiments/cro?{query}", "viewer").json()
    same_json(response, cli)
    assert math.isclose(response["test"]["variant_value"], 240 / 5000)
