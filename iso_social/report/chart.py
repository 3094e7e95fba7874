"""Charts as vector SVG, drawn here from numbers (no browser, no plotting library): they print
sharply in the PDF and open offline in the HTML. Labels are control ids and numbers, escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

COLOURS = {
    "conforms": "#1e7a46",
    "observation": "#9a6b00",
    "minor_nonconformity": "#c0560f",
    "major_nonconformity": "#b3261e",
    "waived": "#2f6f8f",
}


@dataclass(frozen=True)
class Bar:
    """One control's measured share against its target."""

    label: str
    rate: float
    target: float | None
    verdict: str


def compliance_chart(bars: Sequence[Bar], *, width: int = 640, row: int = 18) -> str:
    """Horizontal bars: each control's rate from 0 to 100%, a tick at its target."""
    left, right, top = 92, 46, 22
    plot = width - left - right
    height = top + row * len(bars) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Share of each control\'s population that conforms, against its target">',
        '<g font-family="DejaVu Sans, sans-serif" font-size="9" fill="#1d2733">',
    ]
    for share in (0, 0.25, 0.5, 0.75, 1):
        x = left + plot * share
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6}" '
            'stroke="#c9d1da" stroke-width="0.6"/>'
            f'<text x="{x:.1f}" y="{top - 8}" text-anchor="middle" fill="#5b6877">'
            f"{share * 100:.0f}%</text>"
        )
    for n, bar in enumerate(bars):
        y = top + n * row
        colour = COLOURS.get(bar.verdict, "#6b7785")
        parts.append(
            f'<text x="{left - 6}" y="{y + row / 2 + 3:.1f}" text-anchor="end" '
            f'font-weight="bold">{escape(bar.label)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{plot * max(0.0, min(bar.rate, 1.0)):.1f}" '
            f'height="{row - 6}" fill="{colour}"/>'
            f'<text x="{left + plot + 4}" y="{y + row / 2 + 3:.1f}">{bar.rate * 100:.1f}%</text>'
        )
        if bar.target is not None:
            x = left + plot * bar.target
            parts.append(
                f'<line x1="{x:.1f}" y1="{y + 1}" x2="{x:.1f}" y2="{y + row - 1}" '
                'stroke="#1d2733" stroke-width="1.6"/>'
            )
    parts.append("</g></svg>")
    return "".join(parts)
