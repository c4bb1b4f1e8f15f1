"""The report's content: figures equal what the library returns for the period; next steps from them."""

from __future__ import annotations

import json
from datetime import date

import pytest

from trueroi.errors import ConfigError, UsageError
from trueroi.metrics import kpi_report
from trueroi.report.management import build_report, next_steps

Q3 = (date(2026, 7, 1), date(2026, 9, 30))


def test_period_client_and_branding(report_content, case):
    assert report_content["period"] == {"label": "2026-Q3", "from": "2026-07-01", "to": "2026-09-30"}
    client = report_content["client"]
    assert client["name"] == "Acme Shoes GmbH"
    assert (client["primary_color"], client["accent_color"]) == ("#7a1f5c", "#2a9d8f")
    assert client["logo"].endswith("brand/acme.png")
    assert report_content["currency"] == "EUR"


def test_headline_kpis_equal_a_direct_kpi_report(report_content, branded_shop):
    """Independent path: totals of kpi_report without a breakdown (the report uses by=channel's totals)."""
    direct = kpi_report(branded_shop.ws, start=Q3[0], end=Q3[1], compare="yoy")
    assert (str(direct.compare_period.start), str(direct.compare_period.end)) == ("2025-07-01", "2025-09-30")
    assert report_content["kpis"]["compare"] == {"mode": "yoy", "from": "2025-07-01", "to": "2025-09-30"}
    rows = {r["kpi"]: r for r in report_content["kpis"]["rows"]}
    # the blended ROAS (all revenue / media spend) is shown as MER, beside the paid-media ROAS and CPA
    assert "roas" not in rows and direct.totals["mer"] == pytest.approx(direct.totals["roas"])
    kpis = ("revenue", "margin", "spend", "conversions", "paid_roas", "mer", "paid_cpa", "cpa", "media_roi")
    for name in (*kpis, "full_roi"):
        assert rows[name]["value"] == pytest.approx(direct.totals[name], rel=1e-9), name
        assert rows[name]["previous"] == pytest.approx(direct.totals[f"{name}_prev"], rel=1e-9), name
    # percent change for money and counts, percentage points for ROI
    assert rows["revenue"]["change_pct"] == pytest.approx(
        direct.totals["revenue"] / direct.totals["revenue_prev"] - 1, rel=1e-9
    )
    assert rows["media_roi"]["change_pct"] == pytest.approx(
        direct.totals["media_roi"] - direct.totals["media_roi_prev"], rel=1e-9
    )
    # each labelled by what it divides; paid revenue leaves organic, direct, e-mail and unattributed out
    assert rows["paid_roas"]["label"].startswith("Paid-media ROAS") and "blended" in rows["mer"]["label"]
    assert rows["paid_cpa"]["label"].startswith("Paid-media CPA") and "Blended" in rows["cpa"]["label"]
    channels = report_content["channels"]["rows"]
    paid_revenue = sum(r["revenue"] for r in channels if r["spend"] > 0)
    spend = sum(r["spend"] for r in channels)
    assert rows["paid_roas"]["value"] == pytest.approx(paid_revenue / spend, rel=1e-9)
    assert rows["paid_roas"]["value"] < rows["mer"]["value"]
    # the margin rate that turns incremental revenue into margin: the period's margin / revenue (all sales)
    rate = report_content["margin"]["rate"]
    assert rate == pytest.approx(rows["margin"]["value"] / rows["revenue"]["value"], rel=1e-9)


def test_media_and_full_roi_by_channel_equal_kpi_report(report_content, branded_shop):
    direct = kpi_report(branded_shop.ws, by="channel", start=Q3[0], end=Q3[1])
    expected = direct.rows.set_index("channel")
    rows = report_content["channels"]["rows"]
    assert {r["channel"] for r in rows} == set(expected.index)
    for r in rows:
        e = expected.loc[r["channel"]]
        assert r["spend"] == pytest.approx(e["spend"], rel=1e-9)
        for key in ("media_roi", "full_roi", "roas"):
            if r[key] is None:
                assert e[key] != e[key]  # NaN in the library, null in the report
            else:
                assert r[key] == pytest.approx(e[key], rel=1e-9), (r["channel"], key)
    # hand check of the definitions on one paid channel: (margin - spend) / spend
    paid = next(r for r in rows if r["spend"] > 0)
    assert paid["media_roi"] == pytest.approx((paid["margin"] - paid["spend"]) / paid["spend"])
    assert paid["roas"] == pytest.approx(paid["revenue"] / paid["spend"])


