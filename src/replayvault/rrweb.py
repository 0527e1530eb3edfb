"""The rrweb event model and parsers for recordings exported by rrweb and PostHog.

Numbers follow rrweb's ``@rrweb/types`` (https://github.com/rrweb-io/rrweb/blob/master/packages/types/src/index.ts)
and ``rrweb-snapshot`` ``NodeType``. Older rrweb 0.x/1.x exports (PostHog 2020) use the same numbers for
the types that existed then.
"""

from __future__ import annotations

import json
from enum import IntEnum
from pathlib import Path
from typing import Any, Iterable

from .errors import UnsupportedFormat
from .types import Event

__all__ = [
    "EventType",
    "IncrementalSource",
    "MouseInteractions",
    "NodeType",
    "parse_recording",
    "load_recording",
    "is_event",
]


class EventType(IntEnum):
    """rrweb ``EventType``: the ``type`` field of every event."""

    DomContentLoaded = 0
    Load = 1
    FullSnapshot = 2
    IncrementalSnapshot = 3
    Meta = 4
    Custom = 5
    Plugin = 6


class IncrementalSource(IntEnum):
    """rrweb ``IncrementalSource``: ``data.source`` of an IncrementalSnapshot event."""

    Mutation = 0
    MouseMove = 1
    MouseInteraction = 2
    Scroll = 3
    ViewportResize = 4
    Input = 5
    TouchMove = 6
    MediaInteraction = 7
    StyleSheetRule = 8
    CanvasMutation = 9
    Font = 10
    Log = 11
    Drag = 12
    StyleDeclaration = 13
    Selection = 14
    AdoptedStyleSheet = 15


class MouseInteractions(IntEnum):
    """rrweb ``MouseInteractions``: ``data.type`` of a MouseInteraction event."""

    MouseUp = 0
    MouseDown = 1
    Click = 2
    ContextMenu = 3
    DblClick = 4
    Focus = 5
    Blur = 6
    TouchStart = 7
    TouchMove_Departed = 8
    TouchEnd = 9
    TouchCancel = 10


class NodeType(IntEnum):
    """rrweb-snapshot ``NodeType``: ``type`` of a serialized node."""

    Document = 0
    DocumentType = 1
    Element = 2
    Text = 3
    CDATA = 4
    Comment = 5


def is_event(obj: Any) -> bool:
    """True when ``obj`` looks like one rrweb event: a dict with int ``type`` 0..6 and numeric ``timestamp``."""
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("type"), int)
        and not isinstance(obj.get("type"), bool)
        and 0 <= obj["type"] <= 6
        and isinstance(obj.get("timestamp"), (int, float))
        and not isinstance(obj.get("timestamp"), bool)
    )


def _checked(events: Iterable[Any], where: str) -> list[Event]:
    out: list[Event] = []
    for i, ev in enumerate(events):
        if not is_event(ev):
            raise UnsupportedFormat(f"{where}: item {i} is not an rrweb event (needs int 'type' 0-6 and numeric 'timestamp')")
        out.append(ev)
    return out


def parse_recording(doc: Any) -> dict[str, list[Event]]:
    """Split a decoded recording into rrweb event lists, one per browser window.

    Accepted shapes:

    * a plain rrweb event array ``[event, ...]`` -> ``{"": events}``;
    * a PostHog export ``{"result": [event, ...]}`` -> ``{"": events}``;
    * a PostHog ``{"snapshot_data_by_window_id": {window_id: [event, ...]}}`` -> one list per window
      (PostHog wraps events as ``{"data": event}`` in some versions; both forms are accepted).

    Events in each list are sorted by ``timestamp`` (stable).

    Raises:
        UnsupportedFormat: the shape is none of the above, or an item is not an rrweb event.
    """
    if isinstance(doc, list):
        windows = {"": _checked(doc, "event array")}
    elif isinstance(doc, dict) and isinstance(doc.get("result"), list):
        windows = {"": _checked(doc["result"], "result")}
    elif isinstance(doc, dict) and isinstance(doc.get("result"), dict) and "snapshot_data_by_window_id" in doc["result"]:
        return parse_recording(doc["result"])
    elif isinstance(doc, dict) and isinstance(doc.get("snapshot_data_by_window_id"), dict):
        windows = {}
        for wid, items in doc["snapshot_data_by_window_id"].items():
            if not isinstance(items, list):
                raise UnsupportedFormat(f"snapshot_data_by_window_id[{wid!r}] is not a list")
            unwrapped = [it["data"] if isinstance(it, dict) and "type" not in it and isinstance(it.get("data"), dict) else it for it in items]
            windows[str(wid)] = _checked(unwrapped, f"window {wid!r}")
    else:
        raise UnsupportedFormat(
            "expected an rrweb event array, a PostHog export {'result': [...]} "
            "or {'snapshot_data_by_window_id': {...}}"
        )
    return {w: sorted(evs, key=lambda e: e["timestamp"]) for w, evs in windows.items()}


def load_recording(path: Path) -> dict[str, list[Event]]:
    """Read a recording file (JSON) and return :func:`parse_recording` of it.

    Raises:
        UnsupportedFormat: the file is not JSON or not a supported shape.
        OSError: the file cannot be read.
    """
    try:
        doc = json.loads(Path(path).read_bytes())
    except json.JSONDecodeError as exc:
        raise UnsupportedFormat(f"{Path(path).name}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    return parse_recording(doc)
