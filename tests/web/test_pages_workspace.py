"""The workspace pages: numbers checked by hand against the generated files, the drill-down, escaping of
imported names, settings and imports changing a copy of a workspace (WRITE, CSRF, audited), the portfolio's
goals and pacing, and the page cache serving an answer again until the workspace changes."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from trueroi.goals import add_budget, add_goal
from trueroi.server import ServerHome, add_user, entries, open_session
from trueroi.server.cache import RESULTS
from trueroi.web import create_app
from trueroi.web.auth import SESSION_COOKIE
from trueroi.workspace import Workspace, WorkspaceConfig

# What the tests on the shared site check does not depend on the metadata database: SQLite only.
SQLITE = pytest.mark.parametrize("server_home", ["sqlite"], indirect=True)

Q3 = (date(2026, 7, 1), date(2026, 9, 30))
PASSWORD = "correct horse battery staple"
PAGES = (
    "channels",
    "attribution",
    "mmm",
    "budget",
    "experiments",
    "quality",
    "imports",
    "reports",
    "settings",
)


def spend_by_hand(files, start: date, end: date, **only: str) -> float:
    """Media spend in EUR between two days (USD rows at that day's rate), optionally of one channel or
    campaign, summed by hand from the generated ad files."""
    ads = pd.concat(pd.read_parquet(p) for p in files.parts("ad_performance"))
    fx = pd.concat(pd.read_parquet(p) for p in files.parts("fx_rates"))[
        ["date_day", "currency", "rate_to_base"]
    ]
    ads["date_day"], fx["date_day"] = pd.to_datetime(ads.date_day), pd.to_datetime(fx.date_day)
    ads = ads[(ads.date_day >= pd.Timestamp(start)) & (ads.date_day <= pd.Timestamp(end))]
    for column, value in only.items():
        ads = ads[ads[column] == value]
    ads = ads.merge(fx, on=["date_day", "currency"], how="left")
    ads.loc[ads.currency == "EUR", "rate_to_base"] = 1.0
    return float((ads.spend * ads.rate_to_base).sum())


def cells(html: str, table_id: str) -> dict[str, list[str]]:
    """First cell (link text or text) -> the other cells of each body row of the table ``table_id``."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        texts = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[texts[0]] = texts[1:]
    return rows


def money(text: str) -> float:
    return float(text.replace(",", ""))


@SQLITE
def test_every_workspace_page_answers_and_escapes_imported_names(web_site, web_workspaces) -> None:
    hostile = web_workspaces.hostile_channel
    escaped = "Display &lt;i class=&#34;x&#34;&gt;&amp;&lt;/i&gt;"
    for sub in PAGES:
        response = web_site.call("GET", f"/w/globex/{sub}", "other")
        assert response.status_code == 200, (sub, response.text[:300])
        assert hostile not in response.text and "<i class" not in response.text, sub
    for sub in ("channels", "attribution"):
        assert escaped in web_site.call("GET", f"/w/globex/{sub}", "other").text, sub


@SQLITE
def test_channel_drill_down_matches_spend_by_hand(web_site, web_workspaces) -> None:
    files = web_workspaces.files["acme"]
    page = web_site.call("GET", "/w/acme/channels?period=2026-Q3", "viewer").text
    channels = cells(page, "kpi-table")
    assert money(channels["Shopping"][0]) == pytest.approx(
        spend_by_hand(files, *Q3, channel="Shopping"), abs=0.5
    )
    drilled = web_site.call("GET", "/w/acme/channels?period=2026-Q3&channel=Shopping", "viewer").text
    campaigns = cells(drilled, "kpi-table")
    assert campaigns and all(name.endswith("_acme_only") for name in campaigns)
    by_hand = {
        name: spend_by_hand(files, *Q3, channel="Shopping", campaign_name=name)
        for name in campaigns  # the shown spelling is the platforms' (the tiny demo has one per campaign)
    }
    for name, row in campaigns.items():
        assert money(row[0]) == pytest.approx(by_hand[name], abs=0.5)
    name = max(by_hand, key=by_hand.get)
    days = cells(
        web_site.call(
            "GET", f"/w/acme/channels?period=2026-07&channel=Shopping&campaign={name}", "viewer"
        ).text,
        "kpi-table",
    )
    assert list(days)[0] == "2026-07-01" and len(days) == 31
    day = spend_by_hand(files, date(2026, 7, 15), date(2026, 7, 15), channel="Shopping", campaign_name=name)
    assert money(days["2026-07-15"][0]) == pytest.approx(day, abs=0.005)


@SQLITE
def test_brand_split_adds_up_to_the_channel_total(web_site, web_workspaces) -> None:
    files = web_workspaces.files["acme"]
    page = web_site.call("GET", "/w/acme/channels?period=2026-Q3", "viewer").text
    split = page.split("Brand vs non-brand", 1)[1]
    spends = [
        money(m)
        for m in re.findall(r'<td>(?:Brand|Non-brand|Unknown)</td>\s*<td class="num">([^<]*)</td>', split)
    ]
    assert sum(spends) == pytest.approx(spend_by_hand(files, *Q3), abs=1.0)
    brand = re.search(r'<td>Brand</td>\s*<td class="num">([^<]*)</td>', split).group(1)
    assert money(brand) == pytest.approx(spend_by_hand(files, *Q3, is_brand=True), abs=0.5)


@pytest.fixture
def own_site(tmp_path, web_workspaces):
    """A home serving a copy of acme (so writes change nobody else's workspace): an analyst and a viewer."""
    directory = tmp_path / "shop"
    shutil.copytree(web_workspaces.paths["acme"], directory)
    home = ServerHome.init(tmp_path / "home")
    home.register_workspace("shop", directory, actor="cli:test")
    users = {
        role: add_user(home, f"{role}@example.com", PASSWORD, role, ["shop"], actor="cli:test")
        for role in ("analyst", "viewer")
    }
    with TestClient(create_app(home)) as client:

        def call(method: str, path: str, role: str = "analyst", csrf: bool = True, **kwargs):
            client.cookies.clear()
            new = open_session(home, users[role].id)
            client.cookies.set(SESSION_COOKIE, new.session_id)
            data = dict(kwargs.pop("data", {}))
            if method == "POST" and csrf:
                data["csrf_token"] = new.session.csrf_secret
            return client.request(method, path, data=data, follow_redirects=False, **kwargs)

        yield type("Site", (), {"call": staticmethod(call), "home": home, "directory": directory})
    home.close()


def test_settings_change_the_workspace_with_csrf_and_audit(own_site) -> None:
    form = {"section": "brand", "brand_terms": "acme\nacme ?shop\n"}
    assert own_site.call("POST", "/w/shop/settings/config", "viewer", data=form).status_code == 403
    assert own_site.call("POST", "/w/shop/settings/config", csrf=False, data=form).status_code == 403
    saved = own_site.call("POST", "/w/shop/settings/config", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/w/shop/settings?saved=brand"
    assert WorkspaceConfig.load(own_site.directory).brand_terms == ["acme", "acme ?shop"]
    logged = entries(own_site.home.engine, action_prefix="settings.change")
    assert logged[0].actor == "analyst@example.com" and logged[0].detail == {
        "brand_terms": ["acme", "acme ?shop"]
    }
    bad = own_site.call("POST", "/w/shop/settings/config", data={"section": "brand", "brand_terms": "acme("})
    assert bad.status_code == 422 and "brand_terms" in bad.text
    assert WorkspaceConfig.load(own_site.directory).brand_terms == ["acme", "acme ?shop"]  # unchanged
    rules = {"section": "costs", "cost_rule": "fixed", "cost_channel": ""}
    refused = own_site.call("POST", "/w/shop/settings/config", data=rules)
    assert refused.status_code == 422 and "cost_allocation.channel" in refused.text


def test_goals_and_budgets_set_in_the_page_show_in_the_portfolio(own_site, web_workspaces) -> None:
    spend = spend_by_hand(web_workspaces.files["acme"], *Q3)
    budget = {"what": "budget", "action": "add", "name": "q3", "amount": f"{2 * spend:.2f}"}
    budget |= {"from": "2026-07-01", "to": "2026-09-30"}
    assert own_site.call("POST", "/w/shop/settings/declared", data=budget).status_code == 303
    goal = {"what": "goal", "action": "add", "name": "roi", "kpi": "full_roi", "target": "100"}
    goal |= {"from": "2026-07-01", "to": "2026-09-30"}
    assert own_site.call("POST", "/w/shop/settings/declared", data=goal).status_code == 303
    row = own_site.call("GET", "/api/v1/portfolio", "viewer").json()["rows"][0]
    assert row["spend"] == pytest.approx(spend, rel=1e-9)
    # Spent half the budget by the end of the period: under pace. A full ROI of 10,000% is out of reach.
    assert row["pacing"] == "under" and row["budgets"] == 1
    assert row["goals_total"] == 1 and row["goals_on_track"] == 0
    assert row["roi_goal"]["target"] == 100 and row["roi_goal"]["status"] == "off_track"
    assert row["last_import"] is not None and row["open_alerts"] == 0
    page = own_site.call("GET", "/", "viewer").text
    assert 'class="badge under"' in page and "0 / 1" in page
    overview = own_site.call("GET", "/w/shop/", "viewer").text
    assert "q3: " in overview and "roi: Full ROI" in overview
    removed = own_site.call("POST", "/w/shop/settings/declared", data={**goal, "action": "remove"})
    assert removed.status_code == 303
    assert [e.action for e in entries(own_site.home.engine, limit=3)] == [
        "goal.remove",
        "goal.add",
        "budget.add",
    ]


def test_an_upload_loads_once_and_a_bad_file_names_file_row_and_column(
    own_site, web_workspaces, tmp_path
) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("date_day,currency,rate_to_base\n2026-07-01,CHF,1.05\n", encoding="utf-8")
    first = own_site.call("POST", "/w/shop/imports", files={"files": ("rates.csv", rates.read_bytes())})
    assert first.status_code == 200 and re.search(r"<td>rates.csv</td>.*?<td>loaded</td>", first.text, re.S)
    again = own_site.call("POST", "/w/shop/imports", files={"files": ("rates.csv", rates.read_bytes())})
    assert "skipped (already imported)" in again.text
    broken = tmp_path / "broken.csv"
    broken.write_text("date_day,currency,rate_to_base\n2026-07-02,CHF,1.O5\n", encoding="utf-8")
    bad = own_site.call("POST", "/w/shop/imports", files={"files": ("broken.csv", broken.read_bytes())})
    assert bad.status_code == 422
    error = re.search(r'<p class="error" role="alert">([^<]*)</p>', bad.text).group(1)
    assert "broken.csv" in error and "trueroi-upload" not in error
    exe = own_site.call("POST", "/w/shop/imports", files={"files": ("x.exe", b"MZ")})
    assert exe.status_code == 422 and "are not imported" in exe.text
    with Workspace.open(own_site.directory) as ws:
        files = [r.file for r in ws.imports().imports]
    assert sum(f.endswith("rates.csv") for f in files) == 1 and not any("broken" in f for f in files)


def test_the_overview_is_served_from_the_cache_until_the_workspace_changes(own_site, monkeypatch) -> None:
    calls = []
    import trueroi.server.dashboards as dashboards

    real = dashboards.kpis
    monkeypatch.setattr(dashboards, "kpis", lambda *a, **k: calls.append(k) or real(*a, **k))
    first = own_site.call("GET", "/w/shop/?period=2026-08", "viewer").text
    computed = len(calls)
    assert computed >= 2  # the channel table and the trend
    again = own_site.call("GET", "/w/shop/?period=2026-08", "viewer").text
    assert len(calls) == computed and "Spend" in again and "Spend" in first
    with Workspace.open(own_site.directory) as ws:
        add_goal(ws, "more", "revenue", 1.0, date(2026, 8, 1), date(2026, 8, 31))
        add_budget(ws, "aug", 10.0, date(2026, 8, 1), date(2026, 8, 31))
    changed = own_site.call("GET", "/w/shop/?period=2026-08", "viewer").text
    assert len(calls) > computed and "more: Revenue" in changed
    RESULTS.forget(own_site.directory)
