"""Scroll depth rules (CSS px, share of the page at the time, bottom tolerance, zoom, short pages)
and scroll maps with the fold; every expected number is worked out in the comments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analytics_fixtures import full, meta, resize, rv_page, scroll
from replayvault import heatmaps
from replayvault.analytics.facts import FactState, depth_share, extract_facts
from replayvault.analytics.heatmap import depths_on_page, scroll_map
from replayvault.analytics.store import AnalyticsStore
from replayvault.errors import NotFound

URL = "https://bank.example/pay"


def _depth(events: list[dict]):  # type: ignore[no-untyped-def]
    (d,) = extract_facts(events, FactState()).scroll_depths
    return d


def test_fractional_scroll_within_one_px_of_the_bottom_is_the_bottom():
    # 2199.5 + 800 = 2999.5 >= 3000 - 1: bottom; max_depth_px rounds to 3000
    d = _depth([meta(0), full(1), rv_page(2, 3000), scroll(3, 1, 2199.5)])
    assert (d.max_depth_px, d.page_height_px, d.max_depth_share) == (3000, 3000, 1.0)
    # 2198.9 + 800 = 2998.9 < 2999: not the bottom, 2998.9 / 3000
    d = _depth([meta(0), full(1), rv_page(2, 3000), scroll(3, 1, 2198.9)])
    assert d.max_depth_share == 2998.9 / 3000


def test_fractional_page_height():
    # 2199 + 800 = 2999 >= 2999.6 - 1 = 2998.6: bottom
    assert _depth([meta(0), full(1), rv_page(2, 2999.6), scroll(3, 1, 2199)]).max_depth_share == 1.0


def test_page_shorter_than_the_viewport_is_fully_seen():
    d = _depth([meta(0), full(1), rv_page(2, 600)])
    # depth 0 + 800 = 800 > 600: 100 %; the px depth is kept as recorded
    assert (d.max_depth_px, d.page_height_px, d.max_depth_share) == (800, 600, 1.0)


def test_zoom_judges_depth_against_the_page_height_at_that_moment():
    events = [meta(0), full(1), rv_page(2, 3000),
              scroll(3, 1, 2200),       # 100 % zoom: 2200 + 800 = 3000, the bottom: share 1.0
              resize(4, 640, 400),      # zoom to 200 %: innerWidth/innerHeight halve in CSS px ...
              rv_page(5, 5200),         # ... and the narrower layout is 5200 CSS px tall
              scroll(6, 1, 2900)]       # 2900 + 400 = 3300 of 5200
    d = _depth(events)
    # the bottom was reached before zooming; a max over px alone would say 3300 / 5200 = 63 %
    assert (d.max_depth_px, d.page_height_px, d.max_depth_share, d.viewport_h) == (3300, 5200, 1.0, 400)


def test_zoomed_out_first_screen_and_depths_before_the_first_height():
    # 50 % zoom: innerHeight 1600 CSS px on a 2000 px page; scrolled 100 before rv.page arrives
    d = _depth([meta(0, w=2560, h=1600), full(1), scroll(2, 1, 100), rv_page(3, 2000), rv_page(4, 4000)])
    # pending depth 1700 judged at the first height: 1700 / 2000 = 0.85; lazy loading to 4000 px
    # does not lower it (1700 / 4000 = 0.425)
    assert (d.max_depth_px, d.page_height_px, d.max_depth_share) == (1700, 4000, 0.85)


def test_depth_share_function():
    assert depth_share(999.0, 1000.0) == 1.0 and depth_share(998.9, 1000.0) == 998.9 / 1000.0
    assert depth_share(-5.0, 1000.0) == 0.0 and depth_share(1500.0, 1000.0) == 1.0


def test_scroll_map_clamps_to_the_page_and_counts_each_page_view_once():
    # page 1000 px: depths 400, 999.2 (within 1 px: bottom), 1800 (a short page or a bounce: clamped),
    # -20 (clamped to 0)
    m = scroll_map(np.array([400, 999.2, 1800, -20]), page_height_px=1000, step_px=100,
                   viewport_h_px=np.array([700, 800, 900, np.nan]))
    assert m.page_views == 4
    # share(d) = #(depth >= d) / 4: d = 0 -> 4/4, 100..400 -> 3/4, 500..1000 -> 2/4
    assert m.share.tolist() == [1.0, 0.75, 0.75, 0.75, 0.75, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    # fold: median and mean of the known viewport heights (700, 800, 900) = 800, 800.0
    assert (m.fold_px, m.average_fold_px) == (800, 800.0)
    back = type(m).from_dict(json.loads(json.dumps(m.to_dict())))
    assert (back.fold_px, back.average_fold_px, back.share.tolist()) == (800, 800.0, m.share.tolist())


def test_fold_median_and_mean_differ():
    m = scroll_map(np.array([500, 500, 500]), 1000, 100, viewport_h_px=np.array([600, 700, 1100]))
    # median 700; mean (600 + 700 + 1100) / 3 = 800
    assert (m.fold_px, m.average_fold_px) == (700, 800.0)
    assert scroll_map(np.array([500]), 1000).fold_px is None


def test_depths_on_a_reference_page():
    # shares carry over to the reference height (2000 px); an unknown share keeps its px depth
    got = depths_on_page(np.array([3300, 900, 1500]), np.array([1.0, 0.3, np.nan]), 2000)
    assert got.tolist() == [2000.0, 600.0, 1500.0]


def _write(store: AnalyticsStore, session: str, events: list[dict]) -> None:
    store.write("p", session, extract_facts(events, FactState()))


def test_scroll_map_from_the_store_with_time_window(rt):
    store: AnalyticsStore = rt.analytics
    t = 1_700_000_000_000
    # Four desktop page views of one page at different zooms and page heights:
    _write(store, "a", [meta(t), full(t + 1), rv_page(t + 2, 3000), scroll(t + 3, 1, 2200)])  # share 1.0
    _write(store, "b", [meta(t + 10_000, h=900), full(t + 10_001), rv_page(t + 10_002, 3000),
                        scroll(t + 10_003, 1, 300)])                                # (300 + 900) / 3000 = 0.4
    _write(store, "c", [meta(t + 20_000, w=2560, h=1600), full(t + 20_001), rv_page(t + 20_002, 1200)])  # 1.0
    _write(store, "d", [meta(t + 30_000, h=700), full(t + 30_001)])                # no height known: 700 px
    depths = store.scroll_depths(URL, "desktop")
    order = np.argsort(depths["max_depth_px"])
    assert depths["max_depth_px"][order].tolist() == [700, 1200, 1600, 3000]
    assert np.array_equal(depths["max_depth_share"][order], [np.nan, 0.4, 1.0, 1.0], equal_nan=True)
    hm = heatmaps.heatmap(rt, url=URL, kind="scroll", backdrop=False)
    smap = hm.data
    # reference height: median of the known page heights (1200, 3000, 3000) = 3000;
    # depths on it: 1.0 -> 3000, 0.4 -> 1200, 1.0 -> 3000, unknown -> 700 px
    assert (smap.page_height_px, smap.page_views, hm.height) == (3000, 4, 3000)
    assert smap.share_at(0) == 1.0 and smap.share_at(700) == 1.0    # 4 of 4 reached 700
    assert smap.share_at(710) == 0.75 and smap.share_at(1200) == 0.75  # 1200, 3000, 3000
    assert smap.share_at(1210) == 0.5 and smap.share_at(3000) == 0.5
    # fold: viewport heights 800, 900, 1600, 700 -> median (800 + 900) / 2 = 850, mean 1000
    assert (smap.fold_px, smap.average_fold_px) == (850, 1000.0)
    # the page views that started in [t + 10 s, t + 30 s): b and c
    window = heatmaps.heatmap_json(rt, url=URL, kind="scroll", since_ms=t + 10_000, until_ms=t + 30_000)
    assert window["scroll"]["page_views"] == 2 and window["scroll"]["page_height_px"] == 2100  # median(1200, 3000)
    with pytest.raises(NotFound):
        heatmaps.heatmap(rt, url=URL, kind="scroll", since_ms=t + 40_000)
