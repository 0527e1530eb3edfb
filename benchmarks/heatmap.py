"""Benchmark: click map of 10 million synthetic clicks on one page, on one CPU core.

Measures, best of a few runs each (bincount and aggregation taken in turn), for int32 and float64
coordinates:

* a bare ``numpy.bincount`` over the same clicks' flat cell indices (precomputed: the floor of what
  any aggregation must do),
* aggregation (``click_grid``: cell indices, bounds check, bincount, Gaussian smoothing,
  normalization) and its ratio to the bare bincount (target <= 3x),
* rendering (``render_click_map`` to PNG over a grey canvas) and the whole map, aggregation +
  render (target < 1 s),
* for reference, not part of the whole map: a move map (the same grid with dwell weights) and the
  placement of the clicks on 500 element boxes (``place_clicks``: one dict lookup per click).

The process is pinned to one CPU (``os.sched_setaffinity``) where the OS allows it.

Run: ``.venv/bin/python benchmarks/heatmap.py [--clicks N]``
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.table import Table

from replayvault.analytics.heatmap import Box, click_grid, hottest_cell, move_grid, place_clicks
from replayvault.render.heatmap import render_click_map

WIDTH, HEIGHT, CELL = 1440, 4000, 8
SELECTORS = 500


def synthetic_clicks(n: int, dtype: str, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Clicks around a few buttons (Gaussian blobs) plus 20 % uniform noise, some off the page."""
    rng = np.random.default_rng(seed)
    centres = np.array([[720, 300], [1100, 90], [400, 1800], [720, 3600]], dtype=np.float64)
    weights = np.array([0.5, 0.2, 0.2, 0.1])
    k = int(n * 0.8)
    pick = rng.choice(len(centres), size=k, p=weights)
    blob = centres[pick] + rng.normal(0, 40, size=(k, 2))
    noise = rng.uniform([-20, -20], [WIDTH + 20, HEIGHT + 20], size=(n - k, 2))
    xy = np.concatenate([blob, noise])
    if dtype == "int32":
        xy = np.floor(xy).astype(np.int32)
    return np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])


def best_of(*fns: Callable[[], object], repeat: int = 5) -> list[float]:
    """Fastest of ``repeat`` wall-clock runs (s) of each of ``fns``, run in turn so that both sides of a
    ratio see the same machine load."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return [min(ts) for ts in times]


def measure(n: int, dtype: str) -> dict[str, float | str]:
    """Seconds (and ratios) for one coordinate dtype."""
    x, y = synthetic_clicks(n, dtype)
    cols, rows = -(-WIDTH // CELL), -(-HEIGHT // CELL)
    inside = (x >= 0) & (x < WIDTH) & (y >= 0) & (y < HEIGHT)
    flat = (np.floor_divide(y[inside], CELL) * cols + np.floor_divide(x[inside], CELL)).astype(np.intp)

    t_bincount, t_agg = best_of(lambda: np.bincount(flat, minlength=cols * rows),
                                lambda: click_grid(x, y, WIDTH, HEIGHT, cell_px=CELL), repeat=9)
    grid = click_grid(x, y, WIDTH, HEIGHT, cell_px=CELL)
    (t_render,) = best_of(lambda: render_click_map(grid, None, WIDTH, HEIGHT), repeat=3)
    png = render_click_map(grid, None, WIDTH, HEIGHT)

    dwell = np.random.default_rng(1).uniform(0, 5000, n)
    (t_move,) = best_of(lambda: move_grid(x, y, dwell, WIDTH, HEIGHT, cell_px=CELL), repeat=3)
    rng = np.random.default_rng(2)
    names = np.array([f"body > main > div.card:nth-of-type({i}) > button" for i in range(SELECTORS)], dtype=object)
    boxes = {s: Box(float(i), float(i * 7), 120.0, 40.0) for i, s in enumerate(names)}
    sel, fx, fy = names[rng.integers(0, SELECTORS, n)], rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    (t_place,) = best_of(lambda: place_clicks(sel, fx, fy, x, y, boxes), repeat=2)
    hot = hottest_cell(grid)
    return {
        "bincount": t_bincount, "aggregation": t_agg, "ratio": t_agg / t_bincount, "render": t_render,
        "whole": t_agg + t_render, "move": t_move, "place": t_place, "png_mb": len(png) / 1e6,
        "hot": f"({hot.x_px:.0f}, {hot.y_px:.0f})" if hot else "-",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--clicks", type=int, default=10_000_000)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    results = {dtype: measure(args.clicks, dtype) for dtype in ("int32", "float64")}

    table = Table(title=f"Click map of {args.clicks:,} clicks · page {WIDTH}x{HEIGHT} px · cell {CELL} px · "
                        f"grid {-(-WIDTH // CELL)}x{-(-HEIGHT // CELL)} · one core")
    table.add_column("step")
    for dtype in results:
        table.add_column(dtype, justify="right")
    table.add_column("target", justify="right")
    rows = [("bare np.bincount", "bincount", "{:.3f} s", ""),
            ("aggregation (click_grid)", "aggregation", "{:.3f} s", ""),
            ("aggregation / bincount", "ratio", "{:.2f}x", "<= 3x"),
            ("render PNG", "render", "{:.3f} s", ""),
            ("whole map (aggregation + render)", "whole", "{:.3f} s", "< 1 s"),
            ("PNG size", "png_mb", "{:.2f} MB", ""),
            ("hottest cell (px)", "hot", "{}", ""),
            ("move map aggregation (dwell weights)", "move", "{:.3f} s", "reference"),
            (f"placement on {SELECTORS} element boxes", "place", "{:.3f} s", "reference")]
    for label, key, fmt, target in rows:
        table.add_row(label, *(fmt.format(r[key]) for r in results.values()), target)
    Console().print(table)


if __name__ == "__main__":
    main()
