"""Error messages reach the terminal verbatim: square brackets are not taken for rich markup."""

from __future__ import annotations

import pytest

from trueroi.cli.main import main


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
