"""Per-session node map used by masking: what each rrweb node id is, where it sits, and the page
text masking already let through.

The map survives between batches as JSON (:meth:`MaskState.to_dict`), so a mutation in batch 5
knows the password field serialized in batch 1. It is reset by every FullSnapshot, because
rrweb assigns fresh ids when it takes a new snapshot (checkout or page load).

Stored per node id: tag (``#text``, ``#style`` for CSS text, ``#comment``, ``#cdata`` for the other
node kinds), input type, parent id, flags, and for plain page text nodes (``#text`` without
masking flags) their text *as stored after masking* — so that text split over several mutations
(``jane.doe`` now, ``@mailbox.org`` later) can be read together (:mod:`.joined`). A text longer
than ``2 * TEXT_EDGE`` characters keeps only its first and last :data:`TEXT_EDGE` characters
around :data:`CUT` (and whitespace-only text becomes one space): a finding split across nodes touches a node's ends, not its middle. The state
therefore holds what the sealed recording holds, nothing more, and is sealed with the same session
key (``ingest.service``); every page text a detector finds later is masked in the state as well.

The children of each parent are kept in document order (rrweb ``nextId``/``previousId``);
:meth:`MaskState.to_dict` lists the nodes so that siblings appear in that order.

Flags (letters are the JSON form):

===  ===========================================================================
m    masked: rr-mask subtree, a policy mask selector, or the browser already masked it
p    ever ``type=password`` (stays set after "show password")
t    textarea          s  select          o  option
v    text node whose text is a form value (child of textarea, option or contenteditable)
x    removed script, or inside one: later mutations targeting it are dropped
b    rr-block element (class, rrweb placeholder or policy block selector) or inside one:
     content added inside it is dropped
d    content dropped from a blocked element: later mutations targeting it are dropped
h    a ``<link>`` whose rel is a resource hint
e    contenteditable element: text under it is user input
k    blocked by the page itself (``rr-block``): content the browser sent anyway is an incident
===  ===========================================================================

Versions: 2 (current) adds text nodes, texts and sibling order; a version 1 state still loads
(its text nodes' texts are unknown, which only means nothing is joined with them).
"""

from __future__ import annotations

from typing import Any, Iterator

from ..errors import MalformedState

__all__ = ["CUT", "MaskState", "MalformedState", "NodeInfo", "Flag", "TEXT_EDGE"]

STATE_VERSION = 2
_READABLE_VERSIONS = (1, 2)
#: Characters kept from each end of a long page text (see the module docstring).
TEXT_EDGE = 100
#: Stands for the cut middle of a long text; no detector pattern matches across it.
CUT = "\x00"


class Flag:
    """Bit flags of :class:`NodeInfo` (letters are the JSON form)."""

    MASKED = 1
    PASSWORD = 2
    TEXTAREA = 4
    SELECT = 8
    OPTION = 16
    VALUE_TEXT = 32
    SCRIPT = 64
    BLOCKED = 128
    DROPPED = 256
    #: A ``<link>`` whose rel is a resource hint (prefetch, preconnect...): it never keeps an href.
    HINT = 512
    #: A contenteditable element: its text is typed by the user.
    EDITABLE = 1024
    #: Blocked by the page (``rr-block`` class or rrweb's placeholder), so the browser should have
    #: sent none of its content; also set on content dropped from such an element.
    PAGE_BLOCK = 2048

    #: Flags a child inherits from its parent.
    INHERITED = MASKED | VALUE_TEXT | SCRIPT | BLOCKED | DROPPED
    #: Flags that outlive a ``removes`` entry (the node may come back; ids are not reused).
    STICKY = PASSWORD | SCRIPT | DROPPED | HINT | PAGE_BLOCK
    #: Targets whose later mutations are dropped.
    GONE = SCRIPT | DROPPED
    #: Text under these is masked whole, so it is neither kept nor joined.
    NOT_PROSE = MASKED | VALUE_TEXT | SCRIPT | BLOCKED | DROPPED


_LETTERS = (
    (Flag.MASKED, "m"),
    (Flag.PASSWORD, "p"),
    (Flag.TEXTAREA, "t"),
    (Flag.SELECT, "s"),
    (Flag.OPTION, "o"),
    (Flag.VALUE_TEXT, "v"),
    (Flag.SCRIPT, "x"),
    (Flag.BLOCKED, "b"),
    (Flag.DROPPED, "d"),
    (Flag.HINT, "h"),
    (Flag.EDITABLE, "e"),
    (Flag.PAGE_BLOCK, "k"),
)
_BY_LETTER = {letter: bit for bit, letter in _LETTERS}


