"""The mix-model section: ROI by channel and a budget recommendation from a fitted model (slow: fits one)."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest

from trueroi.report.management import DEFAULT_MODEL_DIR, build_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_dir(branded_shop, tmp_path_factory):
    """A quick Laplace fit of the workspace's weekly series (as `trueroi mmm fit --method laplace` does)."""
    from trueroi.mmm import MMM
    from trueroi.mmm.workspace_data import weekly_series

    df = weekly_series(branded_shop.ws)
    channels = [c for c in df.columns if c not in ("week", "revenue")]
    model = MMM(method="laplace", draws=100, seed=1).fit(df, date="week", target="revenue", channels=channels)
    out = tmp_path_factory.mktemp("mmm") / "model"
    model.save(out)
    return out


@pytest.fixture(scope="module")
def content(branded_shop, model_dir, case):
    return build_report(
        branded_shop.ws,
        "2026-Q3",
        client=case.client,
        model_dir=model_dir,
        attribution_models="last_click,linear",
        goals=[case.off_track],
        pacing=[],
        anomalies=[],
    )


def test_a_model_in_the_default_location_is_found(branded_shop, model_dir):
    import shutil

    from trueroi.report.management import _model_path, mmm_section

    ws = branded_shop.ws
    default = ws.path / DEFAULT_MODEL_DIR
    assert _model_path(ws, None) == default == ws.path / "models" / "mmm"
    assert mmm_section(default)["available"] is False
    shutil.copytree(model_dir, default)
    try:
        section = mmm_section(_model_path(ws, None))
    finally:
        shutil.rmtree(default)
    assert section["available"] and len(section["channels"]) == len(section["budget"]["rows"]) >= 5


def test_model_roi_and_budget_plan(content, model_dir):
    from trueroi.mmm import load_model

    mmm = content["mmm"]
    assert mmm["available"] and mmm["dir"] == str(model_dir)
    summary = load_model(model_dir).summary()["channels"]
    rate = content["margin"]["rate"]  # the model has no margin rate: the workspace's margin share is used
    assert mmm["margin_rate"] == rate and 0 < rate < 1
    for row in mmm["channels"]:
        s = summary[row["channel"]]
        assert row["roas"] == pytest.approx(s["roas"]["mean"])
        assert row["roas_lower"] <= row["roas"] <= row["roas_upper"]
        # ROI on margin, by hand: margin rate x ROAS - 1, bound by bound
        assert row["roi"] == pytest.approx(rate * s["roas"]["mean"] - 1)
        assert row["roi_lower"] == pytest.approx(rate * s["roas"]["lower"] - 1)
        assert row["contribution"] == pytest.approx(s["contribution"]["mean"])
    # hand: the plan keeps the current weekly total = mean weekly spend of the last 8 fitted weeks
    data = pd.read_csv(model_dir / "data.csv")
    channels = [r["channel"] for r in mmm["channels"]]
    current_total = data[channels].tail(8).sum(axis=1).mean()
    plan = mmm["budget"]
    assert plan["weekly_total"] == pytest.approx(current_total, rel=1e-9)
    assert sum(r["current"] for r in plan["rows"]) == pytest.approx(current_total, rel=1e-9)
    assert sum(r["recommended"] for r in plan["rows"]) == pytest.approx(current_total, rel=1e-6)
    assert any(
        s["source"] == "mmm" and s["text"].startswith("Reallocating the same weekly budget of")
        for s in content["next_steps"] + content["next_steps_appendix"]
    )


def test_model_charts_in_html_and_pdf(content, tmp_path, browser):
    from trueroi.report.management_html import write_management_html
    from trueroi.report.pdf import write_management_pdf

    page = write_management_html(tmp_path / "r.html", content)
    seen = browser(page)
    for key in ("mmm", "budget"):
        block = seen.dom.split(f'data-chart="{key}">', 1)[1].split('<div class="chart"', 1)[0]
        assert 'class="main-svg"' in block, key
    assert seen.console == [] and seen.requests == []
    pdf = write_management_pdf(tmp_path / "r.pdf", content)
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    images = [line for line in listing.splitlines()[2:] if line.split()[2] == "image"]
    assert len(images) == 1 + 5  # the logo; goals, ROI, attribution, mix-model ROI, budget charts
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Mix model and budget recommendation" in text and "Budget recommendation" in text
