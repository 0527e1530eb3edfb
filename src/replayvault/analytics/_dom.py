"""What behaviour analytics need to know about the recorded DOM beside :class:`NodeMirror`'s structure.

:class:`FormDom` wraps a :class:`~replayvault.analytics._nodes.NodeMirror` (parent, tag, id, class:
selectors) and keeps a few bit flags per element, read from attributes the privacy step leaves as
they are (``type``, ``role``, ``aria-invalid``, ``hidden``, ``style`` display/visibility, ``class``).
No text, no input value and no attribute value besides the mirror's id/class (for selectors) is
kept; only elements with at least one flag get an entry.

Rules (documented for analysts):

* a **field** is an ``input`` (any ``type`` except hidden, submit, button, reset, image), a
  ``select`` or a ``textarea``; its **form** is its nearest ``form`` ancestor, or ``"(no form)"``;
* fields and forms are named by :meth:`FormDom.name`: the click-selector scheme of :mod:`._nodes`
  *without classes* (``body > form#pay > div:nth-of-type(1) > input#iban``), because frameworks
  change classes while a form is filled in (``ng-dirty``, ``is-invalid``, ``has-error``) and one
  field must keep one name;
* a **submit button** is a ``button`` whose ``type`` is missing or ``submit``, or an ``input`` of
  type submit or image; a click on it or inside it (up to the button) counts;
* an **error element** is an element with ``role="alert"`` or a class containing ``error`` or
  ``invalid`` (case-insensitive), shown: it has no ``hidden`` attribute and its own ``style`` does
  not say ``display: none`` or ``visibility: hidden`` (stylesheets are not evaluated);
* an error element belongs to the field found by walking up from the element itself: at the first
  ancestor-or-self ``A`` (below ``body``) that is the parent of a field, or else the grandparent of
  one, that field — when ``A`` holds several, the field being edited, else the last field touched,
  else the first in document order. An error element that is itself a field belongs to itself;
* an error element also *appears* when a Mutation changes or adds text inside it (an
  ``aria-live``/``role="alert"`` region kept in the page and filled with the message); emptying
  its text is not seen, so such a region counts once until it is removed, hidden or loses its
  error role/class;
* a field **shows a validation error** while it has ``aria-invalid="true"`` or an error element
  belongs to it; :meth:`FormDom.mutation` reports the fields that did not show one before the
  Mutation event and do after it (a re-render that removes and adds the same message in one
  Mutation is not a new error).
"""

from __future__ import annotations

import re
from typing import Any

from ..rrweb import NodeType
from ._nodes import _MARKS, MAX_ADDS_PER_EVENT, NodeMirror, _css_escape, _is_id, _key, _stable

__all__ = ["FormDom", "NO_FORM"]

#: Form name of fields outside any ``form`` element.
NO_FORM = "(no form)"

