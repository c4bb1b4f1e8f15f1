"""Reading experiments: hand-counted values, saving, and the CLI's JSON = to_dict()."""

from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.errors import DataValidationError, UsageError
from trueroi.experiments.planning import plan_holdout_test
from trueroi.experiments.readouts import experiment_list, read_cro_test, read_geo_test, read_holdout_test
from trueroi.workspace import Workspace

from .helpers import exact_panel

runner = CliRunner()


def _cli_json(args: list[str]) -> object:
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _tagged_shop(ws: Workspace) -> None:
    """Test group t1..t4, control c1..c3, user b with both tags; orders known by hand (all EUR)."""
    users = ["t1", "t2", "t3", "t4", "c1", "c2", "c3", "b", "b"]
    tags = ["spring_test"] * 4 + ["spring_holdout"] * 3 + ["spring_test", "spring_holdout"]
    tp = pd.DataFrame(
        {
            "touch_id": [f"x{i}" for i in range(len(users))],
            "user_id": users,
            "ts": pd.to_datetime(["2024-03-05 10:00"] * len(users)),
            "campaign": tags,
        }
    )
    tp["date_day"] = tp["ts"].dt.date
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
            "user_id": ["t1", "t2", "t3", "c1", "c2", "b"],
            # t3 bought before its exposure, c2's order was cancelled: neither converts
            "ts": pd.to_datetime(
                [
                    "2024-03-06 12:00",
                    "2024-03-07 12:00",
                    "2024-03-04 12:00",
                    "2024-03-06 12:00",
                    "2024-03-06 12:00",
                    "2024-03-06 12:00",
                ]
            ),
            "currency": "EUR",
            "revenue": [40.0, 60.0, 70.0, 25.0, 30.0, 99.0],
            "status": ["paid", "paid", "paid", "paid", "cancelled", "paid"],
        }
    )
    orders["date_day"] = orders["ts"].dt.date
    ws.load({"touchpoints": tp}, source_format="test", file_name="tp.csv", sha256="tp")
    ws.load({"orders": orders}, source_format="test", file_name="orders.csv", sha256="orders")


def test_holdout_from_tags_is_counted_by_hand_and_saved(workspace: Workspace) -> None:
    _tagged_shop(workspace)
    readout = read_holdout_test(
        test_tag="spring_test",
        control_tag="spring_holdout",
        start="2024-03-01",
        end="2024-03-31",
        spend=20.0,
        save=True,
        channel="meta",
        kpi="revenue",
        workspace=workspace,
    )
    out = readout.to_dict()
    # test: 4 users, t1 and t2 convert (40 + 60); control: 3 users, c1 converts (25); b is left out
    assert (out["test_users"], out["test_conversions"]) == (4, 2)
    assert (out["control_users"], out["control_conversions"]) == (3, 1)
    assert out["excluded_users"] == 1
    assert out["lift"]["mean"] == pytest.approx((2 / 4) / (1 / 3) - 1)  # 0.5
    assert out["incremental_conversions"]["mean"] == pytest.approx(4 * (2 / 4 - 1 / 3))  # 2/3
    incremental_revenue = 100.0 - 25.0 * 4 / 3
    assert out["incremental_revenue"]["mean"] == pytest.approx(incremental_revenue)
    assert out["iroas"]["mean"] == pytest.approx(incremental_revenue / 20.0)
    assert out["cost_per_incremental_conversion"]["mean"] == pytest.approx(20.0 / (2 / 3))
    assert [r["metric"] for r in readout.rows()] == [
        "lift",
        "incremental_conversions",
        "p_value",
        "prob_positive",
        "incremental_revenue",
        "iroas",
        "cost_per_incremental_conversion",
    ]
    (stored,) = experiment_list(workspace).to_dict()
    assert stored["experiment_id"] == readout.experiment_id
    assert (stored["kind"], stored["channel"], stored["kpi"]) == ("holdout", "meta", "revenue")
    assert stored["lift"] == pytest.approx(incremental_revenue) and stored["delta_spend"] == 20.0
    assert (stored["start"], stored["end"]) == ("2024-03-01T00:00:00", "2024-03-31T00:00:00")
    assert "details" not in stored


def test_holdout_needs_counts_or_tags_and_a_place_in_time_to_save() -> None:
    with pytest.raises(UsageError, match="users and conversions of both groups"):
        read_holdout_test(100, 3)
    with pytest.raises(UsageError, match="both campaign tags"):
        read_holdout_test(test_tag="spring_test", start="2024-03-01", end="2024-03-31")
    with pytest.raises(UsageError, match="channel, start and end"):
        read_holdout_test(100, 3, 100, 2, save=True, channel="meta")
    counted = read_holdout_test(1000, 30, 1000, 20, spend=100.0)
    assert counted.experiment_id is None and "excluded_users" not in counted.to_dict()
    assert counted.to_dict()["incremental_conversions"]["mean"] == pytest.approx(10.0)


