"""Impossible calendar days are refused, not rolled over (Arrow's parser reads 2025-02-30 as 2025-03-02)."""

from __future__ import annotations

import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import import_file


@pytest.mark.parametrize("day", ["2025-02-30", "31.04.2025", "2025-13-01"])
def test_impossible_day_is_refused_and_nothing_changes(workspace, tmp_path, day: str) -> None:
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,currency,spend,impressions,clicks\n"
        f"{day},google_ads,c1,EUR,10.50,1000,50\n2025-01-02,google_ads,c2,EUR,3.25,200,9\n"
    )
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="is not a date"):
        import_file(workspace, "ad-performance", path)
    assert workspace.checksum() == before


def test_unpadded_valid_days_still_read(workspace, tmp_path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text(
        "date_day,platform,campaign_id,currency,spend,impressions,clicks\n"
        "1.2.2025,google_ads,c1,EUR,10.50,1000,50\n28.2.2025,google_ads,c2,EUR,3.25,200,9\n"
    )
    import_file(workspace, "ad-performance", path)
    days = sorted(str(d)[:10] for d in workspace.table("ad_performance").date_day.execute())
    assert days == ["2025-02-01", "2025-02-28"]
