"""Click maps and scroll maps as numbers (rendering lives in :mod:`replayvault.render.heatmap`).

Click map: page coordinates (px) are binned into square cells of ``cell_px`` (default 8 px),
smoothed with a Gaussian of standard deviation ``sigma_px`` (default 24 px, i.e. 3 cells), and
normalized so the hottest cell is 1.0. Clicks outside the grid (``cols * cell_px`` by
``rows * cell_px``, the page size rounded up to whole cells) are dropped and counted. Everything is
vectorized: in cache-sized chunks, a few in-place ufunc passes compute flat cell indices for one
``np.bincount``; then one ``scipy.ndimage.gaussian_filter`` over the grid.

Scroll map: for each depth ``d = 0, step, 2*step, ...`` up to the page height, the share (0..1)
of page views whose max depth (scroll y + viewport height, px) is ``>= d``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter

__all__ = ["ClickGrid", "HotCell", "ScrollMap", "click_grid", "hottest_cell", "scroll_map"]

DEFAULT_CELL_PX = 8
DEFAULT_SIGMA_PX = 24.0
DEFAULT_SCROLL_STEP_PX = 10


@dataclass(frozen=True)
class ClickGrid:
    """Smoothed, normalized click density over a page of ``width`` x ``height`` px.

    ``values[row, col]`` covers page x in ``[col*cell_px, (col+1)*cell_px)`` and y likewise;
    values are 0..1 (1 = hottest cell). ``max`` is the smoothed density of the hottest cell in
    clicks per cell before normalization; ``clicks`` counts the clicks inside the page,
    ``outside`` those dropped.
    """

    cell_px: int
    sigma_px: float
    width: int
    height: int
    values: np.ndarray
    max: float
    clicks: int
    outside: int

    @property
    def cols(self) -> int:
        """Number of grid columns (cells across the page width)."""
        return int(self.values.shape[1])

    @property
    def rows(self) -> int:
        """Number of grid rows (cells down the page height)."""
        return int(self.values.shape[0])

    def to_dict(self, decimals: int = 4) -> dict[str, Any]:
        """JSON-able: ``{cell_px, sigma_px, width, height, cols, rows, values (rows x cols lists), max, clicks, outside}``."""
        return {
            "cell_px": self.cell_px,
            "sigma_px": self.sigma_px,
            "width": self.width,
            "height": self.height,
            "cols": self.cols,
            "rows": self.rows,
            "values": np.round(self.values.astype(np.float64), decimals).tolist(),
            "max": float(self.max),
            "clicks": self.clicks,
            "outside": self.outside,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClickGrid:
        """Inverse of :meth:`to_dict`."""
        return cls(int(d["cell_px"]), float(d["sigma_px"]), int(d["width"]), int(d["height"]),
                   np.asarray(d["values"], dtype=np.float32), float(d["max"]), int(d["clicks"]), int(d["outside"]))


@dataclass(frozen=True)
class HotCell:
    """The hottest grid cell: column/row, its centre in page px, its normalized value."""

    col: int
    row: int
    x_px: float
    y_px: float
    value: float


#: Clicks are counted in chunks of this many so the temporaries stay in the CPU cache.
_CHUNK = 1 << 18


def _cells(coord: np.ndarray, cell_px: int, index: type) -> np.ndarray:
    """Cell index (floor) of each coordinate, viewed unsigned: negative cells and NaN become huge."""
    if coord.dtype.kind in "iu":
        if cell_px & (cell_px - 1) == 0:
            cells = np.right_shift(coord, cell_px.bit_length() - 1, dtype=index)
        else:
            cells = np.floor_divide(coord, cell_px, dtype=index)
    else:
        scaled = np.multiply(coord, 1.0 / cell_px, dtype=np.float64)
        np.floor(scaled, out=scaled)
        with np.errstate(invalid="ignore"):  # NaN and out-of-range floats convert to INT_MIN: outside
            cells = scaled.astype(index)
    return cells.view(np.dtype(index).str.replace("i", "u"))


def _count(x: np.ndarray, y: np.ndarray, cell_px: int, cols: int, rows: int) -> tuple[np.ndarray, int]:
    """Clicks per cell as a ``rows x cols`` int64 array, and the number of clicks outside it.

    Each axis is clamped with one ``np.minimum`` on the unsigned cell index, which sends clicks
    beyond either edge into one extra column/row that is dropped at the end. Indices are int32
    (half the memory traffic) unless the input is 64-bit integers or the grid is huge.
    """
    stride, size = cols + 1, (cols + 1) * (rows + 1)
    small = size < 2**31 and (x.dtype.kind == "f" or x.dtype.itemsize <= 4) and (y.dtype.kind == "f" or y.dtype.itemsize <= 4)
    index = np.int32 if small else np.intp
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, x.size, _CHUNK):
        cx = _cells(x[start:start + _CHUNK], cell_px, index)
        np.minimum(cx, cols, out=cx)
        flat = _cells(y[start:start + _CHUNK], cell_px, index)
        np.minimum(flat, rows, out=flat)
        flat *= stride
        flat += cx
        counts += np.bincount(flat.view(index), minlength=size)
    grid = counts.reshape(rows + 1, stride)[:rows, :cols]
    return grid, int(x.size - grid.sum())


def click_grid(
    page_x: np.ndarray,
    page_y: np.ndarray,
    width: int | None = None,
    height: int | None = None,
    cell_px: int = DEFAULT_CELL_PX,
    sigma_px: float = DEFAULT_SIGMA_PX,
) -> ClickGrid:
    """Click density grid of clicks at page coordinates ``page_x``/``page_y`` (px).

    ``width``/``height`` default to the smallest page that holds every click. ``sigma_px`` is the
    Gaussian's standard deviation in px (0 disables smoothing).
    """
    x, y = np.asarray(page_x), np.asarray(page_y)
    if x.shape != y.shape:
        raise ValueError(f"page_x has {x.size} values, page_y {y.size}")
    if cell_px < 1:
        raise ValueError("cell_px must be >= 1")
    if width is None:
        width = int(x.max()) + 1 if x.size else cell_px
    if height is None:
        height = int(y.max()) + 1 if y.size else cell_px
    cols, rows = max(1, -(-int(width) // cell_px)), max(1, -(-int(height) // cell_px))
    x, y = x.ravel(), y.ravel()
    counts, outside = _count(x, y, cell_px, cols, rows)
    grid = counts.astype(np.float32)
    if sigma_px > 0:
        grid = gaussian_filter(grid, sigma=sigma_px / cell_px, mode="constant", truncate=3.0)
    peak = float(grid.max()) if grid.size else 0.0
    values = grid / peak if peak > 0 else grid
    return ClickGrid(cell_px, float(sigma_px), int(width), int(height), values, peak, int(x.size) - outside, outside)


def hottest_cell(grid: ClickGrid) -> HotCell | None:
    """The cell with the highest density (first in row-major order on ties); None without clicks."""
    if grid.max <= 0:
        return None
    row, col = np.unravel_index(int(np.argmax(grid.values)), grid.values.shape)
    c = grid.cell_px
    return HotCell(int(col), int(row), (col + 0.5) * c, (row + 0.5) * c, float(grid.values[row, col]))


@dataclass(frozen=True)
class ScrollMap:
    """Share of page views (0..1) that reached each depth ``depth_px[i]`` (px from the page top)."""

    step_px: int
    page_height_px: int
    depth_px: np.ndarray
    share: np.ndarray
    page_views: int

    def share_at(self, depth_px: float) -> float:
        """Share of page views that reached ``depth_px`` (0..1)."""
        i = int(np.clip(depth_px // self.step_px, 0, len(self.share) - 1))
        return float(self.share[i]) if self.page_views else 0.0

    def depth_reached_by(self, share: float) -> int:
        """Deepest depth (px) still reached by at least ``share`` of page views (0 if none)."""
        ok = np.nonzero(self.share >= share)[0]
        return int(self.depth_px[ok[-1]]) if ok.size and self.page_views else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``{step_px, page_height_px, page_views, depth_px, share}`` (share 0..1, 4 decimals)."""
        return {
            "step_px": self.step_px,
            "page_height_px": self.page_height_px,
            "page_views": self.page_views,
            "depth_px": self.depth_px.tolist(),
            "share": np.round(self.share, 4).tolist(),
        }


def scroll_map(max_depth_px: np.ndarray, page_height_px: float | None = None,
               step_px: int = DEFAULT_SCROLL_STEP_PX) -> ScrollMap:
    """Scroll map from each page view's max depth (px).

    ``page_height_px`` defaults to the deepest depth seen. Depths beyond the page height are
    clamped to it (a page view that saw the bottom reached every depth).
    """
    depths = np.asarray(max_depth_px, dtype=np.float64)
    depths = depths[np.isfinite(depths)]
    if page_height_px is None or not np.isfinite(page_height_px):
        page_height_px = float(depths.max()) if depths.size else 0.0
    height = max(int(np.ceil(page_height_px)), 1)
    grid = np.arange(0, height + 1, step_px, dtype=np.int64)
    if depths.size == 0:
        return ScrollMap(step_px, height, grid, np.zeros(grid.size), 0)
    # share(d) = #(depth >= d) / n, with sorted depths and one searchsorted.
    ordered = np.sort(np.minimum(depths, height))
    reached = ordered.size - np.searchsorted(ordered, grid, side="left")
    share = np.clip(reached / ordered.size, 0.0, 1.0)
    return ScrollMap(step_px, height, grid, share, int(ordered.size))
