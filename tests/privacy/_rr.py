"""Tiny builders for hand-written rrweb fixtures (rrweb 2.x shapes; ids chosen by the test)."""

from __future__ import annotations

import json
from typing import Any, Iterator

BODY = 3


def el(nid: int, tag: str, attrs: dict[str, Any] | None = None, *children: dict[str, Any]) -> dict[str, Any]:
    return {"type": 2, "id": nid, "tagName": tag, "attributes": dict(attrs or {}), "childNodes": list(children)}


def tx(nid: int, text: str) -> dict[str, Any]:
    return {"type": 3, "id": nid, "textContent": text}


def full(*body: dict[str, Any], ts: int = 1000) -> dict[str, Any]:
    """FullSnapshot: document(1) > html(2) > body(3) > body children."""
    html = el(2, "html", {}, el(BODY, "body", {}, *body))
    return {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [html]}, "initialOffset": {"top": 0, "left": 0}}, "timestamp": ts}


def mutation(adds=(), removes=(), texts=(), attributes=(), ts: int = 2000) -> dict[str, Any]:
    data = {"source": 0, "adds": list(adds), "removes": list(removes), "texts": list(texts), "attributes": list(attributes)}
    return {"type": 3, "data": data, "timestamp": ts}


def add(parent: int, node: dict[str, Any], next_id: int | None = None) -> dict[str, Any]:
    return {"parentId": parent, "nextId": next_id, "node": node}


def input_ev(nid: int, text: str, checked: bool = False, ts: int = 3000) -> dict[str, Any]:
    return {"type": 3, "data": {"source": 5, "text": text, "isChecked": checked, "id": nid}, "timestamp": ts}


def meta(href: str) -> dict[str, Any]:
    return {"type": 4, "data": {"href": href, "width": 1280, "height": 800}, "timestamp": 900}


def nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every serialized node in an event or node tree (snapshot nodes and mutation adds)."""
    stack = [tree]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            if "type" in obj and "id" in obj and ("tagName" in obj or "textContent" in obj or "childNodes" in obj):
                yield obj
            stack.extend(obj.values())
        elif isinstance(obj, list):
            stack.extend(obj)


def node(events: Any, nid: int) -> dict[str, Any]:
    for n in nodes(events):
        if n["id"] == nid:
            return n
    raise KeyError(nid)


def roundtrip(state_dict: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(state_dict))
