"""``trueroi report``: HTML, PDF and JSON on the demo shop; exit code 2 and nothing written on bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from trueroi.errors import UsageError


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``trueroi`` in this process (the session's open workspace connection stays valid)."""
    from trueroi.cli.main import main

    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.slow
def test_html_and_pdf_on_the_demo_shop(cli, demo_shop, tmp_path):
    ws = str(demo_shop.ws.path)
    code, out, err = cli("report", "--period", "2026-Q3", "--out", str(tmp_path / "q3.html"), "-w", ws)
    assert code == 0, err
    assert "Report written to" in out
    text = (tmp_path / "q3.html").read_text(encoding="utf-8")
    assert "Marketing performance 2026-Q3" in text and 'class="chart" data-chart="roi"' in text
    code, _, err = cli("report", "--period", "2026-07", "--out", str(tmp_path / "jul.pdf"), "-w", ws)
    assert code == 0, err
    pdf_text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "jul.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Marketing performance 2026-07" in pdf_text and "2026-07-01 to 2026-07-31" in pdf_text
    assert (tmp_path / "jul.pdf").stat().st_mode & 0o777 != 0o600  # an ordinary file, not mkstemp's mode
    assert _leftovers(tmp_path) == ["jul.pdf", "q3.html"]  # no temporary file left behind


def test_json_is_the_report_content(cli, branded_shop, tmp_path, case):
    out = tmp_path / "q3.json"
    code, _, err = cli(
        "report",
        "--period",
        "2026-07-01..2026-09-30",
        "--client",
        case.client,
        "--out",
        str(out),
        "--attribution-models",
        "last_click,linear",
        "-w",
        str(branded_shop.ws.path),
    )
    assert code == 0, err
    content = json.loads(out.read_text())
    assert content["client"]["name"] == "Acme Shoes GmbH"
    assert content["period"] == {"label": "2026-07-01..2026-09-30", "from": "2026-07-01", "to": "2026-09-30"}
    assert content["attribution"]["models"] == ["last_click", "linear"]
    steps = content["next_steps"] + content["next_steps_appendix"]  # the first five, then the appendix
    assert len(content["next_steps"]) <= 5
    assert {s["source"] for s in steps} >= {"channels", "quality"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-Q7"], "period '2026-Q7' is not understood"),
        (["--period", "2026-09-30..2026-07-01"], "is not understood"),
        (["--period", "2026-Q3", "--client", "nobody"], "client 'nobody' has no"),
        (["--period", "2026-Q3", "--model", "no/such/dir"], "holds no fitted mix model"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(cli, demo_shop, tmp_path, args, message):
    out = tmp_path / "r.pdf"
    code, stdout, err = cli("report", *args, "--out", str(out), "-w", str(demo_shop.ws.path))
    assert code == 2
    assert message in " ".join(err.split())
    assert len(err.strip().splitlines()) <= 2  # one message (rich may wrap it)
    assert _leftovers(tmp_path) == []


def test_unknown_extension_exits_2(cli, demo_shop, tmp_path):
    code, _, err = cli(
        "report", "--period", "2026-Q3", "--out", str(tmp_path / "r.docx"), "-w", str(demo_shop.ws.path)
    )
    assert code == 2 and "unknown format '.docx'" in err
    assert _leftovers(tmp_path) == []


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    from trueroi.io import write_atomically

    out = tmp_path / "report.html"
    out.write_text("last week's report")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("<html><body>half a rep")
        raise UsageError("chart failed")

    with pytest.raises(UsageError, match="chart failed"):
        write_atomically(out, half_then_fail)
    assert out.read_text() == "last week's report"
    assert _leftovers(tmp_path) == ["report.html"]

    write_atomically(out, lambda tmp: tmp.write_text("this week's report"))
    assert out.read_text() == "this week's report" and _leftovers(tmp_path) == ["report.html"]


def test_missing_output_directory_exits_2(cli, demo_shop, tmp_path):
    code, _, err = cli(
        "report",
        "--period",
        "2026-Q3",
        "--out",
        str(tmp_path / "nope" / "r.html"),
        "-w",
        str(demo_shop.ws.path),
    )
    assert code == 2 and "does not exist" in err
