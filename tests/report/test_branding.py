"""A client's logo is a PNG or JPEG image inside the workspace (or its ``branding_dir``), checked by its
content: another client's file never ends up in this client's report, and a file that is no image is one
ConfigError for the HTML and the PDF alike (not a PIL traceback).

Two client folders side by side, as an agency keeps them: ``clientA`` (the workspace) and ``clientB``, whose
``notes.toml`` holds a secret that must not appear anywhere in A's report.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest

from trueroi.cli.main import main
from trueroi.errors import ConfigError, WorkspaceError
from trueroi.report.branding import MAX_LOGO_BYTES, read_logo
from trueroi.report.management import build_report
from trueroi.report.management_html import write_management_html
from trueroi.report.pdf import write_management_pdf
from trueroi.workspace import Workspace, WorkspaceConfig
from trueroi.workspace.config import Branding

from .conftest import write_logo

SECRET = "client B's secret api_key = hunter2"


def png_bytes(width: int = 3, height: int = 2) -> bytes:
    """A valid RGB PNG written by hand (signature, IHDR, one IDAT, IEND; PNG spec section 5)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x2a\x9d\x8f" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
def agency(tmp_path):
    """clientA's workspace (no data) beside clientB's folder with its notes."""
    (tmp_path / "clientB").mkdir()
    (tmp_path / "clientB" / "notes.toml").write_text(SECRET + "\n", encoding="utf-8")
    ws = Workspace.init(tmp_path / "clientA", WorkspaceConfig(name="clientA"))
    yield ws
    ws.close()


def brand(ws: Workspace, logo: str, **config) -> None:
    ws.config.clients["b"] = Branding(name="B", logo=logo)
    for key, value in config.items():
        setattr(ws.config, key, value)


@pytest.mark.parametrize(
    "logo", ["../clientB/notes.toml", "{root}/clientB/notes.toml", "sub/../../clientB/notes.toml"]
)
def test_a_logo_outside_the_workspace_is_refused(agency, logo) -> None:
    brand(agency, logo.format(root=agency.path.parent))
    with pytest.raises(ConfigError, match="outside the workspace") as refused:
        build_report(agency, "2026-Q3", client="b")  # the branding is checked before anything else
    assert SECRET not in str(refused.value)


def test_a_symlink_out_of_the_workspace_is_refused(agency) -> None:
    (agency.path / "brand").mkdir()
    (agency.path / "brand" / "logo.png").symlink_to(agency.path.parent / "clientB" / "notes.toml")
    brand(agency, "brand/logo.png")
    with pytest.raises(ConfigError, match="outside the workspace"):
        build_report(agency, "2026-Q3", client="b")


def test_a_file_that_is_no_image_is_refused_by_its_content(agency) -> None:
    (agency.path / "logo.png").write_text("not an image\n", encoding="utf-8")
    brand(agency, "logo.png")
    with pytest.raises(ConfigError, match="is not a PNG or JPEG image"):
        build_report(agency, "2026-Q3", client="b")


def test_a_damaged_png_is_refused(agency) -> None:
    good = png_bytes()
    (agency.path / "logo.png").write_bytes(good[:40])  # the header, then nothing
    brand(agency, "logo.png")
    with pytest.raises(ConfigError, match="damaged"):
        build_report(agency, "2026-Q3", client="b")


def test_a_logo_over_the_size_limit_is_refused(agency) -> None:
    (agency.path / "logo.png").write_bytes(png_bytes() + b"\x00" * MAX_LOGO_BYTES)
    brand(agency, "logo.png")
    with pytest.raises(ConfigError, match="at most"):
        build_report(agency, "2026-Q3", client="b")


def test_a_logo_in_the_branding_folder_is_allowed(agency) -> None:
    logos = agency.path.parent / "logos"
    logos.mkdir()
    (logos / "b.png").write_bytes(png_bytes())
    brand(agency, "../logos/b.png")
    with pytest.raises(ConfigError, match="outside the workspace"):
        build_report(agency, "2026-Q3", client="b")
    agency.config.branding_dir = "../logos"
    with pytest.raises(WorkspaceError, match="holds no data"):  # past the branding: the next check fails
        build_report(agency, "2026-Q3", client="b")


def test_the_content_decides_the_type_not_the_name(tmp_path) -> None:
    path = tmp_path / "logo.jpg"
    path.write_bytes(png_bytes(5, 4))
    logo = read_logo(path)
    assert (logo.mime, logo.width, logo.height) == ("image/png", 5, 4)
    jpeg = tmp_path / "logo.png"
    write_logo(tmp_path / "made.png")
    from PIL import Image

    with Image.open(tmp_path / "made.png") as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG")
    jpeg.write_bytes(buffer.getvalue())
    assert read_logo(jpeg).mime == "image/jpeg"


@pytest.mark.parametrize("writer", [write_management_html, write_management_pdf])
def test_rendering_refuses_a_file_that_is_no_image(report_content, tmp_path, writer) -> None:
    notes = tmp_path / "notes.toml"
    notes.write_text(SECRET + "\n", encoding="utf-8")
    content = {**report_content, "client": {**report_content["client"], "logo": str(notes)}}
    out = tmp_path / ("report.html" if writer is write_management_html else "report.pdf")
    with pytest.raises(ConfigError, match="is not a PNG or JPEG image"):
        writer(out, content)
    assert not out.exists()


def test_html_embeds_the_logo_with_its_real_type(report_content, tmp_path) -> None:
    logo = tmp_path / "logo.jpg"
    data = png_bytes()
    logo.write_bytes(data)
    content = {**report_content, "client": {**report_content["client"], "logo": str(logo)}}
    out = write_management_html(tmp_path / "r.html", content)
    assert f"data:image/png;base64,{base64.b64encode(data).decode()}" in out.read_text(encoding="utf-8")


def _run(capsys, *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


@pytest.mark.parametrize("suffix", ["html", "pdf"])
def test_the_cli_says_one_line_and_writes_nothing(agency, tmp_path, capsys, monkeypatch, suffix) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    brand(agency, "../clientB/notes.toml")
    agency.config.save(agency.path)
    agency.close()
    out = tmp_path / f"a.{suffix}"
    code, err = _run(capsys, "report", "--period", "2026-Q3", "--client", "b", "--out", str(out), "-w",
                     str(agency.path))  # fmt: skip
    assert code == 2 and err.startswith("error: branding logo") and err.count("\n") == 1, err
    assert not out.exists() and SECRET not in err
