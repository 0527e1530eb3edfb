"""Page text that many sessions share: the only text a heatmap backdrop may show.

A heatmap is an aggregate, open to roles that may not read recordings. Its backdrop is rebuilt
from one session's masked full snapshot, and the page text a site forgot to mark ``rr-mask``
(a greeting with the customer's name, a balance) would otherwise show one customer's data. The rule
here is k-anonymity on text: a text node (or a ``title``/``alt``/``aria-label``/``placeholder``/
``value`` attribute) is kept only when at least ``k`` different sessions showed exactly the same
text on that page; every other character except whitespace becomes ``*``. Template text —
navigation, labels, button captions — is shared by every visitor and survives; what differs
between customers does not. With fewer than ``k`` sessions, no text survives.

Node shapes are rrweb's serialized nodes (``rrweb-snapshot``: type 0 Document, 2 Element, 3 Text).
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any, Iterator

__all__ = ["TEXT_ATTRIBUTES", "texts", "shared_texts", "blank_unshared"]

#: Attributes whose values are page text a person reads.
TEXT_ATTRIBUTES = ("title", "alt", "aria-label", "placeholder", "value")
_CODE_PARENTS = {"style", "script", "noscript"}  # CSS is not page text: keep it (the page's look)

Node = dict[str, Any]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _walk(node: Node, parent_tag: str = "") -> Iterator[tuple[Node, str]]:
    yield node, parent_tag
    tag = str(node.get("tagName", "")).lower() if node.get("type") == 2 else parent_tag
    for child in node.get("childNodes") or []:
        if isinstance(child, dict):
            yield from _walk(child, tag)


def texts(node: Node) -> set[str]:
    """Normalized (whitespace-collapsed) texts of a snapshot: text nodes and :data:`TEXT_ATTRIBUTES` values."""
    out: set[str] = set()
    for n, parent in _walk(node):
        if n.get("type") == 3 and parent not in _CODE_PARENTS and isinstance(n.get("textContent"), str):
            out.add(_norm(n["textContent"]))
        elif n.get("type") == 2:
            attrs = n.get("attributes") or {}
            out.update(_norm(attrs[a]) for a in TEXT_ATTRIBUTES if isinstance(attrs.get(a), str))
    out.discard("")
    return out


def shared_texts(per_session: list[set[str]], k: int) -> set[str]:
    """Texts that at least ``k`` of the sessions' text sets contain (empty when fewer than ``k`` sessions)."""
    if len(per_session) < k:
        return set()
    counts = Counter(t for s in per_session for t in s)
    return {t for t, n in counts.items() if n >= k}


def _star(text: str) -> str:
    return "".join(c if c.isspace() else "*" for c in text)


def blank_unshared(node: Node, keep: set[str]) -> Node:
    """A copy of the snapshot ``node`` where every text not in ``keep`` is replaced by ``*`` (same length)."""
    out = copy.deepcopy(node)
    for n, parent in _walk(out):
        if n.get("type") == 3 and parent not in _CODE_PARENTS and isinstance(n.get("textContent"), str):
            if _norm(n["textContent"]) and _norm(n["textContent"]) not in keep:
                n["textContent"] = _star(n["textContent"])
        elif n.get("type") == 2:
            attrs = n.get("attributes") or {}
            for a in TEXT_ATTRIBUTES:
                if isinstance(attrs.get(a), str) and _norm(attrs[a]) and _norm(attrs[a]) not in keep:
                    attrs[a] = _star(attrs[a])
    return out
