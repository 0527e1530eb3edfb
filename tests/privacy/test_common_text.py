"""Heatmap backdrops keep only text that enough sessions share (k-anonymity on page text)."""

from __future__ import annotations

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
    assert keep == {"Send transfer", "IBAN"}
    out = blank_unshared(page(*CUSTOMERS[0]), keep)
    flat = repr(out)
    assert "Jonas" not in flat and "48,213" not in flat
    assert "Send transfer" in flat and "IBAN" in flat and "h1 { color: red }" in flat  # CSS kept
    h1 = out["childNodes"][0]["childNodes"][0]["childNodes"][1]["childNodes"][0]["textContent"]
    assert h1 == "******* ***** ***** *****"  # same length, spaces kept: the layout holds


def test_fewer_sessions_than_k_keep_no_text() -> None:
    sets = [texts(page(n, b)) for n, b in CUSTOMERS[:2]]
    assert shared_texts(sets, 3) == set()
    assert shared_texts(sets, 2) == {"Send transfer", "IBAN"}


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
