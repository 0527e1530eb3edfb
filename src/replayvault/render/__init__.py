"""Images for humans: click and scroll map PNGs, page backdrops rebuilt in headless Chromium."""

from __future__ import annotations

from .backdrop import render_backdrop
from .heatmap import render_click_map, render_scroll_map

__all__ = ["render_backdrop", "render_click_map", "render_scroll_map"]
