"""Analytics facts extracted from one batch of (already privacy-masked) rrweb events.

Pure: no I/O. :func:`extract_facts` reads a batch and updates the session's :class:`FactState`,
which the caller keeps (``to_dict()`` -> JSON -> ``FactState.from_dict()``) for the session's
next batch. Batches of one session must be passed in order; events inside a batch need not be.

Units: timestamps are epoch milliseconds (rrweb ``timestamp``); every coordinate and size is in
CSS pixels. "Viewport" coordinates are rrweb's client coordinates; "page" coordinates add the
document scroll offset at the time of the event.

Rules:

* page views: a page view starts at every Meta event (type 4, a new document) and at every SPA
  route change inside the document: the tracker's ``rv.route {href}`` Custom event whose URL
  differs from the current page view's. URLs lose query string and fragment, so a route change
  that only touches those (and hash routing, ``/#/a`` -> ``/#/b``) stays in the same page view.
  (PostHog recordings carry ``$pageview {href}`` Custom events for the same thing; they are not
  read, so imported sessions keep one page view per Meta event.) Events before the session's
  first Meta belong to page view -1: they count for the session's first/last timestamp but yield
  no clicks, moves or scroll depth;
* clicks and mouse moves belong to the page view whose start timestamp is the latest one
  ``<=`` their own timestamp (the last :data:`MAX_VIEWS_KEPT` page views are kept for this), so a
  click just before a route change stays on the old URL even when it comes after the
  ``rv.route`` in the batch;
* document scroll is tracked from Scroll events (source 3) whose node is the Document node of the
  latest FullSnapshot or its ``html``/``body`` element, starting at the snapshot's
  ``initialOffset``. Scrolls of other elements are kept per node (x, y) until the node is removed
  or a new FullSnapshot arrives;
* a click is a MouseInteraction (source 2) with ``data.type`` 2 (Click). Its offset inside the
  target box, and whether the target sits in a ``position: fixed`` or ``sticky`` element, come from
  the tracker's ``rv.click {id, x, y, w, h, fixed?}`` Custom event for the same target id within
  100 ms before or after the click (``frac_x = x / w``, ``frac_y = y / h``, clamped to 0..1). When
  the ``rv.click`` arrives in a later batch than its click, the join is reported as a
  :class:`ClickOffset` (the store updates the stored click). ``content_x``/``content_y`` are the
  page coordinates plus the scroll offsets of every scrolled element *above* the target (the target's
  own scroll does not move the point inside its box): where the click lies on the page with all
  elements unscrolled, as in a heatmap's reference snapshot. Page x/y stay what the visitor saw;
* scroll depth of a page view (all lengths CSS px): ``depth = document scroll y + viewport height``.
  rrweb's viewport height is ``window.innerHeight`` and scroll y is ``window.scrollY``, both CSS px
  (browser zoom changes ``devicePixelRatio`` and shrinks ``innerHeight`` in CSS px; nothing needs
  dividing), and the tracker's ``rv.page`` reports ``scrollHeight`` in CSS px. Pinch zoom (the
  visual viewport) is not recorded; the layout viewport is used. ``max_depth_px`` is the deepest
  depth; ``max_depth_share`` (0..1) the largest ``depth / page height`` with the page height *at that
  moment* (the latest ``rv.page``), so zooming or lazy loading that changes the page height later
  does not lower what was reached. Within :data:`BOTTOM_TOLERANCE_PX` of the bottom counts as 1.0,
  and a page shorter than the viewport is 1.0. Depths seen before the page view's first ``rv.page``
  are judged against that first height. A route page view takes its first depth sample at the next
  document Scroll, ViewportResize or ``rv.page`` (the SPA usually scrolls to the top just after the
  route change), or at its end if none came;
* mouse moves (source 1) are kept coarse: one point per 8 px cell change, in page coordinates;
* every pixel value read from an event is clamped before use: sizes (viewport width/height,
  ``rv.page`` scrollHeight) to ``0..MAX_PX`` (10,000,000 px), coordinates and scroll offsets to
  ``-MAX_PX..MAX_PX``; non-finite numbers are ignored. No page is that large, and one absurd
  number must not make the analytics store reject the whole batch (32-bit INTEGER columns);
* node ids outside the 32-bit range (and JSON booleans) are not node ids: clicks on them have no target.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..rrweb import EventType, IncrementalSource, MouseInteractions
from ..types import Event
from ._nodes import NodeMirror, _is_id

__all__ = [
    "Click",
    "ClickOffset",
    "Facts",
    "FactState",
    "MouseMove",
    "PageView",
    "ScrollDepth",
    "SessionDelta",
    "depth_share",
    "device_class",
    "extract_facts",
    "strip_url",
]

#: Viewport classes by width in CSS px: mobile < 768 <= tablet < 1024 <= desktop.
MOBILE_MAX_PX = 768
TABLET_MAX_PX = 1024
#: Max distance in ms between a click and its ``rv.click`` Custom event.
CLICK_JOIN_MS = 100
#: Mouse moves are recorded again only when they leave this cell (px).
MOVE_CELL_PX = 8
#: Custom event tags that mean "the SPA's URL changed" (payload ``{href}``).
ROUTE_TAGS = ("rv.route",)
#: Page view starts kept in the state to place late (out-of-order) clicks and moves.
MAX_VIEWS_KEPT = 16
#: A depth this close to the page height (px) counts as the bottom (scrollY may be fractional).
BOTTOM_TOLERANCE_PX = 1.0
#: Pixel values are clamped to this (sizes to ``0..MAX_PX``, coordinates and scroll offsets to
#: ``-MAX_PX..MAX_PX``) before they reach the store, whose INTEGER columns overflow at 2**31.
MAX_PX = 10_000_000.0
#: Mouse position ``timeOffset`` values (ms) are clamped to +-1 day.
MAX_TIME_OFFSET_MS = 86_400_000.0


def device_class(viewport_w: int | None) -> str | None:
    """``"mobile"`` (< 768 px wide), ``"tablet"`` (< 1024 px), ``"desktop"``; None when unknown."""
    if viewport_w is None:
        return None
    if viewport_w < MOBILE_MAX_PX:
        return "mobile"
    if viewport_w < TABLET_MAX_PX:
        return "tablet"
    return "desktop"


def strip_url(url: str) -> str:
    """``url`` without query string and fragment (``https://a.b/c?d#e`` -> ``https://a.b/c``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def depth_share(depth_px: float, page_height_px: float) -> float:
    """Share (0..1) of a page ``page_height_px`` tall that a depth of ``depth_px`` reached.

    1.0 within :data:`BOTTOM_TOLERANCE_PX` of the bottom (and for a page shorter than the viewport).
    """
    if depth_px >= page_height_px - BOTTOM_TOLERANCE_PX:
        return 1.0
    return max(0.0, depth_px / page_height_px)


@dataclass
class SessionDelta:
    """What one batch says about its session: first/last timestamp (ms) and last known viewport (px)."""

    first_ms: int | None = None
    last_ms: int | None = None
    viewport_w: int | None = None
    viewport_h: int | None = None
    device_class: str | None = None


@dataclass
class PageView:
    """One page view (a Meta event or an SPA route change): session-relative index, URL, start (ms), viewport (px)."""

    index: int
    url: str
    ts_ms: int
    viewport_w: int | None
    viewport_h: int | None
    device_class: str | None


@dataclass
class Click:
    """One click: viewport x/y and page x/y (px), target node and selector, offset in the target box.

    ``offset_x``/``offset_y``/``target_w``/``target_h`` are px, ``frac_x``/``frac_y`` the offset as
    a fraction (0..1) of the box, ``fixed`` whether the target is in a fixed/sticky element (None:
    no ``rv.click`` joined), ``content_x``/``content_y`` page px plus the scroll of the target's
    scrolled ancestor elements (see the module rules).
    """

    page_view: int
    url: str
    ts_ms: int
    x: float
    y: float
    page_x: float
    page_y: float
    viewport_w: int | None
    viewport_h: int | None
    device_class: str | None
    target_id: int | None
    selector: str | None
    offset_x: float | None = None
    offset_y: float | None = None
    target_w: float | None = None
    target_h: float | None = None
    frac_x: float | None = None
    frac_y: float | None = None
    fixed: bool | None = None
    content_x: float | None = None
    content_y: float | None = None

    def join(self, off: list[Any]) -> None:
        """Take the box offset of an ``rv.click`` item ``[ts, id, x, y, w, h, fixed]``."""
        (self.offset_x, self.offset_y, self.target_w, self.target_h,
         self.frac_x, self.frac_y, self.fixed) = _box(off)


@dataclass
class ClickOffset:
    """A late ``rv.click`` join for a click written with an earlier batch (same page view, ts, target)."""

    page_view: int
    ts_ms: int
    target_id: int
    offset_x: float
    offset_y: float
    target_w: float
    target_h: float
    frac_x: float | None = None
    frac_y: float | None = None
    fixed: bool = False


@dataclass
class ScrollDepth:
    """Deepest point seen so far in a page view (px) and as a share (0..1) of the page height then.

    ``max_depth_px`` = max(scroll y + viewport height); ``page_height_px`` the largest ``rv.page``
    height; ``max_depth_share`` None until a page height is known.
    """

    page_view: int
    url: str
    max_depth_px: int
    page_height_px: int | None
    viewport_w: int | None
    viewport_h: int | None
    device_class: str | None
    max_depth_share: float | None = None


@dataclass
class MouseMove:
    """One coarse mouse position in page coordinates (px) at ``ts_ms``."""

    page_view: int
    url: str
    ts_ms: int
    page_x: float
    page_y: float


@dataclass
class Facts:
    """Everything one batch contributes to the analytics store."""

    session: SessionDelta = field(default_factory=SessionDelta)
    page_views: list[PageView] = field(default_factory=list)
    clicks: list[Click] = field(default_factory=list)
    click_offsets: list[ClickOffset] = field(default_factory=list)
    scroll_depths: list[ScrollDepth] = field(default_factory=list)
    moves: list[MouseMove] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of all facts."""
        return asdict(self)


@dataclass
class FactState:
    """Per-session state carried from batch to batch (JSON-safe via ``to_dict``/``from_dict``)."""

    page_view: int = -1
    page_view_count: int = 0
    url: str | None = None
    viewport_w: int | None = None
    viewport_h: int | None = None
    scroll_x: float = 0.0
    scroll_y: float = 0.0
    max_depth_px: int | None = None
    page_height_px: int | None = None
    #: latest rv.page height of the current page view (px), None until one came
    page_height_now: float | None = None
    max_depth_share: float | None = None
    #: [page_view, cell x, cell y] of the last kept mouse move
    last_move_cell: list[int] | None = None
    #: recent page view starts, ascending: [start ts_ms, index, url]
    views: list[list[Any]] = field(default_factory=list)
    #: scroll offsets (px) of scrolled non-document elements: str(node id) -> [x, y]
    element_scroll: dict[str, list[float]] = field(default_factory=dict)
    #: clicks without an offset yet, last CLICK_JOIN_MS: [ts_ms, target_id, page_view]
    recent_clicks: list[list[Any]] = field(default_factory=list)
    #: unmatched rv.click payloads, last CLICK_JOIN_MS: [ts_ms, id, x, y, w, h, fixed]
    recent_offsets: list[list[Any]] = field(default_factory=list)
    nodes: NodeMirror = field(default_factory=NodeMirror)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (node ids as string keys); holds no text or attribute values besides id/class."""
        d = {k: v for k, v in self.__dict__.items() if k != "nodes"}
        d["nodes"] = self.nodes.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FactState:
        """Inverse of :meth:`to_dict` (also reads states written before newer fields existed)."""
        kwargs = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "nodes"}
        if isinstance(kwargs.get("last_move_cell"), list) and len(kwargs["last_move_cell"]) == 2:
            kwargs["last_move_cell"] = [d.get("page_view", -1), *kwargs["last_move_cell"]]
        return cls(**kwargs, nodes=NodeMirror.from_dict(d.get("nodes") or {}))


