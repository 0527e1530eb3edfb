"""Hand-made rrweb events for the analytics tests; expected numbers are worked out in the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "data" / "recordings"
FILES = ["homepage.json", "docs.json", "mobile-homepage.json", "with-pageviews.json"]


def need_recordings() -> Path:
    """The shared real recordings folder, or skip (a fresh clone has no ../shared)."""
    if not RECORDINGS.is_dir():
        pytest.skip("../shared/data/recordings is not present beside the checkout")
    return RECORDINGS


def el(nid: int, tag: str, children: list[dict[str, Any]] | None = None, **attrs: str) -> dict[str, Any]:
    return {"type": 2, "id": nid, "tagName": tag, "attributes": attrs, "childNodes": children or []}


def snapshot_tree() -> dict[str, Any]:
    """Document 1 > html 3 > (head 4, body 5 > div.main 6 > form#transfer 7 > button.primary 8,
    span 9, button.primary 10)."""
    form = el(7, "form", [el(8, "button", class_="primary"), el(9, "span"), el(10, "button", class_="primary")],
              id="transfer")
    body = el(5, "body", [el(6, "div", [form], class_="main css-1a2b3c")])
    for node in _walk(body):  # python keywords: class_ -> class
        if "class_" in node["attributes"]:
            node["attributes"]["class"] = node["attributes"].pop("class_")
    html = el(3, "html", [el(4, "head"), body])
    return {"type": 0, "id": 1, "childNodes": [{"type": 1, "id": 2, "name": "html"}, html]}


def _walk(node: dict[str, Any]):  # type: ignore[no-untyped-def]
    yield node
    for c in node.get("childNodes", []):
        yield from _walk(c)


def meta(ts: int, href: str = "https://bank.example/pay?acct=1#top", w: int = 1280, h: int = 800) -> dict[str, Any]:
    return {"type": 4, "timestamp": ts, "data": {"href": href, "width": w, "height": h}}


def full(ts: int, top: int = 0) -> dict[str, Any]:
    return {"type": 2, "timestamp": ts, "data": {"node": snapshot_tree(), "initialOffset": {"left": 0, "top": top}}}


def scroll(ts: int, nid: int, y: int, x: int = 0) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 3, "id": nid, "x": x, "y": y}}


def click(ts: int, nid: int, x: int, y: int, kind: int = 2) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": kind, "id": nid, "x": x, "y": y}}


def rv_click(ts: int, nid: int, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"type": 5, "timestamp": ts, "data": {"tag": "rv.click", "payload": {"id": nid, "x": x, "y": y, "w": w, "h": h}}}


def rv_page(ts: int, height: int, width: int = 1280) -> dict[str, Any]:
    return {"type": 5, "timestamp": ts, "data": {"tag": "rv.page", "payload": {"scrollHeight": height, "scrollWidth": width}}}


def resize(ts: int, w: int, h: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 4, "width": w, "height": h}}


def mutation(ts: int, **data: Any) -> dict[str, Any]:
    base = {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": []}
    base.update(data)
    return {"type": 3, "timestamp": ts, "data": base}


def session_events() -> list[dict[str, Any]]:
    """One page view with two clicks, scrolls of the document and of an element, a resize."""
    return [
        meta(1000),
        full(1001, top=100),
        scroll(1100, 1, 300),              # document scroll y = 300
        click(1200, 10, 50, 60),           # page (50, 360)
        rv_click(1250, 10, 5, 6, 80, 30),  # 50 ms later, same target: joined
        scroll(1300, 6, 5000),             # element scroll: ignored
        click(1400, 8, 10, 20),            # page (10, 320)
        rv_click(1420, 10, 1, 1, 1, 1),    # other target: not joined to the click on 8
        rv_click(1550, 8, 3, 4, 70, 20),   # 150 ms later: too late, not joined
        scroll(1600, 1, 1200),             # depth 1200 + 800 = 2000
        scroll(1700, 1, 500),              # depth 1300 < 2000
        rv_page(1800, 3000),
        resize(1900, 1280, 900),           # depth 500 + 900 = 1400 < 2000
    ]
