"""Analytics: facts from masked rrweb events, their DuckDB store, click and scroll map numbers.

Modules: :mod:`.facts` (pure extraction, per-session :class:`FactState`), :mod:`.store`
(:class:`AnalyticsStore` on DuckDB), :mod:`.heatmap` (click density grid, scroll map).
"""

from __future__ import annotations

from .facts import Click, ClickOffset, Facts, FactState, MouseMove, PageView, ScrollDepth, SessionDelta, extract_facts
from .heatmap import ClickGrid, HotCell, ScrollMap, click_grid, hottest_cell, scroll_map
from .store import AnalyticsStore

__all__ = [
    "AnalyticsStore",
    "Click",
    "ClickGrid",
    "ClickOffset",
    "FactState",
    "Facts",
    "HotCell",
    "MouseMove",
    "PageView",
    "ScrollDepth",
    "ScrollMap",
    "SessionDelta",
    "click_grid",
    "extract_facts",
    "hottest_cell",
    "scroll_map",
]
