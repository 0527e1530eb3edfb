"""Per-session node map used by masking: what each rrweb node id is, never what it contains.

The map survives between batches as JSON (:meth:`MaskState.to_dict`), so a mutation in batch 5
knows the password field serialized in batch 1. It is reset by every FullSnapshot, because
rrweb assigns fresh ids when it takes a new snapshot (checkout or page load).

Stored per node id: tag (``#text`` for text nodes), input type, parent id and flags:

===  ===========================================================================
m    masked: rr-mask subtree, or the browser already masked it (all ``*``)
p    ever ``type=password`` (stays set after "show password")
t    textarea          s  select          o  option
v    text node whose text is a form value (child of textarea or option)
x    removed script, or inside one: later mutations targeting it are dropped
b    rr-block element or inside one: content added inside it is dropped
d    content dropped from a blocked element: later mutations targeting it are dropped
===  ===========================================================================
"""

from __future__ import annotations

from typing import Any

from ..errors import MalformedState

__all__ = ["MaskState", "MalformedState", "NodeInfo", "Flag"]

STATE_VERSION = 1


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

    #: Flags a child inherits from its parent.
    INHERITED = MASKED | VALUE_TEXT | SCRIPT | BLOCKED | DROPPED
    #: Flags that outlive a ``removes`` entry (the node may come back; ids are not reused).
    STICKY = PASSWORD | SCRIPT | DROPPED | HINT
    #: Targets whose later mutations are dropped.
    GONE = SCRIPT | DROPPED


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
)
_BY_LETTER = {letter: bit for bit, letter in _LETTERS}


class NodeInfo:
    """What masking knows about one node: tag, input type, parent id, flags."""

    __slots__ = ("tag", "input_type", "parent", "flags")

    def __init__(self, tag: str, input_type: str | None, parent: int | None, flags: int) -> None:
        self.tag = tag
        self.input_type = input_type
        self.parent = parent
        self.flags = flags

    def has(self, flag: int) -> bool:
        """True when any bit of ``flag`` is set."""
        return bool(self.flags & flag)

    def __repr__(self) -> str:
        return f"NodeInfo({self.tag!r}, {self.input_type!r}, parent={self.parent}, flags={_letters(self.flags)!r})"


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
    """Per-session node map (see module docstring). Holds no personal data."""

    def __init__(self) -> None:
        self._nodes: dict[int, NodeInfo] = {}
        self._children: dict[int, set[int]] | None = None  # built on the first remove
        #: Highest node id seen since the last full snapshot (rrweb ids only grow within one page).
        self.max_id: int | None = None

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def get(self, node_id: object) -> NodeInfo | None:
        """The node's info, or None when the id is unknown (or not an int)."""
        return self._nodes.get(node_id) if isinstance(node_id, int) else None  # type: ignore[arg-type]

    def reset(self) -> None:
        """Forget every node (a FullSnapshot starts a new id space)."""
        self._nodes.clear()
        self._children = None
        self.max_id = 0

    def saw(self, node_id: int) -> None:
        """Note that a node with this id was serialized (plain nodes are not stored one by one)."""
        if self.max_id is not None and node_id > self.max_id:
            self.max_id = node_id

    def knows(self, node_id: object) -> bool:
        """True when the id belongs to a node serialized since the last full snapshot of this state.

        False when the state never saw the page's full snapshot (batches out of order, state lost,
        another window): masking then has to assume the worst.
        """
        if not isinstance(node_id, int):
            return False
        return node_id in self._nodes or (self.max_id is not None and 0 < node_id <= self.max_id)

    def put(self, node_id: int, tag: str, input_type: str | None, parent: int | None, flags: int) -> NodeInfo:
        """Record a node, keeping sticky flags of an earlier record with the same id."""
        old = self._nodes.get(node_id)
        if old is not None:
            flags |= old.flags & Flag.STICKY
            if self._children is not None and old.parent is not None and old.parent != parent:
                self._children.get(old.parent, set()).discard(node_id)
        info = NodeInfo(tag, input_type, parent, flags)
        self._nodes[node_id] = info
        self.saw(node_id)
        if self._children is not None and parent is not None:
            self._children.setdefault(parent, set()).add(node_id)
        return info

    def forget(self, node_id: int) -> None:
        """Drop a removed node and its known descendants, except nodes with sticky flags."""
        if self._children is None:
            self._children = {}
            for nid, info in self._nodes.items():
                if info.parent is not None:
                    self._children.setdefault(info.parent, set()).add(nid)
        stack = [node_id]
        while stack:
            nid = stack.pop()
            stack.extend(self._children.pop(nid, ()))
            info = self._nodes.get(nid)
            if info is not None and not info.flags & Flag.STICKY:
                del self._nodes[nid]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: ``{"version": 1, "max_id": int | None, "nodes": {"<id>": [tag, input_type, parent, "flags"]}}``."""
        return {
            "version": STATE_VERSION,
            "max_id": self.max_id,
            "nodes": {str(nid): [i.tag, i.input_type, i.parent, _letters(i.flags)] for nid, i in self._nodes.items()},
        }

    @classmethod
    def from_dict(cls, d: Any) -> MaskState:
        """Rebuild a state written by :meth:`to_dict`; an empty mapping gives a new, empty state.

        Raises:
            MalformedState: wrong version or shape (the message names the first bad entry's id only).
        """
        if isinstance(d, dict) and not d:
            return cls()
        if not isinstance(d, dict) or d.get("version") != STATE_VERSION or not isinstance(d.get("nodes"), dict):
            raise MalformedState(f"mask state must be a mapping with version {STATE_VERSION} and a 'nodes' mapping")
        state = cls()
        max_id = d.get("max_id")
        if max_id is not None and (not isinstance(max_id, int) or isinstance(max_id, bool)):
            raise MalformedState("mask state: 'max_id' must be an integer or null")
        state.max_id = max_id
        for key, row in d["nodes"].items():
            try:
                nid = int(key)
                tag, input_type, parent, letters = row
                ok = isinstance(tag, str) and isinstance(letters, str)
                ok = ok and (input_type is None or isinstance(input_type, str))
                ok = ok and (parent is None or (isinstance(parent, int) and not isinstance(parent, bool)))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                shown = key if isinstance(key, str) and key.isdigit() else "(non-numeric id)"
                raise MalformedState(f"mask state: node entry {shown} is malformed")
            state._nodes[nid] = NodeInfo(tag, input_type, parent, _flags(letters))
        return state
