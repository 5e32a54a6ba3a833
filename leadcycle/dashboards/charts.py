"""Charts drawn on the server as SVG: horizontal bars with their labels and values written on
the chart (readable without hovering, printable, no JavaScript). Every label is escaped."""

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#2f6fdf", "#1f9d6b", "#d98a1c", "#8e5bd0", "#d0455b", "#4aa3c7", "#7a8594")
ROW = 26
LABEL_WIDTH = 230
BAR_WIDTH = 230
VALUE_WIDTH = 190


def _svg(height: int, body: str, title: str) -> SafeString:
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    return mark_safe(  # noqa: S308 - every text in body is escaped
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def bars(rows: Sequence[tuple[str, float]], *, title: str, unit: str = "",
         notes: Sequence[str] = ()) -> SafeString:  # fmt: skip
    """One bar per row, the value at its end (and a note after it, e.g. a conversion rate)."""
    top = max((value for _, value in rows), default=0) or 1
    parts = []
    for n, (label, value) in enumerate(rows):
        y = n * ROW + 4
        width = max(1.0, BAR_WIDTH * value / top) if value else 0
        note = f" · {notes[n]}" if n < len(notes) and notes[n] else ""
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end" class="chart-label">'
            f"{_label(label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{ROW - 8}" rx="3" '
            f'fill="{COLOURS[0]}"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 14}" class="chart-value">'
            f"{escape(_number(value))}{escape(unit)}{escape(note)}</text>"
        )
    return _svg(max(len(rows), 1) * ROW + 8, "".join(parts), title)


def stacked(rows: Sequence[tuple[str, dict[str, int]]], series: Sequence[str], *,
            title: str) -> SafeString:  # fmt: skip
    """One bar per row split by series (a legend above, each segment's count written in it
    when it fits, the row's total at its end)."""
    top = max((sum(values.values()) for _, values in rows), default=0) or 1
    legend = "".join(
        f'<rect x="{LABEL_WIDTH + 90 * n}" y="2" width="10" height="10" fill="{COLOURS[n % 7]}"/>'
        f'<text x="{LABEL_WIDTH + 90 * n + 14}" y="11" class="chart-legend">{escape(name)}</text>'
        for n, name in enumerate(series)
    )
    parts = [legend]
    for n, (label, values) in enumerate(rows):
        y = n * ROW + 22
        x = float(LABEL_WIDTH)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end" class="chart-label">'
            f"{_label(label)}</text>"
        )
        for m, name in enumerate(series):
            value = values.get(name, 0)
            if not value:
                continue
            width = BAR_WIDTH * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW - 8}" '
                f'fill="{COLOURS[m % 7]}"><title>{escape(name)}: {value}</title></rect>'
            )
            if width >= 22:
                parts.append(
                    f'<text x="{x + width / 2:.1f}" y="{y + 14}" text-anchor="middle" '
                    f'class="chart-inside">{value}</text>'
                )
            x += width
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 14}" class="chart-value">{sum(values.values())}</text>'
        )
    return _svg(max(len(rows), 1) * ROW + 26, "".join(parts), title)


def _label(text: str, limit: int = 30) -> str:
    """A row label that fits the label column: shortened with an ellipsis, the whole of it in
    a tooltip (the chart stays readable without one)."""
    if len(text) <= limit:
        return escape(text)
    return f"<title>{escape(text)}</title>{escape(text[: limit - 1])}…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
