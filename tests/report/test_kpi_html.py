"""The KPI page (the demo's report): the blended total ROAS and CPA are labelled, with paid-media figures."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from trueroi.metrics import kpi_report
from trueroi.report.html import kpi_html


def test_totals_show_paid_media_figures_beside_the_blended_ones(workspace):
    # Paid Search spends 200 and closes o1 (600); Organic Search closes o2 (400). By hand: paid-media ROAS
    # 600 / 200 = 3.00, MER (1,000 / 200) = 5.00; paid-media CPA 200 / 1 = 200, blended CPA 200 / 2 = 100.
    ads = pd.DataFrame(
        [
            {
                "date_day": date(2025, 7, 1),
                "platform": "google_ads",
                "campaign_id": "a",
                "campaign_name": "a",
                "channel": "Paid Search",
                "currency": "EUR",
                "spend": 200.0,
            }
        ]
    )
    touches = pd.DataFrame(
        {
            "touch_id": ["t1", "t2"],
            "user_id": ["u1", "u2"],
            "ts": [datetime(2025, 7, 1, 8)] * 2,
            "date_day": [date(2025, 7, 1)] * 2,
            "channel": ["Paid Search", "Organic Search"],
            "campaign": ["a", None],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "user_id": ["u1", "u2"],
            "ts": [datetime(2025, 7, 1, 9)] * 2,
            "date_day": [date(2025, 7, 1)] * 2,
            "currency": "EUR",
            "revenue": [600.0, 400.0],
            "cogs": [300.0, 200.0],
            "status": "paid",
        }
    )
    workspace.load(
        {"ad_performance": ads, "touchpoints": touches, "orders": orders},
        source_format="test",
        file_name="t",
        sha256="t",
    )
    page = kpi_html(kpi_report(workspace, by="channel"))
    assert "Paid-media ROAS 3.00 (revenue attributed to channels with spend / media spend)" in page
    assert "MER 5.00 (all revenue / media spend)" in page
    assert "paid-media CPA 200, blended CPA 100" in page
