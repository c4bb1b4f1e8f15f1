"""The PDF report as a reader sees it: pages rendered to images (pdftoppm) and their text (pdftotext)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from trueroi.report.pdf import write_management_pdf


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])


def _pages(pdf: Path, out: Path, dpi: int = 40) -> list[np.ndarray]:
    """Every page rendered by poppler's pdftoppm, as RGB arrays."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out / "page")], check=True, timeout=120)
    files = sorted(out.glob("page-*.png"))
    pages = []
    for f in files:
        with Image.open(f) as image:
            pages.append(np.asarray(image.convert("RGB")).astype(int))
    return pages


def _near(page: np.ndarray, hex_color: str, tol: int = 12) -> int:
    """How many pixels of ``page`` have (nearly) the colour ``hex_color``."""
    return int((np.abs(page - _rgb(hex_color)).max(axis=2) <= tol).sum())


def _image_pages(pdf: Path) -> dict[int, int]:
    """Page number -> how many raster images (pdfimages -list, soft masks left out) it holds."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True)
    pages: dict[int, int] = {}
    for line in listing.stdout.splitlines()[2:]:
        cols = line.split()
        if cols[2] == "image":
            pages[int(cols[0])] = pages.get(int(cols[0]), 0) + 1
    return pages


@pytest.fixture(scope="module")
def pdf(report_content, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    write_management_pdf(path, report_content)
    return path


def test_text_names_client_period_kpis_and_goals(pdf, report_content):
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "Acme Shoes GmbH",
        "Marketing performance 2026-Q3",
        "2026-07-01 to 2026-09-30",
        "Headline KPIs",
        "Media ROI",
        "Full ROI",
        "ROAS",
        "CPA",
        "Newsletter push Q3",
        "Revenue Q3",
        "off_track",
        "Goal Newsletter push Q3 is off track",
        "Attribution comparison",
        "Data quality",
        "No fitted mix model found",
    ):
        assert expected in text, expected
    revenue = next(r for r in report_content["kpis"]["rows"] if r["kpi"] == "revenue")
    assert f"{revenue['value']:,.0f}" in text  # the figure that test_management checks against kpi_report


def test_title_page_carries_branding(pdf, tmp_path, case):
    pages = _pages(pdf, tmp_path)
    title = pages[0]
    band = title[: title.shape[0] // 20]  # the top 5% of the page: the primary-colour band
    assert _near(band, case.brand.primary_color) > 0.9 * band.shape[0] * band.shape[1]
    assert _near(title, case.brand.accent_color) > 0  # accent stripe under the band (and the logo)
    assert _image_pages(pdf).get(1) == 1  # the logo
    for page in pages[1:]:  # every later page: a header band in the primary colour
        assert _near(page[:8], case.brand.primary_color) > 0.5 * 8 * page.shape[1]


def test_chart_pages_are_rendered_not_blank(pdf, tmp_path, report_content, case):
    """Every chart is an image on its page and shows bars in the client's accent colour (its 2nd series)."""
    pages = _pages(pdf, tmp_path)
    images = _image_pages(pdf)
    charts = sum(n for p, n in images.items() if p > 1)
    assert charts == 3  # goals, media vs full ROI, attribution (no mix model in this workspace)
    for number, page in enumerate(pages, start=1):
        accent = _near(page, case.brand.accent_color)
        if number > 1 and number in images:
            assert accent > 30, f"page {number}: a chart image but no accent-coloured bars"
            assert len(np.unique(page.reshape(-1, 3), axis=0)) > 50  # a drawn chart, not an empty box
        elif number > 1:
            assert accent == 0, f"page {number}: accent colour without a chart"
