"""Mutation events: removes, adds, texts and attributes, in rrweb's replay order.

Beyond masking each added node and changed text like a snapshot's (:mod:`.nodes`):

1. An add's place among its siblings follows ``nextId`` (``previousId`` in older rrweb), so the
   node map keeps document order (:mod:`.state`).
2. After each mutation, page text that changed is read together with its neighbours from the node
   map (:func:`.joined.mask_joined_state`): a value split over separate mutations or batches.
3. Attribute entries are applied in two passes. The first updates what the node map knows: a type
   switch away from a label type (checkbox, radio...) takes effect before any ``value`` of the
   same mutation is looked at (a switch towards a label type only after), and marks added now — an
   ``rr-mask``/``rr-block`` class, a policy selector that matches now, ``contenteditable`` — reach
   the element's existing descendants (:func:`late_mark`). The second pass masks the values.
4. Keys of a mutation beyond rrweb's shape go to the residual rule (:mod:`.residual`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import sanitize
from ._text import is_masked_text, mask_non_space
from .joined import INLINE_TAGS, mask_joined_state
from .nodes import LABEL_INPUT_TYPES, attributes, drop_children, marks, tree
from .state import Flag, NodeInfo

if TYPE_CHECKING:
    from .masking import Masker

__all__ = ["apply", "late_mark"]

_NODE, _VALUE, _ATTRIBUTES = frozenset({"node"}), frozenset({"value"}), frozenset({"attributes"})
#: Flags whose arrival on an element changes how its existing descendants are treated.
_MARKS = Flag.MASKED | Flag.BLOCKED | Flag.EDITABLE


def _int_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def apply(m: Masker, data: dict[str, Any]) -> None:
    """Mask one Mutation event's data in place (module docstring)."""
    for rm in _dicts(data.get("removes")):
        nid = _int_id(rm.get("id"))
        if nid is not None:
            m.state.forget(nid)
    joins: list[int] = []  # page text that may now form a value with text already recorded
    if isinstance(data.get("adds"), list):
        data["adds"] = _adds(m, data["adds"], joins)
    if isinstance(data.get("texts"), list):
        data["texts"] = [t for t in data["texts"] if _text(m, t, joins)]
    if isinstance(data.get("attributes"), list):
        data["attributes"] = _attribute_entries(m, data["attributes"])
    m.sync_texts()
    if joins:
        mask_joined_state(m.state, set(joins), m.current_text, m.write_text, m.detectors,
                          lambda kind, nid: m.count(kind, nid, "text:joined"))
    _residual(m, data)


def _residual(m: Masker, data: dict[str, Any]) -> None:
    """Rule 4: everything but the nodes, texts and attribute values handled above (ids that are
    not numbers included)."""
    m.rest(data, frozenset({"adds", "texts", "attributes"}))
    for key, handled in (("adds", _NODE), ("texts", _VALUE), ("attributes", _ATTRIBUTES)):
        for entry in _dicts(data.get(key)):
            m.rest(entry, handled)


def _adds(m: Masker, adds: list[Any], joins: list[int]) -> list[Any]:
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
            keep[j] = _add(m, adds[j], joins)
    return [a for a, k in zip(adds, keep) if k]


def _add(m: Masker, add: Any, joins: list[int]) -> bool:
    """Mask one ``adds`` entry in place; False when it must be dropped. Page text that joins the
    text around the insertion point (the added text node, or the text inside an added inline
    element) goes to ``joins``; text inside an added block was joined within the add."""
    if not isinstance(add, dict) or not isinstance(add.get("node"), dict):
        return True
    pid = _int_id(add.get("parentId"))
    parent = m.state.get(pid)
    # A parent the node map never saw (batches out of order, an evicted window, no snapshot yet)
    # could be a textarea or an rr-mask element: assume the worst, as for text mutations.
    ctx = Flag.MASKED if parent is None and pid is not None and not m.state.knows(pid) else 0
    if parent is not None:
        if parent.flags & (Flag.SCRIPT | Flag.BLOCKED | Flag.DROPPED):
            flag = Flag.SCRIPT if parent.flags & Flag.SCRIPT else Flag.DROPPED | (parent.flags & Flag.PAGE_BLOCK)
            drop_children(m, [add["node"]], pid, flag)
            if not parent.flags & Flag.SCRIPT:  # rrweb never sends content into an rr-block element
                m.count("blocked_in_clear" if parent.flags & Flag.PAGE_BLOCK else "blocked", pid, "add")
            return False
        ctx = parent.flags & Flag.INHERITED
        if parent.flags & (Flag.TEXTAREA | Flag.OPTION | Flag.EDITABLE):
            ctx |= Flag.VALUE_TEXT | (parent.flags & Flag.OPTION)
    tree(m, add["node"], pid, ctx)
    m.joined(add["node"])
    nid = _int_id(add["node"].get("id"))
    info = m.state.get(nid)
    if nid is None or info is None:
        return True
    m.state.place(nid, before=_int_id(add.get("nextId")), after=_int_id(add.get("previousId")))
    if info.prose:
        joins.append(nid)
    elif info.tag in INLINE_TAGS:
        joins.extend(d for d in m.state.descendants(nid) if _prose(m.state.get(d)))
    return True


def _prose(info: NodeInfo | None) -> bool:
    return info is not None and info.prose


