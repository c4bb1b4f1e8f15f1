"""Goals and pacing on the demo shop (two years of data): the actuals agree with the KPI engine."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from trueroi.goals import goal_status, make_budget, make_goal, pacing_status
from trueroi.metrics import kpi_report

AS_OF = date(2026, 8, 20)
Q3 = (date(2026, 7, 1), date(2026, 9, 30))


def test_goals_on_the_demo_agree_with_the_kpi_engine(demo_shop) -> None:
    ws = demo_shop.ws
    goals = [
        make_goal("revenue", "revenue", 50_000, *Q3),
        make_goal("roas-shopping", "roas", 3.0, *Q3, channel="Shopping"),
        make_goal("cpa", "cpa", 40, *Q3),
        make_goal("full-roi", "full_roi", 0.5, *Q3),
        make_goal("leads", "conversions", 10, *Q3, conv_type="lead"),
    ]
    out = {s.goal.name: s.to_dict() for s in goal_status(ws, AS_OF, goals=goals)}
    # actual to date = what `trueroi kpis --from 2026-07-01 --to 2026-08-20` reports (an independent query)
    report = kpi_report(ws, by="channel", start=Q3[0], end=AS_OF)
    totals = report.totals
    shopping = report.rows.set_index("channel").loc["Shopping"]
    assert out["revenue"]["actual"] == pytest.approx(totals["revenue"])
    assert out["cpa"]["actual"] == pytest.approx(totals["cpa"])
    assert out["full-roi"]["actual"] == pytest.approx(totals["full_roi"])
    assert out["roas-shopping"]["actual"] == pytest.approx(shopping["roas"])
    for s in out.values():
        assert s["days_elapsed"] == 51 and s["days_total"] == 92
        assert s["expected_lower"] <= s["expected"] <= s["expected_upper"]
        assert s["status"] in ("on_track", "at_risk", "off_track")
        assert s["forecast_method"].endswith("+backtest")  # two years of history: enough backtests
    # the additive totals can only grow over the 41 days left
    assert out["revenue"]["expected"] > out["revenue"]["actual"]
    assert out["cpa"]["direction"] == "down"


def test_pacing_on_the_demo_and_the_projection_against_what_happened(demo_shop) -> None:
    ws = demo_shop.ws
    (p,) = pacing_status(ws, AS_OF, budgets=[make_budget("q3", 5000, *Q3)])
    spent = kpi_report(ws, start=Q3[0], end=AS_OF).totals["spend"]
    final = kpi_report(ws, start=Q3[0], end=Q3[1]).totals["spend"]
    assert p.spend_to_date == pytest.approx(spent)
    assert p.expected_to_date == pytest.approx(5000 * 51 / 92)
    assert p.daily_needed == pytest.approx((5000 - spent) / 41)
    # the demo goes on to 30 September: the projection made on 20 August lands near the real Q3 spend
    assert p.projected == pytest.approx(final, rel=0.15)
    assert np.isfinite([p.projected_lower, p.projected_upper]).all()
