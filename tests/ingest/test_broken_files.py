"""Hypothesis-generated broken files: never a crash, always a DataValidationError, the warehouse unchanged.

Each example starts from a valid export and breaks it one way (wrong types, missing columns, truncated
rows or bytes, bad encodings, negative spend, future dates, unknown currencies, random bytes). The import
must either succeed (when the damage left a valid file, e.g. a cut at a line end) or raise
``DataValidationError`` and leave every table's checksum as it was; it must never raise anything else.
Mutations that always make a file invalid must always be refused.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueroi.errors import DataValidationError
from trueroi.ingest import import_file
from trueroi.ingest.owned_load import import_owned
from trueroi.ingest.parse import ISO_4217

FIXTURES = Path(__file__).parent / "fixtures"
_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=_HEALTH)
SLOW_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=_HEALTH)

AD_HEADER = ["date_day", "platform", "campaign_id", "currency", "spend", "impressions", "clicks"]
AD_ROWS = [
    ["2025-01-01", "google_ads", "c1", "EUR", "10.50", "1000", "50"],
    ["2025-01-02", "google_ads", "c2", "EUR", "3.25", "200", "9"],
    ["2025-01-02", "meta_ads", "m1", "EUR", "7.00", "900", "12"],
]
MUST_FAIL = ("negative", "future", "currency", "drop_column", "wrong_type", "short_row")


def _csv(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


@st.composite
def broken_ad_file(draw) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(MUST_FAIL + ("truncate_bytes", "latin1", "random_bytes", "garbage_cell")))
    header, rows = list(AD_HEADER), [list(r) for r in AD_ROWS]
    row = draw(st.integers(0, len(rows) - 1))
    if kind == "negative":
        rows[row][4] = f"-{draw(st.integers(1, 10**8)) / 100:.2f}"
    elif kind == "future":
        year = draw(st.integers(2100, 9999))
        rows[row][0] = f"{year}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}"
    elif kind == "currency":
        code = draw(
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3).filter(lambda c: c not in ISO_4217)
        )
        rows[row][3] = code
    elif kind == "drop_column":
        col = draw(st.integers(0, len(header) - 1))
        header.pop(col)
        for r in rows:
            r.pop(col)
    elif kind == "wrong_type":
        col = draw(st.sampled_from([0, 4, 5, 6]))
        rows[row][col] = draw(st.sampled_from(["abc", "12,5O", "1e", "2025-02-30", "--5", "1.2.3.4", "x1"]))
    elif kind == "short_row":
        rows[row] = rows[row][: draw(st.integers(1, len(header) - 1))]
    elif kind == "garbage_cell":
        col = draw(st.integers(0, len(header) - 1))
        rows[row][col] = draw(
            st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=',"\r\n'), max_size=12)
        )
    text = _csv(header, rows)
    if kind == "truncate_bytes":
        data = text.encode()
        return kind, data[: draw(st.integers(0, len(data)))]
    if kind == "latin1":
        return kind, text.replace("c1", "Kampagne Größe").encode("latin-1")
    if kind == "random_bytes":
        return kind, draw(st.binary(min_size=0, max_size=200))
    return kind, text.encode()


def _attempt(ws, fmt: str, path: Path, must_fail: bool) -> None:
    before = ws.checksum()
    try:
        import_file(ws, fmt, path)
    except DataValidationError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        assert ws.checksum() == before
        return
    assert not must_fail, "a broken file was accepted"


def _broken_ad(workspace, tmp_path_factory, case) -> None:
    kind, data = case
    path = tmp_path_factory.mktemp("broken") / "ads.csv"
    path.write_bytes(data)
    _attempt(workspace, "ad-performance", path, kind in MUST_FAIL)


@SETTINGS
@given(case=broken_ad_file())
def test_broken_ad_performance_files(workspace, tmp_path_factory, case) -> None:
    _broken_ad(workspace, tmp_path_factory, case)


@pytest.mark.slow
@SLOW_SETTINGS
@given(case=broken_ad_file())
def test_broken_ad_performance_files_many(workspace, tmp_path_factory, case) -> None:
    _broken_ad(workspace, tmp_path_factory, case)


@st.composite
def broken_export(draw) -> tuple[str, str, bytes]:
    """A real export fixture with a random cut, flipped bytes or a cell replaced by text."""
    fmt, name = draw(
        st.sampled_from(
            [
                ("google-ads", "google_ads_ui_utf16.csv"),
                ("meta-ads", "meta_ads_manager_de.csv"),
                ("microsoft-ads", "microsoft_ads_campaign.csv"),
                ("shopify-orders", "shopify_orders.csv"),
                ("offline-conversions", "google_offline_conversions.csv"),
                ("crm", "crm_deals.csv"),
                ("touchpoints", "touchpoints.csv"),
                ("meta-ads", "meta_insights.json"),
                ("ga4", "ga4_events.ndjson"),
                ("microsoft-ads", "microsoft_ads_ui.csv"),
                ("meta-ads", "meta_ads_results.csv"),
                ("crm", "hubspot_deals.csv"),
                ("fx-rates", "eurofxref-hist.csv"),
                ("costs", "costs_ledger_de.csv"),
                ("google-ads", "google_ads_ui_de.csv"),
            ]
        )
    )
    data = bytearray((FIXTURES / name).read_bytes())
    how = draw(st.sampled_from(["cut", "flip", "insert"]))
    at = draw(st.integers(0, len(data)))
    if how == "cut":
        data = data[:at]
    elif how == "flip" and data:
        at = min(at, len(data) - 1)
        data[at] = draw(st.integers(0, 255))
    else:
        data[at:at] = draw(st.binary(min_size=1, max_size=8))
    suffix = Path(name).suffix
    return fmt, suffix, bytes(data)


@SETTINGS
@given(case=broken_export())
def test_damaged_platform_exports_never_crash(workspace, tmp_path_factory, case) -> None:
    _damaged(workspace, tmp_path_factory, case)


@pytest.mark.slow
@SLOW_SETTINGS
@given(case=broken_export())
def test_damaged_platform_exports_never_crash_many(workspace, tmp_path_factory, case) -> None:
    _damaged(workspace, tmp_path_factory, case)


def _damaged(workspace, tmp_path_factory, case) -> None:
    fmt, suffix, data = case
    path = tmp_path_factory.mktemp("damaged") / f"export{suffix}"
    path.write_bytes(data)
    before = workspace.checksum()
    try:
        import_file(workspace, fmt, path)
    except DataValidationError:
        assert workspace.checksum() == before


TEXT_EXPORTS = [
    ("google-ads", "google_ads_ui_de.csv"),
    ("meta-ads", "meta_ads_results.csv"),
    ("microsoft-ads", "microsoft_ads_ui.csv"),
    ("shopify-orders", "shopify_orders.csv"),
    ("offline-conversions", "google_offline_conversions.csv"),
    ("crm", "hubspot_deals.csv"),
    ("fx-rates", "eurofxref-hist.csv"),
    ("costs", "costs_ledger_de.csv"),
    ("orders", "orders.csv"),
    ("ad-performance", "ad_performance.csv"),
    ("touchpoints", "touchpoints.csv"),
]
ODD_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["1e400", "NaN", "inf", "1.234", "1,234", "1.234,56", "1'234", "0001-01-01", "9999-12-31", "1e16"]
        + [",5", "2025-02-30", "--", "١٢٣", "12%", "XYZ", "Closed Won", "actions:purchase", "\x00", '"']
    ),
)


@st.composite
def odd_cells(draw) -> tuple[str, str, bytes]:
    """A real text export with one to three cells replaced by odd values (numbers in other styles, absurd
    dates, control characters, quotes), written back as valid CSV in the file's delimiter."""
    fmt, name = draw(st.sampled_from(TEXT_EXPORTS))
    text = (FIXTURES / name).read_text(encoding="utf-8-sig")
    first = text.splitlines()[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    for _ in range(draw(st.integers(1, 3))):
        row = rows[draw(st.integers(0, len(rows) - 1))]
        if row:
            row[draw(st.integers(0, len(row) - 1))] = draw(ODD_CELLS)
    out = io.StringIO()
    csv.writer(out, delimiter=delim).writerows(rows)
    return fmt, ".csv", out.getvalue().encode()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(-(2**70), 2**70) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def odd_json(draw) -> tuple[str, str, bytes]:
    """The Meta insights or GA4 fixture with one to three fields replaced by any JSON value."""
    fmt, name = draw(st.sampled_from([("meta-ads", "meta_insights.json"), ("ga4", "ga4_events.ndjson")]))
    text = (FIXTURES / name).read_text()
    rows = json.loads(text)["data"] if fmt == "meta-ads" else [json.loads(x) for x in text.splitlines() if x]
    for _ in range(draw(st.integers(1, 3))):
        row = rows[draw(st.integers(0, len(rows) - 1))]
        row[draw(st.sampled_from(sorted(row)))] = draw(JSON_VALUES)
    body = json.dumps({"data": rows}) if fmt == "meta-ads" else "\n".join(json.dumps(r) for r in rows)
    return fmt, Path(name).suffix, body.encode()


@SETTINGS
@given(case=st.one_of(odd_cells(), odd_json()))
def test_odd_cells_and_json_values_never_crash(workspace, tmp_path_factory, case) -> None:
    _damaged(workspace, tmp_path_factory, case)


@pytest.mark.slow
@SLOW_SETTINGS
@given(case=st.one_of(odd_cells(), odd_json()))
def test_odd_cells_and_json_values_never_crash_many(workspace, tmp_path_factory, case) -> None:
    _damaged(workspace, tmp_path_factory, case)


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"\x00\x01\x02garbage", "ä;ö\n1;2".encode("cp1252")])
def test_unreadable_files_give_a_clear_error(workspace, tmp_path, data) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="orders.csv"):
        import_file(workspace, "orders", path)
    assert workspace.checksum() == before


