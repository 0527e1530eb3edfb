"""Weekly trends for the auditor report: ISO weeks over a period and one inline SVG line chart per metric.

Weeks start on Monday 00:00 UTC (ISO 8601). A week cut by the period's ``from`` or ``to`` is *partial*:
its metrics cover only the days inside the period, and its label says so. Charts are drawn with
matplotlib's object API (no pyplot state, safe in threads) to SVG text that the report embeds inline;
share metrics use a 0-100 % axis, the incident rate incidents per 1,000 recorded sessions.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InvalidInput
from .metrics import Period

__all__ = ["MAX_WEEKS", "Week", "iso_weeks", "line_chart_svg"]

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
#: Longest report: two years of weekly points (a longer period is refused).
MAX_WEEKS = 106
#: Line colours (matplotlib "tab10"), the first for the metric itself or the total.
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#7f7f7f")


@dataclass(frozen=True)
class Week:
    """One ISO week clipped to the period: ``[from_ms, to_ms)`` (epoch ms), ``label`` such as ``2026-W48``,
    ``days`` inside the period (1-7) and ``partial`` (fewer than 7 days)."""

    label: str
    from_ms: int
    to_ms: int
    days: int
    partial: bool

    @property
    def first_day(self) -> str:
        """First day inside the period, ``YYYY-MM-DD``."""
        return _day(self.from_ms).isoformat()

    @property
    def last_day(self) -> str:
        """Last day inside the period (included), ``YYYY-MM-DD``."""
        return _day(self.to_ms - 1).isoformat()

    def period(self, project: str | None) -> Period:
        """The metrics period of this week."""
        return Period(self.from_ms, self.to_ms, project)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape, with ``first_day`` and ``last_day``."""
        return {**asdict(self), "first_day": self.first_day, "last_day": self.last_day}


def _day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def iso_weeks(from_ms: int, to_ms: int) -> list[Week]:
    """The ISO weeks (Monday 00:00 UTC) meeting ``[from_ms, to_ms)``, each clipped to it, oldest first.

    Raises:
        InvalidInput: an empty period, or more than :data:`MAX_WEEKS` weeks.
    """
    if to_ms <= from_ms:
        raise InvalidInput("the report period is empty")
    first = _day(from_ms)
    monday = _ms(first - dt.timedelta(days=first.weekday()))
    if (to_ms - monday) / WEEK_MS > MAX_WEEKS:
        raise InvalidInput(f"the report period spans more than {MAX_WEEKS} weeks")
    weeks = []
    while monday < to_ms:
        lo, hi = max(monday, from_ms), min(monday + WEEK_MS, to_ms)
        year, number, _ = _day(monday).isocalendar()
        days = -(-(hi - lo) // DAY_MS)
        weeks.append(Week(f"{year}-W{number:02d}", lo, hi, days, hi - lo < WEEK_MS))
        monday += WEEK_MS
    return weeks


def _clean_svg(raw: str) -> str:
    """Drop the XML prolog and doctype (the SVG is inlined in HTML) and the fixed size attributes."""
    svg = raw[raw.index("<svg"):]
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', svg, count=1)


def line_chart_svg(title: str, labels: list[str], series: dict[str, list[float | None]], unit: str,
                   salt: str) -> str:
    """One line chart as inline SVG text (scales to its container's width).

    ``labels``: one x label per week; ``series``: line name -> one value per week (None: no data that
    week, drawn as a gap); ``unit``: ``"share"`` (values 0..1, drawn 0-100 %) or ``"per_1000_sessions"``.
    ``salt`` makes the SVG's element ids unique within the report (several charts share one page).
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    scale = 100.0 if unit == "share" else 1.0
    fig = Figure(figsize=(3.6, 2.45 if len(series) == 1 else 2.7), dpi=100)  # printed at about this size
    ax = fig.add_subplot()
    xs = list(range(len(labels)))
    names = list(series)
    for i, name in enumerate(names):
        ys = [float("nan") if v is None else v * scale for v in series[name]]
        if i == 0 and len(names) > 1:  # the total: a wide grey band under the kinds
            ax.plot(xs, ys, marker="o", markersize=5, linewidth=4, color="#9e9e9e", alpha=0.45, label=name, zorder=1)
        else:
            ax.plot(xs, ys, marker="o", markersize=3.2 if len(names) == 1 else 2.6, linewidth=1.6 if len(names) == 1
                    else 1.1, color=_COLOURS[(i - (len(names) > 1)) % len(_COLOURS)], label=name, zorder=2)
    if unit == "share":
        ax.set_ylim(-2, 105)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f} %"))
    else:
        top = max([v * scale for vals in series.values() for v in vals if v is not None] or [0.0])
        ax.set_ylim(0, max(10.0, top * 1.15))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.set_ylabel("per 1,000 sessions", fontsize=6.5)
    step = max(1, -(-len(labels) // 10))
    ax.set_xticks(xs[::step], labels[::step], fontsize=6.5)
    ax.set_xlim(-0.4, max(len(labels) - 0.6, 0.6))
    ax.tick_params(axis="y", labelsize=6.5)
    ax.tick_params(axis="both", length=2, pad=1.5)
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title, fontsize=8, loc="left", fontweight="bold")
    if len(series) > 1:
        ax.legend(fontsize=6, frameon=False,
                  ncols=min(len(series), 4), loc="upper center", bbox_to_anchor=(0.5, -0.14))
    fig.tight_layout(pad=0.3)
    buf = io.StringIO()
    with rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _clean_svg(buf.getvalue())

