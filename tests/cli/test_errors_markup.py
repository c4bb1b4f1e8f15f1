"""Error messages reach the terminal as one line: square brackets are not taken for rich markup, and
control characters (a file name with an escape sequence) are written as escapes, not sent to the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

from trueroi.cli.main import main
from trueroi.workspace import Workspace


def _run(capsys, *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def test_bracketed_text_in_an_error_is_printed_as_is(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    ws = str(tmp_path / "ws")
    assert _run(capsys, "init", ws)[0] == 0
    out = str(tmp_path / "r.html")
    code, err = _run(
        capsys, "report", "--period", "2025-Q3", "--client", "nobody", "--out", out, "--workspace", ws
    )
    assert code == 2
    assert "has no [clients.nobody] branding" in err
    with pytest.raises(FileNotFoundError):
        open(out)  # noqa: SIM115 - nothing was written


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("nope\x1b[31mred.csv", "nope\\x1b[31mred.csv"),  # ESC: recolours the terminal when printed raw
        ("nope\x9b2Jx.csv", "nope\\x9b2Jx.csv"),  # C1 CSI: clears the screen on some terminals
        ("nope\u202evsc.exe", "nope\\u202evsc.exe"),  # right-to-left override: hides the real name
        ("nope\rfake.csv", "nope\\x0dfake.csv"),  # carriage return: overwrites the line
    ],
)
def test_control_characters_in_an_error_are_escaped(tmp_path, capsys, monkeypatch, name, shown):
    monkeypatch.setenv("COLUMNS", "300")
    ws = str(tmp_path / "ws")
    assert _run(capsys, "init", ws)[0] == 0
    code, err = _run(capsys, "import", "google-ads", str(tmp_path / name), "--workspace", ws)
    assert code == 2
    assert shown in err and err.count("\n") == 1, err
    assert not any(ch in err for ch in "\x1b\x9b\u202e\r")


def test_an_unknown_attribution_model_is_one_line_and_nothing_after_it(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    ads = pd.DataFrame(
        {
            "date_day": [date(2026, 3, 1), date(2026, 3, 2)],
            "platform": "google_ads",
            "campaign_id": "c1",
            "campaign_name": "c1",
            "channel": "Search",
            "currency": "EUR",
            "spend": [10.0, 12.0],
        }
    )
    touches = pd.DataFrame(
        {
            "touch_id": ["t1"],
            "user_id": ["u1"],
            "ts": [pd.Timestamp("2026-03-01 10:00")],
            "source": ["google"],
            "medium": ["cpc"],
            "campaign": ["c1"],
            "channel": ["Search"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["o1"],
            "customer_id": ["k1"],
            "user_id": ["u1"],
            "ts": [pd.Timestamp("2026-03-01 11:00")],
            "currency": ["EUR"],
            "revenue": [50.0],
        }
    )
    data = {"ad_performance": ads, "touchpoints": touches, "orders": orders}
    ws.load(data, source_format="test", file_name="shop", sha256="shop")
    ws.close()
    path = ws.path / "trueroi.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"last_non_direct_click"', '"nosuch"'), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "trueroi.cli.main", "kpis", "--workspace", str(ws.path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: unknown attribution model 'nosuch'"), done.stderr
    assert done.stderr.count("\n") == 1 and "Exception ignored" not in done.stderr, done.stderr


def test_table_cells_from_data_are_shown_as_written(capsys) -> None:
    """A campaign name with rich markup or a terminal escape is printed literally, not interpreted."""
    from trueroi.cli.common import print_table

    print_table(
        [{"campaign": "[bold red]Sale[/]"}, {"campaign": "evil\x1b[31mred"}],
        [("campaign", "Campaign", "text")],
    )
    out = capsys.readouterr().out
    assert "[bold red]Sale[/]" in out
    assert "\x1b" not in out and "evil\\x1b[31mred" in out
