"""Search Console (UI download, bulk export tables, API rows) and rankings (Sistrix, SEMrush): fixtures in
each tool's column names load with the values written in them (positions checked by hand: stored as average
position x impressions), damaged files are refused with row and column and leave the warehouse unchanged, the
same file twice changes nothing, a re-export replaces what it repeats, and detection names the format."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trueroi.errors import DataValidationError
from trueroi.ingest import detect_format
from trueroi.ingest.owned_load import import_owned

FIXTURES = Path(__file__).parent / "fixtures"
EN, DE = FIXTURES / "gsc_download_en", FIXTURES / "gsc_download_de"


def _download_zip(tmp_path: Path) -> Path:
    path = tmp_path / "acme-shop.de-Performance-on-Search-2025-03-04.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for member in sorted(EN.iterdir()):
            archive.write(member, member.name)
    return path


def _rows(ws, **where) -> list[dict]:
    rows = ws.table("search_console").execute().to_dict(orient="records")
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value


def test_the_ui_download_loads_each_file_with_the_period_of_its_dates_file(workspace, tmp_path) -> None:
    done = import_owned(workspace, "search-console", _download_zip(tmp_path))
    # 4 queries + 2 pages + 2 countries + 3 devices + 3 days; Filters.csv holds no rows
    assert done.rows == {"search_console": 14}
    queries = {r["query"]: r for r in _rows(workspace, dimensions="query")}
    damen = queries["winterjacke damen"]
    assert (damen["clicks"], damen["impressions"]) == (150, 10000)
    assert damen["sum_position"] == pytest.approx(7.2 * 10000)  # position 7.2 over 10,000 impressions
    assert (_day(damen["date_day"]), _day(damen["period_end"])) == (date(2025, 3, 1), date(2025, 3, 3))
    assert damen["aggregation"] == "property" and damen["search_type"] == "web"
    assert damen["channel"] == "Organic Search"
    pages = _rows(workspace, dimensions="page")
    assert {r["aggregation"] for r in pages} == {"page"} and len(pages) == 2
    days = _rows(workspace, dimensions="")
    assert sorted(_day(r["date_day"]) for r in days) == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    assert {r["device"] for r in _rows(workspace, dimensions="device")} == {"mobile", "desktop", "tablet"}


def test_a_german_file_takes_the_period_of_the_dates_file_beside_it(workspace) -> None:
    import_owned(workspace, "search-console", DE / "Häufigste_Suchanfragen.csv")
    brand = _rows(workspace, query="acme winterjacke")[0]
    # "1.204" Klicks, "8.650" Impressionen, Position "1,6" (German separators)
    assert (brand["clicks"], brand["impressions"]) == (1204, 8650)
    assert brand["sum_position"] == pytest.approx(1.6 * 8650)
    assert (_day(brand["date_day"]), _day(brand["period_end"])) == (date(2025, 4, 1), date(2025, 4, 2))


def test_a_queries_file_alone_names_no_period_and_is_refused(workspace, tmp_path) -> None:
    alone = tmp_path / "Queries.csv"
    shutil.copy(EN / "Queries.csv", alone)
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="names no days"):
        import_owned(workspace, "search-console", alone)
    assert workspace.checksum() == before


def _site_table(rows: list[tuple]) -> pa.Table:
    names = ["data_date", "site_url", "query", "is_anonymized_query", "country", "search_type", "device"]
    names += ["impressions", "clicks", "sum_top_position"]
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


SITE_ROWS = [
    (date(2025, 3, 1), "sc-domain:acme-shop.de", "acme jacke", False, "deu", "WEB", "MOBILE", 100, 12, 50.0),
    (date(2025, 3, 1), "sc-domain:acme-shop.de", None, True, "deu", "WEB", "DESKTOP", 40, 1, 300.0),
    (date(2025, 3, 2), "sc-domain:acme-shop.de", "regenjacke", False, "aut", "WEB", "TABLET", 10, 0, 80.0),
]


def test_the_bulk_site_table_loads_with_one_based_positions(workspace, tmp_path) -> None:
    path = tmp_path / "searchdata_site_impression.parquet"
    pq.write_table(_site_table(SITE_ROWS), path)
    assert detect_format(path) == "search-console"
    import_owned(workspace, "search-console", path)
    rows = {r["query"]: r for r in _rows(workspace)}
    # sum_top_position is 0-based: 50 over 100 impressions is an average of 0.5 + 1 = 1.5, i.e. 150 in all
    assert rows["acme jacke"]["sum_position"] == pytest.approx(150.0)
    assert rows[None]["is_anonymized"] and rows[None]["sum_position"] == pytest.approx(340.0)
    assert rows["acme jacke"]["dimensions"] == "query,country,device"
    assert rows["acme jacke"]["aggregation"] == "property"
    assert (rows["acme jacke"]["device"], rows["regenjacke"]["device"]) == ("mobile", "tablet")
    assert rows["acme jacke"]["search_type"] == "web" and rows["acme jacke"]["country"] == "deu"


def test_the_bulk_url_table_keeps_pages_and_search_appearance(workspace, tmp_path) -> None:
    table = pa.table(
        {
            "data_date": [date(2025, 3, 1)] * 2,
            "site_url": ["sc-domain:acme-shop.de"] * 2,
            "url": ["https://www.acme-shop.de/jacken/"] * 2,
            "query": ["acme jacke"] * 2,
            "is_anonymized_query": [False] * 2,
            "is_anonymized_discover": [False] * 2,
            "country": ["deu"] * 2,
            "search_type": ["WEB"] * 2,
            "device": ["MOBILE"] * 2,
            "is_amp_top_stories": [False, True],
            "is_video": [False, True],
            "impressions": [70, 30],
            "clicks": [7, 2],
            "sum_position": [140.0, 0.0],
        }
    )
    path = tmp_path / "searchdata_url_impression.parquet"
    pq.write_table(table, path)
    import_owned(workspace, "search-console", path)
    rows = sorted(_rows(workspace), key=lambda r: r["impressions"])
    assert [r["appearance"] for r in rows] == ["amp_top_stories,video", None]
    assert {r["aggregation"] for r in rows} == {"page"}
    assert rows[1]["sum_position"] == pytest.approx(140.0 + 70)  # 0-based 2.0 average -> 3.0


def test_many_appearance_flags_are_named_in_column_order(workspace, tmp_path) -> None:
    """More flags than one 62-bit code holds (the importer renumbers its codes): each row names exactly the
    flags it sets, in the file's column order; a row setting none has no appearance."""
    flags = [f"is_flag{i:02d}" for i in range(70)]
    on = {0: [0, 65, 69], 1: [], 2: [3], 3: [0, 65, 69]}  # row -> flags set (rows 0 and 3 alike)
    table = {
        "data_date": [date(2025, 3, d) for d in (1, 2, 3, 4)],
        "url": ["https://www.acme-shop.de/"] * 4,
        "query": ["acme"] * 4,
        **{f: [i in on[r] for r in range(4)] for i, f in enumerate(flags)},
        "impressions": [10, 20, 30, 40],
        "clicks": [1, 2, 3, 4],
        "sum_position": [0.0] * 4,
    }
    path = tmp_path / "searchdata_url_impression.parquet"
    pq.write_table(pa.table(table), path)
    import_owned(workspace, "search-console", path)
    got = {r["impressions"]: r["appearance"] for r in _rows(workspace)}
    assert got == {10: "flag00,flag65,flag69", 20: None, 30: "flag03", 40: "flag00,flag65,flag69"}


