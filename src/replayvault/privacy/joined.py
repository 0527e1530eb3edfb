"""Personal data split across adjacent text nodes: ``<b>jane.doe</b>@bank.com``.

Each text node is checked on its own first (:mod:`.masking`); this pass joins the text of a run
of sibling inline content — text nodes and the text inside inline elements (``b``, ``span``,
``a``…) up to the next block element — runs the detectors on the joined string, and masks the
characters of every finding that spans more than one node (findings inside one node were
already masked). Whitespace inside a finding stays, as rrweb's ``maskTextFn`` keeps it.

Two forms of the same rule:

* :func:`mask_joined` reads one serialized tree (a full snapshot, one ``adds`` entry): rrweb's
  serialized nodes (type 2 Element, 3 Text).
* :func:`mask_joined_state` reads the session's node map (:class:`~.state.MaskState`), which keeps
  the children of every node in order and the text of page text nodes: a value typed or rendered
  over several mutations (``jane.doe`` added now, ``@mailbox.org`` in a later event or batch, or
  card groups updated one ``<span>`` at a time) is read together with the text already recorded
  next to it. Nodes whose text appears in the batch being masked are masked there; text recorded
  in an earlier batch is already stored, so only the state's copy is masked (the finding is still
  counted: it is an incident).
"""

from __future__ import annotations

from typing import Any, Callable, Collection, Sequence

from ._text import MASK_CHAR
from .detectors import Detector, resolve
from .state import MaskState
from .visible import find as find_all

__all__ = ["INLINE_TAGS", "mask_joined", "mask_joined_state"]

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
    for i in _mask_pieces(texts, detectors, lambda kind, first: count(kind, run[first].get("id"))):
        run[i]["textContent"] = texts[i]


def _mask_pieces(texts: list[str], detectors: Sequence[Detector], count: Callable[[str, int], None]) -> set[int]:
    """Mask, in ``texts`` (in place), every finding of the joined text that spans 2+ pieces; call
    ``count(kind, index of its first piece)`` per finding; return the indices of changed pieces."""
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t)
    changed: set[int] = set()
    for f in resolve(find_all("".join(texts), detectors)):
        touched = [i for i, s in enumerate(starts) if s < f.end and s + len(texts[i]) > f.start]
        if len(touched) < 2:
            continue  # inside one node: the per-node pass masked it already
        for i in touched:
            t, s = texts[i], starts[i]
            lo, hi = max(f.start - s, 0), min(f.end - s, len(t))
            texts[i] = t[:lo] + "".join(c if c.isspace() else MASK_CHAR for c in t[lo:hi]) + t[hi:]
        changed.update(touched)
        count(f.kind, touched[0])
    return changed


def _run_root(state: MaskState, node_id: int) -> int | None:
    """The nearest ancestor of a text node that is not an inline element (where its run lives)."""
    info = state.get(node_id)
    parent = info.parent if info is not None else None
    seen = {node_id}
    while parent is not None and parent not in seen:  # malformed adds can make parent links circular
        seen.add(parent)
        pinfo = state.get(parent)
        if pinfo is None or pinfo.tag not in INLINE_TAGS or pinfo.parent is None:
            break
        parent = pinfo.parent
    return parent


def _state_runs(state: MaskState, root: int) -> list[list[int]]:
    """Runs of page text node ids under ``root``: text children and the text inside inline
    children, in document order, cut by block elements and by masked text."""
    runs: list[list[int]] = [[]]
    for kid in state.children(root):
        info = state.get(kid)
        if info is None:
            continue
        if info.prose:
            runs[-1].append(kid)
        elif info.tag in INLINE_TAGS:
            for d in state.descendants(kid):
                dinfo = state.get(d)
                if dinfo is not None and dinfo.prose:
                    runs[-1].append(d)
                elif dinfo is not None and dinfo.tag.startswith("#"):
                    runs.append([])  # masked text, a comment: the run ends
        else:
            runs.append([])
    return [r for r in runs if len(r) >= 2]


def _text_of(state: MaskState, node_id: int, current: Callable[[int], str | None]) -> str:
    text = current(node_id)
    if text is None:
        info = state.get(node_id)
        text = info.text if info is not None and info.text is not None else ""
    return text


def mask_joined_state(state: MaskState, changed: Collection[int], current: Callable[[int], str | None],
                      write: Callable[[int, str], None], detectors: Sequence[Detector],
                      count: Callable[[str, int], None]) -> None:
    """Mask findings split across page text nodes, reading the runs that hold a ``changed`` node
    from ``state``.

    ``current(id)`` is the node's text in the batch being masked (None: use the state's copy);
    ``write(id, text)`` stores a piece after masking; ``count(kind, id)`` is called once per finding
    (id of its first text node).
    """
    roots = {r for nid in changed if (r := _run_root(state, nid)) is not None}
    for root in roots:
        rinfo = state.get(root)
        if rinfo is not None and rinfo.tag in _SKIP:
            continue
        for run in _state_runs(state, root):
            if not any(nid in changed for nid in run):
                continue
            texts = [_text_of(state, nid, current) for nid in run]
            for i in _mask_pieces(texts, detectors, lambda kind, first: count(kind, run[first])):
                write(run[i], texts[i])
