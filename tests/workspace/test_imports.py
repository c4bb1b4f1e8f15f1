"""Listing the imports of a workspace and removing one with every row it loaded (library and CLI)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main
from trueroi.ingest import import_file
from trueroi.metrics import kpi_report
from trueroi.workspace import UnknownImportError, Workspace
from trueroi.workspace.derived import STATE_TABLE

FIXTURES = Path(__file__).parents[1] / "ingest" / "fixtures"


@pytest.fixture
def loaded(workspace: Workspace) -> Workspace:
    """fx rates (4 rows), orders (4), touchpoints (8) and a GA4 export (touchpoints and conversions)."""
    for fmt, name in (
        ("fx-rates", "fx_rates.csv"),
        ("orders", "orders.csv"),
        ("touchpoints", "touchpoints.csv"),
        ("ga4", "ga4_events.ndjson"),
    ):
        import_file(workspace, fmt, FIXTURES / name)
    return workspace


def test_the_list_names_every_import_with_its_file_hash_and_rows(loaded: Workspace) -> None:
    listing = loaded.imports()
    assert [(r.format, r.file) for r in listing.imports] == [
        ("fx-rates", "fx_rates.csv"),
        ("orders", "orders.csv"),
        ("touchpoints", "touchpoints.csv"),
        ("ga4", "ga4_events.ndjson"),
    ]
    orders = listing.imports[1]
    assert orders.sha256 == hashlib.sha256((FIXTURES / "orders.csv").read_bytes()).hexdigest()
    assert orders.tables == ["orders"] and orders.rows == 4 and orders.rows_present == 4
    assert orders.status == "loaded"
    ga4 = listing.imports[3]
    assert ga4.tables == ["conversions", "touchpoints"]
    assert ga4.rows == loaded.row_count("conversions") + loaded.row_count("touchpoints") - 8
    payload = listing.to_dict()["imports"][1]
    assert set(payload) == {
        "import_id",
        "format",
        "file",
        "sha256",
        "tables",
        "rows",
        "rows_present",
        "loaded_at",
        "status",
    }
    assert payload["loaded_at"].startswith("20")


def test_removing_an_import_deletes_its_rows_in_every_table_and_its_record(loaded: Workspace) -> None:
    ga4 = loaded.imports().imports[3]
    conversions, touches = loaded.row_count("conversions"), loaded.row_count("touchpoints")
    assert conversions > 0 and touches > 8
    removed = loaded.remove_import(ga4.import_id)
    assert removed.rows == {"conversions": conversions, "touchpoints": touches - 8}
    assert removed.removed == ga4.rows
    assert loaded.row_count("conversions") == 0 and loaded.row_count("touchpoints") == 8
    assert [r.format for r in loaded.imports().imports] == ["fx-rates", "orders", "touchpoints"]
    # the file can be imported again afterwards (it is no longer known as loaded)
    assert not import_file(loaded, "ga4", FIXTURES / "ga4_events.ndjson").skipped


def test_removing_an_import_invalidates_the_derived_tables(loaded: Workspace) -> None:
    """Revenue of the orders file is 100 + 50 + 2 x foreign orders; after removing it, none is left."""
    before = kpi_report(loaded).totals["revenue"]
    assert before > 0
    assert loaded.con.con.execute(f"SELECT count(*) FROM {STATE_TABLE}").fetchone()[0] > 0
    orders = loaded.imports().imports[1]
    loaded.remove_import(orders.import_id[:6])  # a unique prefix is enough
    assert loaded.con.con.execute(f"SELECT count(*) FROM {STATE_TABLE}").fetchone()[0] == 0
    assert not kpi_report(loaded).totals["revenue"]


def test_an_unknown_id_is_refused_and_changes_nothing(loaded: Workspace) -> None:
    before = loaded.checksum()
    with pytest.raises(UnknownImportError, match="no import with id 'nope'"):
        loaded.remove_import("nope")
    assert loaded.checksum() == before


def test_import_list_and_remove_commands(loaded: Workspace, capsys) -> None:
    ws = str(loaded.path)
    loaded.close()
    run = CliRunner().invoke
    listed = run(build_app(), ["import", "list", "-w", ws, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    imports = json.loads(listed.stdout)["imports"]
    assert [i["format"] for i in imports] == ["fx-rates", "orders", "touchpoints", "ga4"]
    table = run(build_app(), ["import", "list", "-w", ws])
    assert table.exit_code == 0 and imports[1]["sha256"][:12] in table.stdout
    touch_id = imports[2]["import_id"]
    removed = run(build_app(), ["import", "remove", touch_id, "-w", ws, "--format", "json"])
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout) == {
        "import_id": touch_id,
        "format": "touchpoints",
        "file": "touchpoints.csv",
        "rows": {"touchpoints": 8},
        "removed": 8,
    }
    again = run(build_app(), ["import", "list", "-w", ws, "-f", "json"])
    assert [i["import_id"] for i in json.loads(again.stdout)["imports"]] == [
        i["import_id"] for i in imports if i["import_id"] != touch_id
    ]
    with pytest.raises(SystemExit) as exc:
        main(["import", "remove", touch_id, "-w", ws])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"no import with id '{touch_id}'" in err[0] and "Traceback" not in err[0]
