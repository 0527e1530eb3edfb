"""The tracker's analytics events in Chromium: rv.click's fixed flag, rv.route after SPA route
changes, rv.submit, and replayvault.track() -> rv.event.

The page, the tracker and the collector are all answered by Playwright routes on one made-up
origin (nothing goes to the network); posted batches are collected from the route handler.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from consentkit import stub_answer

ROOT = Path(__file__).resolve().parents[2]
TRACKER_JS = ROOT / "src" / "replayvault" / "web" / "static" / "replayvault.js"
ORIGIN = "http://bank.test"

PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>t</title></head>
<body style="margin:0">
  <div id="top" style="position:fixed;top:0;left:0;right:0;height:50px;background:#234">
    <span><button id="help" style="width:100px;height:30px">Help</button></span>
  </div>
  <div id="bar" style="position:sticky;top:50px;height:30px"><a id="sticky-link" href="#s">s</a></div>
  <form id="f" onsubmit="event.preventDefault()" style="margin-top:100px">
    <button id="send" type="submit" style="width:200px;height:40px">Send</button>
  </form>
  <div style="height:2000px"></div>
  <script src="{ORIGIN}/t/replayvault.js" data-endpoint="{ORIGIN}" data-write-key="wk_test"></script>
</body></html>"""


@pytest.fixture
def page(chromium: Any) -> Iterator[tuple[Any, list[dict]]]:
    if not TRACKER_JS.is_file():
        pytest.skip("tracker not built (cd tracker && npm run build)")
    posted: list[dict] = []
    context = chromium.new_context()

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(f"{ORIGIN}/api/v1/consent"):  # answered as the collector answers a grant
            answer = stub_answer(url.split("?")[0], json.loads(route.request.post_data))
            route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))
        elif url.startswith(f"{ORIGIN}/api/v1/"):
            if url.startswith(f"{ORIGIN}/api/v1/ingest"):
                posted.append(json.loads(route.request.post_data))
            route.fulfill(status=200, content_type="application/json", body='{"ok": true}')
        elif url == f"{ORIGIN}/t/replayvault.js":
            route.fulfill(status=200, content_type="text/javascript", body=TRACKER_JS.read_text())
        elif url.startswith(f"{ORIGIN}/app/"):
            route.fulfill(status=200, content_type="text/html", body=PAGE)
        else:
            route.abort()

    context.route("**/*", handle)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(f"{ORIGIN}/app/pay?step=1", wait_until="domcontentloaded")
    p.wait_for_function("() => window.replayvault && window.replayvault.version")
    yield p, posted
    context.close()
    assert not errors, errors


def _custom(p: Any, posted: list[dict], tag: str, n: int) -> list[Any]:
    """Flush and wait until ``n`` custom events ``tag`` were posted; their payloads in order."""
    deadline = time.monotonic() + 10
    while True:
        p.evaluate("() => replayvault.flush()")
        found = [e["data"]["payload"] for b in posted for e in b["events"]
                 if e["type"] == 5 and e["data"]["tag"] == tag]
        if len(found) >= n or time.monotonic() > deadline:
            return found
        p.wait_for_timeout(100)


def _snapshot_ids(posted: list[dict]) -> dict[str, int]:
    """``id`` attribute -> rrweb node id in the first full snapshot."""
    full = next(e for b in posted for e in b["events"] if e["type"] == 2)
    out: dict[str, int] = {}
    stack = [full["data"]["node"]]
    while stack:
        node = stack.pop()
        if (node.get("attributes") or {}).get("id"):
            out[node["attributes"]["id"]] = node["id"]
        stack.extend(node.get("childNodes") or [])
    return out


@pytest.mark.browser
def test_click_payload_says_fixed_for_fixed_and_sticky_ancestors(page):
    p, posted = page
    p.evaluate("() => replayvault.consent.grant()")
    p.wait_for_function("() => replayvault.stats().recording && !replayvault.stats().paused")
    p.wait_for_timeout(200)  # rrweb starts after DOMContentLoaded
    p.locator("#help").click(position={"x": 25, "y": 15})
    p.locator("#sticky-link").click()
    p.locator("#send").click(position={"x": 50, "y": 10})
    clicks = _custom(p, posted, "rv.click", 3)
    ids = _snapshot_ids(posted)
    assert [(c["id"], c.get("fixed")) for c in clicks] == [(ids["help"], 1), (ids["sticky-link"], 1), (ids["send"], None)]
    assert (clicks[0]["w"], clicks[0]["h"]) == (100, 30)


@pytest.mark.browser
def test_route_changes_submit_and_track(page):
    p, posted = page
    assert p.evaluate("() => replayvault.track('before.consent')") is False  # nothing before consent
    original = p.evaluate("() => { window.__push = history.pushState; return true; }")
    p.evaluate("() => replayvault.consent.grant()")
    p.wait_for_function("() => replayvault.stats().recording && !replayvault.stats().paused")
    p.wait_for_timeout(200)
    assert p.evaluate("() => history.pushState !== window.__push") and original
    p.evaluate("() => history.pushState({}, '', '/app/pay/confirm?iban=DE00')")
    p.evaluate("() => history.pushState({}, '', '/app/pay/confirm?iban=DE00')")  # same href: nothing
    p.evaluate("() => history.replaceState({}, '', '/app/pay/confirm#review')")
    p.evaluate("() => { location.hash = 'sign'; }")  # popstate and hashchange: one event
    p.wait_for_timeout(100)
    p.evaluate("() => history.back()")                  # popstate back to #review
    p.wait_for_function("() => location.hash === '#review'")
    p.locator("#send").click()
    tracked = p.evaluate("""() => [replayvault.track('transfer.confirmed'), replayvault.track('bad name'),
                                   replayvault.track('x'.repeat(65)), replayvault.track(42), replayvault.track('a:b-c_1')]""")
    assert tracked == [True, False, False, False, True]
    routes = _custom(p, posted, "rv.route", 4)
    assert [r["href"] for r in routes] == [
        f"{ORIGIN}/app/pay/confirm?iban=DE00", f"{ORIGIN}/app/pay/confirm#review",
        f"{ORIGIN}/app/pay/confirm#sign", f"{ORIGIN}/app/pay/confirm#review"]
    ids = _snapshot_ids(posted)
    assert _custom(p, posted, "rv.submit", 1) == [{"id": ids["f"]}]
    assert _custom(p, posted, "rv.event", 2) == [{"name": "transfer.confirmed"}, {"name": "a:b-c_1"}]
    # the page size is measured again after a route change (for the new route's scroll depth)
    p.wait_for_timeout(400)
    p.evaluate("() => replayvault.flush()")
    tags = [e["data"]["tag"] for b in sorted(posted, key=lambda b: b["seq"]) for e in b["events"] if e["type"] == 5]
    last_route = max(i for i, tag in enumerate(tags) if tag == "rv.route")
    assert "rv.page" in tags[last_route:]
    p.evaluate("() => replayvault.consent.revoke()")
    assert p.evaluate("() => history.pushState === window.__push")  # our wrapper is gone
    assert p.evaluate("() => replayvault.track('after.revoke')") is False
