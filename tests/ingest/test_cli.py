"""``trueroi import`` and ``trueroi quality`` through the CLI: JSON contracts and exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main

FIXTURES = Path(__file__).parent / "fixtures"


def _run(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def test_import_json_contract_and_idempotency(workspace) -> None:
    ws = str(workspace.path)
    workspace.close()
    result = _run(
        "import",
        "auto",
        str(FIXTURES / "orders.csv"),
        str(FIXTURES / "fx_rates.csv"),
        "--workspace",
        ws,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    # fx-rates are loaded first so the orders' USD and CHF rows find their rates
    assert [(i["format"], i["rows"], i["skipped"]) for i in payload["imports"]] == [
        ("fx-rates", 4, False),
        ("orders", 4, False),
    ]
    assert set(payload["imports"][1]) == {
        "file",
        "format",
        "import_id",
        "rows",
        "tables",
        "replaced",
        "skipped",
        "warnings",
    }
    again = json.loads(_run("import", "orders", str(FIXTURES / "orders.csv"), "-w", ws, "-f", "json").stdout)
    assert again["imports"][0]["skipped"] is True and again["imports"][0]["rows"] == 0


def test_detect(workspace) -> None:
    result = _run(
        "import",
        "--detect",
        str(FIXTURES / "google_ads_ui_utf16.csv"),
        str(FIXTURES / "crm_deals.csv"),
        "--format",
        "json",
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["files"] == [
        {"file": str(FIXTURES / "google_ads_ui_utf16.csv"), "format": "google-ads"},
        {"file": str(FIXTURES / "crm_deals.csv"), "format": "crm"},
    ]


def test_bad_file_is_one_line_and_exit_code_2(workspace, tmp_path, capsys) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,ts,currency,revenue\n1,2025-01-01,EUR,12.5O\n")
    with pytest.raises(SystemExit) as exc:
        main(["import", "orders", str(bad), "--workspace", str(workspace.path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "orders.csv, row 1, column revenue" in err and "Traceback" not in err
    assert workspace.row_count("orders") == 0


def test_unknown_format_exit_code_2(workspace, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["import", "tiktok", str(FIXTURES / "orders.csv"), "-w", str(workspace.path)])
    assert exc.value.code == 2
    assert "unknown import format 'tiktok'" in capsys.readouterr().err


def test_quality_json(workspace) -> None:
    ws = str(workspace.path)
    workspace.close()
    _run("import", "fx-rates", str(FIXTURES / "fx_rates.csv"), "-w", ws)
    _run("import", "orders", str(FIXTURES / "orders.csv"), "-w", ws)
    _run("import", "touchpoints", str(FIXTURES / "touchpoints.csv"), "-w", ws)
    result = _run("quality", "-w", ws, "--format", "json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["findings"]
    assert found and all(
        set(f) == {"code", "severity", "title", "count", "examples", "detail"} for f in found
    )
    codes = {f["code"] for f in found}
    assert "orders_without_touch" in codes and "refunds_cancellations" in codes
    table = _run("quality", "-w", ws)
    assert table.exit_code == 0 and "Data quality" in table.stdout


def test_detect_accepts_auto_folders_and_names_every_unknown_file(tmp_path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "orders.csv").write_bytes((FIXTURES / "orders.csv").read_bytes())
    (folder / "notes.txt").write_text("hello\nworld\n")
    (folder / ".hidden.csv").write_text("x\n1\n")  # hidden files are not exports
    stray = tmp_path / "stray.csv"
    stray.write_text("a,b\n1,2\n")
    # `trueroi import auto --detect *`: FORMAT is "auto", not a file; a folder stands for its files
    result = _run("import", "auto", "--detect", str(folder), str(stray), "--format", "json")
    assert result.exit_code == 2, result.output
    files = {Path(f["file"]).name: f for f in json.loads(result.stdout)["files"]}
    assert set(files) == {"orders.csv", "notes.txt", "stray.csv"}
    assert files["orders.csv"]["format"] == "orders"
    assert files["notes.txt"]["format"] is None and files["stray.csv"]["format"] is None
    # the table output has one line per file, the unknown ones included
    lines = _run("import", "--detect", str(folder), str(stray)).stdout.strip().splitlines()
    assert len(lines) == 3 and sum("unknown" in line for line in lines) == 2


def test_import_auto_names_every_unknown_file_and_loads_nothing(workspace, tmp_path) -> None:
    ws = str(workspace.path)
    before = workspace.checksum()
    workspace.close()
    (tmp_path / "a.txt").write_text("nothing\n")
    (tmp_path / "b.txt").write_text("neither\n")
    good = FIXTURES / "fx_rates.csv"
    result = CliRunner().invoke(build_app(), ["import", "auto", str(good), str(tmp_path), "-w", ws])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception) and "a.txt" in str(result.exception)
    assert "b.txt" in str(result.exception)
    from trueroi.workspace import Workspace

    with Workspace.open(ws) as again:
        assert again.checksum() == before


def test_import_a_folder(workspace, tmp_path) -> None:
    ws = str(workspace.path)
    workspace.close()
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("orders.csv", "fx_rates.csv"):
        (folder / name).write_bytes((FIXTURES / name).read_bytes())
    payload = json.loads(_run("import", "auto", str(folder), "-w", ws, "-f", "json").stdout)
    assert [(i["format"], i["rows"]) for i in payload["imports"]] == [("fx-rates", 4), ("orders", 4)]
