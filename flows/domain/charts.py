"""SVG charts drawn by amity itself: a funnel, horizontal bars, a trend across editions.

Charts are plain SVG strings with real ``<text>`` (searchable, sharp in the PDF, no image files
from elsewhere). Coordinates are rounded to one decimal so the output is byte-stable. Numbers
are formatted by the caller (Babel, in the report's language).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from html import escape

#: Latin first, then CJK fallbacks that Debian's fonts-noto-cjk provides, then anything.
DEFAULT_FONT = "'Noto Sans', 'DejaVu Sans', 'Noto Sans CJK SC', 'Noto Sans SC', sans-serif"
PALETTE = ("#1f5f8b", "#e07b39", "#3c9d5d", "#8e5ea2", "#c23b3b")
INK = "#222222"
MUTED = "#666666"
GRID = "#dddddd"
FONT_SIZE = 13

Number = Callable[[float], str]


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Approximate rendered width: wide (CJK) characters take a full em, others ~0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def funnel_chart(
    stages: Sequence[tuple[str, int]],
    *,
    title: str,
    number: Number = str,
    percent_of: Callable[[int, int], str] | None = None,
    font_family: str = DEFAULT_FONT,
) -> str:
    """Centred bars, one per stage, each as wide as its share of the first stage."""
    label_w = max((text_width(label) for label, _ in stages), default=0) + 16
    bar_area, value_w, row_h = 360.0, 150.0, 40.0
    width = label_w + bar_area + value_w
    height = 36 + row_h * len(stages) + 8
    top = stages[0][1] if stages else 0
    parts = [_open(width, height, title, font_family), _title(title)]
    for i, (label, value) in enumerate(stages):
        y = 36 + i * row_h
        w = bar_area * (value / top) if top else 0.0
        x = label_w + (bar_area - w) / 2
        colour = PALETTE[0] if i < len(stages) - 1 else PALETTE[2]
        parts.append(_rect(x, y, max(w, 1.0), row_h - 8, colour))
        parts.append(_text(label_w - 8, y + row_h / 2, label, anchor="end"))
        shown = number(value)
        if percent_of is not None and i > 0:
            shown += f" ({percent_of(value, top)})"
        parts.append(_text(label_w + bar_area + 8, y + row_h / 2, shown, weight="bold"))
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    number: Number = str,
    font_family: str = DEFAULT_FONT,
    max_items: int = 15,
    others: str = "…",
    last: Sequence[tuple[str, int]] = (),
    empty: str = "–",
) -> str:
    """Horizontal bars, largest first; past ``max_items`` the rest are summed as ``others``.

    The ``others`` bar and the ``last`` bars (e.g. "country not recorded") are not ranked:
    they come after the named bars whatever their size, in a muted colour.
    """
    ranked = sorted(items, key=lambda kv: (-kv[1], kv[0]))
    room = max(1, max_items - len(last))
    tail: list[tuple[str, int]] = []
    if len(ranked) > room:
        tail.append((others, sum(v for _, v in ranked[room - 1 :])))
        ranked = ranked[: room - 1]
    tail += [(label, value) for label, value in last if value]
    ordered = [*ranked, *tail]
    label_w = max((text_width(label) for label, _ in ordered), default=0) + 16
    bar_area, value_w, row_h = 360.0, 70.0, 26.0
    width = label_w + bar_area + value_w
    height = 36 + row_h * max(len(ordered), 1) + 8
    top = max((v for _, v in ordered), default=0)
    parts = [_open(width, height, title, font_family), _title(title)]
    if not ordered:
        parts.append(_text(16, 36 + row_h / 2, empty, fill=MUTED))
    for i, (label, value) in enumerate(ordered):
        y = 36 + i * row_h
        w = bar_area * value / top if top else 0.0
        is_rest = i >= len(ranked)
        parts.append(_rect(label_w, y, max(w, 1.0), row_h - 6, MUTED if is_rest else PALETTE[0]))
        parts.append(_text(label_w - 8, y + (row_h - 6) / 2, label, anchor="end"))
        parts.append(_text(label_w + w + 6, y + (row_h - 6) / 2, number(value)))
    parts.append("</svg>")
    return "\n".join(parts)


def trend_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str,
    number: Number = str,
    font_family: str = DEFAULT_FONT,
    highlight_last: bool = True,
) -> str:
    """Lines across editions, one per series, with a legend and the last values labelled."""
    plot_x, plot_w, plot_top, plot_h = 64.0, 520.0, 64.0, 220.0
    width, height = plot_x + plot_w + 100, plot_top + plot_h + 48
    top = max((v for _, values in series for v in values), default=0)
    scale_top = _nice_ceiling(top)
    n = len(labels)
    step = plot_w / (n - 1) if n > 1 else 0.0

    def x_at(i: int) -> float:
        return plot_x + (i * step if n > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return plot_top + plot_h - (plot_h * v / scale_top if scale_top else 0.0)

    parts = [_open(width, height, title, font_family), _title(title)]
    if highlight_last and n:
        band = min(max(step, 40.0), 60.0)
        parts.append(_rect(x_at(n - 1) - band / 2, plot_top, band, plot_h, "#f3efe0"))
    legend_x = 16.0
    for k, (name, _) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        parts.append(_rect(legend_x, 36, 12, 12, colour))
        parts.append(_text(legend_x + 16, 42, name))
        legend_x += 16 + text_width(name) + 24
    for j in range(5):
        v = scale_top * j / 4
        y = y_at(v)
        parts.append(_line(plot_x, y, plot_x + plot_w, y, GRID))
        parts.append(_text(plot_x - 6, y, number(v), anchor="end", fill=MUTED, size=11))
    # Label every edition when they fit, else every k-th one (always the last one).
    every = max(
        1, -(-int(max((text_width(lb, 11) for lb in labels), default=0) + 8) // int(step or 1))
    )
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            parts.append(
                _text(x_at(i), plot_top + plot_h + 16, label, anchor="middle", size=11, fill=INK)
            )
    for k, (_, values) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{_f(x_at(i))},{_f(y_at(v))}" for i, v in enumerate(values))
        if len(values) > 1:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        for i, v in enumerate(values):
            parts.append(f'<circle cx="{_f(x_at(i))}" cy="{_f(y_at(v))}" r="3.5" fill="{colour}"/>')
        if values:
            parts.append(
                _text(x_at(len(values) - 1) + 8, y_at(values[-1]), number(values[-1]),
                      fill=colour, weight="bold")
            )  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts)


def _nice_ceiling(v: float) -> float:
    """The smallest 1/2/2.5/5 × 10^k at or above ``v`` (axis tops that read well)."""
    if v <= 0:
        return 4.0
    magnitude = 1.0
    while magnitude * 10 <= v:
        magnitude *= 10
    for m in (1, 2, 2.5, 4, 5, 10):
        if m * magnitude >= v:
            return m * magnitude
    return 10 * magnitude


def _f(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _open(width: float, height: float, title: str, font_family: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_f(width)}" '
        f'height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
        f'font-family="{escape(font_family)}" font-size="{FONT_SIZE}">\n'
        f"<title>{escape(title)}</title>"
    )


def _title(title: str) -> str:
    return _text(16, 16, title, weight="bold", size=15)


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "normal",
    size: float = FONT_SIZE,
) -> str:
    # dy instead of dominant-baseline: WeasyPrint's SVG renderer ignores the latter.
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" dy="0.35em" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="{_f(size)}" font-weight="{weight}">{escape(text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" fill="{fill}"/>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> str:
    return (
        f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" '
        f'stroke="{stroke}" stroke-width="1"/>'
    )
