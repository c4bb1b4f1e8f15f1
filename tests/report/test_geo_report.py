"""The geo mix model's HTML report in headless Chromium: every chart drawn, no console output, no request."""

from __future__ import annotations

from trueroi.mmm.geo import GeoMMM
from trueroi.mmm.geo_report import write_geo_report
from trueroi.mmm.simulate import simulate_geo


def test_geo_report_renders_offline(tmp_path, browser):
    panel = simulate_geo(seed=3, n_geos=3, n_periods=30, n_channels=2)
    model = GeoMMM(saturation="logistic", method="laplace", draws=60, seed=0, holdout_periods=4)
    model.fit(panel.df, date="week", geo="geo", target="revenue", channels=panel.channels)
    page = write_geo_report(model, tmp_path / "geo.html")
    seen = browser(page)
    assert seen.returncode == 0
    # plotly draws into <svg class="main-svg"> only once its script ran: one per chart
    assert seen.dom.count('class="main-svg"') >= 3
    assert "holdout_mape" in seen.dom
    assert seen.console == []
    assert seen.requests == [], seen.requests
