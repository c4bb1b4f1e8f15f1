"""Nothing is deleted silently: a new file replaces only the older rows with its keys (an upsert, reported as
replaced); replacing the period a file covers is asked for explicitly and says how many rows it removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.ingest import import_file
from trueroi.workspace import Workspace, load

SESSIONS = "user_id,ts,session_id,landing_page\n"
ADS = "date_day,platform,campaign_id,ad_group_id,currency,spend,impressions,clicks\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _sessions(path: Path, first: int, count: int, day: str = "2025-01-02") -> Path:
    rows = "".join(
        f"u{i},{day} {10 + i % 12:02d}:{i % 60:02d}:00,s{i},https://shop.example/p/{i % 7}\n"
        for i in range(first, first + count)
    )
    return _write(path, SESSIONS + rows)


def test_a_small_session_file_on_the_same_days_deletes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    """17.4: 300 sessions on Jan 2, then a 7-row export of other sessions of that day. Before, the 7 rows
    replaced all 300 (exit 0, nothing said); now all 307 stay and nothing is reported as replaced."""
    import_file(workspace, "touchpoints", _sessions(tmp_path / "day.csv", 0, 300))
    result = import_file(workspace, "touchpoints", _sessions(tmp_path / "seven.csv", 1000, 7))
    assert result.rows == {"touchpoints": 7} and result.replaced == 0
    assert workspace.row_count("touchpoints") == 307


@pytest.mark.parametrize("bucket_rows", [load.BUCKET_ROWS, 2])
def test_sessions_exported_again_replace_themselves_only(
    workspace: Workspace, tmp_path: Path, monkeypatch, bucket_rows: int
) -> None:
    """A re-export holding 5 of the 300 sessions (same user, time, session, page: the same touch id) and 2 new
    ones: the 5 replace their old rows (reported), the other 295 stay, 2 are added; the same when the keys
    are matched bucket by bucket (4 buckets of 2 staged rows)."""
    monkeypatch.setattr(load, "BUCKET_ROWS", bucket_rows)
    import_file(workspace, "touchpoints", _sessions(tmp_path / "day.csv", 0, 300))
    again = _write(
        tmp_path / "again.csv",
        _sessions(tmp_path / "five.csv", 10, 5).read_text()
        + "".join(_sessions(tmp_path / "two.csv", 500, 2).read_text().splitlines(True)[1:]),
    )
    result = import_file(workspace, "touchpoints", again)
    assert result.replaced == 5
    assert workspace.row_count("touchpoints") == 300 + 2
    assert workspace.table("touchpoints").touch_id.nunique().execute() == 302


def test_a_corrected_order_export_is_an_upsert(workspace: Workspace, tmp_path: Path) -> None:
    header = "order_id,ts,currency,revenue,cogs,status\n"
    import_file(
        workspace,
        "orders",
        _write(
            tmp_path / "a.csv",
            header + "A-1,2025-01-01 10:00,EUR,100,40,paid\nA-2,2025-01-01 11:00,EUR,50,20,paid\n",
        ),
    )
    result = import_file(
        workspace,
        "orders",
        _write(
            tmp_path / "b.csv",
            header
            + "A-2,2025-01-01 11:00,EUR,45,20,partially_refunded\nA-3,2025-01-02 09:00,EUR,70,30,paid\n",
        ),
    )
    assert result.replaced == 1  # A-2, corrected
    orders = workspace.table("orders").execute().set_index("order_id")
    assert orders["revenue"].to_dict() == {"A-1": 100.0, "A-2": 45.0, "A-3": 70.0}
    assert orders.loc["A-2", "status"] == "partially_refunded"


def test_campaign_and_ad_group_rows_do_not_replace_each_other(workspace: Workspace, tmp_path: Path) -> None:
    """A campaign-level export and an ad-group-level one of the same campaign and day hold different rows."""
    day = "2025-01-01,google_ads,c1"
    import_file(workspace, "ad-performance", _write(tmp_path / "c.csv", ADS + f"{day},,EUR,30,1000,10\n"))
    groups = ADS + f"{day},g1,EUR,10,400,4\n{day},g2,EUR,20,600,6\n"
    result = import_file(workspace, "ad-performance", _write(tmp_path / "g.csv", groups))
    assert result.replaced == 0
    ads = workspace.table("ad_performance").execute()
    assert sorted(ads["ad_group_id"].fillna("-")) == ["-", "g1", "g2"]
    # a corrected ad-group export replaces its own two rows only
    fixed = ADS + f"{day},g1,EUR,11,400,4\n{day},g2,EUR,21,600,6\n"
    assert import_file(workspace, "ad-performance", _write(tmp_path / "g2.csv", fixed)).replaced == 2
    assert workspace.table("ad_performance").spend.sum().execute() == 30 + 11 + 21


def test_costs_of_other_channels_in_the_same_period_are_kept(workspace: Workspace, tmp_path: Path) -> None:
    header = "period_start,period_end,category,amount,currency,channel\n"
    import_file(
        workspace,
        "costs",
        _write(tmp_path / "a.csv", header + "2025-01-01,2025-01-31,agency_fee,500,EUR,Paid Search\n"),
    )
    result = import_file(
        workspace,
        "costs",
        _write(tmp_path / "b.csv", header + "2025-01-01,2025-01-31,agency_fee,300,EUR,Paid Social\n"),
    )
    assert result.replaced == 0
    assert workspace.table("costs").amount.sum().execute() == 800.0
    # the same channel's fee exported again with a corrected amount replaces it
    fixed = import_file(
        workspace,
        "costs",
        _write(tmp_path / "c.csv", header + "2025-01-01,2025-01-31,agency_fee,550,EUR,Paid Search\n"),
    )
    assert fixed.replaced == 1 and workspace.table("costs").amount.sum().execute() == 850.0


def test_replacing_a_period_is_explicit_and_counted(workspace: Workspace, tmp_path: Path) -> None:
    """Sessions of Jan 1 (4), Jan 2 (3) and Jan 5 (2); a file covering Jan 2..Jan 3 with replace removes the 3
    of Jan 2 (its period), keeps Jan 1 and Jan 5, and other formats' sessions in that period."""
    rows = (
        [f"a{i},2025-01-01 10:0{i}:00,sa{i},https://shop.example/\n" for i in range(4)]
        + [f"b{i},2025-01-02 10:0{i}:00,sb{i},https://shop.example/\n" for i in range(3)]
        + [f"c{i},2025-01-05 10:0{i}:00,sc{i},https://shop.example/\n" for i in range(2)]
    )
    import_file(workspace, "touchpoints", _write(tmp_path / "old.csv", SESSIONS + "".join(rows)))
    new = (
        SESSIONS
        + "n1,2025-01-02 12:00:00,sn1,https://shop.example/\nn2,2025-01-03 12:00:00,sn2,https://shop.example/\n"
    )
    path = _write(tmp_path / "new.csv", new)
    result = import_file(workspace, "touchpoints", path, replace=True)
    assert result.replaced == 3
    sessions = sorted(workspace.table("touchpoints").session_id.execute())
    assert sessions == ["sa0", "sa1", "sa2", "sa3", "sc0", "sc1", "sn1", "sn2"]


def test_the_import_command_replaces_a_period_only_when_asked(workspace: Workspace, tmp_path: Path) -> None:
    ws = str(workspace.path)
    workspace.close()
    run = CliRunner().invoke
    old = _sessions(tmp_path / "old.csv", 0, 40)
    assert run(build_app(), ["import", "touchpoints", str(old), "-w", ws]).exit_code == 0
    plain = run(
        build_app(),
        ["import", "touchpoints", str(_sessions(tmp_path / "a.csv", 100, 3)), "-w", ws, "-f", "json"],
    )
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.stdout)["imports"][0]["replaced"] == 0
    asked = run(
        build_app(),
        [
            "import",
            "touchpoints",
            str(_sessions(tmp_path / "b.csv", 200, 3)),
            "--replace",
            "-w",
            ws,
            "-f",
            "json",
        ],
    )
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.stdout)["imports"][0]["replaced"] == 43  # the 40 + 3 of that day, same format
    table = run(
        build_app(),
        ["import", "touchpoints", str(_sessions(tmp_path / "c.csv", 300, 2)), "--replace", "-w", ws],
    )
    assert table.exit_code == 0 and "Replaced" in table.stdout
    with Workspace.open(ws) as again:
        assert again.row_count("touchpoints") == 2
