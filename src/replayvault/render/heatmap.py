"""PNG images of click, move and scroll maps, composited over a page backdrop.

Click and scroll maps take their colours from matplotlib's ``turbo`` colormap (blue = few, dark
red = most); move maps from ``viridis`` (dark violet = brief, yellow = long dwell), so the two
density maps cannot be mistaken for each other. Opacity rises with density so the page stays
readable where nothing happened. Without a backdrop the map is drawn over a neutral light-grey
canvas of the page size. The output image is the page
(``width`` x ``height`` px) below a legend band of :data:`LEGEND_PX` px, so the legend never
covers the page: page pixel (x, y) is image pixel (x, y + LEGEND_PX).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw, ImageFont

from ..analytics.heatmap import ClickGrid, MoveGrid, ScrollMap

__all__ = ["CANVAS_RGB", "COLORMAP", "LEGEND_PX", "MOVE_COLORMAP", "render_click_map", "scroll_marks", "render_move_map",
           "render_scroll_map"]

COLORMAP = "turbo"
MOVE_COLORMAP = "viridis"
#: Background when no backdrop is given: neutral light grey.
CANVAS_RGB = (236, 236, 238)
#: Backdrops are faded this much toward white so the colours stand out (0 = untouched).
BACKDROP_FADE = 0.35
#: Density below MIN_DENSITY (0..1) is not drawn; alpha rises smoothly to MAX_ALPHA at FULL_DENSITY.
MIN_DENSITY = 0.01
FULL_DENSITY = 0.35
MAX_ALPHA = 0.85
#: Parts of the colormap used: the click map keeps the dark-red top for the hottest spots, the
#: scroll map stops at red so large fully-reached areas do not turn muddy.
CLICK_SPAN = (0.08, 1.0)
SCROLL_SPAN = (0.1, 0.9)
#: viridis from violet to yellow (its darkest end would read as a shadow on the page).
MOVE_SPAN = (0.15, 1.0)
#: The fold line (median viewport height) on scroll maps.
_FOLD_RGBA = (255, 255, 255, 255)
SCROLL_ALPHA = 0.42
#: Height of the legend band above the page (px).
LEGEND_PX = 56
_INK = (34, 34, 40, 255)
_CARD = (255, 255, 255, 225)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: bitmap font, fixed size
        return ImageFont.load_default()


def _base(backdrop: Image.Image | None, width: int, height: int) -> Image.Image:
    """RGBA page-size canvas: the backdrop (top-left aligned, faded) or light grey."""
    base = Image.new("RGBA", (width, height), (*CANVAS_RGB, 255))
    if backdrop is not None:
        page = backdrop.convert("RGBA")
        if page.width != width:  # screenshot at another width: scale to the page width
            page = page.resize((width, max(1, round(page.height * width / page.width))), Image.Resampling.BILINEAR)
        page = page.crop((0, 0, width, min(height, page.height)))
        base.paste(Image.blend(page, Image.new("RGBA", page.size, (255, 255, 255, 255)), BACKDROP_FADE), (0, 0))
    return base


def _rgba(values: np.ndarray, alpha: np.ndarray, span: tuple[float, float] = (0.0, 1.0),
          cmap: str = COLORMAP) -> np.ndarray:
    """uint8 RGBA of ``values`` (0..1) through the colormap ``cmap`` restricted to ``span``."""
    lo, hi = span
    rgba = colormaps[cmap](lo + (hi - lo) * np.clip(values, 0.0, 1.0), bytes=True)
    rgba[..., 3] = np.clip(alpha * 255.0, 0, 255).astype(np.uint8)
    return rgba


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def _colorbar(draw: ImageDraw.ImageDraw, img: Image.Image, box: tuple[int, int, int, int],
              span: tuple[float, float], cmap: str = COLORMAP) -> None:
    x0, y0, x1, y1 = box
    ramp = np.linspace(0.0, 1.0, max(2, x1 - x0))[None, :].repeat(y1 - y0, axis=0)
    bar = Image.fromarray(_rgba(ramp, np.ones_like(ramp), span, cmap), "RGBA")
    img.alpha_composite(bar, (x0, y0))
    draw.rectangle(box, outline=_INK, width=1)


def _legend(img: Image.Image, title: str, left: str, right: str, span: tuple[float, float],
            cmap: str = COLORMAP) -> Image.Image:
    """The page image below a white band holding the title (left) and the colour bar (right)."""
    font, small = _font(15), _font(12)
    out = Image.new("RGBA", (img.width, img.height + LEGEND_PX), (255, 255, 255, 255))
    out.alpha_composite(img, (0, LEGEND_PX))
    draw = ImageDraw.Draw(out)
    draw.line((0, LEGEND_PX - 1, img.width, LEGEND_PX - 1), fill=(200, 200, 206, 255), width=1)
    bar_w = max(60, min(300, img.width // 3))
    x0 = max(12, img.width - bar_w - 12)
    while len(title) > 1 and draw.textlength(title, font=font) > x0 - 24:  # keep clear of the colour bar
        title = title[:-2] + "…"
    draw.text((12, 18), title, fill=_INK, font=font)
    _colorbar(draw, out, (x0, 12, img.width - 12, 26), span, cmap)
    draw.text((x0, 32), left, fill=_INK, font=small)
    draw.text((img.width - 12, 32), right, fill=_INK, font=small, anchor="ra")
    return out


def _heat(img: Image.Image, grid: ClickGrid | MoveGrid, span: tuple[float, float], cmap: str) -> None:
    """Composite ``grid`` onto ``img`` in place: cells scaled by ``cell_px`` so grid and page px line up."""
    values = np.asarray(grid.values, dtype=np.float32)
    if grid.max <= 0 or not values.size:
        return
    # smoothstep from MIN_DENSITY to FULL_DENSITY: soft edges, opaque-ish core
    ramp = np.clip((values - MIN_DENSITY) / (FULL_DENSITY - MIN_DENSITY), 0.0, 1.0)
    alpha = MAX_ALPHA * ramp * ramp * (3.0 - 2.0 * ramp)
    heat = Image.fromarray(_rgba(values, alpha, span, cmap), "RGBA").convert("RGBa")  # premultiplied for resizing
    size = (grid.cols * grid.cell_px, grid.rows * grid.cell_px)
    heat = heat.resize(size, Image.Resampling.BILINEAR).convert("RGBA").crop((0, 0, img.width, img.height))
    img.alpha_composite(heat)


def render_click_map(grid: ClickGrid | dict[str, Any], backdrop: Image.Image | None,
                     width: int, height: int, *, label: str = "") -> bytes:
    """PNG (bytes) of a click map over ``backdrop`` (or grey): the ``width`` x ``height`` px page below the legend band.

    ``grid`` is a :class:`~replayvault.analytics.heatmap.ClickGrid` or its ``to_dict()``; its cells
    are scaled by ``cell_px`` so grid and page coordinates line up. ``label`` is added to the title
    (e.g. viewport class and URL).
    """
    if isinstance(grid, dict):
        grid = ClickGrid.from_dict(grid)
    img = _base(backdrop, int(width), int(height))
    _heat(img, grid, CLICK_SPAN, COLORMAP)
    noun = "click" if grid.clicks == 1 else "clicks"
    title = " · ".join(filter(None, [f"Click map · {grid.clicks:,} {noun}", label]))
    return _png(_legend(img, title, "fewer", "more", CLICK_SPAN))


def render_move_map(grid: MoveGrid | dict[str, Any], backdrop: Image.Image | None,
                    width: int, height: int, *, label: str = "") -> bytes:
    """PNG (bytes) of a move map (mouse dwell time per place) over ``backdrop`` (or grey), in the
    ``viridis`` colours, below a legend band ("brief" ... "long dwell", total dwell in the title).

    ``grid`` is a :class:`~replayvault.analytics.heatmap.MoveGrid` or its ``to_dict()``; the
    ``width`` x ``height`` px page is laid out as in :func:`render_click_map`.
    """
    if isinstance(grid, dict):
        grid = MoveGrid.from_dict(grid)
    img = _base(backdrop, int(width), int(height))
    _heat(img, grid, MOVE_SPAN, MOVE_COLORMAP)
    noun = "position" if grid.moves == 1 else "positions"
    title = " · ".join(filter(None, [
        f"Move map · {grid.dwell_ms / 1000:,.1f} s dwell · {grid.moves:,} {noun}", label]))
    return _png(_legend(img, title, "brief", f"long dwell (up to {grid.cap_ms / 1000:g} s each)", MOVE_SPAN,
                        MOVE_COLORMAP))


def render_scroll_map(smap: ScrollMap | dict[str, Any], backdrop: Image.Image | None,
                      width: int, height: int | None = None, *, label: str = "") -> bytes:
    """PNG (bytes) of a scroll map: each band of ``step_px`` coloured by the share of page views
    that reached it (dark red 100 % ... blue 0 %), with lines and labels where 75, 50 and 25 % of
    page views stopped, and a solid line at the fold (median viewport height; the mean is named in
    its label). ``height`` defaults to the scroll map's page height (px).
    """
    if isinstance(smap, dict):
        smap = ScrollMap.from_dict(smap)
    width = int(width)
    height = int(height if height is not None else smap.page_height_px)
    img = _base(backdrop, width, height)
    rows = np.minimum(np.arange(height) // smap.step_px, len(smap.share) - 1)
    share = smap.share[rows] if smap.page_views else np.zeros(height)
    column = _rgba(share[:, None], np.full((height, 1), SCROLL_ALPHA), SCROLL_SPAN)
    img.alpha_composite(Image.fromarray(column, "RGBA").resize((width, height), Image.Resampling.NEAREST))
    if smap.page_views:
        _marks(img, smap)
    if smap.fold_px is not None:
        _fold(img, smap)
    noun = "page view" if smap.page_views == 1 else "page views"
    title = " · ".join(filter(None, [f"Scroll map · {smap.page_views:,} {noun}", label]))
    return _png(_legend(img, title, "0 % reached", "100 %", SCROLL_SPAN))


def scroll_marks(smap: ScrollMap) -> list[tuple[int, int]]:
    """Lines worth drawing on a scroll map: ``[(depth px, share %)]``, shallowest first.

    For each of 75 %, 50 % and 25 %, the deepest depth that at least that share of page views
    reached, labelled with the share that really reached it (with 2 page views the shares are
    100 % and 50 %, never 75 %); a depth already drawn, the top, and the page bottom are skipped.
    """
    out: list[tuple[int, int]] = []
    for pct in (75, 50, 25):
        y = smap.depth_reached_by(pct / 100)
        if not 0 < y < smap.page_height_px or any(y == d for d, _ in out):
            continue
        out.append((y, int(round(smap.share_at(y) * 100))))
    return out


def _marks(img: Image.Image, smap: ScrollMap) -> None:
    """Dashed line and label at each of :func:`scroll_marks`."""
    draw = ImageDraw.Draw(img)
    font = _font(14)
    for y, pct in scroll_marks(smap):
        if y >= img.height:
            continue
        for x in range(0, img.width, 16):
            draw.line((x, y, min(x + 9, img.width), y), fill=_INK, width=2)
        label = f"{pct} % of page views reached this line"
        box = draw.textbbox((14, y - 26), label, font=font)
        draw.rounded_rectangle((box[0] - 6, box[1] - 4, box[2] + 6, box[3] + 4), radius=5, fill=_CARD)
        draw.text((14, y - 26), label, fill=_INK, font=font)


def _fold(img: Image.Image, smap: ScrollMap) -> None:
    """Solid line at the fold (median viewport height), labelled at the right with the average fold."""
    y = int(smap.fold_px or 0)
    if not 0 < y < img.height:
        return
    draw = ImageDraw.Draw(img)
    draw.line((0, y, img.width, y), fill=_INK, width=3)
    draw.line((0, y - 2, img.width, y - 2), fill=_FOLD_RGBA, width=1)
    avg = f" · average {smap.average_fold_px:,.0f} px" if smap.average_fold_px is not None else ""
    label = f"fold · median viewport {smap.fold_px:,} px{avg}"
    font = _font(14)
    x = img.width - 14
    box = draw.textbbox((x, y + 8), label, font=font, anchor="ra")
    draw.rounded_rectangle((box[0] - 6, box[1] - 4, box[2] + 6, box[3] + 4), radius=5, fill=_CARD)
    draw.text((x, y + 8), label, fill=_INK, font=font, anchor="ra")
