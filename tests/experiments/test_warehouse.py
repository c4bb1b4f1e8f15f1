"""Holdout counts from the warehouse for a tagged campaign, against a hand count of a small example."""

from __future__ import annotations

import pandas as pd
import pytest

from trueroi.errors import DataValidationError, UsageError, WorkspaceError
from trueroi.experiments.lift import analyze_lift
from trueroi.experiments.warehouse import holdout_counts
from trueroi.workspace import Workspace


def _load(ws: Workspace, orders_currency: str = "EUR") -> None:
    tp = pd.DataFrame(
        {
            "touch_id": ["a", "b", "c", "d", "e", "f", "g"],
            "user_id": ["u1", "u2", "u3", "u4", "u5", "u5", "u6"],
            "ts": pd.to_datetime(
                [
                    "2024-03-02 10:00",
                    "2024-03-03 09:00",
                    "2024-03-04 08:00",
                    "2024-03-05 08:00",
                    "2024-03-05 09:00",
                    "2024-03-06 09:00",
                    "2024-04-02 09:00",
                ]
            ),
            "campaign": [
                "Spring_Test ",
                "spring_test",
                "spring_holdout",
                "spring_holdout",
                "spring_test",
                "spring_holdout",
                "spring_test",
            ],
        }
    )
    tp["date_day"] = tp["ts"].dt.date
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "user_id": ["u1", "u1", "u3", "u2", "u4", "u5"],
            "ts": pd.to_datetime(
                [
                    "2024-03-02 12:00",
                    "2024-03-10 12:00",
                    "2024-03-07 12:00",
                    "2024-03-01 12:00",
                    "2024-03-08 12:00",
                    "2024-03-08 12:00",
                ]
            ),
            "currency": orders_currency,
            "revenue": [10.0, 20.0, 5.0, 99.0, 7.0, 50.0],
            "status": ["paid", "paid", "paid", "paid", "cancelled", "paid"],
        }
    )
    orders["date_day"] = orders["ts"].dt.date
    ws.load({"touchpoints": tp}, source_format="test", file_name="tp.csv", sha256="tp")
    ws.load({"orders": orders}, source_format="test", file_name="orders.csv", sha256="orders")


def test_counts_match_a_hand_count(workspace: Workspace) -> None:
    _load(workspace)
    counts = holdout_counts(
        workspace, test_tag="spring_test", control_tag="Spring_Holdout", start="2024-03-01", end="2024-03-31"
    )
    # test: u1 (orders 10 + 20 after exposure), u2 (its order precedes its first exposure); u6 is in April
    # control: u3 (order 5), u4 (its order was cancelled); u5 carries both tags and is left out
    assert counts == {
        "test_users": 2,
        "test_conversions": 1,
        "control_users": 2,
        "control_conversions": 1,
        "test_revenue": 30.0,
        "control_revenue": 5.0,
        "excluded_users": 1,
    }
    result = analyze_lift(**{k: v for k, v in counts.items() if k != "excluded_users"}, spend=10.0)
    assert result.incremental_revenue.mean == pytest.approx(30.0 - 5.0)


def test_bad_requests_are_refused(workspace: Workspace) -> None:
    _load(workspace)
    with pytest.raises(WorkspaceError, match="'autumn_test'"):
        holdout_counts(
            workspace,
            test_tag="autumn_test",
            control_tag="spring_holdout",
            start="2024-03-01",
            end="2024-03-31",
        )
    with pytest.raises(UsageError, match="two different"):
        holdout_counts(workspace, test_tag="x", control_tag="X ", start="2024-03-01", end="2024-03-31")
    with pytest.raises(UsageError, match="before its start"):
        holdout_counts(workspace, test_tag="a", control_tag="b", start="2024-03-31", end="2024-03-01")


def test_foreign_currency_without_rates_is_refused(workspace: Workspace) -> None:
    _load(workspace, orders_currency="USD")
    with pytest.raises(DataValidationError, match="no exchange rate"):
        holdout_counts(
            workspace,
            test_tag="spring_test",
            control_tag="spring_holdout",
            start="2024-03-01",
            end="2024-03-31",
        )


def test_cli_reads_a_tagged_test_from_the_workspace(workspace: Workspace) -> None:
    import json

    from typer.testing import CliRunner

    from trueroi.cli.main import build_app

    _load(workspace)
    path = str(workspace.path)
    workspace.close()
    result = CliRunner().invoke(
        build_app(),
        [
            "experiment",
            "lift",
            "--test-tag",
            "spring_test",
            "--control-tag",
            "spring_holdout",
            "--start",
            "2024-03-01",
            "--end",
            "2024-03-31",
            "--spend",
            "10",
            "--format",
            "json",
            "--workspace",
            path,
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["test_users"] == 2 and out["control_conversions"] == 1 and out["excluded_users"] == 1
    assert out["iroas"]["mean"] == pytest.approx((30.0 - 5.0) / 10.0)
