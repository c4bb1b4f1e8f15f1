"""The HTML report in headless Chromium: charts rendered by plotly, no console output, no external request."""

from __future__ import annotations

import re

import pytest

from trueroi.report.charts import cell
from trueroi.report.management_html import management_html, write_management_html


@pytest.fixture(scope="module")
def page(report_content, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "report.html"
    write_management_html(path, report_content)
    return path


def _chart_blocks(dom: str) -> dict[str, str]:
    """The DOM of each chart container, by its data-chart key."""
    parts = re.split(r'<div class="chart" data-chart="([a-z_]+)">', dom)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_charts_render_offline_without_console_errors(page, browser):
    seen = browser(page)
    assert seen.returncode == 0
    blocks = _chart_blocks(seen.dom)
    assert set(blocks) == {"goals", "roi", "attribution"}
    for key, block in blocks.items():
        # plotly draws into <svg class="main-svg"> only once its script ran in the browser
        assert 'class="main-svg"' in block.split('<div class="chart"')[0], key
        assert '<g class="trace bars"' in block or 'class="bars"' in block, key
    assert seen.console == []  # no console message at all (errors, warnings or logs)
    assert seen.requests == [], seen.requests  # the page asked the network for nothing


def test_the_browser_check_catches_external_requests_and_console_errors(tmp_path, browser):
    """Control: the same check flags a page that loads a web font, an image and calls a missing function."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
        '</head><body><img src="http://127.0.0.1:9/x.png"><script>missingFunction();</script></body></html>'
    )
    seen = browser(bad, budget_ms=1500)
    urls = [u for _, u in seen.requests]
    assert "https://fonts.googleapis.com/css?family=Roboto" in urls and "http://127.0.0.1:9/x.png" in urls
    assert any("missingFunction is not defined" in line for line in seen.console)


def test_no_external_url_in_the_markup(page):
    """Our markup points nowhere off the file (scripts aside: plotly.js holds links it never fetches)."""
    text = re.sub(r"<script\b.*?</script>", "", page.read_text(encoding="utf-8"), flags=re.S)
    assert "<img" in text and "<table" in text
    fetched = re.findall(r'(?:src|href)\s*=\s*["\'](?!data:|#)([^"\']+)', text)
    assert fetched == []
    assert not re.search(r"url\(\s*['\"]?https?:", text)


def test_branding_name_colours_and_logo(page, case):
    text = page.read_text(encoding="utf-8")
    assert "--primary:#7a1f5c;--accent:#2a9d8f" in text
    assert '<div class="client">Acme Shoes GmbH</div>' in text
    assert re.search(
        r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}" alt="Acme Shoes GmbH logo">', text
    )
    assert "<title>Acme Shoes GmbH: Marketing performance 2026-Q3</title>" in text


def test_tables_show_the_report_figures(page, report_content):
    text = page.read_text(encoding="utf-8")
    rows = {r["kpi"]: r for r in report_content["kpis"]["rows"]}
    # the figures test_management checks against kpi_report, formatted as in trueroi.report.html.fmt
    assert f'<td class="num">{rows["revenue"]["value"]:,.0f}</td>' in text
    assert f'<td class="num">{rows["paid_roas"]["value"]:,.2f}</td>' in text
    assert f'<td class="num">{rows["mer"]["value"]:,.2f}</td>' in text
    assert "Paid-media ROAS" in text and "MER, blended ROAS" in text
    shopping = next(r for r in report_content["channels"]["rows"] if r["channel"] == "Shopping")
    assert f"{shopping['media_roi'] * 100:,.1f}%" in text
    assert "Goal Newsletter push Q3 is off track" in text
    assert cell(None, "money") == "–"


def test_a_client_name_is_escaped(report_content):
    content = {
        **report_content,
        "client": {**report_content["client"], "name": "<b>Evil & Co</b>", "logo": None},
    }
    text = management_html(content)
    assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in text and "<b>Evil" not in text