def test_geo_test_from_a_csv_file_recovers_a_known_gap_and_saves(workspace: Workspace, tmp_path) -> None:
    path, _ = exact_panel(tmp_path)
    readout = read_geo_test(
        path,
        location="region",
        date="day",
        kpi="orders",
        treated=["T"],
        start="2024-02-20",
        spend=50.0,
        method="synth",
        save=True,
        channel="tv",
        workspace=workspace,
    )
    out = readout.to_dict()
    # 10 test days (20-29 February 2024) with 10 more orders a day than (A + B) / 2
    assert out["n_pre"] == 50 and out["n_post"] == 10 and out["n_controls"] == 3
    assert out["att"]["mean"] == pytest.approx(10.0, abs=1e-4)
    assert out["incremental"]["mean"] == pytest.approx(100.0, abs=1e-3)
    assert out["iroas"]["mean"] == pytest.approx(100.0 / 50.0, abs=1e-4)
    assert [r["metric"] for r in readout.rows()] == ["att", "lift", "incremental", "p_value", "iroas"]
    (stored,) = experiment_list(workspace).rows()
    assert stored["experiment_id"] == readout.experiment_id
    assert (stored["kind"], stored["channel"], stored["kpi"]) == ("geo", "tv", "orders")
    assert stored["delta_spend"] == 50.0 and stored["lift"] == pytest.approx(100.0, abs=1e-3)
    assert stored["start"].date() == date(2024, 2, 20) and stored["end"].date() == date(2024, 2, 29)


def test_geo_refusals_name_the_file(tmp_path) -> None:
    with pytest.raises(DataValidationError, match="nope.csv.*file not found"):
        read_geo_test(
            tmp_path / "nope.csv", location="r", date="d", kpi="k", treated=["T"], start="2024-01-01"
        )
    with pytest.raises(UsageError, match="needs the channel"):
        read_geo_test(
            tmp_path / "nope.csv", location="r", date="d", kpi="k", treated=["T"], start="x", save=True
        )


def test_cro_projection_by_hand_and_a_channel_file_without_margin(tmp_path) -> None:
    channels = tmp_path / "channels.csv"
    pd.DataFrame(
        {
            "channel": ["search"],
            "spend": [1000.0],
            "conversions": [50.0],
            "revenue": [5000.0],
            "margin": [2000.0],
        }
    ).to_csv(channels, index=False)
    readout = read_cro_test(10_000, 200, 10_000, 300, channels=channels)
    out = readout.to_dict()
    assert out["test"]["relative_change"]["mean"] == pytest.approx(0.03 / 0.02 - 1)
    # pooled two-proportion z-test: p = 0.025, se = sqrt(p (1 - p) (2 / 10 000))
    z = 0.01 / math.sqrt(0.025 * 0.975 * 2 / 10_000)
    assert out["test"]["p_value"] == pytest.approx(2 * stats.norm.sf(z), rel=1e-6)
    search, total = out["projection"]
    assert total["channel"] == "total"
    assert search["conversions_after"] == pytest.approx(75.0)
    assert search["cpa_after"] == pytest.approx(1000.0 / 75.0)
    assert search["roi_after"] == pytest.approx((2000.0 * 1.5 - 1000.0) / 1000.0)
    assert readout.rows() == readout.projection_rows()
    alone = read_cro_test(10_000, 200, 10_000, 300)
    assert alone.to_dict()["projection"] is None
    (row,) = alone.rows()
    assert row["metric"] == "conversion_rate" and row["mean"] == pytest.approx(0.5)
    broken = tmp_path / "broken.csv"
    pd.DataFrame({"channel": ["search"], "spend": [1.0], "conversions": [1], "revenue": [2.0]}).to_csv(
        broken, index=False
    )
    with pytest.raises(DataValidationError, match="broken.csv.*margin"):
        read_cro_test(10_000, 200, 10_000, 300, channels=broken)


def test_cli_json_is_the_results_to_dict(tmp_path) -> None:
    lift = ["--test-users", "5000", "--test-conversions", "160", "--control-users", "5000"]
    lift += ["--control-conversions", "120", "--test-revenue", "9000", "--control-revenue", "7000"]
    assert (
        _cli_json(["experiment", "lift", *lift, "--spend", "800", "-f", "json"])
        == read_holdout_test(
            5000, 160, 5000, 120, test_revenue=9000.0, control_revenue=7000.0, spend=800.0
        ).to_dict()
    )
    plan = ["experiment", "plan", "--baseline-rate", "0.5", "--test-users", "3", "-f", "json"]
    assert _cli_json(plan) == plan_holdout_test(0.5, test_users=3).to_dict()
    path, _ = exact_panel(tmp_path)
    geo = ["experiment", "geo", str(path), "--location", "region", "--date", "day", "--kpi", "orders"]
    geo += ["--treated", "T", "--start", "2024-02-20", "--method", "tbr", "-f", "json"]
    assert (
        _cli_json(geo)
        == read_geo_test(
            path, location="region", date="day", kpi="orders", treated=["T"], start="2024-02-20", method="tbr"
        ).to_dict()
    )
