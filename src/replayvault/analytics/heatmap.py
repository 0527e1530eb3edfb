"""Click, move and scroll maps as numbers (rendering lives in :mod:`replayvault.render.heatmap`).

Click map: page coordinates (px) are binned into square cells of ``cell_px`` (default 8 px),
smoothed with a Gaussian of standard deviation ``sigma_px`` (default 24 px, i.e. 3 cells), and
normalized so the hottest cell is 1.0. Clicks outside the grid (``cols * cell_px`` by
``rows * cell_px``, the page size rounded up to whole cells) are dropped and counted. Everything is
vectorized: in cache-sized chunks, a few in-place ufunc passes compute flat cell indices for one
``np.bincount``; then one ``scipy.ndimage.gaussian_filter`` over the grid.

Click placement (:func:`place_clicks`): a click with a known offset inside its target
(``frac_x``/``frac_y``, fractions of the box) whose target selector is found in the reference
snapshot is drawn at the same fraction of that element's box there ("anchored"), so clicks from
1280 and 2560 px wide windows on a centred layout land on the same button. Others fall back to
their own content coordinates (see :func:`fallback_xy`) and are counted.

Move map: the same grid, each coarse mouse position weighted by its dwell time (:func:`dwell_ms`:
time until the next position of the same page view, or the page view's end, capped at
:data:`DWELL_CAP_MS`), so the map shows where the pointer rested, not where it passed quickly.

Scroll map: for each depth ``d = 0, step, 2*step, ...`` up to the page height, the share (0..1)
of page views whose max depth (scroll y + viewport height, px) is ``>= d``; depths are clamped to
the page, and a depth within :data:`BOTTOM_TOLERANCE_PX` of the bottom counts as the bottom. The
fold is where the first screen ends: the median viewport height (and its mean, the average fold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter

from .facts import BOTTOM_TOLERANCE_PX

__all__ = ["Box", "ClickGrid", "DWELL_CAP_MS", "HotCell", "MoveGrid", "ScrollMap", "click_grid", "depths_on_page",
           "dwell_ms", "fallback_xy", "hottest_cell", "move_grid", "place_clicks", "scroll_map"]

DEFAULT_CELL_PX = 8
DEFAULT_SIGMA_PX = 24.0
DEFAULT_SCROLL_STEP_PX = 10
#: Most dwell time (ms) one mouse position earns: a pointer left still while the visitor reads or
#: is away would otherwise outweigh every movement on the page. 5 s is about one short paragraph.
DWELL_CAP_MS = 5_000


class _Cells:
    """Grid shape of a ``values`` array of rows x cols cells of ``cell_px`` px (a page of ``width`` x ``height`` px)."""

    cell_px: int
    sigma_px: float
    width: int
    height: int
    values: np.ndarray
    max: float

    def _cells_dict(self, decimals: int) -> dict[str, Any]:
        """The grid part of ``to_dict``: ``{cell_px, sigma_px, width, height, cols, rows, values, max}``."""
        return {"cell_px": self.cell_px, "sigma_px": self.sigma_px, "width": self.width, "height": self.height,
                "cols": self.cols, "rows": self.rows,
                "values": np.round(self.values.astype(np.float64), decimals).tolist(), "max": float(self.max)}

    @property
    def cols(self) -> int:
        """Number of grid columns (cells across the page width)."""
        return int(self.values.shape[1])

    @property
    def rows(self) -> int:
        """Number of grid rows (cells down the page height)."""
        return int(self.values.shape[0])


@dataclass(frozen=True)
class ClickGrid(_Cells):
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


    def to_dict(self, decimals: int = 4) -> dict[str, Any]:
        """JSON-able: ``{cell_px, sigma_px, width, height, cols, rows, values (rows x cols lists), max, clicks, outside}``."""
        return {**self._cells_dict(decimals), "clicks": self.clicks, "outside": self.outside}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClickGrid:
        """Inverse of :meth:`to_dict`."""
        return cls(int(d["cell_px"]), float(d["sigma_px"]), int(d["width"]), int(d["height"]),
                   np.asarray(d["values"], dtype=np.float32), float(d["max"]), int(d["clicks"]), int(d["outside"]))


@dataclass(frozen=True)
class MoveGrid(_Cells):
    """Smoothed, normalized mouse dwell density over a page of ``width`` x ``height`` px.

    Same cells as :class:`ClickGrid`. Each position counts with its dwell time (ms, capped at
    ``cap_ms``); ``max`` is the smoothed dwell of the hottest cell in ms per cell before
    normalization, ``dwell_ms`` the total dwell inside the page, ``moves`` the positions inside,
    ``outside`` those dropped.
    """

    cell_px: int
    sigma_px: float
    width: int
    height: int
    values: np.ndarray
    max: float
    moves: int
    outside: int
    dwell_ms: float
    cap_ms: float


    def to_dict(self, decimals: int = 4) -> dict[str, Any]:
        """JSON-able: ``{cell_px, sigma_px, width, height, cols, rows, values, max, moves, outside, dwell_ms,
        cap_ms}``."""
        return {**self._cells_dict(decimals), "moves": self.moves, "outside": self.outside,
                "dwell_ms": float(self.dwell_ms), "cap_ms": float(self.cap_ms)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MoveGrid:
        """Inverse of :meth:`to_dict`."""
        return cls(int(d["cell_px"]), float(d["sigma_px"]), int(d["width"]), int(d["height"]),
                   np.asarray(d["values"], dtype=np.float32), float(d["max"]), int(d["moves"]), int(d["outside"]),
                   float(d["dwell_ms"]), float(d["cap_ms"]))


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


def _count(x: np.ndarray, y: np.ndarray, cell_px: int, cols: int, rows: int,
           weights: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Clicks (or summed ``weights``) per cell as a ``rows x cols`` array, and the number of points outside it.

    Each axis is clamped with one ``np.minimum`` on the unsigned cell index, which sends points
    beyond either edge into one extra column/row that is dropped at the end. Indices are int32
    (half the memory traffic) unless the input is 64-bit integers or the grid is huge. Without
    weights the counts are int64; with weights float64.
    """
    stride, size = cols + 1, (cols + 1) * (rows + 1)
    small = size < 2**31 and (x.dtype.kind == "f" or x.dtype.itemsize <= 4) and (y.dtype.kind == "f" or y.dtype.itemsize <= 4)
    index = np.int32 if small else np.intp
    counts = np.zeros(size, dtype=np.int64 if weights is None else np.float64)
    outside = 0
    for start in range(0, x.size, _CHUNK):
        cx = _cells(x[start:start + _CHUNK], cell_px, index)
        np.minimum(cx, cols, out=cx)
        flat = _cells(y[start:start + _CHUNK], cell_px, index)
        np.minimum(flat, rows, out=flat)
        if weights is not None:
            outside += int(np.count_nonzero((cx == cols) | (flat == rows)))
        flat *= stride
        flat += cx
        w = None if weights is None else weights[start:start + _CHUNK]
        counts += np.bincount(flat.view(index), weights=w, minlength=size)
    grid = counts.reshape(rows + 1, stride)[:rows, :cols]
    return grid, (int(x.size - grid.sum()) if weights is None else outside)