def test_a_bulk_file_repeating_a_key_is_refused_naming_the_row(workspace, tmp_path) -> None:
    path = tmp_path / "site.parquet"
    pq.write_table(_site_table([*SITE_ROWS, SITE_ROWS[1]]), path)
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="repeats the key") as caught:
        import_owned(workspace, "search-console", path)
    assert caught.value.row == 4 and "row 2" in str(caught.value)
    assert workspace.checksum() == before


def test_api_rows_with_dates_and_several_dimensions(workspace, tmp_path) -> None:
    path = tmp_path / "gsc_api.csv"
    path.write_text(
        "date,query,page,device,clicks,impressions,ctr,position\n"
        "2025-03-01,acme jacke,https://www.acme-shop.de/jacken/,MOBILE,10,200,0.05,2.5\n"
        "2025-03-01,acme jacke,https://www.acme-shop.de/,MOBILE,1,50,0.02,6.0\n"
    )
    assert detect_format(path) == "search-console"
    import_owned(workspace, "search-console", path)
    rows = _rows(workspace)
    assert {r["dimensions"] for r in rows} == {"query,page,device"} and {r["aggregation"] for r in rows} == {
        "page"
    }
    assert sorted(r["sum_position"] for r in rows) == pytest.approx([300.0, 500.0])


def test_the_same_download_twice_changes_nothing(workspace, tmp_path) -> None:
    path = _download_zip(tmp_path)
    first = import_owned(workspace, "search-console", path)
    before = workspace.checksum()
    again = import_owned(workspace, "search-console", path)
    assert again.skipped and again.import_id == first.import_id
    assert workspace.checksum() == before


def test_a_later_export_of_the_same_days_replaces_them(workspace, tmp_path) -> None:
    import_owned(workspace, "search-console", EN / "Dates.csv")
    later = tmp_path / "Dates.csv"
    later.write_text((EN / "Dates.csv").read_text().replace("2025-03-03,230,", "2025-03-03,231,"))
    done = import_owned(workspace, "search-console", later)
    assert (done.rows["search_console"], done.replaced) == (3, 3)
    assert sorted(r["clicks"] for r in _rows(workspace)) == [215, 231, 250]


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "words"),
    [
        ("winterjacke damen,150,10000", "winterjacke damen,15000,10000", 2, "Clicks", "more than the row's"),
        ("regenjacke test,35,5000,0.7%,12.4", "regenjacke test,35,5000,0.7%,0.4", 3, "Position", "below 1"),
        ("acme outlet,90,600", "acme outlet,9O,600", 4, "Clicks", "not a number"),
    ],
)
def test_a_damaged_file_is_refused_with_row_and_column(
    workspace, tmp_path, old, new, row, column, words
) -> None:
    folder = tmp_path / "download"
    shutil.copytree(EN, folder)
    text = (folder / "Queries.csv").read_text()
    assert old in text
    (folder / "Queries.csv").write_text(text.replace(old, new))
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match=words) as caught:
        import_owned(workspace, "search-console", folder / "Queries.csv")
    assert (caught.value.row, caught.value.column) == (row, column)
    assert workspace.checksum() == before


