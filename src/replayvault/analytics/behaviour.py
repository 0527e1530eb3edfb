"""Behaviour facts from one batch of (already privacy-masked) rrweb events: frustration signals,
form field visits, validation errors, form submits and the tracker's named events.

Pure: no I/O. :func:`extract_behaviour` reads a batch plus the page views :func:`extract_facts`
found in the same batch (so page view indices and URLs are exactly those of the ``page_views``
table) and updates the session's :class:`BehaviourState`, which the caller keeps
(``to_dict()`` -> JSON -> ``BehaviourState.from_dict()``) for the session's next batch. Batches of
one session must be passed in order. Nothing typed or shown is kept: counts, timings (epoch ms),
rrweb node ids and selector paths only.

Units: timestamps epoch ms; ``x``/``y`` page px (viewport px + document scroll, tracked as in
:mod:`.facts`). Events before the session's first page view (page view -1) yield no signals and no
form facts. A *navigation* is a Meta event or a route Custom event (:data:`ROUTE_TAGS`: ``rv.route``,
and ``$pageview`` in PostHog recordings); events belong to the page view entered at the latest
navigation before them in the batch.

The numbers (1 s, 30 px, 3 clicks, 7 s) are those of issue 6 ("Behaviour analytics"); where the
issue leaves a rule open (thrashed cursor, what counts as a reaction or a submit) the choice is
stated here.

Frustration signals (``Signal.kind``):

* ``rage_click``: a *burst* is a run of clicks in one page view, each at most
  :data:`RAGE_WINDOW_MS` (1000 ms) after the previous one and at most :data:`RAGE_RADIUS_PX`
  (30 px, Euclidean, page px) from the burst's first click. A burst is a rage click once
  :data:`RAGE_MIN_CLICKS` (3) of its consecutive clicks fall within 1000 ms; one signal per burst
  at its first click, ``count`` = clicks in the burst, ``duration_ms`` = first to last click. A
  burst that is still growing at the end of a batch is written with its count so far and updated
  by the next batch. Clicks of a rage burst that are still undecided when it becomes (or grows as)
  a rage click are not also reported as dead clicks;
* ``dead_click``: a click (not on a field) followed within :data:`DEAD_WINDOW_MS` (1000 ms,
  inclusive) by no reaction. Reactions: a Mutation, Input, Scroll, MediaInteraction,
  StyleSheetRule/StyleDeclaration/AdoptedStyleSheet or CanvasMutation event, a Focus, a
  FullSnapshot, a navigation or ``rv.submit``. Selection changes are not
  reactions (a click on plain text moves the caret). A click is decided when a later event's
  timestamp passes click + 1000 ms, in this batch or the next one; a click still undecided when the
  recording stops is not reported (nothing says whether the page reacted);
* ``error_click``: a console error (``rrweb/console@1`` plugin with ``level: "error"``, or the
  older Log source with ``level: "error"``) or a failed request (``rrweb/network@1`` plugin, a
  request whose ``status`` or ``responseStatus`` is 0 or >= 400) at most :data:`ERROR_WINDOW_MS`
  (1000 ms) after a click: the latest such click gets it (at most one per click). Timed by the
  plugin event's timestamp. Independent of ``dead_click`` (a click may be both). Only sessions
  recorded with those plugins can have error clicks;
* ``u_turn``: page views A, B, A (A != B; consecutive page views of one URL count as one) where A
  comes back at most :data:`UTURN_MS` (7000 ms) after B began: signal on B's page view and URL at
  B's start, ``duration_ms`` = time on B;
* ``thrashed_cursor``: per axis (viewport x and y of MouseMove positions), a *reversal* is counted
  when the cursor, after travelling at least :data:`THRASH_MIN_PX` (100 px) in one direction,
  comes back at least 100 px from the turning point (so every leg is >= 100 px), at the time of
  the position that completes the way back. Reversals of both axes in one page view form an
  episode while each is at most :data:`THRASH_WINDOW_MS` (1000 ms) after the previous one; an
  episode is a thrashed cursor once :data:`THRASH_REVERSALS` (4) consecutive reversals fall within
  1000 ms (five legs of >= 100 px in about a second: erratic, not reading or aiming). One signal per
  episode at its first reversal (page px, selector of the element under the cursor), ``count`` =
  reversals, ``duration_ms`` = first to last reversal.

Forms (:mod:`._dom` defines field, form, submit button and error element):

* a *visit* of a field starts at its Focus and ends at its Blur, at a Focus of another field, or
  when the page view ends; ``inputs`` counts its Input events (values are never read),
  ``first_input_ms`` the first one (hesitation = first input - focus), ``refill`` is true when
  the field was changed in an earlier visit of the same page view. Input on a field without a
  focused visit (autofill, script) makes one unfocused visit per field and page view (no time
  spent, no hesitation); unchecking side effects of radio groups (``isChecked: false`` on an
  unfocused choice) are ignored. A visit still open at the end of a batch is written as open
  (``end_ms`` None) and updated later;
* a *submit* is an ``rv.submit`` event (the form's name, via ``"rv.submit"``), or a click on a
  submit button inside a form followed by a navigation within
  :data:`SUBMIT_NAV_MS` (3000 ms) (via ``"navigation"``, at the click's time and page view);
* a *validation error* is a field starting to show one during a Mutation (see :mod:`._dom`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..rrweb import EventType, IncrementalSource, MouseInteractions
from ..types import Event
from ._dom import FormDom
from ._nodes import _is_id
from .facts import PageView, _px, time_offset

__all__ = [
    "Behaviour",
    "BehaviourState",
    "FieldError",
    "FieldVisit",
    "FormSubmit",
    "KINDS",
    "Signal",
    "TrackEvent",
    "extract_behaviour",
]

RAGE_MIN_CLICKS = 3
RAGE_WINDOW_MS = 1000
RAGE_RADIUS_PX = 30.0
DEAD_WINDOW_MS = 1000
ERROR_WINDOW_MS = 1000
UTURN_MS = 7000
THRASH_MIN_PX = 100.0
THRASH_REVERSALS = 4
THRASH_WINDOW_MS = 1000
SUBMIT_NAV_MS = 3000
#: Custom event tags of an SPA navigation (the tracker's, and PostHog's in imported recordings).
ROUTE_TAGS = ("rv.route", "$pageview")
#: Longest ``rv.event`` name kept (characters).
MAX_EVENT_NAME = 200
#: Every signal kind, in the order dashboards list them.
KINDS = ("rage_click", "dead_click", "error_click", "u_turn", "thrashed_cursor")

_REACTION_SOURCES = frozenset({IncrementalSource.Mutation, IncrementalSource.Input, IncrementalSource.Scroll,
                               IncrementalSource.MediaInteraction, IncrementalSource.StyleSheetRule,
                               IncrementalSource.StyleDeclaration, IncrementalSource.AdoptedStyleSheet,
                               IncrementalSource.CanvasMutation})


@dataclass
class Signal:
    """One frustration signal: kind, page view, URL, ts (ms), page x/y (px, None for u_turn), target selector,
    ``count`` (clicks of a rage burst, reversals of a thrash, else 1), ``duration_ms`` (see module rules)."""

    page_view: int
    url: str
    ts_ms: int
    kind: str
    x: float | None
    y: float | None
    selector: str | None
    count: int = 1
    duration_ms: int | None = None


@dataclass
class FieldVisit:
    """One visit of a form field: start (focus, or first input when unfocused) and end (blur) in epoch ms,
    first input (ms), number of Input events, refill (changed again after an earlier visit)."""

    page_view: int
    url: str
    form: str
    field: str
    field_id: int
    start_ms: int
    focused: bool
    end_ms: int | None
    first_input_ms: int | None
    inputs: int
    refill: bool


@dataclass
class FieldError:
    """A field starting to show a validation error at ``ts_ms``; ``rule`` is ``aria-invalid`` or ``message``."""

    page_view: int
    url: str
    form: str
    field: str
    field_id: int
    ts_ms: int
    rule: str


@dataclass
class FormSubmit:
    """A form submitted at ``ts_ms``; ``via`` is ``rv.submit`` or ``navigation``."""

    page_view: int
    url: str
    form: str
    ts_ms: int
    via: str


@dataclass
class TrackEvent:
    """A named event from the tracker's ``replayvault.track(name)`` (``rv.event``)."""

    page_view: int
    url: str
    ts_ms: int
    name: str


