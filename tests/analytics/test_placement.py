"""Click placement: clicks anchored to their element's box in the reference snapshot, fallbacks
(fixed targets, scrolled containers, unknown elements) counted; store columns and time windows."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analytics_fixtures import click, full, meta, rv_click, scroll
from replayvault import heatmaps
from replayvault.analytics.facts import FactState, extract_facts
from replayvault.analytics.heatmap import Box, fallback_xy, hottest_cell, place_clicks
from replayvault.analytics.store import AnalyticsStore
from replayvault.errors import NotFound
from replayvault.ingest.service import accept_batch
from replayvault.ingest.validate import IngestRequest
from replayvault.projects_setup import ensure_project
from replayvault.render.backdrop import rrweb_umd_path

URL = "https://bank.example/pay"
T = 1_700_000_000_000
NAN = np.nan


def test_place_clicks_anchors_known_boxes_and_falls_back_otherwise():
    boxes = {"a": Box(100, 200, 50, 20), "gone": None, "hidden": Box(10, 10, 0, 0)}
    sel = np.array(["a", "a", "gone", None, "hidden", "other", "a"], dtype=object)
    fx = np.array([0.5, 0.0, 0.5, 0.5, 0.5, 0.5, NAN])
    fy = np.array([0.25, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5])
    bx = np.arange(7) * 1000.0  # fallback x: 0, 1000, ... so each row is recognisable
    by = np.full(7, 7.0)
    x, y, anchored = place_clicks(sel, fx, fy, bx, by, boxes)
    # a: 100 + 0.5 * 50 = 125, 200 + 0.25 * 20 = 205; 100 + 0 * 50 = 100, 200 + 1 * 20 = 220;
    # not found / no selector / empty box / unknown selector / no fraction: fallback
    assert x.tolist() == [125, 100, 2000, 3000, 4000, 5000, 6000]
    assert y.tolist() == [205, 220, 7, 7, 7, 7, 7]
    assert anchored.tolist() == [True, True, False, False, False, False, False]
    empty = place_clicks(np.array([], dtype=object), np.array([]), np.array([]), np.array([]), np.array([]), {})
    assert [a.size for a in empty] == [0, 0, 0]


def test_fallback_uses_viewport_for_fixed_targets_and_adds_container_scroll():
    # click 1: normal, document scrolled 500, inside a container scrolled 250: content y = 520 + 250
    # click 2: fixed header at viewport (40, 20), document scrolled 500: stays at (40, 20)
    # click 3: fixed sidebar whose list is scrolled 30: viewport y 300 + 30
    x, y = np.array([10.0, 40.0, 60.0]), np.array([20.0, 20.0, 300.0])
    page_x, page_y = x, y + 500
    content_x, content_y = page_x + [0, 0, 0], page_y + [250, 0, 30]
    fx, fy = fallback_xy(x, y, page_x, page_y, content_x, content_y, np.array([False, True, True]))
    assert fx.tolist() == [10, 40, 60] and fy.tolist() == [770, 20, 330]


def _old_store(path: Path) -> None:
    """The analytics file as written before frac/fixed/content/share columns existed."""
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE TABLE clicks (project_id VARCHAR NOT NULL, session_id VARCHAR NOT NULL, page_view INTEGER NOT NULL,
            url VARCHAR NOT NULL, ts_ms BIGINT NOT NULL, x DOUBLE NOT NULL, y DOUBLE NOT NULL, page_x DOUBLE NOT NULL,
            page_y DOUBLE NOT NULL, viewport_w INTEGER, viewport_h INTEGER, device_class VARCHAR, target_id INTEGER,
            selector VARCHAR, offset_x DOUBLE, offset_y DOUBLE, target_w DOUBLE, target_h DOUBLE,
            PRIMARY KEY (session_id, page_view, ts_ms, x, y));
        CREATE TABLE scroll_depths (project_id VARCHAR NOT NULL, session_id VARCHAR NOT NULL,
            page_view INTEGER NOT NULL, url VARCHAR NOT NULL, max_depth_px INTEGER NOT NULL, page_height_px INTEGER,
            viewport_w INTEGER, viewport_h INTEGER, device_class VARCHAR, PRIMARY KEY (session_id, page_view));
        INSERT INTO clicks VALUES ('p', 'old', 0, 'https://bank.example/pay', 5, 10, 20, 10, 520, 1280, 800,
            'desktop', 10, 'body > button', 3, 4, 30, 40);
        INSERT INTO scroll_depths VALUES ('p', 'old', 0, 'https://bank.example/pay', 1300, 3000, 1280, 800, 'desktop');
    """)
    con.close()


