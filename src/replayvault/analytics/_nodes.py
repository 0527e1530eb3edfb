"""A small mirror of the recorded DOM: parent, tag, ``id`` and ``class`` per rrweb node id.

Only what click selectors need is kept; no text, no attribute values besides ``id`` and ``class``
(which the privacy step has already masked). The mirror follows FullSnapshots and Mutation
adds, removes and attribute changes in the order rrweb's replayer applies them.

Selector scheme (stable across sessions of the same page, documented for analysts):

* one step per element from ``body`` down to the target (from ``html`` when the target is not
  inside ``body``), joined with `` > ``;
* a step is the lower-case tag name, then ``#id`` when the element has a hand-written looking id,
  then up to two hand-written looking classes ``.cls`` in document order, then
  ``:nth-of-type(n)`` when the element has no such id and its parent has more than one element
  child with the same tag;
* an id or class "looks generated" when it has three or more digits in a row, or starts with a
  CSS-in-JS prefix (``css-``, ``sc-``, ``jsx-``, ``emotion-``, ``svelte-``) or React's ``:r``;
  those are left out because they change between builds;
* ids and classes are CSS-escaped;
* ids and classes that may hold personal data are left out as well: those with an ``@`` or a
  finding of the privacy detectors, and every id and class on or inside an element marked
  ``rr-mask`` or ``rr-block`` (such steps are tag and position only). A customer's name written
  into an id outside marked content cannot be told from a hand-written id; sites must mark it.

Example: ``body > div.main > form#transfer > button.primary:nth-of-type(2)``.
"""

from __future__ import annotations

import re
from collections import deque
from functools import lru_cache
from typing import Any

from ..rrweb import NodeType

_GENERATED = re.compile(r"\d{3,}|^(?:css|sc|jsx|emotion|svelte)-|^:r")
_MAX_CLASSES = 2
#: Classes that mark personal content (rrweb): no id or class of it or below it enters a selector.
_MARKS = frozenset({"rr-mask", "rr-block"})
#: Adds of one Mutation event the mirror applies; the rest are dropped (for analytics only: the
#: recording itself is stored unchanged) and counted in :attr:`NodeMirror.dropped_adds`.
MAX_ADDS_PER_EVENT = 50_000
#: How often one add may wait for a missing parent / next sibling before it is attached as well as
#: possible (bounds the work per add even when other adds keep adding and removing its dependencies).
_MAX_WAITS = 3


#: Node ids outside this range are ignored (the analytics store keeps ids in 32-bit INTEGER columns).
_ID_LIMIT = 2**31


def _is_id(value: Any) -> bool:
    """A usable rrweb node id: an int that is not a bool (JSON ``true`` is an int in Python) and fits
    32 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and -_ID_LIMIT <= value < _ID_LIMIT

#: node id -> [tag ("" for non-elements, "#document" for a Document), id attribute, class attribute]
NodeInfo = list[Any]


def _css_escape(ident: str) -> str:
    """Escape ``ident`` for use after ``#`` or ``.`` in a CSS selector (CSSOM ``CSS.escape`` rules)."""
    out = []
    for i, ch in enumerate(ident):
        if ch.isalnum() and ch.isascii() and not (i == 0 and ch.isdigit()) or ch in "-_" or ord(ch) > 127:
            out.append(ch)
        elif i == 0 and ch.isdigit():
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append("\\" + ch)
    return "".join(out)


_SEPARATORS = re.compile(r"[-_.:]+")


@lru_cache(maxsize=4096)
def _stable(name: str) -> bool:
    """Whether an id or class may appear in a selector: hand-written looking, and no personal data.

    Personal data: an ``@``, or any finding of the privacy detectors (every registered detector)
    in the name with ``-``, ``_``, ``.`` and ``:`` read as spaces (``iban-DE89370400440532013000``,
    ``owner-jane_doe-at-bank_com`` is only caught by the ``@``-free rules it trips).
    """
    if not name or _GENERATED.search(name) or "@" in name:
        return False
    from ..privacy.detectors import REGISTRY, find_all

    return not find_all(_SEPARATORS.sub(" ", name), REGISTRY)


