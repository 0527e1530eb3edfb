"""Click and scroll map PNGs: they decode, have the page size, and put hot colours where clicks are."""

from __future__ import annotations

import inspect
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import replayvault.render as render
from replayvault.analytics.heatmap import click_grid, hottest_cell, scroll_map
from replayvault.render.heatmap import CANVAS_RGB, LEGEND_PX, render_click_map, render_scroll_map

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _save(name: str, png: bytes) -> Image.Image:
    """Save the PNG for a look; return its page area (below the legend band), in page px."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(png)
    img = Image.open(io.BytesIO(png))
    img.load()
    band = img.convert("RGB").crop((0, 0, img.width, LEGEND_PX))
    assert np.asarray(band).min() < 100  # the band holds the legend text and colour bar
    return img.convert("RGB").crop((0, LEGEND_PX, img.width, img.height))


def _clicks(seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hot = rng.normal([900, 420], 18, size=(3000, 2))      # the main button
    warm = rng.normal([300, 1500], 30, size=(800, 2))     # a link further down
    noise = rng.uniform([0, 0], [1280, 2400], size=(400, 2))
    xy = np.concatenate([hot, warm, noise])
    return xy[:, 0], xy[:, 1]


def _is_hot(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return r > 110 and r > b + 60 and r > g + 60  # red / dark-red end of the colormap


def test_public_api_matches_all():
    public = {n for n in dir(render) if not n.startswith("_") and not inspect.ismodule(getattr(render, n))}
    assert set(render.__all__) == public - {"annotations"}


def test_click_map_on_grey_canvas():
    x, y = _clicks()
    grid = click_grid(x, y, 1280, 2400)
    img = _save("click_map_canvas.png", render_click_map(grid, None, 1280, 2400))
    assert img.size == (1280, 2400)
    hot = hottest_cell(grid)
    assert abs(hot.x_px - 900) < 16 and abs(hot.y_px - 420) < 16
    assert _is_hot(img.getpixel((int(hot.x_px), int(hot.y_px))))
    # far from every click the canvas stays neutral grey
    assert img.getpixel((1200, 2300)) == CANVAS_RGB
    # the second spot is visible but cooler than the first
    assert not _is_hot(img.getpixel((300, 1500))) and img.getpixel((300, 1500)) != CANVAS_RGB


def test_click_map_over_backdrop_and_from_json_grid():
    page = Image.new("RGB", (1280, 2400), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, 1280, 80), fill=(30, 40, 90))
    draw.rectangle((820, 395, 980, 445), fill=(40, 120, 220))
    for i in range(20):
        draw.rectangle((120, 200 + i * 100, 1100, 230 + i * 100), fill=(215, 215, 220))
    x, y = _clicks()
    grid = click_grid(x, y, 1280, 2400).to_dict()
    img = _save("click_map_backdrop.png", render_click_map(grid, page, 1280, 2400))
    assert img.size == (1280, 2400)
    assert _is_hot(img.getpixel((900, 420)))
    # the backdrop shows through where nobody clicked (faded toward white)
    # a light-grey bar (215, 215, 220) faded 35 % toward white is about (229, 229, 232)
    assert all(abs(c - e) <= 6 for c, e in zip(img.getpixel((600, 2115)), (229, 229, 232)))


def test_backdrop_of_another_size_is_aligned_top_left():
    page = Image.new("RGB", (640, 500), (0, 0, 0))  # half width: scaled to 1280 x 1000
    grid = click_grid(np.array([10]), np.array([10]), 1280, 1500)
    img = _save("click_map_small_backdrop.png", render_click_map(grid, page, 1280, 1500))
    assert img.size == (1280, 1500)
    assert sum(img.getpixel((640, 900))) < 300  # faded black backdrop
    assert img.getpixel((640, 1200)) == CANVAS_RGB  # below the backdrop: canvas


def test_scroll_map_bands_and_marks():
    rng = np.random.default_rng(2)
    depths = np.clip(rng.normal(1400, 500, size=400), 700, None)
    smap = scroll_map(depths, page_height_px=3000, step_px=10)
    img = _save("scroll_map_canvas.png", render_scroll_map(smap, None, 1280))
    assert img.size == (1280, 3000)
    top, bottom = img.getpixel((600, 300)), img.getpixel((600, 2900))
    assert top[0] > top[2] + 40      # reached by everyone: red end
    assert bottom[2] > bottom[0] + 40  # reached by nobody: blue end
    y50 = smap.depth_reached_by(0.5)
    row = np.asarray(img)[y50]
    assert (row.sum(axis=1) < 200).sum() > 300  # the dashed 50 % line is drawn across the page


def test_scroll_map_from_dict_with_backdrop_and_height():
    page = Image.new("RGB", (1024, 4000), (250, 250, 250))
    smap = scroll_map(np.array([800, 1600, 2400]), page_height_px=4000).to_dict()
    img = _save("scroll_map_backdrop.png", render_scroll_map(smap, page, 1024, 2000))
    assert img.size == (1024, 2000)


def test_move_map_uses_its_own_colours_and_legend():
    from matplotlib import colormaps

    from replayvault.analytics.heatmap import move_grid
    from replayvault.render.heatmap import MOVE_COLORMAP, MOVE_SPAN, render_move_map

    # 1000 positions resting on (400, 300) for 5 s each, 1000 passing (600, 900) for 50 ms each
    x = np.r_[np.full(1000, 400.0), np.full(1000, 600.0)]
    y = np.r_[np.full(1000, 300.0), np.full(1000, 900.0)]
    w = np.r_[np.full(1000, 5000.0), np.full(1000, 50.0)]
    grid = move_grid(x, y, w, 1280, 1200)
    img = _save("move_map_canvas.png", render_move_map(grid.to_dict(), None, 1280, 1200))
    assert img.size == (1280, 1200)
    # the resting spot is drawn in viridis' top colour, yellow (253, 231, 36), at MAX_ALPHA 0.85 over
    # the grey canvas -- not turbo's dark red (122, 4, 3)
    assert [int(c) for c in colormaps[MOVE_COLORMAP](MOVE_SPAN[1], bytes=True)[:3]] == [253, 231, 36]
    r, g, b = img.getpixel((404, 304))
    assert r > 200 and g > 200 and b < 100, (r, g, b)
    assert not _is_hot((r, g, b))
    # 50 ms / 5000 ms = 1 % of the peak: under MIN_DENSITY after smoothing, not drawn
    assert img.getpixel((604, 904)) == CANVAS_RGB


def test_scroll_map_draws_the_fold_line():
    smap = scroll_map(np.array([900, 1200, 2000]), page_height_px=2400, step_px=10,
                      viewport_h_px=np.array([700, 760, 900]))
    img = _save("scroll_map_fold.png", render_scroll_map(smap, None, 1000))
    row = np.asarray(img)[760]  # fold = median(700, 760, 900) = 760 px
    assert (row.sum(axis=1) < 150).sum() > 900  # a solid dark line across (almost) the whole width
    assert (np.asarray(img)[740].sum(axis=1) < 150).sum() < 100  # not 20 px above it


def test_scroll_marks_say_the_share_that_really_reached_each_line():
    from replayvault.analytics.heatmap import scroll_map
    from replayvault.render.heatmap import scroll_marks

    # two page views on a 2,000 px page, reaching 800 and 1,600 px: 100 % down to 800, 50 % to 1,600.
    # 75 % -> deepest depth with >= 75 %: 800 (100 % reached it); 50 % and 25 % -> 1,600 (50 %), once.
    assert scroll_marks(scroll_map(np.array([800, 1600]), 2000.0)) == [(800, 100), (1600, 50)]
    # one page view that reached the bottom: every line would sit on the bottom edge, none is drawn
    assert scroll_marks(scroll_map(np.array([2000]), 2000.0)) == []
    # four page views at 500, 1000, 1500, 2000 px: 75 % reached 1000, 50 % reached 1500, 25 % the bottom
    assert scroll_marks(scroll_map(np.array([500, 1000, 1500, 2000]), 2000.0)) == [(1000, 75), (1500, 50)]
