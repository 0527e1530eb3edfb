"""Heatmaps of a page: numbers from the analytics store, drawn over the masked page's backdrop.

Click map: Gaussian-smoothed click density, clicks placed on their target element's box in the
reference snapshot (:func:`placed_clicks`). Move map: mouse positions weighted by dwell time.
Scroll map: share of page views that reached each depth, clamped to 0-100 %, with the fold (see
:mod:`replayvault.analytics.heatmap`).

The reference snapshot is the latest masked full snapshot of the page for the viewport class,
showing only the text that at least ``REPLAYVAULT_BACKDROP_MIN_SESSIONS`` sessions share
(:mod:`.privacy.common_text`), rebuilt in headless Chromium at its recorded width
(:func:`replayvault.render.backdrop.render_page`): one pass gives the backdrop image and the
boxes of the clicked elements; both are cached. Without Chromium or a snapshot: a neutral canvas
of the page size, and every click placed at its own page coordinates (counted as a fallback).

Time windows: ``since_ms <= ts < until_ms`` (epoch ms, None = open) on the click or move
timestamp; scroll maps take the page views that started in the window.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import select

from .analytics.heatmap import (ClickGrid, MoveGrid, ScrollMap, click_grid, depths_on_page, dwell_ms,
                                fallback_xy, move_grid, place_clicks, scroll_map)
from .db.models import RecordingSession
from .errors import NotFound
from .privacy.common_text import blank_unshared, shared_texts, texts
from .recordings import snapshots_for_url
from .render.backdrop import RenderedPage, render_backdrop, render_page
from .render.heatmap import render_click_map, render_move_map, render_scroll_map, scroll_marks
from .runtime import Runtime

__all__ = ["KINDS", "Heatmap", "PlacedClicks", "ReferenceSnapshot", "dominant_class", "dominant_viewport",
           "heatmap", "heatmap_json", "heatmap_layers", "heatmap_png", "placed_clicks", "placed_signals",
           "reference_snapshot"]

DEFAULT_WIDTH_PX = 1280
MAX_HEIGHT_PX = 10_000
#: Widest reference page rendered (px): a recorded width beyond this (a hostile Meta event) is capped.
MAX_WIDTH_PX = 3840
#: Heatmap kinds: click map, move map (mouse dwell), scroll map.
KINDS = ("click", "move", "scroll")
#: Rendered reference pages by (data directory, page snapshot id, width px, shared text).
_BACKDROPS: OrderedDict[tuple[str, int, int, int], RenderedPage | None] = OrderedDict()
#: How many sessions' snapshots of a page are compared to find its shared text.
SHARED_TEXT_SAMPLE = 10
_BACKDROPS_LOCK = threading.Lock()
_BACKDROPS_MAX = 16


@dataclass(frozen=True)
class Heatmap:
    """A computed heatmap: ``data`` is a ClickGrid, MoveGrid or ScrollMap; ``width``/``height`` the page size (px).

    For click maps, ``anchored_clicks`` were placed on their element in the reference snapshot and
    ``fallback_clicks`` at their own page coordinates (element not found, or no offset recorded).
    """

    url: str
    kind: str
    viewport: str | None
    data: ClickGrid | MoveGrid | ScrollMap
    width: int
    height: int
    backdrop: Image.Image | None
    anchored_clicks: int = 0
    fallback_clicks: int = 0


@dataclass(frozen=True)
class PlacedClicks:
    """Clicks of one page and viewport class placed on the reference page.

    ``x``, ``y``: float64 arrays (reference page px, one entry per click, in stored order);
    ``anchored``/``fallback``: how many were placed on their element's box / at their own content
    coordinates; ``width`` x ``height``: the reference page size (px), the backdrop's size when one
    was rendered.
    """

    x: np.ndarray
    y: np.ndarray
    anchored: int
    fallback: int
    width: int
    height: int


def _median(values: np.ndarray, default: int) -> int:
    vals = np.asarray(values, dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    return int(np.median(vals)) if vals.size else default


@dataclass(frozen=True)
class ReferenceSnapshot:
    """The page every map of one URL and viewport class is drawn on.

    ``events``: ``[meta, full_snapshot]`` with only shared text left (see the module docstring);
    ``width``: the recorded viewport width (px); ``snapshot_id``/``text_key`` identify it for caches.
    """

    events: list[dict[str, Any]]
    width: int
    snapshot_id: int
    text_key: int

    @property
    def node(self) -> dict[str, Any]:
        """The full snapshot's serialized node tree (``rrweb-snapshot`` shape)."""
        return self.events[1]["data"]["node"]


