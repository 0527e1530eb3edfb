"""Heatmaps of a page: numbers from the analytics store, drawn over the masked page's backdrop.

Click map: Gaussian-smoothed click density in page coordinates (see
:mod:`replayvault.analytics.heatmap`). Scroll map: share of page views that reached each depth,
clamped to 0-100 %. The backdrop is the latest masked full snapshot of the page — showing only the text
that at least ``REPLAYVAULT_BACKDROP_MIN_SESSIONS`` sessions share (:mod:`.privacy.common_text`) — rebuilt in
headless Chromium (:func:`replayvault.render.backdrop.render_backdrop`); without Chromium or a
snapshot, a neutral canvas of the page size.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from .analytics.heatmap import ClickGrid, ScrollMap, click_grid, scroll_map
from .errors import NotFound
from .privacy.common_text import blank_unshared, shared_texts, texts
from .recordings import snapshots_for_url
from .render.backdrop import render_backdrop
from .render.heatmap import render_click_map, render_scroll_map
from .runtime import Runtime

__all__ = ["Heatmap", "dominant_class", "dominant_viewport", "heatmap", "heatmap_png", "heatmap_json"]

DEFAULT_WIDTH_PX = 1280
MAX_HEIGHT_PX = 10_000
#: Rendered backdrops by (data directory, page snapshot id, width px): rendering takes seconds.
_BACKDROPS: OrderedDict[tuple[str, int, int, int], Image.Image | None] = OrderedDict()
#: How many sessions' snapshots of a page are compared to find its shared text.
SHARED_TEXT_SAMPLE = 10
_BACKDROPS_LOCK = threading.Lock()
_BACKDROPS_MAX = 16


@dataclass(frozen=True)
class Heatmap:
    """A computed heatmap: ``data`` is a ClickGrid or ScrollMap; ``width``/``height`` the page size (px)."""

    url: str
    kind: str
    viewport: str | None
    data: ClickGrid | ScrollMap
    width: int
    height: int
    backdrop: Image.Image | None


def _median(values: np.ndarray, default: int) -> int:
    vals = np.asarray(values, dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    return int(np.median(vals)) if vals.size else default


def _backdrop(rt: Runtime, url: str, viewport: str | None, project: str | None) -> Image.Image | None:
    found = snapshots_for_url(rt, url, viewport_class=viewport, project_id=project, limit=SHARED_TEXT_SAMPLE)
    if not found:
        return None
    # Only text that enough sessions share is drawn (privacy.common_text): no single customer's data.
    keep = shared_texts([texts(ev[1]["data"]["node"]) for _, _, ev in found], rt.settings.backdrop_min_sessions)
    snapshot_id, _, (meta, full) = found[0]
    events = [meta, {**full, "data": {**full["data"], "node": blank_unshared(full["data"]["node"], keep)}}]
    width = int(meta["data"].get("width") or DEFAULT_WIDTH_PX)
    # Snapshot ids restart in every database; the kept text changes as sessions arrive.
    key = (str(rt.settings.data_dir), snapshot_id, width, hash(frozenset(keep)))
    with _BACKDROPS_LOCK:
        if key in _BACKDROPS:
            _BACKDROPS.move_to_end(key)
            return _BACKDROPS[key]
    image = render_backdrop(events, width, None)
    with _BACKDROPS_LOCK:
        _BACKDROPS[key] = image
        while len(_BACKDROPS) > _BACKDROPS_MAX:
            _BACKDROPS.popitem(last=False)
    return image


def dominant_class(counts: dict[str, int]) -> str | None:
    """The viewport class with the most page views in ``counts`` (desktop wins ties), or None without any."""
    best = max(("desktop", "tablet", "mobile"), key=lambda c: counts.get(c, 0))
    return best if counts.get(best, 0) else None


def dominant_viewport(rt: Runtime, url: str, project: str | None = None) -> str | None:
    """The viewport class with the most page views of ``url`` (desktop wins ties), or None without any."""
    return dominant_class(rt.analytics.viewport_counts(url, project))


def heatmap(rt: Runtime, *, url: str, kind: str = "click", viewport: str | None = None,
            project: str | None = None, backdrop: bool = True) -> Heatmap:
    """Compute the click or scroll map of ``url`` for one viewport class.

    Coordinates are page px of that class's layout, so classes are never mixed: without
    ``viewport`` the class with the most page views of ``url`` is used (``Heatmap.viewport`` says which).

    Raises:
        NotFound: no page view of ``url`` was recorded (for that viewport class).
        ValueError: ``kind`` or ``viewport`` is not a known value.
    """
    if kind not in ("click", "scroll"):
        raise ValueError("kind must be 'click' or 'scroll'")
    if viewport is None:
        viewport = dominant_viewport(rt, url, project)
        if viewport is None:
            raise NotFound("no page views recorded for this URL")
    store = rt.analytics
    image = _backdrop(rt, url, viewport, project) if backdrop else None
    if kind == "click":
        clicks = store.clicks(url, viewport, project)
        px, py = clicks["page_x"], clicks["page_y"]
        ok = np.isfinite(px) & np.isfinite(py)
        px, py = px[ok].astype(np.int64), py[ok].astype(np.int64)
        depths = store.scroll_depths(url, viewport, project)
        if px.size == 0 and depths["max_depth_px"].size == 0:
            raise NotFound(f"no {viewport} page views recorded for this URL")
        width = image.width if image else _median(clicks["viewport_w"], DEFAULT_WIDTH_PX)
        tallest = max(int(py.max()) + 1 if py.size else 0, int(depths["max_depth_px"].max(initial=0)))
        height = image.height if image else min(max(tallest, _median(clicks["viewport_h"], 800)), MAX_HEIGHT_PX)
        data: ClickGrid | ScrollMap = click_grid(px, py, width, height)
    else:
        depths = store.scroll_depths(url, viewport, project)
        if depths["max_depth_px"].size == 0:
            raise NotFound(f"no {viewport} page views recorded for this URL")
        known = depths["page_height_px"][np.isfinite(depths["page_height_px"])]
        page_h = float(np.median(known)) if known.size else None
        data = scroll_map(depths["max_depth_px"], page_h)
        width = image.width if image else DEFAULT_WIDTH_PX
        height = min(image.height if image else data.page_height_px, MAX_HEIGHT_PX)
    return Heatmap(url, kind, viewport, data, int(width), int(height), image)


def heatmap_png(rt: Runtime, *, url: str, kind: str = "click", viewport: str | None = None,
                project: str | None = None) -> bytes:
    """PNG bytes of :func:`heatmap` drawn over the page backdrop. Raises like :func:`heatmap`."""
    hm = heatmap(rt, url=url, kind=kind, viewport=viewport, project=project)
    label = f"{hm.viewport} · {hm.url}" + ("" if hm.backdrop else " · no page snapshot recorded")
    if isinstance(hm.data, ClickGrid):
        return render_click_map(hm.data, hm.backdrop, hm.width, hm.height, label=label)
    return render_scroll_map(hm.data, hm.backdrop, hm.width, hm.height, label=label)


def heatmap_json(rt: Runtime, *, url: str, kind: str = "click", viewport: str | None = None,
                 project: str | None = None) -> dict[str, Any]:
    """JSON-ready heatmap: ``{url, kind, viewport, width, height, grid | scroll}`` (px; shares 0..1)."""
    hm = heatmap(rt, url=url, kind=kind, viewport=viewport, project=project, backdrop=False)
    body: dict[str, Any] = {"url": hm.url, "kind": hm.kind, "viewport": hm.viewport,
                            "width": hm.width, "height": hm.height}
    body["grid" if kind == "click" else "scroll"] = hm.data.to_dict()
    return body