def test_attribution_models_credit_the_same_totals(report_content):
    a = report_content["attribution"]
    assert (
        a["available"] and len(a["models"]) >= 5 and {"last_click", "markov", "shapley"} <= set(a["models"])
    )
    for model in a["models"]:
        assert sum(a["conversions"][model].values()) == pytest.approx(a["total_conversions"], rel=1e-6)
        assert sum(a["value"][model].values()) == pytest.approx(a["total_value"], rel=1e-6)
    spend = {r["channel"]: r["spend"] for r in report_content["channels"]["rows"]}
    for ch, roas in a["roas"]["linear"].items():
        if roas is not None:
            assert roas == pytest.approx(a["value"]["linear"][ch] / spend[ch])


def test_sections_without_a_model_say_how_to_get_one(report_content):
    mmm = report_content["mmm"]
    assert mmm["available"] is False
    assert "Fit a mix model into this folder" in mmm["message"] and mmm["dir"].endswith("models/mmm")
    steps = report_content["next_steps"] + report_content["next_steps_appendix"]
    assert any(s["source"] == "mmm" and "Fit a mix model" in s["text"] for s in steps)


def test_content_is_plain_json(report_content):
    text = json.dumps(report_content, allow_nan=False)
    assert json.loads(text)["period"]["label"] == "2026-Q3"


def test_next_steps_name_the_off_track_goal_first(report_content, case):
    assert len(report_content["next_steps"]) == 5  # the management list; the rest is in the appendix
    steps = report_content["next_steps"] + report_content["next_steps_appendix"]
    goal_steps = [s for s in steps if s["source"] == "goals"]
    assert len(goal_steps) == 1  # the on-track goal needs no action
    assert steps[0] == goal_steps[0] and steps[0]["priority"] == "high"
    text = steps[0]["text"]
    assert text.startswith("Goal Newsletter push Q3 is off track")
    assert "280 against a target of 1,000 (28.0% reached)" in text
    assert steps[0]["evidence"]["level"] == "observed" and steps[0]["evidence"]["figures"]["target"] == 1000
    assert {
        "text": "Budget Q3 media is underspending: 2,489 of 3,000 EUR spent, heading for 2,489 EUR by "
        "2026-09-30.",
        "source": "pacing",
        "priority": "high",
    } in [{k: s[k] for k in ("text", "source", "priority")} for s in steps]
    assert (
        "Anomaly: cpa went up (channel Shopping) on 2026-08-14: 30.00 against an expected 10.00 "
        "(score 6.00). Check what changed that day."
    ) in [s["text"] for s in steps]


def test_channel_steps_rest_on_the_most_credible_evidence(report_content):
    """No mix model and no lift test here: Markov attribution (data-driven) outranks last click."""
    content = report_content
    steps = content["next_steps"] + content["next_steps_appendix"]
    a = content["attribution"]
    margin = {r["channel"]: r["margin"] / r["revenue"] for r in content["channels"]["rows"] if r["revenue"]}
    # media ROI on margin under Markov, by hand: Markov revenue / spend x the channel's margin share - 1
    markov = {
        ch: a["value"]["markov"][ch] / s * margin[ch] - 1 for ch, s in a["spend"].items() if ch in margin
    }
    losing = [ch for ch, roi in markov.items() if roi < 0]
    assert losing  # the demo shop has channels that do not pay back their media spend
    by_channel = {}
    for s in steps:
        ch = s["evidence"].get("channel")
        if s["evidence"].get("action") in ("raise", "cut", "keep", "review_costs"):
            assert ch not in by_channel, f"two recommendations for {ch}"
            by_channel[ch] = s
    for ch in losing:
        s = by_channel[ch]
        assert s["text"].startswith(f"Cut or fix {ch}") and s["source"] == "attribution"
        assert s["evidence"]["level"] == "data_driven_attribution"
        assert s["evidence"]["figures"]["media_roi"] == pytest.approx(markov[ch], rel=1e-9)
        assert "test its incrementality" in s["text"]  # attribution alone: test before cutting
    assert not any(s["evidence"].get("action") == "raise" for s in steps)  # attribution never says raise
    for s in steps:
        assert s["evidence"]["level"] and s["evidence"]["label"]


def _content(channels, goals=(), findings=(), anomalies=()):
    """The smallest content next_steps reads."""
    return {
        "currency": "EUR",
        "goals": {"rows": list(goals)},
        "pacing": {"rows": []},
        "channels": {"rows": channels},
        "kpis": {"rows": []},
        "attribution": {"available": False},
        "mmm": {"available": False, "message": "No fitted mix model found at ws/models/mmm."},
        "quality": {"findings": list(findings)},
        "anomalies": {"rows": list(anomalies)},
    }


