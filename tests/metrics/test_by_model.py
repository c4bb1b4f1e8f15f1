"""ROI by model and the conversion paths report, against hand computations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from trueroi.attribution import from_paths, from_touchpoints
from trueroi.attribution.report import paths_report
from trueroi.cli.main import build_app
from trueroi.metrics.by_model import roi_by_model, roi_spread

T = pd.Timestamp


@pytest.fixture
def roi_shop(workspace):
    """Spend: Search 50, Display 100 (EUR). Orders: o1 revenue 200, cogs 100 (margin 100) after
    Display > Search; o2 revenue 100, cogs 40 (margin 60) after Search."""
    day = T("2024-03-01").date()
    ads = pd.DataFrame(
        {
            "date_day": [day, day],
            "platform": ["google", "meta"],
            "campaign_id": ["s", "d"],
            "channel": ["Search", "Display"],
            "currency": ["EUR", "EUR"],
            "spend": [50.0, 100.0],
            "impressions": [1000, 5000],
            "clicks": [50, 40],
        }
    )
    tp = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2"],
            "ts": [T("2024-03-01 08:00"), T("2024-03-01 09:00"), T("2024-03-01 10:00")],
            "date_day": [day] * 3,
            "channel": ["Display", "Search", "Search"],
            "campaign": ["d", "s", "s"],
            "is_brand": [False] * 3,
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "user_id": ["u1", "u2"],
            "ts": [T("2024-03-01 12:00"), T("2024-03-01 13:00")],
            "date_day": [day, day],
            "currency": ["EUR", "EUR"],
            "revenue": [200.0, 100.0],
            "cogs": [100.0, 40.0],
            "status": ["paid", "paid"],
        }
    )
    for name, frame in (("ad_performance", ads), ("touchpoints", tp), ("orders", orders)):
        workspace.load({name: frame}, source_format="test", file_name=name, sha256=name)
    return workspace


def test_roi_by_model_by_hand(roi_shop):
    roi = roi_by_model(roi_shop, ["last_click", "linear", "first_click"]).set_index(["model", "channel"])
    # last click: Search closes both orders: revenue 300, margin 160 -> ROAS 300/50 = 6, ROI (160-50)/50 = 2.2
    assert roi.loc[("last_click", "Search"), "roas"] == pytest.approx(6.0)
    assert roi.loc[("last_click", "Search"), "media_roi"] == pytest.approx(2.2)
    assert roi.loc[("last_click", "Display"), "media_roi"] == pytest.approx(-1.0)
    # linear: o1 half each. Search revenue 100 + 100, margin 50 + 60 -> ROAS 4, ROI 1.2; Display 100 /
    # 50 -> ROAS 1,
    # ROI (50 - 100)/100 = -0.5
    assert roi.loc[("linear", "Search"), ["roas", "media_roi"]].tolist() == pytest.approx([4.0, 1.2])
    assert roi.loc[("linear", "Display"), ["roas", "media_roi"]].tolist() == pytest.approx([1.0, -0.5])
    # first click: Display opens o1: revenue 200, margin 100 -> ROAS 2, ROI 0
    assert roi.loc[("first_click", "Display"), ["roas", "media_roi"]].tolist() == pytest.approx([2.0, 0.0])
    # no other costs: full ROI equals media ROI
    assert roi.loc[("linear", "Search"), "full_roi"] == pytest.approx(1.2)
    spread = roi_spread(roi.reset_index()).set_index("channel")
    # Display pays back under first click (ROI 0) but not under last click (-1): the model decides
    assert bool(spread.loc["Display", "decision_changes"]) is True
    assert spread.loc["Display", "model_roi_min"] == "last_click"
    assert spread.loc["Display", "model_roi_max"] == "first_click"
    assert bool(spread.loc["Search", "decision_changes"]) is False
    assert spread.loc["Search", "roas_spread"] == pytest.approx(6.0 - 2.0)


@pytest.mark.slow
def test_cli_roi_view_json(roi_shop):
    res = CliRunner().invoke(
        build_app(),
        [
            "attribution",
            "-w",
            str(roi_shop.path),
            "-m",
            "last_click,first_click",
            "--view",
            "roi",
            "-f",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = {(r["model"], r["channel"]): r for r in data["roi"]}
    assert rows[("first_click", "Search")]["roas"] == pytest.approx(2.0)


def test_paths_report_by_hand():
    """Paths "a > b > a" 2 conv (value 20) 1 null, "b" 1 conv (5), "a > c" 3 nulls.

    Roles: a opens 2, closes 2 (it is last on "a > b > a"), assists 0; b opens 1 ("b"), assists 2, closes 1;
    c is on no converting path. Lengths: 1 touch 1 conversion, 3 touches 2 conversions, 2 touches 3 nulls.
    """
    report = paths_report(from_paths(["a > b > a", "b", "a > c"], [2, 1, 0], [20, 5, 0], [1, 0, 3]))
    roles = report.channel_roles.set_index("channel")
    assert roles.loc["a", ["opened", "assisted", "closed"]].tolist() == [2, 0, 2]
    assert roles.loc["b", ["opened", "assisted", "closed"]].tolist() == [1, 2, 1]
    assert roles.loc["b", "assist_ratio"] == 2.0
    assert roles.loc["c", ["opened", "assisted", "closed"]].tolist() == [0, 0, 0]
    assert report.top_paths["path"].tolist() == ["a > b > a", "b", "a > c"]
    assert report.top_paths["conversion_rate"].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    lengths = report.path_lengths.set_index("touches")
    assert lengths["conversions"].to_dict() == {1: 1, 2: 0, 3: 2}
    assert lengths["nulls"].to_dict() == {1: 0, 2: 3, 3: 1}
    assert report.time_to_conversion is None


def test_time_to_conversion_buckets():
    # first touches 0.5, 1.5, 3, 10 and 40 days before their conversions
    rows = []
    for u, days in enumerate([0.5, 1.5, 3, 10, 40]):
        rows += [
            {
                "user_id": f"u{u}",
                "ts": T("2024-05-01") - pd.Timedelta(days=days),
                "channel": "Search",
                "conversion": 0,
                "value": 0,
            },
            {"user_id": f"u{u}", "ts": T("2024-05-01"), "channel": "Email", "conversion": 1, "value": 10},
        ]
    report = paths_report(from_touchpoints(pd.DataFrame(rows)))
    ttc = report.time_to_conversion.set_index("days")["conversions"]
    assert ttc.to_dict() == {
        "same day": 1,
        "1 day": 1,
        "2-3 days": 1,
        "4-7 days": 0,
        "8-14 days": 1,
        "15-30 days": 0,
        "31+ days": 1,
    }
    assert np.isclose(report.time_to_conversion["share_of_conversions"].sum(), 1.0)
