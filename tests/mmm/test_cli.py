"""``trueroi mmm fit`` and ``trueroi mmm report``: the JSON contract, the workspace path, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main
from trueroi.mmm.simulate import simulate
from trueroi.mmm.workspace_data import weekly_series
from trueroi.workspace import Workspace

FAST = ["--method", "laplace", "--draws", "100", "--seed", "1"]


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = simulate(seed=2, n_periods=80, rois=(2.0, 1.0, 0.5))
    path = tmp_path_factory.mktemp("mmm") / "weekly.csv"
    sim.df.rename(columns={"channel_0": "Paid Search", "channel_1": "tv", "channel_2": "social"}).to_csv(
        path, index=False
    )
    return path


def test_fit_json_contract_then_report(csv_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = CliRunner().invoke(
        build_app(),
        [
            "mmm",
            "fit",
            str(csv_path),
            "--date",
            "week",
            "--target",
            "revenue",
            "--channels",
            "Paid Search,tv,social",
            "--controls",
            "control_0,control_1",
            "--holdout-weeks",
            "6",
            "--out",
            str(out),
            "--format",
            "json",
            *FAST,
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload) == [
        "channels",
        "diagnostics",
        "fit_seconds",
        "kpi",
        "roi_basis",
        "margin_rate",
        "roi_note",
    ]
    assert payload["roi_basis"] == "unknown"  # no workspace, no margin rate given: ROAS only
    assert list(payload["channels"]) == ["Paid Search", "tv", "social"]  # the column names as given
    for s in payload["channels"].values():
        assert list(s) == ["spend", "contribution", "roi", "roas", "mroi", "mroas"]
        assert list(s["roi"].values()) == [None, None, None]
        for key in ("contribution", "roas", "mroas"):
            assert list(s[key]) == ["mean", "lower", "upper"] and all(
                isinstance(v, float) for v in s[key].values()
            )
    assert list(payload["diagnostics"]) == [
        "r_hat_max",
        "ess_bulk_min",
        "divergences",
        "r2",
        "mape",
        "holdout_mape",
        "trusted",  # added by issue 22 (sampler health): additive keys after the contract's
        "trust_problems",
        "target_accept",
    ]
    assert payload["diagnostics"]["trusted"] is True  # Laplace: judged by its own warning, not the sampler's
    assert isinstance(payload["diagnostics"]["holdout_mape"], float) and payload["fit_seconds"] > 0
    assert (out / "posterior.npz").is_file()

    report = CliRunner().invoke(build_app(), ["mmm", "report", str(out)])
    assert report.exit_code == 0, report.output
    page = (out / "report.html").read_text()
    assert "<script src=" not in page and len(page) > 1_000_000  # plotly.js inline: renders offline
    assert "Plotly.newPlot" in page and page.count("Plotly.newPlot") == 3
    assert "Decomposition over time" in page and "Response curves" in page and "Diagnostics" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channels", "Paid Search,radio"], "radio"),
        (["--channels", "tv", "--adstock", "exponential"], "unknown adstock"),
        (["--channels", "tv", "--calibration", "missing.csv"], "file not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    csv_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["mmm", "fit", str(csv_path), "--out", str(tmp_path / "m"), *args, *FAST])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.startswith("error:")
    assert not (tmp_path / "m").exists()  # nothing half-written


def _load_shop(ws: Workspace, weekly: pd.DataFrame, channels: list[str]) -> None:
    ads, orders = [], []
    for _, row in weekly.iterrows():
        for day in range(7):
            date = (row.week + pd.Timedelta(days=day)).date()
            for c in channels:  # each channel's weekly spend split over days and two platforms
                for platform in ("p1", "p2"):
                    ads.append(
                        {
                            "date_day": date,
                            "platform": platform,
                            "campaign_id": f"{c}-{platform}",
                            "channel": c,
                            "currency": "EUR",
                            "spend": row[c] / 14,
                            "impressions": 1,
                            "clicks": 1,
                        }
                    )
        for k, status in enumerate(("paid", None, "cancelled")):
            revenue = row.revenue / 2 if status != "cancelled" else 1e9  # the cancelled order must not count
            ts = row.week + pd.Timedelta(days=k, hours=12)
            orders.append(
                {
                    "order_id": f"{row.week.date()}-{k}",
                    "ts": ts,
                    "date_day": ts.date(),
                    "currency": "EUR",
                    "revenue": revenue,
                    "status": status,
                }
            )
    ws.load(
        {"ad_performance": pd.DataFrame(ads), "orders": pd.DataFrame(orders)},
        source_format="test",
        file_name="shop",
        sha256="shop",
    )


def test_weekly_series_from_the_workspace(workspace: Workspace) -> None:
    sim = simulate(seed=4, n_periods=30, rois=(2.0, 1.0))
    _load_shop(workspace, sim.df, sim.channels)
    got = weekly_series(workspace)
    assert list(got.columns) == ["week", "revenue", *sim.channels]
    np.testing.assert_allclose(got["revenue"], sim.df["revenue"], rtol=1e-9)
    for c in sim.channels:
        np.testing.assert_allclose(got[c], sim.df[c], rtol=1e-9)
    assert (got["week"].dt.dayofweek == 0).all()


def test_fit_from_the_workspace_without_data(workspace: Workspace, tmp_path: Path) -> None:
    sim = simulate(seed=4, n_periods=40, rois=(2.0, 1.0))
    _load_shop(workspace, sim.df, sim.channels)
    result = CliRunner().invoke(
        build_app(),
        [
            "mmm",
            "fit",
            "--workspace",
            str(workspace.path),
            "--out",
            str(tmp_path / "m"),
            "--format",
            "json",
            *FAST,
        ],
    )
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["channels"]) == sim.channels


def test_fit_with_a_margin_rate_gives_roi_on_margin(csv_path: Path, tmp_path: Path) -> None:
    """--margin-rate 0.4: each channel's ROI is 0.4 x ROAS - 1 (incremental margin less spend, per euro)."""
    args = ["mmm", "fit", str(csv_path), "--channels", "Paid Search,tv,social", "--margin-rate", "0.4"]
    result = CliRunner().invoke(build_app(), [*args, "--out", str(tmp_path / "m"), "-f", "json", *FAST])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["roi_basis"] == "margin" and payload["margin_rate"] == pytest.approx(0.4)
    for s in payload["channels"].values():
        assert s["roi"]["mean"] == pytest.approx(0.4 * s["roas"]["mean"] - 1.0, rel=1e-9, abs=1e-12)
    table = CliRunner().invoke(build_app(), [*args, "--out", str(tmp_path / "t"), *FAST])
    assert table.exit_code == 0 and "ROAS" in table.stdout and "ROI (margin)" in table.stdout


def test_fit_with_organic_inputs_and_treatments(tmp_path: Path) -> None:
    """--organic and --treatments: their blocks in the JSON (additive keys) and their tables."""
    sim = simulate(seed=3, n_periods=80, rois=(2.0, 1.0), organic=0.1)
    path = tmp_path / "weekly.csv"
    sim.df.assign(promo=np.arange(80) % 4 == 0).astype({"promo": float}).to_csv(path, index=False)
    args = ["mmm", "fit", str(path), "--channels", "channel_0,channel_1", "--organic", "organic_0"]
    args += ["--treatments", "promo", "--out", str(tmp_path / "m"), *FAST]
    result = CliRunner().invoke(build_app(), [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload["channels"]) == ["channel_0", "channel_1"]
    assert list(payload["organic"]["organic_0"]) == ["volume", "contribution", "share"]
    assert list(payload["treatments"]["promo"]) == ["effect_per_unit", "contribution"]
    table = CliRunner().invoke(build_app(), args)
    assert table.exit_code == 0, table.output
    assert "Organic media" in table.stdout and "Treatments" in table.stdout