def test_next_steps_by_hand():
    # Paid Social: spend 1,000, revenue 2,100, margin 650 -> ROAS 2.1, media ROI (650 - 1000) / 1000 = -35%.
    # Video: margin 1,200 on spend 1,000 -> media ROI +20%; other costs 400 -> full ROI (1200-1400)/1400 < 0.
    # Search: margin 3,000 on spend 1,000 -> media ROI +200%, full ROI (3000-1100)/1100 > 0: no action.
    channels = [
        {
            "channel": "Paid Social",
            "spend": 1000.0,
            "roas": 2100 / 1000,
            "media_roi": (650 - 1000) / 1000,
            "full_roi": (650 - 1300) / 1300,
        },
        {
            "channel": "Video",
            "spend": 1000.0,
            "roas": 3.0,
            "media_roi": (1200 - 1000) / 1000,
            "full_roi": (1200 - 1400) / 1400,
        },
        {
            "channel": "Search",
            "spend": 1000.0,
            "roas": 8.0,
            "media_roi": 2.0,
            "full_roi": (3000 - 1100) / 1100,
        },
        {"channel": "Direct", "spend": 0.0, "roas": None, "media_roi": None, "full_roi": None},
    ]
    finding = {
        "code": "days_without_tracking",
        "severity": "high",
        "title": "3 days with orders but no touchpoint",
        "count": 3,
        "detail": "2026-08-01, 2026-08-02, 2026-08-03",
    }
    steps = next_steps(_content(channels, findings=[finding]))
    texts = [s["text"] for s in steps]
    assert (
        "Cut or fix Paid Social (targeting, bids, landing pages): under last_non_direct_click attribution it "
        "returns a media ROI of -35.0% on margin (ROAS 2.10). Attribution credits the touches that closed "
        "orders, not what the channel adds: test its incrementality (lift or geo test) before cutting the "
        "budget."
    ) in texts
    assert any(
        t.startswith(
            "Channel Video pays back its media spend (media ROI 20.0%) but not its full cost "
            "(full ROI -14.3%)"
        )
        for t in texts
    )
    assert not any("Search" in t or "Direct" in t for t in texts)
    assert any(t.startswith("Tracking gap: 3 days with orders but no touchpoint.") for t in texts)
    assert [s["priority"] for s in steps] == sorted(
        (s["priority"] for s in steps), key=["high", "medium", "low"].index
    )
    assert {s["source"] for s in steps} == {"channels", "quality", "mmm"}


def _lift_row(**over):
    row = {
        "experiment_id": "x1",
        "name": "PS holdout",
        "kind": "holdout",
        "channel": "Paid Social",
        "kpi": "revenue",
        "start": "2026-07-01",
        "end": "2026-07-28",
        "delta_spend": 1000.0,
        "lift": 5000.0,
        "lift_lower": 4000.0,
        "lift_upper": 6000.0,
        "level": 0.9,
        "p_value": 0.001,
        "iroas": 5.0,
        "usable": True,
        "used": True,
    }
    return {**row, **over}


@pytest.mark.parametrize(
    "test_row",
    [
        _lift_row(),
        # a holdout that removed 1,000 of spend and lost 5,000 of revenue says the same
        _lift_row(delta_spend=-1000.0, lift=-5000.0, lift_lower=-6000.0, lift_upper=-4000.0),
    ],
)
def test_a_lift_test_outranks_attribution_by_hand(test_row):
    # Paid Social under last click: margin 650 on revenue 2,100 (margin share 650 / 2,100), media ROI -35%.
    # The holdout test: 1,000 of spend bought 5,000 of revenue (interval 4,000 to 6,000): iROAS 5.0 and ROI
    # on margin 650 / 2,100 x 5 - 1 = 54.8% (23.8% to 85.7%): it pays, so raise it; last click's "cut" loses.
    channels = [
        {
            "channel": "Paid Social",
            "spend": 1000.0,
            "revenue": 2100.0,
            "margin": 650.0,
            "roas": 2.1,
            "media_roi": -0.35,
            "full_roi": -0.5,
        }
    ]
    content = {**_content(channels), "experiments": {"rows": [test_row]}}
    steps = next_steps(content)
    (s,) = [s for s in steps if s["evidence"].get("channel") == "Paid Social"]  # one step for the channel
    share = 650 / 2100
    assert (s["source"], s["priority"]) == ("experiments", "high")
    assert (s["evidence"]["level"], s["evidence"]["action"]) == ("lift_test", "raise")
    figures = s["evidence"]["figures"]
    assert figures["iroas"] == pytest.approx(5.0)
    assert figures["roi"] == pytest.approx(share * 5 - 1)
    assert (figures["roi_lower"], figures["roi_upper"]) == pytest.approx((share * 4 - 1, share * 6 - 1))
    assert s["text"].startswith(
        "Raise Paid Social step by step: a holdout test (PS holdout, 2026-07-01 to 2026-07-28) measured "
        "5,000 incremental revenue for 1,000 of spend: iROAS 5.00, ROI on margin 54.8% (23.8% to 85.7%)."
    )
    assert "rule-based attribution points to cutting it" in s["text"]
    assert [d["level"] for d in s["evidence"]["disagreeing"]] == ["attribution"]


