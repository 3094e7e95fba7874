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


def _svg_open(width: int, height: int, label: str) -> str:
    """The opening of a chart: the SVG element with its accessible label, and the group that
    sets the text style; a chart's parts end with `</g></svg>`."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}">'
        '<g font-family="DejaVu Sans, sans-serif" font-size="9" fill="#1d2733">'
    )


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
    label = "Share of each control's population that conforms, against its target"
    parts = [_svg_open(width, height, label)]
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


@dataclass(frozen=True)
class RunColumn:
    """One run in the trend: its label and how many controls got each verdict."""

    label: str
    counts: dict[str, int]  # verdict -> controls


TREND_ORDER = ("conforms", "observation", "minor_nonconformity", "major_nonconformity")


def trend_chart(
    columns: Sequence[RunColumn], legend: dict[str, str], *, width: int = 640, height: int = 170
) -> str:
    """Stacked columns, one per run (oldest left): controls by verdict, not-evaluated left out."""
    left, right, top, bottom = 34, 8, 26, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    most = max((sum(c.counts.get(v, 0) for v in TREND_ORDER) for c in columns), default=0) or 1
    step = plot_w / max(len(columns), 1)
    bar = min(46.0, step * 0.6)
    parts = [_svg_open(width, height, "Controls by verdict in each run")]
    for tick in sorted({0, most // 2, most}):
        y = top + plot_h - plot_h * tick / most
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            'stroke="#c9d1da" stroke-width="0.6"/>'
            f'<text x="{left - 5}" y="{y + 3:.1f}" text-anchor="end" fill="#5b6877">{tick}</text>'
        )
    for n, column in enumerate(columns):
        x = left + step * n + (step - bar) / 2
        base = float(top + plot_h)
        for verdict in TREND_ORDER:
            count = column.counts.get(verdict, 0)
            if not count:
                continue
            h = plot_h * count / most
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[verdict]}"/>'
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 12}" text-anchor="middle" '
            f'fill="#5b6877">{escape(column.label)}</text>'
        )
    parts.append(_legend([(COLOURS[v], legend[v]) for v in TREND_ORDER], left, 10))
    parts.append("</g></svg>")
    return "".join(parts)


BAND_COLOURS = (
    "#1e7a46",
    "#3f8f4f",
    "#6aa35a",
    "#9fb35c",
    "#cdb54f",
    "#e09a3e",
    "#d9762f",
    "#c0560f",
    "#9c3418",
    "#5b2333",  # never answered
)


@dataclass(frozen=True)
class Distribution:
    """One row of the response-time distribution: counts per band, the last never answered."""

    label: str
    counts: Sequence[int]


def distribution_chart(
    rows: Sequence[Distribution], bands: Sequence[str], *, width: int = 640, row: int = 20
) -> str:
    """100% stacked horizontal bars, one per row, coloured from fast (green) to never (dark)."""
    left, right = 150, 60
    legend_rows = (len(bands) + 4) // 5
    top = 14 * legend_rows + 10
    plot = width - left - right
    height = top + row * len(rows) + 6
    parts = [_svg_open(width, height, "Distribution of first-response times by channel")]
    for line in range(legend_rows):
        keys = list(zip(BAND_COLOURS, bands, strict=False))[line * 5 : line * 5 + 5]
        parts.append(_legend(keys, left, 10 + 14 * line, spacing=(width - left) / 5))
    for n, entry in enumerate(rows):
        y = top + n * row
        total = sum(entry.counts) or 1
        x = float(left)
        parts.append(
            f'<text x="{left - 6}" y="{y + row / 2 + 3:.1f}" text-anchor="end">'
            f"{escape(entry.label)}</text>"
        )
        for count, colour in zip(entry.counts, BAND_COLOURS, strict=False):
            w = plot * count / total
            if w > 0:
                parts.append(
                    f'<rect x="{x:.2f}" y="{y + 3}" width="{w:.2f}" height="{row - 6}" '
                    f'fill="{colour}"/>'
                )
            x += w
        parts.append(
            f'<text x="{left + plot + 4}" y="{y + row / 2 + 3:.1f}" fill="#5b6877">'
            f"n={sum(entry.counts)}</text>"
        )
    parts.append("</g></svg>")
    return "".join(parts)


def _legend(keys: Sequence[tuple[str, str]], x: float, y: float, spacing: float = 118) -> str:
    """A row of colour keys with labels, starting at (x, y)."""
    parts = []
    for n, (colour, label) in enumerate(keys):
        at = x + n * spacing
        parts.append(
            f'<rect x="{at:.1f}" y="{y - 7}" width="8" height="8" fill="{colour}"/>'
            f'<text x="{at + 11:.1f}" y="{y}">{escape(label)}</text>'
        )
    return "".join(parts)
