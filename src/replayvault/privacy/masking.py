"""Server-side masking of rrweb events, run before anything is stored.

:func:`mask_events` walks a batch of rrweb events (2.x and the older 0.x/1.x shapes) with a
per-session :class:`~replayvault.privacy.state.MaskState` and returns masked copies plus
counts per masking kind. Rules:

1. Form values: ``value`` of input/textarea/select/option, textarea and option text, Input
   event ``text``, text typed into a contenteditable element: every character becomes ``*``.
   Labels keep their text unless a detector fires: the ``value`` of button, submit, reset,
   checkbox and radio inputs, ``<button value>`` and ``<optgroup label>`` (page text a script may
   set, not something typed). A checkbox or radio switched to another type in the same mutation
   that sets its ``value`` is a text field for that value. A node that was ever
   ``type=password`` counts as ``password`` forever.
2. Free text (text nodes, every attribute value, tag and attribute names, URLs, custom/plugin
   payloads, canvas text, and every other string of an event, :mod:`.residual`): spans found by
   the detectors (email, card, IBAN...) on the text as shown (:mod:`.visible`) are masked, also
   when the value is split across text nodes or mutations (:mod:`.joined`). Text inside
   ``rr-mask`` (or a policy mask selector) is masked entirely, also when the mark comes later.
3. URLs: userinfo and query values masked, detectors also on each host label and on each path
   and fragment segment alone (:mod:`.urls`), in URL attributes, any value that is a URL with a
   query (``data-href``, payload fields), meta refresh targets and CSS ``url()``/``@import`` (:mod:`.css`).
4. Active content removed (:mod:`.sanitize`): scripts, ``on*`` handlers, ``javascript:`` URLs,
   ``srcdoc``, resource hints, meta refresh.
5. ``rr-block`` elements keep no content; what the browser already masked stays masked.

Masked text keeps its length. A value that is already all ``*`` (or, for text, ``*`` runs between
spaces: rrweb's ``maskTextFn``) is left as is and not counted, but recorded as evidence with
``browser=True`` (:mod:`.evidence`). Malformed parts of an event are kept as they are (nothing to
mask in a number); a batch item that is not an object raises ``MalformedBatch``.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import MalformedBatch
from ..rrweb import EventType, IncrementalSource
from ..types import Event
from . import mutations, nodes
from ._text import is_masked, is_masked_text, mask_all, mask_non_space, mask_spans
from .css import mask_css
from .detectors import REGISTRY, Detector, resolve
from .evidence import location_of
from .joined import mask_joined
from .payloads import RV_NUMERIC_KEYS, scrub_canvas, scrub_payload
from .policy import STRICT, Policy
from .residual import walk, worth_scanning
from .seed import mask_seed_runs
from .state import Flag, MaskState, NodeInfo
from .urls import host_label_spans, is_url_with_query, mask_userinfo, scrub_url, segment_spans
from .visible import find

__all__ = ["KINDS", "MaskRecord", "MaskResult", "MaskState", "mask_events"]

#: Masking kinds produced by the built-in rules and the registered detectors.
KINDS = ("input_value", "password", "choice_value", "credential", *(d.name for d in REGISTRY), "url_query",
         "url_path", "script", "event_handler", "javascript_url", "srcdoc", "resource_hint", "meta_refresh", "text_mask",
         "blocked", "blocked_in_clear", "late_mask", "late_block", "canvas")
#: ``scheme://authority`` at the start of an absolute URL (RFC 3986 §3), or ``//authority``.
_ORIGIN = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^/?#]*")
_EVENT_KEYS = frozenset({"type", "data", "timestamp"})
#: Incremental sources carrying CSS (``content: "…"`` can carry text): StyleSheetRule,
#: StyleDeclaration, AdoptedStyleSheet.
_CSS_SOURCES = frozenset({IncrementalSource.StyleSheetRule, IncrementalSource.StyleDeclaration,
                          IncrementalSource.AdoptedStyleSheet})
#: (event type, incremental source) -> evidence phase; anything else is a plugin/custom payload.
_PHASES = {(EventType.FullSnapshot, None): "snapshot", (EventType.Meta, None): "meta",
           (EventType.IncrementalSnapshot, IncrementalSource.Mutation): "mutation",
           (EventType.IncrementalSnapshot, IncrementalSource.Input): "input"}


@dataclass(frozen=True, slots=True)
class MaskRecord:
    """One masking: kind, where it happened, and why. Never holds the masked text."""

    kind: str
    event_index: int
    node_id: int | None
    where: str  # "attribute:value", "text", "input", "meta:href", "payload"...
    evidence: str = ""  # detector/pattern/validator:outcome for detector findings
    location: str = "snapshot"  # see privacy.evidence.LOCATIONS
    browser: bool = False  # the browser had already masked it; the server only kept it masked


@dataclass
class MaskResult:
    """Masked copies of a batch's events, the count per kind and one record per masking."""

    events: list[Event]
    counts: dict[str, int]
    records: list[MaskRecord] = field(default_factory=list)