def _target(m: Masker, entry: dict[str, Any]) -> tuple[int | None, NodeInfo | None, bool]:
    """A mutation entry's node id, what the state knows of it, and whether to keep the entry
    (False for nodes inside removed scripts or blocked content)."""
    nid = _int_id(entry.get("id"))
    info = m.state.get(nid)
    return nid, info, not (info is not None and info.has(Flag.GONE))


def _text(m: Masker, entry: Any, joins: list[int]) -> bool:
    """Mask one ``texts`` entry in place (page text goes to ``joins``); False when it must be dropped."""
    if not isinstance(entry, dict):
        return True
    nid, info, keep = _target(m, entry)
    if not keep:
        return False
    value = entry.get("value")
    if value is not None and not isinstance(value, str):
        entry["value"] = value = ""  # not an rrweb shape: drop what cannot be checked
    if isinstance(value, str) and value:
        if info is None and (m.state.complete or not m.state.knows(nid)):
            # The node map never saw this node (batches out of order, an evicted window, no full
            # snapshot yet) or it was removed: it could be a textarea's or an rr-mask element's text.
            masked = mask_non_space(value)
            if masked != value:
                m.count("text_mask", nid, "text:unknown-node")
            elif is_masked_text(value):
                m.count("text_mask", nid, "text:unknown-node", browser=True)
            entry["value"] = masked
            return True
        flags = info.flags if info is not None else 0
        if is_masked_text(value):
            m.count("text_mask", nid, "text", browser=True)  # rrweb's maskTextFn: keep masking it
            if info is not None:
                info.flags |= Flag.MASKED
        entry["value"] = m.text(value, flags, nid, "text")
    if nid is not None and info is not None and info.prose and isinstance(entry.get("value"), str):
        m.note_text(nid, entry, "value")
        joins.append(nid)
    return True


def _attribute_entries(m: Masker, entries: list[Any]) -> list[Any]:
    """Both passes over a mutation's ``attributes`` entries (module docstring, rule 3)."""
    later: list[tuple[NodeInfo, Any]] = []  # type switches towards a label type, applied last
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("attributes"), dict):
            nid, info, keep = _target(m, entry)
            if keep and nid is not None and info is not None:
                _learn(m, nid, info, entry["attributes"], later)
    kept = [entry for entry in entries if _attribute(m, entry)]
    for info, itype in later:
        info.input_type = itype
    return kept


def _learn(m: Masker, nid: int, info: NodeInfo, attrs: dict[str, Any], later: list[tuple[NodeInfo, Any]]) -> None:
    """First pass: what an attribute change tells the node map about the element."""
    if "type" in attrs:
        itype = attrs["type"].lower() if isinstance(attrs["type"], str) else None
        if info.input_type not in LABEL_INPUT_TYPES and itype in LABEL_INPUT_TYPES:
            later.append((info, itype))  # a value set in this mutation was typed into a text field
        else:
            info.input_type = itype
        if info.tag == "input" and itype == "password":
            info.flags |= Flag.PASSWORD
    if info.tag == "input" and attrs.get("data-rr-is-password") is not None:
        info.flags |= Flag.PASSWORD
    added = marks(m, info.tag, attrs, change=True) & ~info.flags
    if added:
        info.flags |= added
        if added & _MARKS:
            late_mark(m, nid, added)


def late_mark(m: Masker, nid: int, added: int) -> None:
    """An element just became masked, blocked or editable: treat its existing descendants so.

    Masked (``rr-mask``, a mask selector): descendants are masked from now on. Blocked
    (``rr-block``, a block selector): later mutations of descendants are dropped, content added
    into it too. Text of the descendants that this batch holds is masked where it is; each page
    text node that was already recorded with visible text is counted as ``late_mask`` /
    ``late_block`` (an incident: it was recorded in clear, possibly in a batch already stored).
    Editable: text typed into existing descendants is a form value from now on.
    """
    info = m.state.get(nid)
    page_block = info.flags & Flag.PAGE_BLOCK if info is not None else 0
    if added & Flag.BLOCKED:
        new, kind = Flag.DROPPED | page_block, "late_block"
    elif added & Flag.MASKED:
        new, kind = Flag.MASKED, "late_mask"
    else:
        new, kind = Flag.VALUE_TEXT, ""
    for d in list(m.state.descendants(nid)):
        dinfo = m.state.get(d)
        if dinfo is None:
            continue
        shown = dinfo.prose and dinfo.text is not None and dinfo.text.strip() and not is_masked_text(dinfo.text)
        dinfo.flags |= new
        dinfo.text = None
        if kind and dinfo.tag == "#text":
            m.rewrite(d, mask_non_space)
            if shown:
                m.count(kind, d, "late")


def _attribute(m: Masker, entry: Any) -> bool:
    """Second pass: mask one ``attributes`` entry in place; False when it must be dropped."""
    if not isinstance(entry, dict):
        return True
    nid, info, keep = _target(m, entry)
    if not keep:
        return False
    attrs = entry.get("attributes")
    if not isinstance(attrs, dict):
        return True
    if info is not None:
        if info.tag == "link" and sanitize.is_resource_hint(attrs.get("rel")):
            info.flags |= Flag.HINT
            attrs["href"] = None  # the href recorded earlier would be fetched once rel changes
            m.count("resource_hint", nid, "mutation:rel")
        elif info.has(Flag.HINT) and attrs.get("href") is not None:
            attrs["href"] = None
            m.count("resource_hint", nid, "mutation:href")
    attributes(m, attrs, info, nid, "mutation:")
    return True