def reference_snapshot(rt: Runtime, url: str, viewport: str | None,
                       project: str | None = None) -> ReferenceSnapshot | None:
    """The newest masked full snapshot of ``url`` for a viewport class, unshared text blanked; None without one.

    Text survives only when at least ``REPLAYVAULT_BACKDROP_MIN_SESSIONS`` of the
    :data:`SHARED_TEXT_SAMPLE` newest sessions showed it (:mod:`.privacy.common_text`): a heatmap
    reader never sees one customer's data. Sessions linked to the same data subject (the site's
    ``identify(id)``) count once, so one customer's three visits do not make their own name
    "shared"; sessions without a subject count one each.
    """
    found = snapshots_for_url(rt, url, viewport_class=viewport, project_id=project, limit=SHARED_TEXT_SAMPLE)
    if not found:
        return None
    with rt.sessions() as db:
        subjects = dict(db.execute(select(RecordingSession.id, RecordingSession.subject_digest)
                                   .where(RecordingSession.id.in_([sid for _, sid, _ in found]))).all())
    people: dict[str, set[str]] = {}
    for _, sid, ev in found:
        people.setdefault(subjects.get(sid) or f"session:{sid}", set()).update(texts(ev[1]["data"]["node"]))
    keep = shared_texts(list(people.values()), rt.settings.backdrop_min_sessions)
    snapshot_id, _, (meta, full) = found[0]
    events = [meta, {**full, "data": {**full["data"], "node": blank_unshared(full["data"]["node"], keep)}}]
    width = min(max(int(meta["data"].get("width") or DEFAULT_WIDTH_PX), 1), MAX_WIDTH_PX)
    return ReferenceSnapshot(events, width, snapshot_id, hash(frozenset(keep)))


def _page(rt: Runtime, url: str, viewport: str | None, project: str | None,
          selectors: frozenset[str] = frozenset()) -> RenderedPage | None:
    """The reference page rendered once (cached) with the boxes of ``selectors``.

    A cached render that lacks some of ``selectors`` is redone for all of them together.
    """
    ref = reference_snapshot(rt, url, viewport, project)
    if ref is None:
        return None
    events, width = ref.events, ref.width
    # Snapshot ids restart in every database; the kept text changes as sessions arrive.
    key = (str(rt.settings.data_dir), ref.snapshot_id, width, ref.text_key)
    with _BACKDROPS_LOCK:
        cached = _BACKDROPS.get(key, False)
        if cached is not False:
            _BACKDROPS.move_to_end(key)
            if cached is None or selectors <= cached.boxes.keys():
                return cached
    wanted = sorted(selectors | (cached.boxes.keys() if cached else set()))
    if wanted:
        rendered = render_page(events, width, None, wanted)
    else:  # no boxes needed: the plain backdrop
        image = render_backdrop(events, width, None)
        rendered = RenderedPage(image) if image is not None else None
    with _BACKDROPS_LOCK:
        _BACKDROPS[key] = rendered
        while len(_BACKDROPS) > _BACKDROPS_MAX:
            _BACKDROPS.popitem(last=False)
    return rendered


def _backdrop(rt: Runtime, url: str, viewport: str | None, project: str | None) -> Image.Image | None:
    """The reference page's backdrop image (cached), or None without a snapshot or Chromium."""
    page = _page(rt, url, viewport, project)
    return page.image if page is not None else None


def dominant_class(counts: dict[str, int]) -> str | None:
    """The viewport class with the most page views in ``counts`` (desktop wins ties), or None without any."""
    best = max(("desktop", "tablet", "mobile"), key=lambda c: counts.get(c, 0))
    return best if counts.get(best, 0) else None


def dominant_viewport(rt: Runtime, url: str, project: str | None = None) -> str | None:
    """The viewport class with the most page views of ``url`` (desktop wins ties), or None without any."""
    return dominant_class(rt.analytics.viewport_counts(url, project))


def _period(since_ms: int | None, until_ms: int | None) -> str:
    """`` in this period`` when a time window is set (for messages), else ``""``."""
    return "" if since_ms is None and until_ms is None else " in this period"


def _viewport(rt: Runtime, url: str, viewport: str | None, project: str | None) -> str:
    if viewport is None:
        viewport = dominant_viewport(rt, url, project)
        if viewport is None:
            raise NotFound("no page views recorded for this URL")
    return viewport