class NodeInfo:
    """What masking knows about one node: tag, input type, parent id, flags, kept page text."""

    __slots__ = ("tag", "input_type", "parent", "flags", "text")

    def __init__(self, tag: str, input_type: str | None, parent: int | None, flags: int,
                 text: str | None = None) -> None:
        self.tag = tag
        self.input_type = input_type
        self.parent = parent
        self.flags = flags
        #: Page text as stored after masking (plain ``#text`` nodes only; see :func:`keep_text`).
        self.text = text

    def has(self, flag: int) -> bool:
        """True when any bit of ``flag`` is set."""
        return bool(self.flags & flag)

    @property
    def prose(self) -> bool:
        """A plain page text node: its text is kept and joined with its neighbours."""
        return self.tag == "#text" and not self.flags & Flag.NOT_PROSE

    def __repr__(self) -> str:
        return f"NodeInfo({self.tag!r}, {self.input_type!r}, parent={self.parent}, flags={_letters(self.flags)!r})"


def keep_text(text: str) -> str:
    """What the state keeps of a page text: all of it, or both ends around :data:`CUT`; a text of
    only whitespace (HTML indentation) as one space, which is how it reads (:mod:`.visible`)."""
    if text.isspace():
        return " "
    if len(text) <= 2 * TEXT_EDGE:
        return text
    return text[:TEXT_EDGE] + CUT + text[-TEXT_EDGE:]


def _letters(flags: int) -> str:
    return "".join(letter for bit, letter in _LETTERS if flags & bit)


def _flags(letters: str) -> int:
    out = 0
    for ch in letters:
        bit = _BY_LETTER.get(ch)
        if bit is None:
            raise MalformedState(f"mask state: unknown flag letter {ch!r}")
        out |= bit
    return out