def mask_events(events: list[Event], state: MaskState, *, detectors: Sequence[Detector] | None = None,
                policy: Policy = STRICT) -> MaskResult:
    """Mask one batch of a session's rrweb events; update ``state`` for the next batch.

    The input events are not modified. ``counts`` holds only kinds that occurred. ``policy`` (the
    project's, :mod:`.policy`) chooses the detectors (unless ``detectors`` is given), adds
    selectors masked or blocked like ``rr-mask``/``rr-block``, keeps or drops canvas data, and
    adds URL rules; CanvasMutation events are dropped from the result unless it allows canvas.

    Raises:
        MalformedBatch: ``events`` is not a list or an item is not an object (checked before
            ``state`` changes, so a rejected batch leaves the state as it was).
    """
    if not isinstance(events, list):
        raise MalformedBatch("events must be a list")
    copies = [_copy(i, ev) for i, ev in enumerate(events)]  # all checks before the state changes
    masker = Masker(state, tuple(policy.active_detectors() if detectors is None else detectors), policy)
    kept = []
    for i, ev in enumerate(copies):
        masker.event_index = i
        if masker.event(ev):
            kept.append(ev)
    return MaskResult(kept, dict(masker.counts), masker.records)


def _copy(index: int, ev: Any) -> Event:
    """Deep copy of a decoded-JSON event (a JSON round trip is the fastest deep copy here)."""
    if not isinstance(ev, dict):
        raise MalformedBatch(f"event {index} is not an object")
    try:
        try:
            return json.loads(json.dumps(ev))
        except (TypeError, ValueError):
            return copy.deepcopy(ev)
    except RecursionError:
        raise MalformedBatch(f"event {index} is nested too deeply") from None