def extract_facts(events: list[Event], state: FactState) -> Facts:
    """Facts of one batch of masked rrweb events; updates ``state`` in place, never mutates ``events``."""
    return _Extractor(state).run(events)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _px(v: Any) -> float | None:
    """A coordinate or scroll offset in px, clamped to ``-MAX_PX..MAX_PX``; None unless a finite number."""
    f = _num(v)
    return None if f is None or not math.isfinite(f) else min(MAX_PX, max(-MAX_PX, f))


def _size(v: Any) -> float | None:
    """A size in px (viewport, page height), clamped to ``0..MAX_PX``; None unless a finite number."""
    f = _px(v)
    return None if f is None else max(0.0, f)


def time_offset(v: Any) -> float:
    """A mouse position's ``timeOffset`` in ms, clamped to +-``MAX_TIME_OFFSET_MS`` (0 when absent)."""
    f = _num(v)
    return 0.0 if f is None or not math.isfinite(f) else min(MAX_TIME_OFFSET_MS, max(-MAX_TIME_OFFSET_MS, f))


def _frac(offset: float, size: float) -> float | None:
    """``offset / size`` clamped to 0..1 (the tracker rounds both to whole px); None for an empty box."""
    return min(1.0, max(0.0, offset / size)) if size > 0 else None


