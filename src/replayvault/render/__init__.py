"""Images for humans: click, move and scroll map PNGs, page backdrops rebuilt in headless Chromium."""

from __future__ import annotations

from .backdrop import RenderedPage, render_backdrop, render_page
from .heatmap import render_click_map, render_move_map, render_scroll_map

__all__ = ["RenderedPage", "render_backdrop", "render_click_map", "render_move_map", "render_page",
           "render_scroll_map"]
