"""A partner statement as a PDF (reportlab): per partner its summary and its order-level lines.

Text uses the DejaVu Sans font shipped with matplotlib (embedded), so any partner or order name prints.
reportlab and matplotlib are imported inside the functions: most callers never write a PDF.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trueroi.partners.statements import Statement

FONT, FONT_BOLD = "TrueRoiPartnerSans", "TrueRoiPartnerSans-Bold"
LINE_HEADER = ["Kind", "Id", "Day", "Customer", "Credit", "Basis", "Rate", "Gross", "Reversed", "Commission"]
LINE_HEADER += ["State", "Lock until", "Reason"]
LINE_WIDTHS = [30, 60, 50, 45, 35, 50, 35, 45, 45, 50, 45, 50, 246]  # points, landscape A4 less margins


def _fonts() -> tuple[str, str]:
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont(FONT, str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    return FONT, FONT_BOLD


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _money(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.2f}"


def _grid(rows: list[list[str]], widths: list[float] | None, styles: dict[str, Any]) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [
        [Paragraph(_esc(c), styles["head" if i == 0 else "cell"]) for c in row] for i, row in enumerate(rows)
    ]
    grid = Table(cells, colWidths=widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f4e79")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f6f8")]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return grid


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = _fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=16, leading=20, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=regular, fontSize=8.5, leading=11, spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=6.5, leading=8),
        "head": ParagraphStyle("head", fontName=bold, fontSize=6.5, leading=8, textColor="#ffffff"),
    }


def _partner_flow(statement: Statement, block: dict[str, Any], styles: dict[str, Any]) -> list[Any]:
    from reportlab.platypus import PageBreak, Paragraph, Spacer

    c, o, leads = block["commission"], block["orders"], block["leads"]
    out: list[Any] = [
        Paragraph(_esc(f"{block['partner']} – {statement.month}"), styles["h2"]),
        Paragraph(
            _esc(
                f"Basis {block['basis']}, rate {block['rate']:g}, lock period {block['lock_days']} days; "
                f"credited by {statement.program.credit} within {statement.program.lookback_days} days; "
                f"as of {statement.as_of.isoformat()}; amounts in {statement.currency}."
            ),
            styles["body"],
        ),
    ]
    summary = [
        ["", "Credited", "Pending", "Validated", "Reversed", "Excluded"],
        ["Orders", *(str(o[k]) for k in ("credited", "pending", "validated", "reversed", "excluded"))],
        ["Leads", *(str(leads[k]) for k in ("credited", "pending", "validated", "reversed", "excluded"))],
    ]
    money = [["Gross", "Reversed", "Pending", "Validated", "Owed"], [_money(c[k]) for k in c]]
    out += [_grid(summary, None, styles), Spacer(1, 4), _grid(money, None, styles), Spacer(1, 6)]
    lines = [LINE_HEADER] + [
        [
            line["kind"],
            line["id"],
            line["day"],
            line["customer"] or "",
            f"{line['credit']:.2f}",
            _money(line["basis_amount"]),
            f"{line['rate']:g}",
            _money(line["commission_gross"]),
            _money(line["commission_reversed"]),
            _money(line["commission"]),
            line["state"],
            (line["lock_until"] or "")[:10],
            line["reason"] or "",
        ]
        for line in block["lines"]
    ]
    if len(lines) > 1:
        out.append(_grid(lines, LINE_WIDTHS, styles))
    out.append(PageBreak())
    return out


def statement_pdf(statement: Statement) -> bytes:
    """The PDF bytes of ``statement``: a title, then per partner its summary and lines."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=28, rightMargin=28, topMargin=28, bottomMargin=28
    )
    doc.title = f"Partner statement {statement.month}"
    story: list[Any] = [Paragraph(_esc(f"Partner statement {statement.month}"), styles["title"])]
    for block in statement.to_dict()["partners"]:
        story += _partner_flow(statement, block, styles)
    doc.build(story)
    return buffer.getvalue()
