"""The pages: portfolio and overview show the right numbers for the right period, the period picker and
sorting work, every asset is served from the package, and anonymous visitors are sent to the login."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import trueroi.web

Q3 = (date(2026, 7, 1), date(2026, 9, 30))  # the demo's data ends on 2026-09-30: its last full quarter

# What these tests check does not depend on the metadata database: SQLite only (access and security
# tests run on PostgreSQL too).
pytestmark = pytest.mark.parametrize("server_home", ["sqlite"], indirect=True)


def spend_in_eur(files, start: date, end: date) -> float:
    """Media spend between two days in EUR, by hand from the generated files (USD rows times that day's
    rate from the fx_rates table)."""
    ads = pd.concat(
        pd.read_parquet(p, columns=["date_day", "currency", "spend"]) for p in files.parts("ad_performance")
    )
    fx = pd.concat(pd.read_parquet(p) for p in files.parts("fx_rates"))[
        ["date_day", "currency", "rate_to_base"]
    ]
    ads["date_day"] = pd.to_datetime(ads.date_day)
    fx["date_day"] = pd.to_datetime(fx.date_day)
    ads = ads[(ads.date_day >= pd.Timestamp(start)) & (ads.date_day <= pd.Timestamp(end))]
    ads = ads.merge(fx, on=["date_day", "currency"], how="left")
    ads.loc[ads.currency == "EUR", "rate_to_base"] = 1.0
    assert ads.rate_to_base.notna().all()
    return float((ads.spend * ads.rate_to_base).sum())


def tile(html: str, label: str) -> str:
    """The value shown on the KPI tile ``label``."""
    found = re.search(rf'<div class="label">{label}</div>\s*<div class="value">([^<]*)</div>', html)
    assert found, f"no tile {label}"
    return found.group(1)


def test_portfolio_rows_hold_the_last_full_quarter(web_site, web_workspaces) -> None:
    rows = web_site.call("GET", "/api/v1/portfolio", "admin", "token").json()["rows"]
    assert [r["workspace"] for r in rows] == ["acme", "globex"]
    for row in rows:
        assert row["period"] == {"from": "2026-07-01", "to": "2026-09-30"} and row["currency"] == "EUR"
        expected = spend_in_eur(web_workspaces.files[row["workspace"]], *Q3)
        assert row["spend"] == pytest.approx(expected, rel=1e-9)
        assert row["revenue"] > 0 and row["error"] is None
    page = web_site.call("GET", "/", "admin").text
    for row in rows:
        assert f"{row['spend']:,.0f}" in page and f"{row['media_roi'] * 100:,.1f}%" in page


def test_portfolio_sorts_by_column(web_site) -> None:
    rows = web_site.call("GET", "/api/v1/portfolio", "admin", "token").json()["rows"]
    by_spend = [r["workspace"] for r in sorted(rows, key=lambda r: r["spend"], reverse=True)]
    page = web_site.call("GET", "/?sort=spend&order=desc", "admin").text
    shown = re.findall(r'<td><a href="/w/([^/]+)/">', page)
    assert shown == by_spend
    assert 'aria-sort="descending"' in page and 'href="/?sort=spend&amp;order=asc"' in page
    assert web_site.call("GET", "/?sort=colour", "admin").status_code == 400


def test_portfolio_shows_only_the_callers_workspaces(web_site) -> None:
    page = web_site.call("GET", "/", "viewer").text
    assert re.findall(r'<td><a href="/w/([^/]+)/">', page) == ["acme"]


def test_overview_defaults_to_the_last_full_quarter_with_yoy(web_site, web_workspaces) -> None:
    page = web_site.call("GET", "/w/acme/", "viewer").text
    assert tile(page, "Spend") == f"{spend_in_eur(web_workspaces.files['acme'], *Q3):,.0f}"
    assert "2026-07-01 – 2026-09-30" in page and "compared with 2025-07-01 – 2025-09-30 (yoy)" in page
    assert '<option value="2026-Q3" selected>' in page
    assert page.count('<div class="change') == 7


def test_period_picker_changes_the_numbers(web_site, web_workspaces) -> None:
    files = web_workspaces.files["acme"]
    july = web_site.call(
        "GET", "/w/acme/?period=2026-07&compare=none", "viewer", headers={"HX-Request": "true"}
    )
    assert july.status_code == 200
    assert tile(july.text, "Spend") == f"{spend_in_eur(files, date(2026, 7, 1), date(2026, 7, 31)):,.0f}"
    assert '<div class="change' not in july.text and '<option value="2026-07" selected>' in july.text
    days = web_site.call(
        "GET", "/w/acme/?period=&from=2026-08-03&to=2026-08-09&compare=previous", "viewer"
    ).text
    assert tile(days, "Spend") == f"{spend_in_eur(files, date(2026, 8, 3), date(2026, 8, 9)):,.0f}"
    assert "compared with 2026-07-27 – 2026-08-02 (previous)" in days


def test_anonymous_visitors_go_to_the_login(web_site) -> None:
    response = web_site.call("GET", "/w/acme/?period=2026-07")
    assert (
        response.status_code == 303
        and response.headers["location"] == "/login?next=%2Fw%2Facme%2F%3Fperiod%3D2026-07"
    )
    htmx = web_site.call("GET", "/w/acme/", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/login?next=")
    login = web_site.call("GET", "/login?next=/w/acme/")
    assert login.status_code == 200 and 'name="next" value="/w/acme/"' in login.text


def test_assets_come_from_the_package(web_site) -> None:
    static = Path(trueroi.web.__file__).parent / "static"
    htmx = web_site.call("GET", "/static/htmx.min.js")
    assert htmx.status_code == 200 and htmx.headers["content-type"].startswith("text/javascript")
    assert htmx.content == (static / "htmx.min.js").read_bytes() and b'version:"2.0.11"' in htmx.content
    assert "Zero-Clause BSD" in web_site.call("GET", "/static/htmx.min.js.LICENSE").text
    plotly_js = web_site.call("GET", "/static/plotly.min.js")
    assert plotly_js.status_code == 200 and b"plotly.js" in plotly_js.content[:500]
    assert web_site.call("GET", "/static/app.css").headers["content-type"].startswith("text/css")
    assert web_site.call("GET", "/static/..%2Fapp.py").status_code == 404
    page = web_site.call("GET", "/w/acme/", "viewer").text
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)  # nothing from another host
