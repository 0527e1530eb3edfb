"""Heatmap backdrops keep only text that enough sessions share (k-anonymity on page text)."""

from __future__ import annotations

import hashlib
import uuid

from replayvault import heatmaps
from replayvault.privacy.common_text import blank_unshared, shared_texts, texts
from replayvault.projects_setup import ensure_project
from replayvault.ingest.service import accept_batch
from replayvault.ingest.validate import IngestRequest


def page(name: str, balance: str) -> dict:
    """A serialized rrweb document: shared chrome plus one customer's greeting and balance."""
    def el(tag, children, **attrs):  # type: ignore[no-untyped-def]
        el.n += 1
        return {"type": 2, "id": el.n, "tagName": tag, "attributes": attrs, "childNodes": children}

    def tx(text):  # type: ignore[no-untyped-def]
        el.n += 1
        return {"type": 3, "id": el.n, "textContent": text}

    el.n = 1
    body = el("body", [
        el("style", [tx("h1 { color: red }")]),
        el("h1", [tx(f"Welcome back, {name}")]),
        el("p", [tx(balance)], title=f"Balance of {name}"),
        el("button", [tx("Send transfer")], **{"aria-label": "Send transfer"}),
        el("input", [], placeholder="IBAN"),
    ])
    return {"type": 0, "id": 1, "childNodes": [el("html", [body])]}


CUSTOMERS = [("Jonas Weber", "EUR 48,213.07"), ("Anna Schmidt", "EUR 1,020.00"), ("Li Wei", "EUR 3.50")]


def test_shared_text_survives_and_customer_text_is_starred() -> None:
    sets = [texts(page(n, b)) for n, b in CUSTOMERS]
    keep = shared_texts(sets, 3)
    css = "css:" + hashlib.sha256(b"h1 { color: red }").hexdigest()  # the same stylesheet in every session
    assert keep == {"Send transfer", "IBAN", css}
    out = blank_unshared(page(*CUSTOMERS[0]), keep)
    flat = repr(out)
    assert "Jonas" not in flat and "48,213" not in flat
    assert "Send transfer" in flat and "IBAN" in flat and "h1 { color: red }" in flat  # CSS kept
    h1 = out["childNodes"][0]["childNodes"][0]["childNodes"][1]["childNodes"][0]["textContent"]
    assert h1 == "******* ***** ***** *****"  # same length, spaces kept: the layout holds


def test_fewer_sessions_than_k_keep_no_text() -> None:
    sets = [texts(page(n, b)) for n, b in CUSTOMERS[:2]]
    assert shared_texts(sets, 3) == set()
    assert shared_texts(sets, 2) == {"Send transfer", "IBAN", "css:" + hashlib.sha256(b"h1 { color: red }").hexdigest()}


def test_heatmap_backdrop_never_shows_one_customers_text(rt, monkeypatch) -> None:
    seen: list[list] = []
    monkeypatch.setattr(heatmaps, "render_backdrop", lambda events, width, _h: seen.append(events))
    heatmaps._BACKDROPS.clear()
    project = ensure_project(rt, "p", "P", [])
    url = "https://bank.example/accounts"
    for i, (name, balance) in enumerate(CUSTOMERS):
        events = [{"type": 4, "timestamp": 1_700_000_000_000 + i, "data": {"href": url, "width": 1280, "height": 800}},
                  {"type": 2, "timestamp": 1_700_000_000_001 + i, "data": {"node": page(name, balance),
                                                                        "initialOffset": {"top": 0, "left": 0}}}]
        accept_batch(rt, project, IngestRequest(str(uuid.uuid4()), 0, events, ""))
        heatmaps._backdrop(rt, url, None, None)
    first, second, third = (repr(e) for e in seen)
    # One and two sessions: no text at all; three: the shared chrome, never the newest customer's name.
    assert "Anna" not in second and "Send transfer" not in first and "Send transfer" not in second
    assert "Li Wei" not in third and "EUR 3.50" not in third and "Send transfer" in third


def test_attributes_ids_classes_and_css_of_one_customer_are_not_kept() -> None:
    def doc(name: str) -> dict:
        style = {"type": 2, "id": 3, "tagName": "style", "attributes": {},
                 "childNodes": [{"type": 3, "id": 4, "textContent": f".who::after {{ content: \"{name}\" }} p {{ margin: 0 }}"}]}
        div = {"type": 2, "id": 5, "tagName": "div", "childNodes": [], "attributes": {
            "id": f"customer-{name}", "class": f"card owner-{name}", "data-name": name, "aria-description": name,
            "style": "color: red", "role": "note"}}
        img = {"type": 2, "id": 6, "tagName": "img", "childNodes": [], "attributes": {
            "src": "data:image/svg+xml;utf8,<svg><text>" + name + "</text></svg>", "width": "10"}}
        return {"type": 0, "id": 1, "childNodes": [{"type": 2, "id": 2, "tagName": "body", "attributes": {},
                                                    "childNodes": [style, div, img]}]}

    keep = shared_texts([texts(doc(n)) for n in ("jane", "omar", "li")], 3)
    out = blank_unshared(doc("jane"), keep)
    body = out["childNodes"][0]["childNodes"]
    # the unshared stylesheet (it names the customer) is emptied; the shared class "card" and layout
    # attributes stay; the customer's id and class token are starred, data-* and aria-description
    # dropped; the SVG data image (it can hold text) is dropped
    assert body[0]["childNodes"][0]["textContent"] == ""
    assert body[1]["attributes"] == {"id": "*************", "class": "card **********", "style": "color: red",
                                     "role": "note"}
    assert body[2]["attributes"] == {"width": "10"}


def test_deep_snapshots_are_copied_without_recursion() -> None:
    from replayvault.privacy.common_text import MAX_DEPTH

    deep: dict = {"type": 3, "id": 0, "textContent": "x"}
    for i in range(5000):
        deep = {"type": 2, "id": i + 1, "tagName": "div", "attributes": {}, "childNodes": [deep]}
    out = blank_unshared(deep, set())
    depth, n = 0, out
    while n.get("childNodes"):
        n, depth = n["childNodes"][0], depth + 1
    assert depth == MAX_DEPTH  # cut below MAX_DEPTH levels, no RecursionError
