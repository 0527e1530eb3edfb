"""Move maps: mouse positions weighted by dwell time (time to the next position of the same page
view, capped at DWELL_CAP_MS; the last one up to the page view's end). Numbers worked out by hand."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from analytics_fixtures import full, meta, scroll
from replayvault import heatmaps
from replayvault.analytics.facts import FactState, extract_facts
from replayvault.analytics.heatmap import DWELL_CAP_MS, dwell_ms, hottest_cell, move_grid
from replayvault.render.heatmap import LEGEND_PX

URL = "https://bank.example/pay"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
T = 1_700_000_000_000


def mm(ts: int, *points: tuple[int, int, int]) -> dict:
    return {"type": 3, "timestamp": ts, "data": {"source": 1, "positions": [
        {"x": x, "y": y, "id": 5, "timeOffset": off} for x, y, off in points]}}


def session() -> list[dict]:
    """/pay: moves at +1100 (10, 10), +1300 (100, 10), +9000 (200, 10), +19000 (300, 10);
    /done from +20000: one move at +20500; the session's last event at +21000."""
    return [meta(T + 1000), full(T + 1001),
            mm(T + 1300, (10, 10, -200), (100, 10, 0)),
            mm(T + 9000, (200, 10, 0)),
            mm(T + 19000, (300, 10, 0)),
            meta(T + 20000, href="https://bank.example/done"), full(T + 20001),
            mm(T + 20500, (50, 50, 0)),
            scroll(T + 21000, 1, 0)]


def test_dwell_function():
    ts = np.array([0, 100, 200, 300])
    nxt = np.array([100, 7000, 150, np.nan])
    # 100; 6900 capped at 5000; a next time before ts (clock skew) gives 0; unknown end gives 0
    assert dwell_ms(ts, nxt).tolist() == [100.0, 5000.0, 0.0, 0.0]
    assert dwell_ms(ts, nxt, cap_ms=1000).tolist() == [100.0, 1000.0, 0.0, 0.0]
    assert DWELL_CAP_MS == 5000


def test_store_gives_next_move_or_page_view_end(rt):
    rt.analytics.write("p", "s", extract_facts(session(), FactState()))
    mv = rt.analytics.moves(URL)
    order = np.argsort(mv["ts_ms"])
    assert (mv["ts_ms"][order] - T).tolist() == [1100, 1300, 9000, 19000]
    # next move of the page view; the last one ends at the next page view's start (+20000)
    assert (mv["next_ms"][order] - T).tolist() == [1300, 9000, 19000, 20000]
    done = rt.analytics.moves("https://bank.example/done")
    assert (done["ts_ms"] - T).tolist() == [20500] and (done["next_ms"] - T).tolist() == [21000]  # session end
    # a window keeps the moves inside it, but their dwell still runs to the next move outside it
    win = rt.analytics.moves(URL, since_ms=T + 1200, until_ms=T + 19000)
    assert (win["ts_ms"] - T).tolist() == [1300, 9000] and (win["next_ms"] - T).tolist() == [9000, 19000]


def test_move_grid_weights_cells_by_dwell(rt):
    rt.analytics.write("p", "s", extract_facts(session(), FactState()))
    mv = rt.analytics.moves(URL)
    w = dwell_ms(mv["ts_ms"], mv["next_ms"])
    # +1100 -> 200 ms; +1300 -> 7700 capped 5000; +9000 -> 10000 capped 5000; +19000 -> 1000 (page view end)
    assert sorted(w.tolist()) == [200.0, 1000.0, 5000.0, 5000.0]
    g = move_grid(mv["page_x"], mv["page_y"], w, 400, 40, cell_px=8, sigma_px=0)
    # cells (col, row): x 10 -> 1, 100 -> 12, 200 -> 25, 300 -> 37; y 10 -> row 1
    assert (g.moves, g.outside, g.dwell_ms, g.max) == (4, 0, 11200.0, 5000.0)
    assert (g.values[1, 1], g.values[1, 12], g.values[1, 25], g.values[1, 37]) == (0.04, 1.0, 1.0, 0.2)
    assert g.values.sum() == np.float32(0.04 + 1.0 + 1.0 + 0.2)
    hot = hottest_cell(g)
    assert (hot.col, hot.row) == (12, 1)  # first of the two 5000 ms cells in row-major order


def test_move_grid_counts_positions_outside():
    g = move_grid(np.array([5.0, 50.0, -1.0]), np.array([5.0, 5.0, 5.0]), np.array([10.0, 20.0, 30.0]), 40, 8,
                  cell_px=8, sigma_px=0)
    # x = 50 and x = -1 are off the 40 px page: their 20 + 30 ms are not in the grid
    assert (g.moves, g.outside, g.dwell_ms, g.max) == (1, 2, 10.0, 10.0)


def test_move_heatmap_json_and_png(rt):
    rt.analytics.write("p", "s", extract_facts(session(), FactState()))
    body = heatmaps.heatmap_json(rt, url=URL, kind="move")
    grid = body["grid"]
    assert (body["kind"], body["width"], grid["moves"], grid["dwell_ms"], grid["cap_ms"]) == (
        "move", 1280, 4, 11200.0, 5000.0)
    # no snapshot stored: no backdrop, the page is the default width and at least one viewport tall
    assert body["height"] == 800
    png = heatmaps.heatmap_png(rt, url=URL, kind="move")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "move_map_fixture.png").write_bytes(png)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.size == (1280, 800 + LEGEND_PX)
    r, g, b = img.getpixel((100, 10 + LEGEND_PX))   # the 5000 ms cell: viridis' yellow-green end
    assert g > 150 and g > b