def test_existing_files_get_the_new_columns(tmp_path):
    path = tmp_path / "analytics.duckdb"
    _old_store(path)
    store = AnalyticsStore(path)
    old = store.clicks(URL)
    # old rows: fractions unknown, not fixed, content = page coordinates
    assert np.isnan(old["frac_x"][0]) and old["fixed"].tolist() == [False]
    assert (old["content_x"][0], old["content_y"][0]) == (10, 520)
    assert np.isnan(store.scroll_depths(URL)["max_depth_share"][0])
    AnalyticsStore(path)  # opening again is harmless (ADD COLUMN IF NOT EXISTS)
    fixed = rv_click(T + 3, 10, 20, 10, 80, 40)
    fixed["data"]["payload"]["fixed"] = 1
    store.write("p", "new", extract_facts([meta(T), full(T + 1), scroll(T + 2, 1, 100), fixed,
                                            click(T + 4, 10, 50, 60), scroll(T + 5, 6, 30), click(T + 6, 8, 5, 5)],
                                           FactState()))
    new = store.clicks(URL, since_ms=T)
    order = np.argsort(new["ts_ms"])
    assert new["fixed"][order].tolist() == [True, False]
    assert np.array_equal(new["frac_x"][order], [0.25, NAN], equal_nan=True)
    # button 8 is inside div.main (node 6) scrolled 30: content y = 5 + 100 + 30
    assert new["content_y"][order].tolist() == [160, 135]


def test_late_rv_click_updates_fraction_and_fixed_in_the_store(tmp_path):
    store = AnalyticsStore(tmp_path / "a.duckdb")
    state = FactState()
    store.write("p", "s", extract_facts([meta(T), full(T + 1), click(T + 10, 10, 50, 60)], state))
    late = rv_click(T + 60, 10, 60, 30, 80, 40)
    late["data"]["payload"]["fixed"] = 1
    store.write("p", "s", extract_facts([late], state))
    c = store.clicks(URL)
    # 60 / 80 = 0.75, 30 / 40 = 0.75
    assert (c["frac_x"][0], c["frac_y"][0], bool(c["fixed"][0])) == (0.75, 0.75, True)


def _write(rt, session: str, events: list[dict]) -> None:  # type: ignore[no-untyped-def]
    rt.analytics.write("p", session, extract_facts(events, FactState()))


def test_without_a_reference_page_every_click_falls_back_and_is_counted(rt):
    fixed = rv_click(T + 4, 8, 30, 5, 120, 20)
    fixed["data"]["payload"]["fixed"] = 1
    _write(rt, "s1", [meta(T), full(T + 1), scroll(T + 2, 1, 500), scroll(T + 3, 6, 250), fixed,
                      click(T + 5, 8, 40, 15),          # fixed: viewport (40, 15) + div.main 250
                      rv_click(T + 6, 10, 5, 6, 80, 30), click(T + 7, 10, 50, 60)])  # (50, 60 + 500 + 250)
    _write(rt, "s2", [meta(T + 100_000), full(T + 100_001), click(T + 100_002, 10, 300, 400)])
    placed = heatmaps.placed_clicks(rt, url=URL)
    # no snapshot: default width; height = the deepest placed click (y 810) + 1 px
    assert (placed.anchored, placed.fallback, placed.width, placed.height) == (0, 3, 1280, 811)
    assert sorted(zip(placed.x.tolist(), placed.y.tolist())) == [(40, 265), (50, 810), (300, 400)]
    window = heatmaps.placed_clicks(rt, url=URL, since_ms=T + 7, until_ms=T + 100_002)
    assert (window.x.tolist(), window.y.tolist(), window.fallback) == ([50], [810], 1)
    body = heatmaps.heatmap_json(rt, url=URL, kind="click", until_ms=T + 100_000)
    assert (body["anchored_clicks"], body["fallback_clicks"], body["grid"]["clicks"]) == (0, 2, 2)
    with pytest.raises(NotFound):
        heatmaps.placed_clicks(rt, url="https://bank.example/never")


# -- the same button at three window widths (Chromium) ---------------------------------------------

def el(nid: int, tag: str, children: list | None = None, **attrs: str) -> dict:
    return {"type": 2, "id": nid, "tagName": tag, "attributes": attrs, "childNodes": children or []}


def text(nid: int, value: str) -> dict:
    return {"type": 3, "id": nid, "textContent": value}


def page_tree() -> dict:
    """A fixed 50 px header with a 100 x 30 help link 20 px from the right edge, then a centred
    1200 px container (60 px top padding) with a 300 px block and a 200 x 40 button 100 px in."""
    header = el(5, "div", [el(6, "a", [text(7, "Help")], id="help",
                              style="position:absolute;right:20px;top:10px;width:100px;height:30px;display:block")],
                id="top", style="position:fixed;top:0;left:0;right:0;height:50px;background:#234")
    container = el(8, "div", [el(9, "div", [text(10, "Transfer money")], style="height:300px"),
                              el(11, "button", [text(12, "Send")], id="send",
                                 style="display:block;margin-left:100px;width:200px;height:40px;border:0;padding:0")],
                   **{"class": "container", "style": "width:1200px;margin:0 auto;padding-top:60px;height:2000px"})
    body = el(4, "body", [header, container], style="margin:0")
    return {"type": 0, "id": 1, "childNodes": [el(2, "html", [el(3, "head"), body])]}