def test_ga4_export_whose_duckdb_error_is_not_utf8_is_a_clear_error(workspace, tmp_path) -> None:
    """Found by exploring: an event_timestamp holding an object with odd characters made DuckDB quote a cut
    multi-byte character in its error, which Python could not decode (UnicodeDecodeError, a traceback)."""
    lines = (FIXTURES / "ga4_events.ndjson").read_text().splitlines()
    first = json.loads(lines[0])
    first["collected_traffic_source"] = None
    odd = {"$": {"": None}, "\x93": {'00"\x1f\U000d80f1': None}}
    first["event_timestamp"] = {**odd, '00"\x80\U00010000': None}
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    before = workspace.checksum()
    with pytest.raises(DataValidationError, match="cannot be read as a GA4 export"):
        import_file(workspace, "ga4", path)
    assert workspace.checksum() == before


# -- the ad platforms and shops of trueroi.ingest.ads_more and trueroi.ingest.shops ------------------------
# format, fixture, options, and the headers of its money, day and currency columns (None: no such column)
MORE_EXPORTS = [
    ("tiktok-ads", "tiktok_ads_campaigns.csv", {}, ("Cost", "Date", "Currency")),
    ("tiktok-ads", "tiktok_ads_de.csv", {}, ("Kosten", "Datum", "Währung")),
    ("linkedin-ads", "linkedin_ads_campaigns.csv", {}, ("Total Spent", "Start Date (in UTC)", "Currency")),
    (
        "pinterest-ads",
        "pinterest_ads_report.csv",
        {"currency": "EUR"},
        ("Spend in account currency", "Date", None),
    ),
    ("amazon-ads", "amazon_sp_campaigns.csv", {}, ("Spend", "Date", "Currency")),
    ("woocommerce-orders", "woocommerce_orders.csv", {}, ("order_total", "order_date", "order_currency")),
    ("shopware-orders", "shopware_orders.csv", {}, ("amount_total", "order_date_time", "currency")),
]
MORE_OPTIONS = {fmt: options for fmt, _, options, _ in MORE_EXPORTS}


