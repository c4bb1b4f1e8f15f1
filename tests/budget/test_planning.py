"""The planner's one-call entry points (plan_budget, compare_scenarios, plan_target) and where the margin rate
comes from, on two log curves with closed-form answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from trueroi.budget import ParametricCurves
from trueroi.budget.planning import compare_scenarios, margin_rate_for, plan_budget, plan_target
from trueroi.errors import ConfigError, UsageError

# revenue_c(x) = b_c log(1 + x / k_c); at budget B the optimum is x_c = b_c (B + k1 + k2) / (b1 + b2) - k_c
CURVES = ParametricCurves(["search", "social"], [250.0, 250.0], "log", beta=[300.0, 200.0], k=[100.0, 50.0])


def test_margin_rate_from_the_option_or_the_workspace(workspace, tmp_path: Path, monkeypatch) -> None:
    assert margin_rate_for("revenue", None, workspace.path) is None  # revenue needs none
    assert margin_rate_for("profit", 0.3, workspace.path) == 0.3  # the option wins
    workspace.config.default_margin = 0.45
    workspace.config.save(workspace.path)
    assert margin_rate_for("margin", None, workspace.path) == 0.45
    monkeypatch.chdir(tmp_path)  # no trueroi.toml here: nothing, quietly
    monkeypatch.delenv("TRUEROI_WORKSPACE", raising=False)
    assert margin_rate_for("margin") is None
    with pytest.raises(ConfigError, match="not found"):  # a workspace named explicitly must exist
        margin_rate_for("margin", None, tmp_path)


def test_plan_budget_with_the_week_by_week_plan() -> None:
    result = plan_budget(CURVES, 500.0, weeks=3, flighting=True)
    payload = result.to_dict()
    assert payload["allocation"] == pytest.approx({"search": 290.0, "social": 210.0}, rel=1e-6)
    assert len(payload["flighting"]["weekly_total"]) == 3
    assert sum(payload["flighting"]["weekly_total"]) == pytest.approx(1500.0, rel=1e-6)
    assert [r["channel"] for r in result.rows()] == ["search", "social"]
    assert "flighting" not in plan_budget(CURVES, 500.0).to_dict()


def test_compare_takes_plans_as_mappings_or_files_and_writes_the_chart(tmp_path: Path) -> None:
    (tmp_path / "manual.json").write_text(json.dumps({"search": 400, "social": 100}))
    result = compare_scenarios(
        CURVES,
        {"manual": tmp_path / "manual.json", "even": {"search": 250, "social": 250}},
        optimised=False,
        chart=tmp_path / "chart.html",
    )
    plans = result.to_dict()["plans"]
    assert list(plans) == ["current", "manual", "even"]
    assert plans["manual"]["expected"]["mean"] == pytest.approx(300 * np.log(5.0) + 200 * np.log(3.0))
    assert plans["even"]["expected"] == plans["current"]["expected"]
    assert [r["name"] for r in result.rows()] == ["current", "manual", "even"]
    assert result.chart == tmp_path / "chart.html" and "<html>" in result.chart.read_text()[:200]


def test_plan_target_needs_exactly_one_question() -> None:
    for kw in ({}, {"kpi_target": 100.0, "mroi": 1.5}):
        with pytest.raises(UsageError, match="exactly one"):
            plan_target(CURVES, **kw)
    # marginal revenue b / (k + x) = 1.5 => x = b / 1.5 - k: search 100, social 83.33
    plan = plan_target(CURVES, mroi=1.5)
    np.testing.assert_allclose(plan.allocation, [100.0, 200 / 1.5 - 50], rtol=1e-6)
