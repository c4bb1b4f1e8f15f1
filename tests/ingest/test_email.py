"""E-mail campaign reports (Mailchimp, Brevo, generic): fixtures in each tool's column names load with the
values written in them (read off the files by hand below), damaged reports are refused with row and column
and leave the warehouse as it was, the same file twice changes nothing, a re-export replaces the campaigns
it repeats, and detection names the format."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import detect_format
from trueroi.ingest.owned_load import import_owned

FIXTURES = Path(__file__).parent / "fixtures"


def _rows(ws) -> dict[str, dict]:
    df = ws.table("email_campaigns").execute()
    return {r["campaign_id"]: r for r in df.to_dict(orient="records")}


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value


def test_mailchimp_english_export_loads_its_counts(workspace) -> None:
    done = import_owned(workspace, "mailchimp", FIXTURES / "mailchimp_campaigns.csv")
    assert done.rows == {"email_campaigns": 3}
    rows = _rows(workspace)
    kw3 = rows["a1b2c3d4e5"]
    # "12,480" recipients, "12,230" successful deliveries, 180 soft + 70 hard = 250 total bounces
    assert (kw3["recipients"], kw3["delivered"], kw3["bounces"], kw3["hard_bounces"]) == (
        12480,
        12230,
        250,
        70,
    )
    assert (kw3["unique_opens"], kw3["unique_clicks"], kw3["unsubscribes"], kw3["complaints"]) == (
        4892,
        734,
        37,
        2,
    )
    assert kw3["total_opens"] == 9310 and kw3["total_clicks"] == 1102
    assert _day(kw3["date_day"]) == date(2025, 1, 15)
    assert kw3["campaign"] == "Newsletter KW 3" and kw3["channel"] == "Email" and kw3["tool"] == "mailchimp"
    assert kw3["machine_opens"] is None or kw3["machine_opens"] != kw3["machine_opens"]  # not in the export
    assert _day(rows["0a1b2c3d4e"]["date_day"]) == date(2025, 2, 5)  # "Feb 05, 2025 08:30 pm"


def test_mailchimp_german_export_reads_thousands_points(workspace) -> None:
    import_owned(workspace, "mailchimp", FIXTURES / "mailchimp_campaigns_de.csv")
    feb = _rows(workspace)["de0001"]
    # "8.400" Empfänger, "8.316" Zustellungen, "3.326" eindeutige Öffnungen (German thousands points)
    assert (feb["recipients"], feb["delivered"], feb["unique_opens"], feb["unique_clicks"]) == (
        8400,
        8316,
        3326,
        499,
    )
    assert feb["bounces"] == 84 and _day(feb["date_day"]) == date(2025, 2, 12)
    assert feb["campaign_name"] == "Newsletter Februar" and feb["list_name"] == "Kunden DE"


def test_brevo_api_fields_give_machine_opens_and_clickers(workspace) -> None:
    import_owned(workspace, "brevo", FIXTURES / "brevo_campaigns_api.csv")
    march = _rows(workspace)["41"]
    # sent 5000, delivered 4900, bounces 60 hard + 40 soft; uniqueViews 2450 of which appleMppOpens 980;
    # clickers (contacts who clicked) 343 rather than uniqueClicks 410; UTM campaign newsletter_maerz
    assert (march["recipients"], march["delivered"], march["bounces"]) == (5000, 4900, 100)
    assert (march["unique_opens"], march["machine_opens"], march["unique_clicks"]) == (2450, 980, 343)
    assert march["campaign"] == "newsletter_maerz" and march["tool"] == "brevo"
    assert _day(march["date_day"]) == date(2025, 3, 4)  # 08:00 +01:00 is the 4th in Berlin


def test_brevo_german_report(workspace) -> None:
    import_owned(workspace, "brevo", FIXTURES / "brevo_campaigns_de.csv")
    may = _rows(workspace)["77"]
    assert (may["recipients"], may["delivered"], may["bounces"], may["unique_opens"]) == (1250, 1230, 20, 615)
    assert (may["machine_opens"], may["unique_clicks"], may["unsubscribes"]) == (205, 86, 4)


def test_generic_email_campaigns(workspace) -> None:
    import_owned(workspace, "email", FIXTURES / "email_campaigns.csv")
    rows = _rows(workspace)
    assert rows["K-100"]["tool"] == "klaviyo" and rows["K-100"]["campaign"] == "welcome_flow"
    assert rows["K-100"]["machine_opens"] == 120
    assert (
        rows["K-101"]["machine_opens"] is None
        or rows["K-101"]["machine_opens"] != rows["K-101"]["machine_opens"]
    )


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("mailchimp_campaigns.csv", "mailchimp"),
        ("mailchimp_campaigns_de.csv", "mailchimp"),
        ("brevo_campaigns_api.csv", "brevo"),
        ("brevo_campaigns_de.csv", "brevo"),
        ("email_campaigns.csv", "email"),
    ],
)
def test_detection_names_the_format(name: str, fmt: str) -> None:
    assert detect_format(FIXTURES / name) == fmt


def test_the_same_file_twice_changes_nothing(workspace) -> None:
    first = import_owned(workspace, "mailchimp", FIXTURES / "mailchimp_campaigns.csv")
    before = workspace.checksum()
    again = import_owned(workspace, "mailchimp", FIXTURES / "mailchimp_campaigns.csv")
    assert again.skipped and again.import_id == first.import_id
    assert workspace.checksum() == before


def test_a_re_export_replaces_the_campaigns_it_repeats(workspace, tmp_path: Path) -> None:
    import_owned(workspace, "mailchimp", FIXTURES / "mailchimp_campaigns.csv")
    later = tmp_path / "campaigns_later.csv"  # opens counted later: 4,892 -> 4,990
    later.write_text((FIXTURES / "mailchimp_campaigns.csv").read_text().replace('"4,892"', '"4,990"'))
    done = import_owned(workspace, "mailchimp", later)
    assert (done.rows["email_campaigns"], done.replaced) == (3, 3)
    rows = _rows(workspace)
    assert len(rows) == 3 and rows["a1b2c3d4e5"]["unique_opens"] == 4990


def _damaged(tmp_path: Path, old: str, new: str, name: str = "mailchimp_campaigns.csv") -> Path:
    path = tmp_path / name
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "words"),
    [
        ('"5,212"', '"5,2I2"', 2, "Unique Opens", "not a number"),
        ('"12,410"', '"13,410"', 2, "Successful Deliveries", "more than the row's Total Recipients"),
        ('"Jan 15, 2025 10:00 am"', '"Jan 35, 2025 10:00 am"', 1, "Send Date", "not a date"),
        (",37,2,0,,a1b2c3d4e5", ",-37,2,0,,a1b2c3d4e5", 1, "Unsubscribes", "negative"),
    ],
)
def test_a_damaged_report_is_refused_with_row_and_column(
    workspace, tmp_path, old, new, row, column, words
) -> None:
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match=words) as caught:
        import_owned(workspace, "mailchimp", _damaged(tmp_path, old, new))
    assert (caught.value.row, caught.value.column) == (row, column)
    assert "mailchimp_campaigns.csv" in str(caught.value)
    assert workspace.checksum() == before


def test_a_campaign_twice_in_one_file_is_refused(workspace, tmp_path: Path) -> None:
    text = (FIXTURES / "email_campaigns.csv").read_text()
    path = tmp_path / "twice.csv"
    path.write_text(text + text.splitlines()[1] + "\n")
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="repeats") as caught:
        import_owned(workspace, "email", path)
    assert caught.value.row == 3
    assert workspace.checksum() == before


def test_a_report_without_recipients_is_refused(workspace, tmp_path: Path) -> None:
    path = _damaged(tmp_path, "Total Recipients", "Recipients total")
    with pytest.raises(DataValidationError, match="missing required column"):
        import_owned(workspace, "mailchimp", path)
