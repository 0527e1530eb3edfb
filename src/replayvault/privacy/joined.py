"""Personal data split across adjacent text nodes: ``<b>jane.doe</b>@bank.com``.

Each text node is checked on its own first (:mod:`.masking`); this pass joins the text of a run
of sibling inline content — text nodes and the text inside inline elements (``b``, ``span``,
``a``…) up to the next block element — runs the detectors on the joined string, and masks the
characters of every finding that spans more than one node (findings inside one node were
already masked). Node shapes are rrweb's serialized nodes (type 2 Element, 3 Text).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ._text import MASK_CHAR
from .detectors import Detector, find_all, resolve

__all__ = ["INLINE_TAGS", "mask_joined"]

#: Elements whose text flows with their siblings' text (HTML phrasing content).
INLINE_TAGS = frozenset({"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i",
                         "ins", "kbd", "label", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup",
                         "time", "u", "var", "wbr"})
#: Elements whose children are not page prose (or are masked as a whole anyway).
_SKIP = frozenset({"style", "script", "noscript", "textarea", "option", "select", "template"})

Node = dict[str, Any]


def _tag(node: Node) -> str:
    tag = node.get("tagName")
    return tag.lower() if isinstance(tag, str) else ""


def _collect(node: Node, pieces: list[Node], blocks: list[Node]) -> None:
    """Append the text nodes of an inline element (in order) to ``pieces``; nested blocks go to ``blocks``."""
    stack = [node]
    while stack:
        n = stack.pop()
        for child in reversed(n.get("childNodes") or []):
            if not isinstance(child, dict):
                continue
            if child.get("type") == 3 and isinstance(child.get("textContent"), str):
                pieces.append(child)  # reversed push + pop below keeps document order
            elif child.get("type") == 2 and _tag(child) in INLINE_TAGS:
                stack.append(child)
            elif child.get("type") == 2:
                blocks.append(child)
    pieces.reverse()


def mask_joined(root: Node, detectors: Sequence[Detector], count: Callable[[str, int | None], None]) -> None:
    """Mask findings that span adjacent text nodes anywhere under ``root`` (in place).

    ``count(kind, node_id)`` is called once per such finding (node id of its first text node).
    """
    stack = [root]
    while stack:
        node = stack.pop()
        kids = node.get("childNodes")
        if not isinstance(kids, list) or not kids or _tag(node) in _SKIP:
            continue
        run: list[Node] = []
        for child in kids:
            if not isinstance(child, dict):
                continue
            if child.get("type") == 3 and isinstance(child.get("textContent"), str):
                run.append(child)
            elif child.get("type") == 2 and _tag(child) in INLINE_TAGS:
                inner: list[Node] = []
                _collect(child, inner, stack)
                run.extend(inner)
            else:
                _mask_run(run, detectors, count)
                run = []
                stack.append(child)
        _mask_run(run, detectors, count)


def _mask_run(run: list[Node], detectors: Sequence[Detector], count: Callable[[str, int | None], None]) -> None:
    if len(run) < 2:
        return
    texts = [n["textContent"] for n in run]
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t)
    joined = "".join(texts)
    for f in resolve(find_all(joined, detectors)):
        touched = [i for i, s in enumerate(starts) if s < f.end and s + len(texts[i]) > f.start]
        if len(touched) < 2:
            continue  # inside one node: the per-node pass masked it already
        for i in touched:
            t, s = texts[i], starts[i]
            lo, hi = max(f.start - s, 0), min(f.end - s, len(t))
            texts[i] = t[:lo] + "".join(c if c.isspace() else MASK_CHAR for c in t[lo:hi]) + t[hi:]
        count(f.kind, run[touched[0]].get("id"))
    for n, t in zip(run, texts):
        n["textContent"] = t
