"""Server-side masking of rrweb events, run before anything is stored.

:func:`mask_events` walks a batch of rrweb events (2.x and the older 0.x/1.x shapes) with a
per-session :class:`~replayvault.privacy.state.MaskState` and returns masked copies plus
counts per masking kind. Rules:

1. Form values: ``value`` of input/textarea/select/option, textarea and option text, Input
   event ``text``: every character becomes ``*``. Label-like inputs (button, submit, reset,
   checkbox, radio) keep their ``value`` unless a detector fires. A node that was ever
   ``type=password`` counts as ``password`` forever.
2. Free text (text nodes, every attribute value, URLs, custom/plugin payloads): spans found by
   the detectors (email, card, IBAN...) are masked. Text inside ``rr-mask`` is masked entirely.
3. URLs: query values masked (:mod:`.urls`).
4. Active content removed (:mod:`.sanitize`): scripts, ``on*`` handlers, ``javascript:`` URLs,
   ``srcdoc``.
5. ``rr-block`` elements keep no content; what the browser already masked stays masked.

Masked text keeps its length. A value that is already all ``*`` (masked by the browser) is
left as is and not counted, but recorded as evidence with ``browser=True`` (:mod:`.evidence`).
Malformed parts of an event are kept as they are (nothing to
mask in a number); a batch item that is not an object raises ``MalformedBatch``.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import MalformedBatch
from ..rrweb import EventType, IncrementalSource, NodeType
from ..types import Event
from . import sanitize
from ._text import is_masked, mask_all, mask_non_space, mask_spans
from .detectors import REGISTRY, Detector, find_all, resolve
from .evidence import location_of
from .joined import mask_joined
from .seed import mask_seed_runs
from .policy import STRICT, Policy
from .state import Flag, MaskState, NodeInfo
from .urls import SRCSET_ATTRIBUTES, URL_ATTRIBUTES, scrub_srcset, scrub_url

__all__ = ["KINDS", "MaskRecord", "MaskResult", "MaskState", "mask_events"]

#: Masking kinds produced by the built-in rules and the registered detectors.
KINDS = ("input_value", "password", "choice_value", "credential", *(d.name for d in REGISTRY), "url_query",
         "url_path", "script", "event_handler", "javascript_url", "srcdoc", "resource_hint", "text_mask", "blocked",
         "canvas")
#: Input types whose ``value`` is a visible label, not something the user typed.
LABEL_INPUT_TYPES = frozenset({"button", "submit", "reset", "checkbox", "radio"})
#: Attributes never scanned by detectors (inline image data).
UNSCANNED_ATTRIBUTES = frozenset({"rr_dataurl"})
#: Keys of custom/plugin payloads treated as URLs.
URL_KEYS = frozenset({"href", "url", "src", "referrer", "referer", "location", "name"})
#: Substrings of payload keys (network headers, cookies, form fields) whose values are credentials.
CREDENTIAL_KEYS = ("cookie", "authorization", "token", "secret", "key", "session", "password", "passwd")
#: Short credential field names, matched exactly (after removing ``-`` and ``_``): as substrings
#: they would hit ordinary words (``shipping``, ``passport``).
CREDENTIAL_NAMES = frozenset({"pwd", "pw", "pass", "pin", "cvv", "cvc", "cvv2", "otp", "tan", "sid", "jwt", "auth"})
#: Payload keys holding a request or response body (rrweb network plugin and similar).
BODY_KEYS = frozenset({"body", "requestbody", "responsebody", "request_body", "response_body"})
_INPUT_TAGS = frozenset({"input", "textarea", "select", "option"})
#: Attributes holding CSS (rrweb's inlined stylesheet text, inline styles).
CSS_ATTRIBUTES = frozenset({"_csstext", "style"})
#: A quoted CSS string, and whether it is the argument of ``url(``.
_CSS_STRING = re.compile(r"""(url\(\s*)?("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""", re.IGNORECASE)
#: The value of a CSS custom property (``--user: …``), which may hold any text.
_CSS_CUSTOM_PROPERTY = re.compile(r"--[\w-]+\s*:\s*([^;}\n]+)")
#: ``scheme://authority`` at the start of an absolute URL (RFC 3986 §3), or ``//authority``.
_ORIGIN = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^/?#]*")
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
    masker = _Masker(state, tuple(policy.active_detectors() if detectors is None else detectors), policy)
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


class _Masker:
    """Applies the rules to one batch; holds the counters and records."""

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

    # -- bookkeeping -------------------------------------------------------------------
    def count(self, kind: str, node_id: int | None, where: str, evidence: str = "", n: int = 1,
              browser: bool = False) -> None:
        if not browser:
            self.counts[kind] += n
        loc = location_of(where, self.phase)
        for _ in range(n):
            self.records.append(MaskRecord(kind, self.event_index, node_id, where, evidence, loc, browser))

    # -- dispatch ----------------------------------------------------------------------
    def event(self, ev: Event) -> bool:
        """Mask one event in place; False when the policy drops it (canvas)."""
        data = ev.get("data")
        if not isinstance(data, dict):
            return True
        etype = ev.get("type")
        self.phase = _PHASES.get((etype, data.get("source") if etype == EventType.IncrementalSnapshot else None),
                                 "plugin")
        if etype == EventType.FullSnapshot:
            self.state.reset()
            if isinstance(data.get("node"), dict):
                self.tree(data["node"], None, 0)
                self.joined(data["node"])
        elif etype == EventType.IncrementalSnapshot:
            source = data.get("source")
            if source == IncrementalSource.Mutation:
                self.mutation(data)
            elif source == IncrementalSource.Input:
                self.input(data)
            elif source == IncrementalSource.Log:
                self.payload(data)
            elif source in _CSS_SOURCES:  # stylesheet rules and declarations: CSS content strings
                self.payload(data, css=True)
            elif source == IncrementalSource.CanvasMutation and not self.policy.canvas:
                self.count("canvas", _int_id(data.get("id")), "canvas")
                return False
        elif etype == EventType.Meta:
            if isinstance(data.get("href"), str):
                data["href"] = self.url(data["href"], None, "meta:href")
        elif etype in (EventType.Custom, EventType.Plugin):
            self.payload(data)
        return True

    def joined(self, root: dict[str, Any]) -> None:
        """Findings split across adjacent text nodes (``<b>jane</b>@bank.com``), see :mod:`.joined`,
        and seed phrases laid out one word per element (:mod:`.seed`)."""
        mask_joined(root, self.detectors, lambda kind, nid: self.count(kind, _int_id(nid), "text:joined"))
        if any(d.name == "bip39" for d in self.detectors):
            mask_seed_runs(root, lambda nid: self.count("bip39", _int_id(nid), "text:joined"))

    # -- free text ---------------------------------------------------------------------
    def detect(self, text: str, node_id: int | None, where: str) -> str:
        """Mask detector findings in ``text`` (just the spans)."""
        findings = find_all(text, self.detectors)
        if not findings:
            return text
        for f in resolve(findings):
            self.count(f.kind, node_id, where, f.evidence)
        return mask_spans(text, findings)

    def css(self, value: str, node_id: int | None, where: str) -> str:
        """CSS text: only its quoted strings (``content: "…"``) and custom property values are page
        text; numbers, selectors, SVG path data and ``url(…)`` are not, and detectors there would only
        corrupt the style."""
        if "'" not in value and '"' not in value and "--" not in value:
            return value
        spans = [(m.start(2) + 1, m.end(2) - 1) for m in _CSS_STRING.finditer(value)
                 if not m.group(1) and m.group(2)[1:6].lower() != "data:"]  # not url("…") or data URIs
        spans += [m.span(1) for m in _CSS_CUSTOM_PROPERTY.finditer(value)]  # --name: any text
        parts, pos = [], 0
        for start, end in sorted(set(spans)):
            if start < pos:
                continue
            inner = value[start:end]
            masked = self.detect(inner, node_id, where)
            if masked != inner:
                parts += [value[pos:start], masked]
                pos = end
        return "".join(parts) + value[pos:] if parts else value

    def url(self, value: str, node_id: int | None, where: str) -> str:
        value, n = scrub_url(value, self.keep_params)
        if n:
            self.count("url_query", node_id, where, n=n)
        if self.policy.urls.mask_path_patterns:
            value = self.path_rules(value, node_id, where)
        # The origin (scheme://user@host:port) names the site, not the person: detectors (an IP
        # detector would hit 127.0.0.1) run on what follows it; userinfo was scrubbed above.
        origin = _ORIGIN.match(value)
        cut = origin.end() if origin else 0
        value = value[:cut] + self.detect(value[cut:], node_id, where)
        return self.encoded_segments(value, node_id, where) if "%" in value else value

    def path_rules(self, url: str, node_id: int | None, where: str) -> str:
        """Mask the ``*`` segments of the policy's path patterns (``/accounts/*``)."""
        parsed = urlsplit(url)
        path, n = self.policy.urls.mask_path(parsed.path)
        if not n:
            return url
        self.count("url_path", node_id, where, n=n)
        return urlunsplit(parsed._replace(path=path))

    def encoded_segments(self, url: str, node_id: int | None, where: str) -> str:
        """Mask whole path segments whose percent-decoded form holds a finding (``jane%40bank.com``)."""
        parts = url.split("/")
        for i, part in enumerate(parts):
            if "%" not in part:
                continue
            findings = find_all(unquote(part), self.detectors)
            if findings:
                for f in resolve(findings):
                    self.count(f.kind, node_id, where + ":encoded")
                parts[i] = "*" * len(part)
        return "/".join(parts)

    def text(self, value: str, flags: int, node_id: int | None, where: str) -> str:
        """Mask a text node's content according to its context flags."""
        if flags & Flag.VALUE_TEXT:
            if is_masked(value) or not value.strip():
                return value
            self.count("input_value", node_id, where)
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

    # -- serialized nodes --------------------------------------------------------------
    def tree(self, root: dict[str, Any], parent_id: int | None, context: int) -> None:
        """Mask a serialized node and its subtree in place; register every node in the state."""
        stack: list[tuple[dict[str, Any], int | None, int]] = [(root, parent_id, context)]
        while stack:
            node, pid, ctx = stack.pop()
            nid = _int_id(node.get("id"))
            ntype = node.get("type")
            if ntype == NodeType.Element:
                flags = self.element(node, nid, pid, ctx)
                if flags is None:
                    continue
            elif ntype in (NodeType.Text, NodeType.CDATA, NodeType.Comment):
                self.text_node(node, nid, pid, ctx)
                continue
            else:
                flags = ctx
            children = node.get("childNodes")
            if not isinstance(children, list) or not children:
                continue
            if flags & Flag.BLOCKED:
                self.drop_children(children, nid, Flag.DROPPED)
                node["childNodes"] = []
                self.count("blocked", nid, "children")
                continue
            child_ctx = flags & Flag.INHERITED
            if flags & (Flag.TEXTAREA | Flag.OPTION):
                child_ctx |= Flag.VALUE_TEXT
            for child in reversed(children):
                if isinstance(child, dict):
                    stack.append((child, nid, child_ctx))

    def element(self, node: dict[str, Any], nid: int | None, pid: int | None, ctx: int) -> int | None:
        """Mask one element in place; return its flags, or None when it was replaced (script)."""
        tag = node.get("tagName")
        tag = tag.lower() if isinstance(tag, str) else ""
        attrs = node.get("attributes")
        attrs = attrs if isinstance(attrs, dict) else None
        if tag == "script":
            children = node.get("childNodes")
            if isinstance(children, list):
                self.drop_children(children, nid, Flag.SCRIPT)
            node.clear()
            node.update(sanitize.script_placeholder(nid))
            if nid is not None:
                self.state.put(nid, "script", None, pid, Flag.SCRIPT)
            self.count("script", nid, "element")
            return None
        flags = ctx & Flag.INHERITED
        flags |= {"textarea": Flag.TEXTAREA, "select": Flag.SELECT, "option": Flag.OPTION}.get(tag, 0)
        input_type = None
        if attrs:
            flags |= _class_flags(attrs.get("class"))
            if any(sel.matches(tag, attrs) for sel in self.block_selectors):
                flags |= Flag.BLOCKED  # the project's policy blocks it, whatever the browser did
            elif any(sel.matches(tag, attrs) for sel in self.mask_selectors):
                flags |= Flag.MASKED
            if "rr_width" in attrs or "rr_height" in attrs:
                flags |= Flag.BLOCKED  # rrweb's placeholder for a blocked element
            input_type = _lower(attrs.get("type"))
            if tag == "input" and (input_type == "password" or "data-rr-is-password" in attrs):
                flags |= Flag.PASSWORD
        info = self.state.put(nid, tag, input_type, pid, flags) if nid is not None else NodeInfo(tag, input_type, pid, flags)
        if attrs:
            if tag == "link" and sanitize.is_resource_hint(attrs.get("rel")):
                info.flags |= Flag.HINT
                if attrs.pop("href", None) is not None:
                    self.count("resource_hint", nid, "attribute:href")
            self.attributes(attrs, info, nid, "attribute:")
        return info.flags

    def text_node(self, node: dict[str, Any], nid: int | None, pid: int | None, ctx: int) -> None:
        if nid is not None:
            self.state.saw(nid)
        value = node.get("textContent")
        if value is not None and not isinstance(value, str):
            node["textContent"] = value = ""  # not an rrweb shape: drop what cannot be checked
        if node.get("isStyle"):
            ctx &= ~Flag.MASKED  # like rrweb: rr-mask never masks CSS text (detectors still run)
        flags = ctx
        if isinstance(value, str) and value:
            if is_masked(value.strip()):
                flags |= Flag.MASKED  # masked by the browser (maskTextClass / maskAllText)
                self.count("text_mask", nid, "text", browser=True)
            if node.get("isStyle"):
                node["textContent"] = self.css(value, nid, "text:css")
            else:
                node["textContent"] = self.text(value, ctx, nid, "text")
        if nid is not None and flags:
            self.state.put(nid, "#text", None, pid, flags)

    def drop_children(self, children: list[Any], parent: int | None, flag: int) -> None:
        """Register dropped nodes so later mutations into them are dropped too."""
        stack = [(c, parent) for c in children]
        while stack:
            node, pid = stack.pop()
            if not isinstance(node, dict):
                continue
            nid = _int_id(node.get("id"))
            if nid is not None:
                self.state.put(nid, _lower(node.get("tagName")) or "#node", None, pid, flag)
            kids = node.get("childNodes")
            if isinstance(kids, list):
                stack.extend((k, nid) for k in kids)

    # -- attributes --------------------------------------------------------------------
    def attributes(self, attrs: dict[str, Any], info: NodeInfo | None, nid: int | None, where: str) -> None:
        """Sanitize and mask an attribute dict in place (snapshot node or attribute mutation)."""
        for name in list(attrs):
            value = attrs[name]
            lname = name.lower() if isinstance(name, str) else ""
            if sanitize.is_event_handler(lname):
                del attrs[name]
                if value is not None:
                    self.count("event_handler", nid, where + lname)
                continue
            if lname in sanitize.REMOVED_ATTRIBUTES:
                del attrs[name]
                if value is not None:
                    self.count("srcdoc", nid, where + lname)
                continue
            if isinstance(value, dict):  # rrweb 2 style diff: {"style": {"prop": "value" | ["value", "important"] | false}}
                self.payload(value, css=True)
                continue
            if not isinstance(value, (str, type(None), bool, int, float)):
                del attrs[name]  # no rrweb attribute value has this shape
                continue
            if not isinstance(value, str) or not value:
                continue
            if lname in sanitize.JAVASCRIPT_URL_ATTRIBUTES and sanitize.is_javascript_url(value):
                attrs[name] = sanitize.SAFE_URL
                self.count("javascript_url", nid, where + lname)
            elif lname == "value" and is_masked(value):
                if info is not None:
                    info.flags |= Flag.MASKED  # the browser masked it: keep masking it
                self.count(_value_kind(info) or "input_value", nid, where + lname, browser=True)
            elif lname == "value" and (kind := _value_kind(info)) is not None:
                attrs[name] = self.form_value(value, kind, info, nid, where + lname)
            elif lname == "label" and info is not None and info.flags & Flag.OPTION:
                attrs[name] = self.form_value(value, "input_value", info, nid, where + lname)  # shown instead of the text
            elif lname in URL_ATTRIBUTES:
                attrs[name] = self.url(value, nid, where + lname)
            elif lname in SRCSET_ATTRIBUTES:
                value, n = scrub_srcset(value)
                if n:
                    self.count("url_query", nid, where + lname, n=n)
                attrs[name] = self.detect(value, nid, where + lname)
            elif lname == "rr_dataurl" and not self.policy.canvas:
                del attrs[name]  # a canvas's pixels: dropped unless the policy allows canvas
                self.count("canvas", nid, where + lname)
            elif lname in CSS_ATTRIBUTES:
                attrs[name] = self.css(value, nid, where + lname)
            elif lname not in UNSCANNED_ATTRIBUTES:
                attrs[name] = self.detect(value, nid, where + lname)

    # -- incremental snapshots ---------------------------------------------------------
    def input(self, data: dict[str, Any]) -> None:
        text = data.get("text")
        if text is not None and not isinstance(text, str):
            data["text"] = ""  # rrweb sends a string; anything else cannot be checked, so it is dropped
            return
        if not text:
            return
        nid = _int_id(data.get("id"))
        info = self.state.get(nid)
        kind = "password" if info is not None and info.has(Flag.PASSWORD) else "input_value"
        if info is not None and info.tag == "input" and info.input_type in ("checkbox", "radio") and kind != "password":
            kind = "choice_value"  # the value of a ticked box is a label, not something typed
        data["text"] = self.form_value(text, kind, info, nid, "input")

    def mutation(self, data: dict[str, Any]) -> None:
        """Apply a Mutation in rrweb's replay order: removes, adds, texts, attributes."""
        for rm in _dicts(data.get("removes")):
            nid = _int_id(rm.get("id"))
            if nid is not None:
                self.state.forget(nid)
        if isinstance(data.get("adds"), list):
            data["adds"] = self.adds(data["adds"])
        if isinstance(data.get("texts"), list):
            data["texts"] = [t for t in data["texts"] if self.text_mutation(t)]
        if isinstance(data.get("attributes"), list):
            data["attributes"] = [a for a in data["attributes"] if self.attribute_mutation(a)]

    def adds(self, adds: list[Any]) -> list[Any]:
        """Mask added nodes, parents before children (rrweb may list a child first)."""
        index: dict[int, int] = {}
        for k, add in enumerate(adds):
            if isinstance(add, dict) and isinstance(add.get("node"), dict):
                nid = _int_id(add["node"].get("id"))
                if nid is not None:
                    index.setdefault(nid, k)
        keep = [True] * len(adds)
        done = [False] * len(adds)
        for k in range(len(adds)):
            chain: list[int] = []
            seen: set[int] = set()
            j: int | None = k
            while j is not None and not done[j] and j not in seen:
                chain.append(j)
                seen.add(j)
                parent = adds[j].get("parentId") if isinstance(adds[j], dict) else None
                j = index.get(parent) if _int_id(parent) is not None else None  # type: ignore[arg-type]
            for j in reversed(chain):
                done[j] = True
                keep[j] = self.add(adds[j])
        return [a for a, k in zip(adds, keep) if k]

    def add(self, add: Any) -> bool:
        """Mask one ``adds`` entry in place; False when it must be dropped."""
        if not isinstance(add, dict) or not isinstance(add.get("node"), dict):
            return True
        pid = _int_id(add.get("parentId"))
        parent = self.state.get(pid)
        # A parent the node map never saw (batches out of order, an evicted window, no snapshot yet)
        # could be a textarea or an rr-mask element: assume the worst, as for text mutations.
        ctx = Flag.MASKED if parent is None and pid is not None and not self.state.knows(pid) else 0
        if parent is not None:
            if parent.flags & (Flag.SCRIPT | Flag.BLOCKED | Flag.DROPPED):
                flag = Flag.SCRIPT if parent.flags & Flag.SCRIPT else Flag.DROPPED
                self.drop_children([add["node"]], pid, flag)
                if not parent.flags & Flag.SCRIPT:
                    self.count("blocked", pid, "add")
                return False
            ctx = parent.flags & Flag.INHERITED
            if parent.flags & (Flag.TEXTAREA | Flag.OPTION):
                ctx |= Flag.VALUE_TEXT
        self.tree(add["node"], pid, ctx)
        self.joined(add["node"])
        return True

    def target(self, entry: dict[str, Any]) -> tuple[int | None, NodeInfo | None, bool]:
        """A mutation entry's node id, what the state knows of it, and whether to keep the entry
        (False for nodes inside removed scripts or blocked content)."""
        nid = _int_id(entry.get("id"))
        info = self.state.get(nid)
        return nid, info, not (info is not None and info.has(Flag.GONE))

    def text_mutation(self, entry: Any) -> bool:
        if not isinstance(entry, dict):
            return True
        nid, info, keep = self.target(entry)
        if not keep:
            return False
        value = entry.get("value")
        if value is not None and not isinstance(value, str):
            entry["value"] = value = ""  # not an rrweb shape: drop what cannot be checked
        if isinstance(value, str) and value:
            if info is None and not self.state.knows(nid):
                # The node map never saw this node (batches out of order, an evicted window, no
                # full snapshot yet): it could be a textarea's or an rr-mask element's text.
                masked = mask_non_space(value)
                if masked != value:
                    self.count("text_mask", nid, "text:unknown-node")
                entry["value"] = masked
                return True
            flags = info.flags if info is not None else 0
            if is_masked(value.strip()) and info is not None:
                info.flags |= Flag.MASKED
            entry["value"] = self.text(value, flags, nid, "text")
        return True

    def attribute_mutation(self, entry: Any) -> bool:
        if not isinstance(entry, dict):
            return True
        nid, info, keep = self.target(entry)
        if not keep:
            return False
        attrs = entry.get("attributes")
        if not isinstance(attrs, dict):
            return True
        if info is not None:
            _update_info(info, attrs)
            if info.tag == "link" and sanitize.is_resource_hint(attrs.get("rel")):
                info.flags |= Flag.HINT
                attrs["href"] = None  # the href recorded earlier would be fetched once rel changes
                self.count("resource_hint", nid, "mutation:rel")
            elif info.has(Flag.HINT) and attrs.get("href") is not None:
                attrs["href"] = None
                self.count("resource_hint", nid, "mutation:href")
        self.attributes(attrs, info, nid, "mutation:")
        return True

    # -- custom, plugin and log payloads -----------------------------------------------
    def payload(self, data: dict[str, Any], css: bool = False) -> None:
        """Scrub every string in a free-form payload (custom events, console and network plugins).

        URLs under URL-like keys get the URL rules; a value under a key naming a credential
        (cookie, authorization, token, secret, key, session, password: matched as substrings,
        e.g. ``Set-Cookie``, ``X-Api-Key``) is masked whole; a body that is JSON or form data is
        decoded, scrubbed the same way and encoded again; any other string goes to the detectors.
        """
        stack: list[Any] = [data]
        while stack:
            obj = stack.pop()
            items = obj.items() if isinstance(obj, dict) else enumerate(obj)
            for key, value in list(items):
                lkey = key.lower() if isinstance(key, str) else ""
                if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 10**8:
                    digits = str(value)  # a card or phone number sent as a JSON number
                    if self.detect(digits, None, "payload") != digits:
                        obj[key] = mask_all(digits)
                elif isinstance(value, str) and value:
                    if lkey and (any(word in lkey for word in CREDENTIAL_KEYS)
                                 or lkey.replace("-", "").replace("_", "") in CREDENTIAL_NAMES):
                        if not is_masked(value):
                            self.count("credential", None, "payload")
                            obj[key] = mask_all(value)
                    elif lkey in URL_KEYS:
                        obj[key] = self.url(value, None, "payload")
                    elif lkey in BODY_KEYS:
                        obj[key] = self.body(value)
                    elif css and lkey.startswith("--"):  # a custom property holds any text
                        obj[key] = self.detect(value, None, "payload:css")
                    elif css:
                        obj[key] = self.css(value, None, "payload:css")
                    else:
                        obj[key] = self.detect(value, None, "payload")
                elif isinstance(value, (dict, list)):
                    stack.append(value)

    def body(self, value: str) -> str:
        """A request or response body: JSON is decoded and scrubbed as a payload; form data
        (``a=1&b=2``) as a query string; anything else goes to the detectors."""
        text = value.strip()
        if text[:1] in "{[":
            try:
                decoded = json.loads(text)
            except (ValueError, RecursionError):
                decoded = None
            if isinstance(decoded, (dict, list)):
                try:
                    self.payload({"body": decoded})
                    # ASCII escapes: a lone surrogate in the body must not make the batch unstorable
                    return json.dumps(decoded, ensure_ascii=True, separators=(",", ":"))
                except RecursionError:
                    return mask_all(value)  # too deep to check: keep nothing of it
        if "=" in text and " " not in text and "\n" not in text:
            scrubbed, n = scrub_url("?" + text, self.keep_params)
            if n:
                self.count("url_query", None, "payload", n=n)
            return self.detect(scrubbed[1:], None, "payload")
        return self.detect(value, None, "payload")


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _class_flags(value: Any) -> int:
    if not isinstance(value, str) or "rr-" not in value:
        return 0
    classes = value.split()
    return (Flag.BLOCKED if "rr-block" in classes else 0) | (Flag.MASKED if "rr-mask" in classes else 0)


def _value_kind(info: NodeInfo | None) -> str | None:
    """Masking kind for a ``value`` attribute of this node, or None when it is not a form value."""
    if info is None:
        return "input_value"  # unknown node (state lost?): assume the worst
    if info.flags & Flag.PASSWORD:
        return "password"
    if info.tag not in _INPUT_TAGS:
        return None
    if info.tag == "input" and info.input_type in LABEL_INPUT_TYPES and not info.flags & Flag.MASKED:
        return None
    return "input_value"


def _update_info(info: NodeInfo, attrs: dict[str, Any]) -> None:
    """Track attribute changes that matter for masking (type switches, rrweb marks, classes)."""
    if "type" in attrs:
        info.input_type = _lower(attrs["type"])
        if info.tag == "input" and info.input_type == "password":
            info.flags |= Flag.PASSWORD
    if info.tag == "input" and attrs.get("data-rr-is-password") is not None:
        info.flags |= Flag.PASSWORD
    if "class" in attrs:
        info.flags |= _class_flags(attrs["class"])
