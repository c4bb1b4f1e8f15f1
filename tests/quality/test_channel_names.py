"""Channel names that only one table uses: a ledger's "Shopping" beside the platforms' "Paid Shopping" would
silently become a channel of its own, with costs and no spend or revenue."""

from __future__ import annotations

import logging
from datetime import date, datetime

import pandas as pd

from trueroi.ingest import import_file
from trueroi.quality import findings


def _load(ws, table: str, rows: list[dict], sha: str) -> None:
    ws.load({table: pd.DataFrame(rows)}, source_format="test", file_name=f"{sha}.csv", sha256=sha)


def _ad(channel: str) -> dict:
    return {
        "date_day": date(2025, 1, 1),
        "platform": "google_ads",
        "campaign_id": channel,
        "channel": channel,
        "currency": "EUR",
        "spend": 10.0,
        "impressions": 100,
        "clicks": 5,
    }


def _touch(i: int, channel: str) -> dict:
    ts = datetime(2025, 1, 1, 10)
    return {"touch_id": f"t{i}", "user_id": f"u{i}", "ts": ts, "date_day": ts.date(), "channel": channel}


def _cost(channel: str | None) -> dict:
    return {
        "period_start": date(2025, 1, 1),
        "period_end": date(2025, 1, 31),
        "category": "agency_fee",
        "amount": 100.0,
        "currency": "EUR",
        "channel": channel,
    }


def test_a_ledger_channel_no_other_table_knows_is_a_finding(workspace) -> None:
    _load(workspace, "ad_performance", [_ad("Paid Shopping"), _ad("Paid Search")], "a")
    touches = [_touch(1, "Paid Shopping"), _touch(2, "Paid Search"), _touch(3, "Direct")]
    _load(workspace, "touchpoints", touches, "t")
    _load(workspace, "costs", [_cost("Shopping"), _cost("Paid Search"), _cost(None)], "c")
    found = {f.code: f for f in findings(workspace)}
    unmatched = found["channel_unmatched"]
    assert unmatched.count == 1 and unmatched.severity == "medium"
    assert unmatched.examples == ["costs: 'Shopping' (did you mean 'Paid Shopping'?)"]
    assert "Shopping" in unmatched.title or "1 channel" in unmatched.title


def test_channels_shared_by_tables_are_no_finding(workspace) -> None:
    _load(workspace, "ad_performance", [_ad("Paid Search")], "a")
    _load(workspace, "touchpoints", [_touch(1, "Paid Search"), _touch(2, "Organic Search")], "t")
    _load(workspace, "costs", [_cost("Paid Search")], "c")
    assert "channel_unmatched" not in {f.code for f in findings(workspace)}


def test_an_ad_channel_with_no_sessions_or_costs_is_a_low_finding(workspace) -> None:
    _load(workspace, "ad_performance", [_ad("Paid Search"), _ad("Paid Vido")], "a")
    _load(workspace, "touchpoints", [_touch(1, "Paid Search"), _touch(2, "Paid Video")], "t")
    unmatched = {f.code: f for f in findings(workspace)}["channel_unmatched"]
    assert unmatched.severity == "low"
    assert unmatched.examples == ["ad_performance: 'Paid Vido' (did you mean 'Paid Video'?)"]


def test_import_warns_about_a_channel_nobody_knows(workspace, tmp_path, caplog) -> None:
    path = tmp_path / "costs.csv"
    path.write_text(
        "period_start,period_end,category,amount,currency,channel\n"
        "2025-01-01,2025-01-31,agency_fee,100,EUR,Shopping\n2025-01-01,2025-01-31,tools,50,EUR,Paid Search\n"
    )
    with caplog.at_level(logging.WARNING, logger="trueroi.ingest"):
        import_file(workspace, "costs", path)
    assert "costs.csv: channel 'Shopping'" in caplog.text and "did you mean 'Paid Shopping'" in caplog.text
    assert "'Paid Search'" not in caplog.text
    assert workspace.row_count("costs") == 2  # a warning, not an error