class NodeMirror:
    """Parent/children/tag/id/class of every live node of one session's current document."""

    def __init__(self) -> None:
        self.info: dict[int, NodeInfo] = {}
        self.children: dict[int, list[int]] = {}
        self.parent: dict[int, int] = {}
        self.root_ids: list[int] = []  # the Document node, its html and body elements
        #: Mutation adds dropped beyond :data:`MAX_ADDS_PER_EVENT` (not serialized).
        self.dropped_adds = 0

    # -- serialization -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "info": {str(k): v for k, v in self.info.items()},
            "children": {str(k): v for k, v in self.children.items() if v},
            "root_ids": list(self.root_ids),
        }

    @classmethod
    def from_dict(cls, d: Any) -> NodeMirror:
        """Inverse of :meth:`to_dict`; malformed entries are skipped (never raises on a bad state)."""
        m = cls()
        if not isinstance(d, dict):
            return m
        info, children, roots = d.get("info"), d.get("children"), d.get("root_ids")
        for k, v in (info.items() if isinstance(info, dict) else ()):
            nid = _key(k)
            if nid is not None and isinstance(v, list) and len(v) == 3 and isinstance(v[0], str) \
                    and all(x is None or isinstance(x, str) for x in v[1:]):
                m.info[nid] = list(v)
        for k, v in (children.items() if isinstance(children, dict) else ()):
            pid = _key(k)
            if pid is not None and pid in m.info and isinstance(v, list):
                kids = [c for c in v if _is_id(c) and c in m.info and c not in m.parent]
                m.children[pid] = kids
                m.parent.update((c, pid) for c in kids)
        m.root_ids = [x for x in (roots if isinstance(roots, list) else []) if _is_id(x)]
        return m

    # -- updates ----------------------------------------------------------------------------------
    def full_snapshot(self, node: dict[str, Any]) -> None:
        """Replace the mirror with the tree of a FullSnapshot's ``data.node``."""
        self.info.clear()
        self.children.clear()
        self.parent.clear()
        self._add_tree(node, None, None)
        self.root_ids = [node["id"]] if _is_id(node.get("id")) else []
        for child in _kids(node):
            if child.get("type") == NodeType.Element and str(child.get("tagName", "")).lower() == "html":
                if _is_id(child.get("id")):
                    self.root_ids.append(child["id"])
                for grand in _kids(child):
                    if grand.get("type") == NodeType.Element and str(grand.get("tagName", "")).lower() == "body":
                        if _is_id(grand.get("id")):
                            self.root_ids.append(grand["id"])

    def mutation(self, data: dict[str, Any]) -> None:
        """Apply a Mutation's ``removes``, ``adds`` and ``attributes`` (rrweb replayer order)."""
        for rem in data.get("removes") or []:
            if isinstance(rem, dict) and _is_id(rem.get("id")):
                self._remove(rem["id"])
        adds = data.get("adds")
        self._apply_adds([a for a in adds if isinstance(a, dict) and isinstance(a.get("node"), dict)]
                         if isinstance(adds, list) else [])
        changes = data.get("attributes")
        for change in changes if isinstance(changes, list) else []:
            if not isinstance(change, dict) or not _is_id(change.get("id")):
                continue
            info = self.info.get(change["id"])
            attrs = change.get("attributes")
            if info is None or not isinstance(attrs, dict):
                continue
            if "id" in attrs:
                info[1] = attrs["id"] if isinstance(attrs["id"], str) else None
            if "class" in attrs:
                info[2] = attrs["class"] if isinstance(attrs["class"], str) else None

    def _apply_adds(self, adds: list[dict[str, Any]]) -> None:
        """Apply a Mutation's adds; rrweb may list a node before its parent or its next sibling.

        Like rrweb's replayer, an add whose ``parentId`` (or ``nextId``) is not known yet waits in a
        queue keyed by that missing id and is released once, when a node with that id is added: each
        add is applied once and looked at most ``_MAX_WAITS + 1`` times (O(n), never a pass per add).
        Adds still waiting at the end are attached as well as possible, in their order. At most
        :data:`MAX_ADDS_PER_EVENT` adds are applied; the rest are counted in :attr:`dropped_adds`.
        """
        if len(adds) > MAX_ADDS_PER_EVENT:
            self.dropped_adds += len(adds) - MAX_ADDS_PER_EVENT
            adds = adds[:MAX_ADDS_PER_EVENT]
        waiting: dict[Any, list[int]] = {}  # missing node id -> indexes of the adds waiting for it
        waits = [0] * len(adds)
        done = [False] * len(adds)
        queue = deque(range(len(adds)))
        while queue:
            i = queue.popleft()
            if done[i]:
                continue
            missing = self._missing(adds[i])
            if missing is None or waits[i] >= _MAX_WAITS:
                done[i] = True
                for nid in self._apply(adds[i]):
                    queue.extend(waiting.pop(nid, ()))
            else:
                waits[i] += 1
                waiting.setdefault(missing, []).append(i)
        for i, a in enumerate(adds):  # dependencies that never came: attach the rest as well as we can
            if not done[i]:
                self._apply(a)

    def _missing(self, add: dict[str, Any]) -> Any:
        """The id ``add`` waits for (its parent, else its next sibling), or None when it is ready."""
        nid, pid, nxt = add["node"].get("id"), add.get("parentId"), add.get("nextId")
        if not _is_id(pid) or (nid in self.info and self.parent.get(nid) == pid):
            return None  # nothing to wait for (unusable parent), or already attached
        if pid not in self.info:
            return pid
        if _is_id(nxt) and nxt not in self.info:
            return nxt
        return None

    def _apply(self, add: dict[str, Any]) -> list[int]:
        """Attach one add; returns the ids of the nodes it added."""
        added: list[int] = []
        pid, nxt, prev = add.get("parentId"), add.get("nextId"), add.get("previousId")
        self._add_tree(add["node"], pid if _is_id(pid) else None, nxt if _is_id(nxt) else None,
                       prev if _is_id(prev) else None, added)
        return added

    def _add_tree(self, node: dict[str, Any], parent_id: Any, next_id: Any = None, prev_id: Any = None,
                  added: list[int] | None = None) -> None:
        """Add a serialized subtree (iteratively: deep trees do not recurse); malformed nodes are skipped."""
        stack: list[tuple[dict[str, Any], Any, Any, Any]] = [(node, parent_id, next_id, prev_id)]
        while stack:
            cur, pid, nxt, prv = stack.pop()
            nid = cur.get("id")
            if not _is_id(nid) or (nid in self.info and self.parent.get(nid) == pid):
                continue
            if nid in self.info:
                self._remove(nid)
            ntype = cur.get("type")
            if ntype == NodeType.Element:
                attrs = cur.get("attributes") if isinstance(cur.get("attributes"), dict) else {}
                id_attr = attrs.get("id") if isinstance(attrs.get("id"), str) else None
                cls_attr = attrs.get("class") if isinstance(attrs.get("class"), str) else None
                self.info[nid] = [str(cur.get("tagName", "")).lower(), id_attr, cls_attr]
            else:
                self.info[nid] = ["#document" if ntype == NodeType.Document else "", None, None]
            if added is not None:
                added.append(nid)
            if _is_id(pid) and pid != nid:
                kids = self.children.setdefault(pid, [])
                if nxt is not None and nxt in kids:
                    kids.insert(kids.index(nxt), nid)
                elif prv is not None and prv in kids:
                    kids.insert(kids.index(prv) + 1, nid)
                else:
                    kids.append(nid)
                self.parent[nid] = pid
            stack.extend((c, nid, None, None) for c in reversed(_kids(cur)))

    def _remove(self, nid: int) -> None:
        parent = self.parent.pop(nid, None)
        if parent is not None and nid in self.children.get(parent, ()):
            self.children[parent].remove(nid)
        stack = [nid]
        while stack:
            cur = stack.pop()
            self.info.pop(cur, None)
            kids = self.children.pop(cur, [])
            for k in kids:
                self.parent.pop(k, None)
            stack.extend(kids)

    # -- queries --------------------------------------------------------------------------------
    def selector(self, nid: int) -> str | None:
        """CSS selector path of element ``nid`` (of its parent element for a text node); None if unknown."""
        path: list[tuple[int, NodeInfo]] = []
        cur: int | None = nid
        while cur is not None and self.info.get(cur, ["#document"])[0] == "":
            cur = self.parent.get(cur)  # a text node (older rrweb): use its element
        while cur is not None:
            info = self.info.get(cur)
            if info is None or not info[0] or info[0] == "#document":
                break
            path.append((cur, info))
            if info[0] in ("body", "html"):
                break
            cur = self.parent.get(cur)
        if not path:
            return None
        steps: list[str] = []
        marked = False  # inside (or on) an rr-mask / rr-block element: tags and positions only
        for node_id, info in reversed(path):
            marked = marked or bool(_MARKS & set(str(info[2] or "").split()))
            steps.append(info[0] if info[0] in ("body", "html") else self._step(node_id, info, marked))
        return " > ".join(steps)

    def _step(self, nid: int, info: NodeInfo, marked: bool = False) -> str:
        tag, id_attr, cls_attr = info
        if marked:
            id_attr = cls_attr = None  # the site marked this content as personal: its names may be too
        step = tag
        has_id = bool(id_attr and _stable(id_attr.strip()))
        if has_id:
            step += "#" + _css_escape(id_attr.strip())  # type: ignore[union-attr]
        if cls_attr:
            classes = [c for c in cls_attr.split() if _stable(c)][:_MAX_CLASSES]
            step += "".join("." + _css_escape(c) for c in classes)
        parent = self.parent.get(nid)
        if parent is not None and not has_id:  # an id is unique: no position needed
            same = [k for k in self.children.get(parent, ()) if self.info.get(k, ("",))[0] == tag]
            if len(same) > 1:
                step += f":nth-of-type({same.index(nid) + 1})"
        return step


def _key(k: Any) -> int | None:
    """A node id from a serialized (string) key, or None when it is not a plain decimal integer."""
    if isinstance(k, str) and k.lstrip("-").isdigit() and k.isascii():
        return int(k)
    return k if _is_id(k) else None


def _kids(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The dict children of a serialized node (``childNodes`` that is not a list gives none)."""
    kids = node.get("childNodes")
    return [c for c in kids if isinstance(c, dict)] if isinstance(kids, list) else []