def _place(rt: Runtime, url: str, viewport: str, project: str | None, since_ms: int | None,
           until_ms: int | None) -> tuple[PlacedClicks, RenderedPage | None, dict[str, np.ndarray]]:
    """Placed clicks, the reference render (None without a snapshot or Chromium) and the stored click rows."""
    clicks = rt.analytics.clicks(url, viewport, project, since_ms, until_ms)
    fx, fy = fallback_xy(clicks["x"], clicks["y"], clicks["page_x"], clicks["page_y"], clicks["content_x"],
                         clicks["content_y"], clicks["fixed"])
    selectors = frozenset(s for s in clicks["selector"] if isinstance(s, str))
    page = _page(rt, url, viewport, project, selectors)
    if page is not None and page.boxes:
        x, y, anchored = place_clicks(clicks["selector"], clicks["frac_x"], clicks["frac_y"], fx, fy, page.boxes)
    else:
        x, y, anchored = fx, fy, np.zeros(fx.size, dtype=bool)
    n_anchored = int(anchored.sum())
    if page is not None:
        width, height = page.image.size
    else:
        finite = y[np.isfinite(y)]
        tallest = int(finite.max()) + 1 if finite.size else 0
        width = min(_median(clicks["viewport_w"], DEFAULT_WIDTH_PX), MAX_WIDTH_PX)
        height = min(max(tallest, _median(clicks["viewport_h"], 800)), MAX_HEIGHT_PX)
    placed = PlacedClicks(x, y, n_anchored, int(x.size) - n_anchored, int(width), int(height))
    return placed, page, clicks


def placed_clicks(rt: Runtime, *, url: str, viewport: str | None = None, project: str | None = None,
                  since_ms: int | None = None, until_ms: int | None = None) -> PlacedClicks:
    """Clicks on ``url`` for one viewport class, placed on the reference page (px; see :class:`PlacedClicks`).

    A click with a recorded offset in its target (``frac_x``/``frac_y``) whose selector matches an
    element of the reference snapshot goes to the same fraction of that element's box; others go to
    their content coordinates (viewport x/y for fixed/sticky targets) and are counted in
    ``fallback``. ``viewport`` defaults to the class with the most page views; ``since_ms <= ts <
    until_ms`` (epoch ms) filters by click time. Renders the reference page in Chromium once (cached).

    Raises:
        NotFound: no page view of ``url`` was recorded.
        ValueError: ``viewport`` is not a known class.
    """
    viewport = _viewport(rt, url, viewport, project)
    return _place(rt, url, viewport, project, since_ms, until_ms)[0]


def heatmap(rt: Runtime, *, url: str, kind: str = "click", viewport: str | None = None,
            project: str | None = None, backdrop: bool = True, since_ms: int | None = None,
            until_ms: int | None = None) -> Heatmap:
    """Compute the click, move or scroll map of ``url`` for one viewport class.

    Coordinates are page px of that class's reference layout, so classes are never mixed: without
    ``viewport`` the class with the most page views of ``url`` is used (``Heatmap.viewport`` says which).
    ``backdrop=False`` leaves the image out (a click map still renders the reference page for its
    element boxes). ``since_ms``/``until_ms``: epoch ms window (see the module docstring).

    Raises:
        NotFound: no page view of ``url`` was recorded (for that viewport class).
        ValueError: ``kind`` or ``viewport`` is not a known value.
    """
    if kind not in KINDS:
        raise ValueError("kind must be 'click', 'move' or 'scroll'")
    viewport = _viewport(rt, url, viewport, project)
    store = rt.analytics
    depths = store.scroll_depths(url, viewport, project, since_ms, until_ms)
    if kind == "click":
        placed, page, _ = _place(rt, url, viewport, project, since_ms, until_ms)
        if placed.x.size == 0 and depths["max_depth_px"].size == 0:
            raise NotFound(f"no {viewport} page views recorded for this URL{_period(since_ms, until_ms)}")
        image = page.image if page is not None and backdrop else None
        width, height = placed.width, placed.height
        if page is None:  # no reference page: make room for the deepest depth as well
            height = min(max(height, int(depths["max_depth_px"].max(initial=0))), MAX_HEIGHT_PX)
        data: ClickGrid | MoveGrid | ScrollMap = click_grid(placed.x, placed.y, width, height)
        return Heatmap(url, kind, viewport, data, int(width), int(height), image, placed.anchored, placed.fallback)
    image = _backdrop(rt, url, viewport, project) if backdrop else None
    if kind == "move":
        moves = store.moves(url, viewport, project, since_ms, until_ms)
        if moves["page_x"].size == 0 and depths["max_depth_px"].size == 0:
            raise NotFound(f"no {viewport} page views recorded for this URL{_period(since_ms, until_ms)}")
        py = moves["page_y"]
        width = image.width if image else DEFAULT_WIDTH_PX
        tallest = max(int(py.max()) + 1 if py.size else 0, int(depths["max_depth_px"].max(initial=0)))
        height = image.height if image else min(max(tallest, _median(depths["viewport_h"], 800)), MAX_HEIGHT_PX)
        data = move_grid(moves["page_x"], py, dwell_ms(moves["ts_ms"], moves["next_ms"]), width, height)
        return Heatmap(url, kind, viewport, data, int(width), int(height), image)
    if depths["max_depth_px"].size == 0:
        raise NotFound(f"no {viewport} page views recorded for this URL{_period(since_ms, until_ms)}")
    known = depths["page_height_px"][np.isfinite(depths["page_height_px"])]
    page_h = float(image.height) if image else float(np.median(known)) if known.size else None
    reached = depths["max_depth_px"]
    if page_h:  # shares of the page carry each page view over to the reference height
        reached = depths_on_page(reached, depths["max_depth_share"], page_h)
    data = scroll_map(reached, page_h, viewport_h_px=depths["viewport_h"])
    width = image.width if image else DEFAULT_WIDTH_PX
    height = min(image.height if image else data.page_height_px, MAX_HEIGHT_PX)
    return Heatmap(url, kind, viewport, data, int(width), int(height), image)


