"""Small PDF documents of the platform (receipts, opening reports), on fpdf2.

fpdf2's core fonts only know Latin-1 (no €, no œ, no typographic quotes), so the platform ships the free
DejaVu fonts (Bitstream Vera licence, see core/fonts/LICENSE): DejaVu Sans for text, DejaVu Sans Mono for
digests and identifiers. Usage:

    doc = Document(title="Accusé de réception", subject="EB-12-3")
    doc.heading("Accusé de réception")
    doc.paragraph("Le pli a été reçu le 1 décembre 2026 à 11:59:58 (heure de Paris).")
    doc.key_values([("Consultation", "2026-012 — Travaux"), ("Montant", "12 500 €")])
    doc.table(["Fichier", "Taille"], [["offre.pdf.age", "1,2 Mo"]])
    doc.digest("SHA-256", "9f86d0…")
    pdf_bytes = doc.output()

Every method takes plain text (never markup): bidders' file names are printed as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONTS = Path(__file__).resolve().parent / "fonts"
SANS = "DejaVuSans"
MONO = "DejaVuSansMono"
_GREY = (90, 90, 90)
_LINE = (200, 200, 200)


class _PDF(FPDF):
    """FPDF with the platform's footer (document title and page numbers)."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(SANS, size=8)
        self.set_text_color(*_GREY)
        self.cell(0, 8, f"{self.footer_text}    {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


class Document:
    """An A4 portrait document: headings, paragraphs, key/value tables, tables and monospace digests."""

    def __init__(self, *, title: str, subject: str = "", author: str = "e-bourgogne", footer: str = "") -> None:
        pdf = _PDF(orientation="portrait", unit="mm", format="A4")
        pdf.add_font(SANS, "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font(SANS, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.add_font(MONO, "", str(FONTS / "DejaVuSansMono.ttf"))
        pdf.set_title(title)
        pdf.set_subject(subject)
        pdf.set_author(author)
        pdf.set_creator("e-bourgogne")
        pdf.set_lang("fr")
        pdf.footer_text = footer or title
        pdf.set_margins(18, 18, 18)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.add_page()
        pdf.set_font(SANS, size=10)
        self.pdf = pdf

    @property
    def width(self) -> float:
        """The usable width between the margins, in millimetres."""
        return self.pdf.epw

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 17, 2: 13}.get(level, 11)
        self.pdf.ln(2 if level > 1 else 0)
        self.pdf.set_font(SANS, "B", size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(2)
        self.pdf.set_font(SANS, size=10)

    def paragraph(self, text: str, *, size: float = 10, bold: bool = False, grey: bool = False) -> None:
        self.pdf.set_font(SANS, "B" if bold else "", size)
        if grey:
            self.pdf.set_text_color(*_GREY)
        self.pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font(SANS, size=10)
        self.pdf.ln(1.5)

    def key_values(
        self, rows: Iterable[tuple[str, str]], *, key_width: float = 55, mono_keys: Sequence[str] = ()
    ) -> None:
        """A two-column table without headings: label, value. Values of `mono_keys` are set in monospace."""
        rows = list(rows)
        if not rows:
            return
        self.pdf.set_font(SANS, size=9.5)
        self.pdf.set_draw_color(*_LINE)
        with self.pdf.table(
            col_widths=(key_width, self.width - key_width),
            width=self.width,
            first_row_as_headings=False,
            text_align="LEFT",
            line_height=5,
            padding=1.2,
        ) as table:
            for key, value in rows:
                row = table.row()
                row.cell(key, style=FontFace(emphasis="BOLD"))
                if key in mono_keys:
                    row.cell(value, style=FontFace(family=MONO, size_pt=8.5))
                else:
                    row.cell(value)
        self.pdf.set_font(SANS, size=10)
        self.pdf.ln(3)

    def table(
        self,
        headings: Sequence[str],
        rows: Iterable[Sequence[str]],
        *,
        col_widths: Sequence[float] | None = None,
        mono_columns: Sequence[int] = (),
    ) -> None:
        """A table with a heading row; the columns in `mono_columns` (indexes) are set in small monospace."""
        self.pdf.set_font(SANS, size=9)
        self.pdf.set_draw_color(*_LINE)
        with self.pdf.table(
            col_widths=tuple(col_widths) if col_widths else None,
            width=self.width,
            text_align="LEFT",
            line_height=4.6,
            padding=1.2,
            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        ) as table:
            heading = table.row()
            for text in headings:
                heading.cell(text)
            for values in rows:
                row = table.row()
                for index, value in enumerate(values):
                    if index in mono_columns:
                        row.cell(str(value), style=FontFace(family=MONO, size_pt=7.5))
                    else:
                        row.cell(str(value))
        self.pdf.set_font(SANS, size=10)
        self.pdf.ln(3)

    def digest(self, label: str, value: str) -> None:
        """A label, then a long identifier (SHA-256 hex, base64) in monospace, broken anywhere."""
        self.pdf.set_font(SANS, "B", 9.5)
        self.pdf.multi_cell(0, 5, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_font(MONO, size=8.5)
        self.pdf.multi_cell(0, 4.3, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")
        self.pdf.set_font(SANS, size=10)
        self.pdf.ln(2)

    def monospace(self, text: str, *, size: float = 7.5) -> None:
        """A block of preformatted text (a PEM certificate, a command), broken anywhere."""
        self.pdf.set_font(MONO, size=size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")
        self.pdf.set_font(SANS, size=10)
        self.pdf.ln(2)

    def rule(self) -> None:
        self.pdf.set_draw_color(*_LINE)
        y = self.pdf.get_y() + 1
        self.pdf.line(self.pdf.l_margin, y, self.pdf.l_margin + self.width, y)
        self.pdf.ln(3)

    def page_break(self) -> None:
        self.pdf.add_page()

    def output(self) -> bytes:
        return bytes(self.pdf.output())
