"""Organic social insights (Meta post and page insights, LinkedIn page analytics, generic): fixtures in each
export's column names load with the values written in them (read off the files by hand below), damaged files
are refused with row and column and leave the warehouse unchanged, the same file twice changes nothing, a
re-export replaces the posts it repeats, and detection names the format."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import detect_format
from trueroi.ingest.owned_load import import_owned

FIXTURES = Path(__file__).parent / "fixtures"


def _rows(ws) -> list[dict]:
    return ws.table("social_posts").execute().to_dict(orient="records")


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _none(value) -> bool:
    return value is None or value != value


def test_meta_post_insights(workspace) -> None:
    assert import_owned(workspace, "meta-insights", FIXTURES / "meta_post_insights.csv").rows == {
        "social_posts": 3
    }
    post = {r["post_id"]: r for r in _rows(workspace)}["123456789_1001"]
    # "8,400" impressions, "5,100" reach, 312 reactions+comments+shares, 180 link clicks, Date "Lifetime":
    # the day is the publish day 03/03/2025
    assert (post["impressions"], post["reach"], post["engagements"], post["clicks"]) == (8400, 5100, 312, 180)
    assert (post["reactions"], post["comments"], post["shares"]) == (260, 31, 21)
    assert _day(post["date_day"]) == date(2025, 3, 3) and post["level"] == "post"
    assert (post["platform"], post["account"], post["post_type"]) == ("facebook", "Acme Outdoor", "photos")
    assert post["title"] == "Winter ist da! Unsere neuen Jacken"  # the description's first line
    assert post["channel"] == "Organic Social"


def test_meta_page_insights_skip_the_description_line(workspace) -> None:
    import_owned(workspace, "meta-insights", FIXTURES / "meta_page_insights.csv")
    days = sorted(_rows(workspace), key=lambda r: r["date_day"])
    assert [_day(r["date_day"]) for r in days] == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    first = days[0]
    assert (first["followers"], first["followers_gained"], first["followers_lost"]) == (10200, 25, 5)
    assert (first["reach"], first["impressions"], first["engagements"]) == (3100, 4800, 190)
    assert first["level"] == "page" and _none(first["post_id"])


def test_linkedin_posts_metrics_and_followers(workspace) -> None:
    for name in ("linkedin_page_posts.csv", "linkedin_page_metrics.csv", "linkedin_page_followers.csv"):
        import_owned(workspace, "linkedin-pages", FIXTURES / name)
    rows = _rows(workspace)
    posts = [r for r in rows if r["level"] == "post"]
    job = next(r for r in posts if r["title"].startswith("Wir stellen ein"))
    # 2410 impressions, 96 clicks, 54 likes, 7 comments, 5 reposts, 3 follows; engagements 54+7+5+96 = 162
    assert (job["impressions"], job["clicks"], job["engagements"], job["followers_gained"]) == (
        2410,
        96,
        162,
        3,
    )
    assert _day(job["date_day"]) == date(2025, 3, 4) and job["post_type"] == "text"
    assert job["post_id"] == job["permalink"]
    days = {
        (_day(r["date_day"]), r["impressions"] is not None and r["impressions"] == r["impressions"]): r
        for r in rows
        if r["level"] == "page"
    }
    metrics = days[(date(2025, 3, 11), True)]
    # organic figures only: 4310 impressions (not the 6510 total), 2875 unique impressions as reach
    assert (metrics["impressions"], metrics["reach"], metrics["clicks"]) == (4310, 2875, 240)
    followers = days[(date(2025, 3, 11), False)]
    assert followers["followers_gained"] == 12


def test_generic_social_rows(workspace) -> None:
    import_owned(workspace, "social", FIXTURES / "social_posts.csv")
    rows = _rows(workspace)
    assert {r["level"] for r in rows} == {"post", "page"}
    reel = next(r for r in rows if r["post_id"] == "IG-9001")
    assert (reel["platform"], reel["account"], reel["reach"], reel["clicks"]) == (
        "instagram",
        "acme.outdoor",
        11200,
        210,
    )


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("meta_post_insights.csv", "meta-insights"),
        ("meta_page_insights.csv", "meta-insights"),
        ("linkedin_page_posts.csv", "linkedin-pages"),
        ("linkedin_page_metrics.csv", "linkedin-pages"),
        ("linkedin_page_followers.csv", "linkedin-pages"),
        ("social_posts.csv", "social"),
    ],
)
def test_detection_names_the_format(name: str, fmt: str) -> None:
    assert detect_format(FIXTURES / name) == fmt


def test_the_same_file_twice_changes_nothing(workspace) -> None:
    first = import_owned(workspace, "meta-insights", FIXTURES / "meta_post_insights.csv")
    before = workspace.checksum()
    again = import_owned(workspace, "meta-insights", FIXTURES / "meta_post_insights.csv")
    assert again.skipped and again.import_id == first.import_id
    assert workspace.checksum() == before


def test_a_later_export_replaces_the_posts_it_repeats(workspace, tmp_path) -> None:
    import_owned(workspace, "meta-insights", FIXTURES / "meta_post_insights.csv")
    later = tmp_path / "posts_later.csv"  # the post reached more people since
    later.write_text((FIXTURES / "meta_post_insights.csv").read_text().replace('"5,100"', '"5,350"'))
    done = import_owned(workspace, "meta-insights", later)
    assert (done.rows["social_posts"], done.replaced) == (3, 3)
    assert {r["post_id"]: r["reach"] for r in _rows(workspace)}["123456789_1001"] == 5350


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "words"),
    [
        ('"12,900","9,700"', '"12,900","19,700"', 2, "Reach", "more than the row's Impressions"),
        ('"3,150","2,600"', '"3,15O","2,600"', 3, "Impressions", "not a number"),
        ("03/05/2025 17:40", "13/45/2025 17:40", 2, "Publish time", "not a date"),
    ],
)
def test_a_damaged_export_is_refused_with_row_and_column(
    workspace, tmp_path, old, new, row, column, words
) -> None:
    text = (FIXTURES / "meta_post_insights.csv").read_text()
    assert old in text
    path = tmp_path / "meta_post_insights.csv"
    path.write_text(text.replace(old, new))
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match=words) as caught:
        import_owned(workspace, "meta-insights", path)
    assert (caught.value.row, caught.value.column) == (row, column)
    assert workspace.checksum() == before


def test_a_post_twice_in_one_file_is_refused(workspace, tmp_path) -> None:
    text = (FIXTURES / "linkedin_page_posts.csv").read_text()
    path = tmp_path / "posts.csv"
    path.write_text(text + text.splitlines()[1] + "\n")
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="repeats") as caught:
        import_owned(workspace, "linkedin-pages", path)
    assert caught.value.row == 3
    assert workspace.checksum() == before


def test_auto_import_loads_a_social_file_and_never_takes_canonical_ad_rows(workspace, tmp_path) -> None:
    from trueroi.ingest import AUTO, import_files

    done = import_files(workspace, AUTO, [FIXTURES / "social_posts.csv"]).to_dict()["imports"]
    lines = (FIXTURES / "social_posts.csv").read_text().strip().splitlines()
    assert [(r["format"], r["tables"]) for r in done] == [("social", {"social_posts": len(lines) - 1})]
    assert workspace.row_count("social_posts") == len(lines) - 1
    # trueroi's own ad-performance rows name a platform and a reach, as a generic social file does: they stay
    # ad-performance rows
    import pandas as pd

    ads = tmp_path / "ads.parquet"
    row = {"date_day": date(2026, 3, 2), "platform": "meta", "campaign_id": "c1", "campaign_name": "Spring"}
    row |= {"channel": "Display", "spend": 12.5, "impressions": 1000, "reach": 800, "clicks": 20}
    pd.DataFrame([row | {"currency": "EUR"}]).to_parquet(ads)
    assert detect_format(ads) == "ad-performance"
    import_files(workspace, AUTO, [ads])
    assert workspace.row_count("ad_performance") == 1
