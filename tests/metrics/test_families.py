"""KPIs per channel family (issue 21): every expected value below is computed by hand from the rows the test
loads (the ingest fixtures' values, or CSV text written here), as sums of numerators and denominators."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from trueroi.errors import UsageError
from trueroi.ingest import import_file
from trueroi.io import jsonable
from trueroi.metrics import family_kpis, kpis

from .helpers import load, order, touch

FIXTURES = Path(__file__).parents[1] / "ingest" / "fixtures"

# date,query,clicks,impressions,position: two days of the Search Analytics API and one day before them
GSC_ROWS = """date,query,clicks,impressions,position
2025-02-27,acme jacke,10,100,3.0
2025-02-27,winterjacke,40,500,5.0
2025-03-01,acme jacke,30,100,1.5
2025-03-01,winterjacke,10,400,8.0
2025-03-02,acme jacke,20,100,2.5
2025-03-02,winterjacke,15,600,6.0
2025-03-02,regenjacke,5,300,12.0
"""


def _email(ws) -> None:
    # K-100 (5/2, welcome_flow): 800 recipients, 792 delivered, 8 bounces, 500 unique opens of which 120
    # machine opens, 95 unique clicks, 2 unsubscribes, 0 complaints. K-101 (5/9, mai_newsletter): 3000,
    # 2950, 50, 1300 (machine opens not reported), 260, 15, 1.
    import_file(ws, "email", FIXTURES / "email_campaigns.csv")


def _orders(ws) -> None:
    """u1 reads the welcome e-mail and buys for 200 (COGS 80); u2 the May newsletter, 100 (COGS 50)."""
    load(
        ws,
        "touchpoints",
        [
            touch("u1", datetime(2025, 5, 2, 8), "Email", "welcome_flow"),
            touch("u2", datetime(2025, 5, 9, 8), "Email", "mai_newsletter"),
        ],
    )
    load(
        ws,
        "orders",
        [
            order("o1", "u1", datetime(2025, 5, 2, 10), 200.0, 80.0),
            order("o2", "u2", datetime(2025, 5, 10, 10), 100.0, 50.0),
        ],
    )


def test_email_rates_are_ratios_of_sums(workspace) -> None:
    _email(workspace)
    report = family_kpis(workspace, "email", by="campaign")
    t = report.to_dict()["totals"]
    assert (t["recipients"], t["delivered"], t["unique_opens"], t["unique_clicks"]) == (3800, 3742, 1800, 355)
    assert t["delivery_rate"] == pytest.approx(3742 / 3800)
    assert t["bounce_rate"] == pytest.approx(58 / 3800)
    assert t["open_rate"] == pytest.approx(1800 / 3742)
    assert t["ctr"] == pytest.approx(355 / 3742)
    # CTOR = summed unique clicks / summed unique opens, not the mean of 95/500 and 260/1300 (0.195)
    assert t["ctor"] == pytest.approx(355 / 1800)
    assert t["unsubscribe_rate"] == pytest.approx(17 / 3742)
    assert t["complaint_rate"] == pytest.approx(1 / 3742)
    rows = {r["campaign"]: r for r in report.to_dict()["rows"]}
    assert rows["welcome_flow"]["ctor"] == pytest.approx(95 / 500)
    assert rows["mai_newsletter"]["open_rate"] == pytest.approx(1300 / 2950)


def test_open_rate_is_marked_inflated_where_the_export_counts_machine_opens(workspace) -> None:
    _email(workspace)
    out = family_kpis(workspace, "email", by="campaign").to_dict()
    rows = {r["campaign"]: r for r in out["rows"]}
    assert rows["welcome_flow"]["open_rate_inflated"] is True
    assert rows["welcome_flow"]["open_rate_excl_machine"] == pytest.approx((500 - 120) / 792)
    assert rows["mai_newsletter"]["open_rate_inflated"] is None  # the export does not say
    assert rows["mai_newsletter"]["open_rate_excl_machine"] is None
    assert out["totals"]["open_rate_inflated"] is True and out["totals"]["open_rate_excl_machine"] is None
    assert any("machine opens" in n for n in out["notes"])


def test_email_revenue_per_recipient_and_no_full_roi_without_costs(workspace) -> None:
    _email(workspace)
    _orders(workspace)
    out = family_kpis(
        workspace, "email", by="campaign", date_from="2025-05-01", date_to="2025-05-31"
    ).to_dict()
    t = out["totals"]
    assert (t["revenue"], t["margin"]) == (300.0, 170.0)
    assert t["revenue_per_recipient"] == pytest.approx(300 / 3800)
    assert t["full_roi"] is None and t["media_roi"] is None  # no cost known: never an ROI against zero
    assert any("full ROI is left empty" in n and "e-mail" in n for n in out["notes"])
    rows = {r["campaign"]: r for r in out["rows"]}
    assert rows["welcome_flow"]["revenue"] == 200.0
    assert rows["welcome_flow"]["revenue_per_recipient"] == pytest.approx(200 / 800)


def test_email_full_roi_uses_the_costs_booked_to_email(workspace) -> None:
    _email(workspace)
    _orders(workspace)
    cost = {
        "period_start": date(2025, 5, 1),
        "period_end": date(2025, 5, 31),
        "category": "tools",
        "amount": 62.0,
        "currency": "EUR",
        "channel": "Email",
    }
    load(workspace, "costs", [cost])
    t = family_kpis(workspace, "email", by="channel", date_from="2025-05-01", date_to="2025-05-31").totals
    # margin (200 - 80) + (100 - 50) = 170 against the tool's 62 for the whole of May
    assert t["full_cost"] == pytest.approx(62.0)
    assert t["full_roi"] == pytest.approx((170 - 62) / 62)
    assert t["media_roi"] is None or t["media_roi"] != t["media_roi"]  # no media spend


def test_compare_previous_gives_the_change(workspace) -> None:
    _email(workspace)
    # 2025-05-06..05-12 holds K-101; the previous seven days, 04-29..05-05, K-100
    out = family_kpis(
        workspace, "email", by="channel", date_from="2025-05-06", date_to="2025-05-12", compare="previous"
    ).to_dict()
    assert out["compare"] == {"mode": "previous", "from": "2025-04-29", "to": "2025-05-05"}
    t = out["totals"]
    assert (t["recipients"], t["recipients_prev"], t["recipients_change"]) == (3000, 800, 2200)
    assert t["recipients_change_pct"] == pytest.approx(2200 / 800)
    assert t["ctor_change"] == pytest.approx(260 / 1300 - 95 / 500)


@pytest.fixture
def seo(workspace, tmp_path):
    path = tmp_path / "gsc_api.csv"
    path.write_text(GSC_ROWS)
    import_file(workspace, "search-console", path)
    return workspace


def test_position_is_weighted_by_impressions_across_queries_and_days(seo) -> None:
    t = family_kpis(seo, "seo", by="channel", date_from="2025-03-01", date_to="2025-03-02").totals
    assert (t["clicks"], t["impressions"]) == (80, 1500)
    assert t["ctr"] == pytest.approx(80 / 1500)
    # (1.5*100 + 8*400 + 2.5*100 + 6*600 + 12*300) / 1500 = 10800 / 1500; the mean of the averages is 6.0
    assert t["position"] == pytest.approx(7.2)


def test_brand_and_non_brand_queries_follow_the_brand_terms(seo) -> None:
    out = family_kpis(seo, "seo", by="brand", date_from="2025-03-01", date_to="2025-03-02").to_dict()
    rows = {r["is_brand"]: r for r in out["rows"]}
    # brand term "acme": acme jacke on both days; the rest is non-brand
    assert (rows[True]["clicks"], rows[True]["impressions"]) == (50, 200)
    assert rows[True]["position"] == pytest.approx((150 + 250) / 200)
    assert (rows[False]["clicks"], rows[False]["impressions"]) == (30, 1300)
    assert rows[False]["position"] == pytest.approx((3200 + 3600 + 3600) / 1300)


def test_seo_by_query_and_compare_previous(seo) -> None:
    out = family_kpis(
        seo, "seo", by="query", date_from="2025-03-01", date_to="2025-03-02", compare="previous"
    ).to_dict()
    rows = {r["query"]: r for r in out["rows"]}
    assert rows["acme jacke"]["ctr"] == pytest.approx(50 / 200)
    assert rows["winterjacke"]["position"] == pytest.approx((3200 + 3600) / 1000)
    assert (rows["winterjacke"]["clicks_prev"], rows["winterjacke"]["clicks_change"]) == (40, -15)
    assert rows["regenjacke"]["clicks_prev"] is None  # not searched in the previous period
    assert out["totals"]["clicks_change"] == 80 - 50


def test_top_movers_against_the_previous_period(seo) -> None:
    out = family_kpis(seo, "seo", by="channel", date_from="2025-03-01", date_to="2025-03-02").to_dict()
    prev = out["movers"]["previous"]
    assert (prev["from"], prev["to"], prev["available"]) == ("2025-02-27", "2025-02-28", True)
    assert [(m["query"], m["clicks_change"]) for m in prev["winners"]] == [
        ("acme jacke", 40),
        ("regenjacke", 5),
    ]
    assert [(m["query"], m["clicks_change"]) for m in prev["losers"]] == [("winterjacke", -15)]
    assert out["movers"]["yoy"]["available"] is False


def test_visibility_from_rankings(workspace) -> None:
    import_file(workspace, "search-console", FIXTURES / "gsc_download_en" / "Dates.csv")
    import_file(workspace, "rankings", FIXTURES / "sistrix_visibility_de.csv")
    out = family_kpis(workspace, "seo", by="channel", date_from="2025-03-01", date_to="2025-03-31").to_dict()
    index = [v for v in out["visibility"] if v["domain"] == "acme-shop.de"]
    # Sichtbarkeitsindex 0,4821 on 03.03.2025 and 0,5137 on 10.03.2025
    assert index[0]["visibility"] == pytest.approx(0.5137)
    assert index[0]["visibility_change"] == pytest.approx(0.5137 - 0.4821)


def test_social_kpis_from_account_days_and_posts(workspace) -> None:
    # social_posts.csv: post IG-9001 (15400 impressions, reach 11200, 1290 engagements, 210 clicks) and the
    # account's days 3/12 (2600, 2100, 150, 12; 8450 followers, +31 -6) and 3/13 (3100, 2500, 180, 15;
    # 8470 followers, +28 -8). The account days count the posts' impressions too, so they are taken.
    import_file(workspace, "social", FIXTURES / "social_posts.csv")
    t = family_kpis(workspace, "social", by="channel").to_dict()["totals"]
    assert (t["impressions"], t["engagements"], t["clicks"]) == (5700, 330, 27)
    assert t["engagement_rate"] == pytest.approx(330 / 5700)
    assert t["followers"] == 8470 and t["follower_growth"] == (31 - 6) + (28 - 8)
    assert t["reach"] is None  # reach of two days is never summed
    posts = family_kpis(workspace, "social", by="post").to_dict()["rows"]
    assert [(p["post"], p["impressions"], p["reach"]) for p in posts] == [("IG-9001", 15400, 11200)]
    assert posts[0]["engagement_rate"] == pytest.approx(1290 / 15400)


def test_paid_is_the_kpi_report(workspace) -> None:
    _orders(workspace)
    paid = jsonable(family_kpis(workspace, "paid", by="channel").to_dict())
    assert paid == jsonable({"family": "paid", **kpis(workspace, by="channel").to_dict()})
    assert paid["totals"]["revenue"] == 300.0


@pytest.mark.parametrize(
    ("family", "kwargs", "words"),
    [
        ("phone", {}, ["phone", "email, seo, social, paid"]),
        ("email", {"by": "query"}, ["query", "e-mail"]),
        ("seo", {"compare": "lastweek"}, ["lastweek"]),
        ("social", {"value": "clv"}, ["clv", "paid"]),
    ],
)
def test_refusals_name_the_problem(workspace, family, kwargs, words) -> None:
    _email(workspace)
    with pytest.raises(UsageError) as caught:
        family_kpis(workspace, family, **kwargs)
    assert all(w in str(caught.value) for w in words)


def test_pages_by_organic_revenue_and_the_seo_money(seo) -> None:
    load(
        seo,
        "touchpoints",
        [
            touch(
                "u3", datetime(2025, 3, 1, 9), "Organic Search", landing_page="https://shop.de/jacken?utm_x=1"
            ),
            touch("u4", datetime(2025, 3, 2, 9), "Organic Search", landing_page="https://www.shop.de/"),
            touch("u5", datetime(2025, 3, 2, 9), "Organic Search", landing_page="https://shop.de/jacken/"),
        ],
    )
    load(
        seo,
        "orders",
        [
            order("o3", "u3", datetime(2025, 3, 1, 10), 150.0, 50.0),
            order("o4", "u4", datetime(2025, 3, 2, 10), 50.0, 20.0),
        ],
    )
    out = family_kpis(seo, "seo", by="channel", date_from="2025-03-01", date_to="2025-03-02").to_dict()
    assert (out["totals"]["revenue"], out["totals"]["margin"]) == (200.0, 130.0)
    assert out["totals"]["revenue_per_click"] == pytest.approx(200 / 80)
    pages = [(p["page"], p["orders"], p["revenue"], p["margin"], p["sessions"]) for p in out["pages"]]
    # /jacken: o3's landing (query string left out) and u5's session on /jacken/ (trailing slash left out)
    assert pages == [("/jacken", 1, 150.0, 100.0, 2), ("/", 1, 50.0, 30.0, 1)]
    assert out["pages"][0]["revenue_per_session"] == pytest.approx(150 / 2)