def _box(off: list[Any]) -> tuple[Any, ...]:
    """``(offset_x, offset_y, w, h, frac_x, frac_y, fixed)`` of an ``rv.click`` item ``[ts, id, x, y, w, h, fixed]``."""
    x, y, w, h = off[2:6]
    return x, y, w, h, _frac(x, w), _frac(y, h), bool(off[6]) if len(off) > 6 else False


class _Extractor:
    """One pass over a batch; one small handler per event kind."""

    def __init__(self, state: FactState) -> None:
        self.s = state
        self.facts = Facts()
        self.touched: set[int] = set()

    def run(self, events: list[Event]) -> Facts:
        s = self.s
        for ev in events:
            ts = int(ev.get("timestamp", 0))
            self._seen(ts)
            data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
            etype = ev.get("type")
            if etype == EventType.Meta:
                self._meta(data, ts)
            elif etype == EventType.FullSnapshot:
                self._full_snapshot(data)
            elif etype == EventType.Custom:
                self._custom(data, ts)
            elif etype == EventType.IncrementalSnapshot:
                self._incremental(data, ts)
        sess = self.facts.session
        sess.viewport_w, sess.viewport_h = s.viewport_w, s.viewport_h
        sess.device_class = device_class(s.viewport_w)
        if s.page_view in self.touched and s.max_depth_px is not None:
            self._emit_depth()
        return self.facts

    def _seen(self, ts: int) -> None:
        sess = self.facts.session
        sess.first_ms = ts if sess.first_ms is None else min(sess.first_ms, ts)
        sess.last_ms = ts if sess.last_ms is None else max(sess.last_ms, ts)

    def _incremental(self, data: dict[str, Any], ts: int) -> None:
        src = data.get("source")
        if src == IncrementalSource.Mutation:
            self.s.nodes.mutation(data)
            if self.s.element_scroll and data.get("removes"):
                info = self.s.nodes.info
                self.s.element_scroll = {k: v for k, v in self.s.element_scroll.items() if int(k) in info}
        elif src == IncrementalSource.MouseInteraction and data.get("type") == MouseInteractions.Click:
            self._click(data, ts)
        elif src == IncrementalSource.Scroll:
            self._scroll(data)
        elif src == IncrementalSource.ViewportResize:
            w, h = _size(data.get("width")), _size(data.get("height"))
            if w is not None and h is not None:
                self.s.viewport_w, self.s.viewport_h = int(w), int(h)
                self._depth()
        elif src == IncrementalSource.MouseMove:
            self._moves(data, ts)

    # -- page views and document ---------------------------------------------------------------
    def _meta(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        self._end_view()
        w, h = _size(data.get("width")), _size(data.get("height"))
        s.viewport_w = int(w) if w is not None else s.viewport_w
        s.viewport_h = int(h) if h is not None else s.viewport_h
        self._start_view(strip_url(str(data.get("href", ""))), ts)
        s.scroll_x = s.scroll_y = 0.0
        s.element_scroll = {}
        self._depth()

    def _route(self, href: Any, ts: int) -> None:
        """An SPA route change: a new page view in the same document (node mirror and scroll stay)."""
        if not isinstance(href, str) or self.s.page_view < 0 or strip_url(href) == self.s.url:
            return
        self._end_view()
        self._start_view(strip_url(href), ts)  # first depth sample: next scroll, resize or rv.page

    def _end_view(self) -> None:
        """Emit the current page view's depth; a route view without a sample yet is sampled now."""
        s = self.s
        if s.page_view >= 0 and s.max_depth_px is None and s.viewport_h is not None:
            self._depth()
        if s.page_view in self.touched and s.max_depth_px is not None:
            self._emit_depth()

    def _start_view(self, url: str, ts: int) -> None:
        s = self.s
        s.page_view = s.page_view_count
        s.page_view_count += 1
        s.url = url
        bisect.insort(s.views, [ts, s.page_view, url])
        del s.views[:-MAX_VIEWS_KEPT]
        s.max_depth_px = s.page_height_px = s.page_height_now = s.max_depth_share = None
        s.last_move_cell = None
        self.facts.page_views.append(
            PageView(s.page_view, url, ts, s.viewport_w, s.viewport_h, device_class(s.viewport_w))
        )

    def _view_at(self, ts: int) -> tuple[int, str] | None:
        """``(page view, url)`` whose start is the latest one <= ``ts``; None before the first page view."""
        s = self.s
        if s.page_view < 0:
            return None
        if not s.views:  # a state saved before page view starts were kept
            return s.page_view, s.url or ""
        i = bisect.bisect_right([v[0] for v in s.views], ts) - 1
        if i < 0:  # before every kept start: before the session's first Meta, or an old page view
            return None if s.views[0][1] == 0 else (s.views[0][1], s.views[0][2])
        return s.views[i][1], s.views[i][2]

    def _full_snapshot(self, data: dict[str, Any]) -> None:
        node = data.get("node")
        if isinstance(node, dict):
            self.s.nodes.full_snapshot(node)
        self.s.element_scroll = {}
        offset = data.get("initialOffset") or {}
        left, top = _px(offset.get("left")), _px(offset.get("top"))
        self.s.scroll_x = left if left is not None else self.s.scroll_x
        self.s.scroll_y = top if top is not None else self.s.scroll_y
        self._depth()

    def _scroll(self, data: dict[str, Any]) -> None:
        s = self.s
        nid = data.get("id")
        x, y = _px(data.get("x")), _px(data.get("y"))
        if nid not in s.nodes.root_ids:
            if _is_id(nid) and nid in s.nodes.info:
                if x or y:
                    s.element_scroll[str(nid)] = [x or 0.0, y or 0.0]
                else:
                    s.element_scroll.pop(str(nid), None)
            return
        s.scroll_x = x if x is not None else s.scroll_x
        s.scroll_y = y if y is not None else s.scroll_y
        self._depth()

    def _depth(self) -> None:
        """Take one depth sample of the current page view at the current scroll and viewport."""
        s = self.s
        if s.page_view < 0 or s.viewport_h is None:
            return
        depth = s.scroll_y + s.viewport_h
        s.max_depth_px = max(int(round(depth)), s.max_depth_px or 0)
        if s.page_height_now:
            s.max_depth_share = max(depth_share(depth, s.page_height_now), s.max_depth_share or 0.0)
        self.touched.add(s.page_view)

    def _emit_depth(self) -> None:
        s = self.s
        self.facts.scroll_depths.append(
            ScrollDepth(s.page_view, s.url or "", int(s.max_depth_px or 0), s.page_height_px,
                        s.viewport_w, s.viewport_h, device_class(s.viewport_w), s.max_depth_share)
        )

    # -- custom events from the replayvault tracker ----------------------------------------------
    def _custom(self, data: dict[str, Any], ts: int) -> None:
        payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
        tag = data.get("tag")
        if tag == "rv.page":
            self._page_height(_size(payload.get("scrollHeight")))
        elif tag == "rv.click":
            vals = [_px(payload.get(k)) for k in ("x", "y", "w", "h")]
            if _is_id(payload.get("id")) and None not in vals:
                self._offset([ts, payload["id"], *vals, bool(payload.get("fixed"))])
        elif tag in ROUTE_TAGS:
            self._route(payload.get("href"), ts)

    def _page_height(self, height: float | None) -> None:
        s = self.s
        if height is None or height <= 0 or s.page_view < 0:
            return
        s.page_height_px = max(int(height), s.page_height_px or 0)
        if s.max_depth_share is None and s.max_depth_px is not None:  # depths seen before any height
            s.max_depth_share = depth_share(s.max_depth_px, height)
        s.page_height_now = height
        self._depth()

    # -- clicks ---------------------------------------------------------------------------------
    def _click(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        x, y = _px(data.get("x")), _px(data.get("y"))
        view = self._view_at(ts)
        if view is None or x is None or y is None:
            return
        target = data.get("id") if _is_id(data.get("id")) else None
        dx, dy = self._ancestor_scroll(target)
        page_x, page_y = x + s.scroll_x, y + s.scroll_y
        click = Click(
            view[0], view[1], ts, x, y, page_x, page_y, s.viewport_w, s.viewport_h,
            device_class(s.viewport_w), target, s.nodes.selector(target) if target is not None else None,
            content_x=page_x + dx, content_y=page_y + dy,
        )
        self.facts.clicks.append(click)
        self._prune(ts)
        match = _nearest(s.recent_offsets, ts, target)
        if match is not None:
            s.recent_offsets.remove(match)
            click.join(match)
        elif target is not None:
            s.recent_clicks.append([ts, target, view[0]])

    def _ancestor_scroll(self, target: int | None) -> tuple[float, float]:
        """Sum of the scroll offsets (px) of the scrolled elements above ``target`` (document excluded)."""
        s = self.s
        dx = dy = 0.0
        if target is None or not s.element_scroll:
            return dx, dy
        cur = s.nodes.parent.get(target)
        for _ in range(len(s.nodes.parent) + 1):  # bounded even if a broken parent map loops
            if cur is None or cur in s.nodes.root_ids:
                break
            off = s.element_scroll.get(str(cur))
            if off:
                dx, dy = dx + off[0], dy + off[1]
            cur = s.nodes.parent.get(cur)
        return dx, dy

    def _offset(self, off: list[Any]) -> None:
        s = self.s
        ts, target = off[0], off[1]
        self._prune(ts)
        match = _nearest(s.recent_clicks, ts, target)
        if match is None:
            s.recent_offsets.append(off)
            return
        s.recent_clicks.remove(match)
        for click in reversed(self.facts.clicks):  # the click is in this batch, or an earlier one
            if click.ts_ms == match[0] and click.target_id == target and click.offset_x is None:
                click.join(off)
                return
        self.facts.click_offsets.append(ClickOffset(match[2], match[0], target, *_box(off)))

    def _prune(self, ts: int) -> None:
        s = self.s
        s.recent_clicks = [c for c in s.recent_clicks if ts - c[0] <= CLICK_JOIN_MS]
        s.recent_offsets = [o for o in s.recent_offsets if ts - o[0] <= CLICK_JOIN_MS]

    # -- mouse moves ----------------------------------------------------------------------------
    def _moves(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        for pos in data.get("positions") or []:
            if not isinstance(pos, dict):
                continue
            x, y = _px(pos.get("x")), _px(pos.get("y"))
            at = int(ts + time_offset(pos.get("timeOffset")))
            view = self._view_at(at)
            if x is None or y is None or view is None:
                continue
            px, py = x + s.scroll_x, y + s.scroll_y
            cell = [view[0], int(px // MOVE_CELL_PX), int(py // MOVE_CELL_PX)]
            if cell == s.last_move_cell:
                continue
            s.last_move_cell = cell
            self.facts.moves.append(MouseMove(view[0], view[1], at, px, py))


def _nearest(items: list[list[Any]], ts: int, target: Any) -> list[Any] | None:
    """The item for ``target`` closest in time to ``ts`` (within CLICK_JOIN_MS), or None."""
    best = None
    for it in items:
        if it[1] == target and abs(it[0] - ts) <= CLICK_JOIN_MS:
            if best is None or abs(it[0] - ts) < abs(best[0] - ts):
                best = it
    return best
