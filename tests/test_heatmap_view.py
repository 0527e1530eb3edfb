"""The interactive heatmap view: static masked page in a sandboxed iframe, canvas layers from the API."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from conftest import ARTIFACTS, block_outside, free_port
from replayvault import heatmaps
from replayvault.analytics.heatmap import Box
from replayvault.ingest.service import accept_batch
from replayvault.ingest.validate import IngestRequest
from replayvault.projects_setup import ensure_project
from replayvault.render.backdrop import RenderedPage, rrweb_umd_path
from replayvault.web.app import create_app
from replayvault.web.dashboard_analytics import FRAME_CSP
from staff import add_staff, browser_login

URL = "https://bank.example/pay"
T = 1_780_000_000_000
NAMES = ["Alice", "Bob", "Carol", "Dave"]
SEND = "body > button#send"


def el(nid: int, tag: str, children: list | None = None, **attrs: str) -> dict:
    return {"type": 2, "id": nid, "tagName": tag, "attributes": attrs, "childNodes": children or []}


def text(nid: int, value: str) -> dict:
    return {"type": 3, "id": nid, "textContent": value}


def tree(name: str) -> dict:
    """body (margin 0) > div 300 px tall with a greeting, then the 200 x 40 Send button 100 px in:
    its box is (100, 300, 200, 40) on a 1280 px page."""
    body = el(4, "body", [el(5, "div", [text(6, f"Hello {name}")], style="height:300px"),
                          el(7, "button", [text(8, "Send")], id="send",
                             style="display:block;margin-left:100px;width:200px;height:40px;border:0;padding:0"),
                          el(9, "script", [text(10, "steal()")])],
              style="margin:0")
    return {"type": 0, "id": 1, "childNodes": [el(2, "html", [el(3, "head"), body])]}


def rv_click(ts: int, x: float, y: float, nid: int = 7) -> dict:
    return {"type": 5, "timestamp": ts, "data": {"tag": "rv.click", "payload": {"id": nid, "x": x, "y": y, "w": 200, "h": 40}}}


def click(ts: int, x: int, y: int, nid: int = 7) -> dict:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 2, "id": nid, "x": x, "y": y}}


def visit(ts: int, name: str, rage: bool) -> list[dict]:
    """One visitor: clicks Send at 1/4 of its box (page (150, 310)); the rage visitor three times in
    400 ms. A scroll right after counts as the page's reaction, so no click is dead."""
    events = [{"type": 4, "timestamp": ts, "data": {"href": URL, "width": 1280, "height": 800}},
              {"type": 2, "timestamp": ts + 1, "data": {"node": tree(name), "initialOffset": {"left": 0, "top": 0}}}]
    for i in range(3 if rage else 1):
        events += [rv_click(ts + 10 + 200 * i, 50, 10), click(ts + 11 + 200 * i, 150, 310)]
    events.append({"type": 3, "timestamp": ts + 700, "data": {"source": 3, "id": 1, "x": 0, "y": 0}})
    events.append({"type": 3, "timestamp": ts + 2000, "data": {"source": 1, "positions": [
        {"x": 10, "y": 10, "id": 4, "timeOffset": 0}]}})
    return events


@pytest.fixture
def recorded(rt):  # type: ignore[no-untyped-def]
    project = ensure_project(rt, "p", "P", [])
    for i, name in enumerate(NAMES):
        accept_batch(rt, project, IngestRequest(str(uuid.uuid4()), 0, visit(T + i * 60_000, name, rage=i == 3), ""))
    heatmaps._BACKDROPS.clear()
    yield rt
    heatmaps._BACKDROPS.clear()


@pytest.fixture
def fake_render(monkeypatch):  # type: ignore[no-untyped-def]
    """Chromium stand-in: a 1280 x 900 page where the Send button has its CSS box."""
    def render(events, width, height, selectors):  # type: ignore[no-untyped-def]
        return RenderedPage(Image.new("RGB", (width, 900), "white"),
                            {s: Box(100, 300, 200, 40) if s == SEND else None for s in selectors})
    monkeypatch.setattr(heatmaps, "render_page", render)


