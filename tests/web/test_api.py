"""The REST API: the same JSON as the CLI, library errors as 4xx with one line, the OpenAPI document."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest


def assert_same_json(api: Any, cli: Any, where: str = "$") -> None:
    """The same JSON: same keys in the same order, same strings, integers and nulls; floats equal to 1e-9
    relative (DuckDB sums in parallel, so two runs of the same command may differ in the last bits)."""
    if isinstance(cli, float) and isinstance(api, float):
        assert math.isclose(api, cli, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {api} != {cli}"
    elif isinstance(cli, dict):
        assert isinstance(api, dict) and list(api) == list(cli), f"{where}: keys differ"
        for key in cli:
            assert_same_json(api[key], cli[key], f"{where}.{key}")
    elif isinstance(cli, list):
        assert isinstance(api, list) and len(api) == len(cli), f"{where}: lengths differ"
        for i, (a, c) in enumerate(zip(api, cli, strict=True)):
            assert_same_json(a, c, f"{where}[{i}]")
    else:
        assert type(api) is type(cli) and api == cli, f"{where}: {api!r} != {cli!r}"


# What these tests check does not depend on the metadata database: SQLite only (access and security
# tests run on PostgreSQL too).
pytestmark = pytest.mark.parametrize("server_home", ["sqlite"], indirect=True)


@pytest.mark.parametrize(
    ("query", "args"),
    [
        ("by=channel&compare=yoy", ["--by", "channel", "--compare", "yoy"]),
        (
            "by=campaign&period=2026-Q2&compare=previous&attribution=linear",
            ["--by", "campaign", "--period", "2026-Q2", "--compare", "previous", "--attribution", "linear"],
        ),
        (
            "by=week&from=2026-07-01&to=2026-08-15&compare=yoy",
            ["--by", "week", "--from", "2026-07-01", "--to", "2026-08-15", "--compare", "yoy"],
        ),
    ],
)
def test_kpis_equal_the_cli_json(web_site, web_workspaces, run_cli, query, args) -> None:
    code, out, err = run_cli("kpis", *args, "--format", "json", "-w", str(web_workspaces.paths["acme"]))
    assert code == 0, err
    response = web_site.call("GET", f"/api/v1/workspaces/acme/kpis?{query}", "viewer", "token")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert_same_json(response.json(), json.loads(out))
    assert response.text.count("\n") == out.count("\n")  # the same layout (indent 2, a final newline)
    payload = response.json()
    assert payload["compare"] is not None and payload["rows"]


def test_quality_equals_the_cli_json(web_site, web_workspaces, run_cli) -> None:
    code, out, err = run_cli("quality", "--format", "json", "-w", str(web_workspaces.paths["globex"]))
    assert code == 0, err
    response = web_site.call("GET", "/api/v1/workspaces/globex/quality", "other")
    assert response.status_code == 200
    assert_same_json(response.json(), json.loads(out))
    assert json.loads(out)["findings"]  # the demo shop's platforms over-claim: there is something to find


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("by=channel,colour", 400, ["colour", "channel"]),
        ("from=2026-09-30&to=2026-07-01", 400, ["reversed"]),
        ("from=2026-13-01", 400, ["2026-13-01"]),
        ("value=profit", 400, ["profit"]),
    ],
)
def test_library_errors_are_4xx_with_one_line(web_site, query, status, words) -> None:
    response = web_site.call("GET", f"/api/v1/workspaces/acme/kpis?{query}", "analyst", "token")
    assert response.status_code == status
    body = response.json()
    assert body["error"] == "UsageError"
    assert "\n" not in body["detail"] and all(w in body["detail"] for w in words)


def test_an_empty_workspace_is_a_conflict_without_server_paths(web_site) -> None:
    from trueroi.workspace import Workspace, WorkspaceConfig

    Workspace.init(web_site.home.workspaces_dir / "empty", WorkspaceConfig(name="empty")).close()
    response = web_site.call("GET", "/api/v1/workspaces/empty/quality", "admin", "token")
    assert response.status_code == 409
    assert "holds no data" in response.json()["detail"]
    assert str(web_site.home.path) not in response.text and "workspace empty" in response.json()["detail"]


def test_unknown_workspace_is_404_even_for_admins(web_site) -> None:
    response = web_site.call("GET", "/api/v1/workspaces/initech/kpis", "admin", "token")
    assert response.status_code == 404
    assert response.json() == {"detail": "workspace not found"}


def test_me_and_workspaces(web_site) -> None:
    me = web_site.call("GET", "/api/v1/me", "analyst", "token").json()
    assert me == {"email": "analyst@example.com", "is_admin": False, "workspaces": {"acme": "analyst"}}
    listed = web_site.call("GET", "/api/v1/workspaces", "admin").json()
    assert listed == {"workspaces": [{"name": "acme", "role": "admin"}, {"name": "globex", "role": "admin"}]}


def test_openapi_document_lists_the_api_routes_only(web_site) -> None:
    response = web_site.call("GET", "/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/workspaces/{ws}/kpis", "/api/v1/workspaces/{ws}/quality", "/api/v1/me"} <= set(paths)
    assert not [p for p in paths if not p.startswith("/api/v1/")]
    parameters = {p["name"] for p in paths["/api/v1/workspaces/{ws}/kpis"]["get"]["parameters"]}
    assert {"ws", "by", "from", "to", "period", "compare", "attribution", "value"} <= parameters


def test_kpis_are_computed_once_per_workspace_version(web_site, web_workspaces, monkeypatch) -> None:
    import os

    from trueroi.server.cache import RESULTS
    from trueroi.web import api

    calls: list[dict] = []
    real = api.kpi_query
    monkeypatch.setattr(api, "kpi_query", lambda *a, **k: calls.append(k) or real(*a, **k))
    url = "/api/v1/workspaces/acme/kpis?by=channel&period=2026-Q1"
    web_site.call("GET", url, "viewer", "token")  # a first answer may build derived tables: a new version
    RESULTS.forget(web_workspaces.paths["acme"])  # nothing kept from this or earlier tests of this process
    calls.clear()
    first = web_site.call("GET", url, "viewer", "token")
    assert len(calls) == 1
    again = web_site.call("GET", url, "viewer", "token")
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert len(calls) == 1  # the second viewer got the kept answer (the same numbers, not a recomputation)
    config = web_workspaces.paths["acme"] / "trueroi.toml"
    stamp = config.stat().st_mtime_ns + 1_000_000_000
    os.utime(config, ns=(stamp, stamp))  # the workspace changed (as any write changes a file's time)
    assert web_site.call("GET", url, "viewer", "token").json()["rows"]
    assert len(calls) == 2