def test_a_damaged_zip_member_names_the_member(workspace, tmp_path) -> None:
    folder = tmp_path / "download"
    shutil.copytree(EN, folder)
    (folder / "Devices.csv").write_text(
        (EN / "Devices.csv").read_text().replace("Tablet,15,500", "Tablet,15,-500")
    )
    path = tmp_path / "download.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for member in sorted(folder.iterdir()):
            archive.write(member, member.name)
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="Devices.csv") as caught:
        import_owned(workspace, "search-console", path)
    assert (caught.value.row, caught.value.column) == (3, "Impressions")
    assert workspace.checksum() == before


@pytest.mark.parametrize(
    "path",
    [
        EN / "Queries.csv",
        EN / "Pages.csv",
        EN / "Dates.csv",
        EN / "Filters.csv",
        DE / "Häufigste_Suchanfragen.csv",
    ],
)
def test_ui_files_are_detected_as_search_console(path: Path) -> None:
    assert detect_format(path) == "search-console"


def test_the_download_zip_is_detected(tmp_path) -> None:
    assert detect_format(_download_zip(tmp_path)) == "search-console"


# -- rankings ----------------------------------------------------------------------------------------------
def _rankings(ws) -> list[dict]:
    return ws.table("rankings").execute().to_dict(orient="records")


@pytest.mark.parametrize(
    "name", ["sistrix_rankings_de.csv", "sistrix_visibility_de.csv", "semrush_position_tracking.csv"]
)
def test_rankings_exports_are_detected(name: str) -> None:
    assert detect_format(FIXTURES / name) == "rankings"


def test_sistrix_rankings_and_visibility(workspace) -> None:
    import_owned(workspace, "rankings", FIXTURES / "sistrix_rankings_de.csv")
    import_owned(workspace, "rankings", FIXTURES / "sistrix_visibility_de.csv")
    rows = _rankings(workspace)
    by = {(r["keyword"], _day(r["date_day"])): r for r in rows}
    damen = by[("winterjacke damen", date(2025, 3, 10))]
    assert (damen["position"], damen["search_volume"], damen["tool"]) == (5.0, 18100, "sistrix")  # "18.100"
    regen = by[("regenjacke test", date(2025, 3, 3))]
    assert regen["position"] != regen["position"] or regen["position"] is None  # ">100": not ranking
    index = sorted((r for r in rows if r["keyword"] is None), key=lambda r: r["date_day"])
    assert [r["visibility"] for r in index] == pytest.approx([0.4821, 0.5137])  # "0,4821" (decimal comma)
    assert {r["domain"] for r in index} == {"acme-shop.de"}


def test_semrush_per_day_columns_become_rows(workspace) -> None:
    done = import_owned(workspace, "rankings", FIXTURES / "semrush_position_tracking.csv")
    assert done.rows == {"rankings": 6}  # 3 keywords x 2 days
    by = {(r["keyword"], _day(r["date_day"])): r for r in _rankings(workspace)}
    assert by[("winterjacke damen", date(2025, 3, 10))]["position"] == 6.0
    assert by[("regenjacke test", date(2025, 3, 10))]["url"] == "https://www.acme-shop.de/regenjacken/"
    not_ranking = by[("regenjacke test", date(2025, 3, 3))]["position"]
    assert not_ranking is None or not_ranking != not_ranking  # "-"
    assert {r["domain"] for r in by.values()} == {"acme-shop.de"} and {r["tool"] for r in by.values()} == {
        "semrush"
    }


def test_a_damaged_rankings_file_is_refused(workspace, tmp_path) -> None:
    path = tmp_path / "rankings.csv"
    text = (FIXTURES / "sistrix_rankings_de.csv").read_text()
    path.write_text(text.replace("winterjacke damen;5;", "winterjacke damen;fünf;"))
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="not a number") as caught:
        import_owned(workspace, "rankings", path)
    assert (caught.value.row, caught.value.column) == (5, "Position")
    assert workspace.checksum() == before


def test_the_same_rankings_file_twice_changes_nothing(workspace) -> None:
    import_owned(workspace, "rankings", FIXTURES / "semrush_position_tracking.csv")
    before = workspace.checksum()
    assert import_owned(workspace, "rankings", FIXTURES / "semrush_position_tracking.csv").skipped
    assert workspace.checksum() == before