def _density(page_x: np.ndarray, page_y: np.ndarray, weights: np.ndarray | None, width: int | None,
             height: int | None, cell_px: int, sigma_px: float) -> tuple[np.ndarray, float, int, int, float, int, int]:
    """Shared core of the click and move grids.

    Returns ``(values 0..1, peak, points inside, points outside, weight inside, width, height)``.
    """
    x, y = np.asarray(page_x), np.asarray(page_y)
    if x.shape != y.shape or (weights is not None and np.shape(weights) != x.shape):
        raise ValueError(f"page_x has {x.size} values, page_y {y.size}" +
                         ("" if weights is None else f", weights {np.size(weights)}"))
    if cell_px < 1:
        raise ValueError("cell_px must be >= 1")
    if width is None:
        width = int(np.nanmax(x)) + 1 if x.size else cell_px
    if height is None:
        height = int(np.nanmax(y)) + 1 if y.size else cell_px
    cols, rows = max(1, -(-int(width) // cell_px)), max(1, -(-int(height) // cell_px))
    w = None if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    counts, outside = _count(x.ravel(), y.ravel(), cell_px, cols, rows, w)
    total = float(counts.sum())
    grid = counts.astype(np.float32)
    if sigma_px > 0:
        grid = gaussian_filter(grid, sigma=sigma_px / cell_px, mode="constant", truncate=3.0)
    peak = float(grid.max()) if grid.size else 0.0
    values = grid / peak if peak > 0 else grid
    return values, peak, int(x.size) - outside, outside, total, int(width), int(height)


def click_grid(
    page_x: np.ndarray,
    page_y: np.ndarray,
    width: int | None = None,
    height: int | None = None,
    cell_px: int = DEFAULT_CELL_PX,
    sigma_px: float = DEFAULT_SIGMA_PX,
) -> ClickGrid:
    """Click density grid of clicks at page coordinates ``page_x``/``page_y`` (px, same shape).

    ``width``/``height`` default to the smallest page that holds every click. ``sigma_px`` is the
    Gaussian's standard deviation in px (0 disables smoothing).
    """
    values, peak, inside, outside, _, width, height = _density(page_x, page_y, None, width, height, cell_px, sigma_px)
    return ClickGrid(cell_px, float(sigma_px), width, height, values, peak, inside, outside)


def move_grid(
    page_x: np.ndarray,
    page_y: np.ndarray,
    dwell: np.ndarray,
    width: int | None = None,
    height: int | None = None,
    cell_px: int = DEFAULT_CELL_PX,
    sigma_px: float = DEFAULT_SIGMA_PX,
    cap_ms: float = DWELL_CAP_MS,
) -> MoveGrid:
    """Dwell-weighted density of mouse positions at ``page_x``/``page_y`` (px); ``dwell`` is ms per position.

    Use :func:`dwell_ms` for the weights (``cap_ms`` is only recorded in the result).
    """
    values, peak, inside, outside, total, width, height = _density(page_x, page_y, dwell, width, height,
                                                                   cell_px, sigma_px)
    return MoveGrid(cell_px, float(sigma_px), width, height, values, peak, inside, outside, total, float(cap_ms))


def dwell_ms(ts_ms: np.ndarray, next_ms: np.ndarray, cap_ms: float = DWELL_CAP_MS) -> np.ndarray:
    """Dwell time (ms, float64) of each mouse position: ``next_ms - ts_ms`` clipped to ``0..cap_ms``.

    ``next_ms`` is the next position of the same page view, or the page view's end for its last
    one (:meth:`~replayvault.analytics.store.AnalyticsStore.moves`); NaN (unknown end) gives 0.
    """
    gap = np.asarray(next_ms, dtype=np.float64) - np.asarray(ts_ms, dtype=np.float64)
    return np.nan_to_num(np.clip(gap, 0.0, float(cap_ms)), nan=0.0)


def hottest_cell(grid: ClickGrid | MoveGrid) -> HotCell | None:
    """The cell with the highest density (first in row-major order on ties); None when the grid is empty."""
    if grid.max <= 0:
        return None
    row, col = np.unravel_index(int(np.argmax(grid.values)), grid.values.shape)
    c = grid.cell_px
    return HotCell(int(col), int(row), (col + 0.5) * c, (row + 0.5) * c, float(grid.values[row, col]))


# -- click placement ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Box:
    """An element's border box in the reference page: left ``x``, top ``y``, width ``w``, height ``h`` (px)."""

    x: float
    y: float
    w: float
    h: float


def fallback_xy(x: np.ndarray, y: np.ndarray, page_x: np.ndarray, page_y: np.ndarray, content_x: np.ndarray,
                content_y: np.ndarray, fixed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where to draw clicks that cannot be anchored (px): their content coordinates.

    ``content_x - page_x`` is the scroll of the target's scrolled ancestor elements; it is added to
    the viewport x/y for clicks in fixed/sticky elements (``fixed``; they do not move with the
    document) and to page x/y otherwise (that is ``content_x`` itself). All arrays have one shape.
    """
    fixed = np.asarray(fixed, dtype=bool)
    fx = np.where(fixed, np.asarray(x, dtype=np.float64) + (content_x - page_x), content_x)
    fy = np.where(fixed, np.asarray(y, dtype=np.float64) + (content_y - page_y), content_y)
    return fx.astype(np.float64), fy.astype(np.float64)


def place_clicks(selector: Sequence[Any] | np.ndarray, frac_x: np.ndarray, frac_y: np.ndarray,
                 fallback_x: np.ndarray, fallback_y: np.ndarray,
                 boxes: Mapping[str, Box | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clicks placed on the reference page: ``(x px, y px, anchored bool)``, one entry per click.

    A click is anchored when its ``selector`` has a non-empty box in ``boxes`` and its ``frac_x``
    and ``frac_y`` (0..1, NaN when unknown) are known: it goes to ``box.x + frac_x * box.w``,
    ``box.y + frac_y * box.h``. Any other click keeps ``fallback_x``/``fallback_y``. Selectors are
    mapped to box numbers with one dict lookup per click (``np.unique`` over strings is ~50x slower);
    the rest is vectorized.
    """
    usable = {s: b for s, b in boxes.items() if b is not None and b.w > 0 and b.h > 0}
    table = np.array([[b.x, b.y, b.w, b.h] for b in usable.values()] + [[np.nan] * 4])
    code = {s: i for i, s in enumerate(usable)}
    sel = np.asarray(selector, dtype=object)
    rows = np.fromiter((code.get(s, -1) for s in sel), dtype=np.intp, count=sel.size)  # -1: the NaN row
    box = table[rows]
    ax = box[:, 0] + np.asarray(frac_x, dtype=np.float64) * box[:, 2]
    ay = box[:, 1] + np.asarray(frac_y, dtype=np.float64) * box[:, 3]
    anchored = np.isfinite(ax) & np.isfinite(ay)
    return (np.where(anchored, ax, np.asarray(fallback_x, dtype=np.float64)),
            np.where(anchored, ay, np.asarray(fallback_y, dtype=np.float64)), anchored)


# -- scroll maps -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScrollMap:
    """Share of page views (0..1) that reached each depth ``depth_px[i]`` (px from the page top).

    ``fold_px`` is the median viewport height (px) of the page views, ``average_fold_px`` the mean:
    where the first screen ends (None without viewport heights).
    """

    step_px: int
    page_height_px: int
    depth_px: np.ndarray
    share: np.ndarray
    page_views: int
    fold_px: int | None = None
    average_fold_px: float | None = None

    def share_at(self, depth_px: float) -> float:
        """Share of page views that reached ``depth_px`` (0..1)."""
        i = int(np.clip(depth_px // self.step_px, 0, len(self.share) - 1))
        return float(self.share[i]) if self.page_views else 0.0

    def depth_reached_by(self, share: float) -> int:
        """Deepest depth (px) still reached by at least ``share`` of page views (0 if none)."""
        ok = np.nonzero(self.share >= share)[0]
        return int(self.depth_px[ok[-1]]) if ok.size and self.page_views else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``{step_px, page_height_px, page_views, fold_px, average_fold_px, depth_px, share}``
        (px; share 0..1, 4 decimals)."""
        return {
            "step_px": self.step_px,
            "page_height_px": self.page_height_px,
            "page_views": self.page_views,
            "fold_px": self.fold_px,
            "average_fold_px": None if self.average_fold_px is None else round(self.average_fold_px, 1),
            "depth_px": self.depth_px.tolist(),
            "share": np.round(self.share, 4).tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScrollMap:
        """Inverse of :meth:`to_dict` (shares as rounded there)."""
        fold, avg = d.get("fold_px"), d.get("average_fold_px")
        return cls(int(d["step_px"]), int(d["page_height_px"]), np.asarray(d["depth_px"], dtype=np.int64),
                   np.asarray(d["share"], dtype=np.float64), int(d["page_views"]),
                   None if fold is None else int(fold), None if avg is None else float(avg))


def depths_on_page(max_depth_px: np.ndarray, max_depth_share: np.ndarray, page_height_px: float) -> np.ndarray:
    """Each page view's depth (px) on a reference page ``page_height_px`` tall.

    Where the share of the page reached (0..1) is known, ``share * page_height_px``: this carries
    page views at other widths, zoom levels or page heights over to the reference page. Otherwise
    the depth in px as recorded.
    """
    share = np.asarray(max_depth_share, dtype=np.float64)
    depth = np.asarray(max_depth_px, dtype=np.float64)
    return np.where(np.isfinite(share), np.clip(share, 0.0, 1.0) * float(page_height_px), depth)


def scroll_map(max_depth_px: np.ndarray, page_height_px: float | None = None,
               step_px: int = DEFAULT_SCROLL_STEP_PX, viewport_h_px: np.ndarray | None = None) -> ScrollMap:
    """Scroll map from each page view's max depth (px; one entry per page view, so each counts once).

    ``page_height_px`` defaults to the deepest depth seen. Depths are clamped to ``0..height``; a
    depth within :data:`BOTTOM_TOLERANCE_PX` of the bottom (fractional heights and scroll offsets)
    or beyond it (a page shorter than the viewport) counts as the bottom, i.e. reached every depth.
    ``viewport_h_px`` (px per page view, NaN unknown) gives the fold: median and mean.
    """
    depths = np.asarray(max_depth_px, dtype=np.float64)
    depths = depths[np.isfinite(depths)]
    if page_height_px is None or not np.isfinite(page_height_px):
        page_height_px = float(depths.max()) if depths.size else 0.0
    height = max(int(np.ceil(page_height_px)), 1)
    grid = np.arange(0, height + 1, step_px, dtype=np.int64)
    vh = np.asarray(viewport_h_px if viewport_h_px is not None else [], dtype=np.float64)
    vh = vh[np.isfinite(vh)]
    fold = int(round(float(np.median(vh)))) if vh.size else None
    average = float(vh.mean()) if vh.size else None
    if depths.size == 0:
        return ScrollMap(step_px, height, grid, np.zeros(grid.size), 0, fold, average)
    clamped = np.clip(depths, 0.0, float(height))
    clamped[clamped >= height - BOTTOM_TOLERANCE_PX] = height
    # share(d) = #(depth >= d) / n, with sorted depths and one searchsorted.
    ordered = np.sort(clamped)
    reached = ordered.size - np.searchsorted(ordered, grid, side="left")
    share = np.clip(reached / ordered.size, 0.0, 1.0)
    return ScrollMap(step_px, height, grid, share, int(ordered.size), fold, average)