def visit(ts: int, width: int) -> list[dict]:
    """One visitor at ``width`` px: clicks the Send button at 1/4 of its box, scrolls 400 px, clicks Help
    in the fixed header at its centre (1920 px: clicks a promo button instead, which the reference page lacks)."""
    left = (width - 1200) // 2 + 100        # the button's left edge at this width
    events = [
        {"type": 4, "timestamp": ts, "data": {"href": URL, "width": width, "height": 900}},
        {"type": 2, "timestamp": ts + 1, "data": {"node": page_tree(), "initialOffset": {"left": 0, "top": 0}}},
        rv_click(ts + 10, 11, 50, 10, 200, 40), click(ts + 11, 11, left + 50, 370),
        scroll(ts + 20, 1, 400),
    ]
    if width == 1920:
        promo = el(50, "button", [], id="promo")
        events += [{"type": 3, "timestamp": ts + 30, "data": {"source": 0, "texts": [], "attributes": [], "removes": [],
                                                               "adds": [{"parentId": 4, "nextId": None, "node": promo}]}},
                   click(ts + 31, 50, 700, 100)]      # no rv.click: page (700, 500), fallback
    else:
        help_click = rv_click(ts + 30, 6, 50, 15, 100, 30)
        help_click["data"]["payload"]["fixed"] = 1
        events += [help_click, click(ts + 31, 6, width - 70, 25)]
    return events


@pytest.mark.browser
def test_clicks_from_three_widths_land_on_the_same_element(rt):
    if not Path("/usr/bin/chromium").exists() or rrweb_umd_path() is None:
        pytest.skip("needs Debian's chromium and the rrweb UMD build")
    project = ensure_project(rt, "p", "P", [])
    for i, width in enumerate((2560, 1920, 1280)):  # 1280 last: the newest snapshot is the reference
        accept_batch(rt, project, IngestRequest(str(uuid.uuid4()), 0, visit(T + i * 60_000, width), ""))
    stored = rt.analytics.clicks(URL)
    # where the visitors' own windows had them: Send at (W - 1200) / 2 + 150 -> 830, 510, 190;
    # Help at W - 70 -> 2490, 1210; the promo button at 700
    assert sorted(stored["page_x"].tolist()) == [190, 510, 700, 830, 1210, 2490]
    placed = heatmaps.placed_clicks(rt, url=URL, viewport="desktop")
    # reference: the 1280 px snapshot. Send: container left (1280 - 1200) / 2 = 40, + 100 = 140;
    # top 60 + 300 = 360; at 1/4 of 200 x 40: (140 + 50, 360 + 10) = (190, 370), from every width.
    # Help (fixed header, reference at scroll 0): left 1280 - 20 - 100 = 1160, top 10; centre (1210, 25).
    # The promo button is not in the reference: its page coordinates (700, 100 + 400).
    assert sorted(zip(placed.x.tolist(), placed.y.tolist())) == [
        (190, 370), (190, 370), (190, 370), (700, 500), (1210, 25), (1210, 25)]
    assert (placed.anchored, placed.fallback, placed.width) == (5, 1, 1280)
    hm = heatmaps.heatmap(rt, url=URL, kind="click")
    assert (hm.anchored_clicks, hm.fallback_clicks, hm.width, hm.backdrop.size) == (5, 1, 1280, (1280, hm.height))
    hot = hottest_cell(hm.data)
    assert (hot.x_px, hot.y_px) == (188.0, 372.0)  # the cell (184..192, 368..376) holding (190, 370)
    body = heatmaps.heatmap_json(rt, url=URL)
    assert (body["anchored_clicks"], body["fallback_clicks"]) == (5, 1)
    png = heatmaps.heatmap_png(rt, url=URL)
    out = Path(__file__).resolve().parents[2] / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "click_map_three_widths.png").write_bytes(png)


def test_reference_render_is_cached_and_redone_only_for_new_selectors(rt, monkeypatch):
    from PIL import Image

    from replayvault.render.backdrop import RenderedPage

    calls: list[list[str]] = []

    def fake_render(events, width, height, selectors):  # type: ignore[no-untyped-def]
        calls.append(list(selectors))
        return RenderedPage(Image.new("RGB", (width, 900)), {s: Box(1, 2, 3, 4) for s in selectors})

    snapshot = [meta(T), full(T + 1)]
    monkeypatch.setattr(heatmaps, "snapshots_for_url", lambda *a, **k: [(7, "s", snapshot)])
    monkeypatch.setattr(heatmaps, "render_page", fake_render)
    heatmaps._BACKDROPS.clear()
    page = heatmaps._page(rt, URL, "desktop", None, frozenset({"a"}))
    assert page.boxes == {"a": Box(1, 2, 3, 4)} and page.image.size == (1280, 900)
    heatmaps._page(rt, URL, "desktop", None, frozenset({"a"}))      # cached
    heatmaps._page(rt, URL, "desktop", None, frozenset({"b"}))      # new selector: one pass for both
    heatmaps._page(rt, URL, "desktop", None, frozenset({"a", "b"}))  # cached
    assert heatmaps._backdrop(rt, URL, "desktop", None).size == (1280, 900)  # the image of the same pass
    assert calls == [["a"], ["a", "b"]]
    heatmaps._BACKDROPS.clear()
