"""``GET /api/v1/workspaces/{ws}/kpis?family=...``: the same JSON as ``trueroi kpis --family ... --format
json``, only for callers who may read the workspace, and library refusals as one-line 4xx."""

from __future__ import annotations

import json

import pytest

from .test_api import assert_same_json


@pytest.mark.parametrize(
    ("query", "args"),
    [
        ("family=paid&by=channel", ["--family", "paid", "--by", "channel"]),
        ("family=email&compare=previous", ["--family", "email", "--compare", "previous"]),
    ],
)
def test_family_kpis_equal_the_cli_json(web_site, web_workspaces, run_cli, query, args) -> None:
    code, out, err = run_cli("kpis", *args, "--format", "json", "-w", str(web_workspaces.paths["acme"]))
    assert code == 0, err
    response = web_site.call("GET", f"/api/v1/workspaces/acme/kpis?{query}", "viewer", "token")
    assert response.status_code == 200
    assert_same_json(response.json(), json.loads(out))
    assert response.json()["family"] == args[1]


@pytest.mark.parametrize(("caller", "status"), [("anonymous", 401), ("other", 404), ("viewer", 200)])
def test_family_kpis_only_for_readers_of_the_workspace(web_site, web_workspaces, caller, status) -> None:
    via = "session" if caller == "anonymous" else "token"
    response = web_site.call("GET", "/api/v1/workspaces/acme/kpis?family=paid&by=campaign", caller, via)
    assert response.status_code == status
    if status != 200:  # no data of acme for a caller who may not read it
        assert web_workspaces.markers["acme"] not in response.text


def test_an_unknown_family_is_a_400_with_one_line(web_site) -> None:
    response = web_site.call("GET", "/api/v1/workspaces/acme/kpis?family=phone", "analyst", "token")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "UsageError" and "\n" not in body["detail"] and "phone" in body["detail"]
