"""Is it worth it: commission against incremental margin, by hand on the shop of tests/partners/shop.py.

Under last paid click as of 2026-11-20, deals' orders (not excluded: O1, O2, O3, O5, O6, O7, O10) bring
revenue 100 + 200 + 60 + 80 + 0 + 0 + 60 = 500 and margin 40 + 80 + 30 + 50 + 0 + 0 + 30 = 230 (after the
return of O3, nothing for the cancelled O6 and O7) for a commission of 66 - 16 = 50. blog's one order O8
brings margin 60 for 6.00.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pyarrow as pa
import pytest

from trueroi.errors import UsageError
from trueroi.experiments.store import ExperimentRecord, save_experiment
from trueroi.partners import partner_value

from .shop import _day, build, load

AS_OF = date(2026, 11, 20)


@pytest.fixture
def shop(workspace):
    return build(workspace)


def _rows(result) -> dict[str, dict]:
    return {r["partner"]: r for r in result.to_dict()["partners"]}


def test_journeys_share_by_hand(shop) -> None:
    # two of deals' seven buyers were in a journey before its click: u1 (an e-mail 3 days before) and u2
    # (a direct visit the day before); blog's one buyer (u8) had clicked deals before blog
    before = [("u1", "Email", "2026-09-28 08:00"), ("u2", "Direct", "2026-10-02 08:00")]
    ts = [datetime.fromisoformat(t) for _, _, t in before]
    touches = pa.table(
        {
            "touch_id": ["x1", "x2"],
            "user_id": [u for u, _, _ in before],
            "ts": pa.array(ts, pa.timestamp("us")),
            "date_day": [_day(t) for t in ts],
            "channel": [c for _, c, _ in before],
        }
    )
    load(shop, "earlier touches", touchpoints=touches)
    rows = _rows(partner_value(shop, "2026-10", source="journeys", as_of=AS_OF))
    deals = rows["deals"]
    assert (deals["commission"], deals["revenue"], deals["margin"]) == pytest.approx((50.0, 500.0, 230.0))
    assert deals["incremental_share"] == pytest.approx(5 / 7)
    assert deals["incremental_margin"] == pytest.approx(5 / 7 * 230)
    assert deals["roi_on_commission"] == pytest.approx((5 / 7 * 230 - 50) / 50)
    assert not deals["mostly_not_incremental"]
    blog = rows["blog"]
    assert (blog["incremental_share"], blog["roi_on_commission"]) == pytest.approx((0.0, -1.0))
    assert blog["mostly_not_incremental"] and blog["source"] == "journeys"
    assert rows["leadgen"]["roi_on_commission"] is None  # a lead partner: no margin known


def test_a_saved_lift_test_comes_first(shop) -> None:
    save_experiment(shop, _lift("deals", relative_lift=0.25))
    deals = _rows(partner_value(shop, "2026-10", as_of=AS_OF))["deals"]
    # relative lift 0.25: of the exposed group's conversions 0.25 / 1.25 = 20 % are caused by deals
    assert (deals["source"], deals["incremental_share"]) == ("lift", pytest.approx(0.2))
    assert deals["incremental_margin"] == pytest.approx(0.2 * 230)
    assert deals["roi_on_commission"] == pytest.approx((46 - 50) / 50)
    assert deals["mostly_not_incremental"]
    assert _rows(partner_value(shop, "2026-10", as_of=AS_OF))["blog"]["source"] == "journeys"


def test_the_mix_models_roas(shop, monkeypatch, tmp_path) -> None:
    summary = {"channels": {"Deals": {"roas": {"mean": 2.0, "lower": 1.0, "upper": 3.0}}}}
    monkeypatch.setattr(
        "trueroi.partners.value.load_model", lambda path: SimpleNamespace(summary=lambda: summary)
    )
    deals = _rows(partner_value(shop, "2026-10", source="mmm", model_dir=tmp_path, as_of=AS_OF))["deals"]
    # incremental revenue = 2.0 x 50 commission = 100; margin rate 230 / 500; share 100 / 500
    assert deals["incremental_share"] == pytest.approx(0.2)
    assert deals["incremental_margin"] == pytest.approx(100 * 230 / 500)
    assert deals["roi_on_commission"] == pytest.approx((46 - 50) / 50)


def test_bad_arguments(shop) -> None:
    with pytest.raises(UsageError, match="source"):
        partner_value(shop, "2026-10", source="gut")
    with pytest.raises(UsageError, match="mix model"):
        partner_value(shop, "2026-10", source="mmm")
    with pytest.raises(UsageError, match="month"):
        partner_value(shop)
    with pytest.raises(UsageError, match="threshold"):
        partner_value(shop, "2026-10", threshold=2)


def _lift(channel: str, relative_lift: float) -> ExperimentRecord:
    return ExperimentRecord(
        experiment_id="lift1",
        name="deals holdout",
        kind="holdout",
        channel=channel,
        kpi="conversions",
        start=date(2026, 9, 1),
        end=date(2026, 9, 30),
        delta_spend=float("nan"),
        lift=10.0,
        lift_se=2.0,
        lift_lower=6.0,
        lift_upper=14.0,
        level=0.9,
        relative_lift=relative_lift,
        p_value=0.01,
        iroas=float("nan"),
        details="{}",
        created_at=datetime(2026, 10, 1),
    )
