"""Hostile markup in a recording is neutralized on ingest and never runs in the replay page."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from replayvault.projects_setup import ensure_project
from replayvault.recordings import session_events
from conftest import ARTIFACTS, block_outside
from consentkit import post_batch
from staff import add_staff, browser_login, browser_open_replay

TS = 1_700_000_000_000


def _hostile_events() -> list[dict]:
    el = lambda i, tag, attrs, kids=(): {"type": 2, "id": i, "tagName": tag, "attributes": attrs, "childNodes": list(kids)}  # noqa: E731
    text = lambda i, t: {"type": 3, "id": i, "textContent": t}  # noqa: E731
    body = el(4, "body", {"onload": "window.__pwned='body'"}, [
        el(5, "h1", {}, [text(6, "Hostile page")]),
        el(7, "script", {}, [text(8, "window.__pwned='script'; alert('script')")]),
        el(9, "img", {"src": "data:,x", "onerror": "window.__pwned='onerror'; alert('onerror')"}),
        el(10, "a", {"href": "javascript:window.__pwned='link';alert('link')", "id": "lnk"}, [text(11, "click me")]),
        el(12, "iframe", {"srcdoc": "<script>parent.__pwned='srcdoc';alert('srcdoc')</script>"}),
    ])
    doc = {"type": 0, "id": 1, "childNodes": [el(2, "html", {}, [el(3, "head", {}), body])]}
    return [
        {"type": 4, "data": {"href": "https://bank.example/hostile", "width": 1024, "height": 600}, "timestamp": TS},
        {"type": 2, "data": {"node": doc, "initialOffset": {"top": 0, "left": 0}}, "timestamp": TS + 10},
        {"type": 3, "data": {"source": 0, "adds": [{"parentId": 4, "nextId": None,
                  "node": el(20, "script", {"src": "https://evil.example/x.js"}, [])}],
                  "removes": [], "texts": [], "attributes": [{"id": 5, "attributes": {"onclick": "alert('mut')"}}]},
         "timestamp": TS + 500},
        {"type": 3, "data": {"source": 1, "positions": [{"x": 10, "y": 10, "id": 5, "timeOffset": 0}]}, "timestamp": TS + 2000},
    ]


def test_ingest_strips_scripts_handlers_javascript_urls_and_srcdoc(rt) -> None:
    from fastapi.testclient import TestClient

    from replayvault.web.app import create_app

    project = ensure_project(rt, "p", "P", [])
    sid = str(uuid.uuid4())
    r = post_batch(TestClient(create_app(rt)), {"session_id": sid, "seq": 0, "events": _hostile_events()},
                   {"X-Replayvault-Key": project.write_key})
    assert r.status_code == 200, r.text
    stored = json.dumps(session_events(rt, sid)).lower()
    for needle in ("<script", '"script"', "onerror", "onload", "onclick", "javascript:", "srcdoc", "__pwned", "evil.example"):
        assert needle not in stored, needle


@pytest.mark.browser
def test_replay_page_runs_none_of_it(rt, live_server, chromium) -> None:
    project = ensure_project(rt, "p", "P", [])
    sid = str(uuid.uuid4())
    with httpx.Client(base_url=live_server) as http:  # consent receipt, then the batch with its token
        r = post_batch(http, {"session_id": sid, "seq": 0, "events": _hostile_events()},
                       {"X-Replayvault-Key": project.write_key})
    assert r.status_code == 200, r.text

    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    block_outside(context)
    page = context.new_page()
    dialogs, logs, outside = [], [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: logs.append(m.text))
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith((live_server, "data:", "about:", "blob:")) else None)
    browser_login(page, live_server, add_staff(rt, "sec", ["security_specialist"]))
    browser_open_replay(page, live_server, sid, "fraud_investigation", "FRAUD-7")
    page.evaluate("window.replayvaultPlayer.getReplayer().play(0)")
    page.wait_for_timeout(2500)
    frame_el = page.query_selector("#player iframe")
    assert frame_el is not None
    sandbox = frame_el.get_attribute("sandbox") or ""
    assert "allow-scripts" not in sandbox
    frame = frame_el.content_frame()
    assert frame.query_selector("h1").inner_text() == "Hostile page"
    # The link is still there but points nowhere; clicking it runs nothing.
    frame.click("#lnk", timeout=2000, force=True)
    page.wait_for_timeout(300)
    pwned = page.evaluate("window.__pwned || null")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "replay-hostile.png"), full_page=True)
    context.close()
    assert dialogs == []
    assert pwned is None
    assert not any("pwned" in m or "alert" in m for m in logs), logs
    assert outside == []