@dataclass
class Behaviour:
    """Everything one batch contributes to the behaviour tables (rows are upserted by natural key)."""

    signals: list[Signal] = field(default_factory=list)
    visits: list[FieldVisit] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    submits: list[FormSubmit] = field(default_factory=list)
    events: list[TrackEvent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of all rows."""
        return asdict(self)


@dataclass
class BehaviourState:
    """Per-session state carried from batch to batch (JSON-safe via ``to_dict``/``from_dict``).

    Click lists hold ``[ts, page_view, url, x, y, selector]``; ``trail`` the last two page views
    of different URLs ``[index, url, ts]``; visits are :class:`FieldVisit` dicts.
    """

    page_view: int = -1
    url: str = ""
    scroll: list[float] = field(default_factory=lambda: [0.0, 0.0])
    trail: list[list[Any]] = field(default_factory=list)
    pending: list[list[Any]] = field(default_factory=list)
    recent: list[list[Any]] = field(default_factory=list)
    rage: dict[str, Any] | None = None
    axes: list[list[float]] | None = None
    thrash: dict[str, Any] | None = None
    visit: dict[str, Any] | None = None
    implicit: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: list[int] = field(default_factory=list)
    last_field: int | None = None
    submit_clicks: list[list[Any]] = field(default_factory=list)
    dom: FormDom = field(default_factory=FormDom)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; holds no text or values, only ids, selectors, URLs without query, times and px."""
        d = {k: v for k, v in self.__dict__.items() if k != "dom"}
        d["dom"] = self.dom.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BehaviourState:
        """Inverse of :meth:`to_dict`; ``{}`` (a state stored before this extractor existed) is a fresh state."""
        kwargs = {k: v for k, v in d.items() if k in cls.__dataclass_fields__ and k != "dom"}
        return cls(**kwargs, dom=FormDom.from_dict(d.get("dom") or {}))


def extract_behaviour(events: list[Event], state: BehaviourState, page_views: Sequence[PageView]) -> Behaviour:
    """Behaviour facts of one batch of masked events; updates ``state`` in place, never mutates ``events``.

    ``page_views``: the :class:`~replayvault.analytics.facts.PageView` list that ``extract_facts``
    returned for the same batch (in order).
    """
    return _Extractor(state, page_views).run(events)


def _num(v: Any) -> float | None:
    """A pixel value: finite, clamped like the facts' (``facts.MAX_PX``); None otherwise."""
    return _px(v)


class _Extractor:
    """One pass over a batch; one small handler per event kind."""

    def __init__(self, state: BehaviourState, page_views: Sequence[PageView]) -> None:
        self.s = state
        self.page_views = list(page_views)
        self.next_pv = 0
        self.signals: dict[tuple[int, str, int], Signal] = {}
        self.visits: dict[tuple[int, int, int], FieldVisit] = {}
        self.submits: dict[tuple[int, str, int], FormSubmit] = {}
        self.out = Behaviour()

    def run(self, events: list[Event]) -> Behaviour:
        for ev in events:
            ts = int(ev.get("timestamp", 0))
            data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
            etype = ev.get("type")
            tag = data.get("tag") if etype == EventType.Custom else None
            nav = etype == EventType.Meta or tag in ROUTE_TAGS
            self._settle(ts)
            self._sync_page_view(ts, nav)
            if nav:
                self._navigation(ts)
            if etype == EventType.Meta:
                self.s.scroll = [0.0, 0.0]
            elif etype == EventType.FullSnapshot:
                self._full_snapshot(data)
            elif etype == EventType.IncrementalSnapshot:
                self._incremental(data, ts)
            elif etype == EventType.Custom:
                self._custom(tag, data, ts)
            elif etype == EventType.Plugin:
                self._plugin(data, ts)
        while self.next_pv < len(self.page_views):
            self._enter(self.page_views[self.next_pv])
            self.next_pv += 1
        return self._flush()

    def _flush(self) -> Behaviour:
        s = self.s
        for v in [s.visit, *s.implicit.values()]:
            if v is not None:
                self._emit_visit(v)
        s.dom.prune()
        self.out.signals = list(self.signals.values())
        self.out.visits = list(self.visits.values())
        self.out.submits = list(self.submits.values())
        return self.out

    # -- time and page views ---------------------------------------------------------------------
    def _settle(self, ts: int) -> None:
        """Decide clicks whose reaction window closed before ``ts``; drop expired click lists."""
        s = self.s
        keep = []
        for c in s.pending:
            if ts - c[0] > DEAD_WINDOW_MS:
                self._signal(Signal(c[1], c[2], c[0], "dead_click", c[3], c[4], c[5]))
            else:
                keep.append(c)
        s.pending = keep
        s.recent = [c for c in s.recent if ts - c[0] <= ERROR_WINDOW_MS]
        s.submit_clicks = [c for c in s.submit_clicks if ts - c[0] <= SUBMIT_NAV_MS]

    def _sync_page_view(self, ts: int, nav: bool) -> None:
        """Enter the page views of ``extract_facts`` at their navigation event (or the first event after)."""
        pvs = self.page_views
        while self.next_pv < len(pvs) and pvs[self.next_pv].ts_ms < ts:
            self._enter(pvs[self.next_pv])
            self.next_pv += 1
        if nav and self.next_pv < len(pvs) and pvs[self.next_pv].ts_ms == ts:
            self._enter(pvs[self.next_pv])
            self.next_pv += 1

    def _enter(self, pv: PageView) -> None:
        s = self.s
        self._close_visit(pv.ts_ms)
        for v in s.implicit.values():
            self._emit_visit(v)
        s.implicit, s.changed, s.last_field = {}, [], None
        s.rage = s.thrash = s.axes = None
        if not (s.trail and s.trail[-1][1] == pv.url):
            if len(s.trail) == 2 and s.trail[0][1] == pv.url and pv.ts_ms - s.trail[1][2] <= UTURN_MS:
                index, url, start = s.trail[1]
                self._signal(Signal(index, url, start, "u_turn", None, None, None, 1, pv.ts_ms - start))
            s.trail = [*s.trail, [pv.index, pv.url, pv.ts_ms]][-2:]
        s.page_view, s.url = pv.index, pv.url

    def _navigation(self, ts: int) -> None:
        s = self.s
        s.pending = []  # a navigation is a reaction
        for c in s.submit_clicks:
            self._submit(FormSubmit(c[1], c[2], c[3], c[0], "navigation"))
        s.submit_clicks = []

    # -- event handlers ----------------------------------------------------------------------------
    def _full_snapshot(self, data: dict[str, Any]) -> None:
        s = self.s
        s.pending = []
        if isinstance(data.get("node"), dict):
            s.dom.full_snapshot(data["node"])
        offset = data.get("initialOffset") if isinstance(data.get("initialOffset"), dict) else {}
        left, top = _num(offset.get("left")), _num(offset.get("top"))
        s.scroll = [left if left is not None else s.scroll[0], top if top is not None else s.scroll[1]]

    def _incremental(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        src = data.get("source")
        if src in _REACTION_SOURCES:
            s.pending = []
        if src == IncrementalSource.Mutation:
            self._mutation(data, ts)
        elif src == IncrementalSource.MouseInteraction:
            kind, nid = data.get("type"), data.get("id")
            if kind == MouseInteractions.Click:
                self._click(data, ts)
            elif kind == MouseInteractions.Focus:
                s.pending = []
                self._focus(nid, ts)
            elif kind == MouseInteractions.Blur and s.visit is not None and s.visit["field_id"] == nid:
                self._close_visit(ts)
        elif src == IncrementalSource.Input:
            self._input(data, ts)
        elif src == IncrementalSource.Scroll and data.get("id") in s.dom.nodes.root_ids:
            x, y = _num(data.get("x")), _num(data.get("y"))
            s.scroll = [x if x is not None else s.scroll[0], y if y is not None else s.scroll[1]]
        elif src == IncrementalSource.MouseMove:
            self._moves(data, ts)
        elif src == IncrementalSource.Log and data.get("level") == "error":
            self._error(ts)

    def _custom(self, tag: Any, data: dict[str, Any], ts: int) -> None:
        s = self.s
        payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
        if tag == "rv.submit":
            s.pending = []
            if _is_id(payload.get("id")) and s.page_view >= 0:
                self._submit(FormSubmit(s.page_view, s.url, s.dom.form_of(payload["id"]), ts, "rv.submit"))
        elif tag == "rv.event" and isinstance(payload.get("name"), str) and payload["name"].strip():
            self.out.events.append(TrackEvent(s.page_view, s.url, ts, payload["name"].strip()[:MAX_EVENT_NAME]))

    def _plugin(self, data: dict[str, Any], ts: int) -> None:
        name = str(data.get("plugin", ""))
        payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
        if "console" in name and payload.get("level") == "error":
            self._error(ts)
        elif "network" in name and isinstance(payload.get("requests"), list):
            for req in payload["requests"]:
                status = req.get("status", req.get("responseStatus")) if isinstance(req, dict) else None
                if isinstance(status, int) and not isinstance(status, bool) and (status == 0 or status >= 400):
                    self._error(ts)
                    return

    # -- clicks: dead, error, rage, submit ---------------------------------------------------------
    def _click(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        x, y = _num(data.get("x")), _num(data.get("y"))
        if s.page_view < 0 or x is None or y is None:
            return
        target = data.get("id") if _is_id(data.get("id")) else None
        click = [ts, s.page_view, s.url, x + s.scroll[0], y + s.scroll[1],
                 s.dom.nodes.selector(target) if target is not None else None]
        if not s.dom.is_field(target):
            s.pending.append(click)
        s.recent.append(click)
        self._rage(click)
        form = s.dom.submit_form(target) if target is not None else None
        if form is not None:
            s.submit_clicks.append([ts, s.page_view, s.url, form])

    def _rage(self, click: list[Any]) -> None:
        r = self.s.rage
        ts, pv, url, px, py, sel = click
        if (r is not None and r["pv"] == pv and ts - r["times"][-1] <= RAGE_WINDOW_MS
                and math.hypot(px - r["x"], py - r["y"]) <= RAGE_RADIUS_PX):
            if _grow(r, ts, RAGE_MIN_CLICKS, RAGE_WINDOW_MS):
                self._signal(_burst_signal(r, "rage_click", ts))
                # the burst is the signal: its clicks still waiting for a reaction are not dead clicks too
                self.s.pending = [c for c in self.s.pending if not (c[1] == pv and r["ts"] <= c[0] <= ts)]
        else:
            self.s.rage = _burst(pv, url, ts, px, py, sel)

    def _error(self, ts: int) -> None:
        s = self.s
        before = [c for c in s.recent if c[0] <= ts]
        if before:
            c = max(before, key=lambda c: c[0])
            s.recent.remove(c)
            self._signal(Signal(c[1], c[2], c[0], "error_click", c[3], c[4], c[5]))

    # -- mouse movement: thrashed cursor -----------------------------------------------------------
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
            t = int(ts + time_offset(pos.get("timeOffset")))
            if s.axes is None:
                s.axes = [[x, x, 0.0], [y, y, 0.0]]
            for axis, v in ((0, x), (1, y)):
                if _turned(s.axes[axis], v):
                    self._reversal(t, x + s.scroll[0], y + s.scroll[1], pos.get("id"))

    def _reversal(self, t: int, px: float, py: float, nid: Any) -> None:
        s, th = self.s, self.s.thrash
        if th is not None and th["pv"] == s.page_view and t - th["times"][-1] <= THRASH_WINDOW_MS:
            if _grow(th, t, THRASH_REVERSALS, THRASH_WINDOW_MS):
                self._signal(_burst_signal(th, "thrashed_cursor", t))
        else:
            sel = s.dom.nodes.selector(nid) if _is_id(nid) else None
            s.thrash = _burst(s.page_view, s.url, t, px, py, sel)

    # -- forms -----------------------------------------------------------------------------------
    def _focus(self, nid: Any, ts: int) -> None:
        s = self.s
        if s.page_view < 0 or not s.dom.is_field(nid) or (s.visit is not None and s.visit["field_id"] == nid):
            return
        self._close_visit(ts)
        s.visit = self._new_visit(nid, ts, focused=True)
        s.last_field = nid

    def _input(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        nid = data.get("id")
        if s.page_view < 0 or not s.dom.is_field(nid):
            return
        v = s.visit
        if v is not None and v["field_id"] == nid:
            if v["inputs"] == 0:
                v["first_input_ms"], v["refill"] = ts, nid in s.changed
            v["inputs"] += 1
        else:
            if data.get("isChecked") is False and s.dom.is_choice(nid):
                return
            v = s.implicit.setdefault(str(nid), self._new_visit(nid, ts, focused=False))
            v["first_input_ms"] = v["first_input_ms"] or ts
            v["inputs"] += 1
        s.last_field = nid

    def _new_visit(self, nid: int, ts: int, *, focused: bool) -> dict[str, Any]:
        s = self.s
        return asdict(FieldVisit(s.page_view, s.url, s.dom.form_of(nid), s.dom.name(nid), nid, ts,
                                 focused, None, None, 0, False))

    def _close_visit(self, ts: int) -> None:
        s = self.s
        v = s.visit
        if v is None:
            return
        v["end_ms"] = ts
        if v["inputs"] and v["field_id"] not in s.changed:
            s.changed.append(v["field_id"])
        self._emit_visit(v)
        s.visit = None

    def _mutation(self, data: dict[str, Any], ts: int) -> None:
        s = self.s
        prefer = [s.visit["field_id"] if s.visit else None, s.last_field]
        for fid, rule in s.dom.mutation(data, prefer).items():
            if s.page_view >= 0:
                self.out.errors.append(FieldError(s.page_view, s.url, s.dom.form_of(fid),
                                                  s.dom.name(fid), fid, ts, rule))

    # -- output ------------------------------------------------------------------------------------
    def _signal(self, sig: Signal) -> None:
        self.signals[(sig.page_view, sig.kind, sig.ts_ms)] = sig

    def _submit(self, sub: FormSubmit) -> None:
        self.submits.setdefault((sub.page_view, sub.form, sub.ts_ms), sub)

    def _emit_visit(self, v: dict[str, Any]) -> None:
        self.visits[(v["page_view"], v["field_id"], v["start_ms"])] = FieldVisit(**v)


def _burst(pv: int, url: str, ts: int, x: float, y: float, sel: str | None) -> dict[str, Any]:
    """A new rage burst or thrash episode (JSON-safe) starting with one item at ``ts``."""
    return {"pv": pv, "url": url, "ts": ts, "x": x, "y": y, "sel": sel, "times": [ts], "n": 1, "hit": False}


def _grow(b: dict[str, Any], ts: int, k: int, window_ms: int) -> bool:
    """Add an item at ``ts`` to burst ``b``; True once ``k`` of its items in a row fell within ``window_ms``."""
    times = [*b["times"], ts]
    b["n"] += 1
    b["hit"] = b["hit"] or (len(times) >= k and times[-1] - times[-k] <= window_ms)
    b["times"] = times[-(k - 1):]
    return bool(b["hit"])


def _burst_signal(b: dict[str, Any], kind: str, last_ts: int) -> Signal:
    return Signal(b["pv"], b["url"], b["ts"], kind, b["x"], b["y"], b["sel"], b["n"], last_ts - b["ts"])


def _turned(axis: list[float], v: float) -> bool:
    """Advance one axis tracker ``[anchor, extreme, direction]`` to ``v``; True when a reversal is counted."""
    anchor, extreme, direction = axis
    if direction == 0:
        if abs(v - anchor) >= THRASH_MIN_PX:
            axis[1], axis[2] = v, math.copysign(1.0, v - anchor)
        return False
    if (v - extreme) * direction >= 0:
        axis[1] = v
        return False
    if abs(extreme - v) >= THRASH_MIN_PX:
        axis[0], axis[1], axis[2] = extreme, v, -direction
        return True
    return False
