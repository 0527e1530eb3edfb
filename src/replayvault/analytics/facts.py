"""Analytics facts extracted from one batch of (already privacy-masked) rrweb events.

Pure: no I/O. :func:`extract_facts` reads a batch and updates the session's :class:`FactState`,
which the caller keeps (``to_dict()`` -> JSON -> ``FactState.from_dict()``) for the session's
next batch. Batches of one session must be passed in order.

Units: timestamps are epoch milliseconds (rrweb ``timestamp``); every coordinate and size is in
CSS pixels. "Viewport" coordinates are rrweb's client coordinates; "page" coordinates add the
document scroll offset at the time of the event.

Rules:

* a page view starts at every Meta event (type 4); its URL loses query string and fragment.
  Events before the session's first Meta (a batch that starts mid-page) belong to page view -1:
  they count for the session's first/last timestamp but yield no clicks, moves or scroll depth;
* document scroll is tracked from Scroll events (source 3) whose node is the Document node of the
  latest FullSnapshot or its ``html``/``body`` element, starting at the snapshot's
  ``initialOffset``; scrolls of other elements are ignored;
* scroll depth of a page view = max over the page view of (document scroll y + viewport height);
  page height comes from the tracker's ``rv.page`` Custom event (``scrollHeight``), else None;
* a click is a MouseInteraction (source 2) with ``data.type`` 2 (Click). Its offset inside the
  target box comes from the tracker's ``rv.click`` Custom event for the same target id within
  100 ms before or after the click. When the ``rv.click`` arrives in a later batch than its click,
  the join is reported as a :class:`ClickOffset` (the store updates the stored click);
* mouse moves (source 1) are kept coarse: one point per 8 px cell change, in page coordinates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..rrweb import EventType, IncrementalSource, MouseInteractions
from ..types import Event
from ._nodes import NodeMirror

__all__ = [
    "Click",
    "ClickOffset",
    "Facts",
    "FactState",
    "MouseMove",
    "PageView",
    "ScrollDepth",
    "SessionDelta",
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
    """One page view (a Meta event): session-relative index, URL, start (ms), viewport (px)."""

    index: int
    url: str
    ts_ms: int
    viewport_w: int | None
    viewport_h: int | None
    device_class: str | None


@dataclass
class Click:
    """One click: viewport x/y and page x/y (px), target node and selector, offset in the target box (px)."""

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


@dataclass
class ScrollDepth:
    """Deepest point seen so far in a page view: max(scroll y + viewport height) and page height (px)."""

    page_view: int
    url: str
    max_depth_px: int
    page_height_px: int | None
    viewport_w: int | None
    viewport_h: int | None
    device_class: str | None


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
    last_move_cell: list[int] | None = None
    #: clicks without an offset yet, last CLICK_JOIN_MS: [ts_ms, target_id, page_view]
    recent_clicks: list[list[Any]] = field(default_factory=list)
    #: unmatched rv.click payloads, last CLICK_JOIN_MS: [ts_ms, id, x, y, w, h]
    recent_offsets: list[list[Any]] = field(default_factory=list)
    nodes: NodeMirror = field(default_factory=NodeMirror)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (node ids as string keys); holds no text or attribute values besides id/class."""
        d = {k: v for k, v in self.__dict__.items() if k != "nodes"}
        d["nodes"] = self.nodes.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FactState:
        """Inverse of :meth:`to_dict`."""
        kwargs = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "nodes"}
        return cls(**kwargs, nodes=NodeMirror.from_dict(d.get("nodes") or {}))