FIELD, CHOICE, SUBMIT = 1, 2, 4
ROLE_ALERT, CLASS_ERROR, INVALID = 8, 16, 32
HID_ATTR, HID_DISPLAY, HID_VIS = 64, 128, 256
_TYPE_BITS = FIELD | CHOICE | SUBMIT
_ERRORISH = ROLE_ALERT | CLASS_ERROR
_HIDDEN = HID_ATTR | HID_DISPLAY | HID_VIS
_NOT_FIELD_TYPES = frozenset({"hidden", "submit", "button", "reset", "image"})
_DISPLAY_NONE = re.compile(r"(?:^|[;\s])display\s*:\s*none\b", re.IGNORECASE)
_VIS_HIDDEN = re.compile(r"(?:^|[;\s])visibility\s*:\s*hidden\b", re.IGNORECASE)
_TOP = frozenset({"body", "html", "#document", ""})
#: A text change this many nodes below an error element (text node, its element, one wrapper) fills it.
_TEXT_DEPTH = 3


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty list (a malformed event field is skipped)."""
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) else None


def _type_bits(tag: str, type_attr: Any) -> int:
    kind = _text(type_attr) or ""
    if tag in ("select", "textarea"):
        return FIELD
    if tag == "input":
        if kind in ("submit", "image"):
            return SUBMIT
        if kind in _NOT_FIELD_TYPES:
            return 0
        return FIELD | (CHOICE if kind in ("checkbox", "radio") else 0)
    if tag == "button" and kind in ("", "submit"):
        return SUBMIT
    return 0


class FormDom:
    """The session's node mirror plus per-element flags and the error elements attributed to fields."""

    def __init__(self) -> None:
        self.nodes = NodeMirror()
        self.flags: dict[int, int] = {}
        #: shown error element id -> field id it belongs to
        self.errors: dict[int, int] = {}

    # -- serialization -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (string keys); no text or attribute values besides id/class (in the mirror)."""
        return {"nodes": self.nodes.to_dict(), "flags": {str(k): v for k, v in self.flags.items()},
                "errors": {str(k): v for k, v in self.errors.items()}}

    @classmethod
    def from_dict(cls, d: Any) -> FormDom:
        """Inverse of :meth:`to_dict` (an empty dict gives an empty DOM); malformed entries are skipped."""
        dom = cls()
        if not isinstance(d, dict):
            return dom
        dom.nodes = NodeMirror.from_dict(d.get("nodes") or {})
        for name, target in (("flags", dom.flags), ("errors", dom.errors)):
            items = d.get(name)
            for k, v in (items.items() if isinstance(items, dict) else ()):
                if _key(k) is not None and _is_id(v):
                    target[_key(k)] = v  # type: ignore[index]
        return dom

    # -- updates ----------------------------------------------------------------------------------
    def full_snapshot(self, node: dict[str, Any]) -> None:
        """Replace everything with the tree of a FullSnapshot's ``data.node``."""
        self.nodes.full_snapshot(node)
        self.flags.clear()
        self.errors.clear()
        self._walk(node)

    def mutation(self, data: dict[str, Any], prefer: list[int | None]) -> dict[int, str]:
        """Apply a Mutation; return the fields that start showing a validation error with it.

        ``prefer``: field ids to attribute an ambiguous error element to, in order (the field being
        edited, the last field touched). Values of the result are the rule: ``"aria-invalid"`` or
        ``"message"`` (an error element).
        """
        before = self.fields_in_error()
        self.nodes.mutation(data)
        touched: list[int] = []
        for add in _list(data.get("adds"))[:MAX_ADDS_PER_EVENT]:
            if isinstance(add, dict) and isinstance(add.get("node"), dict):
                touched += self._walk(add["node"])
        for change in _list(data.get("attributes")):
            if isinstance(change, dict) and _is_id(change.get("id")) and isinstance(change.get("attributes"), dict):
                if self._update(change["id"], change["attributes"]):
                    touched.append(change["id"])
        touched += self._filled(data)
        for nid in touched:
            if nid not in self.errors and self.shown_error(nid):
                field = self.error_field(nid, prefer)
                if field is not None:
                    self.errors[nid] = field
        self.errors = {e: f for e, f in self.errors.items() if self.shown_error(e) and f in self.nodes.info}
        after = self.fields_in_error()
        return {f: rule for f, rule in after.items() if f not in before}

    def _filled(self, data: dict[str, Any]) -> list[int]:
        """Error elements (up to :data:`_TEXT_DEPTH` levels above) whose text this Mutation changed or added."""
        starts = [t.get("id") for t in _list(data.get("texts")) if isinstance(t, dict)]
        starts += [a.get("parentId") for a in _list(data.get("adds"))[:MAX_ADDS_PER_EVENT]
                   if isinstance(a, dict) and isinstance(a.get("node"), dict) and a["node"].get("type") == NodeType.Text]
        out = []
        for nid in starts:
            cur = nid if _is_id(nid) else None
            for _ in range(_TEXT_DEPTH):
                if cur is None:
                    break
                if self.shown_error(cur):
                    out.append(cur)
                    break
                cur = self.nodes.parent.get(cur)
        return out

    def prune(self) -> None:
        """Forget flags of nodes no longer in the document."""
        self.flags = {k: v for k, v in self.flags.items() if k in self.nodes.info}

    def _walk(self, node: dict[str, Any]) -> list[int]:
        """Set flags for every element of a serialized subtree; returns the ids of the elements."""
        out: list[int] = []
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur.get("type") == NodeType.Element and _is_id(cur.get("id")):
                attrs = cur.get("attributes") if isinstance(cur.get("attributes"), dict) else {}
                self._set(cur["id"], self._flags(str(cur.get("tagName", "")).lower(), attrs, 0, partial=False))
                out.append(cur["id"])
            stack.extend(c for c in _list(cur.get("childNodes")) if isinstance(c, dict))
        return out

    def _update(self, nid: int, attrs: dict[str, Any]) -> bool:
        info = self.nodes.info.get(nid)
        if info is None:
            return False
        self._set(nid, self._flags(info[0], attrs, self.flags.get(nid, 0), partial=True))
        return True

    def _set(self, nid: int, flags: int) -> None:
        if flags:
            self.flags[nid] = flags
        else:
            self.flags.pop(nid, None)

    @staticmethod
    def _flags(tag: str, attrs: dict[str, Any], old: int, *, partial: bool) -> int:
        """Flags from an element's attributes; ``partial`` (a Mutation) changes only the attributes given."""
        f = old

        def given(name: str) -> bool:
            return not partial or name in attrs

        if given("type"):
            f = (f & ~_TYPE_BITS) | _type_bits(tag, attrs.get("type"))
        if given("role"):
            f = (f & ~ROLE_ALERT) | (ROLE_ALERT if "alert" in (_text(attrs.get("role")) or "").split() else 0)
        if given("class"):
            cls = _text(attrs.get("class")) or ""
            f = (f & ~CLASS_ERROR) | (CLASS_ERROR if "error" in cls or "invalid" in cls else 0)
        if given("aria-invalid"):
            f = (f & ~INVALID) | (INVALID if _text(attrs.get("aria-invalid")) == "true" else 0)
        if given("hidden"):
            f = (f & ~HID_ATTR) | (HID_ATTR if attrs.get("hidden") not in (None, False) else 0)
        style = attrs.get("style")
        if isinstance(style, dict):  # rrweb style diff: {property: value | [value, priority] | false}
            for prop, bit, word in (("display", HID_DISPLAY, "none"), ("visibility", HID_VIS, "hidden")):
                if prop in style:
                    value = style[prop][0] if isinstance(style[prop], list) and style[prop] else style[prop]
                    f = (f & ~bit) | (bit if _text(value) == word else 0)
        elif given("style"):
            text = style if isinstance(style, str) else ""
            f &= ~(HID_DISPLAY | HID_VIS)
            f |= (HID_DISPLAY if _DISPLAY_NONE.search(text) else 0) | (HID_VIS if _VIS_HIDDEN.search(text) else 0)
        return f

    # -- queries --------------------------------------------------------------------------------
    def tag(self, nid: int) -> str:
        """Lower-case tag of ``nid`` ("" for text nodes and unknown ids)."""
        return str(self.nodes.info.get(nid, [""])[0])

    def is_field(self, nid: Any) -> bool:
        """True for a live input/select/textarea field (see module rules)."""
        return _is_id(nid) and bool(self.flags.get(nid, 0) & FIELD) and nid in self.nodes.info

    def is_choice(self, nid: int) -> bool:
        """True for a checkbox or radio input."""
        return bool(self.flags.get(nid, 0) & CHOICE)

    def shown_error(self, nid: int) -> bool:
        """True for a live error element that is not hidden by its own attributes."""
        f = self.flags.get(nid, 0)
        return bool(f & _ERRORISH) and not f & _HIDDEN and nid in self.nodes.info

    def fields_in_error(self) -> dict[int, str]:
        """Fields now showing a validation error -> rule (``"aria-invalid"`` wins over ``"message"``)."""
        out = {f: "message" for e, f in self.errors.items() if self.shown_error(e) and f in self.nodes.info}
        for nid, f in self.flags.items():
            if f & INVALID and f & FIELD and nid in self.nodes.info:
                out[nid] = "aria-invalid"
        return out

    def name(self, nid: int) -> str:
        """Class-free selector path of element ``nid`` (module rules); "" when unknown."""
        path: list[int] = []
        cur: int | None = nid
        while cur is not None and self.tag(cur) not in ("", "#document"):
            path.append(cur)
            if self.tag(cur) in ("body", "html"):
                break
            cur = self.nodes.parent.get(cur)
        steps: list[str] = []
        marked = False  # on or inside rr-mask / rr-block content: no ids (they may name the customer)
        for cur in reversed(path):
            tag, id_attr, cls_attr = self.tag(cur), self.nodes.info[cur][1], self.nodes.info[cur][2]
            marked = marked or bool(_MARKS & set(str(cls_attr or "").split()))
            if tag in ("body", "html"):
                steps.append(tag)
                continue
            step = tag
            parent = self.nodes.parent.get(cur)
            if id_attr and not marked and _stable(id_attr.strip()):
                step += "#" + _css_escape(id_attr.strip())
            elif parent is not None:
                same = [k for k in self.nodes.children.get(parent, ()) if self.tag(k) == tag]
                step += f":nth-of-type({same.index(cur) + 1})" if len(same) > 1 else ""
            steps.append(step)
        return " > ".join(steps)

    def form_of(self, nid: int) -> str:
        """Name of ``nid`` itself when it is a form, else of its nearest ``form`` ancestor, else NO_FORM."""
        cur: int | None = nid
        while cur is not None:
            if self.tag(cur) == "form":
                return self.name(cur) or NO_FORM
            cur = self.nodes.parent.get(cur)
        return NO_FORM

    def submit_form(self, nid: int) -> str | None:
        """The form a click on ``nid`` submits (a submit button at or above ``nid`` inside a form), else None."""
        cur: int | None = nid
        while cur is not None and self.tag(cur) not in _TOP and self.tag(cur) != "form":
            if self.flags.get(cur, 0) & SUBMIT:
                form = self.form_of(cur)
                return None if form == NO_FORM else form
            cur = self.nodes.parent.get(cur)
        return None

    def error_field(self, nid: int, prefer: list[int | None]) -> int | None:
        """The field an error element belongs to (module rules), or None."""
        if self.is_field(nid):
            return nid
        cur: int | None = nid
        while cur is not None and self.tag(cur) not in _TOP:
            kids = self.nodes.children.get(cur, [])
            near = [k for k in kids if self.is_field(k)]
            cands = near or [g for k in kids for g in self.nodes.children.get(k, []) if self.is_field(g)]
            if cands:
                return next((p for p in prefer if p in cands), cands[0])
            cur = self.nodes.parent.get(cur)
        return None