def heatmap_png(rt: Runtime, *, url: str, kind: str = "click", viewport: str | None = None,
                project: str | None = None, since_ms: int | None = None, until_ms: int | None = None) -> bytes:
    """PNG bytes of :func:`heatmap` drawn over the page backdrop. Raises like :func:`heatmap`."""
    hm = heatmap(rt, url=url, kind=kind, viewport=viewport, project=project, since_ms=since_ms, until_ms=until_ms)
    notes = [f"{hm.viewport} · {hm.url}"]
    if hm.backdrop is None:
        notes.append("no page snapshot recorded")
    if isinstance(hm.data, ClickGrid):
        if hm.fallback_clicks:
            notes.append(f"{hm.fallback_clicks:,} not on a known element")
        return render_click_map(hm.data, hm.backdrop, hm.width, hm.height, label=" · ".join(notes))
    if isinstance(hm.data, MoveGrid):
        return render_move_map(hm.data, hm.backdrop, hm.width, hm.height, label=" · ".join(notes))
    return render_scroll_map(hm.data, hm.backdrop, hm.width, hm.height, label=" · ".join(notes))


def heatmap_json(rt: Runtime, *, url: str, kind: str = "click", viewport: str | None = None,
                 project: str | None = None, since_ms: int | None = None,
                 until_ms: int | None = None) -> dict[str, Any]:
    """JSON-ready heatmap (px; shares 0..1; ms).

    ``{url, kind, viewport, width, height, since_ms, until_ms, grid | scroll}``; click maps add
    ``anchored_clicks`` and ``fallback_clicks``; ``grid`` is a ClickGrid (click) or MoveGrid (move) dict.
    """
    hm = heatmap(rt, url=url, kind=kind, viewport=viewport, project=project, backdrop=False,
                 since_ms=since_ms, until_ms=until_ms)
    body: dict[str, Any] = {"url": hm.url, "kind": hm.kind, "viewport": hm.viewport, "width": hm.width,
                            "height": hm.height, "since_ms": since_ms, "until_ms": until_ms}
    if kind == "click":
        body["anchored_clicks"], body["fallback_clicks"] = hm.anchored_clicks, hm.fallback_clicks
    body["scroll" if kind == "scroll" else "grid"] = hm.data.to_dict()
    return body


