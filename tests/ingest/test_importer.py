"""import_files: what a batch reports, warnings included, checked against the workspace's own channels."""

from __future__ import annotations

from datetime import date

import pandas as pd

from trueroi.ingest import import_files


def _ads(ws, channel: str) -> None:
    row = {
        "date_day": date(2025, 1, 1),
        "platform": "google_ads",
        "campaign_id": "c1",
        "channel": channel,
        "currency": "EUR",
        "spend": 10.0,
    }
    ws.load({"ad_performance": pd.DataFrame([row])}, source_format="test", file_name="a.csv", sha256="a")


def _ledger(path, channel: str):
    path.write_text(f"date,category,amount,currency,channel\n2025-01-15,agency_fee,100,EUR,{channel}\n")
    return path


def test_a_ledger_channel_the_workspace_uses_is_known_and_a_near_miss_is_warned(workspace, tmp_path) -> None:
    _ads(workspace, "Influencer Deals")  # a channel of this shop only: not a GA4 group, not a rule
    known = import_files(workspace, "costs", [_ledger(tmp_path / "jan.csv", "Influencer Deals")])
    assert known.to_dict()["imports"][0]["warnings"] == []
    near = import_files(workspace, "costs", [_ledger(tmp_path / "feb.csv", "Influencer Deal")])
    (warning,) = near.to_dict()["imports"][0]["warnings"]
    assert "'Influencer Deal'" in warning and "Influencer Deals" in warning
