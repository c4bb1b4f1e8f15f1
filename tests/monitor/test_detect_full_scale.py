"""The demo shop at twice its full scale (2.0: about 2.6 million touchpoints, 250 orders a day): the
false-alarm rate on clean data, then the three incidents injected into the loaded tables, with CPA x3 caught
as a CPA anomaly, not only through the campaign's spend.

Why twice the scale: a CPA judged alone needs conversions. brand_broad, the demo's largest campaign, has
about 10 attributed conversions a day at scale 1.0, where tripled spend at unchanged conversions scores
z = 3.0 (30 conversions expected for the spend, 11 observed; Poisson noise alone makes that a 1-in-2,500
day, and the campaign's own day-to-day spread is 1.25 times Poisson). At scale 2.0 the same incident scores
above the threshold of 4. At any scale it is caught through the campaign's spend (z = 7.5 at scale 1.0).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trueroi.demo import demo_config, generate, load_into
from trueroi.monitor import detect_anomalies
from trueroi.workspace import Workspace

from .conftest import CPA_SPIKE, SPEND_STOP, TRACKING_DROP
from .test_detect_demo import _hits, _report, false_alarms

pytestmark = pytest.mark.slow


def test_full_scale_false_alarms_then_injected_incidents(tmp_path) -> None:
    files = generate(tmp_path / "demo", seed=7, scale=2.0)
    ws = Workspace.init(tmp_path / "ws", demo_config())
    try:
        load_into(ws, files)
        scored = false_alarms(ws, date(2025, 10, 1), date(2026, 9, 30))
        _report(scored, "scale 2.0, 2025-10-01..2026-09-30")
        rest = scored[~scored["flighting"]]
        # measured 2026-11-22: 0.0016 outside the flighting channels, 0.0074 with them (their planned dark
        # flights are real spend stops); total sessions alarm 11 of 365 days, Black Friday week and after
        assert rest["alarm"].mean() < 0.003
        assert scored["alarm"].mean() < 0.012
        # inject into the loaded tables: a lost tracking day, brand_broad's spend x3 for a day, and
        # shopping_pmax_all paused (no rows) from SPEND_STOP on
        raw = ws.con.con
        raw.execute("DELETE FROM touchpoints WHERE date_day = ?", [TRACKING_DROP])
        raw.execute(
            "UPDATE ad_performance SET spend = spend * 3 "
            "WHERE date_day = ? AND campaign_name = 'brand_broad'",
            [CPA_SPIKE],
        )
        raw.execute(
            "DELETE FROM ad_performance WHERE date_day >= ? AND campaign_name = 'shopping_pmax_all'",
            [SPEND_STOP],
        )
        found = detect_anomalies(ws, start=date(2026, 9, 1), end=date(2026, 9, 30))
        assert _hits(found, TRACKING_DROP, "sessions", "total", direction="down")
        cpa = _hits(found, CPA_SPIKE, "cpa", "campaign", "brand_broad", "up")
        assert cpa and cpa[0].observed > cpa[0].upper
        assert _hits(found, CPA_SPIKE, "cpa", "channel", "Brand Search", "up")
        for offset in range(3):
            day = SPEND_STOP + timedelta(days=offset)
            assert _hits(found, day, "spend", "campaign", "shopping_pmax_all", "down"), day
    finally:
        ws.close()
