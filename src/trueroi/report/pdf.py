"""The management/client report as a PDF: reportlab pages, matplotlib charts embedded as PNG images.

A title page carries the client's logo, name and colours; every later page has a header band in the primary
colour with the client's name and the period. Text uses the DejaVu Sans font shipped with matplotlib
(embedded in the file), so any Unicode client name prints and nothing is fetched.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from trueroi.report.branding import read_logo
from trueroi.report.charts import PALETTE, Section, Table, sections, to_png

FONT, FONT_BOLD = "TrueRoiSans", "TrueRoiSans-Bold"


def _register_fonts() -> tuple[str, str]:
    """DejaVu Sans from matplotlib's data directory, registered once with reportlab."""
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont(FONT, str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    return FONT, FONT_BOLD


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = _register_fonts()
    return {
        "body": ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11, spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=7, leading=8.5),
        "cell_r": ParagraphStyle("cell_r", fontName=regular, fontSize=7, leading=8.5, alignment=2),
        "head": ParagraphStyle("head", fontName=bold, fontSize=7, leading=8.5, textColor="#ffffff"),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=13, leading=16, spaceBefore=8, spaceAfter=5),
        "caption": ParagraphStyle("caption", fontName=bold, fontSize=8.5, leading=11, spaceBefore=4),
        "title": ParagraphStyle("title", fontName=bold, fontSize=22, leading=27, spaceAfter=10),
        "client": ParagraphStyle("client", fontName=bold, fontSize=16, leading=20, spaceAfter=8),
        "msg": ParagraphStyle(
            "msg",
            fontName=regular,
            fontSize=8.5,
            leading=11,
            backColor="#f4f6f8",
            borderPadding=4,
            spaceAfter=6,
        ),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table_flow(t: Table, styles: dict[str, Any], primary: str, width: float) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, TableStyle
    from reportlab.platypus import Table as RLTable

    head = [Paragraph(_esc(h), styles["head"]) for h in t.header]
    rows = [
        [
            Paragraph(
                (f'<font color="#b00020">{_esc(c)}</font>' if n else _esc(c)),
                styles["cell" if a == "left" else "cell_r"],
            )
            for c, a, n in zip(row, t.align, neg, strict=True)
        ]
        for row, neg in zip(t.cells, t.negative, strict=True)
    ]
    widths = _col_widths(t, width)
    grid = RLTable([head, *rows], colWidths=widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(primary)),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f6f8")]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    out = [Paragraph(_esc(t.title), styles["caption"])] if t.title else []
    return out + [grid]


CHAR_PT, BOLD_PT, PAD_PT = 4.3, 5.0, 8.0  # mean width of a 7 pt DejaVu Sans (Bold) character; padding


def _col_widths(t: Table, width: float) -> list[float]:
    """Column widths in points: numbers and header words never wrap; text columns share what is left."""
    n = len(t.header)
    longest = [max([len(r[i]) for r in t.cells] + [1]) for i in range(n)]
    word = [max(len(w) for w in (t.header[i].split() or [""])) * BOLD_PT for i in range(n)]
    fixed = [
        max(longest[i] * CHAR_PT, word[i]) + PAD_PT if t.align[i] == "right" else word[i] + PAD_PT
        for i in range(n)
    ]
    text = [i for i in range(n) if t.align[i] == "left"]
    room = width - sum(fixed)
    if room <= 0 or not text:
        total = sum(fixed)
        return [w * width / total for w in fixed]
    need = {i: max(min(longest[i], 70) * CHAR_PT + PAD_PT - fixed[i], 0.0) for i in text}
    share = sum(need.values()) or 1.0
    grow = {i: min(need[i], room * need[i] / share) for i in text}
    widths = [fixed[i] + grow.get(i, 0.0) for i in range(n)]
    spare = width - sum(widths)  # give what text did not need to every column alike
    return [w + spare / n for w in widths]


