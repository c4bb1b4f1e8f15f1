"""``trueroi import`` names the workspace it wrote to, and warns (or, strict, refuses) when the current
directory is another client's workspace than the one ``TRUEROI_WORKSPACE`` names."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trueroi.cli.main import build_app, main
from trueroi.workspace import Workspace

ORDERS_CSV = "order_id,ts,currency,revenue\nA-1,2025-01-01 10:00,EUR,100\nA-2,2025-01-01 11:00,EUR,50\n"


@pytest.fixture
def clients(tmp_path: Path, monkeypatch) -> tuple[Path, Path, Path]:
    """Two client workspaces; the shell stands in client A while TRUEROI_WORKSPACE names client B."""
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS_CSV)
    a, b = Workspace.init(tmp_path / "client_a"), Workspace.init(tmp_path / "client_b")
    a.close()
    b.close()
    monkeypatch.chdir(a.path)
    monkeypatch.setenv("TRUEROI_WORKSPACE", str(b.path))
    monkeypatch.delenv("TRUEROI_STRICT", raising=False)
    return a.path, b.path, orders


def _orders(path: Path) -> int:
    with Workspace.open(path) as ws:
        return ws.row_count("orders")


def test_an_import_warns_that_it_writes_to_another_workspace_than_the_current_folder(clients) -> None:
    here, there, orders = clients
    result = CliRunner().invoke(build_app(), ["import", "orders", str(orders)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("warning: the current directory") and str(here) in lines[0]
    assert str(there) in lines[0]
    assert lines[-1] == f"wrote to workspace {there}"
    assert (_orders(here), _orders(there)) == (0, 2)
    again = CliRunner().invoke(build_app(), ["import", "orders", str(orders)])
    assert again.stderr.strip().splitlines()[-1] == f"nothing written to workspace {there}"


def test_strict_mode_refuses_to_choose(clients, monkeypatch, capsys) -> None:
    here, there, orders = clients
    monkeypatch.setenv("TRUEROI_STRICT", "1")
    with pytest.raises(SystemExit) as exc:
        main(["import", "orders", str(orders)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "strict mode" in err[0] and str(here) in err[0]
    assert (_orders(here), _orders(there)) == (0, 0)
    # naming the workspace explicitly is a choice: no warning, no refusal
    with pytest.raises(SystemExit) as ok:
        main(["import", "orders", str(orders), "-w", str(here)])
    assert ok.value.code in (0, None)
    assert capsys.readouterr().err.strip() == f"wrote to workspace {here}"


def test_the_strict_option_refuses_like_the_variable(clients, monkeypatch, capsys) -> None:
    here, there, orders = clients
    with pytest.raises(SystemExit) as exc:
        main(["--strict", "import", "orders", str(orders)])
    assert exc.value.code == 2 and "strict mode" in capsys.readouterr().err
    assert (_orders(here), _orders(there)) == (0, 0)
    monkeypatch.delenv("TRUEROI_STRICT", raising=False)  # the option set it for this process


def test_every_writing_command_names_its_workspace(clients) -> None:
    """A goal, a budget and an alert rule written from client A's folder say they went to client B."""
    here, there, _ = clients
    commands = [
        [
            "goal",
            "add",
            "g",
            "--kpi",
            "revenue",
            "--target",
            "100",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-31",
        ],
        ["budget", "set", "b", "--amount", "100", "--from", "2025-01-01", "--to", "2025-01-31"],
        ["alert", "add", "a", "--kpi", "spend", "--above", "10", "--webhook", "http://127.0.0.1:9/x"],
        ["goal", "remove", "g"],
    ]
    for args in commands:
        result = CliRunner().invoke(build_app(), args)
        assert result.exit_code == 0, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith("warning: the current directory"), args
        assert lines[-1] == f"wrote to workspace {there}", args
