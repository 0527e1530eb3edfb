"""Benchmark: click map of 10 million synthetic clicks on one page.

Prints the seconds spent aggregating (``click_grid``: cell indices, bounds check, bincount,
Gaussian smoothing, normalization), rendering (``render_click_map`` to PNG over a grey canvas),
and the ratio of aggregation time to a bare ``numpy.bincount`` over the same clicks' flat cell
indices (targets: ratio <= 3, aggregation + render < 1 s).

Run: ``.venv/bin/python benchmarks/heatmap.py [--clicks N] [--dtype int32|float64]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from replayvault.analytics.heatmap import click_grid, hottest_cell
from replayvault.render.heatmap import render_click_map

WIDTH, HEIGHT, CELL = 1440, 4000, 8


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


def best_of(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=10_000_000)
    ap.add_argument("--dtype", choices=("int32", "float64"), default="int32")
    args = ap.parse_args()

    x, y = synthetic_clicks(args.clicks, args.dtype)
    cols, rows = -(-WIDTH // CELL), -(-HEIGHT // CELL)
    inside = (x >= 0) & (x < WIDTH) & (y >= 0) & (y < HEIGHT)
    flat = (np.floor_divide(y[inside], CELL) * cols + np.floor_divide(x[inside], CELL)).astype(np.intp)

    t_bincount = best_of(lambda: np.bincount(flat, minlength=cols * rows))
    t_agg = best_of(lambda: click_grid(x, y, WIDTH, HEIGHT, cell_px=CELL))
    grid = click_grid(x, y, WIDTH, HEIGHT, cell_px=CELL)
    t_render = best_of(lambda: render_click_map(grid, None, WIDTH, HEIGHT), repeat=3)
    png = render_click_map(grid, None, WIDTH, HEIGHT)

    hot = hottest_cell(grid)
    print(f"clicks: {args.clicks:,} ({args.dtype}), page {WIDTH}x{HEIGHT} px, cell {CELL} px, "
          f"grid {cols}x{rows}, sigma {grid.sigma_px:g} px")
    print(f"bare np.bincount:  {t_bincount:.3f} s")
    print(f"aggregation:       {t_agg:.3f} s  (ratio to bincount {t_agg / t_bincount:.2f}x, target <= 3x)")
    print(f"render PNG:        {t_render:.3f} s  ({len(png) / 1e6:.2f} MB)")
    print(f"whole map:         {t_agg + t_render:.3f} s  (target < 1 s)")
    print(f"hottest cell: ({hot.x_px:.0f}, {hot.y_px:.0f}) px" if hot else "no clicks")


if __name__ == "__main__":
    main()
