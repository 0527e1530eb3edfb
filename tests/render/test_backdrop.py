"""Page backdrops rebuilt from a real recording in headless Chromium, and heatmaps drawn over them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from replayvault.analytics.facts import FactState, extract_facts
from replayvault.analytics.heatmap import click_grid, scroll_map
from replayvault.render import backdrop as backdrop_mod
from replayvault.render.backdrop import render_backdrop, rrweb_umd_path
from replayvault.render.heatmap import LEGEND_PX, render_click_map, render_scroll_map
from replayvault.rrweb import load_recording

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT.parent / "shared" / "data" / "recordings"
ARTIFACTS = ROOT / "test-artifacts"


def _homepage() -> list[dict]:
    if not RECORDINGS.is_dir():
        pytest.skip("../shared/data/recordings is not present beside the checkout")
    return load_recording(RECORDINGS / "homepage.json")[""]


def _need_chromium() -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    if rrweb_umd_path() is None:
        pytest.skip("rrweb UMD build not found (web/static/vendor or tracker/node_modules)")


def test_no_snapshot_gives_none():
    assert render_backdrop([{"type": 3, "timestamp": 1, "data": {"source": 1, "positions": []}}], 800) is None


def test_no_chromium_gives_none(monkeypatch):
    monkeypatch.setenv("REPLAYVAULT_CHROMIUM_PATH", "/nonexistent/chromium")
    events = [{"type": 4, "timestamp": 1, "data": {"href": "https://x/", "width": 800, "height": 600}},
              {"type": 2, "timestamp": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []},
                                                   "initialOffset": {"left": 0, "top": 0}}}]
    assert render_backdrop(events, 800) is None


@pytest.fixture(scope="module")
def homepage_backdrop() -> Image.Image:
    events = _homepage()
    _need_chromium()
    img = render_backdrop(events, 1920, None)
    assert img is not None, "Chromium is installed but the backdrop failed (see the log)"
    ARTIFACTS.mkdir(exist_ok=True)
    img.save(ARTIFACTS / "backdrop_homepage.png")
    return img


@pytest.mark.browser
def test_homepage_backdrop_is_not_blank(homepage_backdrop):
    img = homepage_backdrop
    assert img.width == 1920 and 2000 < img.height <= backdrop_mod.MAX_HEIGHT_PX
    small = np.asarray(img.convert("L").resize((192, img.height // 10)))
    assert small.std() > 20  # not a flat colour
    assert (small < 100).mean() > 0.05 and (small > 200).mean() > 0.2  # dark hero/footer and light content
    colours = len(np.unique(np.asarray(img.resize((240, 300))).reshape(-1, 3), axis=0))
    assert colours > 200


@pytest.mark.browser
def test_fixed_height_backdrop():
    events = _homepage()
    _need_chromium()
    img = render_backdrop(events, 1280, 900)
    assert img is not None and img.size == (1280, 900)


@pytest.mark.browser
def test_homepage_heatmaps_over_backdrop(homepage_backdrop):
    events = _homepage()
    state, clicks, depths = FactState(), [], []
    for i in range(0, len(events), 200):
        state = FactState.from_dict(json.loads(json.dumps(state.to_dict())))
        facts = extract_facts(events[i:i + 200], state)
        clicks += [c for c in facts.clicks if c.url == "https://posthog.com/"]
        depths += facts.scroll_depths
    w, h = homepage_backdrop.size
    grid = click_grid(np.array([c.page_x for c in clicks]), np.array([c.page_y for c in clicks]), w, h, sigma_px=32)
    png = render_click_map(grid, homepage_backdrop, w, h)
    (ARTIFACTS / "click_map_homepage.png").write_bytes(png)
    assert Image.open(io.BytesIO(png)).size == (w, h + LEGEND_PX)
    smap = scroll_map(np.array([d.max_depth_px for d in depths] + [3000, 5000, 6500]), page_height_px=h)
    png = render_scroll_map(smap, homepage_backdrop, w, h)
    (ARTIFACTS / "scroll_map_homepage.png").write_bytes(png)
    assert Image.open(io.BytesIO(png)).size == (w, h + LEGEND_PX)


@pytest.mark.browser
def test_backdrop_fetches_nothing_not_even_loopback():
    """A recorded page must not make the renderer send requests (e.g. to local admin endpoints)."""
    import http.server
    import socket
    import threading

    _need_chromium()
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):  # silence
            pass

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    el = lambda i, tag, attrs: {"type": 2, "id": i, "tagName": tag, "attributes": attrs, "childNodes": []}  # noqa: E731
    head = {"type": 2, "id": 3, "tagName": "head", "attributes": {}, "childNodes": [
        el(4, "link", {"rel": "prefetch", "href": f"{base}/prefetch"}),
        el(5, "link", {"rel": "stylesheet", "href": f"{base}/css"}),
        el(6, "link", {"rel": "preconnect", "href": f"{base}/preconnect"})]}
    body = {"type": 2, "id": 7, "tagName": "body", "attributes": {"style": f"background:url({base}/bg)"}, "childNodes": [
        el(8, "img", {"src": f"{base}/img"}), el(9, "iframe", {"src": f"{base}/frame"}),
        {"type": 3, "id": 10, "textContent": "hello"}]}
    doc = {"type": 0, "id": 1, "childNodes": [{"type": 2, "id": 2, "tagName": "html", "attributes": {}, "childNodes": [head, body]}]}
    events = [{"type": 4, "timestamp": 1, "data": {"href": "https://bank.example/", "width": 800, "height": 600}},
              {"type": 2, "timestamp": 2, "data": {"node": doc, "initialOffset": {"left": 0, "top": 0}}}]
    try:
        img = render_backdrop(events, 800, 600)
        import time

        time.sleep(1.0)  # speculative fetches are asynchronous
    finally:
        server.shutdown()
    assert img is not None
    assert hits == []


@pytest.mark.browser
def test_render_page_returns_element_boxes_in_page_coordinates():
    """One pass: the screenshot and, per selector, the element's box (page px at the render width)."""
    _need_chromium()
    el = lambda i, tag, attrs, kids=(): {"type": 2, "id": i, "tagName": tag, "attributes": attrs,  # noqa: E731
                                          "childNodes": list(kids)}
    body = el(4, "body", {"style": "margin:0"}, [
        el(5, "div", {"class": "wrap", "style": "width:600px;margin:0 auto;padding-top:30px"}, [
            el(6, "p", {"style": "margin:0;height:100px"}),
            el(7, "p", {"style": "margin:0 0 0 40px;width:100px;height:20px"}),
        ]),
        el(8, "div", {"id": "far", "style": "position:absolute;top:1500px;left:10px;width:50px;height:60px"}),
        el(9, "div", {"id": "gone", "style": "display:none"}),
    ])
    doc = {"type": 0, "id": 1, "childNodes": [el(2, "html", {}, [el(3, "head", {}), body])]}
    events = [{"type": 4, "timestamp": 1, "data": {"href": "https://bank.example/", "width": 800, "height": 600}},
              # recorded while scrolled 300 px down: boxes are still page coordinates
              {"type": 2, "timestamp": 2, "data": {"node": doc, "initialOffset": {"left": 0, "top": 300}}}]
    sels = ["body > div.wrap > p:nth-of-type(2)", "body > div#far", "body > div#gone", "body > div#missing",
            "body >>> nonsense"]
    page = backdrop_mod.render_page(events, 800, None, sels)
    assert page is not None
    # the wrap is centred: (800 - 600) / 2 = 100; the second p: x 100 + 40, y 30 + 100
    assert page.boxes == {
        sels[0]: backdrop_mod.Box(140.0, 130.0, 100.0, 20.0),
        sels[1]: backdrop_mod.Box(10.0, 1500.0, 50.0, 60.0),
        sels[2]: backdrop_mod.Box(0.0, 0.0, 0.0, 0.0),  # display: none -- placement treats it as not found
        sels[3]: None, sels[4]: None,
    }
    # the document is 1560 px tall (#far ends at 1500 + 60): the screenshot covers all of it
    assert page.image.size == (800, 1560)