def _section_flow(s: Section, styles: dict[str, Any], colors: tuple[str, ...], width: float) -> list[Any]:
    from reportlab.platypus import Image, Paragraph, Spacer

    out: list[Any] = [Paragraph(_esc(s.heading), styles["h2"])]
    if s.intro:
        out.append(Paragraph(_esc(s.intro), styles["body"]))
    if s.message:
        out.append(Paragraph(_esc(s.message), styles["msg"]))
    for chart in s.charts:
        png = to_png(chart, colors)
        image = Image(io.BytesIO(png))
        scale = width / image.imageWidth
        image.drawWidth, image.drawHeight = width, image.imageHeight * scale
        out += [image, Spacer(1, 4)]
    for t in s.tables:
        out += _table_flow(t, styles, colors[0], width)
        out.append(Spacer(1, 6))
    return out


def _title_page(content: dict[str, Any], styles: dict[str, Any], width: float) -> list[Any]:
    from reportlab.platypus import Image, PageBreak, Paragraph, Spacer

    client, period = content["client"], content["period"]
    out: list[Any] = [Spacer(1, 90)]
    if client.get("logo"):
        checked = read_logo(client["logo"])  # a PNG or JPEG image, read once; else a ConfigError
        scale = min(160 / checked.width, 80 / checked.height)
        logo = Image(io.BytesIO(checked.data), width=checked.width * scale, height=checked.height * scale)
        logo.hAlign = "LEFT"
        out += [logo, Spacer(1, 16)]
    out += [
        Paragraph(_esc(client["name"]), styles["client"]),
        Paragraph(_esc(content["title"]), styles["title"]),
        Paragraph(_esc(f"Period {period['label']}: {period['from']} to {period['to']}"), styles["body"]),
        Paragraph(
            _esc(f"Money in {content['currency']}; attribution {content['attribution_model']}."),
            styles["body"],
        ),
        Paragraph(_esc(f"Generated by trueroi on {content['generated_at']}."), styles["body"]),
        PageBreak(),
    ]
    return out


def _decorate(content: dict[str, Any]) -> tuple[Any, Any]:
    """Page callbacks: a primary-colour band on the title page, a header with client and period later."""
    from reportlab.lib import colors

    client, period = content["client"], content["period"]
    primary, accent = colors.HexColor(client["primary_color"]), colors.HexColor(client["accent_color"])

    def first(canvas: Any, doc: Any) -> None:
        w, h = doc.pagesize
        canvas.saveState()
        canvas.setFillColor(primary)
        canvas.rect(0, h - 60, w, 60, stroke=0, fill=1)
        canvas.setFillColor(accent)
        canvas.rect(0, h - 66, w, 6, stroke=0, fill=1)
        canvas.restoreState()

    def later(canvas: Any, doc: Any) -> None:
        w, h = doc.pagesize
        canvas.saveState()
        canvas.setFillColor(primary)
        canvas.rect(0, h - 28, w, 28, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(FONT_BOLD, 9)
        canvas.drawString(doc.leftMargin, h - 18, client["name"])
        canvas.setFont(FONT, 8)
        canvas.drawRightString(
            w - doc.rightMargin, h - 18, f"{content['title']} ({period['from']} to {period['to']})"
        )
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawRightString(w - doc.rightMargin, 20, f"page {doc.page}")
        canvas.restoreState()

    return first, later


def write_management_pdf(path: str | Path, content: dict[str, Any]) -> Path:
    """Write the report for the content of :func:`trueroi.report.management.build_report` to ``path``."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    out = Path(path)
    styles = _styles()
    client = content["client"]
    colors = (client["primary_color"], client["accent_color"], *PALETTE)
    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=15 * mm,
        title=f"{client['name']}: {content['title']}",
        author=client["name"],
        creator="trueroi",
    )
    story = _title_page(content, styles, doc.width)
    for section in sections(content):
        story += _section_flow(section, styles, colors, doc.width)
    first, later = _decorate(content)
    doc.build(story, onFirstPage=first, onLaterPages=later)
    return out
