"""The stats panel of a destination's admin page: figures and a chart drawn on the server.

The chart is inline SVG whose geometry is computed here and written out by the template
(`admin/destinations/destination/stats_panel.html`): no script, no style attribute, no request to
another site, so the admin's CSP (`default-src 'self'`) holds. Colours are SVG presentation
attributes; the layout comes from a static stylesheet of this app.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from destinations.models import Destination
from destinations.stats import DEFAULT_WINDOW, WINDOWS, destination_stats

WIDTH = 760
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 56, 16, 36
SUCCESS_COLOUR = "#2e8540"
FAILURE_COLOUR = "#c0392b"
P95_COLOUR = "#1f5fa8"


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    y: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


def _nice_ceiling(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _bucket_label(start: str, daily: bool) -> str:
    moment = datetime.fromisoformat(start)
    return moment.strftime("%m-%d") if daily else moment.strftime("%H:00")


def chart(stats: dict[str, Any]) -> dict[str, Any]:
    """SVG geometry of the window: stacked bars (successes, failures) per bucket, p95 line."""
    series = stats["series"]
    daily = stats["window"] == "7d"
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    count_max = _nice_ceiling(max((b["success"] + b["failure"] for b in series), default=0))
    p95_values = [b["p95_ms"] for b in series if b["p95_ms"] is not None]
    p95_max = _nice_ceiling(max(p95_values, default=0))
    slot = plot_width / max(len(series), 1)
    bars: list[Bar] = []
    points: list[str] = []
    labels: list[Label] = []
    every = max(len(series) // 8, 1)  # at most ~8 time labels
    for index, bucket in enumerate(series):
        x = LEFT + index * slot
        label = _bucket_label(bucket["start"], daily)
        success_height = plot_height * bucket["success"] / count_max
        failure_height = plot_height * bucket["failure"] / count_max
        width = max(slot * 0.7, 1.0)
        offset = (slot - width) / 2
        if bucket["success"]:
            bars.append(
                Bar(
                    x + offset,
                    width,
                    bottom - success_height,
                    success_height,
                    SUCCESS_COLOUR,
                    f"{label}: {bucket['success']} succeeded",
                )
            )
        if bucket["failure"]:
            bars.append(
                Bar(
                    x + offset,
                    width,
                    bottom - success_height - failure_height,
                    failure_height,
                    FAILURE_COLOUR,
                    f"{label}: {bucket['failure']} failed",
                )
            )
        if bucket["p95_ms"] is not None:
            y = bottom - plot_height * bucket["p95_ms"] / p95_max
            points.append(f"{x + slot / 2:.1f},{y:.1f}")
        if index % every == 0:
            labels.append(Label(x + slot / 2, bottom + 16, label))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": bottom,
        "middle": TOP + plot_height / 2,
        "bars": bars,
        "p95_points": " ".join(points),
        "p95_dots": [p.split(",") for p in points],
        "x_labels": labels,
        "count_max": int(count_max),
        "count_half": f"{count_max / 2:g}",
        "p95_max": f"{p95_max:g}",
        "p95_half": f"{p95_max / 2:g}",
        "colours": {"success": SUCCESS_COLOUR, "failure": FAILURE_COLOUR, "p95": P95_COLOUR},
        "bucket_name": "day" if daily else "hour",
    }


def stats_panel_context(destination: Destination, window_name: str | None) -> dict[str, Any]:
    """Template context of the panel; an unknown window falls back to the default."""
    if window_name not in WINDOWS:
        window_name = DEFAULT_WINDOW
    stats = destination_stats(destination=destination, window_name=window_name)
    rate = stats["attempts"]["success_rate"]
    moments = {
        "since": stats["since"],
        "until": stats["until"],
        "last_success": (stats["last_success"] or {}).get("at"),
        "last_failure": (stats["last_failure"] or {}).get("at"),
        "open_until": stats["breaker"]["open_until"],
        "oldest_due": stats["backlog"]["oldest_due_at"],
    }
    return {
        "stats": stats,
        # Datetimes for the template's `date` filter (the stats body holds ISO strings).
        "stats_times": {k: v and datetime.fromisoformat(v) for k, v in moments.items()},
        "stats_chart": chart(stats),
        "stats_windows": list(WINDOWS),
        "stats_success_percent": None if rate is None else f"{rate * 100:.1f}",
    }
