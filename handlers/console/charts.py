"""Inline SVG charts rendered on the server: no script, no external asset, readable on a 375-px phone.

`bar_chart(rows)` draws horizontal bars (labels on the left, values on the right), which suits Chinese names
on narrow screens; `line_chart(points)` draws a line over time; `multi_line_chart(series)` several, with a legend. Both scale with the page (`viewBox`, width
100 %), escape every label, and carry a text alternative for screen readers. Colours come from CSS classes
(`chart-bar`, `chart-line`, ...) so the page's style sheet decides them.
"""
from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

WIDTH = 340
ROW = 26


def pct_text(value: float) -> str:
    """A percentage with one decimal that never hides progress: 0.04 → "0.04%", 0.004 → "<0.01%", and
    99.96 → "99.9%" (not a rounded-up 100.0% while something is missing)."""
    if 0 < value < 0.05:
        return f"{value:.2f}%" if value >= 0.01 else "<0.01%"
    if 99.95 <= value < 100:
        return "99.9%"
    return f"{value:.1f}%"


def legend(title: str) -> Markup:
    """The chart's visible caption with the colour of its bars or line (a chart is not read without it)."""
    return Markup(f'<p class="chart-legend"><span class="chart-key"></span>{escape(title)}</p>') if title else Markup("")


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return pct_text(value)
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return text + unit


def _text_width(text: str) -> float:
    """Rough width at the charts' 11-px font: CJK characters are square, others about half as wide."""
    return sum(11 if ord(ch) > 0x2E7F else 6.5 for ch in text)


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str = "", unit: str = "",
              max_value: float | None = None, label_width: int = 96,
              value_texts: Sequence[str] | None = None) -> Markup:
    """Horizontal bars for (label, value) rows; `max_value` fixes the scale (e.g. 100 for percentages).
    `value_texts` replaces the number printed after each bar (e.g. "2 · 66.7%" for a count and its share)."""
    if not rows:
        return Markup('<p class="muted">暂无数据</p>')
    top = max_value or max((v for _, v in rows), default=0) or 1
    texts = list(value_texts) if value_texts is not None else [_fmt(v, unit) for _, v in rows]
    value_space = max(60, int(max(_text_width(t) for t in texts)) + 10)
    bar_space = WIDTH - label_width - value_space
    height = ROW * len(rows) + 4
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for i, (label, value) in enumerate(rows):
        y = i * ROW + 2
        width = max(0.0, min(1.0, value / top)) * bar_space
        short = label if len(label) <= 7 else label[:6] + "…"
        parts.append(f'<text class="chart-label" x="{label_width - 6}" y="{y + 16}" text-anchor="end">'
                     f"{escape(short)}<title>{escape(label)}</title></text>")
        parts.append(f'<rect class="chart-track" x="{label_width}" y="{y + 4}" width="{bar_space}" height="16" '
                     f'rx="3"/>')
        parts.append(f'<rect class="chart-bar" x="{label_width}" y="{y + 4}" width="{width:.1f}" height="16" '
                     f'rx="3"/>')
        parts.append(f'<text class="chart-value" x="{label_width + bar_space + 6}" y="{y + 16}">'
                     f"{escape(texts[i])}</text>")
    parts.append("</svg>")
    return legend(title) + Markup("".join(parts))


def line_chart(points: Sequence[tuple[str, float]], *, title: str = "", unit: str = "") -> Markup:
    """A line over (label, value) points in order, with the first, middle and last labels on the axis."""
    if not points:
        return Markup('<p class="muted">暂无数据</p>')
    height, right, top_pad, bottom = 150, 8, 10, 24
    peak = max(v for _, v in points) or 1
    left = max(34, int(_text_width(_fmt(peak, unit))) + 8)  # room for the peak's label (10,031 or 74.7%)
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    step = plot_w / max(1, len(points) - 1)
    coords = [(left + i * step, top_pad + plot_h - v / peak * plot_h) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    parts.append(f'<line class="chart-axis" x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - right}" '
                 f'y2="{top_pad + plot_h}"/>')
    parts.append(f'<text class="chart-value" x="{left - 4}" y="{top_pad + 8}" text-anchor="end">'
                 f"{escape(_fmt(peak, unit))}</text>")
    parts.append(f'<text class="chart-value" x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>')
    parts.append(f'<polyline class="chart-line" points="{path}"/>')
    for (x, y), (label, value) in zip(coords, points):
        parts.append(f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5">'
                     f"<title>{escape(label)}：{escape(_fmt(value, unit))}</title></circle>")
    for i in sorted({0, len(points) // 2, len(points) - 1}):
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        parts.append(f'<text class="chart-label" x="{coords[i][0]:.1f}" y="{height - 6}" text-anchor="{anchor}">'
                     f"{escape(points[i][0])}</text>")
    parts.append("</svg>")
    return legend(title) + Markup("".join(parts))


def multi_line_chart(series: Sequence[tuple[str, Sequence[tuple[str, float]]]], *, title: str = "",
                     unit: str = "") -> Markup:
    """Several lines over the same labels (e.g. tickets filed and resolved per day), with a legend; the
    second and later lines are dashed (classes `s1`, `s2`, ...) so they stay apart in print too."""
    series = [(name, list(points)) for name, points in series if points]
    if not series or not any(v for _, points in series for _, v in points):
        return Markup('<p class="muted">暂无数据</p>')
    labels = [label for label, _ in series[0][1]]
    height, right, top_pad, bottom, legend = 170, 8, 10, 24, 20
    peak = max(v for _, points in series for _, v in points) or 1
    left = max(34, int(_text_width(_fmt(peak, unit))) + 8)  # room for the peak's label (10,031 or 74.7%)
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom - legend
    step = plot_w / max(1, len(labels) - 1)
    base_y = legend + top_pad + plot_h
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}">']
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    x = left
    for n, (name, _) in enumerate(series):
        parts.append(f'<line class="chart-line s{n}" x1="{x}" y1="9" x2="{x + 18}" y2="9"/>')
        parts.append(f'<text class="chart-label" x="{x + 22}" y="13">{escape(name)}</text>')
        x += 30 + 12 * len(name)
    parts.append(f'<line class="chart-axis" x1="{left}" y1="{base_y}" x2="{WIDTH - right}" y2="{base_y}"/>')
    parts.append(f'<text class="chart-value" x="{left - 4}" y="{legend + top_pad + 8}" text-anchor="end">'
                 f"{escape(_fmt(peak, unit))}</text>")
    parts.append(f'<text class="chart-value" x="{left - 4}" y="{base_y}" text-anchor="end">0</text>')
    for n, (name, points) in enumerate(series):
        coords = [(left + i * step, base_y - v / peak * plot_h) for i, (_, v) in enumerate(points)]
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        parts.append(f'<polyline class="chart-line s{n}" points="{path}"/>')
        for (cx, cy), (label, value) in zip(coords, points):
            parts.append(f'<circle class="chart-dot s{n}" cx="{cx:.1f}" cy="{cy:.1f}" r="2.5">'
                         f"<title>{escape(label)} {escape(name)}：{escape(_fmt(value, unit))}</title></circle>")
    for i in sorted({0, len(labels) // 2, len(labels) - 1}):
        anchor = "start" if i == 0 else "end" if i == len(labels) - 1 else "middle"
        parts.append(f'<text class="chart-label" x="{left + i * step:.1f}" y="{height - 6}" '
                     f'text-anchor="{anchor}">{escape(labels[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