def _int_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Masker:
    """Applies the rules to one batch; holds the counters, records and where page text appears."""

    def __init__(self, state: MaskState, detectors: tuple[Detector, ...], policy: Policy = STRICT) -> None:
        self.state = state
        self.detectors = detectors
        self.policy = policy
        self.mask_selectors, self.block_selectors = policy.compiled()
        self.keep_params = policy.urls.keep()
        self.counts: Counter[str] = Counter()
        self.records: list[MaskRecord] = []
        self.event_index = 0
        self.phase = "snapshot"  # which kind of event is being walked (for evidence locations)
        #: text node id -> every (container, key) holding its text in this batch's output
        self.refs: dict[int, list[tuple[dict[str, Any], str]]] = {}
        #: page text nodes written by the event being masked, in order
        self.event_texts: list[int] = []

    # -- bookkeeping -------------------------------------------------------------------
    def count(self, kind: str, node_id: int | None, where: str, evidence: str = "", n: int = 1,
              browser: bool = False) -> None:
        if not browser:
            self.counts[kind] += n
        loc = location_of(where, self.phase)
        for _ in range(n):
            self.records.append(MaskRecord(kind, self.event_index, node_id, where, evidence, loc, browser))

    def note_text(self, node_id: int, container: dict[str, Any], key: str) -> None:
        """Remember where a page text node's text is in this batch (see :meth:`sync_texts`)."""
        self.refs.setdefault(node_id, []).append((container, key))
        self.event_texts.append(node_id)

    def current_text(self, node_id: int) -> str | None:
        """A text node's latest text in this batch's output, None when this batch has none."""
        refs = self.refs.get(node_id)
        if not refs:
            return None
        container, key = refs[-1]
        value = container.get(key)
        return value if isinstance(value, str) else None

    def rewrite(self, node_id: int, fix: Callable[[str], str]) -> None:
        """Apply ``fix`` to every copy of a node's text in this batch."""
        for container, key in self.refs.get(node_id, ()):
            value = container.get(key)
            if isinstance(value, str):
                container[key] = fix(value)

    def write_text(self, node_id: int, text: str) -> None:
        """A joined finding masked part of a node: replace the node's current text in this batch
        (every copy of it) and in the state."""
        old = self.current_text(node_id)
        if old is not None:
            self.rewrite(node_id, lambda value: text if value == old else value)
        self.state.set_text(node_id, text)

    def sync_texts(self) -> None:
        """Keep in the state what the current event stored of each page text it wrote."""
        for nid in self.event_texts:
            text = self.current_text(nid)
            if text is not None:
                self.state.set_text(nid, text)

    # -- dispatch ----------------------------------------------------------------------
    def event(self, ev: Event) -> bool:
        """Mask one event in place; False when the policy drops it (canvas)."""
        data = ev.get("data")
        etype = ev.get("type")
        source = data.get("source") if isinstance(data, dict) and etype == EventType.IncrementalSnapshot else None
        self.phase = _PHASES.get((etype, source), "plugin")
        self.event_texts = []
        if not ev.keys() <= _EVENT_KEYS:
            self.rest(ev, _EVENT_KEYS)
        if not isinstance(data, dict):
            if isinstance(data, list):
                self.rest(data)
            return True
        if etype == EventType.FullSnapshot:
            self.state.reset()
            self.refs.clear()  # a new id space: earlier copies belong to other nodes
            if isinstance(data.get("node"), dict):
                nodes.tree(self, data["node"], None, 0)
                self.joined(data["node"])
            self.rest(data, frozenset({"node"}))
        elif etype == EventType.IncrementalSnapshot:
            return self.incremental(data)
        elif etype == EventType.Meta:
            if isinstance(data.get("href"), str):
                data["href"] = self.url(data["href"], None, "meta:href")
            self.rest(data, frozenset({"href"}))
        elif etype == EventType.Custom:
            tag = data.get("tag")  # the tracker's own rv.* events carry positions and sizes
            rv = isinstance(tag, str) and tag.startswith("rv.")
            scrub_payload(self, data, keep_numbers=RV_NUMERIC_KEYS if rv else frozenset())
        elif etype == EventType.Plugin:
            scrub_payload(self, data)
        else:  # DomContentLoaded, Load and unknown types: nothing specific, everything residual
            self.rest(data)
        self.sync_texts()
        return True

    def incremental(self, data: dict[str, Any]) -> bool:
        source = data.get("source")
        if source == IncrementalSource.Mutation:
            mutations.apply(self, data)
        elif source == IncrementalSource.Input:
            nodes.input_event(self, data)
            self.rest(data, frozenset({"text"}))
        elif source == IncrementalSource.Log:
            scrub_payload(self, data)
        elif source in _CSS_SOURCES:  # stylesheet rules and declarations: CSS content strings
            scrub_payload(self, data, css=True)
        elif source == IncrementalSource.CanvasMutation and not self.policy.canvas:
            self.count("canvas", _int_id(data.get("id")), "canvas")
            return False
        elif source == IncrementalSource.CanvasMutation:
            scrub_canvas(self, data, _int_id(data.get("id")))
            self.rest(data)
        else:  # MouseMove, MouseInteraction, Scroll, Font, Selection, Media... and unknown sources
            self.rest(data)
        return True

    def rest(self, obj: dict[str, Any] | list[Any], skip: frozenset[str] = frozenset()) -> None:
        """The residual rule (:mod:`.residual`) for what no specific handler of ``obj`` covers."""
        walk(obj, self.fix, self.number, skip)

    def fix(self, value: str) -> str:
        """A residual string: URL rules when it is a URL with a query, else the detectors."""
        if is_url_with_query(value):
            return self.url(value, None, "extra:url")
        return self.detect(value, None, "extra")

    def number(self, value: int) -> str | None:
        """A long integer outside the payload rules: masked whole when its digits are a finding."""
        digits = str(value)
        return mask_all(digits) if self.detect(digits, None, "extra") != digits else None

    def joined(self, root: dict[str, Any]) -> None:
        """Findings split across adjacent text nodes (``<b>jane</b>@bank.com``), see :mod:`.joined`,
        and seed phrases laid out one word per element (:mod:`.seed`)."""
        mask_joined(root, self.detectors, lambda kind, nid: self.count(kind, _int_id(nid), "text:joined"))
        if any(d.name == "bip39" for d in self.detectors):
            mask_seed_runs(root, lambda nid: self.count("bip39", _int_id(nid), "text:joined"))

    # -- free text ---------------------------------------------------------------------
    def detect(self, text: str, node_id: int | None, where: str) -> str:
        """Mask detector findings in ``text`` (just the spans)."""
        findings = find(text, self.detectors)
        if not findings:
            return text
        for f in resolve(findings):
            self.count(f.kind, node_id, where, f.evidence)
        return mask_spans(text, findings)

    def css(self, value: str, node_id: int | None, where: str) -> str:
        """CSS text (:mod:`.css`): detectors in its strings, URL rules in its ``url()``s."""
        return mask_css(value, lambda text: self.detect(text, node_id, where),
                        lambda url: self.query(url, node_id, where + ":url"))

    def query(self, value: str, node_id: int | None, where: str) -> str:
        """Scrub the userinfo and the query values of a URL (no detectors on the rest)."""
        value, n = scrub_url(value, self.keep_params)
        value, user = mask_userinfo(value)
        n += user
        if n:
            self.count("url_query", node_id, where, n=n)
        return value

    def url(self, value: str, node_id: int | None, where: str) -> str:
        value = self.query(value, node_id, where)
        if self.policy.urls.mask_path_patterns:
            value = self.path_rules(value, node_id, where)
        # The origin (scheme://user@host:port) names the site: detectors run on each host label
        # alone (an IP detector would hit 127.0.0.1 as a whole), userinfo was masked above. Then
        # on what follows the origin, and on each path and fragment segment alone (a phone number
        # glued to a '/' is at a token start there).
        origin = _ORIGIN.match(value)
        cut = origin.end() if origin else 0
        head, rest = value[:cut], self.detect(value[cut:], node_id, where)
        head = self._spans(head, host_label_spans(head), node_id, where + ":host")
        rest = self._spans(rest, segment_spans(rest), node_id, where)
        value = head + rest
        return self.encoded_segments(value, node_id, where) if "%" in value else value

    def _spans(self, value: str, spans: list[tuple[int, int]], node_id: int | None, where: str) -> str:
        """Run the detectors on each span of ``value`` alone (masking keeps lengths, so spans hold)."""
        for start, end in spans:
            part = value[start:end]
            if worth_scanning(part):
                masked = self.detect(part, node_id, where)
                if masked != part:
                    value = value[:start] + masked + value[end:]
        return value

    def path_rules(self, url: str, node_id: int | None, where: str) -> str:
        """Mask the ``*`` segments of the policy's path patterns (``/accounts/*``)."""
        parsed = urlsplit(url)
        path, n = self.policy.urls.mask_path(parsed.path)
        if not n:
            return url
        self.count("url_path", node_id, where, n=n)
        return urlunsplit(parsed._replace(path=path))

    def encoded_segments(self, url: str, node_id: int | None, where: str) -> str:
        """Mask whole path segments whose percent-decoded form holds a finding (``jane%40bank.com``,
        also encoded twice: ``jane%2540bank.com``)."""
        parts = url.split("/")
        for i, part in enumerate(parts):
            if "%" not in part:
                continue
            findings = find(unquote(unquote(part)), self.detectors)
            if findings:
                for f in resolve(findings):
                    self.count(f.kind, node_id, where + ":encoded")
                parts[i] = "*" * len(part)
        return "/".join(parts)

    def text(self, value: str, flags: int, node_id: int | None, where: str) -> str:
        """Mask a text node's content according to its context flags."""
        if flags & Flag.VALUE_TEXT:
            if is_masked_text(value) or not value.strip():
                return value
            # an <option>'s text is the site's label of a choice (rrweb cannot mask it): sanitizing
            self.count("choice_value" if flags & Flag.OPTION else "input_value", node_id, where)
            return mask_all(value)
        if flags & Flag.MASKED:
            masked = mask_non_space(value)
            if masked != value:
                self.count("text_mask", node_id, where)
            return masked
        return self.detect(value, node_id, where)

    def form_value(self, value: str, kind: str, info: NodeInfo | None, node_id: int | None, where: str) -> str:
        if is_masked(value):
            if info is not None:
                info.flags |= Flag.MASKED  # the browser masked it: keep masking it
            if value:
                self.count(kind, node_id, where, browser=True)  # evidence: masked in the browser
            return value
        self.count(kind, node_id, where)
        return mask_all(value)