def placed_signals(rt: Runtime, *, url: str, viewport: str | None = None, kinds: tuple[str, ...] = ("rage_click",),
                   project: str | None = None, since_ms: int | None = None,
                   until_ms: int | None = None) -> dict[str, list[list[float]]]:
    """Click signals of ``url`` for one viewport class, drawn where their clicks are: ``{kind: [[x, y, n], ...]}``.

    A signal is placed at the mean placed position (:func:`placed_clicks`, reference page px) of its
    own clicks — same session, time span ``ts_ms`` to ``ts_ms + duration_ms`` — so a
    marker sits on its clicks in the click layer; a signal whose clicks are not stored stays at its
    own page coordinates. Signals at the same spot (within 1 px) are merged: ``n`` adds up their
    click counts. Signals without a position (u-turns) are left out. A signal's viewport class is
    its page view's; ``since_ms <= ts < until_ms`` (epoch ms).

    Raises:
        NotFound: no page view of ``url`` was recorded.
    """
    viewport = _viewport(rt, url, viewport, project)
    store = rt.analytics
    classes = {(r["session_id"], r["page_view"]): r["device_class"]
               for r in store.behaviour_rows("page_views", project_id=project, url=url)}
    rows = [r for r in store.behaviour_rows("signals", project_id=project, url=url, kinds=kinds,
                                            since_ms=since_ms, until_ms=until_ms)
            if classes.get((r["session_id"], r["page_view"])) == viewport and r["x"] is not None
            and r["y"] is not None]
    placed = None
    if rows:
        placed, _, clicks = _place(rt, url, viewport, project, since_ms, None)
    merged: dict[str, dict[tuple[float, float], int]] = {k: {} for k in kinds}
    for r in rows:
        x, y = float(r["x"]), float(r["y"])
        if placed is not None and placed.x.size:
            end = r["ts_ms"] + int(r["duration_ms"] or 0)
            own = ((clicks["session_id"] == r["session_id"]) & (clicks["ts_ms"] >= r["ts_ms"])
                   & (clicks["ts_ms"] <= end))
            if own.any():
                x, y = float(placed.x[own].mean()), float(placed.y[own].mean())
        key = (round(x), round(y))
        merged[r["kind"]][key] = merged[r["kind"]].get(key, 0) + int(r["count"])
    return {k: [[float(x), float(y), n] for (x, y), n in sorted(spots.items())] for k, spots in merged.items()}


def _levels(values: np.ndarray) -> list[int]:
    """A 0..1 grid as row-major 0..255 integers (what a canvas ImageData needs)."""
    return np.clip(np.rint(np.asarray(values, dtype=np.float64) * 255), 0, 255).astype(np.uint8).ravel().tolist()


def heatmap_layers(rt: Runtime, *, url: str, viewport: str | None = None, project: str | None = None,
                   since_ms: int | None = None, until_ms: int | None = None) -> dict[str, Any]:
    """Every layer of the interactive heatmap view, on one reference page (px; ms; shares 0..1).

    Returns ``{url, viewport, width, height, since_ms, until_ms, layers}`` where ``layers`` holds
    ``click`` and ``move`` as ``{cell_px, cols, rows, values, count, ...}`` (``values``: row-major
    0..255 levels of the smoothed density, 255 = hottest cell; click adds ``anchored``/``fallback``,
    move ``dwell_ms``), ``scroll`` as ``{step_px, shares, fold_px, average_fold_px, page_views}`` and
    ``rage``/``dead`` as ``{points: [[x, y, clicks]], count}`` (:func:`placed_signals`; ``count`` = clicks). A layer
    without data is None. Width and height are the reference page's, so layers line up with the
    static page of :func:`reference_snapshot`.

    Raises:
        NotFound: no page view of ``url`` was recorded (for that viewport class).
    """
    viewport = _viewport(rt, url, viewport, project)
    window = {"since_ms": since_ms, "until_ms": until_ms}
    click = heatmap(rt, url=url, kind="click", viewport=viewport, project=project, **window)
    layers: dict[str, Any] = {"click": None, "move": None, "scroll": None, "rage": None, "dead": None}
    grid = click.data
    if isinstance(grid, ClickGrid) and grid.clicks:
        layers["click"] = {"cell_px": grid.cell_px, "cols": grid.cols, "rows": grid.rows, "values": _levels(grid.values),
                           "count": grid.clicks, "anchored": click.anchored_clicks, "fallback": click.fallback_clicks}
    try:
        move = heatmap(rt, url=url, kind="move", viewport=viewport, project=project, **window).data
        scroll = heatmap(rt, url=url, kind="scroll", viewport=viewport, project=project, **window).data
    except NotFound:
        move = scroll = None
    if isinstance(move, MoveGrid) and move.moves:
        layers["move"] = {"cell_px": move.cell_px, "cols": move.cols, "rows": move.rows,
                          "values": _levels(move.values), "count": move.moves, "dwell_ms": round(move.dwell_ms)}
    if isinstance(scroll, ScrollMap) and scroll.page_views:
        d = scroll.to_dict()
        layers["scroll"] = {"step_px": d["step_px"], "shares": d["share"], "fold_px": d["fold_px"],
                            "average_fold_px": d["average_fold_px"], "page_views": d["page_views"],
                            "marks": [list(m) for m in scroll_marks(scroll)]}
    signals = placed_signals(rt, url=url, viewport=viewport, kinds=("rage_click", "dead_click"), project=project,
                             **window)
    for kind, name in (("rage_click", "rage"), ("dead_click", "dead")):
        if signals[kind]:
            layers[name] = {"points": signals[kind], "count": sum(p[2] for p in signals[kind])}
    return {"url": url, "viewport": viewport, "width": click.width, "height": click.height, **window,
            "layers": layers}
