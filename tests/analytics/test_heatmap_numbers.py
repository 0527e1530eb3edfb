"""Click density grid and scroll map numbers on small hand-checked inputs."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import replayvault.analytics as analytics
from replayvault.analytics.heatmap import ClickGrid, click_grid, hottest_cell, scroll_map


def test_public_api_matches_all():
    for name in analytics.__all__:
        assert hasattr(analytics, name), name
    exported = {n for n in dir(analytics) if not n.startswith("_") and not inspect.ismodule(getattr(analytics, n))}
    exported -= {"annotations"}
    assert exported == set(analytics.__all__)


def test_binning_without_smoothing():
    x = np.array([0, 7, 8, 15, 16, 39, -1, 40, 5])
    y = np.array([0, 7, 0, 0, 8, 15, 3, 3, 16])
    g = click_grid(x, y, width=40, height=16, cell_px=8, sigma_px=0)
    # cells: (0,0)x2, (1,0)x2, (2,1)x1, (4,1)x1; x=-1, x=40 and y=16 are off the 40x16 page
    expected = np.zeros((2, 5))
    expected[0, 0] = expected[0, 1] = 2
    expected[1, 2] = expected[1, 4] = 1
    assert (g.cols, g.rows, g.clicks, g.outside, g.max) == (5, 2, 6, 3, 2.0)
    assert np.array_equal(g.values, expected / 2)


def test_float_coordinates_floor_into_cells_and_nan_is_outside():
    g = click_grid(np.array([7.9, 8.0, -0.5, np.nan]), np.array([0.0, 0.0, 0.0, 1.0]), 16, 8, cell_px=8, sigma_px=0)
    assert g.values.tolist() == [[1.0, 1.0]] and g.outside == 2


def test_non_power_of_two_cells_match_histogram2d():
    rng = np.random.default_rng(3)
    x, y = rng.integers(-50, 1050, 5000), rng.integers(-50, 650, 5000)
    g = click_grid(x, y, 1000, 600, cell_px=10, sigma_px=0)
    keep = (x < 1000) & (y < 600)  # histogram2d's last bin is closed on the right; ours is not
    ref, _, _ = np.histogram2d(y[keep], x[keep], bins=[np.arange(0, 610, 10), np.arange(0, 1010, 10)])
    assert np.allclose(g.values * g.max, ref)


def test_smoothing_keeps_mass_and_peak():
    g = click_grid(np.array([400] * 3 + [100]), np.array([400] * 3 + [100]), 800, 800, cell_px=8, sigma_px=24)
    hot = hottest_cell(g)
    assert (hot.col, hot.row, hot.x_px, hot.y_px, hot.value) == (50, 50, 404.0, 404.0, 1.0)
    assert g.values.sum() * g.max == pytest.approx(4, rel=1e-3)  # smoothing redistributes, keeps 4 clicks


def test_grid_to_dict_is_json_and_round_trips():
    g = click_grid(np.array([5, 9]), np.array([5, 20]), 32, 24, cell_px=8, sigma_px=8)
    d = json.loads(json.dumps(g.to_dict()))
    assert (d["cell_px"], d["width"], d["height"], d["cols"], d["rows"], d["clicks"]) == (8, 32, 24, 4, 3, 2)
    assert len(d["values"]) == 3 and len(d["values"][0]) == 4 and max(map(max, d["values"])) == 1.0
    back = ClickGrid.from_dict(d)
    assert hottest_cell(back) == hottest_cell(g)


def test_empty_grid():
    g = click_grid(np.array([]), np.array([]), 100, 100)
    assert g.max == 0 and hottest_cell(g) is None and g.clicks == 0


def test_scroll_map_shares():
    # four page views reached 500, 1000, 1000, 2500 px of a 2000 px page (2500 is clamped)
    m = scroll_map(np.array([500, 1000, 1000, 2500]), page_height_px=2000, step_px=100)
    assert m.page_views == 4 and m.depth_px[0] == 0 and m.depth_px[-1] == 2000
    assert m.share_at(0) == 1.0
    assert m.share_at(500) == 1.0 and m.share_at(600) == 0.75
    assert m.share_at(1000) == 0.75 and m.share_at(1100) == 0.25
    assert m.share_at(2000) == 0.25
    assert m.depth_reached_by(0.75) == 1000 and m.depth_reached_by(0.5) == 1000 and m.depth_reached_by(1.0) == 500
    assert ((m.share >= 0) & (m.share <= 1)).all() and np.all(np.diff(m.share) <= 0)
    json.dumps(m.to_dict())


def test_scroll_map_defaults_and_empty():
    m = scroll_map(np.array([300, 900]))
    assert m.page_height_px == 900 and m.share_at(900) == 0.5
    empty = scroll_map(np.array([]), page_height_px=1000)
    assert empty.page_views == 0 and empty.share.max() == 0


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("cell", [8, 10])
def test_every_dtype_gives_the_same_grid(dtype, cell):
    rng = np.random.default_rng(11)
    x, y = rng.integers(-40, 700, 20000), rng.integers(-40, 500, 20000)
    if np.dtype(dtype).kind == "u":
        x, y = np.abs(x), np.abs(y)
    ref = click_grid(x.astype(np.int64), y.astype(np.int64), 640, 480, cell_px=cell, sigma_px=0)
    got = click_grid(x.astype(dtype), y.astype(dtype), 640, 480, cell_px=cell, sigma_px=0)
    assert np.array_equal(got.values, ref.values) and (got.clicks, got.outside) == (ref.clicks, ref.outside)
