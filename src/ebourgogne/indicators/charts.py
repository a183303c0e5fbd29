"""Server-rendered SVG charts: no JavaScript, no external asset, accessible.

Each chart is an `<svg role="img">` labelled by its own `<title>` and `<desc>` (the desc carries the
text summary); every bar carries its value written next to it, so that colour is never the only carrier
of meaning; the ink is the platform's navy on white (contrast 14:1), the value labels are dark grey on
white (9:1). The page shows the same data as a table (in a `<details>` element) and a summary sentence.
Styling uses SVG presentation attributes only (fill, font-size...): no `style` attribute (CSP).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe

INK = "#1b2a4a"  # navy, as the platform's header
TEXT = "#161616"
MUTED = "#4a4a4a"
RULE = "#6b6b6b"
FONT = "Marianne, Arial, sans-serif"


def _number(value: float, decimals: int = 0) -> str:
    return number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)


def _head(chart_id: str, title: str, description: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{FONT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    decimals: int = 0,
) -> SafeString:
    """Vertical bars (a monthly series), each with its value above it and its label below."""
    count = max(len(values), 1)
    slot = 56 if count <= 12 else 40 if count <= 24 else 28
    left, top, bottom = 12, 28, 44
    plot_height = 200
    width = left * 2 + slot * count
    height = top + plot_height + bottom
    highest = max([*values, 0]) or 1
    parts = _head(chart_id, title, description, width, height)
    baseline = top + plot_height
    parts.append(f'<line x1="{left}" y1="{baseline}" x2="{width - left}" y2="{baseline}" stroke="{RULE}"/>')
    value_size = 12 if slot >= 40 else 10
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_height = round(plot_height * value / highest, 1)
        x = left + index * slot + slot * 0.15
        bar_width = slot * 0.7
        centre = x + bar_width / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{baseline - bar_height:.1f}" width="{bar_width:.1f}" height="{bar_height:.1f}" '
            f'fill="{INK}"/>'
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{baseline - bar_height - 6:.1f}" text-anchor="middle" '
            f'font-size="{value_size}" fill="{TEXT}">{escape(_number(value, decimals))}</text>'
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{baseline + 18}" text-anchor="middle" font-size="{value_size}" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    decimals: int = 0,
    suffix: str = "",
) -> SafeString:
    """Horizontal bars (categories), the label on the left and the value at the end of each bar."""
    row = 30
    label_width, value_width = 260, 90
    plot_width = 360
    width = label_width + plot_width + value_width
    height = max(len(values), 1) * row + 12
    highest = max([*values, 0]) or 1
    parts = _head(chart_id, title, description, width, height)
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 6 + index * row
        bar_width = round(plot_width * value / highest, 1)
        shown = label if len(label) <= 38 else label[:37] + "…"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 19}" text-anchor="end" font-size="13" fill="{TEXT}">'
            f"{escape(shown)}</text>"
        )
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{bar_width:.1f}" height="{row - 10}" fill="{INK}"/>')
        parts.append(
            f'<text x="{label_width + bar_width + 6:.1f}" y="{y + 19}" font-size="13" fill="{TEXT}">'
            f"{escape(_number(value, decimals) + suffix)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)
