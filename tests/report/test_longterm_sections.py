"""The report's short-term vs long-term ROI and lagged-channels sections (trueroi.report.longterm_sections):
values against the model's summary and geometric carry-over shares by hand; present only with a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trueroi.mmm import results as R
from trueroi.report.longterm_sections import longterm_content, longterm_sections

RATE = 0.5
WEEKS_PER_MONTH = 365.25 / 12 / 7


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):
    from trueroi.mmm import MMM
    from trueroi.mmm.simulate import simulate

    sim = simulate(seed=4, n_periods=70)
    fitted = MMM(method="laplace", draws=200, seed=0).fit(
        sim.df, date="week", target="revenue", channels=sim.channels, controls=sim.controls
    )
    out = fitted.save(tmp_path_factory.mktemp("longterm") / "model")
    return fitted, out


def test_short_vs_long_term_rows(model) -> None:
    fitted, path = model
    content = longterm_content(path, {"rate": RATE, "source": "test"})
    assert content is not None and content["basis"] == "margin"
    summary = fitted.summary()["channels"]  # fitted without a margin rate: ROAS only
    alpha = fitted.posterior_["adstock_alpha"].reshape(-1, len(fitted.data_.channels))
    hand_lagged = []
    for i, row in enumerate(content["rows"]):
        c = row["channel"]
        assert c == fitted.data_.channels[i]
        long_run = R.on_margin(summary[c]["roas"], RATE)  # 0.5 x ROAS - 1, bound by bound
        assert row["roi_long_run"] == pytest.approx(long_run["mean"], rel=1e-6)
        assert row["roi_long_run_lower"] == pytest.approx(long_run["lower"], rel=1e-6)
        # geometric carry-over, l_max 8: 4 whole weeks plus 0.348 of the fifth week's weight in month 1
        a = alpha[:, i]
        share = ((1 - a**4) + (WEEKS_PER_MONTH - 4) * a**4 * (1 - a)) / (1 - a**8)
        assert row["share_1m"] == pytest.approx(share.mean(), rel=1e-6)
        assert row["roi_1m"] <= row["roi_3m"] <= row["roi_12m"] + 1e-12
        assert row["roi_12m"] == pytest.approx(row["roi_long_run"], rel=1e-6)  # 12 months > l_max = 8 weeks
        if share.mean() < 0.5:
            hand_lagged.append(c)
    assert [r["channel"] for r in content["lagged"]] == hand_lagged


def test_sections_present_only_with_a_model(model, tmp_path: Path) -> None:
    _, path = model
    assert longterm_content(tmp_path) is None  # no config.json there: no key, no section
    assert longterm_sections({}, {}) == []
    lt = longterm_content(path, {"rate": RATE})
    sections = longterm_sections({"longterm": lt}, {})
    assert [s.key for s in sections] == ["longterm", "lagged_channels"]
    assert len(sections[0].tables[0].cells) == len(lt["rows"])
    assert "1 month" in sections[0].tables[0].header and "Long run" in sections[0].tables[0].header
    lagged = sections[1]
    assert bool(lagged.tables) == bool(lt["lagged"]) and bool(lagged.message) != bool(lt["lagged"])
    none_lagged = longterm_sections({"longterm": {**lt, "lagged": []}}, {})[1]
    assert none_lagged.tables == [] and "No channel" in none_lagged.message


def test_basis_roas_without_any_margin_rate(model) -> None:
    _, path = model
    content = longterm_content(path)
    assert content["basis"] == "roas"
    assert all(np.isfinite(r["roi_long_run"]) and r["roi_long_run"] > 0 for r in content["rows"])


@pytest.mark.slow
def test_whole_report_with_and_without_a_model(model, branded_shop, report_content) -> None:
    from trueroi.report.charts import sections
    from trueroi.report.management import build_report
    from trueroi.report.management_html import management_html

    assert "longterm" not in report_content  # no model in the default folder: other reports unchanged
    assert not [s for s in sections(report_content) if s.key in ("longterm", "lagged_channels")]
    _, path = model
    content = build_report(
        branded_shop.ws,
        "2026-Q3",
        model_dir=path,
        attribution_models="last_click",
        goals=[],
        pacing=[],
        anomalies=[],
    )
    assert [r["channel"] for r in content["longterm"]["rows"]] == [
        r["channel"] for r in content["mmm"]["channels"]
    ]
    keys = [s.key for s in sections(content)]
    assert keys[keys.index("mmm") + 1 : keys.index("mmm") + 3] == ["longterm", "lagged_channels"]
    page = management_html(content)
    assert "Short-term vs long-term ROI" in page and "Lagged channels" in page