def test_layers_place_clicks_and_rage_on_the_element(recorded, fake_render):
    body = heatmaps.heatmap_layers(recorded, url=URL)
    assert (body["viewport"], body["width"], body["height"]) == ("desktop", 1280, 900)
    click = body["layers"]["click"]
    # 3 visitors x 1 click + the rage visitor's 3, all on Send at (100 + 0.25*200, 300 + 0.25*40) = (150, 310)
    assert (click["count"], click["anchored"], click["fallback"]) == (6, 6, 0)
    assert (click["cell_px"], click["cols"], click["rows"]) == (8, 160, 113)  # 1280 / 8; ceil(900 / 8)
    hottest = max(range(len(click["values"])), key=click["values"].__getitem__)
    assert divmod(hottest, click["cols"]) == (310 // 8, 150 // 8)  # row 38, col 18
    assert click["values"][hottest] == 255
    # one rage burst of 3 clicks, drawn where its clicks are placed: (150, 310); count = its 3 clicks
    assert body["layers"]["rage"] == {"points": [[150.0, 310.0, 3]], "count": 3}
    assert body["layers"]["dead"] is None
    scroll = body["layers"]["scroll"]
    assert (scroll["page_views"], scroll["fold_px"], scroll["shares"][0]) == (4, 800, 1.0)
    # only the last session's clicks fall in its minute
    window = heatmaps.heatmap_layers(recorded, url=URL, since_ms=T + 180_000, until_ms=T + 240_000)
    assert (window["layers"]["click"]["count"], window["layers"]["rage"]["count"]) == (3, 3)


def test_frame_is_static_shared_text_only_and_sandboxed(recorded):
    ux = add_staff(recorded, "ux", ["ux_analyst"])
    client = TestClient(create_app(recorded))
    r = client.get("/heatmaps/frame", params={"url": URL, "viewport": "desktop"}, headers=ux.headers)
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == FRAME_CSP
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    # the newest snapshot (Dave's) is the reference; every greeting differs (fewer than 3 sessions
    # share it): "Hello Dave" is blanked to "***** ****"; "Send" is shared: kept; the script is gone.
    assert r.text == (
        '<!DOCTYPE html><html><head></head><body style="margin:0"><div style="height:300px">***** ****</div>'
        '<button id="send" style="display:block;margin-left:100px;width:200px;height:40px;border:0;padding:0">'
        'Send</button></body></html>')


def test_view_page_and_layer_api_rules(recorded, fake_render):
    ux = add_staff(recorded, "ux", ["ux_analyst"])
    hr = add_staff(recorded, "hr", ["hr_liaison"])
    client = TestClient(create_app(recorded))
    page = client.get("/heatmaps/view", params={"url": URL, "since": "2026-05-28", "until": "2026-05-28"},
                      headers=ux.headers)
    assert page.status_code == 200
    # 2026-05-28 00:00 UTC = 1779926400000 ms; the "to" day ends 86,400,000 ms later (exclusive)
    assert ('data-layers="/api/v1/heatmaps/layers?url=https%3A%2F%2Fbank.example%2Fpay&amp;viewport=desktop'
            '&amp;since_ms=1779926400000&amp;until_ms=1780012800000"') in page.text
    assert ('<iframe id="hm-frame" sandbox title="Masked page https://bank.example/pay" '
            'src="/heatmaps/frame?url=https%3A%2F%2Fbank.example%2Fpay&viewport=desktop" scrolling="no">') in page.text
    r = client.get("/api/v1/heatmaps/layers", params={"url": URL}, headers=ux.headers)
    assert (r.status_code, r.json()["layers"]["click"]["count"]) == (200, 6)
    bad = client.get("/api/v1/heatmaps/layers", params={"url": URL, "since_ms": 10, "until_ms": 10}, headers=ux.headers)
    assert (bad.status_code, bad.json()["error"]) == (400, "until_ms must be after since_ms")
    unknown = client.get("/api/v1/heatmaps/layers", params={"url": "https://bank.example/none"}, headers=ux.headers)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "no page views recorded for this URL")
    nourl = client.get("/heatmaps/view", headers=ux.headers, follow_redirects=False)
    assert (nourl.status_code, nourl.headers["location"]) == (303, "/heatmaps")
    for path in ("/api/v1/heatmaps/layers", "/heatmaps/frame", "/heatmaps/view"):
        assert client.get(path, params={"url": URL}, headers=hr.headers).status_code == 403, path


@pytest.mark.browser
def test_view_draws_layers_over_the_sandboxed_page(recorded, chromium):  # type: ignore[no-untyped-def]
    if rrweb_umd_path() is None:
        pytest.skip("needs the rrweb UMD build")
    from replayvault.demo_runner import start_server

    port = free_port()
    server = start_server(create_app(recorded), "127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    block_outside(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        browser_login(page, base, add_staff(recorded, "ux", ["ux_analyst"]))
        page.goto(f"{base}/heatmaps/view?url={URL}", wait_until="domcontentloaded")
        stage = page.locator("#hm-stage[data-ready]")
        stage.wait_for(timeout=60_000)
        assert stage.get_attribute("data-ready") == "1"
        assert page.locator("#hm-status").inner_text() == (
            "6 clicks (0 placed by page position) · 4 mouse positions · 4 page views with scroll depth · "
            "3 rage clicks")
        frame = page.frame_locator("#hm-frame")
        assert frame.locator("button#send").inner_text() == "Send"
        # the rage marker sits on its clicks: the click layer alone has paint at (150, 310), none in the corner
        page.locator("input[data-layer=rage]").uncheck()
        alpha = page.locator("#hm-canvas").evaluate(
            "c => [c.getContext('2d').getImageData(150, 310, 1, 1).data[3], "
            "c.getContext('2d').getImageData(1200, 880, 1, 1).data[3]]")
        # hottest cell: alpha 60 + 150 * 255/255 = 210 in the grid image; Chromium's bilinear scaling
        # from 8 px cells to page px blends in the cooler neighbour cells: 205 at that pixel
        assert alpha == [205, 0]
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("input[data-layer=rage]").check()
        page.locator("input[data-layer=move]").check()
        page.locator("input[data-layer=scroll]").check()
        page.screenshot(path=str(ARTIFACTS / "heatmap_view.png"), full_page=True)
    finally:
        context.close()
        server.should_exit = True
    assert errors == []


def test_one_customers_visits_count_once_for_shared_text(rt):  # type: ignore[no-untyped-def]
    project = ensure_project(rt, "p", "P", [])
    # Dave visits three times (one subject), Alice once: "Hello Dave" is in 3 sessions but 1 person's,
    # so with k = 3 nothing of it is kept; "Send" is in 2 people's pages only: starred too.
    for i, (name, subject) in enumerate([("Dave", "cust-7"), ("Alice", "cust-1"), ("Dave", "cust-7"), ("Dave", "cust-7")]):
        accept_batch(rt, project, IngestRequest(str(uuid.uuid4()), 0, visit(T + i * 60_000, name, rage=False), "",
                                                subject=subject))
    heatmaps._BACKDROPS.clear()
    ref = heatmaps.reference_snapshot(rt, URL, "desktop")
    body = ref.node["childNodes"][0]["childNodes"][1]
    assert body["childNodes"][0]["childNodes"][0]["textContent"] == "***** ****"
    assert body["childNodes"][1]["childNodes"][0]["textContent"] == "****"
