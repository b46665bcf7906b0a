"""History charts drawn on the server as inline SVG.

Why SVG from the server and no chart library: the page needs no script at all
(the Content-Security-Policy forbids scripts), works offline, prints as
vectors, and there is no third-party file to ship and licence. A chart is a
few hundred bytes of markup per series. Every text that enters the markup is
escaped here; colours and line styles come from classes in kitlife.css, so the
strict CSP (no inline styles) holds.

A chart shows the daily points, the threshold the scorer judges against, and
the fitted trend: a line through today's level at the fitted slope over the
span it was fitted on, projected forward (dashed) with the slope's confidence
interval as a shaded cone, as far as the crossing or three years.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 28
DAYS_PER_MONTH = 365.25 / 12
MAX_AHEAD_DAYS = 3 * 365


def _date(day: float) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).strftime("%Y-%m")


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.1f}"


def _ahead_days(trend: Mapping[str, Any]) -> float:
    """How far to project: to the latest crossing estimate, at least 3 months, at most 3 years."""
    candidates = [trend.get("months_high"), trend.get("months")]
    finite = [m for m in candidates if isinstance(m, int | float) and 0 < m < 1e6]
    months = max(finite) if finite else 12.0
    return min(max(months * DAYS_PER_MONTH, 90.0), MAX_AHEAD_DAYS)


def history_chart(panel: Mapping[str, Any]) -> Markup:
    """The panel (see reports.device_view) as an ``<svg>`` element."""
    series: Sequence[Mapping[str, Any]] = panel["series"]
    points = [(d, v) for s in series for d, v in s["points"]]
    trend = panel.get("trend")
    threshold = panel.get("threshold")
    if not points:
        return Markup("")
    x0 = min(d for d, _ in points)
    x1 = max(d for d, _ in points)
    if trend:
        x1 = max(x1, trend["anchor_day"] + _ahead_days(trend))
        x0 = min(x0, trend["anchor_day"] - trend["span_days"])
    if x1 <= x0:
        x1 = x0 + 1
    if panel.get("y_range"):
        y0, y1 = float(panel["y_range"][0]), float(panel["y_range"][1])
    else:
        values = [float(v) for _, v in points] + ([threshold["value"]] if threshold else [])
        y0, y1 = min(0.0, *values), max(values) * 1.1 or 1.0
    if y1 <= y0:
        y1 = y0 + 1

    def sx(day: float) -> float:
        return float(LEFT + (day - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT))

    def sy(value: float) -> float:
        clamped = min(max(value, y0), y1)
        return TOP + (1 - (clamped - y0) / (y1 - y0)) * (HEIGHT - TOP - BOTTOM)

    pid = escape(panel["id"])
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="t-{pid} d-{pid}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="t-{pid}">{escape(panel["title"])}</title>',
        f'<desc id="d-{pid}">{escape(panel.get("summary", ""))}</desc>',
    ]
    # Axes and grid: five y ticks, x ticks at the start, today and the end.
    for i in range(5):
        v = y0 + (y1 - y0) * i / 4
        y = sy(v)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>'
        )
    ticks = {x0, x1}
    if trend:
        ticks.add(trend["anchor_day"])
    for d in sorted(ticks):
        anchor = "start" if d == x0 else "end" if d == x1 else "middle"
        parts.append(
            f'<text class="tick" x="{sx(d):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
            f"{_date(d)}</text>"
        )
    if trend:
        a, level = trend["anchor_day"], trend["level"]
        ahead = min(_ahead_days(trend), x1 - a)
        slope = trend["per_month"] / DAYS_PER_MONTH
        lo = trend["low_per_month"] / DAYS_PER_MONTH
        hi = trend["high_per_month"] / DAYS_PER_MONTH
        end = a + ahead
        cone = [
            (a, level),
            (end, level + lo * ahead),
            (end, level + hi * ahead),
        ]
        parts.append(
            '<polygon class="cone" points="'
            + " ".join(f"{sx(d):.1f},{sy(v):.1f}" for d, v in cone)
            + '"><title>interval of the fitted trend</title></polygon>'
        )
        start = a - trend["span_days"]
        parts.append(
            f'<line class="trend" x1="{sx(start):.1f}" y1="{sy(level - slope * (a - start)):.1f}" '
            f'x2="{sx(a):.1f}" y2="{sy(level):.1f}"/>'
        )
        parts.append(
            f'<line class="trend ahead" x1="{sx(a):.1f}" y1="{sy(level):.1f}" '
            f'x2="{sx(end):.1f}" y2="{sy(level + slope * ahead):.1f}"/>'
        )
    if threshold:
        y = sy(threshold["value"])
        parts.append(
            f'<line class="threshold" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="threshold-label" x="{WIDTH - RIGHT - 4}" y="{y - 4:.1f}" '
            f'text-anchor="end">threshold {_fmt(threshold["value"])}'
            f"{escape(' ' + threshold['unit'] if threshold['unit'] else '')}</text>"
        )
    for i, s in enumerate(series):
        pts = s["points"]
        cls = f"s{i % 4}"
        if len(pts) > 2:
            parts.append(
                f'<polyline class="line {cls}" points="'
                + " ".join(f"{sx(d):.1f},{sy(v):.1f}" for d, v in pts)
                + f'"><title>{escape(s["name"])}</title></polyline>'
            )
        else:
            parts.extend(
                f'<circle class="dot {cls}" cx="{sx(d):.1f}" cy="{sy(v):.1f}" r="3"/>'
                for d, v in pts
            )
    parts.append("</svg>")
    # Safe: every text above went through escape(); the rest is numbers and fixed markup.
    return Markup("".join(parts))  # noqa: S704