def _table(name: str) -> tuple[list[str], str, list[list[str]]]:
    """A fixture's title lines, delimiter and rows (header first)."""
    lines = (FIXTURES / name).read_text(encoding="utf-8-sig").splitlines()
    at = next(i for i, line in enumerate(lines) if line.count(",") + line.count(";") > 3)
    delim = ";" if lines[at].count(";") > lines[at].count(",") else ","
    return lines[:at], delim, list(csv.reader(io.StringIO("\n".join(lines[at:])), delimiter=delim))


def _text(title: list[str], delim: str, rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delim, lineterminator="\n").writerows(rows)
    return ("".join(f"{line}\n" for line in title) + out.getvalue()).encode()


@st.composite
def invalid_more_export(draw) -> tuple[str, str, int, str, bytes]:
    """A new importer's fixture with one cell of one data row made invalid: negative or garbled money, a day
    past the import window, or a currency code that is no ISO 4217 code."""
    fmt, name, _, (money, day, currency) = draw(st.sampled_from(MORE_EXPORTS))
    title, delim, rows = _table(name)
    row = draw(st.integers(1, len(rows) - 1))
    kinds = ["negative", "garbled", "future"] + (["currency"] if currency else [])
    kind = draw(st.sampled_from(kinds))
    column = {"negative": money, "garbled": money, "future": day, "currency": currency}[kind]
    if kind == "negative":
        value = f"-{draw(st.integers(1, 10**6)) / 100:.2f}"
    elif kind == "garbled":
        value = draw(st.sampled_from(["abc", "12,5O", "1e", "--5", "1.2.3.4", "x1", "NaN", "1e400"]))
    elif kind == "future":
        value = (
            f"{draw(st.integers(2100, 9999))}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}"
        )
    else:
        value = draw(
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3).filter(lambda c: c not in ISO_4217)
        )
    rows[row][rows[0].index(column)] = value
    return fmt, name, row, column, _text(title, delim, rows)