def extract_facts(events: list[Event], state: FactState) -> Facts:
    """Facts of one batch of masked rrweb events; updates ``state`` in place, never mutates ``events``."""
    return _Extractor(state).run(events)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


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
        elif src == IncrementalSource.MouseInteraction and data.get("type") == MouseInteractions.Click:
            self._click(data, ts)
        elif src == IncrementalSource.Scroll:
            self._scroll(data)
        elif src == IncrementalSource.ViewportResize:
            w, h = _num(data.get("width")), _num(data.get("height"))
            if w is not None and h is not None:
                self.s.viewport_w, self.s.viewport_h = int(w), int(h)
                self._depth()
        elif src == IncrementalSource.MouseMove:
            self._moves(data, ts)

    # -- page views and document ---------------------------------------------------------------
    def _meta(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        if s.page_view in self.touched and s.max_depth_px is not None:
            self._emit_depth()
        s.page_view = s.page_view_count
        s.page_view_count += 1
        s.url = strip_url(str(data.get("href", "")))
        w, h = _num(data.get("width")), _num(data.get("height"))
        s.viewport_w = int(w) if w is not None else s.viewport_w
        s.viewport_h = int(h) if h is not None else s.viewport_h
        s.scroll_x = s.scroll_y = 0.0
        s.max_depth_px = s.page_height_px = None
        s.last_move_cell = None
        self.facts.page_views.append(
            PageView(s.page_view, s.url, ts, s.viewport_w, s.viewport_h, device_class(s.viewport_w))
        )
        self._depth()

    def _full_snapshot(self, data: dict[str, Any]) -> None:
        node = data.get("node")
        if isinstance(node, dict):
            self.s.nodes.full_snapshot(node)
        offset = data.get("initialOffset") or {}
        left, top = _num(offset.get("left")), _num(offset.get("top"))
        self.s.scroll_x = left if left is not None else self.s.scroll_x
        self.s.scroll_y = top if top is not None else self.s.scroll_y
        self._depth()

    def _scroll(self, data: dict[str, Any]) -> None:
        if data.get("id") not in self.s.nodes.root_ids:
            return
        x, y = _num(data.get("x")), _num(data.get("y"))
        self.s.scroll_x = x if x is not None else self.s.scroll_x
        self.s.scroll_y = y if y is not None else self.s.scroll_y
        self._depth()

    def _depth(self) -> None:
        s = self.s
        if s.page_view < 0 or s.viewport_h is None:
            return
        depth = int(round(s.scroll_y + s.viewport_h))
        s.max_depth_px = depth if s.max_depth_px is None else max(s.max_depth_px, depth)
        self.touched.add(s.page_view)

    def _emit_depth(self) -> None:
        s = self.s
        self.facts.scroll_depths.append(
            ScrollDepth(s.page_view, s.url or "", int(s.max_depth_px or 0), s.page_height_px,
                        s.viewport_w, s.viewport_h, device_class(s.viewport_w))
        )

    # -- custom events from the replayvault tracker ----------------------------------------------
    def _custom(self, data: dict[str, Any], ts: int) -> None:
        payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
        if data.get("tag") == "rv.page":
            height = _num(payload.get("scrollHeight"))
            if height is not None and self.s.page_view >= 0:
                self.s.page_height_px = max(int(height), self.s.page_height_px or 0)
                self.touched.add(self.s.page_view)
                if self.s.max_depth_px is None:
                    self._depth()
        elif data.get("tag") == "rv.click":
            vals = [_num(payload.get(k)) for k in ("x", "y", "w", "h")]
            if isinstance(payload.get("id"), int) and None not in vals:
                self._offset([ts, payload["id"], *vals])

    # -- clicks ---------------------------------------------------------------------------------
    def _click(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        x, y = _num(data.get("x")), _num(data.get("y"))
        if s.page_view < 0 or x is None or y is None:
            return
        target = data.get("id") if isinstance(data.get("id"), int) else None
        click = Click(
            s.page_view, s.url or "", ts, x, y, x + s.scroll_x, y + s.scroll_y, s.viewport_w, s.viewport_h,
            device_class(s.viewport_w), target, s.nodes.selector(target) if target is not None else None,
        )
        self.facts.clicks.append(click)
        self._prune(ts)
        match = _nearest(s.recent_offsets, ts, target)
        if match is not None:
            s.recent_offsets.remove(match)
            click.offset_x, click.offset_y, click.target_w, click.target_h = match[2:6]
        elif target is not None:
            s.recent_clicks.append([ts, target, s.page_view])

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
                click.offset_x, click.offset_y, click.target_w, click.target_h = off[2:6]
                return
        self.facts.click_offsets.append(ClickOffset(match[2], match[0], target, *off[2:6]))

    def _prune(self, ts: int) -> None:
        s = self.s
        s.recent_clicks = [c for c in s.recent_clicks if ts - c[0] <= CLICK_JOIN_MS]
        s.recent_offsets = [o for o in s.recent_offsets if ts - o[0] <= CLICK_JOIN_MS]

    # -- mouse moves ----------------------------------------------------------------------------
    def _moves(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        if s.page_view < 0:
            return
        for pos in data.get("positions") or []:
            if not isinstance(pos, dict):
                continue
            x, y = _num(pos.get("x")), _num(pos.get("y"))
            if x is None or y is None:
                continue
            px, py = x + s.scroll_x, y + s.scroll_y
            cell = [int(px // MOVE_CELL_PX), int(py // MOVE_CELL_PX)]
            if cell == s.last_move_cell:
                continue
            s.last_move_cell = cell
            offset = _num(pos.get("timeOffset")) or 0.0
            self.facts.moves.append(MouseMove(s.page_view, s.url or "", int(ts + offset), px, py))


def _nearest(items: list[list[Any]], ts: int, target: Any) -> list[Any] | None:
    """The item for ``target`` closest in time to ``ts`` (within CLICK_JOIN_MS), or None."""
    best = None
    for it in items:
        if it[1] == target and abs(it[0] - ts) <= CLICK_JOIN_MS:
            if best is None or abs(it[0] - ts) < abs(best[0] - ts):
                best = it
    return best
