"""The management report's e-mail/SEO/social sections: present with the family's totals (computed by hand
here) only when the workspace holds rows of that family in the period; absent otherwise."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from tests.metrics.helpers import load, order, touch

from trueroi.ingest import import_file
from trueroi.report.charts import sections
from trueroi.report.management import build_report
from trueroi.report.management_html import management_html

FIXTURES = Path(__file__).parents[1] / "ingest" / "fixtures"


@pytest.fixture
def shop(workspace):
    """Two e-mail readers who buy in May 2025 (200 with COGS 80, 100 with COGS 50) and a 62 EUR e-mail tool
    subscription for May booked to channel Email."""
    load(
        workspace,
        "touchpoints",
        [
            touch("u1", datetime(2025, 5, 2, 8), "Email", "welcome_flow"),
            touch("u2", datetime(2025, 5, 9, 8), "Email", "mai_newsletter"),
        ],
    )
    load(
        workspace,
        "orders",
        [
            order("o1", "u1", datetime(2025, 5, 2, 10), 200.0, 80.0),
            order("o2", "u2", datetime(2025, 5, 10, 10), 100.0, 50.0),
        ],
    )
    cost = {"period_start": date(2025, 5, 1), "period_end": date(2025, 5, 31), "category": "tools"}
    load(workspace, "costs", [{**cost, "amount": 62.0, "currency": "EUR", "channel": "Email"}])
    return workspace


def _report(ws) -> dict:
    return build_report(ws, "2025-05", attribution_models="last_click", goals=[], pacing=[], anomalies=[])


def test_email_section_with_its_totals(shop) -> None:
    import_file(shop, "email", FIXTURES / "email_campaigns.csv")
    content = _report(shop)
    assert set(content["families"]) == {"email"}  # no Search Console or social rows
    t = content["families"]["email"]["totals"]
    # 3800 recipients, 355 unique clicks of 1800 unique opens; margin 120 + 50 against the tool's 62
    assert t["recipients"] == 3800 and t["ctor"] == pytest.approx(355 / 1800)
    assert t["revenue_per_recipient"] == pytest.approx(300 / 3800)
    assert t["full_roi"] == pytest.approx((170 - 62) / 62)
    keys = [s.key for s in sections(content)]
    assert keys[keys.index("channels") + 1] == "family_email"
    page = management_html(content)
    assert "E-mail KPIs" in page and "19.7%" in page  # CTOR 355 / 1800


def test_no_family_rows_no_section(shop) -> None:
    content = _report(shop)
    assert "families" not in content
    assert not [s for s in sections(content) if s.key.startswith("family_")]


def test_rows_outside_the_period_give_no_section(shop) -> None:
    import_file(shop, "social", FIXTURES / "social_posts.csv")  # March 2025 only
    assert "families" not in _report(shop)