def _invalid_more(workspace, tmp_path_factory, case) -> None:
    fmt, name, row, column, data = case
    path = tmp_path_factory.mktemp("invalid") / name
    path.write_bytes(data)
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as caught:
        import_file(workspace, fmt, path, options=MORE_OPTIONS[fmt])
    assert (caught.value.file, caught.value.row, caught.value.column) == (name, row, column)
    assert workspace.checksum() == before


@SETTINGS
@given(case=invalid_more_export())
def test_new_importers_refuse_an_invalid_cell_with_its_row_and_column(
    workspace, tmp_path_factory, case
) -> None:
    _invalid_more(workspace, tmp_path_factory, case)


@pytest.mark.slow
@SLOW_SETTINGS
@given(case=invalid_more_export())
def test_new_importers_refuse_an_invalid_cell_many(workspace, tmp_path_factory, case) -> None:
    _invalid_more(workspace, tmp_path_factory, case)


@st.composite
def damaged_more_export(draw) -> tuple[str, str, bytes]:
    """A new importer's fixture with a random cut, flipped bytes, inserted bytes or odd cells."""
    fmt, name, _, _ = draw(st.sampled_from(MORE_EXPORTS))
    how = draw(st.sampled_from(["cut", "flip", "insert", "cells"]))
    if how == "cells":
        title, delim, rows = _table(name)
        for _ in range(draw(st.integers(1, 3))):
            row = rows[draw(st.integers(0, len(rows) - 1))]
            row[draw(st.integers(0, len(row) - 1))] = draw(ODD_CELLS)
        return fmt, ".csv", _text(title, delim, rows)
    data = bytearray((FIXTURES / name).read_bytes())
    at = draw(st.integers(0, len(data)))
    if how == "cut":
        data = data[:at]
    elif how == "flip":
        at = min(at, len(data) - 1)
        data[at] = draw(st.integers(0, 255))
    else:
        data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return fmt, ".csv", bytes(data)


def _damaged_more(workspace, tmp_path_factory, case) -> None:
    fmt, suffix, data = case
    path = tmp_path_factory.mktemp("damaged") / f"export{suffix}"
    path.write_bytes(data)
    before = workspace.checksum()
    try:
        import_file(workspace, fmt, path, options=MORE_OPTIONS[fmt])
    except DataValidationError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        assert workspace.checksum() == before


@SETTINGS
@given(case=damaged_more_export())
def test_damaged_new_exports_never_crash(workspace, tmp_path_factory, case) -> None:
    _damaged_more(workspace, tmp_path_factory, case)


@pytest.mark.slow
@SLOW_SETTINGS
@given(case=damaged_more_export())
def test_damaged_new_exports_never_crash_many(workspace, tmp_path_factory, case) -> None:
    _damaged_more(workspace, tmp_path_factory, case)


# -- the channels' own KPIs: e-mail, SEO and organic social (trueroi.ingest.email, seo, rankings, social)
# format, fixture, and the headers of a count column and the day column of its data rows
OWNED_EXPORTS = [
    ("mailchimp", "mailchimp_campaigns.csv", ("Unique Opens", "Send Date")),
    ("mailchimp", "mailchimp_campaigns_de.csv", ("Eindeutige Öffnungen", "Sendedatum")),
    ("brevo", "brevo_campaigns_api.csv", ("uniqueViews", "sentDate")),
    ("brevo", "brevo_campaigns_de.csv", ("Eindeutige Öffnungen", "Versanddatum")),
    ("email", "email_campaigns.csv", ("unique_opens", "date")),
    ("search-console", "gsc_download_en/Dates.csv", ("Impressions", "Date")),
    ("search-console", "gsc_download_de/Datum.csv", ("Impressionen", "Datum")),
    ("rankings", "sistrix_rankings_de.csv", ("Suchvolumen", "Datum")),
    ("rankings", "semrush_position_tracking.csv", ("Search Volume", None)),
    ("meta-insights", "meta_post_insights.csv", ("Impressions", "Publish time")),
    ("meta-insights", "meta_page_insights.csv", ("Daily Total Impressions", "Date")),
    ("linkedin-pages", "linkedin_page_posts.csv", ("Impressions", "Created date")),
    ("linkedin-pages", "linkedin_page_metrics.csv", ("Impressions (organic)", "Date")),
    ("social", "social_posts.csv", ("impressions", "date")),
]


