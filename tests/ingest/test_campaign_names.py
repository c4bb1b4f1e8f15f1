"""Campaign names keep their spelling in reports: the join key is normalised (trimmed, lower case), the name
shown is the spelling the ad platform uses most for that key."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from trueroi.cli.main import build_app
from trueroi.ingest import import_file
from trueroi.workspace import Workspace


def test_kpis_by_campaign_show_the_original_spelling(workspace: Workspace, tmp_path) -> None:
    path = tmp_path / "google.csv"
    path.write_text(
        "Day,Campaign,Campaign ID,Currency code,Impr.,Clicks,Cost\n"
        "2025-01-01,Marke | Nordlicht,1,EUR,100,10,5.00\n"
        "2025-01-02,Marke | Nordlicht,1,EUR,100,10,6.00\n"
        "2025-01-03,MARKE | nordlicht ,3,EUR,100,10,7.00\n"  # another spelling of the same key, less often
        "2025-01-01,Generisch | Laufschuhe,2,EUR,200,20,9.00\n"
    )
    import_file(workspace, "google-ads", path)
    ws = str(workspace.path)
    workspace.close()
    result = CliRunner().invoke(build_app(), ["kpis", "--by", "campaign", "--format", "json", "-w", ws])
    assert result.exit_code == 0, result.output
    rows = {r["campaign"]: r for r in json.loads(result.stdout)["rows"]}
    assert set(rows) == {"Marke | Nordlicht", "Generisch | Laufschuhe"}  # not "marke | nordlicht"
    assert rows["Marke | Nordlicht"]["spend"] == 5.00 + 6.00 + 7.00  # one key, all three rows
    table = CliRunner().invoke(build_app(), ["kpis", "--by", "campaign", "-w", ws])
    assert "Marke | Nordlicht" in table.stdout and "marke | nordlicht" not in table.stdout
