"""Server-side SVG charts for the KPI dashboard: no script, no chart library.

A chart is a bar per period; each bar carries its value as the API gave it (the label
is the API's own text, so the dashboard shows the API's numbers, never a re-rounding).
Colours are presentation attributes, not inline styles, so the page's CSP needs no
'unsafe-inline'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

WIDTH, HEIGHT, PAD, LABEL = 640, 220, 32, 56
LEFT = 72  # room for the y axis: its label (the unit) and its scale


@dataclass(frozen=True)
class Point:
    label: str  # the period, e.g. 2026-03
    value: str | None  # the API's value as text; None: not defined for the period


def _number(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def bar_chart(
    title: str,
    points: Sequence[Point],
    *,
    chart_id: str,
    unit: str = "",
    x_label: str = "",
) -> str:
    """An accessible SVG bar chart (role img, a title and a description listing every
    value) of `points`; negative values (an NPS can be) hang below the zero line. The y
    axis is labelled with `unit` and its scale (the top, zero and the bottom), the x axis
    with `x_label` under the periods."""
    numbers = [_number(point.value) for point in points]
    known = [number for number in numbers if number is not None]
    top = max([Decimal(0), *known])
    bottom = min([Decimal(0), *known])
    span = (top - bottom) or Decimal(1)
    plot = HEIGHT - 2 * PAD
    zero_y = PAD + float(top / span) * plot
    step = (WIDTH - LEFT - PAD) / max(len(points), 1)
    described = "; ".join(f"{p.label}: {p.value if p.value is not None else '—'}" for p in points)
    if unit:
        described = f"{unit}. {described}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + LABEL}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" class="chart" id="{chart_id}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(described)}</desc>',
        f'<line x1="{LEFT}" y1="{zero_y:.1f}" x2="{WIDTH - PAD}" y2="{zero_y:.1f}" '
        'stroke="#444" stroke-width="1"/>',
        *_y_axis(top, bottom, zero_y, unit, chart_id),
    ]
    if x_label:
        parts.append(
            f'<text x="{(LEFT + WIDTH - PAD) / 2:.1f}" y="{HEIGHT + LABEL - 6:.1f}" '
            f'text-anchor="middle" font-size="12" fill="#111" class="x-label" '
            f'aria-hidden="true">{escape(x_label)}</text>'
        )
    for index, (point, number) in enumerate(zip(points, numbers, strict=True)):
        x = LEFT + index * step + step * 0.15
        width = step * 0.7
        centre = x + width / 2
        if number is not None:
            height = float(abs(number) / span) * plot
            y = zero_y - height if number >= 0 else zero_y
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
                'fill="#1f5fa8"/>'
            )
            value_y = (y - 4) if number >= 0 else (y + height + 12)
        else:
            value_y = zero_y - 4
        shown = point.value if point.value is not None else "—"
        parts.append(
            f'<text x="{centre:.1f}" y="{value_y:.1f}" text-anchor="middle" font-size="12" '
            f'fill="#111" class="value" data-period="{escape(point.label)}">{escape(shown)}</text>'
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{HEIGHT + 14:.1f}" text-anchor="middle" '
            f'font-size="12" fill="#111">{escape(point.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _y_axis(top: Decimal, bottom: Decimal, zero_y: float, unit: str, chart_id: str) -> list[str]:
    """The y axis: its line, its scale (top, zero, bottom: the values the bars are
    measured against) and its label, the unit, turned along it."""
    parts = [
        f'<line x1="{LEFT}" y1="{PAD}" x2="{LEFT}" y2="{HEIGHT - PAD}" stroke="#444" '
        'stroke-width="1"/>'
    ]
    ticks = {PAD: top, zero_y: Decimal(0), HEIGHT - PAD: bottom} if top != bottom else {zero_y: top}
    drawn: list[float] = []
    for y, value in sorted(ticks.items()):
        if any(abs(y - other) < 12 for other in drawn):
            continue  # a tick too close to one drawn (zero at the top or the bottom)
        drawn.append(y)
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#111" class="tick">{escape(_plain(value))}</text>'
        )
    if unit:
        middle = (PAD + HEIGHT - PAD) / 2
        parts.append(
            f'<text x="14" y="{middle:.1f}" text-anchor="middle" font-size="12" fill="#111" '
            f'class="y-label" id="{chart_id}-unit" transform="rotate(-90 14 {middle:.1f})">'
            f"{escape(unit)}</text>"
        )
    return parts


def _plain(number: Decimal) -> str:
    """A scale value without trailing zeros (0.5000 -> 0.5, 40.00 -> 40)."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text