def _owned_rows(name: str) -> tuple[list[str], str, list[list[str]]]:
    """A fixture's title lines, delimiter and rows (header first; Meta's description line is no data)."""
    title, delim, rows = _table(name)
    return title, delim, rows


@st.composite
def invalid_owned_export(draw) -> tuple[str, str, int, str, bytes]:
    """An e-mail, SEO or social fixture with one cell of one data row made invalid: a negative or garbled
    count, or a day past the import window."""
    fmt, name, (count, day) = draw(st.sampled_from(OWNED_EXPORTS))
    title, delim, rows = _owned_rows(name)
    first = 2 if name == "meta_page_insights.csv" else 1  # the description line under Meta's header
    row = draw(st.integers(first, len(rows) - 1))
    kind = draw(st.sampled_from(["negative", "garbled", "future"] if day else ["negative", "garbled"]))
    column = day if kind == "future" else count
    if kind == "negative":
        value = f"-{draw(st.integers(1, 10**6))}"
    elif kind == "garbled":
        value = draw(st.sampled_from(["abc", "12,5O", "1e", "--5", "1.2.3.4", "x1", "NaN", "1e400", "2.5"]))
    else:
        value = (
            f"{draw(st.integers(2100, 9999))}-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}"
        )
    rows[row][rows[0].index(column)] = value
    return fmt, name, row - first + 1, column, _text(title, delim, rows)


def _invalid_owned(workspace, tmp_path_factory, case) -> None:
    fmt, name, row, column, data = case
    folder = tmp_path_factory.mktemp("invalid")
    path = folder / Path(name).name
    path.write_bytes(data)
    before = workspace.checksum()
    with pytest.raises(DataValidationError) as caught:
        import_owned(workspace, fmt, path)
    assert (caught.value.file, caught.value.row, caught.value.column) == (Path(name).name, row, column)
    assert workspace.checksum() == before


@SETTINGS
@given(case=invalid_owned_export())
def test_channel_kpi_importers_refuse_an_invalid_cell_with_its_row_and_column(
    workspace, tmp_path_factory, case
) -> None:
    _invalid_owned(workspace, tmp_path_factory, case)


@pytest.mark.slow
@SLOW_SETTINGS
@given(case=invalid_owned_export())
def test_channel_kpi_importers_refuse_an_invalid_cell_many(workspace, tmp_path_factory, case) -> None:
    _invalid_owned(workspace, tmp_path_factory, case)


@st.composite
def damaged_owned_export(draw) -> tuple[str, str, bytes]:
    """An e-mail, SEO or social fixture (or the bulk Search Console Parquet table) with a random cut, flipped
    bytes, inserted bytes or odd cells."""
    fmt, name = draw(
        st.sampled_from(
            [(f, n) for f, n, _ in OWNED_EXPORTS] + [("search-console", "searchdata_site_impression.parquet")]
        )
    )
    suffix = Path(name).suffix
    how = draw(st.sampled_from(["cut", "flip", "insert"] + (["cells"] if suffix == ".csv" else [])))
    if how == "cells":
        title, delim, rows = _owned_rows(name)
        for _ in range(draw(st.integers(1, 3))):
            row = rows[draw(st.integers(0, len(rows) - 1))]
            row[draw(st.integers(0, len(row) - 1))] = draw(ODD_CELLS)
        return fmt, suffix, _text(title, delim, rows)
    data = bytearray((FIXTURES / name).read_bytes())
    at = draw(st.integers(0, len(data)))
    if how == "cut":
        data = data[:at]
    elif how == "flip":
        at = min(at, len(data) - 1)
        data[at] = draw(st.integers(0, 255))
    else:
        data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return fmt, suffix, bytes(data)


def _damaged_owned(workspace, tmp_path_factory, case) -> None:
    fmt, suffix, data = case
    path = tmp_path_factory.mktemp("damaged") / f"export{suffix}"
    path.write_bytes(data)
    before = workspace.checksum()
    try:
        import_owned(workspace, fmt, path)
    except DataValidationError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        assert workspace.checksum() == before


@SETTINGS
@given(case=damaged_owned_export())
def test_damaged_channel_kpi_exports_never_crash(workspace, tmp_path_factory, case) -> None:
    _damaged_owned(workspace, tmp_path_factory, case)


@pytest.mark.slow
@SLOW_SETTINGS
@given(case=damaged_owned_export())
def test_damaged_channel_kpi_exports_never_crash_many(workspace, tmp_path_factory, case) -> None:
    _damaged_owned(workspace, tmp_path_factory, case)
