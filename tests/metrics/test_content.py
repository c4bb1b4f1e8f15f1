"""Content ROI over time (trueroi.metrics.content): a simulated page whose monthly margin decays by a known
rate, its cumulative ROI by hand, the decay and the projection recovered, and the errors on missing keys."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from trueroi.errors import DataValidationError
from trueroi.metrics.content import content_roi, fit_decay

from .helpers import load, order, touch

LIVE = date(2025, 1, 1)
DPM = 365.25 / 12
DECAY, FIRST = 0.85, 100  # orders in month k: round(100 * 0.85^(k-1)), each with margin 100 - 60 = 40
COST = 24_000.0
PAGE = "/guides/running-shoes"
N_ORDERS = [round(FIRST * DECAY**k) for k in range(12)]  # 100, 85, 72, 61, 52, 44, 38, 32, 27, 23, 20, 17


def _at(month: int, j: int, hour: int) -> datetime:
    day = LIVE + timedelta(days=int(np.floor((month - 1) * DPM)) + 1 + j % 25)  # inside month `month`
    return datetime(day.year, day.month, day.day, hour)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory):
    from trueroi.workspace import Workspace
    from trueroi.workspace.config import WorkspaceConfig

    ws = Workspace.init(tmp_path_factory.mktemp("content") / "ws", WorkspaceConfig(name="content"))
    touches, orders = [], []
    for k, n in enumerate(N_ORDERS, start=1):
        for j in range(n + 2):  # every month two organic visitors who buy nothing
            user = f"u{k}-{j}"
            url = f"https://www.shop.de{PAGE}/?utm_source=google" if j % 2 else f"https://shop.de{PAGE}"
            touches.append(touch(user, _at(k, j, 9), "Organic Search", landing_page=url))
            if j < n:
                orders.append(order(f"o{k}-{j}", user, _at(k, j, 10), 100.0, 60.0))
    # month 1: a visitor whose last non-direct touch is paid (not the page's), one whose later touch is direct
    for user, later in (("paid", "Paid Search"), ("direct", "Direct")):
        touches.append(touch(user, _at(1, 3, 8), "Organic Search", landing_page=f"https://shop.de{PAGE}"))
        touches.append(touch(user, _at(1, 3, 9), later, landing_page="https://shop.de/"))
        orders.append(order(f"o-{user}", user, _at(1, 3, 10), 100.0, 60.0))
    touches.append(touch("late", datetime(2026, 1, 1, 12), "Direct"))  # data end: 12 whole months observed
    early = f"https://shop.de{PAGE}"  # a visit before the piece's first cost day: not counted, said in a note
    touches.append(touch("early", datetime(2024, 12, 20, 9), "Organic Search", landing_page=early))
    load(ws, "touchpoints", touches)
    load(ws, "orders", orders)
    costs = [
        (f"https://shop.de{PAGE}/", "production", COST),
        ("/blog/never-visited", "production", 1_000.0),
        (PAGE, "tools", 500.0),  # not production: not the piece's cost
        (None, "agency_fee", 9_999.0),  # no key: not content
    ]
    rows = [
        {
            "period_start": LIVE,
            "period_end": LIVE,
            "category": cat,
            "amount": amount,
            "currency": "EUR",
            "campaign_id": key,
        }
        for key, cat, amount in costs
    ]
    load(ws, "costs", rows)
    yield ws
    ws.close()


def test_observed_months_and_cumulative_roi_by_hand(shop) -> None:
    result = content_roi(shop, horizon=36)
    piece = {p["key"]: p for p in result.pieces}[PAGE]
    assert piece["cost"] == COST and piece["observed_months"] == 12 and piece["live_from"] == "2025-01-01"
    orders = list(N_ORDERS)
    orders[0] += 1  # the visitor whose later touch was direct counts; the paid one does not
    margin = 40.0 * np.array(orders)
    assert piece["orders"][:12] == orders
    assert piece["sessions"][:12] == [n + 2 + (2 if k == 0 else 0) for k, n in enumerate(N_ORDERS)]
    np.testing.assert_allclose(piece["margin"][:12], margin)
    np.testing.assert_allclose(piece["cumulative_roi"][:12], (np.cumsum(margin) - COST) / COST)
    assert piece["projected"] == [False] * 12 + [True] * 24
    assert piece["orders"][12:] == [None] * 24


def test_decay_and_projection_recovered(shop) -> None:
    piece = {p["key"]: p for p in content_roi(shop, horizon=36).pieces}[PAGE]
    assert piece["decay_per_month"] == pytest.approx(DECAY, abs=0.01)
    truth = 40.0 * FIRST * DECAY ** np.arange(12, 36)  # months 13..36 of the true decay
    np.testing.assert_allclose(piece["margin"][12:], truth, rtol=0.06)
    # by hand on the truth: 22,880 margin by month 12, then 568, 483, 410 -> 24,341 at month 15 >= 24,000
    assert piece["payback_month"] == 15
    long_run = (40.0 * FIRST * (1 - DECAY**36) / (1 - DECAY) - COST) / COST  # 0.108
    assert piece["cumulative_roi"][-1] == pytest.approx(long_run, abs=0.02)
    assert piece["cumulative_roi_lower"][-1] <= long_run <= piece["cumulative_roi_upper"][-1]
    assert piece["cumulative_roi_upper"][-1] - piece["cumulative_roi_lower"][-1] < 0.1  # a tight fit
    observed = slice(0, 12)  # measured months have no band
    assert piece["cumulative_roi_lower"][observed] == piece["cumulative_roi"][observed]
    assert piece["cumulative_roi_upper"][observed] == piece["cumulative_roi"][observed]


def test_piece_without_visits_has_no_projection(shop) -> None:
    result = content_roi(shop, horizon=24)
    piece = {p["key"]: p for p in result.pieces}["/blog/never-visited"]
    assert piece["decay_per_month"] is None and piece["payback_month"] is None
    assert piece["cumulative_roi"] == [-1.0] * 12  # cost, no margin: -100% in every observed month
    assert any("/blog/never-visited" in n for n in result.notes)
    assert (
        f"{PAGE}: 1 session(s) and 0 sale(s) before its first cost day 2025-01-01 are not counted"
        in result.notes
    )
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["by"] == "landing_page" and payload["horizon_months"] == 24


def test_fit_decay_on_an_exact_series_with_a_ramp_up() -> None:
    series = np.array([100.0, 400.0, 800.0, 800 * 0.7, 800 * 0.7**2, 800 * 0.7**3])  # peak in month 3
    level, rate, peak = fit_decay(series)
    assert (level, rate, peak) == (pytest.approx(800.0), pytest.approx(0.7, abs=1e-5), 3)
    assert fit_decay(np.array([1.0, 2.0, 3.0])) is None  # peak in the last month: nothing to fit
    growing = fit_decay(np.array([5.0, 5.0, 5.0, 5.0]))
    assert growing is not None and growing[1] == pytest.approx(1.0)


def test_missing_keys_are_clear_errors(workspace) -> None:
    load(
        workspace,
        "costs",
        [
            {
                "period_start": LIVE,
                "period_end": LIVE,
                "category": "production",
                "amount": 1.0,
                "currency": "EUR",
                "campaign_id": None,
            }
        ],
    )
    with pytest.raises(DataValidationError, match="campaign_id"):
        content_roi(workspace)
    load(
        workspace,
        "costs",
        [
            {
                "period_start": LIVE,
                "period_end": LIVE,
                "category": "production",
                "amount": 1.0,
                "currency": "EUR",
                "campaign_id": "/page",
            }
        ],
    )
    load(workspace, "touchpoints", [touch("u", datetime(2025, 1, 2, 9), "Organic Search")])
    with pytest.raises(DataValidationError, match="landing_page"):
        content_roi(workspace)
    result = content_roi(workspace, by="campaign")  # matched by UTM campaign instead: no visits yet
    assert [p["key"] for p in result.pieces] == ["/page"]


def test_cli_json_and_table(shop, capsys: pytest.CaptureFixture[str]) -> None:
    from typer.testing import CliRunner

    from trueroi.cli.main import build_app, main

    args = ["content", "--workspace", str(shop.path), "--horizon", "18"]
    result = CliRunner().invoke(build_app(), [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload)[:2] == ["by", "horizon_months"]
    piece = {p["key"]: p for p in payload["pieces"]}[PAGE]
    assert piece["months"] == list(range(1, 19)) and piece["payback_month"] == 15
    assert piece["projected"].count(True) == 6
    table = CliRunner().invoke(build_app(), args)
    assert table.exit_code == 0 and PAGE in table.stdout and "cumulative ROI" in table.stdout
    with pytest.raises(SystemExit) as info:
        main(["content", "--workspace", str(shop.path), "--by", "page"])
    assert info.value.code == 2 and "landing_page or campaign" in capsys.readouterr().err


@pytest.mark.slow
def test_band_coverage_and_decay_over_simulated_pieces() -> None:
    """100 pieces with Poisson orders and a known decay (bench/bench_longterm.py measures 300): the decay is
    recovered and the 90% band of the 36-month cumulative ROI covers the truth close to its rate."""
    import pandas as pd

    from trueroi.metrics.content import DAYS_PER_MONTH, piece_curve

    rng = np.random.default_rng(1)
    end = LIVE + timedelta(days=int(np.ceil(12 * DAYS_PER_MONTH)))
    errors, covered = [], []
    for _ in range(100):
        r, first, per_order = rng.uniform(0.75, 0.95), rng.uniform(40, 150), rng.uniform(20, 60)
        expected = first * r ** np.arange(36) * per_order
        counts = rng.poisson(first * r ** np.arange(12))
        days = [LIVE + timedelta(days=int(np.floor(k * DAYS_PER_MONTH)) + 10) for k in range(12)]
        margins = [float(rng.lognormal(np.log(per_order), 0.3, n).sum()) for n in counts]
        daily = pd.DataFrame({"date_day": days, "sessions": counts, "orders": counts, "margin": margins})
        cost = float(expected.sum() * 0.6)
        piece = piece_curve("p", cost, LIVE, end, daily, 36)
        errors.append(abs(piece["decay_per_month"] - r))
        truth = (sum(margins) + expected[12:].sum() - cost) / cost
        covered.append(piece["cumulative_roi_lower"][-1] <= truth <= piece["cumulative_roi_upper"][-1])
    assert np.mean(errors) < 0.03
    assert 0.75 <= np.mean(covered) <= 0.98
