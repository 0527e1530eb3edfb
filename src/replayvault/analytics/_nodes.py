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
* ids and classes are CSS-escaped.

Example: ``body > div.main > form#transfer > button.primary:nth-of-type(2)``.
"""

from __future__ import annotations

import re
from typing import Any

from ..rrweb import NodeType

_GENERATED = re.compile(r"\d{3,}|^(?:css|sc|jsx|emotion|svelte)-|^:r")
_MAX_CLASSES = 2

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


def _stable(name: str) -> bool:
    return bool(name) and not _GENERATED.search(name)


class NodeMirror:
    """Parent/children/tag/id/class of every live node of one session's current document."""

    def __init__(self) -> None:
        self.info: dict[int, NodeInfo] = {}
        self.children: dict[int, list[int]] = {}
        self.parent: dict[int, int] = {}
        self.root_ids: list[int] = []  # the Document node, its html and body elements

    # -- serialization -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "info": {str(k): v for k, v in self.info.items()},
            "children": {str(k): v for k, v in self.children.items() if v},
            "root_ids": list(self.root_ids),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NodeMirror:
        m = cls()
        m.info = {int(k): list(v) for k, v in d.get("info", {}).items()}
        m.children = {int(k): [int(c) for c in v] for k, v in d.get("children", {}).items()}
        m.parent = {c: p for p, kids in m.children.items() for c in kids}
        m.root_ids = [int(x) for x in d.get("root_ids", [])]
        return m

    # -- updates ----------------------------------------------------------------------------------
    def full_snapshot(self, node: dict[str, Any]) -> None:
        """Replace the mirror with the tree of a FullSnapshot's ``data.node``."""
        self.info.clear()
        self.children.clear()
        self.parent.clear()
        self._add_tree(node, None, None)
        self.root_ids = [node["id"]] if isinstance(node.get("id"), int) else []
        for child in node.get("childNodes") or []:
            if child.get("type") == NodeType.Element and str(child.get("tagName", "")).lower() == "html":
                self.root_ids.append(child["id"])
                for grand in child.get("childNodes") or []:
                    if grand.get("type") == NodeType.Element and str(grand.get("tagName", "")).lower() == "body":
                        self.root_ids.append(grand["id"])

    def mutation(self, data: dict[str, Any]) -> None:
        """Apply a Mutation's ``removes``, ``adds`` and ``attributes`` (rrweb replayer order)."""
        for rem in data.get("removes") or []:
            if isinstance(rem, dict) and isinstance(rem.get("id"), int):
                self._remove(rem["id"])
        self._apply_adds([a for a in data.get("adds") or [] if isinstance(a, dict) and isinstance(a.get("node"), dict)])
        for change in data.get("attributes") or []:
            if not isinstance(change, dict):
                continue
            info = self.info.get(change.get("id"))  # type: ignore[arg-type]
            attrs = change.get("attributes")
            if info is None or not isinstance(attrs, dict):
                continue
            if "id" in attrs:
                info[1] = attrs["id"] if isinstance(attrs["id"], str) else None
            if "class" in attrs:
                info[2] = attrs["class"] if isinstance(attrs["class"], str) else None

    def _apply_adds(self, adds: list[dict[str, Any]]) -> None:
        # rrweb may list a node before its parent or its next sibling: apply what is ready, repeat.
        pending = adds
        while pending:
            later = [a for a in pending if not self._ready(a)]
            if len(later) == len(pending):  # no progress: attach the rest as well as we can
                for a in later:
                    self._add_tree(a["node"], a.get("parentId"), a.get("nextId"), a.get("previousId"))
                return
            for a in pending:
                if self._ready(a):
                    self._add_tree(a["node"], a.get("parentId"), a.get("nextId"), a.get("previousId"))
            pending = later

    def _ready(self, add: dict[str, Any]) -> bool:
        nid = add["node"].get("id")
        if nid in self.info and self.parent.get(nid) == add.get("parentId"):
            return True  # already attached by an earlier pass
        nxt = add.get("nextId")
        return add.get("parentId") in self.info and (nxt is None or nxt in self.info)

    def _add_tree(self, node: dict[str, Any], parent_id: Any, next_id: Any = None, prev_id: Any = None) -> None:
        nid = node.get("id")
        if not isinstance(nid, int) or (nid in self.info and self.parent.get(nid) == parent_id):
            return
        if nid in self.info:
            self._remove(nid)
        ntype = node.get("type")
        if ntype == NodeType.Element:
            attrs = node.get("attributes") or {}
            id_attr = attrs.get("id") if isinstance(attrs.get("id"), str) else None
            cls_attr = attrs.get("class") if isinstance(attrs.get("class"), str) else None
            self.info[nid] = [str(node.get("tagName", "")).lower(), id_attr, cls_attr]
        else:
            self.info[nid] = ["#document" if ntype == NodeType.Document else "", None, None]
        if isinstance(parent_id, int):
            kids = self.children.setdefault(parent_id, [])
            if next_id in kids:
                kids.insert(kids.index(next_id), nid)
            elif prev_id in kids:
                kids.insert(kids.index(prev_id) + 1, nid)
            else:
                kids.append(nid)
            self.parent[nid] = parent_id
        for child in node.get("childNodes") or []:
            if isinstance(child, dict):
                self._add_tree(child, nid)

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
        steps: list[str] = []
        cur: int | None = nid
        while cur is not None and self.info.get(cur, ["#document"])[0] == "":
            cur = self.parent.get(cur)  # a text node (older rrweb): use its element
        while cur is not None:
            info = self.info.get(cur)
            if info is None or not info[0] or info[0] == "#document":
                break
            tag = info[0]
            if tag in ("body", "html"):
                steps.append(tag)
                break
            steps.append(self._step(cur, info))
            cur = self.parent.get(cur)
        if not steps:
            return None
        return " > ".join(reversed(steps))

    def _step(self, nid: int, info: NodeInfo) -> str:
        tag, id_attr, cls_attr = info
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
