"""KPIs on lifetime value (`trueroi kpis --by channel --value clv`)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from trueroi.errors import UsageError
from trueroi.metrics import kpi_report
from trueroi.metrics.lifetime import with_lifetime_value

START, END = date(2026, 4, 1), date(2026, 6, 30)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """A demo shop big enough (scale 0.5) for the buy-till-you-die fit to have a finite maximum."""
    from types import SimpleNamespace

    from trueroi.demo import demo_config, generate, load_into
    from trueroi.workspace import Workspace

    root = tmp_path_factory.mktemp("clvshop")
    files = generate(root / "data", seed=3, scale=0.5)
    ws = Workspace.init(root / "ws", demo_config())
    load_into(ws, files)
    yield SimpleNamespace(ws=ws, files=files)
    ws.close()


@pytest.mark.slow
def test_lifetime_columns_follow_their_definitions(shop) -> None:
    report = with_lifetime_value(shop.ws, kpi_report(shop.ws, by="channel", start=START, end=END))
    rows = report.rows.set_index("channel")
    orders = pd.concat([pd.read_parquet(p) for p in shop.files.parts("orders")])
    sales = orders[orders["status"] == "paid"]
    first = pd.to_datetime(sales.groupby("customer_id")["date_day"].min()).dt.date
    acquired = ((first >= START) & (first <= END)).sum()
    assert rows["customers"].sum() == acquired  # every customer first buying in the period, counted once
    paid = rows[rows["spend"] > 0]
    assert paid["cac"].to_numpy() == pytest.approx((paid["spend"] / paid["customers"]).to_numpy())
    expected_roi = (paid["margin"] + paid["total_clv"] - paid["spend"]) / paid["spend"]
    assert paid["lifetime_roi"].to_numpy() == pytest.approx(expected_roi.to_numpy())
    assert (rows["avg_clv"].dropna() > 0).all()


def test_lifetime_value_needs_a_channel_breakdown(demo_shop) -> None:
    with pytest.raises(UsageError, match="--by channel"):
        with_lifetime_value(demo_shop.ws, kpi_report(demo_shop.ws, by="week", start=START, end=END))


@pytest.mark.slow
def test_lifetime_intervals_bracket_the_prediction_of_every_channel(shop) -> None:
    report = with_lifetime_value(
        shop.ws, kpi_report(shop.ws, by="channel", start=START, end=END), interval=0.9, n_draws=100
    )
    rows = report.rows.set_index("channel")
    acquired = rows[rows["customers"] > 0]
    assert len(acquired) >= 3
    # every channel that acquired customers gets an interval on the same scale as its point prediction
    assert (acquired["avg_clv_lower"] < acquired["avg_clv_upper"]).all()
    assert (acquired["avg_clv_lower"] <= acquired["avg_clv"]).all()
    assert (acquired["avg_clv"] <= acquired["avg_clv_upper"]).all()
    assert acquired["total_clv_lower"].to_numpy() == pytest.approx(
        (acquired["avg_clv_lower"] * acquired["customers"]).to_numpy()
    )
    # parameter uncertainty of a model fitted on thousands of customers: well under +-50% of the mean
    width = (acquired["avg_clv_upper"] - acquired["avg_clv_lower"]) / acquired["avg_clv"]
    assert (width < 1.0).all()
    assert any("interval" in note for note in report.notes)


@pytest.mark.slow
def test_kpis_value_clv_shows_the_intervals(shop, capsys, monkeypatch) -> None:
    import json

    from trueroi.cli.main import main

    def run(*extra: str) -> str:
        with pytest.raises(SystemExit) as done:
            main([*base, *extra, "-w", str(shop.ws.path)])
        assert done.value.code == 0
        return capsys.readouterr().out

    monkeypatch.setenv("COLUMNS", "250")
    base = ["kpis", "--by", "channel", "--value", "clv", "--from", "2026-04-01", "--to", "2026-06-30"]
    doc = json.loads(run("--format", "json"))
    rows = [r for r in doc["rows"] if r["customers"]]
    assert rows and all(r["avg_clv_lower"] <= r["avg_clv"] <= r["avg_clv_upper"] for r in rows)
    table = run()
    assert "CLV low" in table and "CLV high" in table


def _counting_fits(monkeypatch, cls) -> list[int]:
    """Count calls of ``cls.fit`` (the fit itself runs unchanged)."""
    calls: list[int] = []
    original = cls.fit

    def fit(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "fit", fit)
    return calls


def test_values_and_intervals_come_from_one_fit(demo_shop, monkeypatch) -> None:
    from trueroi.clv import GammaGammaFitter, ModifiedBetaGeoFitter
    from trueroi.clv.roi import fit_workspace

    purchase_fits = _counting_fits(monkeypatch, ModifiedBetaGeoFitter)
    spend_fits = _counting_fits(monkeypatch, GammaGammaFitter)
    report = kpi_report(demo_shop.ws, by="channel", start=START, end=END)
    got = with_lifetime_value(demo_shop.ws, report, interval=0.9, n_draws=50).rows
    assert (len(purchase_fits), len(spend_fits)) == (1, 1)  # was 2 and 2: values, then intervals
    # models fitted beforehand and handed in give the same rows, without fitting again
    fitted = fit_workspace(demo_shop.ws, model="mbgnbd")
    report = kpi_report(demo_shop.ws, by="channel", start=START, end=END)
    again = with_lifetime_value(demo_shop.ws, report, interval=0.9, n_draws=50, fitted=fitted).rows
    assert (len(purchase_fits), len(spend_fits)) == (2, 2)
    pd.testing.assert_frame_equal(got, again)
    acquired = got[got["customers"] > 0]
    assert (acquired["avg_clv_lower"] <= acquired["avg_clv"]).all()


def _small_shop(tmp_path_factory, scale: float, seed: int):
    from types import SimpleNamespace

    from trueroi.demo import demo_config, generate, load_into
    from trueroi.workspace import Workspace

    root = tmp_path_factory.mktemp("smallshop")
    files = generate(root / "data", seed=seed, scale=scale)
    ws = Workspace.init(root / "ws", demo_config())
    load_into(ws, files)
    return SimpleNamespace(ws=ws, files=files)


def _acquired_in_period(files) -> int:
    orders = pd.concat([pd.read_parquet(p) for p in files.parts("orders")])
    sales = orders[orders["status"] == "paid"]
    first = pd.to_datetime(sales.groupby("customer_id")["date_day"].min()).dt.date
    return int(((first >= START) & (first <= END)).sum())


def test_a_shop_too_small_for_the_spend_model_gets_empty_clv_and_a_note(tmp_path_factory) -> None:
    # 167 customers, 79 of them with repeat purchases: the Gamma-Gamma likelihood has no finite maximum
    # (p runs off to infinity), which used to end `kpis --value clv` with the optimiser's message
    shop = _small_shop(tmp_path_factory, 0.003, 5)
    try:
        report = with_lifetime_value(
            shop.ws, kpi_report(shop.ws, by="channel", start=START, end=END), interval=0.9
        )
    finally:
        shop.ws.close()
    rows = report.rows
    assert rows["customers"].sum() == _acquired_in_period(shop.files)  # still counted
    paid = rows[(rows["spend"] > 0) & (rows["customers"] > 0)]
    assert paid["cac"].to_numpy() == pytest.approx((paid["spend"] / paid["customers"]).to_numpy())
    for column in ("avg_clv", "total_clv", "clv_cac", "payback_months", "lifetime_roi", "avg_clv_lower"):
        assert rows[column].isna().all(), column
    note = next(n for n in report.notes if n.startswith("CLV not estimated"))
    assert "Gamma-Gamma spend model" in note and "79 repeat customers" in note
    assert "FACTR" not in note  # the optimiser's own words stay in the exception's cause


def test_a_shop_too_small_for_intervals_keeps_its_clv(tmp_path_factory) -> None:
    # 248 customers: both models fit, but the spend model's information matrix is singular, so no
    # parameter draws can be made; the point CLV stays and the interval is null with a note
    shop = _small_shop(tmp_path_factory, 0.004, 1)
    try:
        report = with_lifetime_value(
            shop.ws, kpi_report(shop.ws, by="channel", start=START, end=END), interval=0.9
        )
    finally:
        shop.ws.close()
    acquired = report.rows[report.rows["customers"] > 0]
    assert acquired["customers"].sum() == _acquired_in_period(shop.files)
    assert (acquired["avg_clv"] > 0).all()
    assert acquired["avg_clv_lower"].isna().all() and acquired["total_clv_upper"].isna().all()
    assert any(n.startswith("CLV low/high not available") for n in report.notes)