def test_an_at_risk_goal_is_a_medium_step():
    goal = {
        "name": "Leads",
        "kpi": "leads",
        "target": 200.0,
        "actual": 90.0,
        "progress": 0.45,
        "expected": 180.0,
        "expected_lower": 150.0,
        "expected_upper": 210.0,
        "status": "at_risk",
        "days_elapsed": 15,
        "days_total": 30,
        "to": "2026-09-30",
    }
    steps = next_steps(_content([], goals=[goal]))
    assert steps[0]["priority"] == "medium"
    assert steps[0]["text"].startswith("Goal Leads is at risk: leads stands at 90 against a target of 200")


def test_unknown_client_fails_before_any_work(branded_shop):
    with pytest.raises(ConfigError, match="client 'nobody' has no \\[clients.nobody\\] branding"):
        build_report(branded_shop.ws, "2026-Q3", client="nobody")


@pytest.mark.parametrize("period", ["2026-Q5", "last quarter", "2026-09-30..2026-07-01"])
def test_bad_period_is_a_usage_error(branded_shop, period):
    with pytest.raises(UsageError):
        build_report(branded_shop.ws, period)


def test_a_given_model_dir_must_hold_a_model(branded_shop, tmp_path):
    with pytest.raises(UsageError, match="holds no fitted mix model"):
        build_report(branded_shop.ws, "2026-07", model_dir=tmp_path, goals=[], pacing=[], anomalies=[])


def test_declared_goal_and_budget_from_the_goals_api(branded_shop, report_content):
    """A goal of 100,000 orders in Q3 (the shop makes hundreds) is off track; 10,000 budget underspent."""
    from trueroi import goals

    ws = branded_shop.ws
    goals.save_goal(ws, goals.make_goal("Q3 orders push", "conversions", 100000, *Q3))
    goals.save_budget(ws, goals.make_budget("Q3 media", 10000, *Q3))
    try:
        content = build_report(ws, "2026-Q3", attribution_models="last_click", anomalies=[])
    finally:
        goals.remove_goal(ws, "Q3 orders push")
        goals.remove_budget(ws, "Q3 media")
    kpis = {r["kpi"]: r["value"] for r in report_content["kpis"]["rows"]}  # equal to kpi_report (test above)
    (goal,) = content["goals"]["rows"]
    assert goal["status"] == "off_track" and goal["actual"] == pytest.approx(kpis["conversions"])
    (budget,) = content["pacing"]["rows"]
    assert budget["status"] == "under" and budget["spend_to_date"] == pytest.approx(kpis["spend"])
    first = content["next_steps"][0]
    assert first["source"] == "goals" and first["text"].startswith("Goal Q3 orders push is off track")
    spent = f"{kpis['spend']:,.0f}"
    assert any(
        s["text"].startswith(f"Budget Q3 media is underspending: {spent} of 10,000 EUR spent")
        for s in content["next_steps"]
    )


def test_a_missing_logo_is_a_config_error(branded_shop):
    from trueroi.workspace.config import Branding

    ws = branded_shop.ws
    ws.config.clients["ghost"] = Branding(name="Ghost Ltd", logo="brand/ghost.png")
    try:
        with pytest.raises(ConfigError, match="branding logo 'brand/ghost.png' of ghost not found"):
            build_report(ws, "2026-Q3", client="ghost")
    finally:
        del ws.config.clients["ghost"]


def test_a_period_without_data_says_so_and_still_renders(branded_shop, tmp_path):
    from trueroi.report.management_html import management_html
    from trueroi.report.pdf import write_management_pdf

    content = build_report(branded_shop.ws, "2023", goals=[], pacing=[], anomalies=[])
    # the demo shop's data starts on 2024-10-01 and ends on 2026-09-30 (the generator's two years)
    assert content["kpis"]["message"] == (
        "No ads or orders in this period; the data covers 2024-10-01 to 2026-09-30."
    )
    assert content["channels"]["rows"] == [] and content["attribution"]["available"] is False
    assert "No ads or orders in this period" in management_html(content)
    assert write_management_pdf(tmp_path / "empty.pdf", content).stat().st_size > 1000


def test_an_unknown_attribution_model_fails_before_any_work(branded_shop):
    with pytest.raises(UsageError, match="unknown attribution model 'nope'"):
        build_report(branded_shop.ws, "2026-Q3", attribution_models="last_click,nope")
