"""KPIs of a workspace that holds only a GA4 export: sessions and tracked purchases, no ads, no shop orders.

The fixture ``tests/ingest/fixtures/ga4_events.ndjson`` has three ``session_start`` events (read by hand):

* 2025-01-01 09:00 UTC (10:00 Berlin), utm newsletter / email: channel Email;
* 2025-01-01 14:00 UTC (15:00 Berlin), referrer bing.com, no campaign: Organic Search;
* 2025-01-01 23:00 UTC, i.e. 00:00 on 2 January in Berlin, a gclid on the landing page: Paid Search;

and one purchase (transaction 1001, 89.90), which lands in ``conversions``, not ``orders``. So the data spans
1-2 January 2025 in the workspace's time zone, with 3 sessions and no spend.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from trueroi.cli.main import main
from trueroi.ingest import import_files
from trueroi.metrics import data_range, kpis
from trueroi.workspace import Workspace

GA4 = Path(__file__).parents[1] / "ingest" / "fixtures" / "ga4_events.ndjson"


def test_data_range_of_a_ga4_only_workspace_is_its_sessions_days(workspace: Workspace) -> None:
    import_files(workspace, "auto", [GA4])
    span = data_range(workspace)
    assert (span.start, span.end) == (date(2025, 1, 1), date(2025, 1, 2))


def test_kpis_of_a_ga4_only_workspace(workspace: Workspace) -> None:
    import_files(workspace, "auto", [GA4])
    report = kpis(workspace)
    rows = {r["channel"]: r for r in report.to_dict()["rows"]}
    assert {c: rows[c]["sessions"] for c in ("Email", "Organic Search", "Paid Search")} == {
        "Email": 1,
        "Organic Search": 1,
        "Paid Search": 1,
    }
    assert report.totals["sessions"] == 3 and report.totals["spend"] == 0
    assert report.to_dict()["period"] == {"from": "2025-01-01", "to": "2025-01-02"}


def test_kpis_command_on_a_ga4_only_workspace(workspace: Workspace, capsys, monkeypatch) -> None:
    import_files(workspace, "auto", [GA4])
    monkeypatch.setenv("COLUMNS", "200")
    try:
        main(["kpis", "-w", str(workspace.path), "--format", "json"])
    except SystemExit as exc:  # typer exits 0 on success in standalone mode
        assert exc.code in (0, None), capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert out["totals"]["sessions"] == 3
