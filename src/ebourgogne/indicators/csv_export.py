"""CSV export of a figure, made to open well in the spreadsheets used in French administrations.

Choice: UTF-8 with a byte order mark (Excel reads UTF-8 only with it; LibreOffice accepts it), a
semicolon as separator and a decimal comma (Excel and LibreOffice in French locale read such files as
numbers when opened directly), CRLF line ends (RFC 4180). The first lines say what the figure is, for
which scope and period, and as of when, then a blank line, then the table with its header.
"""

from __future__ import annotations

import csv
import io

from django.utils.formats import date_format
from django.utils.timezone import localtime

BOM = "\ufeff"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def figure_csv(figure, *, scope_label: str, period, as_of) -> str:
    from django.utils.translation import gettext as _

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([figure.title])
    writer.writerow([_("Périmètre"), scope_label])
    writer.writerow([_("Période"), f"{period.start:%Y-%m}", f"{period.end:%Y-%m}"])
    writer.writerow(
        [_("Chiffres arrêtés au"), date_format(localtime(as_of), "Y-m-d H:i") if as_of else _("non calculés")]
    )
    writer.writerow([])
    writer.writerow(figure.columns)
    for row in figure.rows:
        writer.writerow([_cell(value) for value in row])
    return BOM + buffer.getvalue()