class MaskState:
    """Per-session node map (see module docstring)."""

    def __init__(self) -> None:
        self._nodes: dict[int, NodeInfo] = {}
        #: parent id -> children ids in document order (only ids present in ``_nodes``).
        self._kids: dict[int, list[int]] = {}
        #: Highest node id seen since the last full snapshot (rrweb ids only grow within one page).
        self.max_id: int | None = None
        #: Every node serialized since the last full snapshot is in the map, so a known id missing
        #: from it was removed. False for a version 1 state (it kept only flagged text nodes) until
        #: the next full snapshot.
        self.complete = True

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def get(self, node_id: object) -> NodeInfo | None:
        """The node's info, or None when the id is unknown (or not an int, or a bool)."""
        if not isinstance(node_id, int) or isinstance(node_id, bool):  # JSON true is not node 1
            return None
        return self._nodes.get(node_id)

    def reset(self) -> None:
        """Forget every node (a FullSnapshot starts a new id space)."""
        self._nodes.clear()
        self._kids.clear()
        self.max_id = 0
        self.complete = True

    def saw(self, node_id: int) -> None:
        """Note that a node with this id was serialized (plain nodes are not stored one by one)."""
        if self.max_id is not None and node_id > self.max_id:
            self.max_id = node_id

    def knows(self, node_id: object) -> bool:
        """True when the id belongs to a node serialized since the last full snapshot of this state.

        False when the state never saw the page's full snapshot (batches out of order, state lost,
        another window): masking then has to assume the worst.
        """
        if not isinstance(node_id, int) or isinstance(node_id, bool):
            return False
        return node_id in self._nodes or (self.max_id is not None and 0 < node_id <= self.max_id)

    def put(self, node_id: int, tag: str, input_type: str | None, parent: int | None, flags: int) -> NodeInfo:
        """Record a node as the last child of ``parent`` (or keep its place when it is already
        there), keeping sticky flags of an earlier record with the same id."""
        old = self._nodes.get(node_id)
        if old is not None:
            flags |= old.flags & Flag.STICKY
            if old.parent != parent:
                self._detach(node_id, old.parent)
        info = NodeInfo(tag, input_type, parent, flags)
        self._nodes[node_id] = info
        self.saw(node_id)
        if parent is not None and (old is None or old.parent != parent):
            self._kids.setdefault(parent, []).append(node_id)
        return info

    def place(self, node_id: int, before: int | None = None, after: int | None = None) -> None:
        """Move a node among its siblings: before ``before`` (rrweb ``nextId``) when that sibling is
        known, else after ``after`` (``previousId`` of older rrweb), else it stays last."""
        info = self._nodes.get(node_id)
        sibs = self._kids.get(info.parent) if info is not None and info.parent is not None else None
        if not sibs or (before is None and after is None):
            return
        anchor, offset = (before, 0) if before is not None and before in sibs else (after, 1)
        if anchor is None or anchor not in sibs or anchor == node_id:
            return
        sibs.remove(node_id)
        sibs.insert(sibs.index(anchor) + offset, node_id)

    def children(self, node_id: int) -> list[int]:
        """The known children of a node, in document order (do not modify the list)."""
        return self._kids.get(node_id, [])

    def descendants(self, node_id: int) -> Iterator[int]:
        """Every known descendant of a node, once (depth first, document order; malformed adds
        can make parent links circular)."""
        seen = {node_id}
        stack = list(reversed(self._kids.get(node_id, ())))
        while stack:
            nid = stack.pop()
            if nid in seen:
                continue
            seen.add(nid)
            yield nid
            stack.extend(reversed(self._kids.get(nid, ())))

    def set_text(self, node_id: int, text: str) -> None:
        """Keep a page text node's text (as stored after masking; trimmed by :func:`keep_text`)."""
        info = self._nodes.get(node_id)
        if info is not None:
            info.text = keep_text(text) if info.prose else None

    def _detach(self, node_id: int, parent: int | None) -> None:
        sibs = self._kids.get(parent) if parent is not None else None
        if sibs is not None and node_id in sibs:
            sibs.remove(node_id)

    def forget(self, node_id: int) -> None:
        """Drop a removed node and its known descendants, except nodes with sticky flags (which
        stay known but detached: parent None, no text)."""
        info = self._nodes.get(node_id)
        if info is not None:
            self._detach(node_id, info.parent)
        stack = [node_id]
        while stack:
            nid = stack.pop()
            stack.extend(self._kids.pop(nid, ()))
            info = self._nodes.get(nid)
            if info is None:
                continue
            if info.flags & Flag.STICKY:
                info.parent, info.text = None, None
            else:
                del self._nodes[nid]

    def _ordered(self) -> Iterator[tuple[int, NodeInfo]]:
        """Every node once, the children of each parent together and in document order."""
        done: set[int] = set()
        for nid, info in self._nodes.items():
            if nid in done:
                continue
            group = self._kids.get(info.parent, []) if info.parent is not None else []
            if nid not in group:
                group = [nid]
            for kid in group:
                done.add(kid)
                yield kid, self._nodes[kid]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"version": 2, "max_id": int | None, "nodes": {"<id>": [tag,
        input_type, parent, "flags"] or [tag, input_type, parent, "flags", text]}}``, the children
        of each parent listed in document order; ``"partial": true`` is added while a state loaded
        from version 1 is not :attr:`complete`."""
        nodes: dict[str, list[Any]] = {}
        for nid, i in self._ordered():
            row: list[Any] = [i.tag, i.input_type, i.parent, _letters(i.flags)]
            if i.text is not None:
                row.append(i.text)
            nodes[str(nid)] = row
        out: dict[str, Any] = {"version": STATE_VERSION, "max_id": self.max_id, "nodes": nodes}
        if not self.complete:
            out["partial"] = True
        return out

    @classmethod
    def from_dict(cls, d: Any) -> MaskState:
        """Rebuild a state written by :meth:`to_dict` (version 1 or 2); an empty mapping gives a
        new, empty state.

        Raises:
            MalformedState: wrong version or shape (the message names the first bad entry's id only).
        """
        if isinstance(d, dict) and not d:
            return cls()
        if not isinstance(d, dict) or d.get("version") not in _READABLE_VERSIONS or not isinstance(d.get("nodes"), dict):
            raise MalformedState(f"mask state must be a mapping with version {STATE_VERSION} and a 'nodes' mapping")
        state = cls()
        max_id = d.get("max_id")
        if max_id is not None and (not isinstance(max_id, int) or isinstance(max_id, bool)):
            raise MalformedState("mask state: 'max_id' must be an integer or null")
        state.max_id = max_id
        state.complete = d["version"] >= 2 and d.get("partial") is not True
        for key, row in d["nodes"].items():
            info = _row(key, row, d["version"])
            nid = int(key)
            state._nodes[nid] = info
            if info.parent is not None:
                state._kids.setdefault(info.parent, []).append(nid)
        return state


def _row(key: Any, row: Any, version: int) -> NodeInfo:
    """One ``nodes`` entry; raises :class:`MalformedState` naming the id (never the text)."""
    try:
        int(key)
        tag, input_type, parent, letters, *rest = row
        ok = isinstance(tag, str) and isinstance(letters, str) and len(rest) <= (1 if version >= 2 else 0)
        ok = ok and (input_type is None or isinstance(input_type, str))
        ok = ok and (parent is None or (isinstance(parent, int) and not isinstance(parent, bool)))
        ok = ok and all(isinstance(t, str) for t in rest)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        shown = key if isinstance(key, str) and key.isdigit() else "(non-numeric id)"
        raise MalformedState(f"mask state: node entry {shown} is malformed")
    return NodeInfo(tag, input_type, parent, _flags(letters), rest[0] if rest else None)
